"""The service layer: fetch, check, recompute, patch."""

"""HTTP layer: typed request and response models, routes without business logic."""

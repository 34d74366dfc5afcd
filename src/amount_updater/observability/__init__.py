"""Metrics, request context and structured logs."""

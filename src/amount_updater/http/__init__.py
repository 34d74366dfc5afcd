"""Pure-ASGI middleware."""

"""Stripe-style random identifiers (``cs_test_…``, ``li_…``, ``pi_…``, client secrets)."""

from __future__ import annotations

import secrets
import string

_ALPHANUMERIC = string.ascii_letters + string.digits


def random_token(length: int) -> str:
    # One urandom call per id; the slight modulo bias is irrelevant for identifiers.
    return "".join(_ALPHANUMERIC[byte % 62] for byte in secrets.token_bytes(length))


def new_id(prefix: str, length: int = 24) -> str:
    return f"{prefix}_{random_token(length)}"


def new_client_secret(object_id: str) -> str:
    return f"{object_id}_secret_{random_token(25)}"


def new_request_id() -> str:
    return new_id("req", 14)

"""Stripe metadata: limits and the merge/unset rules shared by every object.

Limits from docs.stripe.com/api/metadata: at most 50 keys, keys up to 40
characters without square brackets, values up to 500 characters, all strings. On update a
``metadata[k]=""`` unsets one key and ``metadata=""`` unsets them all.
"""

from __future__ import annotations

from typing import Any

from .errors import invalid_param
from .params import child

MAX_KEYS = 50
MAX_KEY_LENGTH = 40
MAX_VALUE_LENGTH = 500


def merge_metadata(current: dict[str, str], update: Any, param: str) -> dict[str, str]:
    """Return ``current`` with ``update`` applied; ``update`` is the raw decoded parameter."""
    if update == "":
        return {}
    if not isinstance(update, dict):
        raise invalid_param(f"Invalid hash: {param} must be a hash", param)
    merged = dict(current)
    for key, value in update.items():
        key_param = child(param, key)
        _check_key(key, key_param)
        if not isinstance(value, str):
            raise invalid_param(
                f"Invalid value for {key_param}: metadata values must be strings.", key_param
            )
        if value == "":
            merged.pop(key, None)
            continue
        if len(value) > MAX_VALUE_LENGTH:
            raise invalid_param(
                f"Metadata values can have up to {MAX_VALUE_LENGTH} characters, but you passed "
                f"in a value that is {len(value)} characters. Invalid value: {value[:40]}...",
                key_param,
            )
        merged[key] = value
    if len(merged) > MAX_KEYS:
        raise invalid_param(
            f"Invalid {param}: metadata can have up to {MAX_KEYS} keys, but this request would "
            f"leave {len(merged)} keys.",
            param,
        )
    return merged


def _check_key(key: str, key_param: str) -> None:
    if key == "":
        raise invalid_param("Metadata keys cannot be empty.", key_param)
    if len(key) > MAX_KEY_LENGTH:
        raise invalid_param(
            f"Metadata keys can have up to {MAX_KEY_LENGTH} characters, but you passed in a key "
            f"that is {len(key)} characters. Invalid key: {key}",
            key_param,
        )
    if "[" in key or "]" in key:
        raise invalid_param("Metadata keys cannot contain square brackets ([ and ]).", key_param)

"""Stripe's form encoding: nested dicts and lists as bracket keys.

The same rules as stripe-python's encoder (a test compares the two): `{"a": {"b": 1}}` is
`a[b]=1`, `{"a": [x, y]}` is `a[0]=x&a[1]=y`, booleans are `true`/`false`, None is left out, and
so are empty lists and dicts; `""` is sent, which is how Stripe unsets a field.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote


def encode_form(params: Mapping[str, Any]) -> str:
    return "&".join(
        f"{quote(key, safe='[]')}={quote(value, safe='')}" for key, value in _pairs(params, "")
    )


def _pairs(value: Any, prefix: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _pairs(item, f"{prefix}[{key}]" if prefix else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _pairs(item, f"{prefix}[{index}]")
    elif value is None:
        return
    elif isinstance(value, bool):
        yield prefix, "true" if value else "false"
    else:
        yield prefix, str(value)

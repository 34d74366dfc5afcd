"""Stripe's form encoding: nested dicts and lists as bracket keys.

The same rules as stripe-python's encoder (a test compares the two): `{"a": {"b": 1}}` is
`a[b]=1`, `{"a": [x, y]}` is `a[0]=x&a[1]=y`, booleans are `true`/`false`, None is left out, and
so are empty lists and dicts; `""` is sent, which is how Stripe unsets a field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

# Most keys and values need no escaping: a match skips `quote`, which dominated this function.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.~\[\]-]*").fullmatch
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch


def encode_form(params: Mapping[str, Any]) -> str:
    parts: list[str] = []
    _collect(params, "", parts)
    return "&".join(parts)


def _collect(value: Any, prefix: str, parts: list[str]) -> None:
    # Exact type checks first: this runs for every field of every write.
    kind = type(value)
    if kind is dict or (kind is not str and isinstance(value, Mapping)):
        for key, item in value.items():
            _collect(item, f"{prefix}[{key}]" if prefix else str(key), parts)
    elif kind is list or kind is tuple or isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _collect(item, f"{prefix}[{index}]", parts)
    elif value is None:
        return
    elif kind is bool:
        parts.append(_pair(prefix, "true" if value else "false"))
    else:
        parts.append(_pair(prefix, value if kind is str else str(value)))


def _pair(key: str, value: str) -> str:
    return (
        f"{key if _PLAIN_KEY(key) else quote(key, safe='[]')}="
        f"{value if _PLAIN_VALUE(value) else quote(value, safe='')}"
    )

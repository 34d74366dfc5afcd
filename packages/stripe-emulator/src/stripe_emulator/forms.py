"""Decode Stripe's bracket-key form encoding into nested dicts.

stripe-python sends ``line_items[0][price_data][currency]=usd``, ``metadata[k]=v`` and
``expand[0]=line_items``; curl users often write ``expand[]=line_items``. Decoding is
schema-free, so array indexes stay dict keys (``{"0": {...}}``): only the route knows whether
``metadata[0]`` is a hash key or ``line_items[0]`` an array slot, and it converts with
:func:`stripe_emulator.params.read_list`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from .errors import invalid_param

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")

# Far above anything stripe-python sends for 100 line items; stops pathological bodies early.
MAX_FIELDS = 20_000


def decode_form(raw: str) -> dict[str, Any]:
    """Decode an ``application/x-www-form-urlencoded`` string into nested dicts of strings."""
    root: dict[str, Any] = {}
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError as exc:
        raise invalid_param("Too many parameters in the request.", None) from exc
    for key, value in pairs:
        _insert(root, _split_key(key), value, key)
    return root


def _split_key(key: str) -> list[str]:
    match = _KEY.match(key)
    if match is None:
        # Not a bracket key at all: keep it whole so the route reports it as an unknown param.
        return [key]
    return [match.group(1), *_SEGMENT.findall(match.group(2))]


def _insert(root: dict[str, Any], path: list[str], value: str, raw_key: str) -> None:
    node = root
    for depth, segment in enumerate(path):
        is_last = depth == len(path) - 1
        if segment == "":
            if not is_last:
                raise invalid_param(f"Invalid array parameter name: {raw_key}", raw_key)
            # `expand[]=a&expand[]=b` appends: give it the next free index.
            segment = str(len(node))
        if is_last:
            if isinstance(node.get(segment), dict):
                raise invalid_param(f"Invalid hash: {raw_key} is both a value and a hash.", raw_key)
            node[segment] = value
            return
        child = node.setdefault(segment, {})
        if not isinstance(child, dict):
            raise invalid_param(f"Invalid hash: {raw_key} is both a value and a hash.", raw_key)
        node = child

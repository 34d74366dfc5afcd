"""Stripe's form encoding read back: bracket keys to nested values, strings to the spec's types.

`line_items[0][price_data][unit_amount]=500&expand[]=line_items` decodes to
`{"line_items": {"0": {"price_data": {"unit_amount": "500"}}}, "expand": {"0": "line_items"}}`;
`coerce` then turns, by the schema, indexed dicts into lists and strings into integers, numbers
and booleans. A string the schema accepts as it is (`""`, the spec's "unset" value) stays a
string; one that converts to nothing the schema takes stays too, for the validator to refuse.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_PART = re.compile(r"\[([^\[\]]*)\]")
_INTEGER = re.compile(r"-?\d+")


def decode_form(body: bytes) -> tuple[dict[str, Any], list[str]]:
    """The nested fields of `body`, and what is wrong with its keys (each as `key: problem`)."""
    fields: dict[str, Any] = {}
    problems: list[str] = []
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return fields, ["the body is not UTF-8"]
    for key, value in parse_qsl(text, keep_blank_values=True):
        match = _KEY.fullmatch(key)
        if match is None:
            problems.append(f"{key}: not a bracket-form key")
            continue
        parts = [match[1], *_PART.findall(match[2])]
        node = fields
        for part in parts[:-1]:
            child = node.setdefault(part or str(len(node)), {})  # `a[]` appends
            if not isinstance(child, dict):
                problems.append(f"{key}: sent both as a value and with nested fields")
                break
            node = child
        else:
            last = parts[-1] or str(len(node))
            if last in node:
                problems.append(f"{key}: sent twice, or both as a value and with nested fields")
            else:
                node[last] = value
    return fields, problems


def coerce(value: Any, schema: Any, defs: dict[str, Any]) -> Any:
    """`value` (strings and dicts of them) in the types `schema` (JSON Schema) asks for."""
    schema = _resolve(schema, defs)
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        return _coerce_alternatives(value, [_resolve(alt, defs) for alt in alternatives], defs)
    kinds = _types(schema)
    if isinstance(value, str):
        return _coerce_string(value, kinds)
    if not isinstance(value, dict):
        return value
    if "array" in kinds and _indexed(value):
        items = schema.get("items", {})
        ordered = sorted(value.items(), key=lambda item: int(item[0]))
        return [coerce(item, items, defs) for _, item in ordered]
    if "object" in kinds or "properties" in schema:
        known = schema.get("properties", {})
        others = schema.get("additionalProperties")
        fallback = others if isinstance(others, dict) else {}
        return {key: coerce(item, known.get(key, fallback), defs) for key, item in value.items()}
    return value


def _coerce_alternatives(
    value: Any, alternatives: list[dict[str, Any]], defs: dict[str, Any]
) -> Any:
    if isinstance(value, str):
        if any(_takes_string(alt, value) for alt in alternatives):
            return value
        for alt in alternatives:
            coerced = _coerce_string(value, _types(alt))
            if coerced is not value:
                return coerced
        return value
    if isinstance(value, dict):
        for alt in alternatives:
            kinds = _types(alt)
            if ("array" in kinds and _indexed(value)) or "object" in kinds or "properties" in alt:
                return coerce(value, alt, defs)
    return value


def _coerce_string(value: str, kinds: set[str]) -> Any:
    if "string" in kinds:
        return value
    if "integer" in kinds and _INTEGER.fullmatch(value):
        return int(value)
    if "number" in kinds:
        try:
            return float(value)
        except ValueError:
            pass
    if "boolean" in kinds and value in ("true", "false"):
        return value == "true"
    return value


def _takes_string(schema: dict[str, Any], value: str) -> bool:
    return "string" in _types(schema) and value in schema.get("enum", [value])


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type", ())
    return {kind} if isinstance(kind, str) else set(kind)


def _indexed(value: dict[str, Any]) -> bool:
    return bool(value) and all(key.isdigit() for key in value)


def _resolve(schema: Any, defs: dict[str, Any]) -> dict[str, Any]:
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        schema = defs[schema["$ref"].removeprefix("#/$defs/")]
    return schema if isinstance(schema, dict) else {}

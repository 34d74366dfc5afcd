"""Stripe's OpenAPI 3.0 schemas as JSON Schema (draft 2020-12), the form `jsonschema` validates.

Three changes, each for a reason:
- `nullable: true` (OpenAPI 3.0 only) becomes "or null"; without it null is refused.
- An object schema that lists `properties` and says nothing of others refuses others: Stripe's
  spec leaves `additionalProperties` out on nested objects, but Stripe refuses an unknown
  parameter at any depth, and a field its answers do not have is a field the emulator invents.
  Maps (`metadata`) declare `additionalProperties` and stay open.
- `#/components/schemas/X` references become `#/$defs/X`: each validator's root schema carries
  the components under `$defs`.
"""

from __future__ import annotations

from typing import Any

COMPONENTS = "#/components/schemas/"
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
SCHEMA_VALUES = ("items", "additionalProperties", "not")


def to_json_schema(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return schema  # `true`/`false` as a schema
    out = {key: value for key, value in schema.items() if key != "nullable"}
    if isinstance(out.get("$ref"), str) and out["$ref"].startswith(COMPONENTS):
        out["$ref"] = "#/$defs/" + out["$ref"].removeprefix(COMPONENTS)
    if "properties" in out:
        out["properties"] = {name: to_json_schema(sub) for name, sub in out["properties"].items()}
        out.setdefault("additionalProperties", False)
    for key in SCHEMA_LISTS:
        if key in out:
            out[key] = [to_json_schema(sub) for sub in out[key]]
    for key in SCHEMA_VALUES:
        if key in out:
            out[key] = to_json_schema(out[key])
    return _or_null(out) if schema.get("nullable") else out


def _or_null(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str) and not any(key in schema for key in SCHEMA_LISTS):
        widened = {**schema, "type": [kind, "null"]}
        if "enum" in schema:
            widened["enum"] = [*schema["enum"], None]
        return widened
    return {"anyOf": [schema, {"type": "null"}]}

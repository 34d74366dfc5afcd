"""The subset of Stripe's spec in this folder: its operations, and a validator per schema."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from .schemas import to_json_schema

SUBSET = Path(__file__).with_name("stripe-openapi.subset.json")
FORM = "application/x-www-form-urlencoded"


@cache
def document() -> dict[str, Any]:
    return json.loads(SUBSET.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@cache
def defs() -> dict[str, Any]:
    """The spec's component schemas as JSON Schema, keyed by name."""
    schemas = document()["components"]["schemas"]
    return {name: to_json_schema(schema) for name, schema in schemas.items()}


def find_operation(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    """The path template and operation object serving `method path` (a concrete path)."""
    for template, pattern in _templates():
        if pattern.fullmatch(path):
            operation = document()["paths"][template].get(method.lower())
            if operation is not None:
                return template, operation
    return None


@cache
def _templates() -> list[tuple[str, re.Pattern[str]]]:
    return [
        (template, re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))))
        for template in document()["paths"]
    ]


@cache
def request(template: str, method: str) -> tuple[dict[str, Any], Draft202012Validator]:
    """What a request to `method template` may carry, as one object schema (JSON Schema): a
    GET's query parameters, or a POST's form body; and its validator."""
    operation = document()["paths"][template][method.lower()]
    if method.lower() == "get":
        query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
        schema = {
            "type": "object",
            "properties": {p["name"]: p["schema"] for p in query},
            "required": [p["name"] for p in query if p.get("required")],
            "additionalProperties": False,
        }
    else:
        schema = operation["requestBody"]["content"][FORM]["schema"]
    converted = to_json_schema(schema)
    return converted, _validator(converted)


@cache
def answer(template: str, method: str) -> Draft202012Validator:
    """The validator of the operation's 200 answer."""
    operation = document()["paths"][template][method.lower()]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    return _validator(to_json_schema(schema))


@cache
def component(name: str) -> Draft202012Validator:
    """The validator of component schema `name` (KeyError if the subset lacks it)."""
    if name not in defs():
        raise KeyError(name)
    return _validator({"$ref": f"#/$defs/{name}"})


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    # Every root carries all the components, so `#/$defs/X` resolves within it.
    return Draft202012Validator({**schema, "$defs": defs()})

"""Check one request to Stripe, or one answer from the emulator, against the spec subset.

Each check returns its violations, one line each, `METHOD /path/{template}: where: what`, sorted
and without repeats; no violation, an empty list. Request locations are written as Stripe writes
parameters (`line_items[0][price_data][foo]`), answer locations as fields
(`line_items.data[0].price`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from jsonschema import ValidationError

from . import spec
from .forms import coerce, decode_form

Where = Callable[[Sequence[Any]], str]
Checks = list[tuple[Any, Any, tuple[Any, ...]]]  # (validator, instance, where it sits)
# Answers of endpoints outside the subset (test helpers, confirm, cancel) are checked against
# the schema of the object they are.
OBJECT_SCHEMAS = {
    "checkout.session": "checkout.session",
    "item": "item",
    "payment_intent": "payment_intent",
    "payment_intent_amount_details_line_item": "payment_intent_amount_details_line_item",
}


def check_request(method: str, path: str, form_body: bytes) -> list[str]:
    """Violations of a request: `form_body` is a POST's body, or a GET's query string."""
    found = spec.find_operation(method, path)
    if found is None:
        return [f"{method.upper()} {path}: not an operation of the spec subset"]
    template = found[0]
    label = f"{method.upper()} {template}"
    schema, validator = spec.request(template, method)
    fields, problems = decode_form(form_body)
    fields = coerce(fields, schema, spec.defs())
    errors = _messages(validator.iter_errors(fields), _parameter)
    return _unique(f"{label}: {message}" for message in [*problems, *errors])


def check_answer(method: str, path: str, status: int, json_body: Any) -> list[str]:
    """Violations of an answer: a 2xx against the operation's 200 schema, a 4xx or 5xx against
    Stripe's `error` schema."""
    found = spec.find_operation(method, path)
    label = f"{method.upper()} {found[0] if found else _generic(path)} ({status})"
    validators: Checks | None
    if status >= 400:
        validators = [(spec.component("error"), json_body, ())]
    elif 200 <= status < 300 and found is not None:
        validators = [(spec.answer(found[0], method), json_body, ())]
    elif 200 <= status < 300:
        validators = _by_object(json_body)
        if validators is None:
            return [f"{label}: no schema in the subset for this answer"]
    else:
        return []
    messages = [
        message
        for validator, instance, prefix in validators
        for message in _messages(validator.iter_errors(instance), _field, prefix)
    ]
    return _unique(f"{label}: {message}" for message in messages)


def _by_object(body: Any) -> Checks | None:
    """Validators for an answer by its `object`; a list's items one by one."""
    if not isinstance(body, dict):
        return None
    if body.get("object") == "list" and isinstance(body.get("data"), list):
        checks: Checks = []
        for index, item in enumerate(body["data"]):
            found = _by_object(item)
            if found is None:
                return None
            checks += [(validator, part, ("data", index, *at)) for validator, part, at in found]
        return checks
    name = OBJECT_SCHEMAS.get(str(body.get("object")))
    return None if name is None else [(spec.component(name), body, ())]


def _messages(
    errors: Iterable[ValidationError], where: Where, prefix: tuple[Any, ...] = ()
) -> list[str]:
    return [message for error in errors for message in _explain(error, where, prefix)]


def _explain(error: ValidationError, where: Where, prefix: tuple[Any, ...]) -> list[str]:
    """One line per problem, at its location; an anyOf failure is explained by the one
    alternative of the instance's type (e.g. the object, not the id, of an expandable field)."""
    at = (*prefix, *error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        return [
            f"{where((*at, name))}: not in the spec" for name in error.instance if name not in known
        ]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        return [f"{where((*at, name))}: required, missing" for name in missing]
    if error.instance is None and error.validator in ("type", "enum"):
        return [f"{where(at)}: null, which the spec does not allow here"]
    if error.validator == "type" and isinstance(error.instance, dict | list):
        kind = "an object" if isinstance(error.instance, dict) else "a list"
        return [f"{where(at)}: {kind}, where the spec has type {error.validator_value!r}"]
    if error.validator in ("anyOf", "oneOf") and error.context:
        branch = _matching_branch(error)
        if branch:
            return [line for sub in branch for line in _explain(sub, where, prefix)]
    return [f"{where(at)}: {_short(error.message)}"]


def _matching_branch(error: ValidationError) -> list[ValidationError]:
    """The errors of the only alternative whose type the instance has, if exactly one has."""
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    typed = [
        subs
        for subs in branches.values()
        if not any(sub.validator == "type" and not sub.relative_path for sub in subs)
    ]
    return typed[0] if len(typed) == 1 else []


def _parameter(path: Sequence[Any]) -> str:
    """`line_items[0][price_data][foo]`."""
    if not path:
        return "(body)"
    return str(path[0]) + "".join(f"[{part}]" for part in path[1:])


def _field(path: Sequence[Any]) -> str:
    """`line_items.data[0].price`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "(answer)"


def _generic(path: str) -> str:
    """`path` with object ids (segments with a digit, but not `v1`) as `{id}`, so that lines
    repeat."""
    return re.sub(r"(?<=/)(?!v\d+(?:/|$))[^/]*\d[^/]*", "{id}", path)


def _short(message: str, limit: int = 200) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."


def _unique(lines: Iterable[str]) -> list[str]:
    return sorted(set(lines))

"""Read and validate decoded request parameters the way Stripe does.

All values arrive as strings (or nested dicts of strings, see :mod:`.forms`). These readers
convert them and raise Stripe's 400s with the bracketed ``param`` path of the offending value.
Every error raised here depends on the request alone, so none is saved under an idempotency key.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from .errors import invalid_param, parameter_missing, parameter_unknown

_INTEGER = re.compile(r"^-?[0-9]+$")

# Stripe's documented ceiling for amounts: eight digits.
MAX_AMOUNT = 99_999_999


def child(prefix: str, key: str | int) -> str:
    """The bracketed param path Stripe reports, e.g. ``line_items[0][quantity]``."""
    return f"{prefix}[{key}]" if prefix else str(key)


def reject_unknown(params: Mapping[str, Any], allowed: Collection[str], prefix: str = "") -> None:
    for key in params:
        if key not in allowed:
            raise parameter_unknown(child(prefix, key))


def read_int(
    value: Any, param: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    if not isinstance(value, str) or not _INTEGER.match(value):
        raise invalid_param(f"Invalid integer: {_shown(value)}", param, "parameter_invalid_integer")
    number = int(value)
    if minimum is not None and number < minimum:
        raise invalid_param(
            f"This value must be greater than or equal to {minimum}.",
            param,
            "parameter_invalid_integer",
        )
    if maximum is not None and number > maximum:
        raise invalid_param(
            f"This value must be less than or equal to {maximum}.",
            param,
            "parameter_invalid_integer",
        )
    return number


def read_str(
    value: Any, param: str, *, max_length: int | None = None, empty_ok: bool = True
) -> str:
    if not isinstance(value, str):
        raise invalid_param(f"Invalid string: {_shown(value)}", param)
    if not empty_ok and value == "":
        raise invalid_param(
            "You passed an empty string for "
            f"'{param}'. We assume empty values are an attempt to unset a parameter; however "
            f"'{param}' cannot be unset. You should remove '{param}' from your request or supply "
            "a non-empty value.",
            param,
            "parameter_invalid_empty",
        )
    if max_length is not None and len(value) > max_length:
        raise invalid_param(f"Invalid {param}: must be at most {max_length} characters long", param)
    return value


def read_enum(value: Any, param: str, choices: tuple[str, ...]) -> str:
    # Stripe answers an unknown enum value with message + param and no `code` (UNCONFIRMED).
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(choices[:-1]) + f", or {choices[-1]}" if len(choices) > 1 else choices[0]
        raise invalid_param(f"Invalid {param}: must be one of {listed}", param)
    return value


def read_bool(value: Any, param: str) -> bool:
    if value == "true":
        return True
    if value == "false":
        return False
    raise invalid_param(f"Invalid boolean: {_shown(value)}", param)


def read_dict(value: Any, param: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_param(f"Invalid hash: {param} must be a hash, got {_shown(value)}", param)
    return value


def read_list(value: Any, param: str) -> list[Any]:
    """Turn ``{"0": a, "1": b}`` into ``[a, b]``; indexes must be exactly 0..n-1."""
    if not isinstance(value, dict) or not value:
        raise invalid_param(f"Invalid array: {param} must be an array", param)
    try:
        indexes = sorted(int(key) for key in value)
    except ValueError as exc:
        raise invalid_param(f"Invalid array: {param} must be an array", param) from exc
    if indexes != list(range(len(value))) or any(str(i) not in value for i in indexes):
        raise invalid_param(f"Invalid array: {param} has non-sequential indexes", param)
    return [value[str(i)] for i in indexes]


def require(params: Mapping[str, Any], key: str, prefix: str = "") -> Any:
    if key not in params:
        raise parameter_missing(child(prefix, key))
    return params[key]


def read_expand(params: Mapping[str, Any], expandable: Collection[str]) -> set[str]:
    """The requested expansions; an unknown path is refused (Stripe: "cannot be expanded")."""
    if "expand" not in params:
        return set()
    paths = [read_str(item, "expand") for item in read_list(params["expand"], "expand")]
    for index, path in enumerate(paths):
        if path not in expandable:
            raise invalid_param(
                f"This property cannot be expanded ({path}).", child("expand", index)
            )
    return set(paths)


def read_amount(value: Any, param: str) -> int:
    """A non-negative amount in minor units with Stripe's eight-digit ceiling."""
    return read_int(value, param, minimum=0, maximum=MAX_AMOUNT)


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else "a hash"

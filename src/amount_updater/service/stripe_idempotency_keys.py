"""Stripe idempotency keys for the service's own writes."""

from __future__ import annotations

import hashlib
from dataclasses import fields, is_dataclass
from functools import cache

import orjson

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS


def derive_key(purpose: str, *state: object) -> str:
    """A Stripe idempotency key for one intended write.

    `purpose` names the operation, and for an update the object and the revision the change was
    computed from (`cs-update:<id>:<revision>`); `state` is everything else that makes the write
    what it is: the exact new state and who asked for it (the caller's scope and own key, or the
    markers in the new request history). A retry of the same write thus replays at Stripe
    instead of applying twice, while any other write, or the same one asked for by another
    caller, gets another key (Stripe refuses a key reused with other parameters).
    """
    body = orjson.dumps(state, default=_tagged, option=_OPTIONS)
    digest = hashlib.sha256(purpose.encode() + b"|" + body).hexdigest()[:40]
    return f"au-{purpose.split(':', 1)[0]}-{digest}"


def _tagged(value: object) -> dict[str, object]:
    # Dataclasses carry their type's name, so two kinds of line with the same fields differ.
    if is_dataclass(value) and not isinstance(value, type):
        kind = type(value)
        return {"type": kind.__name__, **{name: getattr(value, name) for name in _names(kind)}}
    raise TypeError(f"{type(value).__name__} cannot be part of an idempotency key")


@cache
def _names(kind: type) -> tuple[str, ...]:
    return tuple(field.name for field in fields(kind))

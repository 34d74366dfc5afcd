"""Stripe idempotency keys for the service's own writes."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, is_dataclass

import orjson


def derive_key(scope: str, caller_key: str | None, *state: object) -> str:
    """A Stripe idempotency key for one intended write.

    `scope` names the object and the revision the change was computed from; `state` is the exact
    new state; `caller_key` is the caller's own Idempotency-Key. A retry of the same write thus
    replays at Stripe instead of applying twice, while any other write gets a fresh key (Stripe
    refuses a key reused with other parameters).
    """
    body = orjson.dumps([caller_key, [_plain(part) for part in state]], option=orjson.OPT_SORT_KEYS)
    digest = hashlib.sha256(scope.encode() + b"|" + body).hexdigest()[:40]
    return f"au-{scope.split(':', 1)[0]}-{digest}"


def _plain(value: object) -> object:
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {"type": type(value).__name__, **asdict(value)}
    return value

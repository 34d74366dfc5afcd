"""What one request has done so far, for its log line: set by the request-log middleware,
filled in by the auth dependencies and the Stripe gateway."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class RequestContext:
    request_id: str
    object_id: str | None = None
    caller: str | None = None  # "token" or "api_key:<hash prefix>": never the secret itself
    stripe_request_ids: list[str] = field(default_factory=list)


_current: ContextVar[RequestContext | None] = ContextVar("amount_updater_request", default=None)


def current() -> RequestContext | None:
    return _current.get()


def begin(request_id: str) -> RequestContext:
    context = RequestContext(request_id)
    _current.set(context)
    return context


def note_stripe_request(request_id: str | None) -> None:
    context = _current.get()
    if context is not None and request_id:
        context.stripe_request_ids.append(request_id)


def note_caller(object_id: str | None, caller: str) -> None:
    context = _current.get()
    if context is not None:
        context.object_id = object_id
        context.caller = caller

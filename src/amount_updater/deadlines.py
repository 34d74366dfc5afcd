"""The current request's deadline, for the layers below the one that sets it.

The service layer runs each request within a time limit (`service/request_timeout.py`), which
records here when it ends. The Stripe gateway reads it so that it never starts a wait (for
Stripe's rate budget) or a retry that could not end in time.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

_deadline: ContextVar[float | None] = ContextVar("amount_updater_deadline", default=None)


def deadline() -> float | None:
    """The event loop's time by which the current request's work must be done, or None."""
    return _deadline.get()


def set_deadline(when: float) -> Token[float | None]:
    return _deadline.set(when)


def reset_deadline(token: Token[float | None]) -> None:
    _deadline.reset(token)

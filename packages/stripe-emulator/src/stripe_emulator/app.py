"""Build the emulator as a Starlette app with relative ``/v1/...`` routes (mountable anywhere)."""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.routing import Route

from .dispatch import Dispatcher
from .routes import ROUTES
from .state import EmulatorState


def create_emulator_app(
    state: EmulatorState | None = None,
    *,
    clock: Callable[[], float] = time.time,
    write_latency_s: float = 0.0,
    lock_wait_s: float = 2.0,
) -> Starlette:
    """A stateful Stripe emulator speaking Stripe's wire format.

    ``clock`` returns unix seconds (tests move time with it); ``write_latency_s`` is slept inside
    the per-object write lock of every POST so tests can make writes overlap; a write waiting
    longer than ``lock_wait_s`` for that lock gets Stripe's 429 ``lock_timeout``.
    """
    emulator_state = EmulatorState() if state is None else state
    dispatcher = Dispatcher(emulator_state, clock, write_latency_s, lock_wait_s)
    routes = [Route(spec.path, dispatcher.endpoint(spec), methods=[spec.method]) for spec in ROUTES]
    app = Starlette(
        routes=routes,
        exception_handlers={404: dispatcher.not_found, 405: dispatcher.not_found},
    )
    app.state.emulator_state = emulator_state
    return app

"""Mounts the Stripe emulator into the app (sandbox mode only).

The emulator is its own distribution (`amount-updater-stripe-emulator`, the `sandbox` extra), so
a production install carries no fake Stripe: it is imported here, when a sandbox is mounted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from fastapi import FastAPI

if TYPE_CHECKING:
    from stripe_emulator import EmulatorState

SANDBOX_STRIPE_PATH = "/_sandbox/stripe"
SANDBOX_STRIPE_KEY = "sk_test_sandbox"  # the emulator accepts any sk_test_ key


def mount_sandbox(
    app: FastAPI,
    *,
    clock: Callable[[], float] = time.time,
    state: EmulatorState | None = None,
) -> EmulatorState:
    """Mount an emulator (over `state`, or a fresh one) at SANDBOX_STRIPE_PATH; return its state."""
    from stripe_emulator import EmulatorState, create_emulator_app

    emulator_state = EmulatorState() if state is None else state
    app.mount(
        SANDBOX_STRIPE_PATH,
        create_emulator_app(emulator_state, clock=clock),
        name="stripe-emulator",
    )
    return emulator_state

"""Mounts the Stripe emulator and the demo storefront into the app (sandbox mode only)."""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib import resources

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from amount_updater.sandbox.emulator import EmulatorState, create_emulator_app

SANDBOX_STRIPE_PATH = "/_sandbox/stripe"
SANDBOX_STRIPE_KEY = "sk_test_sandbox"  # the emulator accepts any sk_test_ key
DEMO_ASSETS_PATH = "/_sandbox/demo"


def mount_sandbox(
    app: FastAPI,
    *,
    clock: Callable[[], float] = time.time,
    state: EmulatorState | None = None,
) -> EmulatorState:
    """Mount the demo at `/` and an emulator (over `state`, or a fresh one); return its state."""
    emulator_state = EmulatorState() if state is None else state
    static = resources.files("amount_updater.sandbox") / "static"
    index_html = (static / "index.html").read_text(encoding="utf-8")

    async def demo_storefront() -> HTMLResponse:
        return HTMLResponse(index_html)

    app.add_api_route("/", demo_storefront, methods=["GET"], include_in_schema=False)
    app.mount(DEMO_ASSETS_PATH, StaticFiles(directory=str(static)), name="demo")
    app.mount(
        SANDBOX_STRIPE_PATH,
        create_emulator_app(emulator_state, clock=clock),
        name="stripe-emulator",
    )
    return emulator_state

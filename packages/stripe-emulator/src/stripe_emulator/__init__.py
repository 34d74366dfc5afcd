"""An in-memory, stateful Stripe emulator (ASGI) for sandbox mode and end-to-end tests.

It speaks Stripe's wire format (bracket-key forms in, Stripe-shaped JSON and errors out) for
Checkout Sessions and PaymentIntents, and enforces the Stripe rules amount-updater must respect,
so that a service mistake fails a test instead of passing silently.
"""

from .app import create_emulator_app
from .state import EmulatorState

__all__ = ["EmulatorState", "create_emulator_app"]

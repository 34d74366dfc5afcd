"""Sandbox mode: amount-updater without a Stripe key, against an in-process Stripe emulator,
and the demo storefront. Nothing here exists when a Stripe key is set, except the demo
storefront, which app.py may also serve with a test-mode publishable key.

The app mounts the emulator at SANDBOX_STRIPE_PATH and points its Stripe gateway at
``<own address>/_sandbox/stripe`` with SANDBOX_STRIPE_KEY, so the gateway runs the same HTTP code
it runs against api.stripe.com. The emulator is :mod:`stripe_emulator`; the demo
storefront is :mod:`amount_updater.sandbox.demo`.
"""

from amount_updater.sandbox.demo import DEMO_CONFIG_PATH, DEMO_STATIC_PATH, mount_demo
from amount_updater.sandbox.mount import SANDBOX_STRIPE_KEY, SANDBOX_STRIPE_PATH, mount_sandbox

__all__ = [
    "DEMO_CONFIG_PATH",
    "DEMO_STATIC_PATH",
    "SANDBOX_STRIPE_KEY",
    "SANDBOX_STRIPE_PATH",
    "mount_demo",
    "mount_sandbox",
]

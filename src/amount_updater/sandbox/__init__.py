"""Sandbox mode: amount-updater without a Stripe key, against an in-process Stripe emulator,
with a demo storefront at `/`. Nothing here exists when a Stripe key is set.

The app mounts the emulator at SANDBOX_STRIPE_PATH and points its Stripe gateway at
``<own address>/_sandbox/stripe`` with SANDBOX_STRIPE_KEY, so the gateway runs the same HTTP code
it runs against api.stripe.com. The emulator is :mod:`amount_updater.sandbox.emulator`.
"""

from amount_updater.sandbox.mount import SANDBOX_STRIPE_KEY, SANDBOX_STRIPE_PATH, mount_sandbox

__all__ = ["SANDBOX_STRIPE_KEY", "SANDBOX_STRIPE_PATH", "mount_sandbox"]

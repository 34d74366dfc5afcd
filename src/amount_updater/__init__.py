"""amount-updater: server-side cart pricing for Stripe Checkout Sessions and PaymentIntents."""

__version__ = "0.1.0"

"""The one place that talks to Stripe."""

from amount_updater.stripe_gateway.gateway import StripeGateway
from amount_updater.stripe_gateway.models import (
    CheckoutSession,
    KeepLine,
    LineWrite,
    NewLine,
    PaymentIntent,
    StripeLineItem,
    StripeWrite,
    UpdatedSession,
)

__all__ = [
    "CheckoutSession",
    "KeepLine",
    "LineWrite",
    "NewLine",
    "PaymentIntent",
    "StripeGateway",
    "StripeLineItem",
    "StripeWrite",
    "UpdatedSession",
]

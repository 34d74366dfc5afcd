"""The writes that change a cart on Stripe, built as data (`StripeWrite`) so that a write whose
outcome is unknown can be sent again exactly as it was, with the same idempotency key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from amount_updater.stripe_gateway.models import LineWrite, ShippingAddress, StripeWrite
from amount_updater.stripe_gateway.session_params import line_write, shipping_details_param

SESSIONS = "/v1/checkout/sessions"
INTENTS = "/v1/payment_intents"


def session_update(
    session_id: str,
    *,
    currency: str,
    lines: Sequence[LineWrite],
    metadata: Mapping[str, str],
    idempotency_key: str,
    shipping: list[Any] | str | None = None,
    address: ShippingAddress | None = None,
) -> StripeWrite:
    """The update that retransmits the whole line-item array (Stripe drops every id that is
    left out) with the service's metadata; with `shipping` (a `shipping_options_param`), the
    shipping options too, and with `address`, the customer's shipping address. Sent with
    `write`."""
    params: dict[str, Any] = {
        "line_items": [line_write(currency, line) for line in lines],
        "metadata": dict(metadata),
    }
    if shipping is not None:
        params["shipping_options"] = shipping
    if address is not None:
        params["collected_information"] = {"shipping_details": shipping_details_param(address)}
    return StripeWrite(
        operation="checkout.sessions.update",
        path=f"{SESSIONS}/{session_id}",
        params=params,
        idempotency_key=idempotency_key,
        what="checkout session",
    )


def intent_update(
    intent_id: str,
    *,
    amount: int,
    amount_details: Mapping[str, Any],
    metadata: Mapping[str, str],
    idempotency_key: str,
) -> StripeWrite:
    """Amount and amount_details in one write (Stripe checks that they add up), with the
    cart in metadata. Sent with `write`."""
    return StripeWrite(
        operation="payment_intents.update",
        path=f"{INTENTS}/{intent_id}",
        params={
            "amount": amount,
            "amount_details": dict(amount_details),
            "metadata": dict(metadata),
        },
        idempotency_key=idempotency_key,
        what="payment intent",
    )

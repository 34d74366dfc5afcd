"""A new Checkout Session object in Stripe's shape (``mode=payment``), its fields in the spec's
order. The fields that create-only parameters decide come from
:func:`.checkout_create.read_create_options`."""

from __future__ import annotations

from typing import Any

from .ids import new_client_secret, new_id


def new_session(
    *,
    ui_mode: str,
    currency: str,
    created: int,
    options: dict[str, Any],
    metadata: dict[str, str],
    shipping_options: list[dict[str, Any]],
    items: list[dict[str, Any]],
) -> dict[str, Any]:
    """The session before its totals are computed (``checkout_shipping.recompute_totals``)."""
    session_id = new_id("cs_test", 40)
    session: dict[str, Any] = {
        "id": session_id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": False},
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": 0,
        "amount_total": 0,
        "automatic_tax": None,
        "billing_address_collection": None,
        "cancel_url": None,
        "client_reference_id": None,
        "client_secret": None if ui_mode == "hosted_page" else new_client_secret(session_id),
        "collected_information": None,
        "consent": None,
        "consent_collection": None,
        "created": created,
        "currency": currency,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": None,
        "customer_creation": "if_required",
        "customer_details": None,
        "customer_email": None,
        "discounts": [],
        "expires_at": None,
        "invoice": None,
        "invoice_creation": None,
        "livemode": False,
        "locale": None,
        "metadata": metadata,
        "mode": "payment",
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "if_required",
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "permissions": None,
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "redirect_on_completion": None,
        "return_url": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": shipping_options,
        "status": "open",
        "submit_type": None,
        "subscription": None,
        "success_url": None,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": ui_mode,
        "url": f"https://checkout.stripe.com/c/pay/{session_id}"
        if ui_mode == "hosted_page"
        else None,
        "wallet_options": None,
        # Not a Stripe field at this level: the full item list, rendered as a list object.
        "line_items": items,
    }
    # The create-only choices (URLs, customer, expiry, locale, tax...) replace the None
    # placeholders above, in place, so the field order stays.
    session.update(options)
    return session

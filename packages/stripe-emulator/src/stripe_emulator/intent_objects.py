"""PaymentIntent objects: a new one in Stripe's shape, its status moves (with the money fields
that follow the status), and its rendering with ``amount_details``."""

from __future__ import annotations

from typing import Any

from .amount_details import render_amount_details
from .ids import new_client_secret, new_id


def new_succeeded_intent(amount: int, currency: str, now: float) -> dict[str, Any]:
    """The PaymentIntent a completed Checkout Session leaves behind."""
    intent = new_intent(amount, currency, now)
    intent["payment_method"] = "pm_card_visa"
    enter_status(intent, "succeeded", now)
    return intent


def render_intent(intent: dict[str, Any], expand: set[str]) -> dict[str, Any]:
    body = dict(intent)
    body["amount_details"] = render_amount_details(intent, expand)
    return body


def new_intent(amount: int, currency: str, now: float) -> dict[str, Any]:
    intent_id = new_id("pi")
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": {"allow_redirects": "always", "enabled": True},
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic_async",
        "client_secret": new_client_secret(intent_id),
        "confirmation_method": "automatic",
        "created": int(now),
        "currency": currency,
        "customer": None,
        "description": None,
        "excluded_payment_method_types": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": {},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    }


def enter_status(intent: dict[str, Any], status: str, now: float) -> None:
    """Move to ``status`` and keep the money fields consistent with it."""
    intent["status"] = status
    intent["next_action"] = (
        {"type": "use_stripe_sdk", "use_stripe_sdk": {}} if status == "requires_action" else None
    )
    intent["processing"] = {"type": "card"} if status == "processing" else None
    intent["amount_capturable"] = intent["amount"] if status == "requires_capture" else 0
    intent["amount_received"] = intent["amount"] if status == "succeeded" else 0
    if status in ("succeeded", "requires_capture") and intent["latest_charge"] is None:
        intent["latest_charge"] = new_id("ch")
    if status == "canceled":
        intent["canceled_at"] = int(now)

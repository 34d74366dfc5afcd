"""The emulator's objects use Stripe's key names: each is checked against a copy of Stripe's
own example object (tests/sandbox/fixtures, from stripe/openapi fixtures3.json) and against an
explicit list of the fields the emulator models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import stripe

from .helpers import create_intent, create_session, post

FIXTURES = Path(__file__).parent / "fixtures"

# Fields the fixture lacks but stripe-python 16.1.0's Session class declares.
SESSION_EXTRAS = {"line_items", "redirect_on_completion", "return_url"}
SESSION_MODELLED = {
    "id",
    "object",
    "amount_subtotal",
    "amount_total",
    "currency",
    "status",
    "payment_status",
    "expires_at",
    "created",
    "client_secret",
    "ui_mode",
    "mode",
    "metadata",
    "client_reference_id",
    "success_url",
    "cancel_url",
    "url",
    "livemode",
    "payment_intent",
    "total_details",
    "customer_email",
    "shipping_cost",
    "shipping_options",
    "collected_information",
}
ITEM_MODELLED = {
    "id",
    "object",
    "amount_discount",
    "amount_subtotal",
    "amount_tax",
    "amount_total",
    "currency",
    "description",
    "metadata",
    "quantity",
    "price",
    "adjustable_quantity",
}
PRICE_MODELLED = {
    "id",
    "object",
    "active",
    "billing_scheme",
    "created",
    "currency",
    "product",
    "type",
    "unit_amount",
    "unit_amount_decimal",
    "metadata",
    "livemode",
}
INTENT_MODELLED = {
    "id",
    "object",
    "amount",
    "amount_capturable",
    "amount_details",
    "amount_received",
    "automatic_payment_methods",
    "canceled_at",
    "cancellation_reason",
    "capture_method",
    "client_secret",
    "created",
    "currency",
    "description",
    "latest_charge",
    "livemode",
    "metadata",
    "next_action",
    "payment_method",
    "payment_method_types",
    "status",
}


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def sdk_fields(cls: type) -> set[str]:
    return {
        name for name in cls.__annotations__ if not name.startswith("_") and name != "OBJECT_NAME"
    }


def test_extras_are_real_stripe_fields():
    assert sdk_fields(stripe.checkout.Session) >= SESSION_EXTRAS
    assert not SESSION_EXTRAS & set(fixture("checkout_session"))


@pytest.mark.asyncio
@pytest.mark.parametrize("ui_mode", ["elements", "hosted_page"])
async def test_checkout_session_item_and_price_keys(http, ui_mode):
    created = await create_session(http, items=2, ui_mode=ui_mode)
    session = (await http.get(f"/v1/checkout/sessions/{created['id']}?expand[]=line_items")).json()
    assert set(session) <= set(fixture("checkout_session")) | SESSION_EXTRAS
    assert SESSION_MODELLED | {"line_items"} <= set(session)
    assert set(created) == set(session) - {"line_items"}
    assert set(session["total_details"]) == set(fixture("checkout_session")["total_details"])
    assert set(session["line_items"]) == {"object", "data", "has_more", "url"}

    item = session["line_items"]["data"][0]
    assert set(item) <= set(fixture("line_item"))
    assert set(item) >= ITEM_MODELLED
    assert set(item["price"]) <= set(fixture("price"))
    assert set(item["price"]) >= PRICE_MODELLED


@pytest.mark.asyncio
async def test_completed_session_customer_details_and_payment_intent_keys(http):
    created = await create_session(http)
    completed = (
        await post(
            http,
            f"/v1/test_helpers/checkout/sessions/{created['id']}/complete",
            {"expand[0]": "payment_intent"},
        )
    ).json()
    assert set(completed["customer_details"]) <= set(
        fixture("checkout_session")["customer_details"]
    )
    assert set(completed["payment_intent"]) <= set(fixture("payment_intent"))


@pytest.mark.asyncio
async def test_payment_intent_keys(http):
    fields = {
        "amount_details[line_items][0][product_name]": "Shirt",
        "amount_details[line_items][0][unit_cost]": "1800",
        "amount_details[line_items][0][quantity]": "1",
        "amount_details[shipping][amount]": "200",
    }
    created = await create_intent(http, 2000, **fields)
    intent = (
        await http.get(f"/v1/payment_intents/{created['id']}?expand[]=amount_details.line_items")
    ).json()
    assert set(intent) <= set(fixture("payment_intent"))
    assert set(intent) >= INTENT_MODELLED
    assert set(intent["amount_details"]) <= sdk_fields(stripe.PaymentIntent.AmountDetails)
    line = intent["amount_details"]["line_items"]["data"][0]
    assert set(line) <= sdk_fields(stripe.PaymentIntentAmountDetailsLineItem) | {"id", "object"}
    assert set(fixture("payment_intent")["amount_details"]) <= set(created["amount_details"])

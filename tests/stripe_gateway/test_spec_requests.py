"""The check of requests to Stripe against Stripe's spec (tests/support/stripe_spec) bites: a
parameter off the spec, a wrong type or a missing required field fails with its path, and what
the gateway sends passes. (Every test using `stripe_mock` runs this check on every request.)"""

from __future__ import annotations

import httpx
import pytest
import respx

from amount_updater.stripe_gateway import StripeGateway, writes
from amount_updater.stripe_gateway.forms import encode_form
from amount_updater.stripe_gateway.models import KeepLine, NewLine, StripeWrite
from tests.support.spec_checks import gateway_call_violations
from tests.support.stripe_objects import checkout_session, payment_intent
from tests.support.stripe_spec import check_request

SESSIONS = "/v1/checkout/sessions"
SESSION = "/v1/checkout/sessions/cs_test_a1"
INTENT = "/v1/payment_intents/pi_test_a1"
MUG = NewLine(name="Mug", unit_amount=1200, quantity=2, metadata={"product_id": "mug"})


def gateway(router: respx.MockRouter) -> StripeGateway:
    return StripeGateway.connect(
        "sk_test_spec",
        api_base="https://api.stripe.com",
        timeout_s=5,
        max_retries=0,
        transport=httpx.MockTransport(router.async_handler),
    )


def new_line_fields(**price_data: object) -> dict[str, object]:
    """A new line item as the gateway sends it, with `price_data` entries replaced."""
    price = {"currency": "usd", "product_data": {"name": "Mug"}, "unit_amount": 1200}
    return {"price_data": {**price, **price_data}, "quantity": 2}


def session_update(*lines: dict[str, object]) -> bytes:
    return encode_form({"line_items": list(lines), "metadata": {"cart": "c1"}}).encode()


def test_an_unknown_parameter_fails_with_its_path():
    body = session_update({"id": "li_1"}, new_line_fields(foo="bar"))
    assert check_request("POST", SESSION, body) == [
        "POST /v1/checkout/sessions/{session}: line_items[1][price_data][foo]: not in the spec"
    ]


def test_a_wrong_type_fails_with_its_path():
    body = session_update(new_line_fields(unit_amount="12.00"))
    assert check_request("POST", SESSION, body) == [
        "POST /v1/checkout/sessions/{session}: line_items[0][price_data][unit_amount]: "
        "'12.00' is not of type 'integer'"
    ]


def test_a_missing_required_sub_field_fails_with_its_path():
    line = new_line_fields()
    del line["price_data"]["currency"]  # type: ignore[attr-defined]
    assert check_request("POST", SESSION, session_update(line)) == [
        "POST /v1/checkout/sessions/{session}: line_items[0][price_data][currency]: "
        "required, missing"
    ]


def test_strings_are_read_as_stripe_reads_them():
    # `""` unsets (where the spec allows it), booleans are true/false, integers are digits.
    assert check_request("POST", INTENT, b"amount=900&amount_details=&metadata=") == []
    create = b"amount=900&currency=usd&automatic_payment_methods[enabled]=true"
    assert check_request("POST", "/v1/payment_intents", create) == []
    assert check_request("POST", "/v1/payment_intents", create.replace(b"true", b"yes")) == [
        "POST /v1/payment_intents: automatic_payment_methods[enabled]: "
        "'yes' is not of type 'boolean'"
    ]
    assert check_request("POST", "/v1/payment_intents", b"amount=&currency=usd") == [
        "POST /v1/payment_intents: amount: '' is not of type 'integer'"
    ]


def test_a_get_is_checked_by_its_query_and_unknown_endpoints_fail():
    assert check_request("GET", SESSION, b"expand[0]=line_items") == []
    assert check_request("GET", SESSIONS, b"limit=1") == []
    assert check_request("GET", SESSION + "/line_items", b"limit=ten&page=2") == [
        "GET /v1/checkout/sessions/{session}/line_items: limit: 'ten' is not of type 'integer'",
        "GET /v1/checkout/sessions/{session}/line_items: page: not in the spec",
    ]
    assert check_request("POST", "/v1/prices", b"") == [
        "POST /v1/prices: not an operation of the spec subset"
    ]


def test_the_bodies_the_gateway_builds_pass():
    update = writes.session_update(
        "cs_test_a1",
        currency="usd",
        lines=[KeepLine("li_1"), KeepLine("li_2", quantity=3), MUG],
        metadata={"cart": "c1"},
        idempotency_key="k1",
    )
    intent = writes.intent_update(
        "pi_test_a1",
        amount=2400,
        amount_details={
            "line_items": [{"product_name": "Mug", "quantity": 2, "unit_cost": 1200}],
            "shipping": "",
            "tax": "",
        },
        metadata={"cart": "c1"},
        idempotency_key="k2",
    )
    for write in (update, intent):
        assert check_request("POST", write.path, encode_form(write.params).encode()) == []


@pytest.mark.asyncio
async def test_the_hook_passes_the_gateway_s_calls_and_catches_an_off_spec_one():
    router = respx.MockRouter(base_url="https://api.stripe.com")
    router.post(SESSIONS).respond(json=checkout_session())
    router.post(SESSION).respond(json=checkout_session())
    router.post("/v1/payment_intents").respond(json=payment_intent())
    stripe = gateway(router)
    await stripe.create_checkout_session(
        currency="usd",
        lines=[MUG],
        metadata={"cart": "c1"},
        return_url="https://shop.example/return",
        idempotency_key=None,
    )
    await stripe.create_payment_intent(
        currency="usd",
        amount=2400,
        amount_details={"line_items": [{"product_name": "Mug", "quantity": 2, "unit_cost": 1200}]},
        metadata={"cart": "c1"},
        idempotency_key=None,
    )
    assert gateway_call_violations(router.calls) == []

    off_spec = {"line_items": [{"id": "li_1", "quantity": 1, "price": {"unit_amount": 5}}]}
    await stripe.write(StripeWrite("checkout.sessions.update", SESSION, off_spec, "k3", "session"))
    await stripe.aclose()
    assert gateway_call_violations(router.calls) == [
        "POST /v1/checkout/sessions/{session}: line_items[0][price]: "
        "an object, where the spec has type 'string'"
    ]

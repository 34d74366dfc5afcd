"""PaymentIntents through the real stripe-python 16.1 SDK over HTTP."""

from __future__ import annotations

import pytest
import stripe


async def set_status(sdk: stripe.StripeClient, intent_id: str, status: str) -> None:
    await sdk.raw_request_async(
        "post", f"/v1/test_helpers/payment_intents/{intent_id}/set_status", status=status
    )


@pytest.mark.asyncio
async def test_create_update_confirm(sdk, state):
    intent = await sdk.v1.payment_intents.create_async(
        params={"amount": 2000, "currency": "usd", "metadata": {"cart_id": "c1"}}
    )
    assert (intent.status, intent.amount_received) == ("requires_payment_method", 0)
    assert intent.client_secret.startswith(intent.id + "_secret_")
    updated = await sdk.v1.payment_intents.update_async(
        intent.id, params={"amount": 2600, "metadata": {"cart_version": "2"}}
    )
    assert updated.amount == 2600
    assert updated.metadata.to_dict() == {"cart_id": "c1", "cart_version": "2"}
    confirmed = await sdk.v1.payment_intents.confirm_async(
        intent.id, params={"payment_method": "pm_card_visa"}
    )
    assert (confirmed.status, confirmed.amount_received) == ("succeeded", 2600)
    assert state.payment_intents[intent.id]["status"] == "succeeded"


@pytest.mark.asyncio
async def test_cancel_and_status_guards(sdk):
    intent = await sdk.v1.payment_intents.create_async(
        params={"amount": 2000, "currency": "eur", "capture_method": "manual"}
    )
    await sdk.v1.payment_intents.confirm_async(intent.id, params={"payment_method": "pm_card_visa"})
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        await sdk.v1.payment_intents.update_async(intent.id, params={"amount": 2500})
    assert excinfo.value.code == "payment_intent_unexpected_state"
    assert "status of requires_capture" in excinfo.value.user_message
    canceled = await sdk.v1.payment_intents.cancel_async(
        intent.id, params={"cancellation_reason": "requested_by_customer"}
    )
    assert canceled.status == "canceled"
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        await sdk.v1.payment_intents.cancel_async(intent.id)
    assert excinfo.value.code == "payment_intent_unexpected_state"


@pytest.mark.asyncio
@pytest.mark.parametrize("status", ["processing", "succeeded"])
async def test_amount_update_refused_in_status(sdk, state, status):
    intent = await sdk.v1.payment_intents.create_async(params={"amount": 2000, "currency": "usd"})
    await set_status(sdk, intent.id, status)
    writes = state.write_count
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        await sdk.v1.payment_intents.update_async(intent.id, params={"amount": 1000})
    assert excinfo.value.code == "payment_intent_unexpected_state"
    assert state.write_count == writes


@pytest.mark.asyncio
async def test_amount_details_arithmetic(sdk):
    details = {
        "line_items": [
            {"product_name": "Shirt", "product_code": "SHIRT", "unit_cost": 2500, "quantity": 2},
            {"product_name": "Gift wrap", "unit_cost": 500, "quantity": 1},
        ],
        "shipping": {"amount": 1500},
    }
    intent = await sdk.v1.payment_intents.create_async(
        params={"amount": 7000, "currency": "usd", "amount_details": details}
    )
    fetched = await sdk.v1.payment_intents.retrieve_async(
        intent.id, params={"expand": ["amount_details.line_items"]}
    )
    assert [li.product_name for li in fetched.amount_details.line_items.data] == [
        "Shirt",
        "Gift wrap",
    ]
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        await sdk.v1.payment_intents.update_async(intent.id, params={"amount": 6500})
    assert excinfo.value.code == "amount_details_amount_mismatch"
    assert excinfo.value.param == "amount_details"
    details["line_items"].pop()
    updated = await sdk.v1.payment_intents.update_async(
        intent.id, params={"amount": 6500, "amount_details": details}
    )
    assert updated.amount == 6500
    cleared = await sdk.v1.payment_intents.update_async(intent.id, params={"amount_details": ""})
    assert cleared.amount_details.to_dict() == {"tip": {}}


@pytest.mark.asyncio
@pytest.mark.parametrize(("currency", "minimum"), [("usd", 50), ("eur", 50), ("jpy", 50)])
async def test_minimum_amounts(sdk, currency, minimum):
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        await sdk.v1.payment_intents.create_async(
            params={"amount": minimum - 1, "currency": currency}
        )
    assert (excinfo.value.code, excinfo.value.param) == ("amount_too_small", "amount")
    ok = await sdk.v1.payment_intents.create_async(params={"amount": minimum, "currency": currency})
    assert ok.amount == minimum
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        await sdk.v1.payment_intents.update_async(ok.id, params={"amount": 100_000_000})
    assert excinfo.value.code == "amount_too_large"

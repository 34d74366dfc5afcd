"""Checkout Sessions through the real stripe-python 16.1 SDK over HTTP, as the service calls
them."""

from __future__ import annotations

import pytest
import stripe

ELEMENTS = {"mode": "payment", "ui_mode": "elements", "return_url": "https://shop.example/return"}


def line(name: str, unit_amount: int, quantity: int = 1, sku: str | None = None) -> dict:
    item: dict = {
        "price_data": {
            "currency": "usd",
            "unit_amount": unit_amount,
            "product_data": {"name": name},
        },
        "quantity": quantity,
    }
    if sku:
        item["metadata"] = {"sku": sku}
    return item


async def create(sdk: stripe.StripeClient, *items: dict, **extra) -> stripe.checkout.Session:
    return await sdk.v1.checkout.sessions.create_async(
        params={**ELEMENTS, "line_items": list(items), **extra}
    )


@pytest.mark.asyncio
async def test_create_retrieve_update_keeps_changes_removes_and_adds(sdk, state):
    session = await create(
        sdk,
        line("Shirt", 2500, 2, "shirt"),
        line("Socks", 800, 1, "socks"),
        line("Cap", 1500, 1, "cap"),
        metadata={"cart_id": "cart_1"},
        client_reference_id="cart_1",
    )
    assert session.amount_total == 2500 * 2 + 800 + 1500
    assert session.client_secret.startswith(session.id + "_secret_")
    fetched = await sdk.v1.checkout.sessions.retrieve_async(
        session.id, params={"expand": ["line_items"]}
    )
    by_sku = {item.metadata["sku"]: item for item in fetched.line_items.data}
    assert by_sku["shirt"].price.unit_amount == 2500
    assert by_sku["shirt"].amount_subtotal == 5000

    updated = await sdk.v1.checkout.sessions.update_async(
        session.id,
        params={
            "line_items": [
                {"id": by_sku["shirt"].id},  # kept as is
                {"id": by_sku["socks"].id, "quantity": 3},  # changed
                line("Gift wrap", 500, 1, "wrap"),  # added; the cap is removed by omission
            ],
            "expand": ["line_items"],
        },
    )
    skus = [(item.metadata["sku"], item.quantity) for item in updated.line_items.data]
    assert skus == [("shirt", 2), ("socks", 3), ("wrap", 1)]
    assert updated.amount_subtotal == updated.amount_total == 5000 + 2400 + 500
    assert updated.metadata["cart_id"] == "cart_1"
    assert state.checkout_sessions[session.id]["amount_total"] == 7900


@pytest.mark.asyncio
async def test_expanded_line_items_stop_at_ten_and_paging_reaches_the_rest(sdk):
    session = await create(sdk, *[line(f"Item {i}", 100 + i, 1, f"sku-{i}") for i in range(23)])
    fetched = await sdk.v1.checkout.sessions.retrieve_async(
        session.id, params={"expand": ["line_items"]}
    )
    assert len(fetched.line_items.data) == 10
    assert fetched.line_items.has_more is True

    first = await sdk.v1.checkout.sessions.line_items.list_async(session.id, params={"limit": 10})
    second = await sdk.v1.checkout.sessions.line_items.list_async(
        session.id, params={"limit": 10, "starting_after": first.data[-1].id}
    )
    assert [i.metadata["sku"] for i in second.data] == [f"sku-{i}" for i in range(10, 20)]

    page = await sdk.v1.checkout.sessions.line_items.list_async(session.id, params={"limit": 5})
    everything = [item async for item in page.auto_paging_iter()]
    assert [i.metadata["sku"] for i in everything] == [f"sku-{i}" for i in range(23)]


@pytest.mark.asyncio
async def test_expire_then_update_is_refused(sdk, state):
    session = await create(sdk, line("Shirt", 2500))
    expired = await sdk.v1.checkout.sessions.expire_async(session.id)
    assert expired.status == "expired"
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        await sdk.v1.checkout.sessions.update_async(session.id, params={"metadata": {"a": "b"}})
    assert excinfo.value.code == "checkout_not_active_session"
    assert excinfo.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError):
        await sdk.v1.checkout.sessions.expire_async(session.id)


@pytest.mark.asyncio
async def test_clock_expiry_then_update_is_refused(sdk, clock):
    session = await create(sdk, line("Shirt", 2500))
    clock.advance(24 * 3600)
    assert (await sdk.v1.checkout.sessions.retrieve_async(session.id)).status == "expired"
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        await sdk.v1.checkout.sessions.update_async(
            session.id, params={"line_items": [line("Cap", 900)]}
        )
    assert excinfo.value.code == "checkout_not_active_session"


@pytest.mark.asyncio
async def test_completed_session_refuses_updates(sdk):
    session = await create(sdk, line("Shirt", 2500))
    # The complete helper is not a Stripe endpoint: call it through the SDK's raw request API.
    response = await sdk.raw_request_async(
        "post", f"/v1/test_helpers/checkout/sessions/{session.id}/complete"
    )
    completed = sdk.deserialize(response, api_mode="V1")
    assert (completed.status, completed.payment_status) == ("complete", "paid")
    assert completed.payment_intent.startswith("pi_")
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        await sdk.v1.checkout.sessions.update_async(session.id, params={"metadata": {"a": "b"}})
    assert excinfo.value.code == "checkout_not_active_session"
    paid = await sdk.v1.checkout.sessions.retrieve_async(
        session.id, params={"expand": ["payment_intent"]}
    )
    assert paid.payment_intent.status == "succeeded"
    assert paid.payment_intent.amount == 2500


@pytest.mark.asyncio
async def test_idempotent_replay_returns_the_same_session_without_a_second_write(sdk, state):
    session = await create(sdk, line("Shirt", 2500))
    params = {"line_items": [line("Gift wrap", 500)], "metadata": {"cart_version": "2"}}
    options = {"idempotency_key": f"cs-upd:{session.id}:2"}
    first = await sdk.v1.checkout.sessions.update_async(session.id, params=params, options=options)
    writes = state.write_count
    replay = await sdk.v1.checkout.sessions.update_async(session.id, params=params, options=options)
    assert replay.to_dict() == first.to_dict()
    assert replay.last_response.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.last_response.headers
    assert state.write_count == writes
    with pytest.raises(stripe.IdempotencyError):
        await sdk.v1.checkout.sessions.update_async(
            session.id, params={**params, "metadata": {"cart_version": "3"}}, options=options
        )
    assert state.write_count == writes

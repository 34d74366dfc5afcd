"""stripe-python raises the exception class the service handles for each emulator refusal."""

from __future__ import annotations

import asyncio

import pytest
import stripe

from stripe_emulator import EmulatorState, create_emulator_app
from tests.support.servers import serve_in_thread

from .helpers import FakeClock

SESSION_PARAMS = {
    "mode": "payment",
    "ui_mode": "elements",
    "return_url": "https://shop.example/return",
    "line_items": [
        {
            "price_data": {
                "currency": "usd",
                "unit_amount": 1000,
                "product_data": {"name": "Shirt"},
            },
            "quantity": 1,
        }
    ],
}


def client_for(
    base_url: str, http_client: stripe.HTTPXClient, key: str = "sk_test_emulator"
) -> stripe.StripeClient:
    return stripe.StripeClient(
        key, http_client=http_client, base_addresses={"api": base_url}, max_network_retries=0
    )


@pytest.mark.asyncio
async def test_invalid_request_error_carries_code_param_and_status(sdk):
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        await sdk.v1.checkout.sessions.create_async(params={**SESSION_PARAMS, "ui_mode": "custom"})
    assert (excinfo.value.http_status, excinfo.value.param) == (400, "ui_mode")
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        await sdk.v1.checkout.sessions.retrieve_async("cs_test_missing")
    assert (excinfo.value.http_status, excinfo.value.code) == (404, "resource_missing")
    assert excinfo.value.request_id.startswith("req_")


@pytest.mark.asyncio
async def test_authentication_error(server_url):
    http_client = stripe.HTTPXClient()
    try:
        with pytest.raises(stripe.AuthenticationError) as excinfo:
            await client_for(
                server_url, http_client, "sk_live_nope"
            ).v1.checkout.sessions.retrieve_async("cs_x")
        assert excinfo.value.http_status == 401
    finally:
        await http_client.close_async()


@pytest.mark.asyncio
async def test_idempotency_error(sdk):
    options = {"idempotency_key": "create-cart-1"}
    await sdk.v1.checkout.sessions.create_async(params=SESSION_PARAMS, options=options)
    with pytest.raises(stripe.IdempotencyError) as excinfo:
        await sdk.v1.checkout.sessions.create_async(
            params={**SESSION_PARAMS, "metadata": {"a": "b"}}, options=options
        )
    assert excinfo.value.http_status == 400


@pytest.mark.asyncio
async def test_lock_timeout_is_a_rate_limit_error_and_in_flight_key_a_409_api_error():
    state = EmulatorState()
    app = create_emulator_app(state, clock=FakeClock(), write_latency_s=0.4, lock_wait_s=0.05)
    http_client = stripe.HTTPXClient()
    try:
        with serve_in_thread(app) as base_url:
            sdk = client_for(base_url, http_client)
            session = await sdk.v1.checkout.sessions.create_async(params=SESSION_PARAMS)
            results = await asyncio.gather(
                sdk.v1.checkout.sessions.update_async(session.id, params={"metadata": {"a": "1"}}),
                sdk.v1.checkout.sessions.update_async(session.id, params={"metadata": {"b": "2"}}),
                return_exceptions=True,
            )
            errors = [r for r in results if isinstance(r, Exception)]
            assert len(errors) == 1
            assert isinstance(errors[0], stripe.RateLimitError)
            assert errors[0].code is None  # stripe-python leaves .code empty on 429s ...
            assert errors[0].error.code == "lock_timeout"  # ... the code is on .error
            assert errors[0].headers["stripe-should-retry"] == "true"

            options = {"idempotency_key": "same-key"}
            results = await asyncio.gather(
                sdk.v1.payment_intents.create_async(
                    params={"amount": 500, "currency": "usd"}, options=options
                ),
                sdk.v1.payment_intents.create_async(
                    params={"amount": 500, "currency": "usd"}, options=options
                ),
                return_exceptions=True,
            )
            errors = [r for r in results if isinstance(r, Exception)]
            assert len(errors) == 1
            assert type(errors[0]) is stripe.APIError
            assert errors[0].http_status == 409
            assert errors[0].error.code == "idempotency_key_in_use"
    finally:
        await http_client.close_async()
    assert len(state.payment_intents) == 1

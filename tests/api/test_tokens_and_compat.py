from __future__ import annotations

import httpx
import pytest
import respx

from tests.api.test_checkout_sessions import SID, mock_session, no_write, token_for
from tests.conftest import API_KEY
from tests.support.stripe_objects import NOW, checkout_session, line_items_sent, product_line


class TestTokens:
    @pytest.mark.asyncio
    async def test_an_api_key_mints_a_token_that_expires_with_the_session(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        session = checkout_session(expires_at=NOW + 1800)
        stripe_mock.get(f"/v1/checkout/sessions/{SID}").respond(200, json=session)

        response = await client.post(
            "/v1/tokens", json={"object_id": SID}, headers={"X-API-Key": API_KEY}
        )

        assert response.status_code == 201, response.text
        issued = response.json()
        assert issued["expires_at"] == NOW + 1800
        auth = {"Authorization": f"Bearer {issued['token']}"}
        assert (await client.get(f"/v1/checkout-sessions/{SID}", headers=auth)).is_success

    @pytest.mark.asyncio
    async def test_a_token_cannot_mint_tokens(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        response = await client.post("/v1/tokens", json={"object_id": SID}, headers=token_for())
        assert response.status_code == 401
        assert not stripe_mock.calls

    @pytest.mark.asyncio
    async def test_no_token_for_a_completed_session(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        stripe_mock.get(f"/v1/checkout/sessions/{SID}").respond(
            200, json=checkout_session(status="complete")
        )
        response = await client.post(
            "/v1/tokens", json={"object_id": SID}, headers={"X-API-Key": API_KEY}
        )
        assert response.status_code == 409


class TestUpdateCustomAmount:
    """Stripe's reference contract, without its bug: the rest of the cart survives."""

    @pytest.mark.asyncio
    async def test_adds_one_unit_and_keeps_the_cart(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        session = checkout_session(
            line_items=[product_line("tshirt", "T-shirt", 2500, 1, id="li_shirt")]
        )
        update = mock_session(stripe_mock, session, updated_total=3000)

        response = await client.post(
            "/update-custom-amount",
            json={"checkout_session_id": SID, "product_id": "gift_wrap"},
            headers=token_for(),
        )

        assert response.status_code == 200, response.text
        assert response.json() == {"id": SID, "amount_total": 3000}
        sent = line_items_sent(update.calls.last.request.content)
        assert sent[0] == {"[id]": "li_shirt"}
        assert sent[1]["[metadata][product_id]"] == "gift_wrap"

    @pytest.mark.asyncio
    async def test_refuses_anonymous_callers(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        response = await client.post(
            "/update-custom-amount", json={"checkout_session_id": SID, "product_id": "gift_wrap"}
        )
        assert response.status_code == 401
        assert no_write(stripe_mock)

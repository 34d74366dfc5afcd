"""PUT /v1/checkout-sessions/{id}/shipping-address: the address the customer entered reaches
Stripe as collected shipping details, in the same write as the shipping option that serves it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from amount_updater.config import Settings
from tests.api.test_checkout_sessions import SID, mock_session, no_write, token_for
from tests.support.stripe_objects import checkout_session, form, product_line

ADDRESS = {
    "name": "Ada Lovelace",
    "address": {"line1": "1 Main St", "city": "Toronto", "postal_code": "M5V 2T6", "country": "ca"},
}
OPTION = "shipping_options[0][shipping_rate_data]"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return Settings(**{**settings.model_dump(), "collect_shipping_address": True})


def session_with(**extra: Any) -> dict[str, Any]:
    session = checkout_session(
        line_items=[product_line("tshirt", "T-shirt", 2500, 1, id="li_shirt")],
        metadata={"amount_updater_rev": "2", **extra.pop("metadata", {})},
    )
    return {**session, **extra}


async def put_address(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await client.put(
        f"/v1/checkout-sessions/{SID}/shipping-address", json=body, headers=token_for()
    )


@pytest.mark.asyncio
async def test_the_address_and_the_cheapest_rate_serving_it_go_in_one_write(
    client: httpx.AsyncClient, stripe_mock: respx.MockRouter
):
    update = mock_session(stripe_mock, session_with())

    response = await put_address(client, ADDRESS)

    assert response.status_code == 200, response.text
    assert len(update.calls) == 1
    body = form(update.calls.last.request.content)
    details = "collected_information[shipping_details]"
    assert {k: v for k, v in body.items() if k.startswith(details)} == {
        f"{details}[name]": "Ada Lovelace",
        f"{details}[address][line1]": "1 Main St",
        f"{details}[address][city]": "Toronto",
        f"{details}[address][postal_code]": "M5V 2T6",
        f"{details}[address][country]": "CA",
    }
    assert body[f"{OPTION}[display_name]"] == "Standard Shipping"
    assert body[f"{OPTION}[fixed_amount][amount]"] == "500"
    assert body["metadata[amount_updater_shipping]"] == "standard"
    assert response.json()["shipping"]["rate_id"] == "standard"
    assert response.json()["shipping_address"] == {
        "name": "Ada Lovelace",
        "line1": "1 Main St",
        "line2": None,
        "city": "Toronto",
        "state": None,
        "postal_code": "M5V 2T6",
        "country": "CA",
    }


@pytest.mark.asyncio
async def test_a_chosen_rate_that_serves_the_country_is_kept(
    client: httpx.AsyncClient, stripe_mock: respx.MockRouter
):
    session = session_with(
        metadata={"amount_updater_shipping": "express"},
        total_details={"amount_discount": 0, "amount_shipping": 1500, "amount_tax": 0},
    )
    update = mock_session(stripe_mock, session)

    response = await put_address(client, ADDRESS)

    assert response.status_code == 200, response.text
    body = form(update.calls.last.request.content)
    assert not any(key.startswith("shipping_options") for key in body)  # already offered
    assert body["collected_information[shipping_details][address][country]"] == "CA"
    assert response.json()["shipping"]["rate_id"] == "express"


@pytest.mark.asyncio
async def test_a_chosen_rate_that_does_not_serve_the_country_gives_way(
    client: httpx.AsyncClient, stripe_mock: respx.MockRouter
):
    session = session_with(
        metadata={"amount_updater_shipping": "express"},
        total_details={"amount_discount": 0, "amount_shipping": 1500, "amount_tax": 0},
    )
    update = mock_session(stripe_mock, session)
    to_japan = {**ADDRESS, "address": {**ADDRESS["address"], "country": "JP"}}

    response = await put_address(client, to_japan)

    assert response.status_code == 200, response.text
    body = form(update.calls.last.request.content)
    assert body[f"{OPTION}[display_name]"] == "Standard Shipping"
    assert response.json()["shipping"]["rate_id"] == "standard"


@pytest.mark.asyncio
async def test_express_to_a_country_it_does_not_serve_is_refused(
    client: httpx.AsyncClient, stripe_mock: respx.MockRouter
):
    japan = {"name": "Ada", "address": {"line1": "1 Main St", "country": "JP"}}
    session = session_with(collected_information={"shipping_details": japan})
    mock_session(stripe_mock, session)

    response = await client.put(
        f"/v1/checkout-sessions/{SID}/shipping",
        json={"shipping_rate_id": "express"},
        headers=token_for(),
    )

    assert response.status_code == 422
    assert response.json()["code"] == "country_not_served"
    assert no_write(stripe_mock)


@pytest.mark.asyncio
async def test_a_country_no_rate_serves_is_refused_before_stripe_is_written(
    client: httpx.AsyncClient, stripe_mock: respx.MockRouter
):
    mock_session(stripe_mock, session_with())
    to_brazil = {**ADDRESS, "address": {**ADDRESS["address"], "country": "BR"}}

    response = await put_address(client, to_brazil)

    assert response.status_code == 422
    assert response.json()["code"] == "country_not_served"
    assert no_write(stripe_mock)


@pytest.mark.asyncio
async def test_the_same_address_again_writes_nothing(
    client: httpx.AsyncClient, stripe_mock: respx.MockRouter
):
    held = {"name": "Ada Lovelace", "address": {**ADDRESS["address"], "country": "CA"}}
    session = session_with(
        metadata={"amount_updater_shipping": "standard"},
        total_details={"amount_discount": 0, "amount_shipping": 500, "amount_tax": 0},
        collected_information={"shipping_details": held},
    )
    mock_session(stripe_mock, session)

    response = await put_address(client, ADDRESS)

    assert response.status_code == 200, response.text
    assert no_write(stripe_mock)


class TestWithoutAddressCollection:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return Settings(**{**settings.model_dump(), "collect_shipping_address": False})

    @pytest.mark.asyncio
    async def test_the_route_refuses(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        response = await put_address(client, ADDRESS)
        assert response.status_code == 422
        assert "AMOUNT_UPDATER_COLLECT_SHIPPING_ADDRESS" in response.json()["detail"]
        assert not stripe_mock.calls


@pytest.mark.asyncio
async def test_the_catalog_lists_the_rates_serving_a_country(client: httpx.AsyncClient):
    rates = (await client.get("/v1/catalog", params={"currency": "usd", "country": "jp"})).json()
    assert [rate["id"] for rate in rates["shipping_rates"]] == ["standard"]

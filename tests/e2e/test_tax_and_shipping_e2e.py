"""Automatic tax and shipping by address, end to end: the real service process, started with
automatic tax and address collection on, against the emulator, which computes tax at its sandbox
rates (emulator/sandbox_tax.py: US 7.25 %, CA 13 %, JP 10 %, ...). Every cart answer reports the
tax and total Stripe holds, and each change of address or cart is one Stripe write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from stripe_emulator import EmulatorState
from tests.e2e.conftest import API_KEY
from tests.support.service_process import running_service

SHOPPER: dict[str, Any] = {
    "name": "Ada Lovelace",
    "address": {"line1": "24 Sussex Drive", "city": "Ottawa"},
}


@pytest.fixture(scope="module")
def service_url(emulator_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {
        "AMOUNT_UPDATER_STRIPE_SECRET_KEY": "sk_test_e2e",
        "AMOUNT_UPDATER_RETURN_URL": "https://shop.example/checkout/return",
        "AMOUNT_UPDATER_STRIPE_API_BASE": emulator_url,
        "AMOUNT_UPDATER_API_KEYS": API_KEY,
        "AMOUNT_UPDATER_TOKEN_SECRET": "t" * 32,
        "AMOUNT_UPDATER_STRIPE_MAX_RETRIES": "0",
        "AMOUNT_UPDATER_AUTOMATIC_TAX": "true",
        "AMOUNT_UPDATER_COLLECT_SHIPPING_ADDRESS": "true",
    }
    with running_service(env, tmp_path_factory.mktemp("tax-service")) as url:
        yield url


def address(country: str, **fields: str) -> dict[str, Any]:
    return {**SHOPPER, "address": {**SHOPPER["address"], "country": country, **fields}}


class Shop:
    """One session, changed through the service; what Stripe (emulated) holds, read directly."""

    def __init__(
        self, api: httpx.Client, stripe_api: httpx.Client, state: EmulatorState, created: Any
    ):
        self.api, self.stripe_api, self.state = api, stripe_api, state
        self.id = created["id"]
        self.auth = {"Authorization": f"Bearer {created['token']}"}

    def change(self, method: str, path: str, body: Any = None, *, status: int = 200) -> Any:
        """The service's answer to one change, and how many Stripe writes it took."""
        before = self.state.write_count
        response = self.api.request(
            method, f"/v1/checkout-sessions/{self.id}{path}", json=body, headers=self.auth
        )
        assert response.status_code == status, response.text
        return response.json(), self.state.write_count - before

    def held(self) -> Any:
        session = self.stripe_api.get(
            f"/v1/checkout/sessions/{self.id}", params={"expand[]": "line_items"}
        )
        assert session.status_code == 200, session.text
        return session.json()


def expect_cart(shop: Shop, cart: Any, *, tax: int, total: int) -> Any:
    """The cart reports exactly Stripe's tax, its status and the total, and they are the ones
    expected."""
    held = shop.held()
    assert (cart["amount_tax"], cart["amount_total"]) == (tax, total)
    automatic = held["automatic_tax"]
    assert cart["tax_status"] == (automatic["status"] if automatic["enabled"] else None)
    assert (held["total_details"]["amount_tax"], held["amount_total"]) == (tax, total)
    return held


def test_address_and_cart_changes_update_tax_and_total_in_one_write(
    api: httpx.Client, stripe_api: httpx.Client, emulator_state: EmulatorState
):
    before = emulator_state.write_count
    created = api.post(
        "/v1/checkout-sessions",
        json={
            "currency": "usd",
            "items": [{"product_id": "tshirt"}],
            "shipping_rate_id": "express",
        },
    )
    assert created.status_code == 201, created.text
    assert emulator_state.write_count - before == 1
    shop = Shop(api, stripe_api, emulator_state, created.json())

    # Created: tax on, but Stripe needs an address first; addresses in the served countries only.
    held = expect_cart(shop, created.json()["cart"], tax=0, total=2500 + 1500)
    assert held["automatic_tax"]["enabled"] is True
    assert held["automatic_tax"]["status"] == "requires_location_inputs"
    assert held["shipping_address_collection"] == {
        "allowed_countries": ["CA", "DE", "FR", "GB", "JP", "KW", "US"]
    }
    assert held["permissions"] == {"update_shipping_details": "server_only"}
    [line] = held["line_items"]["data"]
    assert line["price"]["tax_behavior"] == "exclusive"
    assert held["shipping_cost"]["amount_subtotal"] == 1500

    # Canada: both rates serve it. One write sets the address; 13 % of 25.00 and of 15.00.
    cart, writes = shop.change("PUT", "/shipping-address", address("CA", postal_code="K1M 1M4"))
    assert writes == 1
    assert cart["shipping"]["rate_id"] == "express"
    held = expect_cart(shop, cart, tax=325 + 195, total=2500 + 1500 + 520)
    assert held["automatic_tax"]["status"] == "complete"
    assert held["collected_information"]["shipping_details"] == {
        "name": "Ada Lovelace",
        "address": {
            "city": "Ottawa",
            "country": "CA",
            "line1": "24 Sussex Drive",
            "line2": None,
            "postal_code": "K1M 1M4",
            "state": None,
        },
    }
    assert held["line_items"]["data"][0]["amount_tax"] == 325
    assert held["shipping_cost"]["amount_tax"] == 195

    # Japan: express does not ship there. The same single write sets the address and the
    # cheapest rate that serves it; 10 % of 25.00 and of 5.00.
    cart, writes = shop.change("PUT", "/shipping-address", address("JP", city="Tokyo"))
    assert writes == 1
    assert cart["shipping"] == {"rate_id": "standard", "name": "Standard Shipping", "amount": 500}
    held = expect_cart(shop, cart, tax=250 + 50, total=2500 + 500 + 300)
    assert held["collected_information"]["shipping_details"]["address"]["country"] == "JP"
    [option] = held["shipping_options"]
    assert option["shipping_amount"] == 500
    assert held["shipping_cost"] == {
        "amount_subtotal": 500,
        "amount_tax": 50,
        "amount_total": 550,
        "shipping_rate": option["shipping_rate"],
    }

    # An add-on: line items, tax and total change together, in one write.
    cart, writes = shop.change("POST", "/items", {"product_id": "gift_wrap"})
    assert writes == 1
    held = expect_cart(shop, cart, tax=250 + 50 + 50, total=3000 + 500 + 350)
    assert [item["amount_tax"] for item in held["line_items"]["data"]] == [250, 50]

    # A discount lowers the prices Stripe holds, and the tax follows them: 10 % of 22.50, of
    # 4.50 and of the 5.00 shipping.
    cart, writes = shop.change("PUT", "/discount", {"code": "SAVE10"})
    assert writes == 1
    expect_cart(shop, cart, tax=225 + 45 + 50, total=2700 + 500 + 320)

    # The rates the catalog offers for the address's country.
    listing = api.get("/v1/catalog", params={"currency": "usd", "country": "JP"}).json()
    assert [rate["id"] for rate in listing["shipping_rates"]] == ["standard"]

    # Refused without a write: express to Japan, and a country no rate serves.
    refused, writes = shop.change("PUT", "/shipping", {"shipping_rate_id": "express"}, status=422)
    assert (refused["code"], refused["country"], writes) == ("country_not_served", "JP", 0)
    refused, writes = shop.change("PUT", "/shipping-address", address("BR"), status=422)
    assert (refused["code"], writes) == ("country_not_served", 0)
    expect_cart(shop, shop.change("GET", "")[0], tax=320, total=3520)

    # Paying charges the total with its tax.
    paid = stripe_api.post(f"/v1/test_helpers/checkout/sessions/{shop.id}/complete")
    assert paid.status_code == 200, paid.text
    assert emulator_state.payment_intents[paid.json()["payment_intent"]]["amount"] == 3520


def test_without_an_address_the_tax_stays_zero_through_changes(
    api: httpx.Client, stripe_api: httpx.Client, emulator_state: EmulatorState
):
    created = api.post(
        "/v1/checkout-sessions", json={"currency": "usd", "items": [{"product_id": "mug"}]}
    )
    assert created.status_code == 201, created.text
    shop = Shop(api, stripe_api, emulator_state, created.json())
    expect_cart(shop, created.json()["cart"], tax=0, total=1200)
    cart, writes = shop.change("PATCH", "/items/mug", {"quantity": 3})
    assert writes == 1
    held = expect_cart(shop, cart, tax=0, total=3600)
    assert held["automatic_tax"]["status"] == "requires_location_inputs"
    # The first address picks the cheapest rate serving it (none was chosen): 7.25 % of 36.00
    # and of 5.00 in the US.
    cart, writes = shop.change("PUT", "/shipping-address", address("US", state="CA"))
    assert writes == 1
    assert cart["shipping"]["rate_id"] == "standard"
    expect_cart(shop, cart, tax=261 + 36, total=3600 + 500 + 297)

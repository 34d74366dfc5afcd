"""Tax, shipping options and customer details on Checkout Sessions, with Stripe mocked at the
wire: the assertions read the form body Stripe would receive (issue 17)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import respx
from asgi_lifespan import LifespanManager

from amount_updater.config import Settings
from tests.api.test_checkout_sessions import SID, no_write, token_for
from tests.conftest import API_KEY, RETURN_URL, build_app
from tests.support.stripe_objects import (
    checkout_session,
    form,
    line_item,
    line_items_sent,
    product_line,
)

CREATE_URL = "/v1/checkout/sessions"
SESSION_URL = f"/v1/checkout/sessions/{SID}"
SERVER = {"X-API-Key": API_KEY}
OPTION = "shipping_options[0][shipping_rate_data]"
GOODS = "txcd_99999999"  # the sample catalog's tax code for every product
SHIPPING = "txcd_92010001"  # and for every shipping rate


def with_settings(base: Settings, **changes: Any) -> Settings:
    return Settings(**{**base.model_dump(), **changes})


@asynccontextmanager
async def client_with(
    base: Settings, stripe_mock: respx.MockRouter, **changes: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app built with `changes` to the test settings."""
    app = build_app(with_settings(base, **changes), stripe_mock)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


def with_totals(
    session: dict[str, Any],
    *,
    amount_tax: int = 0,
    amount_shipping: int = 0,
    amount_total: int | None = None,
) -> dict[str, Any]:
    """`session` with Stripe's total_details; the total is Stripe's sum unless given."""
    if amount_total is None:
        amount_total = session["amount_subtotal"] + amount_shipping + amount_tax
    return {
        **session,
        "amount_total": amount_total,
        "total_details": {
            "amount_discount": 0,
            "amount_shipping": amount_shipping,
            "amount_tax": amount_tax,
        },
    }


def new_line(name: str, unit_amount: int, product_id: str, quantity: int = 1) -> dict[str, str]:
    """A new line item as sent to Stripe (a flat entry of `line_items_sent`)."""
    return {
        "[price_data][currency]": "usd",
        "[price_data][product_data][name]": name,
        "[price_data][product_data][tax_code]": GOODS,
        "[price_data][tax_behavior]": "exclusive",
        "[price_data][unit_amount]": str(unit_amount),
        "[quantity]": str(quantity),
        "[metadata][product_id]": product_id,
    }


def shipping_option_sent(
    name: str, amount: int, minimum: int, maximum: int, currency: str = "usd"
) -> dict[str, str]:
    """The one shipping option of a sample catalog rate, as sent to Stripe."""
    return {
        f"{OPTION}[display_name]": name,
        f"{OPTION}[type]": "fixed_amount",
        f"{OPTION}[fixed_amount][amount]": str(amount),
        f"{OPTION}[fixed_amount][currency]": currency,
        f"{OPTION}[tax_behavior]": "exclusive",
        f"{OPTION}[tax_code]": SHIPPING,
        f"{OPTION}[delivery_estimate][minimum][unit]": "business_day",
        f"{OPTION}[delivery_estimate][minimum][value]": str(minimum),
        f"{OPTION}[delivery_estimate][maximum][unit]": "business_day",
        f"{OPTION}[delivery_estimate][maximum][value]": str(maximum),
    }


STANDARD = shipping_option_sent("Standard Shipping", 500, 3, 5)
EXPRESS = shipping_option_sent("Express Shipping", 1500, 1, 2)


def options_in(body: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in body.items() if key.startswith("shipping_options")}


def mock_create(stripe_mock: respx.MockRouter, session: dict[str, Any] | None = None):
    session = session or checkout_session(
        id="cs_test_new",
        line_items=[product_line("hoodie", "Hoodie", 5500, 1)],
        metadata={"amount_updater_rev": "1"},
    )
    return stripe_mock.post(CREATE_URL).respond(200, json=session)


def mock_session(
    stripe_mock: respx.MockRouter, session: dict[str, Any], answer: dict[str, Any] | None = None
) -> respx.Route:
    """GET returns `session`; POST answers `answer` (default: the session itself)."""
    stripe_mock.get(SESSION_URL).respond(200, json=session)
    return stripe_mock.post(SESSION_URL).respond(
        200, json={**(answer or session), "line_items": None}
    )


HOODIE = {"currency": "usd", "items": [{"product_id": "hoodie"}]}


def create_body(**extra: str) -> dict[str, str]:
    """Every field of the create call for HOODIE with the default settings, plus `extra`."""
    return {
        "mode": "payment",
        "ui_mode": "elements",
        "currency": "usd",
        **{
            f"line_items[0]{key}": value
            for key, value in new_line("Hoodie", 5500, "hoodie").items()
        },
        "metadata[amount_updater_rev]": "1",
        "return_url": RETURN_URL,
        "expand[0]": "line_items",
        **extra,
    }


# --- Creating a session -----------------------------------------------------------------------


class TestCreateTax:
    @pytest.mark.asyncio
    async def test_the_default_create_call_carries_tax_codes_and_nothing_else_new(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        create = mock_create(stripe_mock)

        response = await client.post("/v1/checkout-sessions", json=HOODIE)

        assert response.status_code == 201, response.text
        assert form(create.calls.last.request.content) == create_body()

    @pytest.mark.asyncio
    async def test_every_line_carries_its_tax_code_and_the_catalogs_tax_behaviour(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        create = mock_create(stripe_mock)

        response = await client.post(
            "/v1/checkout-sessions",
            json={
                "currency": "usd",
                "items": [
                    {"product_id": "tshirt", "quantity": 2},
                    {"product_id": "mug"},
                    {"product_id": "gift_wrap"},
                ],
            },
        )

        assert response.status_code == 201, response.text
        assert line_items_sent(create.calls.last.request.content) == [
            new_line("T-shirt", 2500, "tshirt", 2),
            new_line("Mug", 1200, "mug"),
            new_line("Gift Wrap", 500, "gift_wrap"),
        ]

    @pytest.mark.asyncio
    async def test_a_discounted_line_keeps_its_tax_code(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        create = mock_create(stripe_mock)

        response = await client.post(
            "/v1/checkout-sessions",
            json={
                "currency": "usd",
                "items": [{"product_id": "tshirt", "quantity": 2}],
                "discount_code": "SAVE10",
            },
        )

        assert response.status_code == 201, response.text
        assert line_items_sent(create.calls.last.request.content) == [
            new_line("T-shirt", 2250, "tshirt", 2)
        ]

    @pytest.mark.asyncio
    async def test_the_answer_reports_stripes_tax_and_total(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        created = with_totals(
            checkout_session(
                id="cs_test_new",
                line_items=[product_line("hoodie", "Hoodie", 5500, 1)],
                metadata={"amount_updater_rev": "1"},
            ),
            amount_tax=481,
        )
        mock_create(stripe_mock, created)

        response = await client.post("/v1/checkout-sessions", json=HOODIE)

        assert response.status_code == 201, response.text
        cart = response.json()["cart"]
        assert cart["amount_tax"] == 481
        assert cart["amount_total"] == 5981
        assert cart["amount_subtotal"] == 5500
        assert cart["tax_status"] is None  # the session has no automatic tax

    @pytest.mark.asyncio
    async def test_the_answer_reports_stripe_taxs_status(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        created = checkout_session(
            id="cs_test_new",
            line_items=[product_line("hoodie", "Hoodie", 5500, 1)],
            metadata={"amount_updater_rev": "1"},
        )
        created["automatic_tax"] = {
            "enabled": True,
            "liability": {"type": "self"},
            "provider": "stripe",
            "status": "requires_location_inputs",
        }
        mock_create(stripe_mock, created)

        response = await client.post("/v1/checkout-sessions", json=HOODIE)

        assert response.status_code == 201, response.text
        assert response.json()["cart"]["tax_status"] == "requires_location_inputs"


class TestCreateShipping:
    @pytest.mark.parametrize(
        ("rate_id", "expected"), [("standard", STANDARD), ("express", EXPRESS)]
    )
    @pytest.mark.asyncio
    async def test_shipping_is_the_sessions_shipping_option_not_a_line_item(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, rate_id, expected
    ):
        create = mock_create(stripe_mock)

        response = await client.post(
            "/v1/checkout-sessions", json={**HOODIE, "shipping_rate_id": rate_id}
        )

        assert response.status_code == 201, response.text
        body = form(create.calls.last.request.content)
        assert body == create_body(**expected, **{"metadata[amount_updater_shipping]": rate_id})
        assert len(line_items_sent(create.calls.last.request.content)) == 1

    @pytest.mark.parametrize(("currency", "amount"), [("eur", 450), ("jpy", 600), ("kwd", 1500)])
    @pytest.mark.asyncio
    async def test_the_option_is_priced_in_the_sessions_currency(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, currency, amount
    ):
        create = mock_create(stripe_mock)

        response = await client.post(
            "/v1/checkout-sessions",
            json={
                "currency": currency,
                "items": [{"product_id": "mug"}],
                "shipping_rate_id": "standard",
            },
        )

        assert response.status_code == 201, response.text
        body = form(create.calls.last.request.content)
        assert options_in(body) == shipping_option_sent("Standard Shipping", amount, 3, 5, currency)

    @pytest.mark.asyncio
    async def test_the_answer_shows_the_shipping_and_stripes_total(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        created = with_totals(
            checkout_session(
                id="cs_test_new",
                line_items=[product_line("hoodie", "Hoodie", 5500, 1)],
                metadata={"amount_updater_rev": "1", "amount_updater_shipping": "express"},
            ),
            amount_shipping=1500,
            amount_tax=560,
        )
        mock_create(stripe_mock, created)

        response = await client.post(
            "/v1/checkout-sessions", json={**HOODIE, "shipping_rate_id": "express"}
        )

        assert response.status_code == 201, response.text
        cart = response.json()["cart"]
        assert cart["shipping"] == {
            "rate_id": "express",
            "name": "Express Shipping",
            "amount": 1500,
        }
        assert cart["amount_shipping"] == 1500
        assert cart["amount_tax"] == 560
        assert cart["amount_total"] == 5500 + 1500 + 560
        assert cart["other_items"] == []  # no shipping line item to show

    @pytest.mark.asyncio
    async def test_no_shipping_sends_no_shipping_options(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        create = mock_create(stripe_mock)

        response = await client.post("/v1/checkout-sessions", json=HOODIE)

        assert response.status_code == 201, response.text
        body = form(create.calls.last.request.content)
        assert options_in(body) == {}
        assert "metadata[amount_updater_shipping]" not in body


class TestAutomaticTax:
    @pytest.mark.asyncio
    async def test_the_operators_setting_turns_on_automatic_tax(
        self, settings: Settings, stripe_mock: respx.MockRouter
    ):
        create = mock_create(stripe_mock)

        async with client_with(settings, stripe_mock, automatic_tax=True) as client:
            response = await client.post("/v1/checkout-sessions", json=HOODIE)

        assert response.status_code == 201, response.text
        assert form(create.calls.last.request.content) == create_body(
            **{"automatic_tax[enabled]": "true"}
        )

    @pytest.mark.asyncio
    async def test_an_api_key_caller_may_turn_it_off(
        self, settings: Settings, stripe_mock: respx.MockRouter
    ):
        create = mock_create(stripe_mock)

        async with client_with(settings, stripe_mock, automatic_tax=True) as client:
            response = await client.post(
                "/v1/checkout-sessions", json={**HOODIE, "automatic_tax": False}, headers=SERVER
            )

        assert response.status_code == 201, response.text
        assert form(create.calls.last.request.content) == create_body()

    @pytest.mark.asyncio
    async def test_an_api_key_caller_may_turn_it_on(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        create = mock_create(stripe_mock)

        response = await client.post(
            "/v1/checkout-sessions", json={**HOODIE, "automatic_tax": True}, headers=SERVER
        )

        assert response.status_code == 201, response.text
        assert form(create.calls.last.request.content)["automatic_tax[enabled]"] == "true"

    @pytest.mark.asyncio
    async def test_an_api_key_caller_that_says_nothing_gets_the_operators_setting(
        self, settings: Settings, stripe_mock: respx.MockRouter
    ):
        create = mock_create(stripe_mock)

        async with client_with(settings, stripe_mock, automatic_tax=True) as client:
            response = await client.post("/v1/checkout-sessions", json=HOODIE, headers=SERVER)

        assert response.status_code == 201, response.text
        assert form(create.calls.last.request.content)["automatic_tax[enabled]"] == "true"


class TestAddressCollection:
    @pytest.mark.asyncio
    async def test_collects_the_address_in_every_country_a_rate_serves(
        self, settings: Settings, stripe_mock: respx.MockRouter
    ):
        create = mock_create(stripe_mock)

        async with client_with(settings, stripe_mock, collect_shipping_address=True) as client:
            response = await client.post("/v1/checkout-sessions", json=HOODIE)

        assert response.status_code == 201, response.text
        countries = ["CA", "DE", "FR", "GB", "JP", "KW", "US"]  # sorted union of both rates
        assert form(create.calls.last.request.content) == create_body(
            **{
                f"shipping_address_collection[allowed_countries][{n}]": country
                for n, country in enumerate(countries)
            },
            **{"permissions[update_shipping_details]": "server_only"},
        )

    @pytest.mark.asyncio
    async def test_with_automatic_tax_and_shipping_all_go_in_one_create(
        self, settings: Settings, stripe_mock: respx.MockRouter
    ):
        create = mock_create(stripe_mock)

        async with client_with(
            settings, stripe_mock, collect_shipping_address=True, automatic_tax=True
        ) as client:
            response = await client.post(
                "/v1/checkout-sessions", json={**HOODIE, "shipping_rate_id": "standard"}
            )

        assert response.status_code == 201, response.text
        assert len(create.calls) == 1
        body = form(create.calls.last.request.content)
        assert body["automatic_tax[enabled]"] == "true"
        assert body["permissions[update_shipping_details]"] == "server_only"
        assert body["shipping_address_collection[allowed_countries][6]"] == "US"
        assert options_in(body) == STANDARD


class TestCustomerDetails:
    @pytest.mark.asyncio
    async def test_a_shoppers_page_may_give_an_email(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        create = mock_create(stripe_mock)

        response = await client.post(
            "/v1/checkout-sessions", json={**HOODIE, "customer_email": "ada@example.com"}
        )

        assert response.status_code == 201, response.text
        assert form(create.calls.last.request.content) == create_body(
            customer_email="ada@example.com"
        )

    @pytest.mark.asyncio
    async def test_a_server_may_give_customer_reference_metadata_and_locale(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        create = mock_create(stripe_mock)

        response = await client.post(
            "/v1/checkout-sessions",
            json={
                **HOODIE,
                "customer": "cus_Q1w2e3R4",
                "client_reference_id": "order-1042",
                "metadata": {"order_id": "1042", "channel": "web"},
                "locale": "fr",
            },
            headers=SERVER,
        )

        assert response.status_code == 201, response.text
        assert form(create.calls.last.request.content) == create_body(
            customer="cus_Q1w2e3R4",
            client_reference_id="order-1042",
            locale="fr",
            **{"metadata[order_id]": "1042", "metadata[channel]": "web"},
        )

    @pytest.mark.asyncio
    async def test_a_server_may_give_an_email_and_a_regional_locale(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        create = mock_create(stripe_mock)

        response = await client.post(
            "/v1/checkout-sessions",
            json={**HOODIE, "customer_email": "ada@example.com", "locale": "fr-CA"},
            headers=SERVER,
        )

        assert response.status_code == 201, response.text
        assert form(create.calls.last.request.content) == create_body(
            customer_email="ada@example.com", locale="fr-CA"
        )

    @pytest.mark.asyncio
    async def test_the_callers_metadata_goes_next_to_the_services_own(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        create = mock_create(stripe_mock)

        response = await client.post(
            "/v1/checkout-sessions",
            json={
                **HOODIE,
                "shipping_rate_id": "standard",
                "discount_code": "SAVE10",
                "metadata": {"order_id": "1042"},
            },
            headers=SERVER,
        )

        assert response.status_code == 201, response.text
        body = form(create.calls.last.request.content)
        assert {k: v for k, v in body.items() if k.startswith("metadata[")} == {
            "metadata[order_id]": "1042",
            "metadata[amount_updater_rev]": "1",
            "metadata[amount_updater_discount]": "SAVE10",
            "metadata[amount_updater_shipping]": "standard",
        }


class TestCreateRefusals:
    """Every refusal answers a problem and sends nothing to Stripe."""

    @pytest.mark.parametrize(
        "extra",
        [
            {"customer": "cus_Q1w2e3R4"},
            {"client_reference_id": "order-1042"},
            {"metadata": {"order_id": "1042"}},
            {"locale": "fr"},
            {"automatic_tax": True},
            {"automatic_tax": False},
        ],
        ids=lambda extra: "-".join(f"{k}={v}" for k, v in extra.items()),
    )
    @pytest.mark.asyncio
    async def test_a_shoppers_page_may_not_set_server_fields(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, extra
    ):
        response = await client.post("/v1/checkout-sessions", json={**HOODIE, **extra})

        assert response.status_code == 403, response.text
        assert response.json()["code"] == "forbidden"
        assert next(iter(extra)) in response.json()["detail"]
        assert not stripe_mock.calls

    @pytest.mark.asyncio
    async def test_the_services_own_metadata_keys_are_refused(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        response = await client.post(
            "/v1/checkout-sessions",
            json={**HOODIE, "metadata": {"amount_updater_x": "1", "order_id": "1042"}},
            headers=SERVER,
        )

        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["code"] == "invalid_request"
        assert problem["field"] == "metadata"
        assert "amount_updater_x" in problem["detail"]
        assert not stripe_mock.calls

    @pytest.mark.asyncio
    async def test_customer_and_customer_email_together_are_refused(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        response = await client.post(
            "/v1/checkout-sessions",
            json={**HOODIE, "customer": "cus_Q1w2e3R4", "customer_email": "ada@example.com"},
            headers=SERVER,
        )

        assert response.status_code == 422, response.text
        assert response.json()["code"] == "invalid_request"
        assert response.json()["field"] == "customer_email"
        assert not stripe_mock.calls

    @pytest.mark.parametrize(
        "extra",
        [
            {"metadata": {f"key{n}": "v" for n in range(21)}},
            {"metadata": {"bad key": "v"}},
            {"customer": "not-a-customer"},
            {"customer_email": "not-an-email"},
            {"locale": "French"},
        ],
        ids=["21-metadata-keys", "metadata-key-shape", "customer", "email", "locale"],
    )
    @pytest.mark.asyncio
    async def test_malformed_details_are_refused(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, extra
    ):
        response = await client.post(
            "/v1/checkout-sessions", json={**HOODIE, **extra}, headers=SERVER
        )

        assert response.status_code == 422, response.text
        assert response.json()["code"] == "invalid_request"
        assert not stripe_mock.calls


# --- Changing a session -----------------------------------------------------------------------


def legacy_session() -> dict[str, Any]:
    """A session written before shipping options: shipping is a line item tagged with its rate."""
    return checkout_session(
        line_items=[
            product_line("tshirt", "T-shirt", 2500, 1, id="li_shirt"),
            line_item(
                description="Standard Shipping",
                unit_amount=500,
                metadata={"shipping_rate_id": "standard"},
                id="li_ship",
            ),
            line_item(description="Engraving (added by the shop)", unit_amount=700, id="li_other"),
        ],
        metadata={"amount_updater_rev": "3"},
    )


def session_with_option(rate_id: str = "standard", amount_shipping: int = 500, **totals: int):
    """A session whose shipping is the option of `rate_id`, as the service now writes it."""
    return with_totals(
        checkout_session(
            line_items=[product_line("tshirt", "T-shirt", 2500, 1, id="li_shirt")],
            metadata={"amount_updater_rev": "4", "amount_updater_shipping": rate_id},
        ),
        amount_shipping=amount_shipping,
        **totals,
    )


class TestLegacyShippingLine:
    @pytest.mark.asyncio
    async def test_a_change_drops_the_shipping_line_and_sends_the_option(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        update = mock_session(stripe_mock, legacy_session())

        response = await client.post(
            f"/v1/checkout-sessions/{SID}/items", json={"product_id": "mug"}, headers=token_for()
        )

        assert response.status_code == 200, response.text
        content = update.calls.last.request.content
        assert line_items_sent(content) == [
            {"[id]": "li_shirt"},
            {"[id]": "li_other"},  # li_ship left out: Stripe deletes it
            new_line("Mug", 1200, "mug"),
        ]
        body = form(content)
        assert options_in(body) == STANDARD
        assert body["metadata[amount_updater_shipping]"] == "standard"
        assert body["metadata[amount_updater_rev]"] == "4"
        cart = response.json()
        assert cart["shipping"] == {
            "rate_id": "standard",
            "name": "Standard Shipping",
            "amount": 500,
        }
        assert [o["line_item_id"] for o in cart["other_items"]] == ["li_other"]

    @pytest.mark.asyncio
    async def test_a_change_that_keeps_the_cart_still_migrates_the_shipping_line(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        update = mock_session(stripe_mock, legacy_session())

        response = await client.put(
            f"/v1/checkout-sessions/{SID}/shipping",
            json={"shipping_rate_id": "standard"},
            headers=token_for(),
        )

        assert response.status_code == 200, response.text
        assert len(update.calls) == 1
        content = update.calls.last.request.content
        assert line_items_sent(content) == [{"[id]": "li_shirt"}, {"[id]": "li_other"}]
        assert options_in(form(content)) == STANDARD

    @pytest.mark.asyncio
    async def test_a_new_rate_replaces_the_shipping_line_with_its_option(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        update = mock_session(stripe_mock, legacy_session())

        response = await client.put(
            f"/v1/checkout-sessions/{SID}/shipping",
            json={"shipping_rate_id": "express"},
            headers=token_for(),
        )

        assert response.status_code == 200, response.text
        content = update.calls.last.request.content
        assert line_items_sent(content) == [{"[id]": "li_shirt"}, {"[id]": "li_other"}]
        body = form(content)
        assert options_in(body) == EXPRESS
        assert body["metadata[amount_updater_shipping]"] == "express"

    @pytest.mark.asyncio
    async def test_removing_shipping_drops_the_line_and_clears_the_options(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        update = mock_session(stripe_mock, legacy_session())

        response = await client.delete(f"/v1/checkout-sessions/{SID}/shipping", headers=token_for())

        assert response.status_code == 200, response.text
        content = update.calls.last.request.content
        assert line_items_sent(content) == [{"[id]": "li_shirt"}, {"[id]": "li_other"}]
        body = form(content)
        assert options_in(body) == {"shipping_options": ""}
        assert body["metadata[amount_updater_shipping]"] == ""
        assert response.json()["shipping"] is None


class TestShippingOption:
    @pytest.mark.asyncio
    async def test_removing_shipping_clears_the_options_and_the_recorded_rate(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        update = mock_session(stripe_mock, session_with_option())

        response = await client.delete(f"/v1/checkout-sessions/{SID}/shipping", headers=token_for())

        assert response.status_code == 200, response.text
        content = update.calls.last.request.content
        assert line_items_sent(content) == [{"[id]": "li_shirt"}]
        body = form(content)
        assert options_in(body) == {"shipping_options": ""}
        assert body["metadata[amount_updater_shipping]"] == ""
        cart = response.json()
        assert cart["shipping"] is None
        assert cart["amount_shipping"] == 0

    @pytest.mark.asyncio
    async def test_an_unchanged_cart_with_its_option_in_place_writes_nothing(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        mock_session(stripe_mock, session_with_option(amount_tax=208))

        response = await client.put(
            f"/v1/checkout-sessions/{SID}/shipping",
            json={"shipping_rate_id": "standard"},
            headers=token_for(),
        )

        assert response.status_code == 200, response.text
        assert no_write(stripe_mock)
        cart = response.json()
        assert cart["shipping"] == {
            "rate_id": "standard",
            "name": "Standard Shipping",
            "amount": 500,
        }
        assert cart["amount_shipping"] == 500
        assert cart["amount_tax"] == 208
        assert cart["amount_total"] == 2500 + 500 + 208

    @pytest.mark.asyncio
    async def test_an_option_stripe_holds_at_another_amount_is_sent_again(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        # Written when the catalog's standard rate cost 400.
        update = mock_session(stripe_mock, session_with_option(amount_shipping=400))

        response = await client.put(
            f"/v1/checkout-sessions/{SID}/shipping",
            json={"shipping_rate_id": "standard"},
            headers=token_for(),
        )

        assert response.status_code == 200, response.text
        content = update.calls.last.request.content
        assert line_items_sent(content) == [{"[id]": "li_shirt"}]
        assert options_in(form(content)) == STANDARD

    @pytest.mark.asyncio
    async def test_a_new_rate_replaces_the_option(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        update = mock_session(stripe_mock, session_with_option())

        response = await client.put(
            f"/v1/checkout-sessions/{SID}/shipping",
            json={"shipping_rate_id": "express"},
            headers=token_for(),
        )

        assert response.status_code == 200, response.text
        body = form(update.calls.last.request.content)
        assert options_in(body) == EXPRESS
        assert body["metadata[amount_updater_shipping]"] == "express"
        assert body["metadata[amount_updater_rev]"] == "5"

    @pytest.mark.asyncio
    async def test_adding_shipping_to_a_session_without_it_sends_the_option(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        session = checkout_session(
            line_items=[product_line("tshirt", "T-shirt", 2500, 1, id="li_shirt")],
            metadata={"amount_updater_rev": "1"},
        )
        update = mock_session(stripe_mock, session)

        response = await client.put(
            f"/v1/checkout-sessions/{SID}/shipping",
            json={"shipping_rate_id": "standard"},
            headers=token_for(),
        )

        assert response.status_code == 200, response.text
        content = update.calls.last.request.content
        assert line_items_sent(content) == [{"[id]": "li_shirt"}]
        body = form(content)
        assert options_in(body) == STANDARD
        assert body["metadata[amount_updater_shipping]"] == "standard"

    @pytest.mark.asyncio
    async def test_a_change_elsewhere_leaves_the_option_alone(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        update = mock_session(stripe_mock, session_with_option())

        response = await client.post(
            f"/v1/checkout-sessions/{SID}/items", json={"product_id": "mug"}, headers=token_for()
        )

        assert response.status_code == 200, response.text
        content = update.calls.last.request.content
        assert line_items_sent(content) == [{"[id]": "li_shirt"}, new_line("Mug", 1200, "mug")]
        body = form(content)
        assert options_in(body) == {}  # Stripe keeps the option it has
        assert body["metadata[amount_updater_shipping]"] == "standard"


class TestTaxInAnswers:
    @pytest.mark.asyncio
    async def test_the_cart_reports_the_tax_and_total_stripe_holds(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        mock_session(stripe_mock, session_with_option(amount_tax=208, amount_total=3208))

        response = await client.get(f"/v1/checkout-sessions/{SID}", headers=token_for())

        assert response.status_code == 200, response.text
        cart = response.json()
        assert cart["amount_tax"] == 208
        assert cart["amount_total"] == 3208
        assert cart["amount_subtotal"] == 2500
        assert cart["amount_shipping"] == 500

    @pytest.mark.asyncio
    async def test_a_session_without_total_details_reports_zero_tax(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        session = checkout_session(
            line_items=[product_line("tshirt", "T-shirt", 2500, 1, id="li_shirt")]
        )
        mock_session(stripe_mock, session)

        response = await client.get(f"/v1/checkout-sessions/{SID}", headers=token_for())

        assert response.status_code == 200, response.text
        assert response.json()["amount_tax"] == 0
        assert response.json()["amount_total"] == 2500

    @pytest.mark.asyncio
    async def test_after_a_change_the_cart_reports_the_tax_stripe_answered(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        before = session_with_option(amount_tax=208)
        after = with_totals(
            {**before, "amount_subtotal": 3700},
            amount_shipping=500,
            amount_tax=305,
            amount_total=4505,
        )
        mock_session(stripe_mock, before, answer=after)

        response = await client.post(
            f"/v1/checkout-sessions/{SID}/items", json={"product_id": "mug"}, headers=token_for()
        )

        assert response.status_code == 200, response.text
        cart = response.json()
        assert cart["amount_tax"] == 305  # Stripe's, never computed by the service
        assert cart["amount_total"] == 4505


PLAIN_CATALOG = """
[products.hoodie]
name = "Hoodie"
prices = { usd = 5500 }

[shipping.post]
name = "Post"
prices = { usd = 700 }
"""


class TestCatalogWithoutTaxSettings:
    @pytest.mark.asyncio
    async def test_lines_and_option_leave_tax_to_the_stripe_accounts_defaults(
        self, settings: Settings, stripe_mock: respx.MockRouter, tmp_path
    ):
        path = tmp_path / "catalog.toml"
        path.write_text(PLAIN_CATALOG, encoding="utf-8")
        create = mock_create(stripe_mock)

        async with client_with(settings, stripe_mock, catalog_path=path) as client:
            response = await client.post(
                "/v1/checkout-sessions", json={**HOODIE, "shipping_rate_id": "post"}
            )

        assert response.status_code == 201, response.text
        content = create.calls.last.request.content
        assert line_items_sent(content) == [
            {
                "[price_data][currency]": "usd",
                "[price_data][product_data][name]": "Hoodie",
                "[price_data][unit_amount]": "5500",
                "[quantity]": "1",
                "[metadata][product_id]": "hoodie",
            }
        ]
        assert options_in(form(content)) == {
            f"{OPTION}[display_name]": "Post",
            f"{OPTION}[type]": "fixed_amount",
            f"{OPTION}[fixed_amount][amount]": "700",
            f"{OPTION}[fixed_amount][currency]": "usd",
        }


class TestRateGoneFromTheCatalog:
    @pytest.mark.asyncio
    async def test_its_option_is_cleared_rather_than_left_charging(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        update = mock_session(stripe_mock, session_with_option("teleport", amount_shipping=900))

        response = await client.delete(f"/v1/checkout-sessions/{SID}/shipping", headers=token_for())

        assert response.status_code == 200, response.text
        body = form(update.calls.last.request.content)
        assert body["shipping_options"] == ""
        assert body["metadata[amount_updater_shipping]"] == ""

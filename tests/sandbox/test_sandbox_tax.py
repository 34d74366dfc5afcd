"""The emulator's sandbox tax (emulator/sandbox_tax.py): a fixed rate per destination country,
exclusive amounts taxed on top, inclusive ones reporting the tax they hold, each line and the
shipping cost rounded half up to the currency's step; reported where Stripe reports tax."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from stripe_emulator.sandbox_tax import (
    SANDBOX_RATES,
    Tax,
    destination,
    rate_for,
    tax_on,
)

from .helpers import assert_error, post

SESSIONS = "/v1/checkout/sessions"
ADDRESS = "collected_information[shipping_details]"


def test_the_table_of_sandbox_rates():
    assert dict(SANDBOX_RATES) == {
        "US": 725,
        "CA": 1300,
        "GB": 2000,
        "DE": 1900,
        "FR": 2000,
        "JP": 1000,
        "KW": 0,
    }
    assert rate_for("CA") == 1300
    assert rate_for("BR") == 0  # not in the table: no tax
    assert rate_for(None) == 0


@pytest.mark.parametrize(
    ("amount", "behavior", "rate", "currency", "expected"),
    [
        # Exclusive: amount x rate, added to the total; .5 rounds up.
        (2500, "exclusive", 725, "usd", Tax(181, 181)),  # 181.25
        (1000, "exclusive", 725, "usd", Tax(73, 73)),  # 72.5
        (2, "exclusive", 2000, "usd", Tax(0, 0)),  # 0.4
        (3500, "exclusive", 1000, "jpy", Tax(350, 350)),  # zero-decimal: still one minor unit
        # unspecified is taken as exclusive (an account whose default is exclusive).
        (1000, "unspecified", 1300, "usd", Tax(130, 130)),
        # Inclusive: the part the amount holds, amount x rate / (1 + rate); nothing added.
        (1200, "inclusive", 2000, "eur", Tax(200, 0)),
        (1000, "inclusive", 1300, "cad", Tax(115, 0)),  # 115.04
        (1130, "inclusive", 1300, "cad", Tax(130, 0)),
        # Three-decimal currencies: a multiple of ten fils, rounded half up.
        (7500, "exclusive", 725, "kwd", Tax(540, 540)),  # 543.75
        (2000, "exclusive", 725, "kwd", Tax(150, 150)),  # 145: exactly half of the step
        (1550, "exclusive", 725, "kwd", Tax(110, 110)),  # 112.375
        (16500, "inclusive", 2000, "kwd", Tax(2750, 0)),  # 2750
        # A zero rate or a zero amount: no tax at all.
        (2500, "exclusive", 0, "usd", Tax(0, 0)),
        (0, "exclusive", 2000, "usd", Tax(0, 0)),
    ],
)
def test_tax_on_one_amount(amount, behavior, rate, currency, expected):
    assert tax_on(amount, behavior, rate, currency) == expected


def test_the_destination_needs_automatic_tax_and_a_country():
    located = {"shipping_details": {"address": {"country": "JP"}, "name": "Ada"}}
    assert destination({"automatic_tax": {"enabled": True}, "collected_information": located}) == (
        "JP"
    )
    assert destination({"automatic_tax": {"enabled": False}, "collected_information": located}) is (
        None
    )
    assert destination({"automatic_tax": {"enabled": True}, "collected_information": None}) is None


def line(index: int, name: str, unit_amount: int, quantity: int, behavior: str) -> dict[str, str]:
    prefix = f"line_items[{index}]"
    return {
        f"{prefix}[price_data][currency]": "usd",
        f"{prefix}[price_data][unit_amount]": str(unit_amount),
        f"{prefix}[price_data][tax_behavior]": behavior,
        f"{prefix}[price_data][product_data][name]": name,
        f"{prefix}[price_data][product_data][tax_code]": "txcd_99999999",
        f"{prefix}[quantity]": str(quantity),
    }


def shipping(amount: int = 500, behavior: str = "exclusive") -> dict[str, str]:
    prefix = "shipping_options[0][shipping_rate_data]"
    return {
        f"{prefix}[display_name]": "Standard Shipping",
        f"{prefix}[type]": "fixed_amount",
        f"{prefix}[fixed_amount][amount]": str(amount),
        f"{prefix}[fixed_amount][currency]": "usd",
        f"{prefix}[tax_behavior]": behavior,
        f"{prefix}[tax_code]": "txcd_92010001",
    }


def address(country: str) -> dict[str, str]:
    return {
        f"{ADDRESS}[name]": "Ada Lovelace",
        f"{ADDRESS}[address][line1]": "1 Main Street",
        f"{ADDRESS}[address][country]": country,
    }


# Two T-shirts at 25.00 excluding tax, a mug at 12.00 including tax, shipping 5.00 excluding.
CART = {
    "mode": "payment",
    "ui_mode": "elements",
    "return_url": "https://shop.example/return",
    "automatic_tax[enabled]": "true",
    "expand[0]": "line_items",
    **line(0, "T-shirt", 2500, 2, "exclusive"),
    **line(1, "Mug", 1200, 1, "inclusive"),
    **shipping(),
}


def taxes(session: dict[str, Any]) -> dict[str, Any]:
    """Every place the session reports tax, and its totals."""
    return {
        "lines": [
            (item["amount_subtotal"], item["amount_tax"], item["amount_total"])
            for item in session["line_items"]["data"]
        ],
        "shipping_cost": session["shipping_cost"],
        "total_details": session["total_details"],
        "amount_subtotal": session["amount_subtotal"],
        "amount_total": session["amount_total"],
        "status": session["automatic_tax"]["status"],
    }


async def created(http: httpx.AsyncClient) -> Any:
    response = await post(http, SESSIONS, CART)
    assert response.status_code == 200, response.text
    return response.json()


async def updated(http: httpx.AsyncClient, session_id: str, fields: dict[str, str]) -> Any:
    response = await post(http, f"{SESSIONS}/{session_id}", {**fields, "expand[0]": "line_items"})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.asyncio
async def test_no_tax_until_the_address_is_known(http):
    session = await created(http)
    assert taxes(session) == {
        "lines": [(5000, 0, 5000), (1200, 0, 1200)],
        "shipping_cost": {
            "amount_subtotal": 500,
            "amount_tax": 0,
            "amount_total": 500,
            "shipping_rate": session["shipping_options"][0]["shipping_rate"],
        },
        "total_details": {"amount_discount": 0, "amount_shipping": 500, "amount_tax": 0},
        "amount_subtotal": 6200,
        "amount_total": 6700,
        "status": "requires_location_inputs",
    }
    # Stripe's own provider name stays: the schema has no place for "sandbox".
    assert session["automatic_tax"]["provider"] == "stripe"


@pytest.mark.asyncio
async def test_a_canadian_address_is_taxed_per_line_and_on_shipping(http, state):
    session = await created(http)
    canada = await updated(http, session["id"], address("CA"))
    rate_id = session["shipping_options"][0]["shipping_rate"]
    # 13 %: 650 on the T-shirts (added), 138 held by the mug (1200 x 13/113 = 138.05, not
    # added), 65 on shipping (added).
    assert taxes(canada) == {
        "lines": [(5000, 650, 5650), (1200, 138, 1200)],
        "shipping_cost": {
            "amount_subtotal": 500,
            "amount_tax": 65,
            "amount_total": 565,
            "shipping_rate": rate_id,
        },
        "total_details": {"amount_discount": 0, "amount_shipping": 500, "amount_tax": 853},
        "amount_subtotal": 6200,
        "amount_total": 6200 + 500 + 650 + 65,
        "status": "complete",
    }
    # The same numbers on a read, on the line item list, and in what the emulator stores.
    read = (await http.get(f"{SESSIONS}/{session['id']}", params={"expand[]": "line_items"})).json()
    assert taxes(read) == taxes(canada)
    listed = (await http.get(f"{SESSIONS}/{session['id']}/line_items")).json()
    assert [item["amount_tax"] for item in listed["data"]] == [650, 138]
    stored = state.checkout_sessions[session["id"]]
    assert [item["amount_tax"] for item in stored["line_items"]] == [650, 138]


@pytest.mark.asyncio
async def test_a_new_address_or_cart_recomputes_the_tax(http):
    session = await created(http)
    await updated(http, session["id"], address("CA"))
    japan = await updated(http, session["id"], address("JP"))
    # 10 %: 500 + 109 (1200 x 10/110 = 109.09, held) + 50.
    assert taxes(japan)["lines"] == [(5000, 500, 5500), (1200, 109, 1200)]
    assert japan["shipping_cost"]["amount_tax"] == 50
    assert japan["total_details"]["amount_tax"] == 659
    assert japan["amount_total"] == 6200 + 500 + 500 + 50

    # One T-shirt fewer, the mug kept: the tax follows the new lines in the same write.
    first, mug = (item["id"] for item in japan["line_items"]["data"])
    fewer = await updated(
        http,
        session["id"],
        {
            "line_items[0][id]": first,
            "line_items[0][quantity]": "1",
            "line_items[1][id]": mug,
        },
    )
    assert taxes(fewer)["lines"] == [(2500, 250, 2750), (1200, 109, 1200)]
    assert fewer["amount_total"] == 3700 + 500 + 250 + 50

    # An inclusive shipping rate holds its tax: 500 x 10/110 = 45.45 -> 45, not added.
    inclusive = await updated(http, session["id"], shipping(500, "inclusive"))
    assert inclusive["shipping_cost"]["amount_tax"] == 45
    assert inclusive["shipping_cost"]["amount_total"] == 500
    assert inclusive["total_details"]["amount_tax"] == 250 + 109 + 45
    assert inclusive["amount_total"] == 3700 + 500 + 250

    # Kuwait (0 %) and a country without a sandbox rate: complete, no tax.
    for country in ("KW", "BR"):
        untaxed = await updated(http, session["id"], address(country))
        assert untaxed["automatic_tax"]["status"] == "complete"
        assert untaxed["total_details"]["amount_tax"] == 0
        assert [item["amount_tax"] for item in untaxed["line_items"]["data"]] == [0, 0]
        assert untaxed["amount_total"] == 3700 + 500


@pytest.mark.asyncio
async def test_without_automatic_tax_an_address_adds_no_tax(http):
    fields = {key: value for key, value in CART.items() if not key.startswith("automatic_tax")}
    session = (await post(http, SESSIONS, fields)).json()
    located = await updated(http, session["id"], address("GB"))
    assert located["automatic_tax"]["status"] is None
    assert located["total_details"]["amount_tax"] == 0
    assert located["amount_total"] == 6700


@pytest.mark.asyncio
async def test_a_three_decimal_session_is_taxed_in_tens_of_fils(http):
    fields = {
        "mode": "payment",
        "ui_mode": "elements",
        "return_url": "https://shop.example/return",
        "automatic_tax[enabled]": "true",
        "line_items[0][price_data][currency]": "kwd",
        "line_items[0][price_data][unit_amount]": "7500",
        "line_items[0][price_data][tax_behavior]": "exclusive",
        "line_items[0][price_data][product_data][name]": "T-shirt",
        "line_items[0][quantity]": "1",
    }
    session = (await post(http, SESSIONS, fields)).json()
    us = await updated(http, session["id"], address("US"))
    # 7.25 % of 7.500 KWD is 0.54375: 0.540, a multiple of ten fils.
    assert us["total_details"]["amount_tax"] == 540
    assert us["amount_total"] == 8040
    assert us["amount_total"] % 10 == 0


@pytest.mark.asyncio
async def test_a_refused_update_leaves_the_stored_tax_alone(http, state):
    session = await created(http)
    canada = await updated(http, session["id"], address("CA"))
    # A valid address with an unknown line item: refused, nothing changes.
    refused = await post(
        http,
        f"{SESSIONS}/{session['id']}",
        {**address("JP"), "line_items[0][id]": "li_unknown"},
    )
    assert_error(refused, 400, "resource_missing", param="line_items[0][id]")
    read = (await http.get(f"{SESSIONS}/{session['id']}", params={"expand[]": "line_items"})).json()
    assert taxes(read) == taxes(canada)
    stored = state.checkout_sessions[session["id"]]
    assert [item["amount_tax"] for item in stored["line_items"]] == [650, 138]


@pytest.mark.asyncio
async def test_the_payment_is_the_total_with_tax(http, state):
    session = await created(http)
    canada = await updated(http, session["id"], address("CA"))
    complete = await post(http, f"/v1/test_helpers/checkout/sessions/{session['id']}/complete")
    assert complete.status_code == 200, complete.text
    intent = state.payment_intents[complete.json()["payment_intent"]]
    assert intent["amount"] == canada["amount_total"] == 7415

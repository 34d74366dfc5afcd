"""Checkout Session options the spec accepts and the service sends: tax settings on line items,
automatic tax, shipping (address collection, options, the collected address), customer fields,
locale, permissions. Stored and shown the way Stripe's session object shapes them."""

from __future__ import annotations

import copy

import pytest

from .helpers import assert_error, create_session, post, session_fields

SESSIONS = "/v1/checkout/sessions"
ADDRESS = "collected_information[shipping_details]"


def rate_fields(index: int, name: str = "Standard", amount: int = 500, **extra: str) -> dict:
    prefix = f"shipping_options[{index}][shipping_rate_data]"
    fields = {
        f"{prefix}[display_name]": name,
        f"{prefix}[type]": "fixed_amount",
        f"{prefix}[fixed_amount][amount]": str(amount),
        f"{prefix}[fixed_amount][currency]": "usd",
    }
    return fields | {f"{prefix}{key}": value for key, value in extra.items()}


def address_fields(country: str = "FR", **extra: str) -> dict:
    fields = {
        f"{ADDRESS}[name]": "Ada Lovelace",
        f"{ADDRESS}[address][line1]": "1 rue de la Paix",
        f"{ADDRESS}[address][country]": country,
    }
    return fields | {f"{ADDRESS}[address][{key}]": value for key, value in extra.items()}


# What the service's gateway sends on create (stripe_gateway/session_params.py), in full.
SERVICE_CREATE = {
    "line_items[0][price_data][product_data][tax_code]": "txcd_99999999",
    "line_items[0][price_data][tax_behavior]": "exclusive",
    "line_items[0][adjustable_quantity][enabled]": "true",
    "line_items[0][adjustable_quantity][minimum]": "1",
    "line_items[0][adjustable_quantity][maximum]": "10",
    "line_items[0][tax_rates][0]": "txr_standard",
    "automatic_tax[enabled]": "true",
    "shipping_address_collection[allowed_countries][0]": "FR",
    "shipping_address_collection[allowed_countries][1]": "DE",
    "permissions[update_shipping_details]": "server_only",
    "customer": "cus_123",
    "client_reference_id": "cart-42",
    "locale": "fr",
    "billing_address_collection": "required",
} | rate_fields(
    0,
    "Colissimo",
    700,
    **{
        "[tax_behavior]": "exclusive",
        "[tax_code]": "txcd_92010001",
        "[delivery_estimate][minimum][unit]": "business_day",
        "[delivery_estimate][minimum][value]": "2",
        "[delivery_estimate][maximum][unit]": "business_day",
        "[delivery_estimate][maximum][value]": "4",
    },
)


@pytest.mark.asyncio
async def test_create_accepts_and_shows_what_the_service_sends(http, state):
    response = await post(
        http, SESSIONS, session_fields(1, **SERVICE_CREATE) | {"expand[0]": "line_items"}
    )
    assert response.status_code == 200, response.text
    session = response.json()
    assert session["automatic_tax"] == {
        "enabled": True,
        "liability": {"type": "self"},
        "provider": "stripe",
        "status": "requires_location_inputs",
    }
    assert session["shipping_address_collection"] == {"allowed_countries": ["FR", "DE"]}
    assert session["permissions"] == {"update_shipping_details": "server_only"}
    assert (session["customer"], session["customer_email"]) == ("cus_123", None)
    assert session["client_reference_id"] == "cart-42"
    assert (session["locale"], session["billing_address_collection"]) == ("fr", "required")
    [option] = session["shipping_options"]
    assert option["shipping_amount"] == 700
    assert option["shipping_rate"].startswith("shr_")
    assert session["shipping_cost"]["shipping_rate"] == option["shipping_rate"]
    assert (session["amount_subtotal"], session["amount_total"]) == (1000, 1700)
    assert session["total_details"] == {
        "amount_discount": 0,
        "amount_shipping": 700,
        "amount_tax": 0,
    }
    item = session["line_items"]["data"][0]
    assert item["adjustable_quantity"] == {"enabled": True, "maximum": 10, "minimum": 1}
    assert item["price"]["tax_behavior"] == "exclusive"
    assert not [key for key in item if key.startswith("_")]
    stored = state.checkout_sessions[session["id"]]["line_items"][0]
    assert (stored["_tax_code"], stored["_tax_rates"]) == ("txcd_99999999", ["txr_standard"])
    rate = state.shipping_rates[option["shipping_rate"]]
    assert rate["display_name"] == "Colissimo"
    assert rate["tax_behavior"] == "exclusive"
    assert rate["tax_code"] == "txcd_92010001"
    assert rate["delivery_estimate"] == {
        "maximum": {"unit": "business_day", "value": 4},
        "minimum": {"unit": "business_day", "value": 2},
    }


@pytest.mark.asyncio
async def test_automatic_tax_completes_once_the_shipping_address_is_known(http):
    session = await create_session(http, **{"automatic_tax[enabled]": "true"})
    assert session["automatic_tax"]["status"] == "requires_location_inputs"
    updated = (await post(http, f"{SESSIONS}/{session['id']}", address_fields())).json()
    assert updated["automatic_tax"]["status"] == "complete"
    # FR at the sandbox rate (20 %) on the unspecified (taken as exclusive) 10.00 line.
    assert updated["total_details"]["amount_tax"] == 200
    assert updated["collected_information"] == {
        "business_name": None,
        "individual_name": None,
        "shipping_details": {
            "address": {
                "city": None,
                "country": "FR",
                "line1": "1 rue de la Paix",
                "line2": None,
                "postal_code": None,
                "state": None,
            },
            "name": "Ada Lovelace",
        },
    }
    off = await create_session(http, **{"automatic_tax[enabled]": "false"})
    assert off["automatic_tax"] == {
        "enabled": False,
        "liability": None,
        "provider": None,
        "status": None,
    }
    after = (await post(http, f"{SESSIONS}/{off['id']}", address_fields())).json()
    assert after["automatic_tax"]["status"] is None


@pytest.mark.asyncio
async def test_shipping_options_are_replaced_cleared_and_reused(http, state):
    session = await create_session(http, **rate_fields(0, "Standard", 500))
    assert session["amount_total"] == 1500
    path = f"{SESSIONS}/{session['id']}"
    replaced = (await post(http, path, rate_fields(0, "Express", 1500) | rate_fields(1))).json()
    assert [o["shipping_amount"] for o in replaced["shipping_options"]] == [1500, 500]
    assert replaced["amount_total"] == 2500  # the first option is the selected one
    assert replaced["total_details"]["amount_shipping"] == 1500
    express = replaced["shipping_options"][0]["shipping_rate"]
    cleared = (await post(http, path, {"shipping_options": ""})).json()
    assert (cleared["shipping_options"], cleared["shipping_cost"]) == ([], None)
    assert cleared["amount_total"] == 1000
    # A ShippingRate made from shipping_rate_data can be named again by its id.
    reused = (await post(http, path, {"shipping_options[0][shipping_rate]": express})).json()
    assert reused["shipping_options"] == [{"shipping_amount": 1500, "shipping_rate": express}]
    six = {k: v for i in range(6) for k, v in rate_fields(i, f"Rate {i}").items()}
    before = copy.deepcopy(state.checkout_sessions[session["id"]])
    assert_error(await post(http, path, six), 400, None, param="shipping_options")
    assert state.checkout_sessions[session["id"]] == before


@pytest.mark.asyncio
async def test_a_refused_update_stores_no_shipping_rate(http, state):
    session = await create_session(http)
    rates_before = dict(state.shipping_rates)
    # The shipping options are read, then the address is refused.
    fields = rate_fields(0) | {f"{ADDRESS}[name]": "Ada"}
    response = await post(http, f"{SESSIONS}/{session['id']}", fields)
    assert_error(response, 400, "parameter_missing", param=f"{ADDRESS}[address]")
    assert state.shipping_rates == rates_before


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("fields", "code", "param"),
    [
        ({"customer": "acct_1"}, "resource_missing", "customer"),
        (
            {"customer": "cus_1", "customer_email": "a@example.com"},
            "parameters_exclusive",
            "customer_email",
        ),
        ({"locale": "xx"}, None, "locale"),
        ({"billing_address_collection": "never"}, None, "billing_address_collection"),
        ({"client_reference_id": "x" * 201}, None, "client_reference_id"),
        ({"automatic_tax[enabled]": "yes"}, None, "automatic_tax[enabled]"),
        (
            {"automatic_tax[liability][type]": "self"},
            "parameter_unknown",
            "automatic_tax[liability]",
        ),
        (
            {"permissions[update_shipping_details]": "anyone"},
            None,
            "permissions[update_shipping_details]",
        ),
        (
            {"shipping_address_collection[allowed_countries][0]": "fr"},
            None,
            "shipping_address_collection[allowed_countries][0]",
        ),
        (
            {"shipping_address_collection[other]": "x"},
            "parameter_unknown",
            "shipping_address_collection[other]",
        ),
        (
            {"line_items[0][tax_rates][0]": "rate_1"},
            "resource_missing",
            "line_items[0][tax_rates][0]",
        ),
        (
            {"line_items[0][price_data][tax_behavior]": "sometimes"},
            None,
            "line_items[0][price_data][tax_behavior]",
        ),
        (
            {"line_items[0][price_data][product_data][tax_code]": ""},
            "parameter_invalid_empty",
            "line_items[0][price_data][product_data][tax_code]",
        ),
        (
            {"line_items[0][adjustable_quantity][maximum]": "5"},
            "parameter_missing",
            "line_items[0][adjustable_quantity][enabled]",
        ),
        (
            {
                "line_items[0][adjustable_quantity][enabled]": "true",
                "line_items[0][adjustable_quantity][maximum]": "1000000",
            },
            "parameter_invalid_integer",
            "line_items[0][adjustable_quantity][maximum]",
        ),
        (
            {
                "line_items[0][adjustable_quantity][enabled]": "true",
                "line_items[0][adjustable_quantity][minimum]": "5",
                "line_items[0][adjustable_quantity][maximum]": "4",
            },
            None,
            "line_items[0][adjustable_quantity][minimum]",
        ),
        (
            # "set adjustable_quantity.maximum to be greater than or equal to that item's quantity"
            {
                "line_items[0][adjustable_quantity][enabled]": "true",
                "line_items[0][quantity]": "100",
            },
            None,
            "line_items[0][quantity]",
        ),
        (
            rate_fields(0, **{"[delivery_estimate][minimum][unit]": "year"})
            | {"shipping_options[0][shipping_rate_data][delivery_estimate][minimum][value]": "1"},
            None,
            "shipping_options[0][shipping_rate_data][delivery_estimate][minimum][unit]",
        ),
        (
            rate_fields(0, **{"[delivery_estimate][maximum][unit]": "day"})
            | {"shipping_options[0][shipping_rate_data][delivery_estimate][maximum][value]": "0"},
            "parameter_invalid_integer",
            "shipping_options[0][shipping_rate_data][delivery_estimate][maximum][value]",
        ),
        (
            rate_fields(0, **{"[tax_behavior]": "sometimes"}),
            None,
            "shipping_options[0][shipping_rate_data][tax_behavior]",
        ),
        (
            rate_fields(0, **{"[fixed_amount][currency_options][eur][amount]": "5"}),
            "parameter_unknown",
            "shipping_options[0][shipping_rate_data][fixed_amount][currency_options]",
        ),
        (
            rate_fields(0) | {"shipping_options[0][shipping_rate]": "shr_1"},
            "parameters_exclusive",
            "shipping_options[0]",
        ),
        (
            {"shipping_options[0][shipping_rate]": "shr_unknown"},
            "resource_missing",
            "shipping_options[0][shipping_rate]",
        ),
        (
            rate_fields(0)
            | {"shipping_options[0][shipping_rate_data][fixed_amount][currency]": "eur"},
            None,
            "shipping_options[0][shipping_rate_data][fixed_amount][currency]",
        ),
        ({"shipping_options": ""}, None, "shipping_options"),
    ],
)
async def test_create_refusals(http, state, fields, code, param):
    assert_error(await post(http, SESSIONS, session_fields(1, **fields)), 400, code, param=param)
    assert state.checkout_sessions == {}
    assert state.shipping_rates == {}


@pytest.mark.asyncio
@pytest.mark.parametrize("ui_mode", ["hosted_page", "form"])
async def test_permissions_only_on_elements_and_embedded_page(http, ui_mode):
    # "Can only be set when creating `embedded_page` or `elements` sessions."
    fields = session_fields(
        1, ui_mode=ui_mode, **{"permissions[update_shipping_details]": "server_only"}
    )
    assert_error(await post(http, SESSIONS, fields), 400, None, param="permissions")
    embedded = session_fields(
        1, ui_mode="embedded_page", **{"permissions[update_shipping_details]": "server_only"}
    )
    assert (await post(http, SESSIONS, embedded)).status_code == 200


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("fields", "code", "param"),
    [
        ({f"{ADDRESS}[name]": ""}, "parameter_invalid_empty", f"{ADDRESS}[name]"),
        ({f"{ADDRESS}[name]": "x" * 256}, None, f"{ADDRESS}[name]"),
        ({f"{ADDRESS}[address][line1]": None}, "parameter_missing", f"{ADDRESS}[address][line1]"),
        (
            {f"{ADDRESS}[address][country]": None},
            "parameter_missing",
            f"{ADDRESS}[address][country]",
        ),
        ({f"{ADDRESS}[name]": None}, "parameter_missing", f"{ADDRESS}[name]"),
        ({f"{ADDRESS}[phone]": "1"}, "parameter_unknown", f"{ADDRESS}[phone]"),
    ],
)
async def test_collected_information_refusals(http, state, fields, code, param):
    session = await create_session(http)
    body = address_fields()
    for key, value in fields.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    before = copy.deepcopy(state.checkout_sessions[session["id"]])
    assert_error(await post(http, f"{SESSIONS}/{session['id']}", body), 400, code, param=param)
    assert state.checkout_sessions[session["id"]] == before


@pytest.mark.asyncio
async def test_update_sets_adjustable_quantity_and_tax_rates_on_lines(http, state):
    session = await create_session(http, items=2, **{"line_items[0][tax_rates][0]": "txr_a"})
    stored = state.checkout_sessions[session["id"]]["line_items"]
    first, second = (item["id"] for item in stored)
    fields = {
        "line_items[0][id]": first,
        "line_items[0][tax_rates]": "",
        "line_items[1][id]": second,
        "line_items[1][adjustable_quantity][enabled]": "true",
        "line_items[1][adjustable_quantity][maximum]": "3",
        "line_items[1][tax_rates][0]": "txr_b",
        "expand[0]": "line_items",
    }
    response = await post(http, f"{SESSIONS}/{session['id']}", fields)
    assert response.status_code == 200, response.text
    items = response.json()["line_items"]["data"]
    assert items[1]["adjustable_quantity"] == {"enabled": True, "maximum": 3, "minimum": 0}
    stored = state.checkout_sessions[session["id"]]["line_items"]
    assert [item["_tax_rates"] for item in stored] == [[], ["txr_b"]]
    # A quantity beyond the stored maximum is refused; turning the setting off lifts it.
    over = {"line_items[0][id]": first, "line_items[1][id]": second, "line_items[1][quantity]": "4"}
    assert_error(
        await post(http, f"{SESSIONS}/{session['id']}", over),
        400,
        None,
        param="line_items[1][quantity]",
    )
    lifted = over | {"line_items[1][adjustable_quantity][enabled]": "false"}
    response = await post(http, f"{SESSIONS}/{session['id']}", lifted | {"expand[0]": "line_items"})
    assert response.status_code == 200, response.text
    assert response.json()["line_items"]["data"][1]["adjustable_quantity"] == {
        "enabled": False,
        "maximum": None,
        "minimum": None,
    }

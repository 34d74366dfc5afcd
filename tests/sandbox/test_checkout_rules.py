"""Checkout Session rules, fed directly over HTTP: the emulator refuses what Stripe refuses."""

from __future__ import annotations

import copy

import pytest

from .helpers import START, assert_error, create_session, item_fields, post, session_fields

SESSIONS = "/v1/checkout/sessions"


def url(session: dict, suffix: str = "") -> str:
    return f"{SESSIONS}/{session['id']}{suffix}"


# --- create ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_create_elements_session_shape_and_totals(http, state):
    fields = session_fields(0) | item_fields(0, unit_amount=1500, quantity=2, currency="USD")
    fields |= item_fields(1, unit_amount=250, quantity=3, sku="gift") | {"metadata[cart]": "c1"}
    response = await post(http, SESSIONS, fields)
    assert response.status_code == 200, response.text
    session = response.json()
    assert session["id"].startswith("cs_test_")
    assert len(session["id"]) >= 8 + 24
    assert session["client_secret"].startswith(session["id"] + "_secret_")
    assert session["currency"] == "usd"
    assert session["amount_subtotal"] == session["amount_total"] == 1500 * 2 + 250 * 3
    assert session["total_details"] == {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0}
    assert (session["status"], session["payment_status"], session["payment_intent"]) == (
        "open",
        "unpaid",
        None,
    )
    assert session["expires_at"] == int(START) + 24 * 3600
    assert session["url"] is None
    assert session["livemode"] is False
    assert session["metadata"] == {"cart": "c1"}
    assert "line_items" not in session
    stored = state.checkout_sessions[session["id"]]["line_items"]
    assert [item["metadata"] for item in stored] == [{}, {"sku": "gift"}]
    assert stored[0]["price"]["unit_amount_decimal"] == "1500"
    assert state.write_count == 1


@pytest.mark.asyncio
async def test_hosted_page_is_the_default_and_has_a_url_but_no_client_secret(http):
    fields = session_fields(ui_mode="hosted_page", success_url="https://shop.example/ok")
    del fields["ui_mode"]
    session = (await post(http, SESSIONS, fields)).json()
    assert session["ui_mode"] == "hosted_page"
    assert session["client_secret"] is None
    assert session["url"].endswith(session["id"])


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("fields", "status", "code", "param"),
    [
        ({"mode": None}, 400, "parameter_missing", "mode"),
        ({"mode": "subscription"}, 400, None, "mode"),
        ({"mode": "setup"}, 400, None, "mode"),
        ({"ui_mode": "custom"}, 400, None, "ui_mode"),
        ({"ui_mode": "embedded"}, 400, None, "ui_mode"),
        ({"ui_mode": "hosted"}, 400, None, "ui_mode"),
        ({"currency": "xyz"}, 400, None, "currency"),
        ({"currency": "eur"}, 400, None, "line_items[0][price_data][currency]"),
        (
            {"line_items[0][price_data][unit_amount]": "-1"},
            400,
            "parameter_invalid_integer",
            "line_items[0][price_data][unit_amount]",
        ),
        (
            {"line_items[0][price_data][unit_amount]": "10.5"},
            400,
            "parameter_invalid_integer",
            "line_items[0][price_data][unit_amount]",
        ),
        (
            {"line_items[0][price_data][unit_amount]": "100000000"},
            400,
            "parameter_invalid_integer",
            "line_items[0][price_data][unit_amount]",
        ),
        (
            {"line_items[0][quantity]": "0"},
            400,
            "parameter_invalid_integer",
            "line_items[0][quantity]",
        ),
        (
            {"line_items[0][quantity]": "1000000"},
            400,
            "parameter_invalid_integer",
            "line_items[0][quantity]",
        ),
        ({"line_items[0][quantity]": None}, 400, "parameter_missing", "line_items[0][quantity]"),
        (
            {
                "line_items[0][price_data][product_data][name]": None,
                "line_items[0][price_data][product_data][description]": "Soft",
            },
            400,
            "parameter_missing",
            "line_items[0][price_data][product_data][name]",
        ),
        (
            {"line_items[0][price_data][product_data][name]": ""},
            400,
            "parameter_invalid_empty",
            "line_items[0][price_data][product_data][name]",
        ),
        ({"line_items[0][price]": "price_123"}, 400, "resource_missing", "line_items[0][price]"),
        (
            {"line_items[0][price_data][product]": "prod_1"},
            400,
            "resource_missing",
            "line_items[0][price_data][product]",
        ),
        ({"line_items[0][price_data][unit_amount]": "10"}, 400, "amount_too_small", "line_items"),
        ({"ui_mode": "embedded_page", "return_url": None}, 400, "parameter_missing", "return_url"),
        ({"ui_mode": "form", "return_url": None}, 400, "parameter_missing", "return_url"),
        ({"success_url": "https://shop.example/ok"}, 400, None, "success_url"),
        ({"cancel_url": "https://shop.example/no"}, 400, None, "cancel_url"),
        ({"return_url": "not a url"}, 400, "url_invalid", "return_url"),
        (
            {"ui_mode": "embedded_page", "redirect_on_completion": "never"},
            400,
            None,
            "return_url",
        ),
        ({"redirect_on_completion": "never"}, 400, None, "redirect_on_completion"),
        (
            {"ui_mode": "hosted_page", "return_url": None, "redirect_on_completion": "always"},
            400,
            None,
            "redirect_on_completion",
        ),
        ({"expires_at": str(int(START) + 29 * 60)}, 400, None, "expires_at"),
        ({"expires_at": str(int(START) + 24 * 3600 + 1)}, 400, None, "expires_at"),
        ({"customer_email": "nobody"}, 400, "email_invalid", "customer_email"),
        ({"metadata[k]": "x" * 501}, 400, None, "metadata[k]"),
        ({"metadata[" + "k" * 41 + "]": "v"}, 400, None, "metadata[" + "k" * 41 + "]"),
    ],
)
async def test_create_refusals(http, state, fields, status, code, param):
    body = session_fields(1)
    for key, value in fields.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    error = assert_error(await post(http, SESSIONS, body), status, code, param=param)
    if param == "ui_mode":
        assert "elements, embedded_page, form, or hosted_page" in error["message"]
    assert state.write_count == 0
    assert state.checkout_sessions == {}


@pytest.mark.asyncio
async def test_redirect_never_needs_no_return_url_and_expiry_bounds_are_inclusive(http):
    body = session_fields(
        1,
        ui_mode="embedded_page",
        redirect_on_completion="never",
        expires_at=str(int(START) + 1800),
    )
    del body["return_url"]
    session = (await post(http, SESSIONS, body)).json()
    assert session["redirect_on_completion"] == "never"
    assert "return_url" not in session  # a plain string in the spec: left out when unset
    assert session["expires_at"] == int(START) + 1800


@pytest.mark.asyncio
async def test_hosted_page_refuses_embedded_only_params(http):
    body = session_fields(1, ui_mode="hosted_page", return_url="https://shop.example/r")
    assert_error(await post(http, SESSIONS, body), 400, None, param="return_url")


@pytest.mark.asyncio
async def test_line_item_count_limit_is_100(http, state):
    ok = await post(http, SESSIONS, session_fields(100, unit_amount=1))
    assert ok.status_code == 200
    assert len(state.checkout_sessions[ok.json()["id"]]["line_items"]) == 100
    assert_error(
        await post(http, SESSIONS, session_fields(101, unit_amount=1)),
        400,
        None,
        param="line_items",
    )
    assert_error(
        await post(http, SESSIONS, session_fields(0)), 400, "parameter_missing", param="line_items"
    )


@pytest.mark.asyncio
async def test_three_decimal_currencies_need_a_final_zero(http):
    body = session_fields(0) | item_fields(0, currency="kwd", unit_amount=1005)
    assert_error(await post(http, SESSIONS, body), 400, "invalid_charge_amount")


@pytest.mark.asyncio
async def test_metadata_key_count_limit(http):
    body = session_fields(1) | {f"metadata[k{i}]": "v" for i in range(51)}
    assert_error(await post(http, SESSIONS, body), 400, None, param="metadata")
    body = session_fields(1) | {f"metadata[k{i}]": "v" for i in range(50)}
    assert (await post(http, SESSIONS, body)).status_code == 200


# --- update: whole-array line item semantics ------------------------------------------------


@pytest.mark.asyncio
async def test_update_keeps_changes_removes_adds_and_reorders(http, state):
    session = await create_session(http, items=3)
    ids = [item["id"] for item in state.checkout_sessions[session["id"]]["line_items"]]
    fields = {
        "line_items[0][id]": ids[2],
        "line_items[1][id]": ids[0],
        "line_items[1][quantity]": "4",
        "line_items[1][metadata][sku]": "",
        "line_items[1][metadata][note]": "gift",
    } | item_fields(2, name="Gift wrap", unit_amount=500, sku="wrap")
    response = await post(http, url(session), fields | {"expand[0]": "line_items"})
    assert response.status_code == 200, response.text
    updated = response.json()
    items = updated["line_items"]["data"]
    assert [item["id"] for item in items[:2]] == [ids[2], ids[0]]  # ids[1] removed
    assert items[2]["id"] not in ids
    assert items[2]["description"] == "Gift wrap"
    assert items[1]["quantity"] == 4
    assert items[1]["amount_subtotal"] == 4000
    assert items[1]["metadata"] == {"note": "gift"}
    assert items[0]["metadata"] == {"sku": "sku-2"}
    assert updated["amount_total"] == updated["amount_subtotal"] == 1000 + 4000 + 500
    assert state.write_count == 2


@pytest.mark.asyncio
async def test_update_with_only_new_items_replaces_the_whole_cart(http, state):
    session = await create_session(http, items=2)
    response = await post(http, url(session), item_fields(0, name="Gift wrap", unit_amount=500))
    assert response.json()["amount_total"] == 500
    assert [i["description"] for i in state.checkout_sessions[session["id"]]["line_items"]] == [
        "Gift wrap"
    ]


@pytest.mark.asyncio
async def test_update_reprices_an_existing_line_in_place(http, state):
    # "To update an existing line item, specify its id along with the new values of the fields
    # to update": price_data with the id keeps the line (and its id) and gives it a new price.
    session = await create_session(http, items=2)
    stored = state.checkout_sessions[session["id"]]["line_items"]
    first, second = stored[0], stored[1]
    fields = {
        "line_items[0][id]": first["id"],
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": "1250",
        "line_items[0][price_data][product_data][name]": "Item 0 (engraved)",
        "line_items[0][quantity]": "2",
        "line_items[1][id]": second["id"],
        "expand[0]": "line_items",
    }
    response = await post(http, url(session), fields)
    assert response.status_code == 200, response.text
    updated = response.json()
    repriced, kept = updated["line_items"]["data"]
    assert (repriced["id"], kept["id"]) == (first["id"], second["id"])
    assert repriced["price"]["id"] != first["price"]["id"]
    assert repriced["price"]["unit_amount"] == 1250
    assert repriced["description"] == "Item 0 (engraved)"
    assert repriced["metadata"] == {"sku": "sku-0"}  # kept: not among the new values
    assert (repriced["quantity"], repriced["amount_subtotal"]) == (2, 2500)
    assert kept["price"] == second["price"]
    assert updated["amount_total"] == 2500 + 1000


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("entries", "code", "param"),
    [
        ({"line_items[0][id]": "li_unknown"}, "resource_missing", "line_items[0][id]"),
        ({"line_items[0][id]": "{0}", "line_items[1][id]": "{0}"}, None, "line_items[1][id]"),
        (
            {"line_items[0][id]": "{0}", "line_items[0][price_data][currency]": "usd"},
            "parameter_missing",
            "line_items[0][price_data][unit_amount]",
        ),
        (
            {"line_items[0][id]": "{0}", "line_items[0][price]": "price_1"},
            "resource_missing",
            "line_items[0][price]",
        ),
        (
            {
                "line_items[0][id]": "{0}",
                "line_items[0][price_data][currency]": "eur",
                "line_items[0][price_data][unit_amount]": "500",
                "line_items[0][price_data][product_data][name]": "Euro shirt",
            },
            None,
            "line_items[0][price_data][currency]",
        ),
        (
            {"line_items[0][id]": "{0}", "line_items[0][quantity]": "0"},
            "parameter_invalid_integer",
            "line_items[0][quantity]",
        ),
        (
            {"line_items[0][id]": "{0}", "line_items[0][adjustable_quantity][maximum]": "5"},
            "parameter_missing",
            "line_items[0][adjustable_quantity][enabled]",
        ),
        (
            {"line_items[0][id]": "{0}", "line_items[0][discounts][0][coupon]": "c"},
            "parameter_unknown",
            "line_items[0][discounts]",
        ),
        ({"line_items[0][quantity]": "1"}, "parameter_missing", "line_items[0][price_data]"),
        ({"line_items": ""}, "parameter_invalid_empty", "line_items"),
        ({"discounts[0][coupon]": "c"}, "parameter_unknown", "discounts"),
        ({"currency": "eur"}, "parameter_unknown", "currency"),
        ({"expires_at": "1"}, "parameter_unknown", "expires_at"),
        ({"mode": "payment"}, "parameter_unknown", "mode"),
        ({"payment_intent_data[description]": "x"}, "parameter_unknown", "payment_intent_data"),
    ],
)
async def test_update_refusals_change_nothing(http, state, entries, code, param):
    session = await create_session(http, items=2)
    first_id = state.checkout_sessions[session["id"]]["line_items"][0]["id"]
    before = copy.deepcopy(state.checkout_sessions[session["id"]])
    fields = {key: value.replace("{0}", first_id) for key, value in entries.items()}
    assert_error(await post(http, url(session), fields), 400, code, param=param)
    assert state.checkout_sessions[session["id"]] == before
    assert state.write_count == 1


@pytest.mark.asyncio
async def test_new_items_must_use_the_session_currency(http, state):
    session = await create_session(http)
    fields = item_fields(0, currency="eur")
    assert_error(
        await post(http, url(session), fields),
        400,
        None,
        param="line_items[0][price_data][currency]",
    )


@pytest.mark.asyncio
async def test_update_line_item_limit_is_100(http, state):
    session = await create_session(http, items=1)
    fields = {k: v for i in range(101) for k, v in item_fields(i, unit_amount=1).items()}
    assert_error(await post(http, url(session), fields), 400, None, param="line_items")
    assert state.write_count == 1


@pytest.mark.asyncio
async def test_update_below_the_minimum_total_is_refused(http, state):
    session = await create_session(http)
    assert_error(
        await post(http, url(session), item_fields(0, unit_amount=49)), 400, "amount_too_small"
    )


@pytest.mark.asyncio
@pytest.mark.parametrize("ui_mode", ["hosted_page", "embedded_page"])
async def test_line_items_cannot_be_updated_outside_elements_or_form(http, state, ui_mode):
    session = await create_session(http, ui_mode=ui_mode)
    assert_error(await post(http, url(session), item_fields(0)), 400, None, param="line_items")
    # ...but metadata can, in every ui_mode.
    response = await post(http, url(session), {"metadata[cart]": "c2"})
    assert response.json()["metadata"] == {"cart": "c2"}


@pytest.mark.asyncio
async def test_metadata_merges_unsets_and_clears(http):
    session = await create_session(http, **{"metadata[a]": "1", "metadata[b]": "2"})
    response = await post(http, url(session), {"metadata[a]": "", "metadata[c]": "3"})
    assert response.json()["metadata"] == {"b": "2", "c": "3"}
    response = await post(http, url(session), {"metadata": ""})
    assert response.json()["metadata"] == {}


@pytest.mark.asyncio
async def test_shipping_options_add_the_first_option_to_the_total(http):
    session = await create_session(http)
    fields = {
        "shipping_options[0][shipping_rate_data][display_name]": "Express",
        "shipping_options[0][shipping_rate_data][fixed_amount][amount]": "1500",
        "shipping_options[0][shipping_rate_data][fixed_amount][currency]": "usd",
        "shipping_options[1][shipping_rate_data][display_name]": "Standard",
        "shipping_options[1][shipping_rate_data][fixed_amount][amount]": "500",
        "shipping_options[1][shipping_rate_data][fixed_amount][currency]": "usd",
    }
    updated = (await post(http, url(session), fields)).json()
    assert (updated["amount_subtotal"], updated["amount_total"]) == (1000, 2500)
    assert updated["total_details"]["amount_shipping"] == 1500
    assert [o["shipping_amount"] for o in updated["shipping_options"]] == [1500, 500]
    cleared = (await post(http, url(session), {"shipping_options": ""})).json()
    assert (cleared["amount_total"], cleared["shipping_cost"]) == (1000, None)
    wrong_currency = fields | {
        "shipping_options[0][shipping_rate_data][fixed_amount][currency]": "eur"
    }
    assert_error(await post(http, url(session), wrong_currency), 400, None)


@pytest.mark.asyncio
async def test_collected_information_is_validated_and_stored(http, state):
    session = await create_session(http)
    prefix = "collected_information[shipping_details]"
    fields = {
        f"{prefix}[name]": "Ada",
        f"{prefix}[address][country]": "GB",
        f"{prefix}[address][line1]": "1 Way",
    }
    updated = (await post(http, url(session), fields)).json()
    assert updated["collected_information"]["shipping_details"]["address"]["country"] == "GB"
    del fields[f"{prefix}[address][line1]"]
    assert_error(
        await post(http, url(session), fields),
        400,
        "parameter_missing",
        param=f"{prefix}[address][line1]",
    )


# --- statuses ----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_session_expires_lazily_by_clock_and_then_refuses_updates(http, state, clock):
    session = await create_session(http)
    clock.advance(24 * 3600)
    response = await http.get(url(session))
    assert response.json()["status"] == "expired"
    before = state.write_count
    error = assert_error(
        await post(http, url(session), {"metadata[a]": "b"}), 400, "checkout_not_active_session"
    )
    assert error["message"].startswith("This Checkout Session is no longer active.")
    assert state.write_count == before


@pytest.mark.asyncio
async def test_expire_only_from_open(http, state):
    session = await create_session(http)
    assert (await post(http, url(session, "/expire"))).json()["status"] == "expired"
    assert_error(await post(http, url(session, "/expire")), 400, "checkout_not_active_session")
    assert_error(await post(http, url(session), item_fields(0)), 400, "checkout_not_active_session")
    assert state.write_count == 2


@pytest.mark.asyncio
async def test_complete_helper_pays_the_session_and_blocks_updates(http, state):
    session = await create_session(http, items=2)
    completed = (
        await post(
            http,
            f"/v1/test_helpers/checkout/sessions/{session['id']}/complete",
            {"expand[0]": "payment_intent"},
        )
    ).json()
    assert (completed["status"], completed["payment_status"]) == ("complete", "paid")
    intent = completed["payment_intent"]
    assert intent["status"] == "succeeded"
    assert intent["amount_received"] == 2000
    assert state.checkout_sessions[session["id"]]["payment_intent"] == intent["id"]
    assert_error(
        await post(http, url(session), {"metadata[a]": "b"}), 400, "checkout_not_active_session"
    )
    assert_error(await post(http, url(session, "/expire")), 400, "checkout_not_active_session")
    again = await post(http, f"/v1/test_helpers/checkout/sessions/{session['id']}/complete")
    assert_error(again, 400, "checkout_not_active_session")


@pytest.mark.asyncio
async def test_expired_session_cannot_be_completed(http, clock):
    session = await create_session(http)
    clock.advance(24 * 3600 + 1)
    response = await post(http, f"/v1/test_helpers/checkout/sessions/{session['id']}/complete")
    assert_error(response, 400, "checkout_not_active_session")


# --- listing line items ------------------------------------------------------------------


@pytest.mark.asyncio
async def test_line_item_pages(http, state):
    session = await create_session(http, items=25)
    ids = [item["id"] for item in state.checkout_sessions[session["id"]]["line_items"]]
    default = (await http.get(url(session, "/line_items"))).json()
    assert [i["id"] for i in default["data"]] == ids[:10]
    assert default["has_more"] is True
    assert default["url"] == f"/v1/checkout/sessions/{session['id']}/line_items"
    page = (await http.get(url(session, f"/line_items?limit=10&starting_after={ids[19]}"))).json()
    assert [i["id"] for i in page["data"]] == ids[20:]
    assert page["has_more"] is False
    before = (await http.get(url(session, f"/line_items?limit=3&ending_before={ids[5]}"))).json()
    assert [i["id"] for i in before["data"]] == ids[2:5]
    assert before["has_more"] is True
    everything = (await http.get(url(session, "/line_items?limit=100"))).json()
    assert len(everything["data"]) == 25
    assert everything["has_more"] is False


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("query", "code", "param"),
    [
        ("limit=0", "parameter_invalid_integer", "limit"),
        ("limit=101", "parameter_invalid_integer", "limit"),
        ("limit=ten", "parameter_invalid_integer", "limit"),
        ("starting_after=li_nope", "resource_missing", "starting_after"),
        ("page=2", "parameter_unknown", "page"),
        ("expand[0]=data.price.product", None, "expand[0]"),
    ],
)
async def test_line_item_list_refusals(http, query, code, param):
    session = await create_session(http)
    assert_error(await http.get(url(session, f"/line_items?{query}")), 400, code, param=param)

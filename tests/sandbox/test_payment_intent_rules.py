"""PaymentIntent rules, fed directly over HTTP: amounts, status guards, amount_details."""

from __future__ import annotations

import copy

import pytest

from .helpers import assert_error, create_intent, post

INTENTS = "/v1/payment_intents"


def url(intent: dict, suffix: str = "") -> str:
    return f"{INTENTS}/{intent['id']}{suffix}"


async def force_status(http, intent: dict, status: str) -> None:
    response = await post(
        http, f"/v1/test_helpers/payment_intents/{intent['id']}/set_status", {"status": status}
    )
    assert response.json()["status"] == status


def details_fields(lines: list[tuple[int, int]], **extra: str) -> dict[str, str]:
    """amount_details with (unit_cost, quantity) line items; ``shipping__amount="200"`` sets
    ``amount_details[shipping][amount]``."""
    fields = {}
    for i, (unit_cost, quantity) in enumerate(lines):
        prefix = f"amount_details[line_items][{i}]"
        fields |= {
            f"{prefix}[product_name]": f"Item {i}",
            f"{prefix}[unit_cost]": str(unit_cost),
            f"{prefix}[quantity]": str(quantity),
        }
    for key, value in extra.items():
        fields["amount_details" + "".join(f"[{part}]" for part in key.split("__"))] = value
    return fields


@pytest.mark.asyncio
async def test_create_shape(http, state):
    intent = await create_intent(
        http, 2000, "USD", **{"metadata[order]": "o1", "description": "Cart"}
    )
    assert intent["id"].startswith("pi_")
    assert intent["client_secret"].startswith(intent["id"] + "_secret_")
    assert (intent["status"], intent["amount"], intent["currency"]) == (
        "requires_payment_method",
        2000,
        "usd",
    )
    assert (intent["amount_received"], intent["amount_capturable"]) == (0, 0)
    assert intent["capture_method"] == "automatic_async"
    assert intent["automatic_payment_methods"]["enabled"] is True
    assert intent["amount_details"] == {"tip": {}}
    assert intent["metadata"] == {"order": "o1"}
    assert state.payment_intents[intent["id"]]["amount"] == 2000
    assert state.write_count == 1


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("currency", "too_small", "enough"),
    [("usd", 49, 50), ("eur", 49, 50), ("jpy", 49, 50), ("gbp", 29, 30), ("huf", 17499, 17500)],
)
async def test_minimum_charge_per_currency(http, state, currency, too_small, enough):
    response = await post(http, INTENTS, {"amount": str(too_small), "currency": currency})
    error = assert_error(response, 400, "amount_too_small", param="amount")
    assert error["message"].startswith("Amount must be at least")
    assert state.write_count == 0
    assert (await create_intent(http, enough, currency))["amount"] == enough


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("fields", "code", "param"),
    [
        ({"amount": None}, "parameter_missing", "amount"),
        ({"currency": None}, "parameter_missing", "currency"),
        ({"amount": "12.5"}, "parameter_invalid_integer", "amount"),
        ({"amount": "0"}, "parameter_invalid_integer", "amount"),
        ({"amount": "100000000"}, "amount_too_large", "amount"),
        ({"currency": "abc"}, None, "currency"),
        ({"currency": "kwd", "amount": "1005"}, "invalid_charge_amount", "amount"),
        ({"capture_method": "later"}, None, "capture_method"),
        ({"automatic_payment_methods[enabled]": "yes"}, None, "automatic_payment_methods[enabled]"),
        (
            {"automatic_payment_methods[enabled]": "true", "payment_method_types[0]": "card"},
            "parameters_exclusive",
            "payment_method_types",
        ),
        ({"confirm": "true"}, "parameter_unknown", "confirm"),
        ({"metadata[a[b]": "v"}, "parameter_unknown", "metadata[a[b]"),
    ],
)
async def test_create_refusals(http, state, fields, code, param):
    body = {"amount": "2000", "currency": "usd"}
    for key, value in fields.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    assert_error(await post(http, INTENTS, body), 400, code, param=param)
    assert state.payment_intents == {}


@pytest.mark.asyncio
async def test_zero_decimal_and_unknown_minimum_currencies(http):
    assert (await create_intent(http, 1, "krw"))["amount"] == 1
    assert (await create_intent(http, 1010, "kwd"))["amount"] == 1010
    types = await create_intent(http, 500, "usd", **{"payment_method_types[0]": "card"})
    assert types["payment_method_types"] == ["card"]
    assert types["automatic_payment_methods"] is None


# --- amount_details ------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_amount_details_arithmetic_passes_and_line_items_need_expand(http, state):
    # 2 x 900 + 1 x 300 - 100 (line discount) + 50 (line tax) + 200 shipping = 2250
    fields = details_fields([(900, 2), (300, 1)], shipping__amount="200")
    fields |= {
        "amount_details[line_items][1][discount_amount]": "100",
        "amount_details[line_items][1][tax][total_tax_amount]": "50",
        "amount_details[line_items][0][product_code]": "SKU-1",
    }
    intent = await create_intent(http, 2250, **fields)
    assert "line_items" not in intent["amount_details"]
    assert intent["amount_details"]["shipping"]["amount"] == 200
    expanded = (await http.get(url(intent) + "?expand[0]=amount_details.line_items")).json()
    lines = expanded["amount_details"]["line_items"]
    assert lines["object"] == "list"
    assert lines["has_more"] is False
    assert lines["url"] == f"/v1/payment_intents/{intent['id']}/amount_details_line_items"
    assert [line["unit_cost"] for line in lines["data"]] == [900, 300]
    assert lines["data"][0]["object"] == "payment_intent_amount_details_line_item"
    assert lines["data"][0]["id"].startswith("uli_")
    listed = (await http.get(url(intent, "/amount_details_line_items?limit=1"))).json()
    assert len(listed["data"]) == 1
    assert listed["has_more"] is True


@pytest.mark.asyncio
async def test_amount_details_top_level_discount_and_tax(http):
    # 2000 + 100 shipping - 100 discount + 500 tax = 2500 (the docs' worked example)
    fields = details_fields(
        [(2000, 1)], discount_amount="100", shipping__amount="100", tax__total_tax_amount="500"
    )
    assert (await create_intent(http, 2500, **fields))["amount_details"]["discount_amount"] == 100


@pytest.mark.asyncio
async def test_amount_details_mismatch_is_a_400(http, state):
    fields = {"amount": "5000", "currency": "usd"} | details_fields([(1500, 3)])
    error = assert_error(
        await post(http, INTENTS, fields),
        400,
        "amount_details_amount_mismatch",
        param="amount_details",
    )
    assert error["message"].startswith(
        "The total value of `amount_details` (4500) does not match the `amount` (5000)."
    )
    assert state.write_count == 0


@pytest.mark.asyncio
async def test_amount_details_mismatch_is_recorded_when_not_enforced(http):
    fields = details_fields([(1500, 3)], enforce_arithmetic_validation="false")
    intent = await create_intent(http, 5000, **fields)
    assert intent["amount_details"]["error"]["code"] == "amount_details_amount_mismatch"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("extra", "code", "param"),
    [
        (
            {"amount_details[line_items][0][product_name]": None},
            "parameter_missing",
            "amount_details[line_items][0][product_name]",
        ),
        (
            {"amount_details[line_items][0][quantity]": "0"},
            "parameter_invalid_integer",
            "amount_details[line_items][0][quantity]",
        ),
        (
            {"amount_details[line_items][0][unit_cost]": "-1"},
            "parameter_invalid_integer",
            "amount_details[line_items][0][unit_cost]",
        ),
        (
            {"amount_details[line_items][0][product_code]": "X" * 13},
            None,
            "amount_details[line_items][0][product_code]",
        ),
        (
            {"amount_details[line_items][0][discount_amount]": "0"},
            "parameter_invalid_integer",
            "amount_details[line_items][0][discount_amount]",
        ),
        (
            {
                "amount_details[line_items][0][discount_amount]": "10",
                "amount_details[discount_amount]": "10",
            },
            "parameters_exclusive",
            "amount_details[discount_amount]",
        ),
        (
            {
                "amount_details[line_items][0][tax][total_tax_amount]": "10",
                "amount_details[tax][total_tax_amount]": "10",
            },
            "parameters_exclusive",
            "amount_details[tax]",
        ),
        (
            {"amount_details[shipping][to_postal_code]": "12345678901"},
            None,
            "amount_details[shipping][to_postal_code]",
        ),
        ({"amount_details[surcharge]": "5"}, "parameter_unknown", "amount_details[surcharge]"),
    ],
)
async def test_amount_details_refusals(http, state, extra, code, param):
    body = {"amount": "1000", "currency": "usd"} | details_fields([(1000, 1)])
    for key, value in extra.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    assert_error(await post(http, INTENTS, body), 400, code, param=param)
    assert state.write_count == 0


@pytest.mark.asyncio
async def test_amount_details_line_item_limit_is_200(http):
    ok = await post(
        http, INTENTS, {"amount": "200", "currency": "usd"} | details_fields([(1, 1)] * 200)
    )
    assert ok.status_code == 200
    too_many = {"amount": "201", "currency": "usd"} | details_fields([(1, 1)] * 201)
    assert_error(await post(http, INTENTS, too_many), 400, None, param="amount_details[line_items]")


# --- updates and status guards --------------------------------------------------------------


@pytest.mark.asyncio
async def test_amount_only_update_must_match_stored_line_items(http, state):
    intent = await create_intent(http, 2000, **details_fields([(1000, 2)]))
    assert_error(
        await post(http, url(intent), {"amount": "2500"}), 400, "amount_details_amount_mismatch"
    )
    assert state.payment_intents[intent["id"]]["amount"] == 2000
    together = {"amount": "2500"} | details_fields([(1000, 2), (500, 1)])
    assert (await post(http, url(intent), together)).json()["amount"] == 2500
    cleared = (await post(http, url(intent), {"amount": "3000", "amount_details": ""})).json()
    assert (cleared["amount"], cleared["amount_details"]) == (3000, {"tip": {}})


@pytest.mark.asyncio
async def test_update_below_minimum_is_refused(http):
    intent = await create_intent(http, 2000)
    assert_error(
        await post(http, url(intent), {"amount": "10"}), 400, "amount_too_small", param="amount"
    )


@pytest.mark.asyncio
@pytest.mark.parametrize("status", ["processing", "requires_capture", "succeeded", "canceled"])
@pytest.mark.parametrize("field", ["amount", "amount_details"])
async def test_amount_updates_refused_outside_updatable_statuses(http, state, status, field):
    intent = await create_intent(http, 2000)
    await force_status(http, intent, status)
    before, writes = copy.deepcopy(state.payment_intents[intent["id"]]), state.write_count
    fields = {"amount": "2500"} if field == "amount" else details_fields([(2000, 1)])
    error = assert_error(
        await post(http, url(intent), fields), 400, "payment_intent_unexpected_state"
    )
    if status != "canceled" and field == "amount":
        assert error["message"] == (
            "This PaymentIntent's amount could not be updated because it has a status of "
            f"{status}. You may only update the amount of a PaymentIntent with one of the "
            "following statuses: requires_payment_method, requires_confirmation, requires_action."
        )
    assert state.payment_intents[intent["id"]] == before
    assert state.write_count == writes


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "status", ["requires_payment_method", "requires_confirmation", "requires_action"]
)
async def test_amount_updates_allowed_while_awaiting_payment(http, status):
    intent = await create_intent(http, 2000)
    if status != "requires_payment_method":
        await force_status(http, intent, status)
    updated = (await post(http, url(intent), {"amount": "2600"})).json()
    assert updated["amount"] == 2600
    # An amount change abandons a pending authentication: confirm again.
    expected = "requires_confirmation" if status == "requires_action" else status
    assert updated["status"] == expected


@pytest.mark.asyncio
async def test_metadata_updates_allowed_after_success_but_not_after_cancel(http):
    intent = await create_intent(http, 2000)
    await force_status(http, intent, "succeeded")
    assert (await post(http, url(intent), {"metadata[a]": "1"})).json()["metadata"] == {"a": "1"}
    other = await create_intent(http, 2000)
    await force_status(http, other, "canceled")
    assert_error(
        await post(http, url(other), {"metadata[a]": "1"}), 400, "payment_intent_unexpected_state"
    )


@pytest.mark.asyncio
@pytest.mark.parametrize("field", ["capture_method", "payment_method_types[0]", "customer"])
async def test_update_refuses_create_only_params(http, field):
    intent = await create_intent(http, 2000)
    assert_error(await post(http, url(intent), {field: "manual"}), 400, "parameter_unknown")


@pytest.mark.asyncio
async def test_metadata_limits_apply_to_intents(http):
    intent = await create_intent(http, 2000, **{f"metadata[k{i}]": "v" for i in range(50)})
    assert_error(await post(http, url(intent), {"metadata[k50]": "v"}), 400, None, param="metadata")
    assert (
        await post(http, url(intent), {"metadata[k0]": "", "metadata[k50]": "v"})
    ).status_code == 200


# --- confirm / cancel ----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_confirm_needs_a_payment_method_then_succeeds(http, state):
    intent = await create_intent(http, 2000)
    assert_error(await post(http, url(intent, "/confirm")), 400, "payment_intent_unexpected_state")
    assert_error(
        await post(http, url(intent, "/confirm"), {"payment_method": "card_x"}),
        400,
        "resource_missing",
    )
    confirmed = (
        await post(http, url(intent, "/confirm"), {"payment_method": "pm_card_visa"})
    ).json()
    assert (confirmed["status"], confirmed["amount_received"]) == ("succeeded", 2000)
    assert confirmed["latest_charge"].startswith("ch_")
    assert_error(await post(http, url(intent, "/confirm")), 400, "payment_intent_unexpected_state")
    assert_error(await post(http, url(intent, "/cancel")), 400, "payment_intent_unexpected_state")


@pytest.mark.asyncio
async def test_manual_capture_confirms_to_requires_capture_and_can_be_canceled(http):
    intent = await create_intent(http, 2000, capture_method="manual")
    confirmed = (
        await post(http, url(intent, "/confirm"), {"payment_method": "pm_card_visa"})
    ).json()
    assert (confirmed["status"], confirmed["amount_capturable"]) == ("requires_capture", 2000)
    canceled = (
        await post(http, url(intent, "/cancel"), {"cancellation_reason": "abandoned"})
    ).json()
    assert (canceled["status"], canceled["cancellation_reason"]) == ("canceled", "abandoned")
    assert canceled["canceled_at"] is not None
    assert canceled["amount_capturable"] == 0
    assert_error(await post(http, url(intent, "/cancel")), 400, "payment_intent_unexpected_state")


@pytest.mark.asyncio
async def test_cancel_and_set_status_validate_their_enums(http):
    intent = await create_intent(http, 2000)
    assert_error(
        await post(http, url(intent, "/cancel"), {"cancellation_reason": "bored"}), 400, None
    )
    helper = f"/v1/test_helpers/payment_intents/{intent['id']}/set_status"
    assert_error(await post(http, helper, {"status": "paid"}), 400, None, param="status")

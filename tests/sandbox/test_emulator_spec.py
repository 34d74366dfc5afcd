"""The emulator's Checkout Sessions and PaymentIntents against Stripe's own response schemas
(fixtures/stripe_spec_objects.json, from Stripe's OpenAPI spec 2026-09-30): no field the spec
lacks, every required field, ``null`` only where the spec says ``nullable``, the spec's types and
enums. Plus the URL rules per ``ui_mode`` that the spec's descriptions set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .helpers import assert_error, create_intent, create_session, item_fields, post, session_fields

SPEC = json.loads((Path(__file__).parent / "fixtures" / "stripe_spec_objects.json").read_text())
SCHEMAS: dict[str, Any] = SPEC["schemas"]
SESSIONS = "/v1/checkout/sessions"
TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def problems(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    """Where ``value`` breaks ``schema`` (OpenAPI 3.0: $ref, anyOf, nullable, type, enum,
    properties as a closed set, required, items, additionalProperties)."""
    if "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]
    if value is None:
        return [] if schema.get("nullable") else [f"{path}: null, but the spec's is not nullable"]
    if "anyOf" in schema:
        found = [problems(value, option, path) for option in schema["anyOf"]]
        if any(not found_here for found_here in found):
            return []
        return [f"{path}: matches none of the spec's anyOf", *found[0]]
    kind = schema.get("type")
    if kind is not None:
        is_bool = isinstance(value, bool) and kind != "boolean"
        if not isinstance(value, TYPES[kind]) or is_bool:
            return [f"{path}: {type(value).__name__}, the spec says {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{path}: {value!r} is not one of the spec's {schema['enum']}"]
    found: list[str] = []
    if isinstance(value, dict):
        properties = schema.get("properties")
        for key in schema.get("required", []):
            if key not in value:
                found.append(f"{path}.{key}: required by the spec, missing")
        for key, item in value.items():
            if properties is not None and key in properties:
                found += problems(item, properties[key], f"{path}.{key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                found += problems(item, schema["additionalProperties"], f"{path}.{key}")
            elif properties is not None:
                found.append(f"{path}.{key}: not a field of the spec's object")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += problems(item, schema["items"], f"{path}[{index}]")
    return found


def assert_matches(value: dict[str, Any], schema_name: str) -> None:
    assert problems(value, SCHEMAS[schema_name], schema_name) == []


# --- Fix 1: unset return_url / redirect_on_completion are left out --------------------------


def test_the_spec_types_return_url_and_redirect_on_completion_as_plain_strings():
    fields = SCHEMAS["checkout.session"]["properties"]
    for name in ("return_url", "redirect_on_completion"):
        assert fields[name]["type"] == "string"
        assert not fields[name].get("nullable")
    # ...while success_url and cancel_url may be null.
    assert fields["success_url"]["nullable"]
    assert fields["cancel_url"]["nullable"]


@pytest.mark.asyncio
async def test_unset_return_url_and_redirect_on_completion_are_left_out(http):
    elements = await create_session(http)  # return_url set, no redirect_on_completion
    assert elements["return_url"] == "https://shop.example/return"
    assert "redirect_on_completion" not in elements
    hosted = await create_session(http, ui_mode="hosted_page")
    assert "return_url" not in hosted
    assert "redirect_on_completion" not in hosted
    assert (hosted["success_url"], hosted["cancel_url"]) == (None, None)
    for session in (elements, hosted):
        fetched = (await http.get(f"{SESSIONS}/{session['id']}")).json()
        assert set(fetched) == set(session)
    embedded = await create_session(http, ui_mode="embedded_page")
    assert embedded["redirect_on_completion"] == "always"  # "Defaults to `always`"
    body = session_fields(ui_mode="elements")
    del body["return_url"]
    bare = (await post(http, SESSIONS, body)).json()
    assert "return_url" not in bare
    assert_matches(bare, "checkout.session")


@pytest.mark.asyncio
@pytest.mark.parametrize("value", ["always", "if_required", "never"])
async def test_redirect_on_completion_is_refused_on_elements_sessions(http, state, value):
    body = session_fields(ui_mode="elements", redirect_on_completion=value)
    error = assert_error(
        await post(http, SESSIONS, body), 400, None, param="redirect_on_completion"
    )
    assert "embedded_page" in error["message"]
    assert state.checkout_sessions == {}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("ui_mode", "allowed"),
    [("hosted_page", True), ("form", True), ("elements", False), ("embedded_page", False)],
)
async def test_success_and_cancel_urls_follow_the_spec_per_ui_mode(http, ui_mode, allowed):
    # "This parameter is not allowed if ui_mode is `embedded_page` or `elements`."
    for name in ("success_url", "cancel_url"):
        body = session_fields(ui_mode=ui_mode, **{name: "https://shop.example/x"})
        response = await post(http, SESSIONS, body)
        if allowed:
            assert response.status_code == 200, response.text
            assert response.json()[name] == "https://shop.example/x"
        else:
            assert_error(response, 400, None, param=name)


@pytest.mark.asyncio
async def test_elements_sessions_need_no_return_url_with_cards_only(http):
    # return_url "is required if ui_mode is embedded_page or elements and redirect-based
    # payment methods are enabled on the session": the emulator's sessions take cards only.
    body = session_fields(ui_mode="elements")
    del body["return_url"]
    session = (await post(http, SESSIONS, body)).json()
    assert session["payment_method_types"] == ["card"]
    body = session_fields(ui_mode="embedded_page")
    del body["return_url"]
    assert_error(await post(http, SESSIONS, body), 400, "parameter_missing", param="return_url")


# --- Fix 2: every field of every answer is the spec's ----------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("ui_mode", ["elements", "embedded_page", "form", "hosted_page"])
async def test_sessions_match_the_spec_in_every_ui_mode(http, ui_mode):
    session = await create_session(http, items=12, ui_mode=ui_mode)
    assert_matches(session, "checkout.session")
    fetched = (await http.get(f"{SESSIONS}/{session['id']}?expand[]=line_items")).json()
    assert_matches(fetched, "checkout.session")
    page = (await http.get(f"{SESSIONS}/{session['id']}/line_items?limit=100")).json()
    for item in page["data"]:
        assert_matches(item, "item")


@pytest.mark.asyncio
async def test_completed_and_expired_sessions_match_the_spec(http):
    session = await create_session(http)
    completed = await post(
        http,
        f"/v1/test_helpers/checkout/sessions/{session['id']}/complete",
        {"expand[0]": "payment_intent"},
    )
    assert_matches(completed.json(), "checkout.session")
    other = await create_session(http)
    expired = await post(http, f"{SESSIONS}/{other['id']}/expire")
    assert_matches(expired.json(), "checkout.session")


@pytest.mark.asyncio
async def test_a_session_with_every_option_matches_the_spec(http):
    fields = session_fields(
        1,
        **{
            "automatic_tax[enabled]": "true",
            "customer": "cus_123",
            "locale": "fr",
            "billing_address_collection": "required",
            "permissions[update_shipping_details]": "server_only",
            "shipping_address_collection[allowed_countries][0]": "FR",
            "shipping_options[0][shipping_rate_data][display_name]": "Colissimo",
            "shipping_options[0][shipping_rate_data][fixed_amount][amount]": "500",
            "shipping_options[0][shipping_rate_data][fixed_amount][currency]": "usd",
            "line_items[0][adjustable_quantity][enabled]": "true",
        },
    )
    session = (await post(http, SESSIONS, fields)).json()
    assert_matches(session, "checkout.session")
    address = {
        "collected_information[shipping_details][name]": "Ada",
        "collected_information[shipping_details][address][line1]": "1 rue",
        "collected_information[shipping_details][address][country]": "FR",
    }
    updated = (await post(http, f"{SESSIONS}/{session['id']}", address)).json()
    assert_matches(updated, "checkout.session")


@pytest.mark.asyncio
async def test_payment_intents_have_no_source_and_match_the_spec(http):
    # `source` is not a PaymentIntent field in this API version.
    assert "source" not in SCHEMAS["payment_intent"]["properties"]
    fields = {
        "amount_details[line_items][0][product_name]": "Shirt",
        "amount_details[line_items][0][unit_cost]": "1800",
        "amount_details[line_items][0][quantity]": "1",
        "amount_details[shipping][amount]": "200",
    }
    intent = await create_intent(http, 2000, **fields)
    assert "source" not in intent
    assert_matches(intent, "payment_intent")
    path = f"/v1/payment_intents/{intent['id']}"
    updated = await post(http, path, {"amount": "2500", "amount_details[shipping][amount]": "700"})
    assert_matches(updated.json(), "payment_intent")
    expanded = (await http.get(f"{path}?expand[]=amount_details.line_items")).json()
    assert "source" not in expanded
    assert_matches(expanded, "payment_intent")
    confirmed = await post(http, f"{path}/confirm", {"payment_method": "pm_card_visa"})
    assert_matches(confirmed.json(), "payment_intent")
    other = await create_intent(http, 900)
    canceled = await post(http, f"/v1/payment_intents/{other['id']}/cancel")
    assert_matches(canceled.json(), "payment_intent")


def test_the_checker_catches_what_the_spec_forbids():
    found = problems({"return_url": None}, SCHEMAS["checkout.session"], "s")
    assert "s.return_url: null, but the spec's is not nullable" in found
    assert "s.shipping_options: required by the spec, missing" in found
    intent = {"id": "pi_1", "object": "payment_intent", "created": 1, "livemode": False}
    assert problems(intent, SCHEMAS["payment_intent"], "pi") == [
        "pi.status: required by the spec, missing"
    ]
    intent |= {"status": "succeeded", "source": None, "amount": "5"}
    assert problems(intent, SCHEMAS["payment_intent"], "pi") == [
        "pi.source: not a field of the spec's object",
        "pi.amount: str, the spec says integer",
    ]


# --- Fix 5: GET /v1/checkout/sessions -----------------------------------------------------------


@pytest.mark.asyncio
async def test_the_readiness_call_lists_sessions(http):
    empty = await http.get(f"{SESSIONS}?limit=1")
    assert empty.status_code == 200, empty.text
    assert empty.json() == {"object": "list", "data": [], "has_more": False, "url": SESSIONS}
    await create_session(http)
    await create_session(http)
    one = (await http.get(f"{SESSIONS}?limit=1")).json()
    assert len(one["data"]) == 1
    assert one["has_more"] is True
    assert_matches(one["data"][0], "checkout.session")


@pytest.mark.asyncio
async def test_sessions_are_listed_newest_first_in_pages(http, clock):
    ids = []
    for _ in range(5):
        ids.append((await create_session(http))["id"])
        clock.advance(1)
    newest_first = ids[::-1]
    default = (await http.get(SESSIONS)).json()
    assert [s["id"] for s in default["data"]] == newest_first
    assert default["has_more"] is False
    first = (await http.get(f"{SESSIONS}?limit=2")).json()
    assert [s["id"] for s in first["data"]] == newest_first[:2]
    assert first["has_more"] is True
    after = (await http.get(f"{SESSIONS}?limit=2&starting_after={newest_first[1]}")).json()
    assert [s["id"] for s in after["data"]] == newest_first[2:4]
    last = (await http.get(f"{SESSIONS}?limit=2&starting_after={newest_first[3]}")).json()
    assert ([s["id"] for s in last["data"]], last["has_more"]) == ([newest_first[4]], False)
    before = (await http.get(f"{SESSIONS}?limit=2&ending_before={newest_first[4]}")).json()
    assert [s["id"] for s in before["data"]] == newest_first[2:4]


@pytest.mark.asyncio
async def test_session_list_filters(http, clock):
    kept = await create_session(http, customer="cus_a")
    clock.advance(10)
    gone = await create_session(http)
    await post(http, f"{SESSIONS}/{gone['id']}/expire")
    created = kept["created"]

    async def listed(query: str) -> list[str]:
        response = await http.get(f"{SESSIONS}?{query}")
        assert response.status_code == 200, response.text
        return [s["id"] for s in response.json()["data"]]

    assert await listed("status=open") == [kept["id"]]
    assert await listed("status=expired") == [gone["id"]]
    assert await listed("customer=cus_a") == [kept["id"]]
    assert await listed(f"created={created}") == [kept["id"]]
    assert await listed(f"created[gt]={created}") == [gone["id"]]
    assert await listed(f"created[lte]={created + 10}&created[gte]={created}") == [
        gone["id"],
        kept["id"],
    ]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("query", "code", "param"),
    [
        ("limit=0", "parameter_invalid_integer", "limit"),
        ("limit=101", "parameter_invalid_integer", "limit"),
        ("starting_after=cs_test_nope", "resource_missing", "starting_after"),
        ("status=paid", None, "status"),
        ("created[since]=1", "parameter_unknown", "created[since]"),
        ("page=2", "parameter_unknown", "page"),
    ],
)
async def test_session_list_refusals(http, query, code, param):
    await create_session(http)
    assert_error(await http.get(f"{SESSIONS}?{query}"), 400, code, param=param)


@pytest.mark.asyncio
async def test_the_list_is_only_a_get(http):
    # POST /v1/checkout/sessions still creates; the list did not shadow it.
    created = await post(http, SESSIONS, session_fields() | item_fields(0))
    assert created.status_code == 200

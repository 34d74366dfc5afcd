"""Wire-level behaviour shared by every route: auth, headers, unknown URLs and parameters."""

from __future__ import annotations

import base64

import httpx
import pytest

from .helpers import assert_error, create_session, post, session_fields


@pytest.mark.asyncio
async def test_missing_api_key_is_401(http, state):
    response = await http.post(
        "/v1/checkout/sessions",
        content="mode=payment",
        headers={"Authorization": "", "Content-Type": "application/x-www-form-urlencoded"},
    )
    error = assert_error(response, 401, None)
    assert error["message"].startswith("You did not provide an API key.")
    assert state.write_count == 0


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "authorization",
    ["Bearer sk_live_abcdef123456", "Bearer pk_test_abcdef", "Bearer sk_test_", "Bearer nonsense"],
)
async def test_non_test_secret_keys_are_401(http, authorization):
    response = await http.get(
        "/v1/checkout/sessions/cs_test_x", headers={"Authorization": authorization}
    )
    error = assert_error(response, 401, None)
    assert error["message"].startswith("Invalid API Key provided")


@pytest.mark.asyncio
@pytest.mark.parametrize("key", ["sk_test_abc", "rk_test_abc"])
async def test_basic_auth_with_key_as_username_like_curl_u(http, key):
    token = base64.b64encode(f"{key}:".encode()).decode()
    response = await post(
        http, "/v1/checkout/sessions", session_fields(), authorization=f"Basic {token}"
    )
    assert response.status_code == 200


@pytest.mark.asyncio
async def test_every_answer_has_request_id_and_echoes_stripe_version(http):
    ok = await post(
        http, "/v1/checkout/sessions", session_fields(), stripe_version="2026-10-28.endive"
    )
    bad = await http.get("/v1/checkout/sessions/cs_missing", headers={"Stripe-Version": "x"})
    for response in (ok, bad):
        assert response.headers["request-id"].startswith("req_")
        assert response.headers["content-type"] == "application/json"
    assert ok.headers["stripe-version"] == "2026-10-28.endive"
    assert ok.headers["request-id"] != bad.headers["request-id"]


@pytest.mark.asyncio
async def test_unknown_url_and_wrong_method_are_stripe_404s(http):
    for response in (
        await http.get("/v1/customers"),
        await http.delete("/v1/payment_intents/pi_1"),
    ):
        error = assert_error(response, 404, None)
        assert error["message"].startswith("Unrecognized request URL")


@pytest.mark.asyncio
async def test_unknown_ids_are_404_resource_missing(http):
    response = await http.get("/v1/checkout/sessions/cs_test_nope")
    error = assert_error(response, 404, "resource_missing", param="session")
    assert error["message"] == "No such checkout.session: 'cs_test_nope'"
    response = await post(http, "/v1/payment_intents/pi_nope", {"metadata[a]": "b"})
    error = assert_error(response, 404, "resource_missing", param="intent")
    assert error["message"] == "No such payment_intent: 'pi_nope'"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("path", "fields", "param"),
    [
        (
            "/v1/checkout/sessions",
            {"discounts[0][coupon]": "co_1"},
            "discounts",
        ),
        (
            "/v1/checkout/sessions",
            {"line_items[0][price_data][recurring][interval]": "month"},
            "line_items[0][price_data][recurring]",
        ),
        ("/v1/payment_intents", {"customer": "cus_1"}, "customer"),
    ],
)
async def test_unknown_parameters_are_refused_with_their_path(http, state, path, fields, param):
    body = (
        session_fields() | fields
        if "checkout" in path
        else {"amount": "500", "currency": "usd"} | fields
    )
    response = await post(http, path, body)
    error = assert_error(response, 400, "parameter_unknown", param=param)
    assert error["message"] == f"Received unknown parameter: {param}"
    assert state.write_count == 0


@pytest.mark.asyncio
async def test_get_params_use_the_same_bracket_encoding(http):
    session = await create_session(http, items=2)
    for query in ("expand[0]=line_items", "expand[]=line_items", "expand%5B0%5D=line_items"):
        response = await http.get(f"/v1/checkout/sessions/{session['id']}?{query}")
        assert response.json()["line_items"]["object"] == "list"
    response = await http.get(f"/v1/checkout/sessions/{session['id']}?expand[0]=customer")
    assert_error(response, 400, None, param="expand[0]")
    response = await http.get(f"/v1/checkout/sessions/{session['id']}?limit=3")
    assert_error(response, 400, "parameter_unknown", param="limit")


@pytest.mark.asyncio
async def test_mounted_under_a_prefix(state, clock):
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from stripe_emulator import create_emulator_app

    outer = Starlette(
        routes=[Mount("/_sandbox/stripe", app=create_emulator_app(state, clock=clock))]
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=outer),
        base_url="http://service",
        headers={"Authorization": "Bearer sk_test_x"},
    ) as client:
        session = await create_session_at(client, "/_sandbox/stripe")
        response = await client.get(f"/_sandbox/stripe/v1/checkout/sessions/{session['id']}")
        assert response.status_code == 200
        assert response.json()["id"] == session["id"]


async def create_session_at(client: httpx.AsyncClient, prefix: str) -> dict:
    response = await post(client, f"{prefix}/v1/checkout/sessions", session_fields())
    assert response.status_code == 200, response.text
    return response.json()

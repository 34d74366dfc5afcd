"""Security headers on every answer, JSON-only request bodies (415 otherwise, before Stripe is
called), and CORS only for the configured origins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
import respx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from amount_updater.api.docs import SAME_ORIGIN_ONLY
from amount_updater.config import Settings
from tests.api.test_checkout_sessions import SESSION_URL, SID, token_for
from tests.support.stripe_objects import checkout_session, product_line

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
CREATE = {"currency": "usd", "items": [{"product_id": "tshirt"}]}
SHOP = "https://shop.example"
EVIL = "https://evil.example"


def with_settings(base: Settings, **changes: Any) -> Settings:
    return Settings(**{**base.model_dump(), **changes})


def assert_hardened(response: httpx.Response, *, csp: bool = True) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name
    if csp:
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy


def mock_create(stripe_mock: respx.MockRouter) -> respx.Route:
    session = checkout_session(line_items=[product_line("tshirt", "T-shirt", 2500, 1)])
    return stripe_mock.post("/v1/checkout/sessions").respond(200, json=session)


def preflight(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization,content-type",
    }


@pytest_asyncio.fixture
async def lenient_client(app: FastAPI, stripe_mock: respx.MockRouter) -> AsyncIterator:
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


class TestSecurityHeaders:
    @pytest.mark.asyncio
    async def test_a_json_answer_is_hardened(self, client: httpx.AsyncClient):
        response = await client.get("/v1/catalog", params={"currency": "usd"})

        assert response.status_code == 200
        assert_hardened(response)

    @pytest.mark.asyncio
    async def test_a_created_answer_holding_a_client_secret_is_not_cacheable(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        mock_create(stripe_mock)

        response = await client.post("/v1/checkout-sessions", json=CREATE)

        assert response.status_code == 201, response.text
        assert_hardened(response)

    @pytest.mark.asyncio
    async def test_a_problem_answer_is_hardened(self, client: httpx.AsyncClient):
        response = await client.get(f"/v1/checkout-sessions/{SID}")

        assert response.status_code == 401
        assert_hardened(response)

    @pytest.mark.asyncio
    async def test_the_metrics_answer_is_hardened(self, client: httpx.AsyncClient):
        assert_hardened(await client.get("/metrics"))

    @pytest.mark.asyncio
    @pytest.mark.parametrize("path", ["/docs", "/redoc"])
    async def test_the_interactive_docs_keep_their_own_same_origin_csp(
        self, client: httpx.AsyncClient, path: str
    ):
        response = await client.get(path)

        assert response.status_code == 200
        assert response.headers["content-security-policy"] == SAME_ORIGIN_ONLY
        assert_hardened(response)

    @pytest.mark.asyncio
    async def test_the_openapi_document_keeps_the_csp(self, client: httpx.AsyncClient):
        response = await client.get("/openapi.json")

        assert response.status_code == 200
        assert_hardened(response)

    @pytest.mark.asyncio
    async def test_an_unexpected_500_answer_is_hardened(
        self, lenient_client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        stripe_mock.get(SESSION_URL).respond(200, json={"object": "checkout.session"})  # no id

        response = await lenient_client.get(f"/v1/checkout-sessions/{SID}", headers=token_for())

        assert response.status_code == 500
        assert_hardened(response)


class TestJsonBodies:
    @pytest.mark.asyncio
    async def test_a_text_plain_body_is_415_and_stripe_is_not_called(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        create = mock_create(stripe_mock)

        response = await client.post(
            "/v1/checkout-sessions",
            content=b'{"currency": "usd", "items": [{"product_id": "tshirt"}]}',
            headers={"Content-Type": "text/plain"},
        )

        assert response.status_code == 415
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "unsupported_media_type"
        assert not create.called
        assert not stripe_mock.calls
        assert_hardened(response)

    @pytest.mark.asyncio
    async def test_a_form_encoded_change_is_415_before_stripe(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        response = await client.post(
            f"/v1/checkout-sessions/{SID}/items",
            content=b"product_id=mug",
            headers={**token_for(), "Content-Type": "application/x-www-form-urlencoded"},
        )

        assert response.status_code == 415
        assert response.json()["code"] == "unsupported_media_type"
        assert not stripe_mock.calls

    @pytest.mark.asyncio
    @pytest.mark.parametrize("method", ["PUT", "PATCH"])
    async def test_put_and_patch_bodies_must_be_json_too(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, method: str
    ):
        path = "cart" if method == "PUT" else "items/tshirt"
        response = await client.request(
            method,
            f"/v1/checkout-sessions/{SID}/{path}",
            content=b'{"quantity": 1}',
            headers={**token_for(), "Content-Type": "text/plain"},
        )

        assert response.status_code == 415
        assert not stripe_mock.calls

    @pytest.mark.asyncio
    async def test_a_body_without_a_content_type_is_415(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        response = await client.post("/v1/quotes", content=b'{"currency": "usd", "items": []}')

        assert response.status_code == 415

    @pytest.mark.asyncio
    @pytest.mark.parametrize(
        "content_type",
        ["application/json; charset=utf-8", "Application/JSON", "application/problem+json"],
    )
    async def test_json_media_types_with_parameters_are_accepted(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, content_type: str
    ):
        create = mock_create(stripe_mock)

        response = await client.post(
            "/v1/checkout-sessions",
            content=b'{"currency": "usd", "items": [{"product_id": "tshirt"}]}',
            headers={"Content-Type": content_type},
        )

        assert response.status_code == 201, response.text
        assert create.call_count == 1

    @pytest.mark.asyncio
    async def test_a_bodyless_delete_needs_no_content_type(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        session = checkout_session(line_items=[product_line("tshirt", "T-shirt", 2500, 1, id="li")])
        stripe_mock.get(SESSION_URL).respond(200, json=session)

        response = await client.delete(f"/v1/checkout-sessions/{SID}/shipping", headers=token_for())

        assert response.status_code == 200, response.text

    @pytest.mark.asyncio
    async def test_a_text_body_is_415_before_the_idempotency_key_is_looked_at(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        # With a key, the credential is verified for the key's scope (401 if it does not
        # verify): the body's type is checked before that.
        response = await client.post(
            f"/v1/checkout-sessions/{SID}/items",
            content=b"product_id=mug",
            headers={
                "Authorization": "Bearer not-a-token",
                "Idempotency-Key": "add-1",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )

        assert response.status_code == 415
        assert not stripe_mock.calls

    @pytest.mark.asyncio
    async def test_the_rule_is_the_routes_own_so_an_unknown_path_is_404(
        self, client: httpx.AsyncClient
    ):
        response = await client.post(
            "/v1/no-such-thing", content=b"a=1", headers={"Content-Type": "text/plain"}
        )

        assert response.status_code == 404
        assert_hardened(response)


class TestCors:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return with_settings(settings, cors_origins=[SHOP])

    @pytest.mark.asyncio
    async def test_a_preflight_from_a_configured_origin_is_allowed(self, client: httpx.AsyncClient):
        response = await client.options("/v1/checkout-sessions", headers=preflight(SHOP))

        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == SHOP
        assert "POST" in response.headers["access-control-allow-methods"]
        allowed_headers = response.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed_headers
        assert "content-type" in allowed_headers

    @pytest.mark.asyncio
    async def test_a_preflight_from_another_origin_gets_no_allow_origin(
        self, client: httpx.AsyncClient
    ):
        response = await client.options("/v1/checkout-sessions", headers=preflight(EVIL))

        assert "access-control-allow-origin" not in response.headers

    @pytest.mark.asyncio
    async def test_a_simple_request_from_a_configured_origin_may_read_the_answer(
        self, client: httpx.AsyncClient
    ):
        response = await client.get("/v1/catalog?currency=usd", headers={"Origin": SHOP})

        assert response.headers["access-control-allow-origin"] == SHOP

    @pytest.mark.asyncio
    async def test_a_simple_request_from_another_origin_may_not_read_the_answer(
        self, client: httpx.AsyncClient
    ):
        response = await client.get("/v1/catalog?currency=usd", headers={"Origin": EVIL})

        assert response.status_code == 200
        assert "access-control-allow-origin" not in response.headers

    @pytest.mark.asyncio
    async def test_browsers_may_not_send_the_server_to_server_api_key(
        self, client: httpx.AsyncClient
    ):
        headers = {**preflight(SHOP), "Access-Control-Request-Headers": "x-api-key"}

        response = await client.options("/v1/tokens", headers=headers)

        assert response.status_code == 400
        assert "x-api-key" not in response.headers.get("access-control-allow-headers", "").lower()

    @pytest.mark.asyncio
    async def test_the_origin_is_never_a_wildcard_nor_credentialed(self, client: httpx.AsyncClient):
        response = await client.options("/v1/checkout-sessions", headers=preflight(SHOP))

        assert response.headers["access-control-allow-origin"] != "*"
        assert "access-control-allow-credentials" not in response.headers


class TestNoCorsConfigured:
    @pytest.mark.asyncio
    async def test_without_origins_a_preflight_gets_no_cors_headers(
        self, client: httpx.AsyncClient
    ):
        response = await client.options("/v1/checkout-sessions", headers=preflight(SHOP))

        assert not [h for h in response.headers if h.startswith("access-control-")]

    @pytest.mark.asyncio
    async def test_without_origins_a_cross_origin_request_gets_no_cors_headers(
        self, client: httpx.AsyncClient
    ):
        response = await client.get("/v1/catalog?currency=usd", headers={"Origin": SHOP})

        assert response.status_code == 200
        assert not [h for h in response.headers if h.startswith("access-control-")]

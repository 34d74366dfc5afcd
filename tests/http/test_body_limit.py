"""Request bodies over `max_body_bytes` are refused with 413 before the app reads them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from amount_updater.config import Settings
from tests.api.test_checkout_sessions import SESSION_URL, SID, token_for
from tests.support.stripe_objects import checkout_session, product_line

LIMIT = 1024
CHANGE_URL = f"/v1/checkout-sessions/{SID}/items"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_body_bytes": LIMIT})


@pytest.fixture
def stripe_session(stripe_mock: respx.MockRouter) -> respx.Route:
    session = checkout_session(line_items=[product_line("tshirt", "T-shirt", 2500, 1, id="li_1")])
    stripe_mock.get(SESSION_URL).respond(200, json=session)
    return stripe_mock.post(SESSION_URL).respond(200, json={**session, "line_items": None})


def body_of(size: int) -> bytes:
    """A valid add-item body padded with whitespace to exactly `size` bytes."""
    body = json.dumps({"product_id": "mug"}).encode()
    return body[:-1] + b" " * (size - len(body)) + b"}"


async def chunks(body: bytes, size: int = 100) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "payload_too_large"
    assert str(LIMIT) in problem["detail"]


class TestContentLength:
    @pytest.mark.asyncio
    async def test_a_declared_length_over_the_limit_is_413(
        self, client, stripe_mock: respx.MockRouter
    ):
        response = await client.post(
            CHANGE_URL, content=body_of(LIMIT + 1), headers={**token_for(), **JSON}
        )

        assert_too_large(response)
        assert not stripe_mock.calls

    @pytest.mark.asyncio
    async def test_the_refusal_comes_before_authentication(
        self, client, stripe_mock: respx.MockRouter
    ):
        response = await client.post(CHANGE_URL, content=body_of(LIMIT + 1), headers=JSON)

        assert_too_large(response)  # the app would have answered 401

    @pytest.mark.asyncio
    async def test_the_refusal_comes_before_the_idempotency_key_is_recorded(
        self, client, stripe_session: respx.Route
    ):
        headers = {**token_for(), **JSON, "Idempotency-Key": "key-1"}

        refused = await client.post(CHANGE_URL, content=body_of(LIMIT + 1), headers=headers)
        accepted = await client.post(CHANGE_URL, content=body_of(100), headers=headers)

        assert_too_large(refused)
        assert accepted.status_code == 200, accepted.text  # not 409 idempotency_key_reused

    @pytest.mark.asyncio
    async def test_a_body_of_exactly_the_limit_passes(self, client, stripe_session: respx.Route):
        response = await client.post(
            CHANGE_URL, content=body_of(LIMIT), headers={**token_for(), **JSON}
        )

        assert response.status_code == 200, response.text
        assert stripe_session.called

    @pytest.mark.asyncio
    async def test_a_small_body_passes(self, client, stripe_session: respx.Route):
        response = await client.post(CHANGE_URL, json={"product_id": "mug"}, headers=token_for())

        assert response.status_code == 200, response.text


class TestChunked:
    @pytest.mark.asyncio
    async def test_a_chunked_body_over_the_limit_is_413(
        self, client, stripe_mock: respx.MockRouter
    ):
        request = client.build_request(
            "POST", CHANGE_URL, content=chunks(body_of(LIMIT + 1)), headers={**token_for(), **JSON}
        )
        assert "content-length" not in request.headers

        response = await client.send(request)

        assert_too_large(response)
        assert not stripe_mock.calls

    @pytest.mark.asyncio
    async def test_a_chunked_body_over_the_limit_with_an_idempotency_key_is_413(
        self, client, stripe_mock: respx.MockRouter
    ):
        headers = {**token_for(), **JSON, "Idempotency-Key": "key-1"}

        response = await client.post(
            CHANGE_URL, content=chunks(body_of(LIMIT + 1)), headers=headers
        )

        assert_too_large(response)
        assert not stripe_mock.calls

    @pytest.mark.asyncio
    async def test_a_chunked_body_under_the_limit_passes(self, client, stripe_session: respx.Route):
        response = await client.post(
            CHANGE_URL, content=chunks(body_of(LIMIT)), headers={**token_for(), **JSON}
        )

        assert response.status_code == 200, response.text
        assert stripe_session.called

    @pytest.mark.asyncio
    async def test_a_chunked_body_under_the_limit_with_an_idempotency_key_passes(
        self, client, stripe_session: respx.Route
    ):
        headers = {**token_for(), **JSON, "Idempotency-Key": "key-1"}

        response = await client.post(CHANGE_URL, content=chunks(body_of(LIMIT)), headers=headers)

        assert response.status_code == 200, response.text

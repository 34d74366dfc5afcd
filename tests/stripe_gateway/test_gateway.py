"""The gateway's retry loop, seen at the wire: what Stripe receives when it fails, and what the
caller is answered. Stripe is mocked with respx; the retry sleeps are recorded, not slept."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx

from amount_updater.config import Settings
from amount_updater.stripe_gateway import gateway as gateway_module
from tests.api.test_checkout_sessions import SESSION_URL, SID, token_for
from tests.support.stripe_objects import checkout_session, product_line, stripe_error

ADD_MUG = {"product_id": "mug"}
CHANGE_URL = f"/v1/checkout-sessions/{SID}/items"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"stripe_max_retries": 2})


class _AsyncioRecordingSleeps:
    """The gateway's view of `asyncio`: everything real, except that sleeps are recorded."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __getattr__(self, name: str) -> object:
        return getattr(asyncio, name)

    async def sleep(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The delays the gateway waits between attempts (the wait itself is skipped)."""
    recorder = _AsyncioRecordingSleeps()
    monkeypatch.setattr(gateway_module, "asyncio", recorder)
    return recorder.delays


@pytest.fixture
def session() -> dict:
    return checkout_session(line_items=[product_line("tshirt", "T-shirt", 2500, 1, id="li_shirt")])


def updated(session: dict, total: int = 3700) -> httpx.Response:
    return httpx.Response(200, json={**session, "line_items": None, "amount_total": total})


def keys(route: respx.Route) -> list[str]:
    return [call.request.headers["Idempotency-Key"] for call in route.calls]


async def add_mug(client: httpx.AsyncClient, **headers: str) -> httpx.Response:
    return await client.post(CHANGE_URL, json=ADD_MUG, headers={**token_for(), **headers})


class TestRetriedWrites:
    @pytest.mark.asyncio
    async def test_a_500_then_200_lands_the_change_with_one_idempotency_key(
        self, client, stripe_mock: respx.MockRouter, session, sleeps
    ):
        stripe_mock.get(SESSION_URL).respond(200, json=session)
        update = stripe_mock.post(SESSION_URL).mock(
            side_effect=[
                httpx.Response(500, json=stripe_error("", "boom", "api_error")),
                updated(session),
            ]
        )

        response = await add_mug(client)

        assert response.status_code == 200, response.text
        assert response.json()["amount_total"] == 3700
        assert update.call_count == 2
        assert len(set(keys(update))) == 1
        assert update.calls[0].request.content == update.calls[1].request.content

    @pytest.mark.asyncio
    async def test_a_429_lock_timeout_with_should_retry_is_retried(
        self, client, stripe_mock: respx.MockRouter, session, sleeps
    ):
        stripe_mock.get(SESSION_URL).respond(200, json=session)
        lock_timeout = httpx.Response(
            429,
            json=stripe_error("lock_timeout", "This object cannot be accessed right now."),
            headers={"Stripe-Should-Retry": "true"},
        )
        update = stripe_mock.post(SESSION_URL).mock(side_effect=[lock_timeout, updated(session)])

        response = await add_mug(client)

        assert response.status_code == 200, response.text
        assert update.call_count == 2
        assert len(set(keys(update))) == 1

    @pytest.mark.asyncio
    async def test_a_429_lock_timeout_is_retried_on_its_code_alone(
        self, client, stripe_mock: respx.MockRouter, session, sleeps
    ):
        stripe_mock.get(SESSION_URL).respond(200, json=session)
        lock_timeout = httpx.Response(429, json=stripe_error("lock_timeout", "busy"))
        update = stripe_mock.post(SESSION_URL).mock(side_effect=[lock_timeout, updated(session)])

        response = await add_mug(client)

        assert response.status_code == 200, response.text
        assert update.call_count == 2

    @pytest.mark.asyncio
    async def test_a_409_conflict_then_200_is_retried_with_the_same_key(
        self, client, stripe_mock: respx.MockRouter, session, sleeps
    ):
        stripe_mock.get(SESSION_URL).respond(200, json=session)
        in_flight = httpx.Response(
            409,
            json=stripe_error("idempotency_key_in_use", "In use", "idempotency_error"),
        )
        update = stripe_mock.post(SESSION_URL).mock(side_effect=[in_flight, updated(session)])

        response = await add_mug(client)

        assert response.status_code == 200, response.text
        assert update.call_count == 2
        assert len(set(keys(update))) == 1

    @pytest.mark.asyncio
    async def test_a_read_timeout_then_200_reuses_the_same_key(
        self, client, stripe_mock: respx.MockRouter, session, sleeps
    ):
        stripe_mock.get(SESSION_URL).respond(200, json=session)
        update = stripe_mock.post(SESSION_URL).mock(
            side_effect=[httpx.ReadTimeout("answer lost"), updated(session)]
        )

        response = await add_mug(client)

        assert response.status_code == 200, response.text
        assert update.call_count == 2
        assert len(set(keys(update))) == 1

    @pytest.mark.asyncio
    async def test_a_create_without_a_caller_key_still_keeps_one_key_across_attempts(
        self, client, stripe_mock: respx.MockRouter, sleeps
    ):
        created = checkout_session(
            id="cs_test_new", line_items=[product_line("mug", "Mug", 1200, 1)]
        )
        create = stripe_mock.post("/v1/checkout/sessions").mock(
            side_effect=[httpx.ConnectError("reset"), httpx.Response(200, json=created)]
        )

        response = await client.post(
            "/v1/checkout-sessions", json={"currency": "usd", "items": [{"product_id": "mug"}]}
        )

        assert response.status_code == 201, response.text
        assert create.call_count == 2
        assert len(set(keys(create))) == 1
        assert keys(create)[0].startswith("au-")

    @pytest.mark.asyncio
    async def test_a_read_is_retried_after_a_server_error(
        self, client, stripe_mock: respx.MockRouter, session, sleeps
    ):
        read = stripe_mock.get(SESSION_URL).mock(
            side_effect=[httpx.Response(502), httpx.Response(200, json=session)]
        )

        response = await client.get(f"/v1/checkout-sessions/{SID}", headers=token_for())

        assert response.status_code == 200, response.text
        assert read.call_count == 2


class TestGivingUp:
    @pytest.mark.asyncio
    async def test_a_plain_429_is_retried_then_answered_rate_limited(
        self, client, stripe_mock: respx.MockRouter, session, sleeps
    ):
        stripe_mock.get(SESSION_URL).respond(200, json=session)
        update = stripe_mock.post(SESSION_URL).respond(
            429, json=stripe_error("rate_limit", "Too many requests", "invalid_request_error")
        )

        response = await add_mug(client)

        assert response.status_code == 429
        assert response.json()["code"] == "rate_limited"
        assert response.headers["Retry-After"]
        assert update.call_count == 3  # the first attempt and two retries, one Stripe key
        keys = {call.request.headers["idempotency-key"] for call in update.calls}
        assert len(keys) == 1
        assert len(sleeps) == 2

    @pytest.mark.asyncio
    async def test_a_plain_429_then_success_is_applied(
        self, client, stripe_mock: respx.MockRouter, session, sleeps
    ):
        stripe_mock.get(SESSION_URL).respond(200, json=session)
        limited = httpx.Response(
            429,
            json=stripe_error("rate_limit", "Too many requests", "invalid_request_error"),
            headers={"Retry-After": "1"},
        )
        stripe_mock.post(SESSION_URL).mock(side_effect=[limited, updated(session)])

        response = await add_mug(client)

        assert response.status_code == 200, response.text
        assert sleeps == [1.0]

    @pytest.mark.asyncio
    async def test_a_client_error_is_not_retried(
        self, client, stripe_mock: respx.MockRouter, session, sleeps
    ):
        stripe_mock.get(SESSION_URL).respond(200, json=session)
        update = stripe_mock.post(SESSION_URL).respond(
            400, json=stripe_error("parameter_invalid_integer", "Invalid integer")
        )

        response = await add_mug(client)

        assert response.status_code == 502
        assert response.json()["code"] == "stripe_error"
        assert update.call_count == 1

    @pytest.mark.asyncio
    async def test_should_retry_false_stops_a_server_error_from_being_retried(
        self, client, stripe_mock: respx.MockRouter, session, sleeps
    ):
        stripe_mock.get(SESSION_URL).respond(200, json=session)
        update = stripe_mock.post(SESSION_URL).respond(
            500,
            json=stripe_error("", "boom", "api_error"),
            headers={"Stripe-Should-Retry": "false"},
        )

        response = await add_mug(client)

        assert response.status_code == 503
        assert update.call_count == 1

    @pytest.mark.asyncio
    async def test_after_max_retries_the_failure_is_answered(
        self, client, stripe_mock: respx.MockRouter, session, sleeps
    ):
        stripe_mock.get(SESSION_URL).respond(200, json=session)
        update = stripe_mock.post(SESSION_URL).respond(
            503, json=stripe_error("", "unavailable", "api_error")
        )

        response = await add_mug(client)

        assert response.status_code == 503
        assert response.json()["code"] == "stripe_unavailable"
        assert update.call_count == 3  # the first attempt and stripe_max_retries=2 retries
        assert len(set(keys(update))) == 1
        assert len(sleeps) == 2


class TestDelays:
    @pytest.mark.asyncio
    async def test_retry_after_zero_is_honoured(
        self, client, stripe_mock: respx.MockRouter, session, sleeps
    ):
        stripe_mock.get(SESSION_URL).respond(200, json=session)
        busy = httpx.Response(
            503, json=stripe_error("", "busy", "api_error"), headers={"Retry-After": "0"}
        )
        stripe_mock.post(SESSION_URL).mock(side_effect=[busy, updated(session)])

        response = await add_mug(client)

        assert response.status_code == 200, response.text
        assert sleeps == [0.0]

    @pytest.mark.asyncio
    async def test_a_retry_after_past_the_budget_is_not_waited_for(
        self, client, stripe_mock: respx.MockRouter, session, sleeps
    ):
        stripe_mock.get(SESSION_URL).respond(200, json=session)
        busy = httpx.Response(
            503, json=stripe_error("", "busy", "api_error"), headers={"Retry-After": "120"}
        )
        update = stripe_mock.post(SESSION_URL).mock(side_effect=[busy, updated(session)])

        response = await add_mug(client)

        assert response.status_code == 503
        assert response.json()["code"] == "stripe_unavailable"
        assert update.call_count == 1
        assert sleeps == []

    @pytest.mark.asyncio
    async def test_without_retry_after_the_delays_back_off(
        self, client, stripe_mock: respx.MockRouter, session, sleeps
    ):
        stripe_mock.get(SESSION_URL).respond(200, json=session)
        stripe_mock.post(SESSION_URL).respond(500, json=stripe_error("", "boom", "api_error"))

        await add_mug(client)

        first, second = sleeps
        assert 0.125 <= first <= 0.25
        assert 0.25 <= second <= 0.5


class TestRequestBudget:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"request_budget_s": 0.5})

    @pytest.mark.asyncio
    async def test_a_hanging_stripe_is_answered_504_within_the_budget(
        self, client, stripe_mock: respx.MockRouter, session
    ):
        async def hang(request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(30)
            raise AssertionError("the request budget should have ended this call")

        stripe_mock.get(SESSION_URL).mock(side_effect=hang)

        response = await add_mug(client)

        assert response.status_code == 504
        assert response.json()["code"] == "stripe_timeout"

    @pytest.mark.asyncio
    async def test_a_hanging_write_is_answered_504(
        self, client, stripe_mock: respx.MockRouter, session
    ):
        async def hang(request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(30)
            raise AssertionError("the request budget should have ended this call")

        stripe_mock.get(SESSION_URL).respond(200, json=session)
        stripe_mock.post(SESSION_URL).mock(side_effect=hang)

        response = await add_mug(client)

        assert response.status_code == 504
        assert response.json()["code"] == "stripe_timeout"

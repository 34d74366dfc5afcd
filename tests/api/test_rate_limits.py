"""The service's own rate limits through the API: anonymous creations per client address,
token holders' changes (per minute, and every caller's per hour) and cart reads per object,
refused with 429 `rate_limited` and an integer Retry-After before Stripe is called; 0 disables
a limit; with Redis every replica shares the count. (Which limits a caller class meets:
tests/coordination/test_caller_limits.py; on the real process: tests/e2e.)

The windows move with the wall clock, so it is frozen here (and moved by hand) for the tests to
say exactly when a refused request may pass.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import respx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from amount_updater.config import Settings
from tests.api.test_checkout_sessions import token_for
from tests.conftest import build_app
from tests.support.redis_server import running_redis
from tests.support.stripe_objects import NOW, checkout_session, form, payment_intent, product_line

FROZEN = float(NOW + 15)
CREATE = {"currency": "usd", "items": [{"product_id": "tshirt"}]}


def with_settings(base: Settings, **changes: Any) -> Settings:
    return Settings(**{**base.model_dump(), **changes})


class FrozenClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def freeze_rate_windows(monkeypatch: pytest.MonkeyPatch, at: float = FROZEN) -> FrozenClock:
    """The wall clock (which the windows, in memory and in Redis, are kept by) stands still at
    `at` until moved."""
    clock = FrozenClock(at)
    monkeypatch.setattr(time, "time", clock)
    return clock


@pytest.fixture(autouse=True)
def rate_clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    return freeze_rate_windows(monkeypatch)


def mock_create(stripe_mock: respx.MockRouter) -> respx.Route:
    session = checkout_session(line_items=[product_line("tshirt", "T-shirt", 2500, 1)])
    return stripe_mock.post("/v1/checkout/sessions").respond(200, json=session)


def mock_sessions(stripe_mock: respx.MockRouter, *ids: str) -> dict[str, respx.Route]:
    """For each id, a session to change: GET answers it, POST answers the update."""
    writes = {}
    for sid in ids:
        session = checkout_session(
            id=sid, line_items=[product_line("tshirt", "T-shirt", 2500, 1, id=f"li_{sid}")]
        )
        stripe_mock.get(f"/v1/checkout/sessions/{sid}").respond(200, json=session)
        writes[sid] = stripe_mock.post(f"/v1/checkout/sessions/{sid}").respond(
            200, json={**session, "line_items": None}
        )
    return writes


async def add_mug(client: httpx.AsyncClient, sid: str) -> httpx.Response:
    return await client.post(
        f"/v1/checkout-sessions/{sid}/items", json={"product_id": "mug"}, headers=token_for(sid)
    )


def assert_rate_limited(response: httpx.Response, retry_after: int | None = None) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "rate_limited"
    assert response.headers["retry-after"].isdigit()
    if retry_after is not None:
        assert int(response.headers["retry-after"]) == retry_after


ClientFor = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest_asyncio.fixture
async def client_from(app: FastAPI, stripe_mock: respx.MockRouter) -> AsyncIterator[ClientFor]:
    """Clients of one running app, each connecting from the address given."""
    async with LifespanManager(app) as manager:

        @asynccontextmanager
        async def client_for(address: str) -> AsyncIterator[httpx.AsyncClient]:
            transport = httpx.ASGITransport(app=manager.app, client=(address, 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                yield c

        yield client_for


class TestCreation:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return with_settings(settings, rate_limit_creates_per_minute=2)

    @pytest.mark.asyncio
    async def test_the_third_session_create_in_a_minute_is_429_without_a_stripe_call(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        create = mock_create(stripe_mock)

        answers = [await client.post("/v1/checkout-sessions", json=CREATE) for _ in range(3)]

        assert [a.status_code for a in answers[:2]] == [201, 201]
        assert_rate_limited(answers[2], retry_after=61)
        assert create.call_count == 2

    @pytest.mark.asyncio
    async def test_payment_intent_creation_is_limited_too(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        create = stripe_mock.post("/v1/payment_intents").mock(
            side_effect=lambda request: httpx.Response(
                200, json=payment_intent(amount=int(form(request.content)["amount"]))
            )
        )

        answers = [await client.post("/v1/payment-intents", json=CREATE) for _ in range(3)]

        assert [a.status_code for a in answers[:2]] == [201, 201]
        assert_rate_limited(answers[2])
        assert create.call_count == 2

    @pytest.mark.asyncio
    async def test_the_limit_counts_per_client_address(
        self, client_from: ClientFor, stripe_mock: respx.MockRouter
    ):
        mock_create(stripe_mock)

        async with client_from("203.0.113.1") as shopper, client_from("203.0.113.2") as other:
            for _ in range(2):
                assert (await shopper.post("/v1/checkout-sessions", json=CREATE)).is_success
            refused = await shopper.post("/v1/checkout-sessions", json=CREATE)
            allowed = await other.post("/v1/checkout-sessions", json=CREATE)

        assert_rate_limited(refused)
        assert allowed.status_code == 201, allowed.text

    @pytest.mark.asyncio
    async def test_after_retry_after_a_new_create_passes_again(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, rate_clock: FrozenClock
    ):
        mock_create(stripe_mock)
        for _ in range(3):
            await client.post("/v1/checkout-sessions", json=CREATE)

        rate_clock.now += 61  # the Retry-After of the refusal
        retried = await client.post("/v1/checkout-sessions", json=CREATE)

        assert retried.status_code == 201, retried.text

    @pytest.mark.asyncio
    async def test_a_refused_create_retried_with_its_idempotency_key_after_retry_after_passes(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter, rate_clock: FrozenClock
    ):
        create = mock_create(stripe_mock)
        for key in ("first", "second"):
            await client.post(
                "/v1/checkout-sessions", json=CREATE, headers={"Idempotency-Key": key}
            )
        refused = await client.post(
            "/v1/checkout-sessions", json=CREATE, headers={"Idempotency-Key": "third"}
        )
        assert_rate_limited(refused, retry_after=61)

        rate_clock.now += 61
        retried = await client.post(
            "/v1/checkout-sessions", json=CREATE, headers={"Idempotency-Key": "third"}
        )

        assert retried.status_code == 201, retried.text
        assert create.call_count == 3

    @pytest.mark.asyncio
    async def test_a_refusal_is_counted_in_the_metrics_by_limit(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        mock_create(stripe_mock)
        for _ in range(3):
            await client.post("/v1/checkout-sessions", json=CREATE)

        exposition = (await client.get("/metrics")).text

        assert 'amount_updater_rate_limited_total{limit="anonymous_creates"} 1.0' in exposition


class TestChanges:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return with_settings(settings, rate_limit_changes_per_minute=2)

    @pytest.mark.asyncio
    async def test_the_third_change_to_one_session_in_a_minute_is_429_before_stripe(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        writes = mock_sessions(stripe_mock, "cs_test_one")

        answers = [await add_mug(client, "cs_test_one") for _ in range(3)]

        assert [a.status_code for a in answers[:2]] == [200, 200]
        assert_rate_limited(answers[2], retry_after=61)
        assert len(stripe_mock.calls) == 4  # two reads and two writes: none for the third
        assert writes["cs_test_one"].call_count == 2

    @pytest.mark.asyncio
    async def test_another_session_still_changes_when_one_is_limited(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        mock_sessions(stripe_mock, "cs_test_one", "cs_test_two")
        for _ in range(3):
            await add_mug(client, "cs_test_one")

        other = await add_mug(client, "cs_test_two")

        assert other.status_code == 200, other.text

    @pytest.mark.asyncio
    async def test_reading_a_cart_does_not_use_up_the_change_limit(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        mock_sessions(stripe_mock, "cs_test_one")

        reads = [
            await client.get("/v1/checkout-sessions/cs_test_one", headers=token_for("cs_test_one"))
            for _ in range(5)
        ]
        changes = [await add_mug(client, "cs_test_one") for _ in range(2)]

        assert [r.status_code for r in reads] == [200] * 5
        assert [c.status_code for c in changes] == [200, 200]

    @pytest.mark.asyncio
    async def test_every_change_route_counts_against_the_same_object(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        mock_sessions(stripe_mock, "cs_test_one")
        headers = token_for("cs_test_one")
        url = "/v1/checkout-sessions/cs_test_one"

        await add_mug(client, "cs_test_one")
        await client.put(f"{url}/shipping", json={"shipping_rate_id": "standard"}, headers=headers)
        third = await client.delete(f"{url}/items/mug", headers=headers)

        assert_rate_limited(third)

    @pytest.mark.asyncio
    async def test_a_refused_change_is_counted_in_the_metrics_by_limit(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        mock_sessions(stripe_mock, "cs_test_one")
        for _ in range(3):
            await add_mug(client, "cs_test_one")

        exposition = (await client.get("/metrics")).text

        assert 'amount_updater_rate_limited_total{limit="token_changes"} 1.0' in exposition


class TestReads:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return with_settings(settings, rate_limit_reads_per_minute=3)

    @pytest.mark.asyncio
    async def test_the_fourth_read_of_one_cart_in_a_minute_is_429_before_stripe(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        mock_sessions(stripe_mock, "cs_test_one")
        headers = token_for("cs_test_one")

        reads = [
            await client.get("/v1/checkout-sessions/cs_test_one", headers=headers) for _ in range(4)
        ]

        assert [r.status_code for r in reads[:3]] == [200] * 3
        assert_rate_limited(reads[3], retry_after=61)
        assert len(stripe_mock.calls) == 3

    @pytest.mark.asyncio
    async def test_reads_of_a_payment_intent_are_limited_too(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        from tests.api.test_payment_intents import OURS, auth

        stripe_mock.get("/v1/payment_intents/pi_test_a1").respond(
            200, json=payment_intent(amount=5000, metadata=OURS)
        )
        url = "/v1/payment-intents/pi_test_a1"

        reads = [await client.get(url, headers=auth("pi_test_a1")) for _ in range(4)]

        assert [r.status_code for r in reads[:3]] == [200] * 3
        assert_rate_limited(reads[3])


class TestHourlyChanges:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return with_settings(
            settings, rate_limit_changes_per_minute=0, rate_limit_changes_per_hour=2
        )

    @pytest.mark.asyncio
    async def test_the_hourly_limit_refuses_with_the_time_left_in_the_hour(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        mock_sessions(stripe_mock, "cs_test_one")

        answers = [await add_mug(client, "cs_test_one") for _ in range(3)]

        assert [a.status_code for a in answers[:2]] == [200, 200]
        assert_rate_limited(answers[2], retry_after=3601)


class TestDisabled:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return with_settings(
            settings,
            rate_limit_creates_per_minute=0,
            rate_limit_changes_per_minute=0,
            rate_limit_changes_per_hour=0,
        )

    @pytest.mark.asyncio
    async def test_zero_disables_the_creation_limit(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        create = mock_create(stripe_mock)

        answers = [await client.post("/v1/checkout-sessions", json=CREATE) for _ in range(31)]

        assert {a.status_code for a in answers} == {201}
        assert create.call_count == 31  # the default allows 30

    @pytest.mark.asyncio
    async def test_zero_disables_the_change_limits(
        self, client: httpx.AsyncClient, stripe_mock: respx.MockRouter
    ):
        mock_sessions(stripe_mock, "cs_test_one")

        answers = [await add_mug(client, "cs_test_one") for _ in range(61)]

        assert {a.status_code for a in answers} == {200}  # the default allows 60


class TestSharedInRedis:
    @pytest.mark.asyncio
    async def test_two_replicas_sharing_redis_share_the_creation_count(
        self, settings: Settings, stripe_mock: respx.MockRouter, tmp_path: Path
    ):
        create = mock_create(stripe_mock)
        with running_redis(tmp_path) as redis_server:
            shared = with_settings(
                settings, redis_url=redis_server.url, rate_limit_creates_per_minute=2
            )
            replica_a = build_app(shared, stripe_mock)
            replica_b = build_app(shared, stripe_mock)
            async with LifespanManager(replica_a) as a, LifespanManager(replica_b) as b:
                transport_a = httpx.ASGITransport(app=a.app)
                transport_b = httpx.ASGITransport(app=b.app)
                async with (
                    httpx.AsyncClient(transport=transport_a, base_url="http://a") as client_a,
                    httpx.AsyncClient(transport=transport_b, base_url="http://b") as client_b,
                ):
                    first = await client_a.post("/v1/checkout-sessions", json=CREATE)
                    second = await client_b.post("/v1/checkout-sessions", json=CREATE)
                    third = await client_a.post("/v1/checkout-sessions", json=CREATE)

        assert (first.status_code, second.status_code) == (201, 201)
        assert_rate_limited(third, retry_after=61)
        assert create.call_count == 2

    @pytest.mark.asyncio
    async def test_two_replicas_sharing_redis_share_the_change_count_of_an_object(
        self, settings: Settings, stripe_mock: respx.MockRouter, tmp_path: Path
    ):
        mock_sessions(stripe_mock, "cs_test_one")
        with running_redis(tmp_path) as redis_server:
            shared = with_settings(
                settings, redis_url=redis_server.url, rate_limit_changes_per_minute=1
            )
            replica_a = build_app(shared, stripe_mock)
            replica_b = build_app(shared, stripe_mock)
            async with LifespanManager(replica_a) as a, LifespanManager(replica_b) as b:
                transport_a = httpx.ASGITransport(app=a.app)
                transport_b = httpx.ASGITransport(app=b.app)
                async with (
                    httpx.AsyncClient(transport=transport_a, base_url="http://a") as client_a,
                    httpx.AsyncClient(transport=transport_b, base_url="http://b") as client_b,
                ):
                    first = await add_mug(client_a, "cs_test_one")
                    second = await add_mug(client_b, "cs_test_one")

        assert first.status_code == 200, first.text
        assert_rate_limited(second)

"""Stripe's rate limits spent before each call: a call waits for the account's and its
endpoint's one-second windows, within its deadline, and is refused at once when the wait could
not end in time; with Redis the windows are shared by replicas."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import BlockingConnectionPool

from amount_updater.errors import StripeRateLimited
from amount_updater.stripe_gateway.rate_budget import StripeRateBudget, account_rate, endpoint_rate
from tests.support.redis_server import running_redis


def budget(per_second: int, per_endpoint: int, waits: list[None] | None = None) -> StripeRateBudget:
    return StripeRateBudget(
        MovingWindowRateLimiter(MemoryStorage()),
        per_second=per_second,
        per_endpoint=per_endpoint,
        on_wait=None if waits is None else lambda: waits.append(None),
    )


def far() -> float:
    return asyncio.get_running_loop().time() + 30


class TestWindows:
    @pytest.mark.asyncio
    async def test_calls_within_both_windows_do_not_wait(self):
        waits: list[None] = []
        spender = budget(10, 5, waits)
        started = time.monotonic()
        for _ in range(5):
            await spender.spend("checkout.sessions.update", deadline=far())
        assert time.monotonic() - started < 0.5
        assert waits == []

    @pytest.mark.asyncio
    async def test_past_the_endpoints_window_a_call_waits_for_it(self):
        waits: list[None] = []
        spender = budget(100, 3, waits)
        started = time.monotonic()
        for _ in range(4):
            await spender.spend("checkout.sessions.update", deadline=far())
        assert 0.8 < time.monotonic() - started < 2.0  # the fourth waited for the window
        assert waits == [None]

    @pytest.mark.asyncio
    async def test_another_endpoint_has_its_own_window(self):
        spender = budget(100, 3)
        for _ in range(3):
            await spender.spend("checkout.sessions.update", deadline=far())
        started = time.monotonic()
        await spender.spend("checkout.sessions.retrieve", deadline=far())
        assert time.monotonic() - started < 0.5

    @pytest.mark.asyncio
    async def test_the_accounts_window_covers_every_endpoint(self):
        spender = budget(4, 25)
        started = time.monotonic()
        for endpoint in ("a", "b", "c", "d", "e"):
            await spender.spend(endpoint, deadline=far())
        assert time.monotonic() - started > 0.8  # the fifth waited for the account's window

    @pytest.mark.asyncio
    async def test_a_wait_that_would_pass_the_deadline_is_refused_at_once(self):
        spender = budget(100, 1)
        await spender.spend("x", deadline=far())
        started = time.monotonic()
        with pytest.raises(StripeRateLimited) as refused:
            await spender.spend("x", deadline=asyncio.get_running_loop().time() + 0.2)
        assert time.monotonic() - started < 0.1
        assert refused.value.status == 429
        assert refused.value.headers == {"Retry-After": "1"}

    @pytest.mark.asyncio
    async def test_zero_turns_a_window_off(self):
        spender = budget(0, 0)
        started = time.monotonic()
        for _ in range(200):
            await spender.spend("x", deadline=far())
        assert time.monotonic() - started < 1


def test_the_accounts_rate_follows_the_keys_mode_unless_configured():
    # Stripe's 100 and 25, less the tenth kept in reserve.
    assert account_rate("sk_live_abc", None) == 90
    assert account_rate("rk_live_abc", None) == 90
    assert account_rate("sk_test_abc", None) == 22
    assert account_rate("sk_live_abc", 40) == 40
    assert account_rate("sk_test_abc", 0) == 0
    assert account_rate("sk_test_sandbox", None, sandbox=True) == 0
    assert endpoint_rate(None) == 22
    assert endpoint_rate(None, sandbox=True) == 0
    assert endpoint_rate(10, sandbox=True) == 10


@pytest_asyncio.fixture
async def redis_storage(tmp_path) -> AsyncIterator[RedisStorage]:
    with running_redis(tmp_path) as server:
        pool = BlockingConnectionPool.from_url(server.url, max_connections=10)
        storage = RedisStorage(
            "async+" + server.url, implementation="redispy", connection_pool=pool
        )
        try:
            yield storage
        finally:
            await pool.disconnect()


class TestSharedInRedis:
    @pytest.mark.asyncio
    async def test_two_replicas_share_the_endpoints_window(self, redis_storage: RedisStorage):
        one = StripeRateBudget(
            MovingWindowRateLimiter(redis_storage), per_second=100, per_endpoint=4
        )
        two = StripeRateBudget(
            MovingWindowRateLimiter(redis_storage), per_second=100, per_endpoint=4
        )
        started = time.monotonic()
        for spender in (one, two, one, two):
            await spender.spend("x", deadline=far())
        assert time.monotonic() - started < 0.5
        await two.spend("x", deadline=far())  # the fifth of the shared four: waits
        assert time.monotonic() - started > 0.8


class TestTurnsAndPrepay:
    @pytest.mark.asyncio
    async def test_waiters_are_served_in_arrival_order(self):
        spender = budget(100, 2)
        order: list[int] = []

        async def call(n: int) -> None:
            await spender.spend("x", deadline=far())
            order.append(n)

        tasks = []
        for n in range(6):
            tasks.append(asyncio.create_task(call(n)))
            await asyncio.sleep(0.01)
        await asyncio.gather(*tasks)
        assert order == list(range(6))

    @pytest.mark.asyncio
    async def test_a_prepaid_request_is_used_by_the_next_call_of_that_endpoint(self):
        spender = budget(100, 2)
        await spender.prepay("x", deadline=far())
        await spender.spend("x", deadline=far())  # the prepaid one: takes nothing
        started = time.monotonic()
        await spender.spend("x", deadline=far())  # the second of the window's two
        assert time.monotonic() - started < 0.5
        await spender.spend("x", deadline=far())  # the third: waits
        assert time.monotonic() - started > 0.8

    @pytest.mark.asyncio
    async def test_a_prepaid_request_is_not_used_by_another_endpoint(self):
        spender = budget(100, 1)
        await spender.prepay("x", deadline=far())
        await spender.spend("y", deadline=far())
        started = time.monotonic()
        await spender.spend("x", deadline=far())  # still prepaid
        assert time.monotonic() - started < 0.5


class TestStorageDown:
    @pytest.mark.asyncio
    async def test_windows_that_cannot_be_read_let_the_call_go_uncounted(self, tmp_path, caplog):
        with running_redis(tmp_path) as server:
            pool = BlockingConnectionPool.from_url(server.url, max_connections=5, timeout=1)
            storage = RedisStorage(
                "async+" + server.url,
                implementation="redispy",
                wrap_exceptions=True,
                connection_pool=pool,
            )
            spender = StripeRateBudget(
                MovingWindowRateLimiter(storage), per_second=1, per_endpoint=1
            )
            server.stop()
            started = time.monotonic()
            for _ in range(3):
                await spender.spend("x", deadline=far())
            await pool.disconnect()
        assert time.monotonic() - started < 5
        assert "stripe_budget.unavailable" in caplog.messages

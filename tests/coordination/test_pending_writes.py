"""Writes recorded before they are sent, in memory and in Redis (a real redis-server)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from amount_updater.coordination.pending_writes import (
    RECORD_TTL_S,
    MemoryPendingWrites,
    PendingWrites,
    RedisPendingWrites,
)
from amount_updater.errors import CoordinationUnavailable
from amount_updater.stripe_gateway import StripeWrite
from tests.support.redis_server import running_redis

WRITE = StripeWrite(
    operation="checkout.sessions.update",
    path="/v1/checkout/sessions/cs_test_1",
    params={"line_items": [{"id": "li_1"}, {"id": "li_2", "quantity": 2}], "metadata": {"a": ""}},
    idempotency_key="au-cs-update-0123",
    what="checkout session",
)


@pytest_asyncio.fixture(params=["memory", "redis"])
async def pending(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[PendingWrites]:
    if request.param == "memory":
        yield MemoryPendingWrites()
        return
    with running_redis(tmp_path) as server:
        redis = Redis.from_url(server.url)
        try:
            yield RedisPendingWrites(redis)
        finally:
            await redis.aclose()


class TestContract:
    @pytest.mark.asyncio
    async def test_a_recorded_write_is_found_whole(self, pending: PendingWrites):
        await pending.record("cs_test_1", WRITE)
        assert await pending.find("cs_test_1") == WRITE

    @pytest.mark.asyncio
    async def test_nothing_is_found_for_another_object(self, pending: PendingWrites):
        await pending.record("cs_test_1", WRITE)
        assert await pending.find("cs_test_2") is None

    @pytest.mark.asyncio
    async def test_a_cleared_write_is_gone(self, pending: PendingWrites):
        await pending.record("cs_test_1", WRITE)
        await pending.clear("cs_test_1")
        assert await pending.find("cs_test_1") is None

    @pytest.mark.asyncio
    async def test_a_newer_write_replaces_the_older_one(self, pending: PendingWrites):
        newer = StripeWrite(**{**WRITE.dump(), "idempotency_key": "au-cs-update-4567"})
        await pending.record("cs_test_1", WRITE)
        await pending.record("cs_test_1", newer)
        assert await pending.find("cs_test_1") == newer


class TestMemory:
    @pytest.mark.asyncio
    async def test_a_record_older_than_stripes_key_retention_is_dropped(self):
        now = [0.0]
        pending = MemoryPendingWrites(clock=lambda: now[0])
        await pending.record("cs_test_1", WRITE)
        now[0] += RECORD_TTL_S
        assert await pending.find("cs_test_1") is None

    @pytest.mark.asyncio
    async def test_past_max_entries_the_oldest_go(self):
        pending = MemoryPendingWrites(max_entries=3)
        for n in range(5):
            await pending.record(f"cs_test_{n}", WRITE)
        assert len(pending) == 3
        assert await pending.find("cs_test_0") is None
        assert await pending.find("cs_test_4") == WRITE


class TestRedis:
    @pytest.mark.asyncio
    async def test_a_record_survives_the_process_that_wrote_it(self, tmp_path):
        with running_redis(tmp_path) as server:
            first = Redis.from_url(server.url)
            await RedisPendingWrites(first).record("cs_test_1", WRITE)
            await first.aclose()
            second = Redis.from_url(server.url)
            try:
                assert await RedisPendingWrites(second).find("cs_test_1") == WRITE
                assert 0 < await second.ttl("au:pending:cs_test_1") <= RECORD_TTL_S
            finally:
                await second.aclose()

    @pytest.mark.asyncio
    async def test_redis_down_refuses_to_record_so_nothing_is_sent(self, tmp_path):
        with running_redis(tmp_path) as server:
            redis = Redis.from_url(server.url)
            server.stop()
            try:
                with pytest.raises(CoordinationUnavailable):
                    await RedisPendingWrites(redis).record("cs_test_1", WRITE)
                with pytest.raises(CoordinationUnavailable):
                    await RedisPendingWrites(redis).find("cs_test_1")
                await RedisPendingWrites(redis).clear("cs_test_1")  # logged, not raised
            finally:
                await redis.aclose()

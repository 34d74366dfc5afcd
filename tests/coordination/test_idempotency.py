"""The idempotency stores, in memory and in Redis (a real redis-server): the same contract."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from amount_updater.coordination.idempotency import (
    Begun,
    IdempotencyStore,
    MemoryIdempotencyStore,
    Outcome,
    RedisIdempotencyStore,
    StoredResponse,
)
from amount_updater.errors import CoordinationUnavailable
from tests.support.redis_server import RedisServer, running_redis

ANSWER = StoredResponse(
    200,
    [("content-type", "application/json"), ("x-cart-revision", "4")],
    b'{"amount_total":3700}\xff\x00',  # stored as bytes, not text
)


class Backend:
    """Builds stores of one kind, and lets time pass for them."""

    def __init__(self, kind: str, redis: Redis | None) -> None:
        self.kind = kind
        self.redis = redis
        self.now = 1000.0

    def store(self, *, ttl_s: float = 60, in_flight_ttl_s: float = 30) -> IdempotencyStore:
        if self.redis is None:
            return MemoryIdempotencyStore(
                ttl_s=ttl_s, in_flight_ttl_s=in_flight_ttl_s, clock=lambda: self.now
            )
        return RedisIdempotencyStore(self.redis, ttl_s=ttl_s, in_flight_ttl_s=in_flight_ttl_s)

    async def advance(self, seconds: float) -> None:
        if self.redis is None:
            self.now += seconds
        else:
            await asyncio.sleep(seconds)  # Redis expires keys on its own clock


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    with running_redis(tmp_path) as server:
        yield server


@pytest_asyncio.fixture(params=["memory", "redis"])
async def backend(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[Backend]:
    if request.param == "memory":
        yield Backend("memory", None)
        return
    with running_redis(tmp_path) as server:
        redis = Redis.from_url(server.url)
        try:
            yield Backend("redis", redis)
        finally:
            await redis.aclose()


class TestContract:
    @pytest.mark.asyncio
    async def test_a_new_key_starts(self, backend: Backend):
        assert await backend.store().begin("k1", "fp") == Begun(Outcome.STARTED)

    @pytest.mark.asyncio
    async def test_the_same_request_while_in_flight_is_in_progress(self, backend: Backend):
        store = backend.store()
        await store.begin("k1", "fp")
        assert await store.begin("k1", "fp") == Begun(Outcome.IN_PROGRESS)

    @pytest.mark.asyncio
    async def test_another_request_with_the_key_in_flight_is_a_mismatch(self, backend: Backend):
        store = backend.store()
        await store.begin("k1", "fp")
        assert await store.begin("k1", "other") == Begun(Outcome.MISMATCH)

    @pytest.mark.asyncio
    async def test_another_request_with_a_finished_key_is_a_mismatch(self, backend: Backend):
        store = backend.store()
        await store.begin("k1", "fp")
        await store.finish("k1", "fp", ANSWER)
        assert await store.begin("k1", "other") == Begun(Outcome.MISMATCH)

    @pytest.mark.asyncio
    async def test_the_same_request_after_finish_replays_the_stored_answer(self, backend: Backend):
        store = backend.store()
        await store.begin("k1", "fp")
        await store.finish("k1", "fp", ANSWER)

        begun = await store.begin("k1", "fp")

        assert begun.outcome is Outcome.REPLAY
        assert begun.response == ANSWER

    @pytest.mark.asyncio
    async def test_a_replay_can_be_repeated(self, backend: Backend):
        store = backend.store()
        await store.begin("k1", "fp")
        await store.finish("k1", "fp", ANSWER)
        await store.begin("k1", "fp")
        assert (await store.begin("k1", "fp")).response == ANSWER

    @pytest.mark.asyncio
    async def test_an_abandoned_key_starts_again(self, backend: Backend):
        store = backend.store()
        await store.begin("k1", "fp")
        await store.abandon("k1")
        assert await store.begin("k1", "fp") == Begun(Outcome.STARTED)

    @pytest.mark.asyncio
    async def test_abandoning_an_unknown_key_is_harmless(self, backend: Backend):
        store = backend.store()
        await store.abandon("never-begun")
        assert await store.begin("never-begun", "fp") == Begun(Outcome.STARTED)

    @pytest.mark.asyncio
    async def test_keys_are_independent(self, backend: Backend):
        store = backend.store()
        await store.begin("k1", "fp")
        assert await store.begin("k2", "fp") == Begun(Outcome.STARTED)

    @pytest.mark.asyncio
    async def test_finishing_replaces_the_short_in_flight_expiry(self, backend: Backend):
        store = backend.store(ttl_s=60, in_flight_ttl_s=0.2)
        await store.begin("k1", "fp")
        await store.finish("k1", "fp", ANSWER)
        await backend.advance(0.3)
        assert (await store.begin("k1", "fp")).outcome is Outcome.REPLAY


class TestExpiry:
    @pytest.mark.parametrize("backend", ["memory", "redis"], indirect=True)
    @pytest.mark.asyncio
    async def test_an_in_flight_record_expires_after_in_flight_ttl(self, backend: Backend):
        store = backend.store(ttl_s=60, in_flight_ttl_s=0.2)
        await store.begin("k1", "fp")
        await backend.advance(0.3)
        assert await store.begin("k1", "fp") == Begun(Outcome.STARTED)

    @pytest.mark.parametrize("backend", ["memory", "redis"], indirect=True)
    @pytest.mark.asyncio
    async def test_a_stored_answer_expires_after_ttl(self, backend: Backend):
        store = backend.store(ttl_s=0.2, in_flight_ttl_s=0.2)
        await store.begin("k1", "fp")
        await store.finish("k1", "fp", ANSWER)
        await backend.advance(0.3)
        assert await store.begin("k1", "fp") == Begun(Outcome.STARTED)

    @pytest.mark.parametrize("backend", ["memory", "redis"], indirect=True)
    @pytest.mark.asyncio
    async def test_a_stored_answer_is_replayed_before_its_ttl(self, backend: Backend):
        store = backend.store(ttl_s=60, in_flight_ttl_s=0.2)
        await store.begin("k1", "fp")
        await store.finish("k1", "fp", ANSWER)
        await backend.advance(0.1)
        assert (await store.begin("k1", "fp")).outcome is Outcome.REPLAY

    @pytest.mark.asyncio
    async def test_the_memory_store_drops_expired_records_when_it_sweeps(self):
        now = [0.0]
        store = MemoryIdempotencyStore(ttl_s=10, in_flight_ttl_s=10, clock=lambda: now[0])
        for n in range(64):
            await store.begin(f"old-{n}", "fp")
        now[0] = 100.0
        await store.begin("new", "fp")  # 64 records: the sweep runs
        assert await store.begin("old-0", "fp") == Begun(Outcome.STARTED)


class TestSharedByReplicas:
    @pytest_asyncio.fixture
    async def two_clients(self, redis_server: RedisServer) -> AsyncIterator[tuple[Redis, Redis]]:
        first, second = Redis.from_url(redis_server.url), Redis.from_url(redis_server.url)
        try:
            yield first, second
        finally:
            await first.aclose()
            await second.aclose()

    @pytest.mark.asyncio
    async def test_a_request_in_flight_on_one_replica_is_in_progress_on_another(self, two_clients):
        a = RedisIdempotencyStore(two_clients[0], ttl_s=60, in_flight_ttl_s=30)
        b = RedisIdempotencyStore(two_clients[1], ttl_s=60, in_flight_ttl_s=30)
        await a.begin("k1", "fp")
        assert await b.begin("k1", "fp") == Begun(Outcome.IN_PROGRESS)

    @pytest.mark.asyncio
    async def test_an_answer_stored_by_one_replica_is_replayed_by_another(self, two_clients):
        a = RedisIdempotencyStore(two_clients[0], ttl_s=60, in_flight_ttl_s=30)
        b = RedisIdempotencyStore(two_clients[1], ttl_s=60, in_flight_ttl_s=30)
        await a.begin("k1", "fp")
        await a.finish("k1", "fp", ANSWER)
        assert await b.begin("k1", "fp") == Begun(Outcome.REPLAY, ANSWER)


class TestRedisDown:
    @pytest_asyncio.fixture
    async def store(self, redis_server: RedisServer) -> AsyncIterator[RedisIdempotencyStore]:
        redis = Redis.from_url(redis_server.url)
        try:
            yield RedisIdempotencyStore(redis, ttl_s=60, in_flight_ttl_s=30)
        finally:
            await redis.aclose()

    @pytest.mark.asyncio
    async def test_begin_raises_coordination_unavailable(self, redis_server, store):
        redis_server.stop()
        with pytest.raises(CoordinationUnavailable):
            await store.begin("k1", "fp")

    @pytest.mark.asyncio
    async def test_finish_swallows_the_error(self, redis_server, store):
        await store.begin("k1", "fp")
        redis_server.stop()
        await store.finish("k1", "fp", ANSWER)  # the change is done: only its replay is lost

    @pytest.mark.asyncio
    async def test_abandon_swallows_the_error(self, redis_server, store):
        await store.begin("k1", "fp")
        redis_server.stop()
        await store.abandon("k1")  # the in-flight record expires by itself


class TestMemoryBounds:
    """The in-memory store holds at most so many records and bytes; the oldest go first."""

    @staticmethod
    async def store_answers(store: MemoryIdempotencyStore, count: int, body: bytes) -> None:
        for n in range(count):
            await store.begin(f"k{n}", "fp")
            await store.finish(f"k{n}", "fp", StoredResponse(201, [], body))

    @pytest.mark.asyncio
    async def test_past_max_entries_the_oldest_records_go_and_are_counted(self):
        evictions: list[None] = []
        store = MemoryIdempotencyStore(
            ttl_s=60, in_flight_ttl_s=30, max_entries=100, on_evict=lambda: evictions.append(None)
        )

        await self.store_answers(store, 250, b"{}")

        assert len(store) == 100
        assert len(evictions) == 150
        assert await store.begin("k0", "fp") == Begun(Outcome.STARTED)  # gone: runs again
        assert (await store.begin("k249", "fp")).outcome is Outcome.REPLAY

    @pytest.mark.asyncio
    async def test_past_max_bytes_the_oldest_records_go(self):
        store = MemoryIdempotencyStore(ttl_s=60, in_flight_ttl_s=30, max_bytes=10_000)

        await self.store_answers(store, 50, b"x" * 1000)

        assert store.stored_bytes <= 10_000
        assert len(store) == 10
        assert (await store.begin("k49", "fp")).outcome is Outcome.REPLAY
        assert await store.begin("k39", "fp") == Begun(Outcome.STARTED)

    @pytest.mark.asyncio
    async def test_thirty_thousand_fresh_keys_stay_within_the_bounds(self):
        """The burst the issue measured: 30,000 anonymous creations, each with a new key."""
        store = MemoryIdempotencyStore(ttl_s=86400, in_flight_ttl_s=30)
        body = b"{" + b"x" * 1500 + b"}"  # about the size of a creation's answer

        await self.store_answers(store, 30_000, body)

        assert len(store) <= 10_000
        assert store.stored_bytes <= 16 * 1024 * 1024

    @pytest.mark.asyncio
    async def test_replacing_a_record_does_not_count_its_bytes_twice(self):
        store = MemoryIdempotencyStore(ttl_s=60, in_flight_ttl_s=30)
        await store.begin("k1", "fp")
        await store.finish("k1", "fp", StoredResponse(200, [], b"x" * 100))
        await store.abandon("k1")
        await store.begin("k1", "fp")
        await store.finish("k1", "fp", StoredResponse(200, [], b"x" * 100))

        assert store.stored_bytes == 100

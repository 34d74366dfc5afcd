"""Per-object locks: KeyedLocks within one process, RedisLocks across replicas (a real
redis-server, two clients standing for two replicas)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from amount_updater.coordination.locks import KeyedLocks, RedisLocks
from amount_updater.errors import CoordinationUnavailable, ObjectBusy
from tests.support.redis_server import RedisServer, running_redis

PREFIX = "au:lock:"


class Tracker:
    """Records who is inside a critical section, to prove two never are at once."""

    def __init__(self) -> None:
        self.inside: set[int] = set()
        self.most_inside = 0
        self.order: list[int] = []

    async def visit(self, who: int, *, steps: int = 3) -> None:
        self.inside.add(who)
        self.most_inside = max(self.most_inside, len(self.inside))
        self.order.append(who)
        for _ in range(steps):  # give every other task a chance to barge in
            await asyncio.sleep(0)
        self.inside.discard(who)


async def settle() -> None:
    """Let every runnable task take its next steps."""
    for _ in range(10):
        await asyncio.sleep(0)


class TestKeyedLocks:
    @pytest.mark.asyncio
    async def test_holders_of_one_key_never_overlap(self):
        locks, tracker = KeyedLocks(), Tracker()

        async def holder(who: int) -> None:
            async with locks.hold("cs_1"):
                await tracker.visit(who)

        await asyncio.gather(*(holder(n) for n in range(20)))

        assert tracker.most_inside == 1
        assert sorted(tracker.order) == list(range(20))

    @pytest.mark.asyncio
    async def test_holders_of_one_key_run_in_arrival_order(self):
        locks, tracker = KeyedLocks(), Tracker()

        async def holder(who: int) -> None:
            async with locks.hold("cs_1"):
                await tracker.visit(who)

        await asyncio.gather(*(holder(n) for n in range(10)))

        assert tracker.order == list(range(10))

    @pytest.mark.asyncio
    async def test_different_keys_do_not_wait_for_each_other(self):
        locks = KeyedLocks()
        release_a = asyncio.Event()
        a_inside = asyncio.Event()

        async def hold_a() -> None:
            async with locks.hold("cs_a"):
                a_inside.set()
                await release_a.wait()

        async def hold_b() -> str:
            async with locks.hold("cs_b"):
                return "done"

        task_a = asyncio.create_task(hold_a())
        await a_inside.wait()
        try:
            assert await asyncio.wait_for(hold_b(), timeout=5) == "done"  # while a still holds
        finally:
            release_a.set()
            await task_a
        assert locks.waits == 0

    @pytest.mark.asyncio
    async def test_the_entry_for_a_key_is_dropped_when_nobody_needs_it(self):
        locks = KeyedLocks()
        async with locks.hold("cs_1"):
            assert len(locks) == 1
        assert len(locks) == 0

    @pytest.mark.asyncio
    async def test_the_entry_stays_while_a_waiter_queues_and_goes_after(self):
        locks = KeyedLocks()
        release = asyncio.Event()

        async def holder() -> None:
            async with locks.hold("cs_1"):
                await release.wait()

        tasks = [asyncio.create_task(holder()) for _ in range(3)]
        await settle()
        assert len(locks) == 1
        release.set()
        await asyncio.gather(*tasks)
        assert len(locks) == 0

    @pytest.mark.asyncio
    async def test_the_entry_is_dropped_after_the_holder_raises(self):
        locks = KeyedLocks()
        with pytest.raises(RuntimeError):
            async with locks.hold("cs_1"):
                raise RuntimeError("the update failed")
        assert len(locks) == 0

    @pytest.mark.asyncio
    async def test_a_cancelled_waiter_leaves_no_entry_behind(self):
        locks = KeyedLocks()
        release = asyncio.Event()

        async def holder() -> None:
            async with locks.hold("cs_1"):
                await release.wait()

        first = asyncio.create_task(holder())
        await settle()
        waiter = asyncio.create_task(holder())
        await settle()
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        release.set()
        await first
        assert len(locks) == 0

    @pytest.mark.asyncio
    async def test_counts_the_acquisitions_that_had_to_queue(self):
        locks = KeyedLocks()
        release = asyncio.Event()

        async def holder() -> None:
            async with locks.hold("cs_1"):
                await release.wait()

        tasks = [asyncio.create_task(holder()) for _ in range(4)]
        await settle()
        release.set()
        await asyncio.gather(*tasks)

        assert locks.waits == 3

    @pytest.mark.asyncio
    async def test_uses_one_after_another_are_not_counted_as_waits(self):
        locks = KeyedLocks()
        for _ in range(3):
            async with locks.hold("cs_1"):
                pass
        assert locks.waits == 0

    @pytest.mark.asyncio
    async def test_an_arrival_during_a_hand_off_is_counted_as_a_wait(self):
        locks = KeyedLocks()
        release = asyncio.Event()
        order: list[str] = []

        async def first() -> None:
            async with locks.hold("cs_1"):
                await release.wait()
            # The lock is free but `second` is queued and not yet resumed: this must queue too.
            async with locks.hold("cs_1"):
                order.append("first again")

        async def second() -> None:
            async with locks.hold("cs_1"):
                order.append("second")

        task_first = asyncio.create_task(first())
        await settle()
        task_second = asyncio.create_task(second())
        await settle()
        release.set()
        await asyncio.gather(task_first, task_second)

        assert order == ["second", "first again"]  # it did queue behind `second`
        assert locks.waits == 2


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    with running_redis(tmp_path) as server:
        yield server


@pytest_asyncio.fixture
async def replicas(redis_server: RedisServer) -> AsyncIterator[tuple[Redis, Redis]]:
    """Two Redis clients, one per replica."""
    first, second = Redis.from_url(redis_server.url), Redis.from_url(redis_server.url)
    try:
        yield first, second
    finally:
        await first.aclose()
        await second.aclose()


class TestRedisLocks:
    @pytest.mark.asyncio
    async def test_two_replicas_serialize_one_key_across_twenty_holders(self, replicas):
        a = RedisLocks(replicas[0], ttl_s=10, wait_s=10)
        b = RedisLocks(replicas[1], ttl_s=10, wait_s=10)
        tracker = Tracker()

        async def holder(who: int) -> None:
            async with (a if who % 2 else b).hold("cs_1"):
                await tracker.visit(who, steps=2)
                await asyncio.sleep(0.002)  # a real round trip: the other replica polls meanwhile

        await asyncio.gather(*(holder(n) for n in range(20)))

        assert tracker.most_inside == 1
        assert sorted(tracker.order) == list(range(20))

    @pytest.mark.asyncio
    async def test_different_keys_do_not_wait_across_replicas(self, replicas):
        a = RedisLocks(replicas[0], ttl_s=10, wait_s=10)
        b = RedisLocks(replicas[1], ttl_s=10, wait_s=0.05)  # any wait at all would fail
        async with a.hold("cs_a"), b.hold("cs_b"):
            entered = True
        assert entered

    @pytest.mark.asyncio
    async def test_a_wait_longer_than_wait_s_is_object_busy(self, replicas):
        a = RedisLocks(replicas[0], ttl_s=10, wait_s=10)
        b = RedisLocks(replicas[1], ttl_s=10, wait_s=0.2)
        ran = False
        async with a.hold("cs_1"):
            with pytest.raises(ObjectBusy) as caught:
                async with b.hold("cs_1"):
                    ran = True
        assert not ran
        assert caught.value.status == 503
        assert caught.value.headers == {"Retry-After": "1"}

    @pytest.mark.asyncio
    async def test_the_redis_key_is_deleted_on_release(self, replicas):
        locks = RedisLocks(replicas[0], ttl_s=10, wait_s=1)
        async with locks.hold("cs_1"):
            assert await replicas[1].exists(PREFIX + "cs_1") == 1
        assert await replicas[1].exists(PREFIX + "cs_1") == 0

    @pytest.mark.asyncio
    async def test_the_lock_is_released_when_the_holder_raises(self, replicas):
        a = RedisLocks(replicas[0], ttl_s=10, wait_s=1)
        b = RedisLocks(replicas[1], ttl_s=10, wait_s=0.2)
        with pytest.raises(RuntimeError):
            async with a.hold("cs_1"):
                raise RuntimeError("the update failed")
        async with b.hold("cs_1"):
            pass

    @pytest.mark.asyncio
    async def test_redis_down_is_coordination_unavailable_and_nothing_runs(
        self, redis_server: RedisServer, replicas
    ):
        locks = RedisLocks(replicas[0], ttl_s=10, wait_s=1)
        redis_server.stop()
        ran = False
        with pytest.raises(CoordinationUnavailable):
            async with locks.hold("cs_1"):
                ran = True
        assert not ran

    @pytest.mark.asyncio
    async def test_losing_redis_while_holding_does_not_fail_the_finished_work(
        self, redis_server: RedisServer, replicas, caplog
    ):
        locks = RedisLocks(replicas[0], ttl_s=10, wait_s=1)
        with caplog.at_level(logging.WARNING, logger="amount_updater.coordination.locks"):
            async with locks.hold("cs_1"):
                redis_server.stop()
        assert "lock.release_failed" in caplog.messages

    @pytest.mark.asyncio
    async def test_a_lock_whose_holder_died_expires_after_its_ttl(self, replicas):
        dead = RedisLocks(replicas[0], ttl_s=1, wait_s=1)
        alive = RedisLocks(replicas[1], ttl_s=10, wait_s=5)
        stalled = dead.hold("cs_1")
        await stalled.__aenter__()  # and never leaves, as if the replica had crashed
        try:
            async with alive.hold("cs_1"):
                entered = True
            assert entered
        finally:
            await stalled.__aexit__(None, None, None)

    @pytest.mark.asyncio
    async def test_a_late_release_by_an_expired_holder_leaves_the_next_holders_lock(self, replicas):
        dead = RedisLocks(replicas[0], ttl_s=1, wait_s=1)
        alive = RedisLocks(replicas[1], ttl_s=10, wait_s=5)
        stalled = dead.hold("cs_1")
        await stalled.__aenter__()
        async with alive.hold("cs_1"):
            await stalled.__aexit__(None, None, None)  # the stalled holder wakes up and releases
            assert await replicas[1].exists(PREFIX + "cs_1") == 1

    @pytest.mark.asyncio
    async def test_requests_of_one_replica_queue_locally_first(self, replicas):
        locks = RedisLocks(replicas[0], ttl_s=10, wait_s=10)
        release = asyncio.Event()

        async def holder() -> None:
            async with locks.hold("cs_1"):
                await release.wait()

        tasks = [asyncio.create_task(holder()) for _ in range(3)]
        await settle()
        release.set()
        await asyncio.gather(*tasks)

        assert locks.waits == 2

    @pytest.mark.asyncio
    async def test_a_release_that_fails_while_redis_is_paused_is_retried_until_it_succeeds(
        self, redis_server: RedisServer, caplog
    ):
        """Redis paused for 1.5 s as the holder leaves: the release times out, is tried again
        in the background, and the object is free long before the 10 s lease would run out."""
        holder_redis = Redis.from_url(redis_server.url, socket_timeout=0.3)
        other_redis = Redis.from_url(redis_server.url)
        holder = RedisLocks(holder_redis, ttl_s=10, wait_s=1)
        other = RedisLocks(other_redis, ttl_s=10, wait_s=8)
        try:
            with caplog.at_level(logging.INFO, logger="amount_updater.coordination.locks"):
                async with holder.hold("cs_1"):
                    await other_redis.execute_command("CLIENT", "PAUSE", "1500")
                left = time.monotonic()
                async with other.hold("cs_1"):
                    waited = time.monotonic() - left
        finally:
            await holder_redis.aclose()
            await other_redis.aclose()

        assert "lock.release_failed" in caplog.messages
        assert "lock.released_late" in caplog.messages
        assert waited < 5

    @pytest.mark.asyncio
    async def test_a_failed_release_stops_retrying_once_the_lease_has_run_out(
        self, redis_server: RedisServer
    ):
        redis = Redis.from_url(redis_server.url, socket_timeout=0.2)
        locks = RedisLocks(redis, ttl_s=1, wait_s=1)
        try:
            async with locks.hold("cs_1"):
                redis_server.stop()
            await asyncio.sleep(1.5)
            assert locks.releases_retrying == 0  # the background retry gave up with the lease
        finally:
            await redis.aclose()

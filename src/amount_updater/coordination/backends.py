"""The coordination stores, built together: in memory for one process, or all in one Redis
when `AMOUNT_UPDATER_REDIS_URL` is set, so that every replica shares them."""

from __future__ import annotations

from dataclasses import dataclass

from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import BlockingConnectionPool, Redis

from amount_updater.config import Settings
from amount_updater.coordination.admission import queue_wait_s
from amount_updater.coordination.idempotency import (
    IdempotencyStore,
    MemoryIdempotencyStore,
    RedisIdempotencyStore,
)
from amount_updater.coordination.locks import KeyedLocks, ObjectLocks, RedisLocks
from amount_updater.coordination.pending_writes import (
    MemoryPendingWrites,
    PendingWrites,
    RedisPendingWrites,
)
from amount_updater.observability.metrics import Metrics

REDIS_TIMEOUT_S = 2.0


@dataclass(frozen=True, slots=True)
class Coordination:
    locks: ObjectLocks
    idempotency: IdempotencyStore
    pending: PendingWrites
    # Moving windows for the callers' limits and Stripe's rate budget, shared like the rest.
    limiter: MovingWindowRateLimiter
    redis: Redis | None

    async def aclose(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()


def build_coordination(settings: Settings, metrics: Metrics) -> Coordination:
    budget = settings.request_budget_s
    # A request holds its key "in flight" for at most its budget (everything after the key is
    # taken runs within it); a little more, so a slow tail never frees it early. A replica that
    # died leaves its keys in flight that long: retries meanwhile get 409 and Retry-After.
    in_flight_s = budget + 2
    if settings.redis_url is None:
        return Coordination(
            locks=KeyedLocks(),
            idempotency=MemoryIdempotencyStore(
                ttl_s=settings.idempotency_ttl_s,
                in_flight_ttl_s=in_flight_s,
                max_entries=settings.idempotency_max_entries,
                max_bytes=settings.idempotency_max_bytes,
                on_evict=metrics.idempotency_evictions.inc,
            ),
            pending=MemoryPendingWrites(),
            limiter=MovingWindowRateLimiter(MemoryStorage()),
            redis=None,
        )
    url = settings.redis_url.get_secret_value()
    # A connection for every request that may be at work at once (plus a few for health checks
    # and late lock releases); past that, a request waits for one within its admission wait
    # rather than failing at once.
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=(settings.max_active_requests or 256) + 16,
        timeout=queue_wait_s(budget),
        socket_timeout=REDIS_TIMEOUT_S,
        socket_connect_timeout=REDIS_TIMEOUT_S,
        health_check_interval=30,
    )
    redis = Redis.from_pool(pool)
    scheme = "async+redis+unix://" if url.startswith("unix://") else "async+" + url
    storage = RedisStorage(
        scheme.split("://")[0] + "://" + url.split("://", 1)[1],
        implementation="redispy",
        wrap_exceptions=True,  # limits.errors.StorageError, on which both limiters fail open
        connection_pool=pool,  # type: ignore[arg-type]  # passed through to redis-py
        key_prefix="au-limits",
    )
    return Coordination(
        # The lease is the request budget: the work under the lock is cancelled by then.
        locks=RedisLocks(redis, ttl_s=budget, wait_s=budget),
        idempotency=RedisIdempotencyStore(
            redis, ttl_s=settings.idempotency_ttl_s, in_flight_ttl_s=in_flight_s
        ),
        pending=RedisPendingWrites(redis),
        limiter=MovingWindowRateLimiter(storage),
        redis=redis,
    )

"""Fixed-window rate limits: per client address on creation, per object on changes.

Counted in memory for one process, or in Redis so that every replica shares the count. If
Redis cannot be reached the limit is not enforced (fail open) and a warning is logged: unlike
a lock, a missed count cannot corrupt a cart, and changes fail closed on the lock anyway.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Limit:
    name: str
    count: int  # 0 disables the limit
    window_s: int


class RateCounter(Protocol):
    async def hit(self, key: str, window_s: int) -> tuple[int, float]:
        """Count one hit; return (hits in the current window, seconds until it ends)."""
        ...


class MemoryRateCounter:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._windows: dict[str, tuple[int, int]] = {}  # key -> (window number, hits)
        self._clock = clock

    async def hit(self, key: str, window_s: int) -> tuple[int, float]:
        now = self._clock()
        window = int(now // window_s)
        seen_window, hits = self._windows.get(key, (window, 0))
        hits = hits + 1 if seen_window == window else 1
        if len(self._windows) > 100_000:
            self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
        self._windows[key] = (window, hits)
        return hits, (window + 1) * window_s - now


class RedisRateCounter:
    def __init__(self, redis: Redis, prefix: str = "au:rate:") -> None:
        self._redis = redis
        self._prefix = prefix

    async def hit(self, key: str, window_s: int) -> tuple[int, float]:
        now = time.time()
        window = int(now // window_s)
        name = f"{self._prefix}{key}:{window}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window_s + 1)
            hits, _ = await pipe.execute()
        return int(hits), (window + 1) * window_s - now


class RateLimiter:
    def __init__(self, counter: RateCounter, on_refusal: Callable[[str], None]) -> None:
        self._counter = counter
        self._on_refusal = on_refusal

    async def check(self, limit: Limit, subject: str) -> float | None:
        """None if this request is within `limit`; else seconds until it may be retried."""
        if limit.count <= 0:
            return None
        try:
            hits, remaining = await self._counter.hit(f"{limit.name}:{subject}", limit.window_s)
        except RedisError:
            logger.warning("rate_limit.unavailable", extra={"limit": limit.name})
            return None
        if hits <= limit.count:
            return None
        self._on_refusal(limit.name)
        return max(remaining, 1.0)

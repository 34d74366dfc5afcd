"""Per-object serialization of read-modify-write updates.

Two clicks in flight at once (gift wrap and warranty) would otherwise both read the old cart,
and the second write would drop the first. Updates to one object therefore queue, each applying
to the state the previous one left; updates to different objects never wait for each other.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import LockError, RedisError

from amount_updater.errors import CoordinationUnavailable, ObjectBusy

logger = logging.getLogger(__name__)


class ObjectLocks(Protocol):
    def hold(self, key: str) -> AbstractAsyncContextManager[None]: ...


class KeyedLocks:
    """One asyncio.Lock per key within this process, dropped when nobody holds or awaits it.

    asyncio.Lock wakes waiters in arrival order, so requests for one object run first come,
    first served.
    """

    def __init__(self, on_wait: Callable[[], None] | None = None) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._on_wait = on_wait
        self.waits = 0  # how many acquisitions had to queue behind another holder

    def hold(self, key: str) -> AbstractAsyncContextManager[None]:
        # A class, not an @asynccontextmanager: this runs on every change.
        return _Held(self, key)

    def _enter(self, key: str) -> asyncio.Lock:
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        if users:  # held, or being handed to a queued waiter: this request queues
            self.waits += 1
            if self._on_wait is not None:
                self._on_wait()
        return lock

    def _leave(self, key: str) -> None:
        lock, users = self._locks[key]
        if users == 1:
            del self._locks[key]
        else:
            self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class _Held:
    """One request's hold on one key of a KeyedLocks."""

    __slots__ = ("_key", "_lock", "_locks")

    def __init__(self, locks: KeyedLocks, key: str) -> None:
        self._locks = locks
        self._key = key
        self._lock: asyncio.Lock | None = None

    async def __aenter__(self) -> None:
        lock = self._locks._enter(self._key)
        try:
            await lock.acquire()
        except BaseException:
            self._locks._leave(self._key)  # cancelled while queued: no longer a user
            raise
        self._lock = lock

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._lock is not None
        self._lock.release()
        self._locks._leave(self._key)


class RedisLocks:
    """A lock per object shared by every replica, held in Redis.

    Requests queue first on the in-process lock (so one replica polls Redis once per object, not
    once per waiting request), then on a Redis lock whose expiry (`ttl_s`) is longer than one
    update's worst case, so a crashed holder cannot block the object for long. Release is safe:
    redis-py's Lock deletes the key only if it still holds the token it set.

    When Redis cannot be reached, updates fail closed (503 `coordination_unavailable`): an update
    never runs without the lock.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        ttl_s: float,
        wait_s: float,
        prefix: str = "au:lock:",
        on_wait: Callable[[], None] | None = None,
    ) -> None:
        self._redis = redis
        self._local = KeyedLocks(on_wait)
        self._ttl_s = ttl_s
        self._wait_s = wait_s
        self._prefix = prefix

    @property
    def waits(self) -> int:
        return self._local.waits

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        async with self._local.hold(key):
            lock = self._redis.lock(
                self._prefix + key,
                timeout=self._ttl_s,
                sleep=0.01,
                blocking=True,
                blocking_timeout=self._wait_s,
            )
            started = time.monotonic()
            try:
                acquired = await lock.acquire()
            except RedisError as exc:
                raise CoordinationUnavailable(
                    "The lock service is unavailable; nothing was changed."
                ) from exc
            if not acquired:
                raise ObjectBusy(
                    "Another change to this object is taking too long; nothing was changed.",
                    headers={"Retry-After": "1"},
                )
            logger.debug("lock.acquired", extra={"wait_s": round(time.monotonic() - started, 3)})
            try:
                yield
            finally:
                try:
                    await lock.release()
                except (LockError, RedisError):
                    # Expired or unreachable: the key expires by itself within ttl_s.
                    logger.warning("lock.release_failed", extra={"object_id": key})

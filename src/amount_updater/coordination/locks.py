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
from redis.asyncio.lock import Lock
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
    once per waiting request), then on a Redis lock. Its lease (`ttl_s`) is the request budget:
    the work under it is cancelled by then, so a lease never runs out under a live holder, and a
    holder that died (or whose release failed) blocks the object for at most one budget. A
    release that fails (Redis paused or unreachable for a moment) is tried again in the
    background until it succeeds or the lease runs out. Release is safe: redis-py's Lock deletes
    the key only if it still holds the token it set.

    When Redis cannot be reached, updates fail closed (503 `coordination_unavailable`): an update
    never runs without the lock.
    """

    RELEASE_RETRY_S = 0.25

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
        self._releasing: set[asyncio.Task[None]] = set()

    @property
    def waits(self) -> int:
        return self._local.waits

    @property
    def releases_retrying(self) -> int:
        """Releases that failed and are being tried again in the background."""
        return len(self._releasing)

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
            acquired_at = time.monotonic()
            logger.debug("lock.acquired", extra={"wait_s": round(acquired_at - started, 3)})
            try:
                yield
            finally:
                try:
                    await lock.release()
                except LockError:
                    pass  # the lease ran out: the key is gone already
                except RedisError:
                    logger.warning("lock.release_failed", extra={"object_id": key})
                    deadline = acquired_at + self._ttl_s
                    task = asyncio.get_running_loop().create_task(
                        self._release_later(lock, key, deadline)
                    )
                    self._releasing.add(task)
                    task.add_done_callback(self._releasing.discard)

    async def _release_later(self, lock: Lock, key: str, deadline: float) -> None:
        """Try the release again until it succeeds or the lease has run out by itself."""
        while time.monotonic() < deadline:
            await asyncio.sleep(self.RELEASE_RETRY_S)
            try:
                await lock.release()
            except LockError:
                return
            except RedisError:
                continue
            logger.info("lock.released_late", extra={"object_id": key})
            return

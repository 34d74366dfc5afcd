"""Writes to Stripe whose outcome may be unknown, recorded before they are sent.

A write can reach Stripe and still go unanswered: the request budget runs out while it is in
flight, the connection drops, Stripe answers 5xx, or the process dies. Stripe may then apply it
a moment later, after the next change to the object has read the old state. So every write is
recorded here first (write-ahead) and cleared once Stripe has answered it definitely. The next
change to the object finds a record that was never cleared and settles it before anything else
happens: it sends the very same write again, with the same Stripe idempotency key, which Stripe
either replays (it had landed), runs now (it never arrived), or answers 409 while the first is
still running (retried). Only then is the object read again.

In memory for one process; in Redis when replicas share objects, so that the record survives
the process that wrote it.
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from amount_updater.errors import CoordinationUnavailable
from amount_updater.stripe_gateway import StripeWrite

logger = logging.getLogger(__name__)

# Stripe keeps idempotency keys for at least 24 hours: a record older than that could no
# longer be settled by sending it again, and the write it stands for finished long ago.
RECORD_TTL_S = 23 * 3600


class PendingWrites(Protocol):
    async def record(self, object_id: str, write: StripeWrite) -> None: ...

    async def find(self, object_id: str) -> StripeWrite | None: ...

    async def clear(self, object_id: str) -> None: ...


class MemoryPendingWrites:
    """For one process. Records normally live for one Stripe call; at most `max_entries` are
    kept (the oldest go first), which only matters while Stripe answers nothing at all."""

    def __init__(
        self, *, max_entries: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._records: OrderedDict[str, tuple[float, StripeWrite]] = OrderedDict()
        self._max_entries = max_entries
        self._clock = clock

    def __len__(self) -> int:
        return len(self._records)

    async def record(self, object_id: str, write: StripeWrite) -> None:
        self._records.pop(object_id, None)
        self._records[object_id] = (self._clock() + RECORD_TTL_S, write)
        while len(self._records) > self._max_entries:
            self._records.popitem(last=False)

    async def find(self, object_id: str) -> StripeWrite | None:
        found = self._records.get(object_id)
        if found is None:
            return None
        if found[0] <= self._clock():
            del self._records[object_id]
            return None
        return found[1]

    async def clear(self, object_id: str) -> None:
        self._records.pop(object_id, None)


class RedisPendingWrites:
    """Shared by every replica. Redis unreachable: 503 `coordination_unavailable` before any
    write is sent (a write that could not be recorded is not sent)."""

    def __init__(self, redis: Redis, prefix: str = "au:pending:") -> None:
        self._redis = redis
        self._prefix = prefix

    async def record(self, object_id: str, write: StripeWrite) -> None:
        try:
            await self._redis.set(
                self._prefix + object_id, json.dumps(write.dump()), ex=RECORD_TTL_S
            )
        except RedisError as exc:
            raise _unavailable() from exc

    async def find(self, object_id: str) -> StripeWrite | None:
        try:
            raw = await self._redis.get(self._prefix + object_id)
        except RedisError as exc:
            raise _unavailable() from exc
        return None if raw is None else StripeWrite.load(json.loads(raw))

    async def clear(self, object_id: str) -> None:
        try:
            await self._redis.delete(self._prefix + object_id)
        except RedisError:
            # The write itself is done. The record left behind is settled by the next change
            # (sent again, replayed by Stripe): one call that changes nothing.
            logger.warning("pending_write.clear_failed", extra={"object_id": object_id})


def _unavailable() -> CoordinationUnavailable:
    return CoordinationUnavailable("The coordination store is unavailable; nothing was changed.")

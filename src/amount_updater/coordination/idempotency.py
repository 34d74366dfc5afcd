"""Remembers the first answer to each `Idempotency-Key`, to replay it for a retried request.

A record is first written "in flight" (so a concurrent duplicate is told 409
`request_in_progress`), then replaced by the answer, kept for `ttl_s` (24 hours by default).
The fingerprint of the request (method, path, body) is stored with it: the same key sent with
another request gets 409 `idempotency_key_reused`. Keys arrive already scoped to their caller
(`api/idempotency.py`).
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from amount_updater.errors import CoordinationUnavailable


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def dump(self) -> dict[str, object]:
        return {
            "status": self.status,
            "headers": self.headers,
            "body": base64.b64encode(self.body).decode(),
        }

    @classmethod
    def load(cls, data: dict[str, object]) -> StoredResponse:
        headers = [(str(k), str(v)) for k, v in data["headers"]]  # type: ignore[attr-defined]
        return cls(
            int(data["status"]),  # type: ignore[call-overload]
            headers,
            base64.b64decode(str(data["body"])),
        )


class Outcome(Enum):
    STARTED = "started"
    IN_PROGRESS = "in_progress"
    MISMATCH = "mismatch"
    REPLAY = "replay"


@dataclass(frozen=True, slots=True)
class Begun:
    outcome: Outcome
    response: StoredResponse | None = None


class IdempotencyStore(Protocol):
    async def begin(self, key: str, fingerprint: str) -> Begun: ...

    async def finish(self, key: str, fingerprint: str, response: StoredResponse) -> None: ...

    async def abandon(self, key: str) -> None: ...


def _decide(record: dict[str, object], fingerprint: str) -> Begun:
    if record.get("fingerprint") != fingerprint:
        return Begun(Outcome.MISMATCH)
    response = record.get("response")
    if response is None:
        return Begun(Outcome.IN_PROGRESS)
    return Begun(Outcome.REPLAY, StoredResponse.load(response))  # type: ignore[arg-type]


class MemoryIdempotencyStore:
    """For one process, bounded: at most `max_entries` records and `max_bytes` of stored
    answers; past either, the oldest records go first (`on_evict` counts them). Expired records
    are swept as new ones arrive.

    An evicted answer is not replayed: the retry runs again, and stays safe, because the change
    workflow recognises a change that already landed by the marker it left on the Stripe object,
    and a creation by its Stripe idempotency key.
    """

    def __init__(
        self,
        *,
        ttl_s: float,
        in_flight_ttl_s: float,
        max_entries: int = 10_000,
        max_bytes: int = 16 * 1024 * 1024,
        on_evict: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # key -> (expires at, record, size in bytes); insertion order is age order.
        self._records: OrderedDict[str, tuple[float, dict[str, object], int]] = OrderedDict()
        self._bytes = 0
        self._ttl_s = ttl_s
        self._in_flight_ttl_s = in_flight_ttl_s
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._on_evict = on_evict
        self._clock = clock

    def __len__(self) -> int:
        return len(self._records)

    @property
    def stored_bytes(self) -> int:
        return self._bytes

    async def begin(self, key: str, fingerprint: str) -> Begun:
        now = self._clock()
        self._sweep(now)
        found = self._records.get(key)
        if found is not None and found[0] > now:
            return _decide(found[1], fingerprint)
        self._put(key, now + self._in_flight_ttl_s, {"fingerprint": fingerprint}, 0)
        return Begun(Outcome.STARTED)

    async def finish(self, key: str, fingerprint: str, response: StoredResponse) -> None:
        record: dict[str, object] = {"fingerprint": fingerprint, "response": response.dump()}
        size = len(response.body) + sum(len(k) + len(v) for k, v in response.headers)
        self._put(key, self._clock() + self._ttl_s, record, size)

    async def abandon(self, key: str) -> None:
        self._drop(key)

    def _put(self, key: str, expires: float, record: dict[str, object], size: int) -> None:
        self._drop(key)
        self._records[key] = (expires, record, size)
        self._bytes += size
        while len(self._records) > self._max_entries or self._bytes > self._max_bytes:
            oldest = next(iter(self._records))
            self._drop(oldest)
            if self._on_evict is not None:
                self._on_evict()

    def _drop(self, key: str) -> None:
        found = self._records.pop(key, None)
        if found is not None:
            self._bytes -= found[2]

    def _sweep(self, now: float) -> None:
        if len(self._records) % 64 == 0:
            for key in [k for k, (expires, _, _) in self._records.items() if expires <= now]:
                self._drop(key)


class RedisIdempotencyStore:
    """Shared by every replica: a replay works whichever replica the retry reaches."""

    def __init__(
        self, redis: Redis, *, ttl_s: float, in_flight_ttl_s: float, prefix: str = "au:idem:"
    ) -> None:
        self._redis = redis
        self._ttl_ms = int(ttl_s * 1000)
        self._in_flight_ttl_ms = int(in_flight_ttl_s * 1000)
        self._prefix = prefix

    async def begin(self, key: str, fingerprint: str) -> Begun:
        try:
            created = await self._redis.set(
                self._prefix + key,
                json.dumps({"fingerprint": fingerprint}),
                nx=True,
                px=self._in_flight_ttl_ms,
            )
            if created:
                return Begun(Outcome.STARTED)
            raw = await self._redis.get(self._prefix + key)
        except RedisError as exc:
            raise CoordinationUnavailable(
                "The idempotency store is unavailable; nothing was changed."
            ) from exc
        if raw is None:  # expired between the two calls: take it over
            return await self.begin(key, fingerprint)
        return _decide(json.loads(raw), fingerprint)

    async def finish(self, key: str, fingerprint: str, response: StoredResponse) -> None:
        record = json.dumps({"fingerprint": fingerprint, "response": response.dump()})
        # If Redis fails here the change is done and only its replay is lost: a retry re-reads
        # the object, and the request marker on it stops the change from applying twice.
        with contextlib.suppress(RedisError):
            await self._redis.set(self._prefix + key, record, px=self._ttl_ms)

    async def abandon(self, key: str) -> None:
        with contextlib.suppress(RedisError):  # the in-flight record expires by itself
            await self._redis.delete(self._prefix + key)

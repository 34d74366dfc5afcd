"""Everything the emulator remembers, in one inspectable object per emulator instance."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from .errors import lock_timeout
from .idempotency import IdempotencyCache


class ObjectLocks:
    """One asyncio lock per object id, so that writes to the same object never interleave."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}

    @asynccontextmanager
    async def hold(self, object_id: str, wait_s: float) -> AsyncIterator[None]:
        """Hold ``object_id``'s lock; Stripe's 429 ``lock_timeout`` if it stays busy."""
        lock = self._locks.setdefault(object_id, asyncio.Lock())
        try:
            async with asyncio.timeout(wait_s):
                await lock.acquire()
        except TimeoutError:
            raise lock_timeout() from None
        try:
            yield
        finally:
            lock.release()


@dataclass
class EmulatorState:
    """All emulated Stripe objects, as the emulator stores them.

    ``checkout_sessions[id]`` is the session as Stripe returns it unexpanded, plus
    ``line_items``: the full ordered list of ``item`` dicts. ``payment_intents[id]`` is the
    PaymentIntent; its ``amount_details["line_items"]``, when set, is a plain list.
    ``shipping_rates[id]`` is a ShippingRate made from a session's ``shipping_rate_data``.
    ``write_count`` counts successful state-changing POSTs (replays are not writes).
    """

    checkout_sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    payment_intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    shipping_rates: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotency: IdempotencyCache = field(default_factory=IdempotencyCache)
    write_count: int = 0
    locks: ObjectLocks = field(default_factory=ObjectLocks, repr=False)

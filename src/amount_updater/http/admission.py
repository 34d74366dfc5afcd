"""Admission: at most N requests that call Stripe are at work in one worker; the rest queue.

Measured (`benchmarks/`, scenario B: 512 connections, Stripe answering in 100 ms, one saturated
worker): with every request admitted at once, each request's own time stayed under 0.9 s, yet
one in a hundred waited 7 s or more before the app saw it (some past wrk's 10 s limit), while
others went through. The same load with 256 requests at work and the others queued in arrival
order gave the same throughput and a p99 of about 1 s. A saturated event loop with hundreds of
requests in flight serves connections unevenly; a FIFO queue in front of it does not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Overloaded(Exception):
    """No slot became free within the wait limit."""


class Admission:
    """`limit` slots; `enter` waits for one in arrival order (asyncio.Semaphore is FIFO), at most
    `max_wait_s`, then raises `Overloaded`. `on_wait` counts the requests that had to queue."""

    def __init__(self, limit: int, *, max_wait_s: float, on_wait: Callable[[], None]) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._slots = asyncio.Semaphore(limit)
        self._max_wait_s = max_wait_s
        self._on_wait = on_wait

    async def enter(self) -> None:
        if not self._slots.locked():
            await self._slots.acquire()  # a free slot: taken at once, without yielding
            return
        self._on_wait()
        try:
            async with asyncio.timeout(self._max_wait_s):
                await self._slots.acquire()
        except TimeoutError:
            raise Overloaded from None

    def leave(self) -> None:
        self._slots.release()

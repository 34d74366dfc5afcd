"""Admission: at most N requests that call Stripe are at work in one worker; the rest queue.

Measured (`benchmarks/`, scenario B: 512 connections, Stripe answering in 100 ms, one saturated
worker): with every request admitted at once, each request's own time in the server stayed
under 0.9 s (from uvicorn parsing its first byte to the last byte of the answer), yet one in a
hundred reached wrk 7 s or more after it was sent, some past wrk's 10 s limit. A minimal
FastAPI app slowed to the same throughput showed the same, an app without upstream connections
did not; the delay lies outside the Python code, between the kernel, uvloop and the client.
With a few hundred requests at work and the others queued here in arrival order, the same load
runs with no timeout; how many is `max_active_requests` (config.py says what was measured).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

STOREFRONT_WAIT_S = 19.0  # Stripe.js's runServerUpdate gives the server 20 s


def queue_wait_s(budget_s: float) -> float:
    """How long a request may queue before 503: a third of its budget, and never so long that
    the wait and the budget together pass what the storefront waits for an answer."""
    return max(0.1, min(budget_s / 3, STOREFRONT_WAIT_S - budget_s))


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

"""Admission: a limited number of requests that call Stripe are at work in one worker; the rest
queue in arrival order.

Why a limit: measured (`benchmarks/`, scenario B: 512 connections, Stripe answering in 100 ms,
one saturated worker), with every request admitted at once each request's own time in the
server stayed under 0.9 s (from uvicorn parsing its first byte to the last byte of the answer),
yet one in a hundred reached wrk 7 s or more after it was sent, some past wrk's 10 s limit. A
minimal FastAPI app slowed to the same throughput showed the same, an app without upstream
connections did not; the delay lies outside the Python code, between the kernel, uvloop and
the client. With a few hundred requests at work and the others queued here, the same load runs
with no timeout.

Why it adapts: how many requests a worker can keep at work is its throughput times the time
each spends waiting on Stripe (Little's law), and Stripe's latency varies from 100 ms to
seconds. A fixed limit that keeps the CPU busy at one latency starves it at a higher one and
overloads it when the machine is slower. So the limit follows the event loop's lag, which grows
only when the worker has more CPU work than it can do: while requests queue and the lag stays
low, the limit rises; when the lag passes its target, it falls. (Node's `toobusy` and Fastify's
`under-pressure` watch the same signal.) The lag is read in two steps: a timer, then a callback
queued from it, whose delay past the timer's due time is measured. uvloop runs due timers at
the start of a pass, before the callbacks already queued, so a timer alone sees only part of a
pass (a review measured 21 ms seen for 60 ms passes); the queued callback waits for the whole
pass, as any request's work does.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

STOREFRONT_WAIT_S = 19.0  # Stripe.js's runServerUpdate gives the server 20 s


def queue_wait_s(budget_s: float) -> float:
    """How long a request may queue before 503: a third of its budget, and never so long that
    the wait and the budget together pass what the storefront waits for an answer."""
    return max(0.1, min(budget_s / 3, STOREFRONT_WAIT_S - budget_s))


class Overloaded(Exception):
    """No slot became free within the wait limit."""


class Admission:
    """Slots for requests; `enter` takes one or waits for one in arrival order, at most
    `max_wait_s`, then raises `Overloaded`; `leave` gives it back.

    The number of slots starts at `start` and moves between `floor` and `ceiling`: every
    `interval_s` while requests are at work, a timer measures the loop's lag. Above `target_lag_s`
    the limit shrinks by a tenth; at most half of it, with requests queued since the last
    measurement, it grows by `step`. With `floor == ceiling` the limit is fixed. `on_wait` counts
    the requests that had to queue, `on_limit` hears every new limit.
    """

    def __init__(
        self,
        ceiling: int,
        *,
        max_wait_s: float,
        on_wait: Callable[[], None],
        floor: int | None = None,
        start: int | None = None,
        target_lag_s: float = 0.05,
        interval_s: float = 0.1,
        step: int = 8,
        on_limit: Callable[[int], None] | None = None,
    ) -> None:
        floor = ceiling if floor is None else floor
        if not 1 <= floor <= ceiling:
            raise ValueError("limits must be at least 1, and the floor at most the ceiling")
        self.floor, self.ceiling = floor, ceiling
        self.limit = min(max(start if start is not None else ceiling, floor), ceiling)
        self._max_wait_s = max_wait_s
        self._on_wait = on_wait
        self._on_limit = on_limit
        self._target_lag_s = target_lag_s
        self._interval_s = interval_s
        self._step = step
        self._active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._queued = False  # requests queued since the last lag measurement
        self._probe: asyncio.TimerHandle | None = None
        self._probe_loop: asyncio.AbstractEventLoop | None = None
        if on_limit is not None:
            on_limit(self.limit)

    @property
    def active(self) -> int:
        return self._active

    @property
    def measuring(self) -> bool:
        """Whether the lag timer is scheduled (it only runs while requests are at work)."""
        return self._probe is not None

    async def enter(self) -> None:
        if self.floor < self.ceiling:
            loop = asyncio.get_running_loop()
            if self._probe is None or self._probe_loop is not loop:
                if self._probe is not None:
                    self._probe.cancel()  # left on a loop that is gone
                self._schedule_probe(loop)
        if self._active < self.limit and not self._waiters:
            self._active += 1  # a free slot: taken at once, without yielding
            return
        self._on_wait()
        self._queued = True
        slot = asyncio.get_running_loop().create_future()
        self._waiters.append(slot)
        try:
            async with asyncio.timeout(self._max_wait_s):
                await slot
        except TimeoutError:
            if slot.done() and not slot.cancelled():
                return  # the slot came just as the wait ran out: it is this request's
            slot.cancel()  # `_grant` passes over it
            raise Overloaded from None
        except BaseException:
            if slot.done() and not slot.cancelled():
                self.leave()  # granted, but the request was cancelled before it ran
            else:
                slot.cancel()
            raise

    def leave(self) -> None:
        self._active -= 1
        self._grant()

    def _grant(self) -> None:
        while self._waiters and self._active < self.limit:
            slot = self._waiters.popleft()
            if not slot.done():
                slot.set_result(None)
                self._active += 1

    def _schedule_probe(self, loop: asyncio.AbstractEventLoop) -> None:
        due = loop.time() + self._interval_s
        self._probe, self._probe_loop = (
            loop.call_at(due, loop.call_soon, self._measure, loop, due),
            loop,
        )

    def _measure(self, loop: asyncio.AbstractEventLoop, due: float) -> None:
        try:
            self._adjust(loop.time() - due)
        finally:
            if self._active or self._waiters:
                self._schedule_probe(loop)
            else:
                self._probe = None  # idle: no timer runs until the next request

    def _adjust(self, lag: float) -> None:
        limit = self.limit
        if lag > self._target_lag_s:
            limit = max(self.floor, limit - max(1, limit // 10))
        elif self._queued and lag <= self._target_lag_s / 2:
            limit = min(self.ceiling, limit + self._step)
        changed = limit != self.limit
        self.limit = limit
        self._grant()
        self._queued = bool(self._waiters)  # after the grant: those still queued count next time
        if changed and self._on_limit is not None:
            self._on_limit(limit)

"""Admission: at most a fixed number of requests that call Stripe are at work in one worker;
the others wait for a slot in arrival order, each within a part of its budget.

A worker with every request at work at once answers some connections seconds late when it is
saturated, and a queue keeps it fair: the requests past the limit wait, and one that cannot get
a slot in time is answered at once with 503 `overloaded` and `Retry-After`, having written
nothing. How many slots a worker needs is its throughput times the time a request spends
waiting on Stripe (Little's law); the default (`AMOUNT_UPDATER_MAX_ACTIVE_REQUESTS`) is sized
for hundreds of updates per second at Stripe's usual latency, many times what one Stripe
account accepts.

A change that only waits for its object's turn (behind a batch of changes to the same object)
is not at work: it steps aside (`step_aside`) and its slot goes to the next request, so that a
burst on a few objects, which Stripe's limits make wait for seconds, never turns away others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextvars import ContextVar

from amount_updater.errors import Overloaded

STOREFRONT_WAIT_S = 19.0  # Stripe.js's runServerUpdate gives the server 20 s


def queue_wait_s(budget_s: float) -> float:
    """How long a request may wait for a slot: a third of its budget, and never so long that
    the wait and the budget together pass what the storefront waits for an answer."""
    return max(0.1, min(budget_s / 3, STOREFRONT_WAIT_S - budget_s))


class Slot:
    """One request's slot; given back once, whichever of `release` and `step_aside` comes
    first."""

    __slots__ = ("_admission", "_held")

    def __init__(self, admission: Admission) -> None:
        self._admission = admission
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._admission.leave()


_current: ContextVar[Slot | None] = ContextVar("amount_updater_admission_slot", default=None)


def step_aside() -> None:
    """The current request only waits from now on: its slot goes to the next request."""
    slot = _current.get()
    if slot is not None:
        slot.release()


class Admission:
    """`enter` takes a slot, or waits for one (first come, first served) at most `max_wait_s`,
    then raises `Overloaded`; `leave` gives it back. `on_wait` counts the requests that had to
    wait, `on_refusal` those refused."""

    def __init__(
        self,
        limit: int,
        *,
        max_wait_s: float,
        on_wait: Callable[[], None] | None = None,
        on_refusal: Callable[[], None] | None = None,
    ) -> None:
        self.limit = limit
        self._slots = asyncio.Semaphore(limit)
        self._max_wait_s = max_wait_s
        self._on_wait = on_wait
        self._on_refusal = on_refusal

    async def enter(self) -> Slot:
        """A slot for the current request (which `step_aside` then finds)."""
        if not self._slots.locked():
            await self._slots.acquire()  # a free slot and nobody before it: taken at once
        else:
            await self._wait()
        slot = Slot(self)
        _current.set(slot)
        return slot

    async def _wait(self) -> None:
        if self._on_wait is not None:
            self._on_wait()
        try:
            async with asyncio.timeout(self._max_wait_s):
                await self._slots.acquire()
        except TimeoutError:
            if self._on_refusal is not None:
                self._on_refusal()
            raise Overloaded(
                "This instance is at its limit of requests in progress. Try again shortly.",
                headers={"Retry-After": "1"},
            ) from None

    def leave(self) -> None:
        self._slots.release()

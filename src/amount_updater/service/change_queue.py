"""Changes to one object wait in a queue of their own and are applied in batches.

Stripe takes one write at a time per object (overlapping writes draw 429 `lock_timeout`), and
every write costs a read first. So when changes to one object arrive while one is being
applied (a double click, a shopper clicking fast, a page and a server together), they wait
here, and the next batch applies all of them with one read and one write; changes to other
objects never wait. A worker task per object with a queue drains it batch after batch, in
arrival order, and ends when the queue is empty.

Each caller waits for its own outcome within its own budget. A batch runs until the latest
deadline of the callers in it, so a caller that gave up does not cut the others short; a
caller that gives up before its change is taken leaves the queue, and one that gives up after
gets 504 (its change may still land, which a retry with the same key recognises).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeAlias, TypeVar

from amount_updater.deadlines import set_deadline
from amount_updater.errors import ServiceError, StripeTimeout
from amount_updater.observability import context

logger = logging.getLogger(__name__)

T = TypeVar("T")  # what a caller asks for
R = TypeVar("R")  # what it gets

Outcome: TypeAlias = R | ServiceError
RunBatch: TypeAlias = Callable[[str, Sequence[T]], Awaitable[Sequence[Outcome[R]]]]


@dataclass(eq=False, slots=True)
class _Queued(Generic[T, R]):
    item: T
    deadline: float
    outcome: asyncio.Future[tuple[Outcome[R], tuple[str, ...]]]  # and the Stripe request ids


@dataclass(slots=True)
class ChangeQueue(Generic[T, R]):
    """Usage: `await queue.submit(object_id, change, deadline=loop.time() + 15)`; `run_batch`
    receives the object id and the batch, and returns one outcome per item, in order."""

    run_batch: RunBatch[T, R]
    on_batch: Callable[[int], None] | None = None  # hears every batch's size
    on_queued: Callable[[], None] | None = None  # hears every change that waits for another
    # Awaited before each batch is formed (the object's id, within the callers' deadline): the
    # changes that arrive meanwhile join the batch.
    before_batch: Callable[[str], Awaitable[None]] | None = None
    _waiting: dict[str, deque[_Queued[T, R]]] = field(default_factory=dict)
    _workers: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    def __len__(self) -> int:
        """Objects with changes waiting or being applied."""
        return len(self._workers)

    async def submit(self, key: str, item: T, *, deadline: float) -> R:
        loop = asyncio.get_running_loop()
        entry: _Queued[T, R] = _Queued(item, deadline, loop.create_future())
        waiting = self._waiting.setdefault(key, deque())
        waiting.append(entry)
        if key in self._workers:
            if self.on_queued is not None:
                self.on_queued()
        else:
            # A context of its own: the worker serves many requests, and must not write into the
            # first one's log context or run on its deadline.
            self._workers[key] = loop.create_task(self._work(key), context=contextvars.Context())
        try:
            await asyncio.wait((entry.outcome,))  # cancelled with the caller, not the future
        finally:
            if not entry.outcome.done():
                if entry in waiting:
                    waiting.remove(entry)  # given up before it was taken: never applied
                entry.outcome.cancel()
        outcome, stripe_requests = entry.outcome.result()
        for request_id in stripe_requests:
            context.note_stripe_request(request_id)
        if isinstance(outcome, ServiceError):
            raise outcome
        return outcome

    async def _work(self, key: str) -> None:
        try:
            while waiting := self._waiting.get(key):
                if self.before_batch is not None:
                    await self._before(key, max(entry.deadline for entry in waiting))
                    waiting = self._waiting.get(key)
                    if not waiting:
                        break  # every caller gave up meanwhile
                batch = list(waiting)
                waiting.clear()
                await self._apply(key, batch)
        finally:
            del self._workers[key]
            if not self._waiting.get(key):
                self._waiting.pop(key, None)

    async def _before(self, key: str, ends: float) -> None:
        """`before_batch`; should it fail or run out of time, the batch's own calls meet the
        same condition and answer for it."""
        assert self.before_batch is not None
        set_deadline(ends)
        try:
            async with asyncio.timeout_at(ends):
                await self.before_batch(key)
        except (TimeoutError, ServiceError):
            pass
        except Exception:
            logger.exception("change_queue.before_batch_failed", extra={"object_id": key})

    async def _apply(self, key: str, batch: list[_Queued[T, R]]) -> None:
        if self.on_batch is not None:
            self.on_batch(len(batch))
        ends = max(entry.deadline for entry in batch)
        log = context.begin(f"batch:{key}")
        set_deadline(ends)
        outcomes: Sequence[Outcome[R]]
        try:
            async with asyncio.timeout_at(ends):
                outcomes = await self.run_batch(key, [entry.item for entry in batch])
        except TimeoutError:
            outcomes = [_in_doubt()] * len(batch)
        except ServiceError as error:
            outcomes = [error] * len(batch)
        except Exception:
            logger.exception("change_queue.batch_failed", extra={"object_id": key})
            outcomes = [ServiceError("Something went wrong on our side.")] * len(batch)
        stripe_requests = tuple(log.stripe_request_ids)
        for entry, outcome in zip(batch, outcomes, strict=True):
            if not entry.outcome.done():
                entry.outcome.set_result((outcome, stripe_requests))


def _in_doubt() -> StripeTimeout:
    return StripeTimeout(
        "The change did not complete in time. Retry with the same Idempotency-Key: a change "
        "that did reach Stripe is not applied twice.",
        outcome_unknown=True,
    )

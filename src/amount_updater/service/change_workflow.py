"""One workflow for every change to a cart on a Stripe object, whatever its kind.

Changes to one object queue (`change_queue`) and are applied in batches. For each batch, with
the object's lock held, it:
1. settles a write to the object whose outcome was left unknown (`coordination/pending_writes`);
2. reads the object and the cart the service recorded on it;
3. answers a retried request whose marker the object already holds with the current cart
   (`request_history`), without applying it again;
4. checks that the object can still change and applies each change in turn (one that fails its
   checks fails alone), then prices the cart;
5. writes the whole new state in one call, recorded first as pending, or writes nothing when
   nothing changed; every caller whose change was applied gets the cart as it now stands.

What differs between Checkout Sessions and PaymentIntents (how to read one, how its cart is
recorded, what a write looks like) is a `CartKind`: another kind of object is another adapter,
served by an `ObjectService` over this same workflow.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from amount_updater.coordination.locks import ObjectLocks
from amount_updater.coordination.pending_writes import PendingWrites
from amount_updater.deadlines import deadline
from amount_updater.errors import CartUnreadable, ServiceError
from amount_updater.observability import context
from amount_updater.pricing import PricedCart, Selection
from amount_updater.service.amount_limits import check_cart
from amount_updater.service.cart import CartView, RecordedCart
from amount_updater.service.change_log import log_change
from amount_updater.service.change_queue import ChangeQueue
from amount_updater.service.changes import (
    CartChange,
    check_shipping_has_items,
    reads_current_cart,
)
from amount_updater.service.pricer import CartPricer
from amount_updater.service.recent_views import READ_TTL_S, RecentViews
from amount_updater.service.request_history import Origin, with_markers
from amount_updater.service.request_timeout import within
from amount_updater.stripe_gateway import StripeGateway, StripeWrite

Obj = TypeVar("Obj")  # the Stripe object as the gateway reads it
Cart = TypeVar("Cart", bound=RecordedCart)


@dataclass(frozen=True, slots=True)
class Snapshot(Generic[Obj, Cart]):
    """A Stripe object as read, with the cart the service recorded on it."""

    stripe_object: Obj
    cart: Cart
    currency: str
    charged: int  # what Stripe would charge now


S = TypeVar("S", bound=Snapshot[Any, Any])


class CartKind(Protocol[S]):
    """How the workflow reads and writes one kind of Stripe object; `S` is its snapshot."""

    name: str  # Stripe's name of the object: "checkout.session", "payment_intent"
    noun: str  # for people: "checkout session", "payment intent"

    async def fetch(self, object_id: str) -> S: ...

    def ensure_updatable(self, snapshot: S) -> None:
        """NotUpdatable unless the object can still change."""
        ...

    def plan(self, snapshot: S, priced: PricedCart, history: tuple[str, ...]) -> StripeWrite | None:
        """The write that records `priced` (and `history`), or None when nothing would change."""
        ...

    def view(self, snapshot: S, priced: PricedCart) -> CartView: ...

    def written(self, snapshot: S, priced: PricedCart, answer: dict[str, Any]) -> CartView:
        """The view after a write, with the total from Stripe's `answer`."""
        ...


@dataclass(frozen=True, slots=True)
class ChangeSetup:
    """What the changes to every kind of object share; built once in the app's lifespan."""

    pricer: CartPricer
    gateway: StripeGateway
    locks: ObjectLocks
    pending: PendingWrites
    budget_s: float = 15.0  # each request's time budget
    clock: Callable[[], float] = time.time
    read_ttl_s: float = READ_TTL_S  # how long a cart read is answered from the last one
    on_batch: Callable[[int], None] | None = None
    on_queued: Callable[[], None] | None = None


@dataclass(frozen=True, slots=True)
class Requested:
    """One change as a caller asked for it."""

    change: CartChange
    origin: Origin
    marker: str
    request_id: str  # of the HTTP request, for the change's log line


class ChangeWorkflow(Generic[S]):
    def __init__(self, kind: CartKind[S], setup: ChangeSetup) -> None:
        self._kind = kind
        self._pricer = setup.pricer
        self._gateway = setup.gateway
        self._locks = setup.locks
        self._pending = setup.pending
        self._budget_s = setup.budget_s
        self.recent = RecentViews(ttl_s=setup.read_ttl_s)
        self._queue: ChangeQueue[Requested, CartView] = ChangeQueue(
            self._apply, setup.on_batch, setup.on_queued, self._ready
        )

    async def apply(self, object_id: str, change: CartChange, origin: Origin) -> CartView:
        """Apply one change to the object's cart: queued behind the changes to it in progress,
        and applied together with the others that queued meanwhile."""
        log = context.current()
        request_id = log.request_id if log is not None else ""
        requested = Requested(change, origin, origin.marker(change), request_id)
        async with within(self._budget_s):
            ends = deadline()
            assert ends is not None
            return await self._queue.submit(object_id, requested, deadline=ends)

    async def _ready(self, object_id: str) -> None:
        """Before a batch is formed: its turn for a read in Stripe's rate budget."""
        await self._gateway.prepay_read(self._kind.name)

    async def _apply(
        self, object_id: str, batch: Sequence[Requested]
    ) -> list[CartView | ServiceError]:
        """Apply a batch with one read and at most one write. A change that fails its checks
        fails alone; a write that fails fails them all."""
        kind = self._kind
        async with self._locks.hold(object_id):
            await self._settle(object_id)
            snapshot = await kind.fetch(object_id)
            cart = snapshot.cart
            selection, history = cart.selection, cart.history
            readable = cart.problem is None
            outcomes: list[ServiceError | None] = []  # None: applied, or applied before
            applied: list[Requested] = []
            rules = None
            priced: PricedCart | None = None  # of `selection`, once priced
            for requested in batch:
                if requested.marker and requested.marker in cart.history:
                    outcomes.append(None)  # this request changed the object already
                    continue
                try:
                    kind.ensure_updatable(snapshot)
                    if not readable and reads_current_cart(requested.change):
                        raise _unreadable(kind.noun)
                    rules = rules or self._pricer.rules(snapshot.currency)
                    changed = requested.change.apply(selection, rules)
                    check_shipping_has_items(changed, cart.other_subtotal)
                    priced_change = priced
                    if changed != selection:
                        priced_change = self._pricer.price(rules, changed, cart.other_subtotal)
                        check_cart(priced_change, rules.currency)
                except ServiceError as error:
                    outcomes.append(error)
                    continue
                selection, priced, readable = changed, priced_change, True
                history = with_markers(history, [requested.marker])
                applied.append(requested)
                outcomes.append(None)
            if all(outcome is not None for outcome in outcomes):
                return [outcome for outcome in outcomes if outcome is not None]
            try:
                view = await self._record(
                    object_id, snapshot, selection, priced, history, readable, applied
                )
            except ServiceError as error:
                return [error if outcome is None else outcome for outcome in outcomes]
        self.recent.remember(object_id, view)
        return [view if outcome is None else outcome for outcome in outcomes]

    async def _record(
        self,
        object_id: str,
        snapshot: S,
        selection: Selection,
        priced: PricedCart | None,
        history: tuple[str, ...],
        readable: bool,
        applied: Sequence[Requested],
    ) -> CartView:
        """Write `selection` (`priced`, if the batch priced it) to the object, if anything
        changed; the cart as it now stands."""
        kind = self._kind
        cart = snapshot.cart
        if not readable:
            raise _unreadable(kind.noun)  # every change in the batch was applied before
        rules = self._pricer.rules(snapshot.currency)
        if priced is None:
            priced = self._pricer.price(rules, selection, cart.other_subtotal)
        write = kind.plan(snapshot, priced, history)
        if write is None:
            return kind.view(snapshot, priced)
        check_cart(priced, rules.currency)
        answer = await self._write(object_id, write)
        view = kind.written(snapshot, priced, answer)
        log_change(
            kind.name,
            object_id,
            rules.currency,
            snapshot.charged,
            view.amount_total,
            who=[requested.origin.scope for requested in applied],
            request_ids=[requested.request_id for requested in applied],
        )
        return view

    async def read(self, object_id: str, *, fresh: bool = False) -> CartView:
        """The object's cart; from its last read or write here if that is recent enough."""
        recent = None if fresh else self.recent.recall(object_id)
        if recent is not None:
            return recent
        async with within(self._budget_s):
            snapshot = await self._kind.fetch(object_id)
        view = self.current_view(snapshot)
        self.recent.remember(object_id, view)
        return view

    async def updatable(self, object_id: str) -> S:
        """The object, read from Stripe now; NotUpdatable if its cart can no longer change."""
        async with within(self._budget_s):
            snapshot = await self._kind.fetch(object_id)
        self._kind.ensure_updatable(snapshot)
        return snapshot

    def current_view(self, snapshot: S) -> CartView:
        """The cart recorded on the object, priced from the catalog now."""
        kind = self._kind
        cart = snapshot.cart
        if cart.problem is not None:
            raise _unreadable(kind.noun)
        return kind.view(snapshot, self._pricer.price_recorded(cart, snapshot.currency))

    async def _settle(self, object_id: str) -> None:
        """Send a write whose outcome was left unknown again, with its own idempotency key:
        Stripe replays it if it landed, runs it if it never arrived, and 409s while the first
        attempt still runs (retried). Until that answer comes, nothing else changes the object.
        """
        write = await self._pending.find(object_id)
        if write is None:
            return
        try:
            await self._gateway.write(write)
        except ServiceError as error:
            if error.outcome_unknown:
                raise
            # A definite refusal: the write did not apply (or its first refusal was replayed).
        await self._pending.clear(object_id)

    async def _write(self, object_id: str, write: StripeWrite) -> dict[str, Any]:
        await self._pending.record(object_id, write)
        try:
            answer = await self._gateway.write(write)
        except ServiceError as error:
            if not error.outcome_unknown:
                await self._pending.clear(object_id)
            raise
        # Cancelled here (the request budget ran out mid-call): the record stays for the next
        # change to settle.
        await self._pending.clear(object_id)
        return answer


def _unreadable(noun: str) -> CartUnreadable:
    return CartUnreadable(
        f"The cart recorded on this {noun} cannot be read (its metadata was changed outside "
        "this service). Replace the whole cart with PUT .../cart to repair it."
    )

"""One workflow for every change to a cart on a Stripe object, whatever its kind.

For one object at a time (the lock), it:
1. settles a write to the object whose outcome was left unknown (`coordination/pending_writes`);
2. reads the object and the cart the service recorded on it;
3. answers a retried request whose marker the object already holds with the current cart
   (`request_history`), without applying it again;
4. checks that the object can still change, applies the change, prices the cart;
5. writes the whole new state in one call, recorded first as pending, or writes nothing when
   nothing changed.

What differs between Checkout Sessions and PaymentIntents (how to read one, how its cart is
recorded, what a write looks like) is a `CartKind`.
"""

from __future__ import annotations

from typing import Any, Generic, Protocol, TypeVar

from amount_updater.coordination.locks import ObjectLocks
from amount_updater.coordination.pending_writes import PendingWrites
from amount_updater.errors import CartUnreadable, ServiceError
from amount_updater.pricing import PricedCart
from amount_updater.service.amount_limits import check_amount
from amount_updater.service.budget import within
from amount_updater.service.cart import CartView, RecordedCart
from amount_updater.service.change_log import log_change
from amount_updater.service.changes import (
    CartChange,
    check_shipping_has_items,
    reads_current_cart,
)
from amount_updater.service.pricer import CartPricer
from amount_updater.service.request_history import Origin, with_markers
from amount_updater.stripe_gateway import StripeGateway, StripeWrite

S = TypeVar("S")


class CartKind(Protocol[S]):
    """How the workflow reads and writes one kind of Stripe object; `S` is its snapshot."""

    name: str  # "checkout.session", "payment_intent"

    async def fetch(self, object_id: str) -> S: ...

    def cart(self, snapshot: S) -> RecordedCart: ...

    def currency(self, snapshot: S) -> str: ...

    def charged(self, snapshot: S) -> int:
        """What Stripe would charge now."""
        ...

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


class ChangeWorkflow(Generic[S]):
    def __init__(
        self,
        kind: CartKind[S],
        *,
        pricer: CartPricer,
        gateway: StripeGateway,
        locks: ObjectLocks,
        pending: PendingWrites,
        budget_s: float,
    ) -> None:
        self._kind = kind
        self._pricer = pricer
        self._gateway = gateway
        self._locks = locks
        self._pending = pending
        self._budget_s = budget_s

    async def apply(self, object_id: str, change: CartChange, origin: Origin) -> CartView:
        """Apply one change to the object's cart, serialized with other changes to it."""
        kind = self._kind
        marker = origin.marker(change)
        async with within(self._budget_s), self._locks.hold(object_id):
            await self._settle(object_id)
            snapshot = await kind.fetch(object_id)
            cart = kind.cart(snapshot)
            if marker and marker in cart.history:
                # This very request changed the object already (its answer was lost).
                return self.current_view(snapshot)
            kind.ensure_updatable(snapshot)
            if cart.problem is not None and reads_current_cart(change):
                raise _unreadable(kind.name)
            rules = self._pricer.rules(kind.currency(snapshot))
            selection = change.apply(cart.selection, rules)
            check_shipping_has_items(selection, cart.other_subtotal)
            priced = self._pricer.price(rules, selection, cart.other_subtotal)
            write = kind.plan(snapshot, priced, with_markers(cart.history, [marker]))
            if write is None:
                return kind.view(snapshot, priced)
            # Also refuses an empty cart: a payment needs something to charge.
            check_amount(priced.total, rules.currency)
            answer = await self._write(object_id, write)
            view = kind.written(snapshot, priced, answer)
            before = kind.charged(snapshot)
            log_change(kind.name, object_id, rules.currency, before, view.amount_total)
            return view

    def current_view(self, snapshot: S) -> CartView:
        """The cart recorded on the object, priced from the catalog now."""
        kind = self._kind
        cart = kind.cart(snapshot)
        if cart.problem is not None:
            raise _unreadable(kind.name)
        rules = self._pricer.rules(kind.currency(snapshot))
        return kind.view(snapshot, self._pricer.price(rules, cart.selection, cart.other_subtotal))

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


def _unreadable(kind: str) -> CartUnreadable:
    noun = "checkout session" if kind == "checkout.session" else "payment intent"
    return CartUnreadable(
        f"The cart recorded on this {noun} cannot be read (its metadata was changed outside "
        "this service). Replace the whole cart with PUT .../cart to repair it."
    )

"""Checkout Session updates: fetch, check, recompute from the catalog, retransmit, answer."""

from __future__ import annotations

from amount_updater.errors import NotUpdatable
from amount_updater.pricing import PricedCart
from amount_updater.service.amount_limits import check_amount
from amount_updater.service.budget import request_marker, within
from amount_updater.service.cart import (
    DISCOUNT_KEY,
    REQUEST_KEY,
    REVISION_KEY,
    CartView,
    SessionCart,
)
from amount_updater.service.change_log import log_change
from amount_updater.service.changes import CartChange, check_shipping_has_items
from amount_updater.service.line_items import new_lines, plan_line_items
from amount_updater.service.object_service import Created, IssuedToken, ObjectService
from amount_updater.service.stripe_keys import derive_key
from amount_updater.stripe_gateway import CheckoutSession

UPDATABLE_UI_MODES = frozenset({"elements", "form"})  # hosted/embedded pages can't update lines


class CheckoutSessionService(ObjectService):
    async def create(
        self,
        currency: str,
        items: list[tuple[str, int]],
        shipping_rate_id: str | None,
        discount_code: str | None,
        return_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> Created:
        priced = self._pricer.new_cart(currency, items, shipping_rate_id, discount_code)
        check_amount(priced.total, priced.currency)
        metadata = {REVISION_KEY: "1"}
        if priced.discount is not None:
            metadata[DISCOUNT_KEY] = priced.discount.code
        lines = new_lines(priced)
        async with within(self._budget_s):
            session = await self._gateway.create_checkout_session(
                currency=priced.currency,
                lines=lines,
                metadata=metadata,
                return_url=return_url,
                # Without the caller's key there is nothing to tie a retry to: each call gets a
                # random key (two shoppers with equal carts must get two sessions).
                idempotency_key=(
                    derive_key("cs-create", idempotency_key, metadata, lines, return_url)
                    if idempotency_key
                    else None
                ),
            )
        return Created(
            id=session.id,
            client_secret=session.client_secret,
            token=self._signer.mint(session.id, session.expires_at),
            token_expires_at=session.expires_at,
            cart=self._view(session, SessionCart.read(session, self._pricer.catalog)),
        )

    async def get(self, session_id: str) -> CartView:
        async with within(self._budget_s):
            session = await self._gateway.get_checkout_session(session_id)
        return self._view(session, SessionCart.read(session, self._pricer.catalog))

    async def issue_token(self, session_id: str) -> IssuedToken:
        """A token for a session created elsewhere; it expires with the session."""
        async with within(self._budget_s):
            session = await self._gateway.get_checkout_session(session_id)
        self._ensure_updatable(session)
        return IssuedToken(self._signer.mint(session.id, session.expires_at), session.expires_at)

    async def change(
        self, session_id: str, change: CartChange, idempotency_key: str | None = None
    ) -> CartView:
        """Apply one change to the session's cart, serialized with other changes to it."""
        async with within(self._budget_s), self._locks.hold(session_id):
            session = await self._gateway.get_checkout_session(session_id)
            marker = request_marker(idempotency_key, change)
            current = SessionCart.read(session, self._pricer.catalog)
            if marker and session.metadata.get(REQUEST_KEY) == marker:
                # This very request already changed the session (its answer was lost).
                return self._view(session, current)
            self._ensure_updatable(session)
            rules = self._pricer.rules(session.currency)
            selection = change.apply(current.selection, rules)
            check_shipping_has_items(selection, current.other_subtotal)
            priced = self._pricer.price(rules, selection, current.other_subtotal)
            plan = plan_line_items(current, priced)
            discount = priced.discount.code if priced.discount else ""
            if not plan.changed and discount == (current.selection.discount_code or ""):
                return self._view(session, current, priced)
            # Also refuses an empty cart: a payment session needs something to charge.
            check_amount(priced.total, session.currency)
            metadata = {
                DISCOUNT_KEY: discount,
                REVISION_KEY: str(current.revision + 1),
                REQUEST_KEY: marker,
            }
            updated = await self._gateway.update_checkout_session(
                session_id,
                currency=session.currency,
                lines=plan.writes,
                metadata=metadata,
                idempotency_key=derive_key(
                    f"cs-update:{session_id}:{current.revision}",
                    idempotency_key,
                    metadata,
                    plan.writes,
                ),
            )
            log_change(
                "checkout.session",
                session.id,
                session.currency,
                session.amount_total,
                updated.amount_total,
            )
            return CartView(
                "checkout.session",
                session.id,
                updated.status,
                session.currency,
                session.expires_at,
                priced,
                current.other_items,
                updated.amount_total,
            )

    def _ensure_updatable(self, session: CheckoutSession) -> None:
        if session.status != "open":
            raise NotUpdatable(f"The checkout session is {session.status}, not open.")
        if session.expires_at <= self._pricer.clock():
            raise NotUpdatable("The checkout session has expired.")
        if session.mode != "payment" or session.ui_mode not in UPDATABLE_UI_MODES:
            raise NotUpdatable(
                "Only payment-mode sessions with ui_mode elements or form can change line items."
            )

    def _view(
        self, session: CheckoutSession, current: SessionCart, priced: PricedCart | None = None
    ) -> CartView:
        if priced is None:
            rules = self._pricer.rules(session.currency)
            priced = self._pricer.price(rules, current.selection, current.other_subtotal)
        return CartView(
            "checkout.session",
            session.id,
            session.status,
            session.currency,
            session.expires_at,
            priced,
            current.other_items,
            session.amount_total,
        )

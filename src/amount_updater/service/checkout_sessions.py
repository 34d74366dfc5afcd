"""Checkout Session updates: fetch, check, recompute from the catalog, retransmit, answer."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, is_dataclass
from datetime import UTC, datetime

from amount_updater.auth.tokens import TokenSigner
from amount_updater.catalog.repository import CatalogRepository
from amount_updater.errors import CurrencyNotSupported, NotUpdatable
from amount_updater.money.currencies import is_currency_code
from amount_updater.pricing import PricedCart, Selection, price_cart
from amount_updater.service.cart import DISCOUNT_KEY, REVISION_KEY, CartView, SessionCart
from amount_updater.service.changes import CartChange, CartRules, build_selection
from amount_updater.service.line_items import new_lines, plan_line_items
from amount_updater.service.locks import KeyedLocks
from amount_updater.stripe_gateway import CheckoutSession, LineWrite, StripeGateway

UPDATABLE_UI_MODES = frozenset({"elements", "form"})  # hosted/embedded pages can't update lines


@dataclass(frozen=True, slots=True)
class CreatedSession:
    id: str
    client_secret: str | None
    token: str
    token_expires_at: int
    cart: CartView


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: int


class CheckoutSessionService:
    def __init__(
        self,
        gateway: StripeGateway,
        catalog: CatalogRepository,
        signer: TokenSigner,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._gateway = gateway
        self._catalog = catalog
        self._signer = signer
        self._clock = clock
        self._locks = KeyedLocks()

    def quote(
        self,
        currency: str,
        items: list[tuple[str, int]],
        shipping_rate_id: str | None,
        discount_code: str | None,
    ) -> CartView:
        """The cart priced from the catalog alone: no Stripe call."""
        rules = self._rules(currency)
        selection = build_selection(rules, items, shipping_rate_id, discount_code)
        priced = price_cart(self._catalog.catalog, rules.currency, selection, now=rules.now)
        return CartView("quote", None, None, rules.currency, None, priced, (), priced.total)

    async def create(
        self,
        currency: str,
        items: list[tuple[str, int]],
        shipping_rate_id: str | None,
        discount_code: str | None,
        return_url: str | None,
        idempotency_key: str | None = None,
    ) -> CreatedSession:
        rules = self._rules(currency)
        selection = build_selection(rules, items, shipping_rate_id, discount_code)
        priced = price_cart(self._catalog.catalog, rules.currency, selection, now=rules.now)
        metadata = {REVISION_KEY: "1"}
        if priced.discount is not None:
            metadata[DISCOUNT_KEY] = priced.discount.code
        session = await self._gateway.create_checkout_session(
            currency=rules.currency,
            lines=new_lines(priced),
            metadata=metadata,
            return_url=return_url,
            # Without the caller's key there is nothing to tie a retry to: the SDK makes a
            # random key per call (two shoppers with equal carts must get two sessions).
            idempotency_key=(
                _derive_key("cs-create", idempotency_key, metadata, priced)
                if idempotency_key
                else None
            ),
        )
        cart = self._view(session, SessionCart.read(session, self._catalog), session.amount_total)
        return CreatedSession(
            id=session.id,
            client_secret=session.client_secret,
            token=self._signer.mint(session.id, session.expires_at),
            token_expires_at=session.expires_at,
            cart=cart,
        )

    async def get(self, session_id: str) -> CartView:
        session = await self._gateway.get_checkout_session(session_id)
        return self._view(session, SessionCart.read(session, self._catalog), session.amount_total)

    async def issue_token(self, session_id: str) -> IssuedToken:
        """A token for a session created elsewhere; it expires with the session."""
        session = await self._gateway.get_checkout_session(session_id)
        self._ensure_updatable(session)
        return IssuedToken(self._signer.mint(session.id, session.expires_at), session.expires_at)

    async def change(
        self, session_id: str, change: CartChange, idempotency_key: str | None = None
    ) -> CartView:
        """Apply one change to the session's cart, serialized with other changes to it."""
        async with self._locks.hold(session_id):
            session = await self._gateway.get_checkout_session(session_id)
            self._ensure_updatable(session)
            current = SessionCart.read(session, self._catalog)
            rules = self._rules(session.currency)
            selection = change.apply(current.selection, rules)
            priced = self._price(rules, selection, current)
            plan = plan_line_items(current, priced)
            discount = priced.discount.code if priced.discount else ""
            if not plan.changed and discount == (current.selection.discount_code or ""):
                return self._view(session, current, session.amount_total, priced)
            metadata = {DISCOUNT_KEY: discount, REVISION_KEY: str(current.revision + 1)}
            updated = await self._gateway.update_checkout_session(
                session_id,
                currency=session.currency,
                lines=plan.writes,
                metadata=metadata,
                idempotency_key=_derive_key(
                    f"cs-update:{session_id}:{current.revision}",
                    idempotency_key,
                    metadata,
                    plan.writes,
                ),
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
        if session.expires_at <= self._clock():
            raise NotUpdatable("The checkout session has expired.")
        if session.mode != "payment" or session.ui_mode not in UPDATABLE_UI_MODES:
            raise NotUpdatable(
                "Only payment-mode sessions with ui_mode elements or form can change line items."
            )

    def _rules(self, currency: str) -> CartRules:
        currency = currency.lower()
        if not is_currency_code(currency) or not self._catalog.supports(currency):
            raise CurrencyNotSupported(f"The catalog has no prices in {currency!r}.")
        return CartRules(
            self._catalog.catalog, currency, datetime.fromtimestamp(self._clock(), UTC)
        )

    def _price(self, rules: CartRules, selection: Selection, current: SessionCart) -> PricedCart:
        return price_cart(
            self._catalog.catalog,
            rules.currency,
            selection,
            now=rules.now,
            other_subtotal=current.other_subtotal,
        )

    def _view(
        self,
        session: CheckoutSession,
        current: SessionCart,
        amount_total: int,
        priced: PricedCart | None = None,
    ) -> CartView:
        if priced is None:
            priced = self._price(self._rules(session.currency), current.selection, current)
        return CartView(
            "checkout.session",
            session.id,
            session.status,
            session.currency,
            session.expires_at,
            priced,
            current.other_items,
            amount_total,
        )


def _derive_key(
    scope: str,
    caller_key: str | None,
    metadata: dict[str, str],
    payload: object,
) -> str:
    """A Stripe idempotency key for one intended write.

    It covers the object, the revision the change was computed from, the exact new state and
    the caller's own Idempotency-Key, so a retry of the same write replays at Stripe instead of
    applying twice, while any other write gets a fresh key.
    """
    body = json.dumps([caller_key, metadata, _plain(payload)], sort_keys=True)
    digest = hashlib.sha256(f"{scope}|{body}".encode()).hexdigest()[:40]
    return f"au-{scope.split(':', 1)[0]}-{digest}"


def _plain(payload: object) -> object:
    if isinstance(payload, tuple | list):
        return [_plain(item) for item in payload]
    if is_dataclass(payload) and not isinstance(payload, type):
        return {"type": type(payload).__name__, **asdict(payload)}
    return payload


__all__ = ["CheckoutSessionService", "CreatedSession", "IssuedToken", "LineWrite"]

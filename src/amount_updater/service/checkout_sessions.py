"""Checkout Sessions: create one from a cart, read its cart, and change it through the workflow.

The session's line items are the cart: catalog products and the shipping line carry their ids
in line-item metadata, the discount code and the request history live in session metadata.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from amount_updater.auth.tokens import TokenSigner
from amount_updater.catalog.repository import CatalogRepository
from amount_updater.errors import InvalidRequest, NotUpdatable
from amount_updater.pricing import PricedCart
from amount_updater.service.cart import (
    DISCOUNT_KEY,
    REVISION_KEY,
    SHIPPING_RATE_KEY,
    CartView,
    SessionCart,
)
from amount_updater.service.change_workflow import ChangeSetup, Snapshot
from amount_updater.service.changes import CartChange, NewCart, SetShippingAddress
from amount_updater.service.line_items import new_lines, plan_line_items, shipping_option
from amount_updater.service.object_service import Created, IssuedToken, ObjectService
from amount_updater.service.request_history import HISTORY_KEY, Origin, history_value
from amount_updater.service.request_timeout import within
from amount_updater.service.return_urls import ReturnUrls
from amount_updater.service.session_options import CustomerDetails, SessionDefaults
from amount_updater.service.stripe_idempotency_keys import derive_key
from amount_updater.stripe_gateway import CheckoutSession, StripeGateway, StripeWrite
from amount_updater.stripe_gateway.models import UpdatedSession
from amount_updater.stripe_gateway.session_params import shipping_options_param
from amount_updater.stripe_gateway.writes import session_update

UPDATABLE_UI_MODES = frozenset({"elements", "form"})  # hosted/embedded pages can't update lines


SessionSnapshot = Snapshot[CheckoutSession, SessionCart]


class SessionKind:
    """The workflow's view of a Checkout Session."""

    name = "checkout.session"
    noun = "checkout session"

    def __init__(
        self, gateway: StripeGateway, catalog: CatalogRepository, clock: Callable[[], float]
    ) -> None:
        self._gateway = gateway
        self._catalog = catalog
        self._clock = clock

    def read(self, session: CheckoutSession) -> SessionSnapshot:
        cart = SessionCart.read(session, self._catalog)
        return Snapshot(session, cart, session.currency, session.amount_total)

    async def fetch(self, object_id: str) -> SessionSnapshot:
        return self.read(await self._gateway.get_checkout_session(object_id))

    def ensure_updatable(self, snapshot: SessionSnapshot) -> None:
        session = snapshot.stripe_object
        if session.status != "open":
            raise NotUpdatable(f"The checkout session is {session.status}, not open.")
        if session.expires_at <= self._clock():
            raise NotUpdatable("The checkout session has expired.")
        if session.mode != "payment" or session.ui_mode not in UPDATABLE_UI_MODES:
            raise NotUpdatable(
                "Only payment-mode sessions with ui_mode elements or form can change line items."
            )

    def plan(
        self, snapshot: SessionSnapshot, priced: PricedCart, history: tuple[str, ...]
    ) -> StripeWrite | None:
        current, session = snapshot.cart, snapshot.stripe_object
        lines = plan_line_items(current, priced, self._catalog)
        discount = priced.discount.code if priced.discount else ""
        wanted = priced.shipping
        # The option the service recorded, even if its rate has since left the catalog: then it
        # is cleared, never left charging with nothing in the cart to show for it.
        recorded = session.metadata.get(SHIPPING_RATE_KEY) or None
        shipping_changed = (
            bool(current.shipping_lines)
            or current.selection.shipping_rate_id != (wanted.rate_id if wanted else None)
            or (wanted is not None and session.amount_shipping != wanted.amount)
            or (wanted is None and recorded is not None)
        )
        ship_to = priced.ship_to if priced.ship_to != current.selection.ship_to else None
        if (
            not lines.changed
            and not shipping_changed
            and ship_to is None
            and discount == (current.selection.discount_code or "")
        ):
            return None
        metadata = {
            DISCOUNT_KEY: discount,
            SHIPPING_RATE_KEY: wanted.rate_id if wanted else "",
            REVISION_KEY: str(current.revision + 1),
            HISTORY_KEY: history_value(history),
        }
        shipping = (
            shipping_options_param(session.currency, shipping_option(priced, self._catalog))
            if shipping_changed
            else None
        )
        return session_update(
            session.id,
            currency=session.currency,
            lines=lines.writes,
            metadata=metadata,
            shipping=shipping,
            address=ship_to,
            # The revision the change was computed from and the exact new state (whose history
            # names the callers): a retry of this write replays, any other write differs.
            idempotency_key=derive_key(
                f"cs-update:{session.id}:{current.revision}",
                metadata,
                lines.writes,
                shipping,
                ship_to,
            ),
        )

    def view(self, snapshot: SessionSnapshot, priced: PricedCart) -> CartView:
        session = snapshot.stripe_object
        return _view(session, snapshot.cart, priced, UpdatedSession.of(session))

    def written(
        self, snapshot: SessionSnapshot, priced: PricedCart, answer: dict[str, Any]
    ) -> CartView:
        updated = UpdatedSession.from_stripe(answer)
        return _view(snapshot.stripe_object, snapshot.cart, priced, updated)


def _view(
    session: CheckoutSession, cart: SessionCart, priced: PricedCart, held: UpdatedSession
) -> CartView:
    """The cart priced from the catalog, with the status, tax and total Stripe holds."""
    return CartView(
        "checkout.session",
        session.id,
        held.status,
        session.currency,
        session.expires_at,
        priced,
        cart.other_items,
        held.amount_total,
        amount_tax=held.amount_tax,
        tax_status=held.tax_status,
    )


class CheckoutSessionService(ObjectService[SessionSnapshot]):
    def __init__(
        self,
        setup: ChangeSetup,
        signer: TokenSigner,
        *,
        return_urls: ReturnUrls,
        defaults: SessionDefaults | None = None,
    ) -> None:
        self._sessions = SessionKind(setup.gateway, setup.pricer.catalog, setup.clock)
        super().__init__(setup, signer, self._sessions)
        self._return_urls = return_urls
        self._defaults = defaults or SessionDefaults()

    async def create(
        self,
        cart: NewCart,
        return_url: str | None,
        origin: Origin,
        details: CustomerDetails | None = None,
    ) -> Created:
        options = self._defaults.options(
            details or CustomerDetails(), from_server=origin.scope.startswith("api_key:")
        )
        return_url = self._return_urls.resolve(return_url)
        priced = self.new_cart(cart)
        metadata = {REVISION_KEY: "1"}
        if priced.discount is not None:
            metadata[DISCOUNT_KEY] = priced.discount.code
        if priced.shipping is not None:
            metadata[SHIPPING_RATE_KEY] = priced.shipping.rate_id
        catalog = self.pricer.catalog
        lines = new_lines(priced, catalog)
        shipping = shipping_option(priced, catalog)
        async with within(self.budget_s):
            session = await self.gateway.create_checkout_session(
                currency=priced.currency,
                lines=lines,
                metadata=metadata,
                return_url=return_url,
                shipping=shipping,
                options=options,
                # Without the caller's key there is nothing to tie a retry to: each call gets a
                # random key (two shoppers with equal carts must get two sessions). With it, the
                # key is the caller's own: another caller's equal key makes another session.
                idempotency_key=(
                    derive_key(
                        "cs-create",
                        origin.scope,
                        origin.idempotency_key,
                        metadata,
                        lines,
                        return_url,
                        shipping,
                        options,
                    )
                    if origin.idempotency_key
                    else None
                ),
            )
        view = self.changes.current_view(self._sessions.read(session))
        self.changes.recent.remember(session.id, view)
        return Created(
            id=session.id,
            client_secret=session.client_secret,
            token=self.signer.mint(session.id, session.expires_at),
            token_expires_at=session.expires_at,
            cart=view,
        )

    async def issue_token(self, session_id: str) -> IssuedToken:
        """A token for a session created elsewhere; it expires with the session."""
        session = (await self.changes.updatable(session_id)).stripe_object
        return IssuedToken(self.signer.mint(session.id, session.expires_at), session.expires_at)

    async def change(self, object_id: str, change: CartChange, origin: Origin) -> CartView:
        """Apply one change to the session's cart; an address only where addresses are
        collected."""
        if isinstance(change, SetShippingAddress) and not self._defaults.shipping_countries:
            raise InvalidRequest(
                "This service does not collect shipping addresses"
                " (AMOUNT_UPDATER_COLLECT_SHIPPING_ADDRESS)."
            )
        return await super().change(object_id, change, origin)

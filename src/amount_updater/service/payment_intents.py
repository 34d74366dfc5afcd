"""PaymentIntents: the same operations as sessions, with the cart kept on the intent."""

from __future__ import annotations

from typing import Any

from amount_updater.auth.tokens import TokenSigner
from amount_updater.catalog.repository import CatalogRepository
from amount_updater.errors import NotUpdatable
from amount_updater.pricing import PricedCart
from amount_updater.service.cart import REVISION_KEY, CartView
from amount_updater.service.change_workflow import ChangeSetup, Snapshot
from amount_updater.service.changes import NewCart
from amount_updater.service.intent_cart import (
    UPDATABLE_STATUSES,
    IntentCart,
    amount_details,
    cart_metadata,
)
from amount_updater.service.object_service import Created, IssuedToken, ObjectService
from amount_updater.service.request_history import HISTORY_KEY, Origin, history_value
from amount_updater.service.request_timeout import within
from amount_updater.service.stripe_idempotency_keys import derive_key
from amount_updater.stripe_gateway import PaymentIntent, StripeGateway, StripeWrite
from amount_updater.stripe_gateway.writes import intent_update

# A PaymentIntent does not expire, so its update tokens get a lifetime of their own, the same as
# Stripe's default Checkout Session lifetime.
TOKEN_LIFETIME_S = 24 * 3600


IntentSnapshot = Snapshot[PaymentIntent, IntentCart]


class IntentKind:
    """The workflow's view of a PaymentIntent."""

    name = "payment_intent"
    noun = "payment intent"

    def __init__(self, gateway: StripeGateway, catalog: CatalogRepository) -> None:
        self._gateway = gateway
        self._catalog = catalog

    def read(self, intent: PaymentIntent) -> IntentSnapshot:
        return Snapshot(
            intent, IntentCart.read(intent, self._catalog), intent.currency, intent.amount
        )

    async def fetch(self, object_id: str) -> IntentSnapshot:
        return self.read(await self._gateway.get_payment_intent(object_id))

    def ensure_updatable(self, snapshot: IntentSnapshot) -> None:
        status = snapshot.stripe_object.status
        if status not in UPDATABLE_STATUSES:
            raise NotUpdatable(
                f"The payment intent is {status}; its amount can only change in "
                "requires_payment_method, requires_confirmation or requires_action."
            )

    def plan(
        self, snapshot: IntentSnapshot, priced: PricedCart, history: tuple[str, ...]
    ) -> StripeWrite | None:
        intent, current = snapshot.stripe_object, snapshot.cart
        metadata = cart_metadata(
            priced,
            current.other_subtotal,
            current.revision + 1,
            current.cart_keys,
            history_value(history),
        )
        recorded = {k: v for k, v in metadata.items() if k not in (REVISION_KEY, HISTORY_KEY)}
        if (
            current.problem is None
            and current.revision
            and priced.total == intent.amount
            and all(intent.metadata.get(k, "") == v for k, v in recorded.items())
        ):
            return None  # the intent already records this very cart
        details = amount_details(priced, clear_missing=True)
        return intent_update(
            intent.id,
            amount=priced.total,
            amount_details=details,
            metadata=metadata,
            idempotency_key=derive_key(
                f"pi-update:{intent.id}:{current.revision}", metadata, details
            ),
        )

    def view(self, snapshot: IntentSnapshot, priced: PricedCart) -> CartView:
        return _view(snapshot.stripe_object, priced)

    def written(
        self, snapshot: IntentSnapshot, priced: PricedCart, answer: dict[str, Any]
    ) -> CartView:
        return _view(PaymentIntent.from_stripe(answer), priced)


def _view(intent: PaymentIntent, priced: PricedCart) -> CartView:
    return CartView(
        "payment_intent", intent.id, intent.status, intent.currency, None, priced, (), intent.amount
    )


class PaymentIntentService(ObjectService[IntentSnapshot]):
    def __init__(self, setup: ChangeSetup, signer: TokenSigner) -> None:
        super().__init__(setup, signer, IntentKind(setup.gateway, setup.pricer.catalog))

    async def create(self, cart: NewCart, origin: Origin) -> Created:
        priced = self.new_cart(cart)
        metadata = cart_metadata(priced, 0, 1, ())
        details = amount_details(priced, clear_missing=False)
        async with within(self.budget_s):
            intent = await self.gateway.create_payment_intent(
                currency=priced.currency,
                amount=priced.total,
                amount_details=details,
                metadata=metadata,
                idempotency_key=(
                    derive_key("pi-create", origin.scope, origin.idempotency_key, metadata, details)
                    if origin.idempotency_key
                    else None
                ),
            )
        issued = self._token(intent.id)
        view = _view(intent, priced)
        self.changes.recent.remember(intent.id, view)
        return Created(intent.id, intent.client_secret, issued.token, issued.expires_at, view)

    async def issue_token(self, intent_id: str) -> IssuedToken:
        """A token for an intent created elsewhere (update tokens for intents live 24 hours)."""
        return self._token((await self.changes.updatable(intent_id)).stripe_object.id)

    def _token(self, intent_id: str) -> IssuedToken:
        expires_at = int(self.clock()) + TOKEN_LIFETIME_S
        return IssuedToken(self.signer.mint(intent_id, expires_at), expires_at)

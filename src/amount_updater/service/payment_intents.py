"""PaymentIntent updates: the same operations as sessions, with the cart kept on the intent."""

from __future__ import annotations

from amount_updater.errors import NotUpdatable
from amount_updater.pricing import PricedCart
from amount_updater.service.amount_limits import check_amount
from amount_updater.service.budget import request_marker, within
from amount_updater.service.cart import REQUEST_KEY, CartView
from amount_updater.service.change_log import log_change
from amount_updater.service.changes import CartChange, check_shipping_has_items
from amount_updater.service.intent_cart import (
    UPDATABLE_STATUSES,
    IntentCart,
    amount_details,
    cart_metadata,
)
from amount_updater.service.object_service import Created, IssuedToken, ObjectService
from amount_updater.service.stripe_keys import derive_key
from amount_updater.stripe_gateway import PaymentIntent

# A PaymentIntent does not expire, so its update tokens get a lifetime of their own, the same as
# Stripe's default Checkout Session lifetime.
TOKEN_LIFETIME_S = 24 * 3600


class PaymentIntentService(ObjectService):
    async def create(
        self,
        currency: str,
        items: list[tuple[str, int]],
        shipping_rate_id: str | None,
        discount_code: str | None,
        idempotency_key: str | None = None,
    ) -> Created:
        priced = self._pricer.new_cart(currency, items, shipping_rate_id, discount_code)
        check_amount(priced.total, priced.currency)
        metadata = cart_metadata(priced, 0, 1, ())
        details = amount_details(priced, clear_missing=False)
        async with within(self._budget_s):
            intent = await self._gateway.create_payment_intent(
                currency=priced.currency,
                amount=priced.total,
                amount_details=details,
                metadata=metadata,
                idempotency_key=(
                    derive_key("pi-create", idempotency_key, metadata, details)
                    if idempotency_key
                    else None
                ),
            )
        issued = self._token(intent.id)
        return Created(
            intent.id,
            intent.client_secret,
            issued.token,
            issued.expires_at,
            self._view(intent, priced),
        )

    async def get(self, intent_id: str) -> CartView:
        async with within(self._budget_s):
            intent = await self._gateway.get_payment_intent(intent_id)
        current = IntentCart.read(intent, self._pricer.catalog)
        rules = self._pricer.rules(intent.currency)
        return self._view(
            intent, self._pricer.price(rules, current.selection, current.other_amount)
        )

    async def issue_token(self, intent_id: str) -> IssuedToken:
        async with within(self._budget_s):
            intent = await self._gateway.get_payment_intent(intent_id)
        self._ensure_updatable(intent)
        return self._token(intent.id)

    async def change(
        self, intent_id: str, change: CartChange, idempotency_key: str | None = None
    ) -> CartView:
        async with within(self._budget_s), self._locks.hold(intent_id):
            intent = await self._gateway.get_payment_intent(intent_id)
            marker = request_marker(idempotency_key, change)
            current = IntentCart.read(intent, self._pricer.catalog)
            rules = self._pricer.rules(intent.currency)
            if marker and intent.metadata.get(REQUEST_KEY) == marker:
                # This very request already changed the intent (its answer was lost).
                return self._view(
                    intent, self._pricer.price(rules, current.selection, current.other_amount)
                )
            self._ensure_updatable(intent)
            selection = change.apply(current.selection, rules)
            check_shipping_has_items(selection, current.other_amount)
            priced = self._pricer.price(rules, selection, current.other_amount)
            if (
                selection == current.selection
                and current.revision
                and priced.total == intent.amount
            ):
                return self._view(intent, priced)
            check_amount(priced.total, intent.currency)
            metadata = cart_metadata(
                priced, current.other_amount, current.revision + 1, current.cart_keys, marker
            )
            details = amount_details(priced, clear_missing=True)
            updated = await self._gateway.update_payment_intent(
                intent_id,
                amount=priced.total,
                amount_details=details,
                metadata=metadata,
                idempotency_key=derive_key(
                    f"pi-update:{intent_id}:{current.revision}", idempotency_key, metadata, details
                ),
            )
            log_change("payment_intent", intent.id, intent.currency, intent.amount, updated.amount)
            return self._view(updated, priced)

    def _ensure_updatable(self, intent: PaymentIntent) -> None:
        if intent.status not in UPDATABLE_STATUSES:
            raise NotUpdatable(
                f"The payment intent is {intent.status}; its amount can only change in "
                "requires_payment_method, requires_confirmation or requires_action."
            )

    def _token(self, intent_id: str) -> IssuedToken:
        expires_at = int(self._pricer.clock()) + TOKEN_LIFETIME_S
        return IssuedToken(self._signer.mint(intent_id, expires_at), expires_at)

    def _view(self, intent: PaymentIntent, priced: PricedCart) -> CartView:
        return CartView(
            "payment_intent",
            intent.id,
            intent.status,
            intent.currency,
            None,
            priced,
            (),
            intent.amount,
        )

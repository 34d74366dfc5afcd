"""Stripe webhooks: after payment, check that what Stripe charged is what the cart costs.

The authoritative check: a cart can drift from the charge (a catalog change, a change that
failed half-way, a caller that bypassed the service), and nobody would notice. On
`checkout.session.completed` and on PaymentIntent `succeeded` / `amount_capturable_updated`, the
recorded cart is priced again from the catalog and compared with the amount Stripe charged; a
difference is logged at error level with both figures and counted in a metric. Each event is
handled once (Stripe redelivers); other types are ignored.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import stripe

from amount_updater.coordination.idempotency import IdempotencyStore, Outcome, StoredResponse
from amount_updater.errors import (
    InvalidEvent,
    InvalidSignature,
    RequestInProgress,
    WebhooksNotConfigured,
)
from amount_updater.observability.metrics import Metrics
from amount_updater.service.cart import REVISION_KEY, SessionCart
from amount_updater.service.intent_cart import IntentCart
from amount_updater.service.pricer import CartPricer
from amount_updater.stripe_gateway import PaymentIntent, StripeGateway

logger = logging.getLogger(__name__)

SIGNATURE_TOLERANCE_S = 300  # Stripe's default: an older signed payload is a replay
_OBJECT_ID = re.compile(r"(cs|pi)_[A-Za-z0-9_]{1,250}", re.ASCII)


class WebhookService:
    def __init__(
        self,
        secret: str | None,
        gateway: StripeGateway,
        pricer: CartPricer,
        seen: IdempotencyStore,
        metrics: Metrics,
    ) -> None:
        self._secret = secret
        self._gateway = gateway
        self._pricer = pricer
        self._seen = seen
        self._metrics = metrics
        self._handlers: dict[str, Callable[[Mapping[str, Any]], Awaitable[str]]] = {
            "checkout.session.completed": self._session_completed,
            "payment_intent.succeeded": self._intent_amount("amount_received"),
            "payment_intent.amount_capturable_updated": self._intent_amount("amount_capturable"),
        }

    async def handle(self, payload: bytes, signature: str | None) -> str:
        """Verify, then handle once; the outcome is a word for the receipt and the metric."""
        event = self._verified(payload, signature)
        event_type = str(event.get("type", ""))
        handler = self._handlers.get(event_type)
        if handler is None:
            self._metrics.webhook_events.labels("other", "ignored").inc()
            return "ignored"
        data = _event_object(event)
        key = f"webhook:{event.get('id', '')}"
        begun = await self._seen.begin(key, "")
        if begun.outcome is Outcome.IN_PROGRESS:
            # Another delivery is being handled; if it fails, Stripe must still come back.
            raise RequestInProgress("This event is being handled; Stripe will retry.")
        if begun.outcome is not Outcome.STARTED:
            self._metrics.webhook_events.labels(event_type, "duplicate").inc()
            return "duplicate"
        try:
            outcome = await handler(data)
        except BaseException:
            await self._seen.abandon(key)  # Stripe redelivers; handle it then
            raise
        await self._seen.finish(key, "", StoredResponse(200, [], outcome.encode()))
        self._metrics.webhook_events.labels(event_type, outcome).inc()
        return outcome

    def _verified(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        if self._secret is None:
            raise WebhooksNotConfigured(
                "Set AMOUNT_UPDATER_STRIPE_WEBHOOK_SECRET to receive webhooks."
            )
        try:
            text = payload.decode("utf-8")
            stripe.WebhookSignature.verify_header(
                text, signature or "", self._secret, SIGNATURE_TOLERANCE_S
            )
            event = json.loads(text)
        except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError):
            raise InvalidSignature("The Stripe-Signature header does not match.") from None
        if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
            raise InvalidSignature("The signed payload is not a Stripe event.")
        return event

    async def _session_completed(self, session_data: Mapping[str, Any]) -> str:
        if REVISION_KEY not in _metadata(session_data):
            return "not_managed"
        session = await self._gateway.get_checkout_session(str(session_data["id"]))
        cart = SessionCart.read(session, self._pricer.catalog)
        expected = self._pricer.price_recorded(cart, session.currency).total
        charged = _amount(session_data, "amount_total")
        return self._compare("checkout.session", session.id, expected, charged, session.currency)

    def _intent_amount(self, field: str) -> Callable[[Mapping[str, Any]], Awaitable[str]]:
        async def check(intent_data: Mapping[str, Any]) -> str:
            if REVISION_KEY not in _metadata(intent_data):
                return "not_managed"
            intent = PaymentIntent.from_stripe(intent_data)
            cart = IntentCart.read(intent, self._pricer.catalog)
            charged = _amount(intent_data, field)
            if cart.problem is not None:
                # Nothing to compare with: as alarming as a mismatch, and reported as one.
                return self._compare("payment_intent", intent.id, None, charged, intent.currency)
            expected = self._pricer.price_recorded(cart, intent.currency).total
            return self._compare("payment_intent", intent.id, expected, charged, intent.currency)

        return check

    def _compare(
        self, kind: str, object_id: str, expected: int | None, charged: int, currency: str
    ) -> str:
        """ "ok", or "mismatch" logged at error level; `expected` None: the recorded cart could
        not be read."""
        if expected == charged:
            return "ok"
        self._metrics.webhook_mismatches.labels(kind).inc()
        logger.error(
            "webhook.amount_mismatch",
            extra={
                "object": kind,
                "object_id": object_id,
                "currency": currency,
                "cart_amount": expected,
                "charged_amount": charged,
            },
        )
        return "mismatch"


def _event_object(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event's object, checked for what the handlers read: signed payloads come from Stripe,
    but their content is still input (an object without an id is a 400, not a crash)."""
    data = event["data"].get("object")
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise InvalidEvent("The event's data.object has no id.")
    if not _OBJECT_ID.fullmatch(data["id"]):
        raise InvalidEvent("The event's object id is not a Checkout Session or PaymentIntent id.")
    return data


def _metadata(data: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = data.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _amount(data: Mapping[str, Any], field: str) -> int:
    value = data.get(field)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidEvent(f"The event's {field} is not an amount.")
    return value

"""StripeGateway: every call the service makes to Stripe (its errors become the service's in
`error_translation.py`).

Calls go out through `StripeWire` (Stripe's wire format over httpx, the API version and error
classes of stripe-python). Answers are read as plain dicts and parsed down to the few fields the
service needs, skipping the SDK's object layer. Before each attempt the call takes a request
from Stripe's rate budget (`rate_budget.py`); retries (with one idempotency key per write) are
the gateway's own, and none is started that could not end within the request's budget.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import stripe

from amount_updater.deadlines import deadline
from amount_updater.observability import context
from amount_updater.observability.metrics import Metrics
from amount_updater.stripe_gateway.error_translation import raise_translated
from amount_updater.stripe_gateway.http_client import stripe_transport
from amount_updater.stripe_gateway.models import (
    CheckoutSession,
    NewLine,
    PaymentIntent,
    SessionOptions,
    ShippingOption,
    StripeLineItem,
    StripeWrite,
)
from amount_updater.stripe_gateway.rate_budget import StripeRateBudget
from amount_updater.stripe_gateway.retry import RetryPolicy
from amount_updater.stripe_gateway.session_params import (
    new_line,
    session_options,
    shipping_options_param,
)
from amount_updater.stripe_gateway.wire import StripeWire
from amount_updater.stripe_gateway.writes import INTENTS, SESSIONS

logger = logging.getLogger(__name__)

READ_OPERATIONS = {
    "checkout.session": "checkout.sessions.retrieve",
    "payment_intent": "payment_intents.retrieve",
}
LINE_ITEM_PAGE = 100  # Stripe's maximum page size for line-item lists


class StripeGateway:
    """Every Stripe call; returns parsed snapshots; raises only `ServiceError`s.

    Usage::

        gateway = StripeGateway.connect(key, api_base="https://api.stripe.com", timeout_s=8,
                                        max_retries=2)
        session = await gateway.get_checkout_session("cs_test_...")
        await gateway.aclose()
    """

    def __init__(
        self,
        wire: StripeWire,
        retry: RetryPolicy | None = None,
        metrics: Metrics | None = None,
        rate_budget: StripeRateBudget | None = None,
    ) -> None:
        self._wire = wire
        self._retry = retry or RetryPolicy(max_retries=0)
        self._metrics = metrics or Metrics()
        self._rate_budget = rate_budget

    @classmethod
    def connect(
        cls,
        secret_key: str,
        *,
        api_base: str,
        timeout_s: float,
        max_retries: int,
        max_connections: int = 100,
        rate_budget: StripeRateBudget | None = None,
        metrics: Metrics | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> StripeGateway:
        """Over aiohttp's pool (`http_client.py`), or `transport` (tests), with a timeout per
        call. The gateway retries by itself, so that it honours Retry-After and reuses one
        idempotency key per write."""
        if transport is None:
            transport = stripe_transport(api_base=api_base, max_connections=max_connections)
        wire = StripeWire(transport, secret_key=secret_key, api_base=api_base, timeout_s=timeout_s)
        return cls(wire, RetryPolicy(max_retries=max_retries), metrics, rate_budget)

    async def aclose(self) -> None:
        await self._wire.aclose()

    async def create_checkout_session(
        self,
        *,
        currency: str,
        lines: Sequence[NewLine],
        metadata: Mapping[str, str],
        return_url: str,
        idempotency_key: str | None,
        shipping: ShippingOption | None = None,
        options: SessionOptions | None = None,
    ) -> CheckoutSession:
        options = options or SessionOptions()
        params: dict[str, Any] = {
            "mode": "payment",
            "ui_mode": "elements",
            "currency": currency,
            "line_items": [new_line(currency, line) for line in lines],
            **session_options(options),
            "metadata": {**options.metadata, **metadata},
            # Where redirect-based payment methods bring the shopper back. Not
            # redirect_on_completion: Stripe documents it for ui_mode embedded_page only.
            "return_url": return_url,
            "expand": ["line_items"],
        }
        if shipping is not None:
            params["shipping_options"] = shipping_options_param(currency, shipping)
        data = await self._request(
            "post",
            SESSIONS,
            params,
            idempotency_key=idempotency_key,
            what="checkout session",
            operation="checkout.sessions.create",
        )
        return await self._with_all_line_items(data)

    async def prepay_read(self, kind: str) -> None:
        """Take from Stripe's rate budget, now (waiting within the current deadline), the
        request of the next read of an object of `kind` ("checkout.session", "payment_intent")
        made from this task."""
        if self._rate_budget is not None:
            await self._rate_budget.prepay(READ_OPERATIONS[kind], deadline=deadline())

    async def get_checkout_session(self, session_id: str) -> CheckoutSession:
        """The session and all its line items: one call when it has at most ten of them."""
        data = await self._request(
            "get",
            f"{SESSIONS}/{session_id}",
            {"expand": ["line_items"]},
            what="checkout session",
            operation="checkout.sessions.retrieve",
        )
        return await self._with_all_line_items(data)

    async def create_payment_intent(
        self,
        *,
        currency: str,
        amount: int,
        amount_details: Mapping[str, Any],
        metadata: Mapping[str, str],
        idempotency_key: str | None,
    ) -> PaymentIntent:
        params = {
            "amount": amount,
            "currency": currency,
            "automatic_payment_methods": {"enabled": True},
            "amount_details": dict(amount_details),
            "metadata": dict(metadata),
        }
        data = await self._request(
            "post",
            INTENTS,
            params,
            idempotency_key=idempotency_key,
            what="payment intent",
            operation="payment_intents.create",
        )
        return PaymentIntent.from_stripe(data)

    async def get_payment_intent(self, intent_id: str) -> PaymentIntent:
        data = await self._request(
            "get",
            f"{INTENTS}/{intent_id}",
            {},
            what="payment intent",
            operation="payment_intents.retrieve",
        )
        return PaymentIntent.from_stripe(data)

    async def write(self, write: StripeWrite) -> dict[str, Any]:
        """Send `write` (again, if it was sent before: Stripe replays a landed one). An error
        for which the write may still have landed carries `outcome_unknown`."""
        return await self._request(
            "post",
            write.path,
            write.params,
            idempotency_key=write.idempotency_key,
            what=write.what,
            operation=write.operation,
        )

    def _observe(
        self, operation: str, outcome: str, started: float, request_id: str | None
    ) -> None:
        self._metrics.observe_stripe_call(operation, outcome, time.perf_counter() - started)
        context.note_stripe_request(request_id)

    async def ping(self) -> str | None:
        """None when Stripe answers this key; otherwise what is wrong, in a few words."""
        try:
            await self._wire.call("get", SESSIONS, {"limit": 1})
        except stripe.AuthenticationError:
            return "key rejected"
        except stripe.StripeError as exc:
            if exc.http_status is not None and exc.http_status < 500:
                return None  # answered: reachable, whatever the key may do
            return "unreachable"
        return None

    async def _with_all_line_items(self, data: Mapping[str, Any]) -> CheckoutSession:
        # An expanded line_items holds only the first page (10); page through the rest.
        listing = data.get("line_items") or {}
        items = [StripeLineItem.from_stripe(item) for item in listing.get("data", [])]
        has_more = bool(listing.get("has_more"))
        while has_more:
            page = await self._request(
                "get",
                f"{SESSIONS}/{data['id']}/line_items",
                {"limit": LINE_ITEM_PAGE, "starting_after": items[-1].id},
                what="checkout session",
                operation="checkout.sessions.line_items.list",
            )
            items.extend(StripeLineItem.from_stripe(item) for item in page.get("data", []))
            has_more = bool(page.get("has_more")) and bool(page.get("data"))
        return CheckoutSession.from_stripe(data, tuple(items))

    async def _request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any],
        *,
        what: str,
        operation: str,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        if method == "post":
            # One key for every attempt of this call: a write whose answer was lost is replayed
            # by Stripe on the retry instead of being applied twice.
            idempotency_key = idempotency_key or f"au-{uuid.uuid4().hex}"
        attempt = 0
        while True:
            if self._rate_budget is not None:
                await self._rate_budget.spend(operation, deadline=deadline())
            started = time.perf_counter()
            try:
                data, request_id = await self._wire.call(method, path, params, idempotency_key)
            except stripe.StripeError as exc:
                self._observe(operation, type(exc).__name__, started, exc.request_id)
                delay = self._retry.delay(exc, attempt)
                if delay is not None and _past(deadline(), delay):
                    delay = None  # the retry could not end in time: answer now
                if delay is None:
                    raise_translated(exc, what)
                attempt += 1
                self._metrics.stripe_retries.labels(operation).inc()
                logger.info(
                    "stripe.retry",
                    extra={"operation": operation, "attempt": attempt, "delay_s": round(delay, 3)},
                )
                await asyncio.sleep(delay)
            else:
                self._observe(operation, "ok", started, request_id)
                return data


def _past(ends: float | None, delay: float) -> bool:
    return ends is not None and asyncio.get_running_loop().time() + delay >= ends

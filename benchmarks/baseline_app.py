"""The Python baseline: a straight FastAPI port of the reference endpoint (Express + stripe-node,
`../shared/bench/express-seed/server.js`), written the way stripe-python 16's docs suggest:
`StripeClient` objects (`client.v1.checkout.sessions.*_async`) over its `HTTPXClient`.

It keeps the reference's behaviour and flaws (only the new line item is sent, `usd` hard-coded, no
idempotency, no concurrency guard, no authentication): it measures what a plain port costs, not
what the service does.

    BASELINE_STRIPE_API_BASE=http://127.0.0.1:8912 uvicorn baseline_app:create_app --factory \
        --app-dir benchmarks --loop uvloop --http httptools --no-access-log
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import stripe
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from stripe.params.checkout import SessionUpdateParams, SessionUpdateParamsLineItem

PRODUCTS: dict[str, tuple[str, int]] = {
    "gift_wrap": ("Gift Wrap", 500),
    "express_shipping": ("Express Shipping", 1500),
    "warranty": ("Extended Warranty", 2000),
}


class UpdateCustomAmount(BaseModel):
    checkout_session_id: str
    product_id: str


def _error(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


def _line_item(name: str, price: int) -> SessionUpdateParamsLineItem:
    return {
        "price_data": {"currency": "usd", "product_data": {"name": name}, "unit_amount": price},
        "quantity": 1,
    }


async def _update(client: stripe.StripeClient, body: UpdateCustomAmount) -> JSONResponse:
    sessions = client.v1.checkout.sessions
    session = await sessions.retrieve_async(body.checkout_session_id)
    if session.status == "complete" or session.expires_at < time.time():
        return _error("Session is no longer updatable.")
    product = PRODUCTS.get(body.product_id)
    if product is None:
        return _error("Invalid product ID")
    params: SessionUpdateParams = {"line_items": [_line_item(*product)]}
    updated = await sessions.update_async(body.checkout_session_id, params=params)
    return JSONResponse({"id": updated.id, "amount_total": updated.amount_total})


def create_app() -> FastAPI:
    """The app, configured from BASELINE_STRIPE_API_BASE and BASELINE_STRIPE_SECRET_KEY."""
    api_base = os.environ.get("BASELINE_STRIPE_API_BASE", "http://127.0.0.1:12111")
    secret_key = os.environ.get("BASELINE_STRIPE_SECRET_KEY", "sk_test_bench")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        http_client = stripe.HTTPXClient()
        app.state.stripe = stripe.StripeClient(
            secret_key,
            http_client=http_client,
            base_addresses={"api": api_base},
            max_network_retries=0,
        )
        try:
            yield
        finally:
            await http_client.close_async()  # type: ignore[no-untyped-call]

    app = FastAPI(lifespan=lifespan)

    @app.post("/update-custom-amount")
    async def update_custom_amount(body: UpdateCustomAmount, request: Request) -> JSONResponse:
        try:
            return await _update(request.app.state.stripe, body)
        except stripe.StripeError as exc:  # the reference answers every failure with a 400
            return _error(str(exc.user_message or exc))

    return app

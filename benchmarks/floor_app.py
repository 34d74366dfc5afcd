"""The floor: what the service's required stack costs with none of the service's own work.

FastAPI + httpx over aiohttp (the service's `stripe_http_client`), doing only what every
update must: read the session (expanded line items), write the whole line-item array back with
one new line, parse both answers with orjson. No middleware, token, lock, rate limit, catalog,
pricing, idempotency or metrics. It is not a product: it shows how much of the gap to the
reference is the framework and the HTTP client, and how much is the service's own work.

    FLOOR_STRIPE_API_BASE=http://127.0.0.1:8912 granian --interface asgi --factory \
        --working-dir benchmarks --loop uvloop --http 1 floor_app:create_app
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import orjson
from fastapi import FastAPI, Request
from pydantic import BaseModel

from amount_updater.stripe_gateway.http_client import stripe_transport
from amount_updater.stripe_gateway.wire import API_VERSION, FORM, USER_AGENT

EXPAND = "expand%5B0%5D=line_items"


class UpdateCustomAmount(BaseModel):
    checkout_session_id: str
    product_id: str


class Updated(BaseModel):
    id: str
    amount_total: int


def create_app() -> FastAPI:
    base = os.environ["FLOOR_STRIPE_API_BASE"].rstrip("/")
    headers = {
        "Authorization": f"Bearer {os.environ.get('FLOOR_STRIPE_SECRET_KEY', 'sk_test')}",
        "Stripe-Version": API_VERSION,
        "User-Agent": USER_AGENT,
    }

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The service's transport and connection cap, behind httpx's own client.
        transport = stripe_transport(api_base=base, max_connections=256)
        app.state.http = httpx.AsyncClient(transport=transport, timeout=8.0)
        yield
        await app.state.http.aclose()

    app = FastAPI(lifespan=lifespan)

    async def call(
        http: httpx.AsyncClient, method: str, path: str, form: bytes, query: str | None
    ) -> dict[str, object]:
        extra = {"Content-Type": FORM.decode()} if form else {}
        url = base + path + (f"?{query}" if query else "")
        response = await http.request(
            method, url, headers={**headers, **extra}, content=form or None
        )
        answer: dict[str, object] = orjson.loads(response.content)
        return answer

    @app.post("/update-custom-amount")
    async def update(body: UpdateCustomAmount, request: Request) -> Updated:
        http: httpx.AsyncClient = request.app.state.http
        path = f"/v1/checkout/sessions/{body.checkout_session_id}"
        session = await call(http, "GET", path, b"", EXPAND)
        items = session["line_items"]["data"]  # type: ignore[index]
        pairs = [f"line_items[{i}][id]={item['id']}" for i, item in enumerate(items)]
        n = len(pairs)
        pairs += [
            f"line_items[{n}][price_data][currency]=usd",
            f"line_items[{n}][price_data][unit_amount]=500",
            f"line_items[{n}][price_data][product_data][name]=Gift%20Wrap",
            f"line_items[{n}][quantity]=1",
        ]
        updated = await call(http, "POST", path, "&".join(pairs).encode(), None)
        return Updated(id=str(updated["id"]), amount_total=int(updated["amount_total"]))  # type: ignore[call-overload]

    return app

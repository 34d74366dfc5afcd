"""The floor: what the service's required stack costs with none of the service's own work.

FastAPI + httpx over the service's own transport (`stripe_http_client`), doing only what every
update must: read the session (expanded line items), write the whole line-item array back with
one new line, parse both answers with orjson. No middleware, token, lock, rate limit, catalog,
pricing, idempotency or metrics. It is not a product: it shows how much of the gap to the
reference is the framework and the HTTP client, and how much is the service's own work.

    FLOOR_STRIPE_API_BASE=http://127.0.0.1:8912 uvicorn floor_app:create_app --factory \
        --app-dir benchmarks --loop uvloop --http httptools --no-access-log
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import orjson
from fastapi import FastAPI, Request
from pydantic import BaseModel

from amount_updater.stripe_gateway.transport import stripe_http_client
from amount_updater.stripe_gateway.wire import API_VERSION, FORM, USER_AGENT, api_url

EXPAND = "expand%5B0%5D=line_items"


class UpdateCustomAmount(BaseModel):
    checkout_session_id: str
    product_id: str


class Updated(BaseModel):
    id: str
    amount_total: int


def create_app() -> FastAPI:
    base = httpx.URL(os.environ["FLOOR_STRIPE_API_BASE"].rstrip("/") + "/")
    headers = [
        (b"Host", base.netloc),
        (
            b"Authorization",
            f"Bearer {os.environ.get('FLOOR_STRIPE_SECRET_KEY', 'sk_test')}".encode(),
        ),
        (b"Stripe-Version", API_VERSION.encode()),
        (b"User-Agent", USER_AGENT.encode()),
    ]
    # The same per-call timeout as the service's default.
    extensions = {"timeout": httpx.Timeout(8.0).as_dict()}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.http = stripe_http_client(8.0)
        yield
        await app.state.http.aclose()

    app = FastAPI(lifespan=lifespan)

    async def call(
        http: httpx.AsyncClient, method: str, path: str, form: bytes, query: str | None
    ) -> dict[str, object]:
        extra = (
            [(b"Content-Type", FORM), (b"Content-Length", str(len(form)).encode())] if form else []
        )
        request = httpx.Request(
            method,
            api_url(base, path, query),
            headers=headers + extra,
            stream=httpx.ByteStream(form),
            extensions=extensions,
        )
        response = await http.send(request)
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

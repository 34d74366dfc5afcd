"""A Stripe stand-in with Stripe's limits, for the flash-sale scenario: the project's stateful
emulator behind Stripe's default rate limits and a fixed latency.

Every request waits `LATENCY_S` (150 ms), as a call to Stripe takes; before that it is counted
against one-second moving windows, 100 requests for the account and 25 per endpoint (a method
and a path template), and past either answered as Stripe answers: 429, `rate_limit`, with
`Stripe-Rate-Limited-Reason`. Not counted: `GET /_bench/stats` (how many calls and 429s),
`POST /_bench/reset` (count again from zero), `GET /_bench/carts` (every session's line items,
as {description: quantity}).

    uvicorn harness.stripe_limits:create_app --factory --app-dir benchmarks --port 8913
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections import Counter

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from stripe_emulator import EmulatorState, create_emulator_app

LATENCY_S = float(os.environ.get("STAND_IN_LATENCY_S", "0.15"))
ACCOUNT_PER_S = int(os.environ.get("STAND_IN_ACCOUNT_PER_S", "100"))
ENDPOINT_PER_S = int(os.environ.get("STAND_IN_ENDPOINT_PER_S", "25"))
_ID = re.compile(r"/[a-z]{2,5}_[A-Za-z0-9_]+")


def endpoint(method: str, path: str) -> str:
    return f"{method} {_ID.sub('/{id}', path)}"


class StripeLimits:
    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.account = RateLimitItemPerSecond(ACCOUNT_PER_S)
        self.per_endpoint = RateLimitItemPerSecond(ENDPOINT_PER_S)
        self.calls: Counter[str] = Counter()
        self.limited: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith("/_bench/"):
            await self._bench(scope, send)
            return
        name = endpoint(scope["method"], scope["path"])
        self.calls[name] += 1
        reason = None
        if not await self.limiter.hit(self.per_endpoint, "endpoint", name):
            reason = "endpoint-rate"
        elif not await self.limiter.hit(self.account, "account"):
            reason = "global-rate"
        await asyncio.sleep(LATENCY_S)
        if reason is not None:
            self.limited[name] += 1
            await _json(
                send,
                429,
                {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "rate_limit",
                        "message": "Too many requests hit the API too quickly.",
                    }
                },
                [(b"stripe-rate-limited-reason", reason.encode())],
            )
            return
        await self.app(scope, receive, send)

    async def _bench(self, scope: Scope, send: Send) -> None:
        if scope["path"] == "/_bench/carts":
            carts: dict[str, Counter[str]] = {}
            for session_id, session in self.state.checkout_sessions.items():
                cart = carts.setdefault(session_id, Counter())
                for item in session["line_items"]:
                    cart[item["description"]] += item["quantity"]
            await _json(send, 200, carts)
            return
        if scope["path"] == "/_bench/reset":
            self.calls.clear()
            self.limited.clear()
        await _json(
            send,
            200,
            {
                "calls": sum(self.calls.values()),
                "limited": sum(self.limited.values()),
                "calls_by_endpoint": dict(self.calls),
                "limited_by_endpoint": dict(self.limited),
            },
        )


async def _json(
    send: Send, status: int, body: object, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *(headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def create_app() -> StripeLimits:
    state = EmulatorState()
    return StripeLimits(create_emulator_app(state, lock_wait_s=2.0), state)

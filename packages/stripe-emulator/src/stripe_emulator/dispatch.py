"""The request pipeline every emulated endpoint shares.

auth → form decoding → (POST) idempotency → per-object lock + artificial latency → handler →
JSON response with ``Request-Id`` (and ``Stripe-Version`` echoed). Handlers are synchronous, so
each one's reads and writes happen atomically on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .auth import authenticate
from .call import Call
from .errors import StripeError, internal_error, unrecognized_url
from .forms import decode_form
from .idempotency import (
    SavedResponse,
    check_key,
    fingerprint,
    key_in_use,
    reused_on_other_endpoint,
    reused_with_other_params,
)
from .ids import new_request_id
from .routes import RouteSpec
from .state import EmulatorState

logger = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
        return cls(status, json.dumps(body).encode(), headers or {})

    @classmethod
    def from_error(cls, error: StripeError) -> Reply:
        return cls.of(error.status, error.body(), error.headers)


class Dispatcher:
    def __init__(
        self, state: EmulatorState, clock: Clock, write_latency_s: float, lock_wait_s: float
    ) -> None:
        self._state = state
        self._clock = clock
        self._write_latency_s = write_latency_s
        self._lock_wait_s = lock_wait_s

    def endpoint(self, route: RouteSpec) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await self._handle(route, request)

        return endpoint

    async def not_found(self, request: Request, _exc: Exception) -> Response:
        error = unrecognized_url(request.method, request.url.path)
        return self._respond(request, new_request_id(), Reply.from_error(error))

    async def _handle(self, route: RouteSpec, request: Request) -> Response:
        request_id = new_request_id()
        try:
            authenticate(request.headers.get("authorization"))
            raw = (await request.body()).decode() if route.method == "POST" else request.url.query
            params = decode_form(raw)
        except UnicodeDecodeError:
            reply = Reply.from_error(StripeError(400, "The request body is not valid UTF-8."))
        except StripeError as error:
            reply = Reply.from_error(error)
        else:
            if route.method == "POST":
                reply = await self._write(route, request, params, request_id)
            else:
                reply, _ = self._run(route, request, params)
        return self._respond(request, request_id, reply)

    async def _write(
        self, route: RouteSpec, request: Request, params: dict[str, Any], request_id: str
    ) -> Reply:
        key = request.headers.get("idempotency-key") or None
        if key is None:
            reply, _ = await self._locked_run(route, request, params)
            return reply
        cache = self._state.idempotency
        now = self._clock()
        path = request.url.path
        try:
            check_key(key)
        except StripeError as error:
            return Reply.from_error(error)
        if key in cache.in_flight:
            return Reply.from_error(key_in_use(key))
        saved = cache.lookup(key, now)
        if saved is not None:
            return self._replay(saved, key, request.method, path, params)
        cache.in_flight.add(key)
        try:
            reply, keep = await self._locked_run(route, request, params)
        finally:
            cache.in_flight.discard(key)
        if keep:
            cache.save(
                key,
                SavedResponse(
                    method=request.method,
                    path=path,
                    fingerprint=fingerprint(params),
                    status=reply.status,
                    body=reply.body,
                    headers=reply.headers,
                    request_id=request_id,
                    saved_at=now,
                ),
            )
        return reply

    @staticmethod
    def _replay(
        saved: SavedResponse, key: str, method: str, path: str, params: dict[str, Any]
    ) -> Reply:
        if (saved.method, saved.path) != (method, path):
            return Reply.from_error(reused_on_other_endpoint(key, saved.path, path))
        if saved.fingerprint != fingerprint(params):
            return Reply.from_error(reused_with_other_params(key))
        headers = {
            **saved.headers,
            "Idempotent-Replayed": "true",
            "Original-Request": saved.request_id,
        }
        return Reply(saved.status, saved.body, headers)

    async def _locked_run(
        self, route: RouteSpec, request: Request, params: dict[str, Any]
    ) -> tuple[Reply, bool]:
        """Run a write under its object's lock; returns the reply and whether an idempotency
        key may save it."""
        object_id = request.path_params.get(route.lock_param) if route.lock_param else None
        lock: contextlib.AbstractAsyncContextManager[None] = contextlib.nullcontext()
        if object_id is not None and self._exists(object_id):
            lock = self._state.locks.hold(object_id, self._lock_wait_s)
        try:
            async with lock:
                if self._write_latency_s > 0:
                    await asyncio.sleep(self._write_latency_s)
                reply, keep = self._run(route, request, params)
        except StripeError as error:  # lock_timeout
            return Reply.from_error(error), error.saved_for_idempotency
        if reply.status == 200:
            self._state.write_count += 1
        return reply, keep

    def _run(
        self, route: RouteSpec, request: Request, params: dict[str, Any]
    ) -> tuple[Reply, bool]:
        call = Call(self._state, params, request.path_params, self._clock())
        try:
            return Reply.of(200, route.handler(call)), True
        except StripeError as error:
            return Reply.from_error(error), error.saved_for_idempotency
        except Exception:
            # Stripe saves 500s under the idempotency key as well.
            logger.exception("Stripe emulator failed on %s %s", request.method, request.url.path)
            return Reply.from_error(internal_error()), True

    def _exists(self, object_id: str) -> bool:
        return (
            object_id in self._state.checkout_sessions or object_id in self._state.payment_intents
        )

    @staticmethod
    def _respond(request: Request, request_id: str, reply: Reply) -> Response:
        headers = {"Request-Id": request_id, **reply.headers}
        version = request.headers.get("stripe-version")
        if version:
            headers["Stripe-Version"] = version
        return Response(reply.body, reply.status, headers, media_type="application/json")

"""`Idempotency-Key` on the mutating routes of a router: the first successful answer is stored
and replayed.

Routers opt in with `route_class=IdempotentRoute` (FastAPI's documented way to wrap a route's
handler), which also takes JSON bodies only (`JsonBodyRoute`, checked first). For a POST, PUT,
PATCH or DELETE carrying the header:

- the key is scoped to the caller as verified (`Caller.scope`: the API key, the token's object,
  or for an anonymous caller its address), so a request under another scope never replays
  another caller's answer; a credential that does not verify is 401 before the store is read;
- the same key with another request (method, path, query, body) is 409 `idempotency_key_reused`,
  and while the first is still running, 409 `request_in_progress`;
- only a 2xx answer is stored. Anything else is evaluated again on retry: a refusal wrote
  nothing, and a failure (5xx, 504) may have left a change in flight, which the change workflow
  recognises by the marker it left on the Stripe object, so the retry is safe.
"""

from __future__ import annotations

import hashlib

from fastapi import Request, Response
from fastapi.routing import APIRoute

from amount_updater.api.deps import read_credentials
from amount_updater.api.json_bodies import Handler, JsonBodyRoute
from amount_updater.coordination.idempotency import IdempotencyStore, Outcome, StoredResponse
from amount_updater.errors import IdempotencyKeyReused, InvalidRequest, RequestInProgress
from amount_updater.observability.metrics import Metrics

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HEADER = "idempotency-key"
REPLAYED = "idempotent-replayed"
MAX_KEY_LENGTH = 255
_NOT_STORED = frozenset({"content-length", "date", "server"})


class IdempotencyKeyRoute(APIRoute):
    """The Idempotency-Key handling alone."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        if not (self.methods or set()) & MUTATING:
            return handler

        async def idempotent_handler(request: Request) -> Response:
            raw_key = request.headers.get(HEADER)
            if raw_key is None:
                return await handler(request)
            key = _valid_key(raw_key)
            caller = read_credentials(request).caller()
            store: IdempotencyStore = request.state.idempotency
            record = _record_key(caller.scope, key)
            fingerprint = _fingerprint(request, await request.body())
            begun = await store.begin(record, fingerprint)
            if begun.outcome is Outcome.MISMATCH:
                raise IdempotencyKeyReused(
                    "This Idempotency-Key was used for a different request; use a new key."
                )
            if begun.outcome is Outcome.IN_PROGRESS:
                raise RequestInProgress(
                    "A request with this Idempotency-Key is still being processed; retry shortly.",
                    headers={"Retry-After": "1"},
                )
            if begun.outcome is Outcome.REPLAY:
                assert begun.response is not None
                metrics: Metrics = request.state.metrics
                metrics.idempotent_replays.inc()
                return _replay(begun.response)
            try:
                response = await handler(request)
            except BaseException:
                await store.abandon(record)
                raise
            body = getattr(response, "body", None)
            if 200 <= response.status_code < 300 and isinstance(body, bytes):
                await store.finish(record, fingerprint, _stored(response, body))
            else:
                await store.abandon(record)
            return response

        return idempotent_handler


class IdempotentRoute(JsonBodyRoute, IdempotencyKeyRoute):
    """A JSON body is checked first (the outer wrapper, by the order of the bases), then the
    Idempotency-Key."""


def _valid_key(raw: str) -> str:
    if not 0 < len(raw) <= MAX_KEY_LENGTH or not raw.isascii() or not raw.isprintable():
        raise InvalidRequest(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters.")
    return raw


def _record_key(scope: str, key: str) -> str:
    return hashlib.sha256(f"{scope}\0{key}".encode()).hexdigest()


def _fingerprint(request: Request, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.url.path, request.url.query):
        digest.update(part.encode() + b"\0")
    digest.update(body)
    return digest.hexdigest()


def _stored(response: Response, body: bytes) -> StoredResponse:
    headers = [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in response.raw_headers
        if name.decode("latin-1").lower() not in _NOT_STORED
    ]
    return StoredResponse(response.status_code, headers, body)


def _replay(stored: StoredResponse) -> Response:
    response = Response(stored.body, status_code=stored.status)
    response.raw_headers = [
        *((k.encode("latin-1"), v.encode("latin-1")) for k, v in stored.headers),
        (REPLAYED.encode(), b"true"),
        (b"content-length", str(len(stored.body)).encode()),
    ]
    return response

"""`Idempotency-Key` on mutating requests: the first answer is stored and replayed.

Keys live in the caller's own key space (a hash of the credentials it sent), so one caller can
never replay another's answer. Answers below 500 are stored; a 5xx is not, so the caller can
retry with the same key, and the request marker the service keeps on the Stripe object stops
that retry from applying a change that did land twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from amount_updater.api.problems import problem_for
from amount_updater.coordination.idempotency import (
    IdempotencyStore,
    Outcome,
    StoredResponse,
)
from amount_updater.errors import (
    IdempotencyKeyReused,
    InvalidRequest,
    RequestInProgress,
    ServiceError,
)
from amount_updater.http.bodies import read_body, replay_body
from amount_updater.http.edge import ROUTE_TEMPLATE, route_template

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HEADER = b"idempotency-key"
REPLAYED = ("idempotent-replayed", "true")
MAX_KEY_LENGTH = 255


class IdempotencyMiddleware:
    """Applies to every mutating request except under `exclude`: routes that change nothing
    (quotes), that have their own once-only rule (webhooks), or that are not the API."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        exclude: tuple[str, ...] = (),
        on_replay: Callable[[], None] | None = None,
    ) -> None:
        self.app = app
        self.exclude = exclude
        self.on_replay = on_replay

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in MUTATING
            or scope["path"].startswith(self.exclude)
        ):
            await self.app(scope, receive, send)
            return
        raw_key = next((value for name, value in scope["headers"] if name == HEADER), None)
        store: IdempotencyStore | None = scope.get("state", {}).get("idempotency")
        if raw_key is None or store is None:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        try:
            key = _valid_key(raw_key)
        except ServiceError as error:
            await problem_for(error)(scope, receive, send)
            return
        body = await read_body(receive)
        if not body.complete:
            # The client left mid-body: nothing to record (its retry sends the body whole).
            await self.app(scope, replay_body(body), send)
            return
        try:
            fingerprint = _fingerprint(scope, body.data)
            record_key = _record_key(headers, key)
            begun = await store.begin(record_key, fingerprint)
            if begun.outcome is Outcome.MISMATCH:
                raise IdempotencyKeyReused(
                    "This Idempotency-Key was used for a different request; use a new key."
                )
            if begun.outcome is Outcome.IN_PROGRESS:
                raise RequestInProgress(
                    "A request with this Idempotency-Key is still being processed; retry shortly.",
                    headers={"Retry-After": "1"},
                )
        except ServiceError as error:
            await problem_for(error)(scope, receive, send)
            return
        if begun.outcome is Outcome.REPLAY:
            assert begun.response is not None
            if self.on_replay is not None:
                self.on_replay()
            scope[ROUTE_TEMPLATE] = begun.response.route
            await _send_stored(begun.response, send)
            return

        captured = _Capture(send)
        try:
            await self.app(scope, replay_body(body), captured.send)
        except BaseException:
            await store.abandon(record_key)
            raise
        if captured.status is not None and captured.status < 500 and captured.status != 429:
            # A rate-limit refusal says "not now", not "no": the retry must run again.
            await store.finish(record_key, fingerprint, captured.response(route_template(scope)))
        else:
            await store.abandon(record_key)


def _valid_key(raw: bytes) -> str:
    try:
        key = raw.decode("ascii")
    except UnicodeDecodeError:
        key = ""
    if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidRequest(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters.")
    return key


def _fingerprint(scope: Scope, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (scope["method"], scope["path"], scope.get("query_string", b"").decode()):
        digest.update(part.encode() + b"\0")
    digest.update(body)
    return digest.hexdigest()


def _record_key(headers: dict[bytes, bytes], key: str) -> str:
    credentials = headers.get(b"authorization", b"") + b"\0" + headers.get(b"x-api-key", b"")
    return hashlib.sha256(credentials + b"\0" + key.encode()).hexdigest()


async def _send_stored(response: StoredResponse, send: Send) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    headers.append((REPLAYED[0].encode(), REPLAYED[1].encode()))
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


class _Capture:
    """Passes the response through while keeping a copy to store."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status: int | None = None
        self._headers: list[tuple[str, str]] = []
        self._body: list[bytes] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self._headers = [
                (k.decode("latin-1"), v.decode("latin-1"))
                for k, v in message.get("headers", [])
                if k.lower() not in (b"content-length", b"date", b"server")
            ]
        elif message["type"] == "http.response.body":
            self._body.append(message.get("body", b""))
        await self._send(message)

    def response(self, route: str) -> StoredResponse:
        assert self.status is not None
        return StoredResponse(self.status, self._headers, b"".join(self._body), route)

"""The first and last layer every HTTP request meets.

One pure-ASGI layer (Starlette's advice for middleware on a hot path). For each request it:
- names it: an incoming `X-Request-ID` if short and plain, else a new one, echoed back;
- refuses, before the app reads anything, a body over the size limit (413); which routes take
  JSON bodies only is theirs to say (`api/json_bodies.py`);
- adds the security headers to every answer where the app did not set them (the docs pages
  and the demo storefront set their own Content-Security-Policy);
- turns an unexpected exception into the 500 problem here, inside the stack, so that the answer
  still carries the request id and the headers (Starlette's own handler answers from outside
  every middleware);
- counts the request in the metrics and writes its log line.
"""

from __future__ import annotations

import logging
import os
import re
import time

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from amount_updater.observability import context
from amount_updater.observability.metrics import Metrics
from amount_updater.problems import internal_error, problem_response

logger = logging.getLogger("amount_updater.request")
error_logger = logging.getLogger("amount_updater.problems")

REQUEST_ID_HEADER = b"x-request-id"
_VALID_REQUEST_ID = re.compile(rb"[A-Za-z0-9._\-]{1,100}")  # cannot forge a log line
_SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
)
_CSP = (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'")


class _TooLarge(HTTPException):
    """An HTTPException, so that FastAPI's body parsing re-raises it instead of answering 400."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"Request bodies are limited to {max_bytes} bytes.")


class RequestMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        max_body_bytes: int,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = length = None
        chunked = False
        for name, value in scope["headers"]:
            if name == REQUEST_ID_HEADER:
                incoming = value
            elif name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = True
        valid = incoming is not None and _VALID_REQUEST_ID.fullmatch(incoming)
        # 128 random bits in hex, as uuid4().hex without the version bits: 0.6 us instead of 4.
        request_id = incoming.decode() if valid and incoming else os.urandom(16).hex()
        ctx = context.begin(request_id)
        started = time.perf_counter()
        extra = [*_SECURITY_HEADERS, _CSP, (REQUEST_ID_HEADER, request_id.encode())]
        status = 500
        responded = False

        async def edge_send(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        try:
            if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
                await self._too_large()(scope, receive, edge_send)
                return
            if length is not None or chunked:
                receive = self._limited(receive)
            await self.app(scope, receive, edge_send)
        except _TooLarge:
            if responded:
                raise
            await self._too_large()(scope, receive, edge_send)
        except Exception as exc:
            if responded:
                raise
            error_logger.exception("request.unhandled_error", exc_info=exc)
            await internal_error()(scope, receive, edge_send)
        finally:
            self._record(scope, ctx, status, time.perf_counter() - started)

    def _too_large(self) -> Response:
        return problem_response(
            413,
            "payload_too_large",
            "Request body too large",
            f"Request bodies are limited to {self.max_body_bytes} bytes.",
        )

    def _limited(self, receive: Receive) -> Receive:
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _TooLarge(self.max_body_bytes)
            return message

        return limited_receive

    def _record(
        self, scope: Scope, ctx: context.RequestContext, status: int, elapsed: float
    ) -> None:
        route = route_template(scope)
        method = scope["method"]
        self.metrics.observe_request(route, method, status, elapsed)
        if logger.isEnabledFor(logging.INFO):
            logger.info(
                "request",
                extra={
                    "request_id": ctx.request_id,
                    "method": method,
                    "route": route,
                    "object_id": ctx.object_id,
                    "caller": ctx.caller,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "stripe_request_ids": ctx.stripe_request_ids,
                },
            )


def route_template(scope: Scope) -> str:
    """The route's template, not the raw path: ids in paths would make a series per object."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else "unmatched"

"""One JSON log line and the HTTP metrics per request, and the X-Request-ID it is known by."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from amount_updater.observability import context
from amount_updater.observability.metrics import Metrics

logger = logging.getLogger("amount_updater.request")

REQUEST_ID_HEADER = b"x-request-id"
# An incoming id is echoed only if it is short and plain, so it cannot forge log lines.
_VALID_REQUEST_ID = re.compile(rb"[A-Za-z0-9._\-]{1,100}")


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER, b"")
        request_id = (
            incoming.decode() if _VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        )
        ctx = context.begin(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            method = scope["method"]
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.request_latency.labels(route, method).observe(elapsed)
            logger.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": method,
                    "route": route,
                    "object_id": ctx.object_id,
                    "caller": ctx.caller,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "stripe_request_ids": ctx.stripe_request_ids,
                },
            )


ROUTE_TEMPLATE = "amount_updater.route_template"  # set in the scope by who answers unrouted


def route_template(scope: Scope) -> str:
    """The route's template, not the raw path: ids in paths would make a series per object."""
    path = getattr(scope.get("route"), "path", None) or scope.get(ROUTE_TEMPLATE)
    return path if isinstance(path, str) else "unmatched"

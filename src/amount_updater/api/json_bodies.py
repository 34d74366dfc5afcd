"""Request bodies are JSON, on the routes that say so.

Routers opt in with `route_class=JsonBodyRoute` (FastAPI's documented way to wrap a route's
handler), or a route class built on it: a POST, PUT or PATCH with a body that is not JSON is
answered 415 before the route's dependencies, the idempotency store or Stripe see it. What the
app mounts besides its API routes (the sandbox's Stripe emulator, which speaks Stripe's form
encoding; static files) is no such route, so nothing is exempted by its path.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from amount_updater.problems import problem_response

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class JsonBodyRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        if not (self.methods or set()) & BODY_METHODS:
            return handler

        async def json_body_handler(request: Request) -> Response:
            headers = request.headers
            length = headers.get("content-length")
            has_body = (length is not None and length != "0") or "transfer-encoding" in headers
            if has_body and not is_json(headers.get("content-type")):
                return problem_response(
                    415,
                    "unsupported_media_type",
                    "Unsupported media type",
                    "Send the request body as JSON (Content-Type: application/json).",
                )
            return await handler(request)

        return json_body_handler


def is_json(content_type: str | None) -> bool:
    """`application/json` or a `+json` type, whatever its parameters and case."""
    if content_type is None:
        return False
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")

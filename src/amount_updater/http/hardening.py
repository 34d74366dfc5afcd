"""Security headers on every answer, and JSON required for request bodies."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from amount_updater.api.problems import problem_response

_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]
# The interactive docs load Swagger UI from a CDN; everything else is served by the app itself.
_CSP = (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'")
_DOCS = ("/docs", "/redoc")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Stripe's own wire format (form-encoded) is spoken by the sandbox emulator.
_FORM_PREFIXES = ("/_sandbox/stripe",)


class HardeningMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        extra = list(_HEADERS)
        if not path.startswith(_DOCS):
            extra.append(_CSP)

        async def send_hardened(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                headers = list(message.get("headers", []))
                headers += [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        if _needs_json(scope) and not _is_json(scope):
            response = problem_response(
                415,
                "unsupported_media_type",
                "Unsupported media type",
                "Send the request body as JSON (Content-Type: application/json).",
            )
            await response(scope, receive, send_hardened)
            return
        await self.app(scope, receive, send_hardened)


def _needs_json(scope: Scope) -> bool:
    if scope["method"] not in _BODY_METHODS or scope["path"].startswith(_FORM_PREFIXES):
        return False
    headers = dict(scope["headers"])
    length = headers.get(b"content-length")
    has_body = (length is not None and length != b"0") or b"transfer-encoding" in headers
    return has_body


def _is_json(scope: Scope) -> bool:
    raw: bytes = dict(scope["headers"]).get(b"content-type", b"")
    content_type = raw.split(b";")[0].strip().lower()
    return content_type == b"application/json" or content_type.endswith(b"+json")

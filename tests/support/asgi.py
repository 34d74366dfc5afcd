"""Raw ASGI requests, for what an HTTP client cannot send: a body cut short by a disconnect."""

from __future__ import annotations

from typing import Any

from starlette.types import Message, Receive


def http_scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }


def disconnecting_after(start: bytes) -> Receive:
    """A client that sends `start` as the first part of a longer body, then goes away."""
    messages: list[Message] = [{"type": "http.request", "body": start, "more_body": True}]

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    return receive

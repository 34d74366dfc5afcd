"""An ASGI wrapper that records each HTTP exchange (request and whole answer) of the app it
wraps, for checks that run after the test: here, the emulator's against Stripe's spec."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str  # as the wrapped app routes it (below any mount point)
    query: bytes
    headers: dict[str, str]  # lower-case names; the last of repeated ones
    body: bytes
    status: int
    answer: bytes


class Recorder:
    """Exchanges of every app it wrapped, in the order they ended; servers run in other
    threads, hence the lock."""

    def __init__(self) -> None:
        self._exchanges: list[Exchange] = []
        self._lock = threading.Lock()

    def wrap(self, app: ASGIApp) -> RecordingApp:
        return RecordingApp(app, self)

    def add(self, exchange: Exchange) -> None:
        with self._lock:
            self._exchanges.append(exchange)

    def drain(self) -> list[Exchange]:
        """The exchanges recorded since the last drain."""
        with self._lock:
            drained, self._exchanges = self._exchanges, []
        return drained


class RecordingApp:
    def __init__(self, app: ASGIApp, recorder: Recorder) -> None:
        self.app = app
        self.recorder = recorder

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)  # `app.state` and the like, as on the wrapped app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body, answer = bytearray(), bytearray()
        status, complete = 0, False

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body.extend(message.get("body", b""))
            return message

        async def recording_send(message: Message) -> None:
            nonlocal status, complete
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                answer.extend(message.get("body", b""))
                complete = not message.get("more_body", False)
            await send(message)

        await self.app(scope, recording_receive, recording_send)
        if complete:  # an answer cut short (the client went away) is not the app's answer
            self.recorder.add(_exchange(scope, bytes(body), status, bytes(answer)))


def _exchange(scope: Scope, body: bytes, status: int, answer: bytes) -> Exchange:
    path, root = scope["path"], scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]  # Starlette >= 0.35 keeps the mount point in `path`
    return Exchange(
        method=scope["method"],
        path=path,
        query=scope.get("query_string", b""),
        headers={
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope["headers"]
        },
        body=body,
        status=status,
        answer=answer,
    )

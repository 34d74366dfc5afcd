"""Reading a request body ahead of the app, and handing it over as if unread."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import Message, Receive


@dataclass(frozen=True, slots=True)
class Body:
    data: bytes
    complete: bool  # False: the client disconnected before the end of it


async def read_body(receive: Receive) -> Body:
    """The whole request body, read now, or as much of it as came before a disconnect."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return Body(b"".join(chunks), complete=False)
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return Body(b"".join(chunks), complete=True)


def replay_body(body: Body) -> Receive:
    """A receive channel that hands the app `body` as it arrived: whole, or cut short by the
    client's disconnect (which the app then meets as it would have: Starlette raises
    `ClientDisconnect`, and no handler runs on half a body)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body.data, "more_body": not body.complete}

    return receive

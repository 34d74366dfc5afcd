"""Fault injection in front of the Stripe emulator, at the HTTP level the service sees."""

from __future__ import annotations

import asyncio
import re
import threading
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass
class FaultPlan:
    hang: bool = False  # every request hangs: Stripe is up but never answers
    lose_next_write_answer: bool = False  # the next object update lands, its answer never comes
    hang_s: float = 3.0
    lost_answers: int = 0
    # The next object update is held (read whole, then kept) until `release_write` is set: it
    # lands at Stripe whenever the test says, after the service may have given up on it.
    hold_next_write: bool = False
    write_held: threading.Event = field(default_factory=threading.Event)
    release_write: threading.Event = field(default_factory=threading.Event)
    write_landed: threading.Event = field(default_factory=threading.Event)


class FaultyStripe:
    def __init__(self, app: ASGIApp, plan: FaultPlan) -> None:
        self.app = app
        self.plan = plan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.plan.hang:
            await asyncio.sleep(self.plan.hang_s)
            return
        if self.plan.lose_next_write_answer and _is_object_update(scope):
            self.plan.lose_next_write_answer = False
            self.plan.lost_answers += 1
            await self.app(scope, receive, _discard)  # Stripe applies the write...
            await asyncio.sleep(self.plan.hang_s)  # ...and the answer never arrives
            return
        if self.plan.hold_next_write and _is_object_update(scope):
            self.plan.hold_next_write = False
            body = await _read_body(receive)  # before the client may go away
            self.plan.write_held.set()
            await asyncio.to_thread(self.plan.release_write.wait, 60)
            await self.app(scope, _replay(body), send)  # lands now, whoever still listens
            self.plan.write_landed.set()
            return
        await self.app(scope, receive, send)


_OBJECT_UPDATE = re.compile(r"/v1/(checkout/sessions|payment_intents)/[A-Za-z0-9_]+")


def _is_object_update(scope: Scope) -> bool:
    return scope["method"] == "POST" and bool(_OBJECT_UPDATE.fullmatch(scope["path"]))


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _discard(message: Message) -> None:
    return None

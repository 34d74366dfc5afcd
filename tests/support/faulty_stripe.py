"""Fault injection in front of the Stripe emulator, at the HTTP level the service sees."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass
class FaultPlan:
    hang: bool = False  # every request hangs: Stripe is up but never answers
    lose_next_write_answer: bool = False  # the next object update lands, its answer never comes
    hang_s: float = 3.0
    lost_answers: int = 0


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
        await self.app(scope, receive, send)


def _is_object_update(scope: Scope) -> bool:
    path = scope["path"]
    return (
        scope["method"] == "POST"
        and path.count("/") == 4
        and (path.startswith("/v1/checkout/sessions/") or path.startswith("/v1/payment_intents/"))
    )


async def _discard(message: Message) -> None:
    return None

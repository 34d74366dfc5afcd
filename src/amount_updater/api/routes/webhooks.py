from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request

from amount_updater.api.answers import WebhookReceipt
from amount_updater.api.deps import admitted
from amount_updater.api.json_bodies import JsonBodyRoute
from amount_updater.api.responses import STRIPE, problems
from amount_updater.service.webhooks import WebhookService

router = APIRouter(tags=["webhooks"], route_class=JsonBodyRoute, dependencies=[Depends(admitted)])


@router.post(
    "/v1/webhooks/stripe",
    summary="Stripe events: paid amounts are checked against the recorded cart",
    responses=problems(400, 409, 413, 415, 422, *STRIPE),
)
async def stripe_webhook(
    request: Request,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> WebhookReceipt:
    webhooks: WebhookService = request.state.webhooks
    outcome = await webhooks.handle(await request.body(), stripe_signature)
    return WebhookReceipt(received=True, outcome=outcome)

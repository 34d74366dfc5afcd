"""Stripe's reference contract (`POST /update-custom-amount`), done right: it adds one unit of
the product and keeps the rest of the cart, for callers holding a token or an API key."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from amount_updater.api.answers import LegacyAmountUpdated
from amount_updater.api.deps import (
    TOKEN_OR_API_KEY,
    CredentialsDep,
    IdempotencyKeyDep,
    SessionServiceDep,
    admitted,
)
from amount_updater.api.idempotency import IdempotentRoute
from amount_updater.api.rate_limits import count_request
from amount_updater.api.request_bodies import LegacyAmountUpdate
from amount_updater.api.responses import CHANGE, problems
from amount_updater.observability import context
from amount_updater.service.changes import AddItem
from amount_updater.service.request_history import Origin

router = APIRouter(
    tags=["compatibility"], route_class=IdempotentRoute, dependencies=[Depends(admitted)]
)


@router.post(
    "/update-custom-amount",
    summary="Reference-endpoint contract: add one unit of a product, keep the cart",
    responses=problems(*CHANGE),
    openapi_extra=TOKEN_OR_API_KEY,
)
async def update_custom_amount(
    request: Request,
    body: LegacyAmountUpdate,
    credentials: CredentialsDep,
    sessions: SessionServiceDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> LegacyAmountUpdated:
    # The session id is in the body here, not the path, so authorization happens inline.
    caller = credentials.object_caller(body.checkout_session_id)
    context.note_caller(body.checkout_session_id, caller.scope)
    await count_request(request, caller, "change", body.checkout_session_id)
    view = await sessions.change(
        body.checkout_session_id,
        AddItem(body.product_id, 1),
        Origin(caller.scope, idempotency_key),
    )
    return LegacyAmountUpdated(id=body.checkout_session_id, amount_total=view.amount_total)

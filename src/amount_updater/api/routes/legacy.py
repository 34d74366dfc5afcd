"""Stripe's reference contract (`POST /update-custom-amount`), done right: it adds one unit of
the product and keeps the rest of the cart, for callers holding a token or an API key."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.security import HTTPAuthorizationCredentials

from amount_updater.api.deps import (
    ApiKeyDep,
    AuthenticatorDep,
    BearerDep,
    IdempotencyKeyDep,
    SessionServiceDep,
)
from amount_updater.api.rate_limits import limit_changes
from amount_updater.api.responses import CHANGE, problems
from amount_updater.api.schemas import LegacyAmountUpdate, LegacyAmountUpdated
from amount_updater.observability import context
from amount_updater.service.changes import AddItem

router = APIRouter(tags=["compatibility"])


def _credentials(bearer: HTTPAuthorizationCredentials | None) -> str | None:
    return bearer.credentials if bearer else None


@router.post(
    "/update-custom-amount",
    summary="Reference-endpoint contract: add one unit of a product, keep the cart",
    responses=problems(*CHANGE),
)
async def update_custom_amount(
    request: Request,
    body: LegacyAmountUpdate,
    authenticator: AuthenticatorDep,
    bearer: BearerDep,
    api_key: ApiKeyDep,
    sessions: SessionServiceDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> LegacyAmountUpdated:
    # The session id is in the body here, not the path, so authorization happens inline.
    caller = authenticator.object_caller(body.checkout_session_id, _credentials(bearer), api_key)
    context.note_caller(body.checkout_session_id, f"{caller.kind}:{caller.id}")
    await limit_changes(request, body.checkout_session_id)
    view = await sessions.change(
        body.checkout_session_id, AddItem(body.product_id, 1), idempotency_key
    )
    return LegacyAmountUpdated(id=body.checkout_session_id, amount_total=view.amount_total)

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from amount_updater.api.answers import TokenIssued
from amount_updater.api.deps import (
    ApiKeyCaller,
    IntentServiceDep,
    SessionServiceDep,
    admitted,
    idempotency_header,
)
from amount_updater.api.idempotency import IdempotentRoute
from amount_updater.api.rate_limits import limit_api_key
from amount_updater.api.request_bodies import TokenCreate
from amount_updater.api.responses import CLIENT, STRIPE, problems

router = APIRouter(
    tags=["tokens"],
    route_class=IdempotentRoute,
    dependencies=[Depends(limit_api_key), Depends(admitted)],
)


@router.post(
    "/v1/tokens",
    status_code=status.HTTP_201_CREATED,
    summary="Mint an update token for a session or intent created elsewhere (X-API-Key only)",
    responses=problems(401, 404, 409, *CLIENT, *STRIPE),
    dependencies=[Depends(idempotency_header)],  # declared here, handled by IdempotentRoute
)
async def create_token(
    body: TokenCreate,
    _: ApiKeyCaller,
    sessions: SessionServiceDep,
    intents: IntentServiceDep,
) -> TokenIssued:
    owner = intents if body.object_id.startswith("pi_") else sessions
    issued = await owner.issue_token(body.object_id)
    return TokenIssued(token=issued.token, expires_at=issued.expires_at)

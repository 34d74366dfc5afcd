from __future__ import annotations

from fastapi import APIRouter, Request

from amount_updater import __version__
from amount_updater.api.schemas import Health

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness: the process serves requests")
async def healthz(request: Request) -> Health:
    return Health(status="ok", version=__version__, stripe=request.state.stripe_mode)

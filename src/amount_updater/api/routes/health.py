from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from amount_updater import __version__
from amount_updater.api.answers import Health, LoadedCatalog, Readiness
from amount_updater.service.readiness import Readiness as ReadinessCheck

router = APIRouter(tags=["operations"])


async def _readiness(request: Request) -> ReadinessCheck:
    readiness: ReadinessCheck = request.state.readiness
    return readiness


@router.get("/healthz", summary="Liveness: the process serves requests")
async def healthz(request: Request) -> Health:
    return Health(status="ok", version=__version__, stripe=request.state.stripe_mode)


@router.get(
    "/readyz",
    summary="Readiness: catalog, Stripe (checked at most every 30 s) and Redis if configured",
    responses={503: {"model": Readiness, "description": "a dependency is not ready"}},
)
async def readyz(
    response: Response, readiness: Annotated[ReadinessCheck, Depends(_readiness)]
) -> Readiness:
    checks = await readiness.check()
    ready = all(state == "ok" for state in checks.values())
    if not ready:
        response.status_code = 503
    source = readiness.catalog
    return Readiness(
        status="ready" if ready else "not_ready",
        checks=checks,
        catalog=LoadedCatalog(path=source.path, sample=source.sample, sha256=source.sha256),
        rate_limits=readiness.rate_limits,
    )

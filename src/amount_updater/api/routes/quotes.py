from __future__ import annotations

from fastapi import APIRouter, Depends

from amount_updater.api.answers import Cart
from amount_updater.api.deps import ANONYMOUS_OR_API_KEY, PricerDep
from amount_updater.api.json_bodies import JsonBodyRoute
from amount_updater.api.rate_limits import limit_reads
from amount_updater.api.request_bodies import CartIn
from amount_updater.api.responses import CLIENT, problems

router = APIRouter(tags=["quotes"], route_class=JsonBodyRoute, dependencies=[Depends(limit_reads)])


@router.post(
    "/v1/quotes",
    summary="Price a cart from the catalog alone (no Stripe call)",
    responses=problems(401, *CLIENT, 429),
    openapi_extra=ANONYMOUS_OR_API_KEY,
)
async def create_quote(body: CartIn, pricer: PricerDep) -> Cart:
    return Cart.of(pricer.quote(body.new_cart()))

from __future__ import annotations

from fastapi import APIRouter, Depends

from amount_updater.api.answers import Cart
from amount_updater.api.deps import ANONYMOUS_OR_API_KEY, PricerDep
from amount_updater.api.rate_limits import limit_reads
from amount_updater.api.request_bodies import CartIn
from amount_updater.api.responses import CLIENT, problems

router = APIRouter(tags=["quotes"], dependencies=[Depends(limit_reads)])


@router.post(
    "/v1/quotes",
    summary="Price a cart from the catalog alone (no Stripe call)",
    responses=problems(401, *CLIENT, 429),
    openapi_extra=ANONYMOUS_OR_API_KEY,
)
async def create_quote(body: CartIn, pricer: PricerDep) -> Cart:
    view = pricer.quote(body.currency, body.item_pairs(), body.shipping_rate_id, body.discount_code)
    return Cart.of(view)

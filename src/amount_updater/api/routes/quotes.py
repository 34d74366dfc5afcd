from __future__ import annotations

from fastapi import APIRouter

from amount_updater.api.deps import PricerDep
from amount_updater.api.responses import CLIENT, problems
from amount_updater.api.schemas import Cart, CartIn

router = APIRouter(tags=["quotes"])


@router.post(
    "/v1/quotes",
    summary="Price a cart from the catalog alone (no Stripe call)",
    responses=problems(*CLIENT),
)
async def create_quote(body: CartIn, pricer: PricerDep) -> Cart:
    view = pricer.quote(body.currency, body.item_pairs(), body.shipping_rate_id, body.discount_code)
    return Cart.of(view)

"""Checkout Session routes: parse, authorize, hand one change to the service, answer the cart."""

from __future__ import annotations

from fastapi import APIRouter, status

from amount_updater.api.deps import SessionCaller, SessionId, SessionServiceDep
from amount_updater.api.responses import CHANGE, CLIENT, READ, STRIPE, problems
from amount_updater.api.schemas import (
    Cart,
    CartReplace,
    CheckoutSessionCreate,
    CheckoutSessionCreated,
    DiscountSet,
    ItemAdd,
    ProductId,
    QuantitySet,
    ShippingSet,
)
from amount_updater.service.changes import (
    AddItem,
    ReplaceCart,
    SetDiscount,
    SetQuantity,
    SetShipping,
)

router = APIRouter(prefix="/v1/checkout-sessions", tags=["checkout sessions"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an Elements Checkout Session priced from the catalog",
    responses=problems(*CLIENT, *STRIPE),
)
async def create_checkout_session(
    body: CheckoutSessionCreate, sessions: SessionServiceDep
) -> CheckoutSessionCreated:
    created = await sessions.create(
        body.currency,
        body.item_pairs(),
        body.shipping_rate_id,
        body.discount_code,
        body.return_url,
    )
    return CheckoutSessionCreated(
        id=created.id,
        client_secret=created.client_secret,
        token=created.token,
        token_expires_at=created.token_expires_at,
        cart=Cart.of(created.cart),
    )


@router.get("/{session_id}", summary="The session's cart", responses=problems(*READ))
async def get_checkout_session(
    session_id: SessionId, _: SessionCaller, sessions: SessionServiceDep
) -> Cart:
    return Cart.of(await sessions.get(session_id))


@router.put(
    "/{session_id}/cart",
    summary="Replace the whole managed cart (items, shipping, discount)",
    responses=problems(*CHANGE),
)
async def replace_cart(
    session_id: SessionId, body: CartReplace, _: SessionCaller, sessions: SessionServiceDep
) -> Cart:
    change = ReplaceCart(tuple(body.item_pairs()), body.shipping_rate_id, body.discount_code)
    return Cart.of(await sessions.change(session_id, change))


@router.post(
    "/{session_id}/items",
    summary="Add a product, or increase its quantity",
    responses=problems(*CHANGE),
)
async def add_item(
    session_id: SessionId, body: ItemAdd, _: SessionCaller, sessions: SessionServiceDep
) -> Cart:
    return Cart.of(await sessions.change(session_id, AddItem(body.product_id, body.quantity)))


@router.patch(
    "/{session_id}/items/{product_id}",
    summary="Set a product's quantity (0 removes it)",
    responses=problems(*CHANGE),
)
async def set_quantity(
    session_id: SessionId,
    product_id: ProductId,
    body: QuantitySet,
    _: SessionCaller,
    sessions: SessionServiceDep,
) -> Cart:
    return Cart.of(await sessions.change(session_id, SetQuantity(product_id, body.quantity)))


@router.delete(
    "/{session_id}/items/{product_id}",
    summary="Remove a product",
    responses=problems(*CHANGE),
)
async def remove_item(
    session_id: SessionId, product_id: ProductId, _: SessionCaller, sessions: SessionServiceDep
) -> Cart:
    return Cart.of(await sessions.change(session_id, SetQuantity(product_id, 0)))


@router.put("/{session_id}/shipping", summary="Choose a shipping rate", responses=problems(*CHANGE))
async def set_shipping(
    session_id: SessionId, body: ShippingSet, _: SessionCaller, sessions: SessionServiceDep
) -> Cart:
    return Cart.of(await sessions.change(session_id, SetShipping(body.shipping_rate_id)))


@router.delete(
    "/{session_id}/shipping", summary="Remove the shipping rate", responses=problems(*CHANGE)
)
async def clear_shipping(
    session_id: SessionId, _: SessionCaller, sessions: SessionServiceDep
) -> Cart:
    return Cart.of(await sessions.change(session_id, SetShipping(None)))


@router.put("/{session_id}/discount", summary="Apply a discount code", responses=problems(*CHANGE))
async def set_discount(
    session_id: SessionId, body: DiscountSet, _: SessionCaller, sessions: SessionServiceDep
) -> Cart:
    return Cart.of(await sessions.change(session_id, SetDiscount(body.code)))


@router.delete(
    "/{session_id}/discount", summary="Remove the discount code", responses=problems(*CHANGE)
)
async def clear_discount(
    session_id: SessionId, _: SessionCaller, sessions: SessionServiceDep
) -> Cart:
    return Cart.of(await sessions.change(session_id, SetDiscount(None)))

"""The cart routes shared by Checkout Sessions and PaymentIntents: read the cart, and one route
per change. Each parses the request, resolves an authorized target and hands it one change.

(No `from __future__ import annotations` here: FastAPI reads these closures' annotations.)
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, Header, Path, Request

from amount_updater.api.answers import Cart
from amount_updater.api.deps import TOKEN_OR_API_KEY, CredentialsDep, IdempotencyKeyDep
from amount_updater.api.rate_limits import count_request
from amount_updater.api.request_bodies import (
    CartReplace,
    DiscountSet,
    ItemAdd,
    ProductId,
    QuantitySet,
    ShippingAddressSet,
    ShippingSet,
)
from amount_updater.api.responses import CHANGE, READ, problems
from amount_updater.observability import context
from amount_updater.service.cart import CartView
from amount_updater.service.changes import (
    AddItem,
    CartChange,
    SetDiscount,
    SetQuantity,
    SetShipping,
    SetShippingAddress,
)
from amount_updater.service.request_history import Origin


class CartService(Protocol):
    async def get(self, object_id: str, /, *, fresh: bool = False) -> CartView: ...

    async def change(self, object_id: str, change: CartChange, origin: Origin, /) -> CartView: ...


@dataclass(frozen=True, slots=True)
class CartTarget:
    """An object the caller has proven it may read and change, and the service that owns it."""

    service: CartService
    object_id: str
    origin: Origin

    async def read(self, *, fresh: bool = False) -> Cart:
        return Cart.of(await self.service.get(self.object_id, fresh=fresh))

    async def apply(self, change: CartChange) -> Cart:
        return Cart.of(await self.service.change(self.object_id, change, self.origin))


def add_cart_routes(
    router: APIRouter,
    *,
    service: Callable[[Request], CartService],
    id_name: str,
    id_pattern: str,
    noun: str,
    addresses: bool = False,
) -> None:
    """Add `GET /{id}` and the change routes for one object kind to `router`.

    `service` returns that kind's service from the request; `id_name` names the path parameter
    (`session_id`, `intent_id`) as the OpenAPI document shows it.
    """

    async def target(
        request: Request,
        object_id: Annotated[str, Path(alias=id_name, pattern=id_pattern)],
        credentials: CredentialsDep,
        idempotency_key: IdempotencyKeyDep = None,
    ) -> CartTarget:
        caller = credentials.object_caller(object_id)
        context.note_caller(object_id, caller.scope)
        await count_request(
            request, caller, "read" if request.method == "GET" else "change", object_id
        )
        return CartTarget(service(request), object_id, Origin(caller.scope, idempotency_key))

    item = f"/{{{id_name}}}/items/{{product_id}}"

    @router.get(
        f"/{{{id_name}}}",
        summary=f"The {noun}'s cart",
        responses=problems(*READ),
        openapi_extra=TOKEN_OR_API_KEY,
    )
    async def get_cart(
        to: Annotated[CartTarget, Depends(target)],
        cache_control: Annotated[
            str | None,
            Header(
                description="`no-cache`: read the object from Stripe now. Otherwise a read may "
                "be answered from this instance's last read or write of the object, when at "
                "most 2 seconds old (`AMOUNT_UPDATER_CART_READ_CACHE_S`)."
            ),
        ] = None,
    ) -> Cart:
        return await to.read(fresh="no-cache" in (cache_control or "").lower())

    @router.put(
        f"/{{{id_name}}}/cart",
        summary="Replace the whole managed cart (items, shipping, discount)",
        responses=problems(*CHANGE),
        openapi_extra=TOKEN_OR_API_KEY,
    )
    async def replace_cart(body: CartReplace, to: Annotated[CartTarget, Depends(target)]) -> Cart:
        return await to.apply(body.replacement())

    @router.post(
        f"/{{{id_name}}}/items",
        summary="Add a product, or increase its quantity",
        responses=problems(*CHANGE),
        openapi_extra=TOKEN_OR_API_KEY,
    )
    async def add_item(body: ItemAdd, to: Annotated[CartTarget, Depends(target)]) -> Cart:
        return await to.apply(AddItem(body.product_id, body.quantity))

    @router.patch(
        item,
        summary="Set a product's quantity (0 removes it)",
        responses=problems(*CHANGE),
        openapi_extra=TOKEN_OR_API_KEY,
    )
    async def set_quantity(
        product_id: ProductId, body: QuantitySet, to: Annotated[CartTarget, Depends(target)]
    ) -> Cart:
        return await to.apply(SetQuantity(product_id, body.quantity))

    @router.delete(
        item,
        summary="Remove a product",
        responses=problems(*CHANGE),
        openapi_extra=TOKEN_OR_API_KEY,
    )
    async def remove_item(
        product_id: ProductId, to: Annotated[CartTarget, Depends(target)]
    ) -> Cart:
        return await to.apply(SetQuantity(product_id, 0))

    @router.put(
        f"/{{{id_name}}}/shipping",
        summary="Choose a shipping rate",
        responses=problems(*CHANGE),
        openapi_extra=TOKEN_OR_API_KEY,
    )
    async def set_shipping(body: ShippingSet, to: Annotated[CartTarget, Depends(target)]) -> Cart:
        return await to.apply(SetShipping(body.shipping_rate_id))

    @router.delete(
        f"/{{{id_name}}}/shipping",
        summary="Remove the shipping rate",
        responses=problems(*CHANGE),
        openapi_extra=TOKEN_OR_API_KEY,
    )
    async def clear_shipping(to: Annotated[CartTarget, Depends(target)]) -> Cart:
        return await to.apply(SetShipping(None))

    if addresses:

        @router.put(
            f"/{{{id_name}}}/shipping-address",
            summary="Set the shipping address the customer entered; only the rates that serve "
            "its country are offered (AMOUNT_UPDATER_COLLECT_SHIPPING_ADDRESS)",
            responses=problems(*CHANGE),
            openapi_extra=TOKEN_OR_API_KEY,
        )
        async def set_shipping_address(
            body: ShippingAddressSet, to: Annotated[CartTarget, Depends(target)]
        ) -> Cart:
            return await to.apply(SetShippingAddress(body.shipping_address()))

    @router.put(
        f"/{{{id_name}}}/discount",
        summary="Apply a discount code",
        responses=problems(*CHANGE),
        openapi_extra=TOKEN_OR_API_KEY,
    )
    async def set_discount(body: DiscountSet, to: Annotated[CartTarget, Depends(target)]) -> Cart:
        return await to.apply(SetDiscount(body.code))

    @router.delete(
        f"/{{{id_name}}}/discount",
        summary="Remove the discount code",
        responses=problems(*CHANGE),
        openapi_extra=TOKEN_OR_API_KEY,
    )
    async def clear_discount(to: Annotated[CartTarget, Depends(target)]) -> Cart:
        return await to.apply(SetDiscount(None))

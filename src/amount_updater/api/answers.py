"""What the API answers: carts, created objects, the catalog, health, and RFC 9457 problems.
All amounts are integers in the currency's minor unit."""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from pydantic import BaseModel, Field

from amount_updater.service.cart import CartView
from amount_updater.service.object_service import Created as CreatedObject

ObjectKind = Literal["checkout.session", "payment_intent", "quote"]


class CartItem(BaseModel):
    product_id: str
    name: str
    quantity: int
    unit_amount: int = Field(description="Catalog price of one unit, minor units")
    amount: int = Field(description="unit_amount x quantity, before discount")


class OtherItem(BaseModel):
    line_item_id: str
    description: str
    quantity: int
    amount: int


class Shipping(BaseModel):
    rate_id: str
    name: str
    amount: int


class Discount(BaseModel):
    code: str
    amount: int = Field(description="0 while the cart is below the code's minimum subtotal")


class ShippingAddressHeld(BaseModel):
    """The shipping address the customer entered, as Stripe holds it."""

    name: str
    line1: str
    line2: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    country: str


class Cart(BaseModel):
    """The cart as recomputed from the catalog. All amounts are integers in minor units."""

    object: ObjectKind
    id: str | None
    status: str | None
    currency: str
    expires_at: int | None
    items: list[CartItem]
    other_items: list[OtherItem]
    shipping: Shipping | None
    shipping_address: ShippingAddressHeld | None = None
    discount: Discount | None
    amount_subtotal: int
    amount_discount: int
    amount_shipping: int
    amount_tax: int | None = Field(
        default=None,
        description="Tax as Stripe computed it (Checkout Sessions; 0 until Stripe Tax has an"
        " address); null where Stripe computes none (quotes, PaymentIntents)",
    )
    tax_status: str | None = Field(
        default=None,
        description="Stripe Tax's progress on a Checkout Session with automatic tax:"
        " `requires_location_inputs` (no address to tax yet: `amount_tax` is not final),"
        " `complete` or `failed`; null without automatic tax",
    )
    amount_total: int = Field(description="After a change: the total Stripe now holds")

    @classmethod
    def of(cls, view: CartView) -> Cart:
        priced = view.priced
        return cls(
            object=view.object,
            id=view.id,
            status=view.status,
            currency=view.currency,
            expires_at=view.expires_at,
            items=[
                CartItem(
                    product_id=line.product_id,
                    name=line.name,
                    quantity=line.quantity,
                    unit_amount=line.unit_amount,
                    amount=line.amount,
                )
                for line in priced.lines
            ],
            other_items=[
                OtherItem(
                    line_item_id=o.line_item_id,
                    description=o.description,
                    quantity=o.quantity,
                    amount=o.amount,
                )
                for o in view.other_items
            ],
            shipping=Shipping(
                rate_id=priced.shipping.rate_id,
                name=priced.shipping.name,
                amount=priced.shipping.amount,
            )
            if priced.shipping
            else None,
            shipping_address=ShippingAddressHeld(**asdict(priced.ship_to))
            if priced.ship_to
            else None,
            discount=Discount(code=priced.discount.code, amount=priced.discount.amount)
            if priced.discount
            else None,
            amount_subtotal=priced.subtotal,
            amount_discount=priced.discount_total,
            amount_shipping=priced.shipping_total,
            amount_tax=view.amount_tax,
            tax_status=view.tax_status,
            amount_total=view.amount_total,
        )


class Created(BaseModel):
    """A new Checkout Session or PaymentIntent, and the token for changing it."""

    id: str
    client_secret: str | None = Field(
        description="For stripe.initCheckoutElementsSdk (sessions) or stripe.elements (intents)"
    )
    token: str = Field(description="Bearer token for changes to this object only")
    token_expires_at: int
    cart: Cart

    @classmethod
    def of(cls, created: CreatedObject) -> Created:
        return cls(
            id=created.id,
            client_secret=created.client_secret,
            token=created.token,
            token_expires_at=created.token_expires_at,
            cart=Cart.of(created.cart),
        )


class TokenIssued(BaseModel):
    token: str
    expires_at: int


class LegacyAmountUpdated(BaseModel):
    id: str
    amount_total: int


class CatalogProduct(BaseModel):
    id: str
    name: str
    kind: Literal["item", "addon"]
    unit_amount: int
    max_quantity: int


class CatalogShippingRate(BaseModel):
    id: str
    name: str
    amount: int


class CatalogListing(BaseModel):
    currency: str
    products: list[CatalogProduct]
    shipping_rates: list[CatalogShippingRate]


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    stripe: Literal["live", "test", "sandbox"]


class WebhookReceipt(BaseModel):
    received: Literal[True]
    outcome: Literal["ok", "mismatch", "ignored", "duplicate", "not_managed"]


class LoadedCatalog(BaseModel):
    path: str = Field(description="The catalog file, or `<package>/sample.toml` for the sample")
    sample: bool = Field(description="Whether this is the bundled sample catalog")
    sha256: str = Field(description="SHA-256 of the file's text, to tell versions apart")


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, str] = Field(description='Each dependency: "ok" or what is wrong')
    catalog: LoadedCatalog
    rate_limits: dict[str, str] = Field(
        description="The service's own limits by caller class, e.g. \"30 per minute per client"
        ' address" or "off"'
    )


class ProblemError(BaseModel):
    loc: list[str | int]
    msg: str


class Problem(BaseModel):
    """An RFC 9457 problem. `code` is stable: branch on it, not on `title` or `detail`."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    errors: list[ProblemError] | None = None

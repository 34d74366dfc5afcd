"""Request and response models of the JSON API. Requests reject unknown fields, so a price or
total sent by a browser is refused, never silently dropped."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from amount_updater.service.cart import CartView
from amount_updater.service.object_service import Created as CreatedObject

ProductId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,39}$", examples=["gift_wrap"])]
RateId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,39}$", examples=["express"])]
DiscountCode = Annotated[str, Field(min_length=1, max_length=40, examples=["SAVE10"])]
CURRENCY_PATTERN = r"^[A-Za-z]{3}$"
CurrencyCode = Annotated[
    str, Field(pattern=CURRENCY_PATTERN, description="ISO 4217, any case", examples=["usd"])
]
Quantity = Annotated[int, Field(ge=1, le=999)]
ObjectKind = Literal["checkout.session", "payment_intent", "quote"]
SESSION_ID_PATTERN = r"^cs_[A-Za-z0-9_]{1,250}$"
INTENT_ID_PATTERN = r"^pi_[A-Za-z0-9_]{1,250}$"
OBJECT_ID_PATTERN = r"^(cs|pi)_[A-Za-z0-9_]{1,250}$"


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ItemIn(Request):
    product_id: ProductId
    quantity: Quantity = 1


class CartIn(Request):
    currency: CurrencyCode
    items: Annotated[list[ItemIn], Field(max_length=100)]
    shipping_rate_id: RateId | None = None
    discount_code: DiscountCode | None = None

    def item_pairs(self) -> list[tuple[str, int]]:
        return [(item.product_id, item.quantity) for item in self.items]


class CheckoutSessionCreate(CartIn):
    return_url: Annotated[str, Field(pattern=r"^https?://", max_length=2048)] | None = Field(
        default=None,
        description=(
            "Where Stripe brings the customer back after a redirect-based payment method; on an"
            " origin in AMOUNT_UPDATER_RETURN_URL_ORIGINS. Omit to use AMOUNT_UPDATER_RETURN_URL."
        ),
    )


class CartReplace(Request):
    items: Annotated[list[ItemIn], Field(max_length=100)]
    shipping_rate_id: RateId | None = None
    discount_code: DiscountCode | None = None

    def item_pairs(self) -> list[tuple[str, int]]:
        return [(item.product_id, item.quantity) for item in self.items]


class ItemAdd(Request):
    product_id: ProductId
    quantity: Quantity = 1


class QuantitySet(Request):
    quantity: Annotated[int, Field(ge=0, le=999, description="0 removes the product")]


class ShippingSet(Request):
    shipping_rate_id: RateId


class DiscountSet(Request):
    code: DiscountCode


class TokenCreate(Request):
    object_id: Annotated[str, Field(pattern=OBJECT_ID_PATTERN)]


class LegacyAmountUpdate(Request):
    checkout_session_id: Annotated[str, Field(pattern=SESSION_ID_PATTERN)]
    product_id: ProductId


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
    discount: Discount | None
    amount_subtotal: int
    amount_discount: int
    amount_shipping: int
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
            discount=Discount(code=priced.discount.code, amount=priced.discount.amount)
            if priced.discount
            else None,
            amount_subtotal=priced.subtotal,
            amount_discount=priced.discount_total,
            amount_shipping=priced.shipping_total,
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

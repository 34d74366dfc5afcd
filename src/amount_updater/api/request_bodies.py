"""What callers send: the JSON bodies and the id and code formats of the API. Bodies reject
unknown fields, so a price or total sent by a browser is refused, never silently dropped."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from amount_updater.pricing.selection import ShippingAddress
from amount_updater.service.changes import NewCart, ReplaceCart

ProductId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,39}$", examples=["gift_wrap"])]
RateId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,39}$", examples=["express"])]
DiscountCode = Annotated[str, Field(min_length=1, max_length=40, examples=["SAVE10"])]
CURRENCY_PATTERN = r"^[A-Za-z]{3}$"
CurrencyCode = Annotated[
    str, Field(pattern=CURRENCY_PATTERN, description="ISO 4217, any case", examples=["usd"])
]
Quantity = Annotated[int, Field(ge=1, le=999)]
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

    def new_cart(self) -> NewCart:
        return NewCart(self.currency, _pairs(self.items), self.shipping_rate_id, self.discount_code)


def _pairs(items: list[ItemIn]) -> tuple[tuple[str, int], ...]:
    return tuple((item.product_id, item.quantity) for item in items)


# The locales Stripe's API reference lists for Checkout (stripe-python 16.1's enum).
StripeLocale = Literal[
    "auto", "bg", "cs", "da", "de", "el", "en", "en-GB", "es", "es-419", "et", "fi", "fil", "fr",
    "fr-CA", "hi-IN", "hr", "hu", "id", "it", "ja", "ko", "lt", "lv", "ms", "mt", "nb", "nl",
    "pl", "pt", "pt-BR", "ro", "ru", "sk", "sl", "sv", "th", "tr", "vi", "zh", "zh-HK", "zh-TW",
]  # fmt: skip
MetadataKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-]{1,40}$")]
MetadataValue = Annotated[str, StringConstraints(max_length=500)]


class CheckoutSessionCreate(CartIn):
    return_url: Annotated[str, Field(pattern=r"^https?://", max_length=2048)] | None = Field(
        default=None,
        description=(
            "Where Stripe brings the customer back after a redirect-based payment method; on an"
            " origin in AMOUNT_UPDATER_RETURN_URL_ORIGINS. Omit to use AMOUNT_UPDATER_RETURN_URL."
        ),
    )
    # An address's shape only: Stripe and the customer's inbox judge the rest.
    customer_email: (
        Annotated[str, StringConstraints(pattern=r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}$")]
        | None
    ) = Field(default=None, description="Prefills the customer's email (anyone may send it)")
    customer: Annotated[str, StringConstraints(pattern=r"^cus_[A-Za-z0-9]{1,250}$")] | None = Field(
        default=None, description="An existing Stripe Customer (X-API-Key callers only)"
    )
    client_reference_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = (
        Field(default=None, description="Your order or cart id (X-API-Key callers only)")
    )
    metadata: Annotated[dict[MetadataKey, MetadataValue], Field(max_length=20)] | None = Field(
        default=None,
        description="Order metadata for the session, at most 20 keys; keys starting with"
        " amount_updater_ are the service's own (X-API-Key callers only)",
    )
    locale: StripeLocale | None = Field(
        default=None, description="Stripe's locale for the payment UI (X-API-Key callers only)"
    )
    automatic_tax: bool | None = Field(
        default=None,
        description="Stripe Tax for this session; unset: AMOUNT_UPDATER_AUTOMATIC_TAX"
        " (X-API-Key callers only)",
    )


class AddressIn(Request):
    line1: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    line2: Annotated[str, StringConstraints(max_length=200)] | None = None
    city: Annotated[str, StringConstraints(max_length=200)] | None = None
    state: Annotated[str, StringConstraints(max_length=200)] | None = None
    postal_code: Annotated[str, StringConstraints(max_length=20)] | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")] = Field(
        description="ISO 3166-1 alpha-2", examples=["US"]
    )


class ShippingAddressSet(Request):
    """What Stripe's Address Element gives (`getValue().value`), name and address only."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    address: AddressIn

    def shipping_address(self) -> ShippingAddress:
        a = self.address
        return ShippingAddress(
            self.name, a.line1, a.country.upper(), a.line2, a.city, a.state, a.postal_code
        )


class CartReplace(Request):
    items: Annotated[list[ItemIn], Field(max_length=100)]
    shipping_rate_id: RateId | None = None
    discount_code: DiscountCode | None = None

    def replacement(self) -> ReplaceCart:
        return ReplaceCart(_pairs(self.items), self.shipping_rate_id, self.discount_code)


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

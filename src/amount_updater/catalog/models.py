"""Catalog entries as validated from the TOML file. Prices are integers in minor units."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from amount_updater.money.currencies import (
    MAX_AMOUNT,
    Currency,
    is_currency_code,
    is_stripe_currency,
)

EntryId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_\-]{0,39}$")]
# A Stripe tax code, e.g. txcd_99999999 (general tangible goods), txcd_92010001 (shipping).
# Stripe treats them as opaque ids; the pattern is that of every code Stripe lists.
TaxCode = Annotated[str, StringConstraints(pattern=r"^txcd_[0-9]{8}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Amount = Annotated[int, Field(ge=0, le=MAX_AMOUNT, strict=True)]


def _check_amounts(amounts: dict[str, int], what: str) -> None:
    for code, amount in amounts.items():
        if not is_currency_code(code):
            raise ValueError(f"{what}: {code!r} is not a lowercase ISO 4217 currency code")
        if not is_stripe_currency(code):
            raise ValueError(f"{what}: {code!r} is not a currency Stripe supports")
        if not Currency.of(code).is_valid_amount(amount):
            raise ValueError(
                f"{what}: {amount} {code} must be a multiple of {Currency.of(code).increment}"
                " (Stripe requires three-decimal amounts to end in 0)"
            )


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProductKind(StrEnum):
    ITEM = "item"
    ADDON = "addon"


class Product(_Entry):
    id: EntryId
    name: Annotated[str, StringConstraints(min_length=1, max_length=250)]
    kind: ProductKind = ProductKind.ITEM
    prices: dict[str, Amount] = Field(min_length=1)
    max_quantity: Annotated[int, Field(ge=1, le=999, strict=True)] | None = None
    tax_code: TaxCode | None = None

    @model_validator(mode="after")
    def _validate(self) -> Self:
        _check_amounts(self.prices, "prices")
        return self

    @property
    def quantity_limit(self) -> int:
        if self.max_quantity is not None:
            return self.max_quantity
        return 1 if self.kind is ProductKind.ADDON else 99


class DeliveryUnit(StrEnum):
    HOUR = "hour"
    DAY = "day"
    BUSINESS_DAY = "business_day"
    WEEK = "week"
    MONTH = "month"


class DeliveryEstimate(_Entry):
    """How long delivery takes, as Stripe's shipping_rate_data[delivery_estimate] states it."""

    minimum: Annotated[int, Field(gt=0, le=1000, strict=True)]
    maximum: Annotated[int, Field(gt=0, le=1000, strict=True)]
    unit: DeliveryUnit = DeliveryUnit.BUSINESS_DAY

    @model_validator(mode="after")
    def _validate(self) -> Self:
        if self.minimum > self.maximum:
            raise ValueError("minimum must not exceed maximum")
        return self


class ShippingRate(_Entry):
    id: EntryId
    name: Annotated[str, StringConstraints(min_length=1, max_length=250)]
    prices: dict[str, Amount] = Field(min_length=1)
    tax_code: TaxCode | None = None
    # The countries (ISO 3166-1 alpha-2) the rate serves; empty: every country.
    countries: tuple[CountryCode, ...] = ()
    delivery_estimate: DeliveryEstimate | None = None

    @model_validator(mode="after")
    def _validate(self) -> Self:
        _check_amounts(self.prices, "prices")
        if len(set(self.countries)) != len(self.countries):
            raise ValueError("countries: a country is listed twice")
        return self

    def serves(self, country: str) -> bool:
        return not self.countries or country in self.countries


class Discount(_Entry):
    code: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_\-]{0,39}$")]
    percent_off: Annotated[Decimal, Field(gt=0, le=100)] | None = None
    amount_off: dict[str, Annotated[int, Field(gt=0, le=MAX_AMOUNT, strict=True)]] | None = None
    min_subtotal: dict[str, Amount] = Field(default_factory=dict)
    expires_at: datetime | None = None

    @model_validator(mode="after")
    def _validate(self) -> Self:
        if (self.percent_off is None) == (self.amount_off is None):
            raise ValueError("set exactly one of percent_off or amount_off")
        if self.amount_off is not None:
            _check_amounts(self.amount_off, "amount_off")
        _check_amounts(self.min_subtotal, "min_subtotal")
        if self.expires_at is not None and self.expires_at.tzinfo is None:
            raise ValueError("expires_at needs a UTC offset (e.g. ...Z)")
        return self

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at


class TaxBehavior(StrEnum):
    """Whether catalog prices include tax (inclusive) or have it added (exclusive)."""

    EXCLUSIVE = "exclusive"
    INCLUSIVE = "inclusive"


class TaxSettings(_Entry):
    behavior: TaxBehavior | None = None  # None: the Stripe account's default


class Catalog(_Entry):
    """Everything the service can sell, keyed by id. Discount codes are stored upper-case."""

    tax: TaxSettings = TaxSettings()
    products: dict[str, Product] = Field(default_factory=dict)
    shipping: dict[str, ShippingRate] = Field(default_factory=dict)
    discounts: dict[str, Discount] = Field(default_factory=dict)

    @property
    def address_countries(self) -> frozenset[str] | None:
        """Where shipping addresses can be collected: the countries the shipping rates serve,
        when every rate names its own; None when a rate serves everywhere or there is none
        (Stripe collects addresses in listed countries only)."""
        rates = self.shipping.values()
        if not rates or not all(rate.countries for rate in rates):
            return None
        return frozenset(country for rate in rates for country in rate.countries)

    @property
    def currencies(self) -> frozenset[str]:
        codes: set[str] = set()
        for product in self.products.values():
            codes.update(product.prices)
        return frozenset(codes)

"""The catalog's rules for one cart, checked in one place: what may be sold, shipped and
discounted, in the cart's currency, at the time of the request.

Pure: the catalog and the time are data. The changes a storefront asks for and `price_cart`
both ask these rules, so a rule is written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from amount_updater.catalog.models import Catalog, Discount, Product, ShippingRate
from amount_updater.errors import (
    CountryNotServed,
    CurrencyNotSupported,
    InvalidDiscountCode,
    QuantityLimitExceeded,
    UnknownProduct,
    UnknownShippingRate,
)
from amount_updater.pricing.selection import Selection, ShippingAddress


@dataclass(frozen=True, slots=True)
class CartRules:
    """Business rules for one cart: the catalog, its currency, and the time of the request."""

    catalog: Catalog
    currency: str
    now: datetime

    def known_product(self, product_id: str) -> Product:
        """The catalog's product; UnknownProduct when there is none."""
        product = self.catalog.products.get(product_id)
        if product is None:
            raise UnknownProduct(f"No product {product_id!r} in the catalog.")
        return product

    def product(self, product_id: str) -> Product:
        """A product that can be priced in the cart's currency."""
        product = self.known_product(product_id)
        if self.currency not in product.prices:
            raise CurrencyNotSupported(f"Product {product_id!r} has no price in {self.currency}.")
        return product

    def check_product(self, product_id: str, quantity: int) -> None:
        """`quantity` units of the product may be ordered."""
        product = self.product(product_id)
        if quantity > product.quantity_limit:
            raise QuantityLimitExceeded(
                f"At most {product.quantity_limit} of {product_id!r} per order.",
                extra={"product_id": product_id, "max_quantity": product.quantity_limit},
            )

    def shipping_rate(self, rate_id: str, ship_to: ShippingAddress | None = None) -> ShippingRate:
        """A rate priced in the cart's currency (and serving `ship_to`, when given)."""
        rate = self.catalog.shipping.get(rate_id)
        if rate is None:
            raise UnknownShippingRate(f"No shipping rate {rate_id!r}.")
        if self.currency not in rate.prices:
            raise CurrencyNotSupported(
                f"Shipping rate {rate_id!r} has no price in {self.currency}."
            )
        if ship_to is not None and not rate.serves(ship_to.country):
            raise CountryNotServed(
                f"{rate.name} does not ship to {ship_to.country}.",
                extra={"country": ship_to.country},
            )
        return rate

    def serves(self, rate_id: str | None, country: str) -> bool:
        """Whether `rate_id` is a rate of the catalog that ships to `country`."""
        rate = self.catalog.shipping.get(rate_id) if rate_id else None
        return rate is not None and rate.serves(country)

    def cheapest_rate_to(self, country: str) -> str | None:
        """The least expensive rate in the cart's currency that serves `country`."""
        serving = [
            rate
            for rate in self.catalog.shipping.values()
            if self.currency in rate.prices and rate.serves(country)
        ]
        if not serving:
            return None
        return min(serving, key=lambda rate: (rate.prices[self.currency], rate.id)).id

    def items_subtotal(self, selection: Selection) -> int:
        """The catalog price of the selection's items, before any discount."""
        return sum(
            self.product(line.product_id).prices[self.currency] * line.quantity
            for line in selection.items
        )

    def usable_discount(self, code: str) -> Discount:
        """The discount for `code` if it exists, has not expired and applies to the currency;
        InvalidDiscountCode otherwise. Codes ignore case and surrounding space."""
        discount = self.catalog.discounts.get(code.strip().upper())
        if discount is None:
            raise InvalidDiscountCode(f"Unknown discount code {code!r}.")
        if discount.is_expired(self.now):
            raise InvalidDiscountCode(f"Discount code {discount.code!r} has expired.")
        if discount.amount_off is not None and self.currency not in discount.amount_off:
            raise InvalidDiscountCode(
                f"Discount code {discount.code!r} does not apply to {self.currency}."
            )
        return discount

    def require_discount(self, code: str, items_subtotal: int) -> Discount:
        """The discount for `code` if it applies to a cart of `items_subtotal` now."""
        discount = self.usable_discount(code)
        minimum = discount.min_subtotal.get(self.currency, 0)
        if items_subtotal < minimum:
            raise InvalidDiscountCode(
                f"Discount code {discount.code!r} needs a subtotal of at least {minimum} "
                f"{self.currency}.",
                extra={"min_subtotal": minimum},
            )
        return discount

    def recorded_discount(self, code: str) -> Discount | None:
        """A code recorded on a cart earlier, or None once it is no longer usable (then the
        cart is priced without it)."""
        try:
            return self.usable_discount(code)
        except InvalidDiscountCode:
            return None

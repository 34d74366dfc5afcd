"""The changes a storefront can ask for, each validated against the catalog before any write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from amount_updater.catalog.models import Catalog
from amount_updater.errors import (
    CountryNotServed,
    CurrencyNotSupported,
    InvalidRequest,
    QuantityLimitExceeded,
    UnknownProduct,
    UnknownShippingRate,
)
from amount_updater.pricing import Selection, require_discount
from amount_updater.pricing.selection import ShippingAddress


@dataclass(frozen=True, slots=True)
class CartRules:
    """Business rules for one cart: its currency, the catalog, and the time of the request."""

    catalog: Catalog
    currency: str
    now: datetime

    def check_product(self, product_id: str, quantity: int) -> None:
        product = self.catalog.products.get(product_id)
        if product is None:
            raise UnknownProduct(f"No product {product_id!r} in the catalog.")
        if self.currency not in product.prices:
            raise CurrencyNotSupported(f"Product {product_id!r} has no price in {self.currency}.")
        if quantity > product.quantity_limit:
            raise QuantityLimitExceeded(
                f"At most {product.quantity_limit} of {product_id!r} per order.",
                extra={"product_id": product_id, "max_quantity": product.quantity_limit},
            )

    def check_shipping(self, rate_id: str, ship_to: ShippingAddress | None = None) -> None:
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

    def check_discount(self, code: str, selection: Selection) -> str:
        """The canonical code if it applies to `selection`; InvalidDiscountCode otherwise."""
        subtotal = sum(
            self.catalog.products[line.product_id].prices[self.currency] * line.quantity
            for line in selection.items
        )
        return require_discount(self.catalog, code, self.currency, subtotal, now=self.now).code


class CartChange(Protocol):
    def apply(self, selection: Selection, rules: CartRules) -> Selection: ...


@dataclass(frozen=True, slots=True)
class ReplaceCart:
    items: tuple[tuple[str, int], ...]
    shipping_rate_id: str | None
    discount_code: str | None

    def apply(self, selection: Selection, rules: CartRules) -> Selection:
        return build_selection(rules, self.items, self.shipping_rate_id, self.discount_code)


@dataclass(frozen=True, slots=True)
class AddItem:
    product_id: str
    quantity: int

    def apply(self, selection: Selection, rules: CartRules) -> Selection:
        total = selection.quantity_of(self.product_id) + self.quantity
        rules.check_product(self.product_id, total)
        return selection.with_quantity(self.product_id, total)


@dataclass(frozen=True, slots=True)
class SetQuantity:
    product_id: str
    quantity: int  # 0 removes

    def apply(self, selection: Selection, rules: CartRules) -> Selection:
        if self.quantity > 0:
            rules.check_product(self.product_id, self.quantity)
        elif rules.catalog.products.get(self.product_id) is None:
            raise UnknownProduct(f"No product {self.product_id!r} in the catalog.")
        return selection.with_quantity(self.product_id, self.quantity)


@dataclass(frozen=True, slots=True)
class SetShipping:
    rate_id: str | None

    def apply(self, selection: Selection, rules: CartRules) -> Selection:
        if self.rate_id is not None:
            rules.check_shipping(self.rate_id, selection.ship_to)
        return selection.with_shipping(self.rate_id)


@dataclass(frozen=True, slots=True)
class SetShippingAddress:
    """The address the customer entered: kept with the cart (Stripe's collected shipping
    details). A chosen rate that does not serve it gives way to the cheapest one that does."""

    address: ShippingAddress

    def apply(self, selection: Selection, rules: CartRules) -> Selection:
        country = self.address.country
        cheapest = rules.cheapest_rate_to(country)
        if cheapest is None:
            raise CountryNotServed(
                f"No shipping rate serves {country}.", extra={"country": country}
            )
        # As Stripe's own page preselects the first option: with items to ship, a cart without
        # a rate, or with one that does not serve the country, gets the cheapest that does.
        rate_id = selection.shipping_rate_id
        rate = rules.catalog.shipping.get(rate_id) if rate_id else None
        if rate is None or not rate.serves(country):
            rate_id = cheapest if selection.items else None
        return selection.with_address(self.address).with_shipping(rate_id)


@dataclass(frozen=True, slots=True)
class SetDiscount:
    code: str | None

    def apply(self, selection: Selection, rules: CartRules) -> Selection:
        if self.code is None:
            return selection.with_discount(None)
        return selection.with_discount(rules.check_discount(self.code, selection))


def reads_current_cart(change: CartChange) -> bool:
    """Whether `change` builds on the recorded cart; replacing the whole cart does not, so it
    also repairs a cart that can no longer be read."""
    return not isinstance(change, ReplaceCart)


def build_selection(
    rules: CartRules,
    items: tuple[tuple[str, int], ...] | list[tuple[str, int]],
    shipping_rate_id: str | None,
    discount_code: str | None,
) -> Selection:
    """A whole new cart, every part validated (used by create, quote and replace)."""
    selection = Selection.of(list(items))
    for line in selection.items:
        rules.check_product(line.product_id, line.quantity)
    selection = SetShipping(shipping_rate_id).apply(selection, rules)
    return SetDiscount(discount_code).apply(selection, rules)


def check_shipping_has_items(selection: Selection, other_subtotal: int) -> None:
    """Shipping alone is not an order: a cart with shipping needs something to ship."""
    if selection.shipping_rate_id is not None and not selection.items and not other_subtotal:
        raise InvalidRequest("Shipping needs at least one item in the cart; remove it first.")

"""The changes a storefront can ask for, each checked against the catalog's rules
(`pricing.rules`) before any write."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from amount_updater.errors import CountryNotServed, InvalidRequest
from amount_updater.pricing import CartRules, Selection
from amount_updater.pricing.selection import ShippingAddress


@dataclass(frozen=True, slots=True)
class NewCart:
    """A whole cart as a caller asks for it when creating an object or a quote."""

    currency: str
    items: tuple[tuple[str, int], ...]
    shipping_rate_id: str | None = None
    discount_code: str | None = None


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
        else:
            rules.known_product(self.product_id)
        return selection.with_quantity(self.product_id, self.quantity)


@dataclass(frozen=True, slots=True)
class SetShipping:
    rate_id: str | None

    def apply(self, selection: Selection, rules: CartRules) -> Selection:
        if self.rate_id is not None:
            rules.shipping_rate(self.rate_id, selection.ship_to)
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
        if not rules.serves(rate_id, country):
            rate_id = cheapest if selection.items else None
        return selection.with_address(self.address).with_shipping(rate_id)


@dataclass(frozen=True, slots=True)
class SetDiscount:
    code: str | None

    def apply(self, selection: Selection, rules: CartRules) -> Selection:
        if self.code is None:
            return selection.with_discount(None)
        subtotal = rules.items_subtotal(selection)
        return selection.with_discount(rules.require_discount(self.code, subtotal).code)


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

"""Prices a Selection against the catalog, exactly, in integer minor units.

Rules (README "Pricing"):
- a line's amount is the catalog unit price times the quantity;
- percent_off discounts each unit by its price times the percentage, rounded half up to the
  currency's increment (1 minor unit, or 10 for three-decimal currencies);
- amount_off is exact: min(amount_off, catalog subtotal) is split over the lines in proportion
  to their amounts (largest remainder), so the parts add up to the discount to the minor unit;
- discounts touch catalog products only, never shipping or line items the service did not add;
- Stripe line items carry one price per unit, so a discounted line whose amount does not divide
  evenly by its quantity is charged as two tranches (e.g. 2 x 834 + 1 x 833), both of the same
  product. `PricedLine.charges` lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from amount_updater.catalog.models import Discount
from amount_updater.money.currencies import Currency
from amount_updater.money.rounding import allocate, round_half_up
from amount_updater.pricing.rules import CartRules
from amount_updater.pricing.selection import Selection, ShippingAddress


@dataclass(frozen=True, slots=True)
class Charge:
    """What Stripe is asked to charge: `quantity` units at `unit_amount` each."""

    unit_amount: int
    quantity: int

    @property
    def amount(self) -> int:
        return self.unit_amount * self.quantity


@dataclass(frozen=True, slots=True)
class PricedLine:
    product_id: str
    name: str
    quantity: int
    unit_amount: int
    amount: int
    discount: int
    charges: tuple[Charge, ...]


@dataclass(frozen=True, slots=True)
class PricedShipping:
    rate_id: str
    name: str
    amount: int


@dataclass(frozen=True, slots=True)
class PricedDiscount:
    code: str
    amount: int


@dataclass(frozen=True, slots=True)
class PricedCart:
    currency: str
    lines: tuple[PricedLine, ...]
    shipping: PricedShipping | None
    discount: PricedDiscount | None
    items_subtotal: int
    other_subtotal: int
    ship_to: ShippingAddress | None = None  # where it ships, as the customer entered it

    @property
    def subtotal(self) -> int:
        return self.items_subtotal + self.other_subtotal

    @property
    def discount_total(self) -> int:
        return self.discount.amount if self.discount else 0

    @property
    def shipping_total(self) -> int:
        return self.shipping.amount if self.shipping else 0

    @property
    def total(self) -> int:
        return self.subtotal - self.discount_total + self.shipping_total


def price_cart(rules: CartRules, selection: Selection, *, other_subtotal: int = 0) -> PricedCart:
    """Price `selection` under `rules` (the catalog, the cart's currency, the time).

    A recorded discount code that is unknown or expired is dropped (`discount` is None); one
    whose minimum subtotal the cart no longer reaches stays recorded with amount 0, so it applies
    again when the cart grows back. `CartRules.require_discount` refuses a code outright.
    """
    currency = rules.currency
    increment = Currency.of(currency).increment
    lines: list[tuple[str, str, int, int]] = []
    for line in selection.items:
        product = rules.product(line.product_id)
        lines.append((product.id, product.name, line.quantity, product.prices[currency]))

    shipping = None
    if selection.shipping_rate_id is not None:
        rate = rules.shipping_rate(selection.shipping_rate_id)
        shipping = PricedShipping(rate.id, rate.name, rate.prices[currency])

    amounts = [price * quantity for _, _, quantity, price in lines]
    items_subtotal = sum(amounts)
    discount = None
    per_line_discount = [0] * len(lines)
    if selection.discount_code is not None:
        found = rules.recorded_discount(selection.discount_code)
        if found is not None:
            if items_subtotal >= found.min_subtotal.get(currency, 0):
                per_line_discount = _discounts(found, currency, lines, amounts, increment)
            discount = PricedDiscount(found.code, sum(per_line_discount))

    priced = tuple(
        PricedLine(
            product_id=pid,
            name=name,
            quantity=quantity,
            unit_amount=price,
            amount=amount,
            discount=line_discount,
            charges=_tranches(amount - line_discount, quantity, increment),
        )
        for (pid, name, quantity, price), amount, line_discount in zip(
            lines, amounts, per_line_discount, strict=True
        )
    )
    return PricedCart(
        currency, priced, shipping, discount, items_subtotal, other_subtotal, selection.ship_to
    )


def _discounts(
    discount: Discount,
    currency: str,
    lines: list[tuple[str, str, int, int]],
    amounts: list[int],
    increment: int,
) -> list[int]:
    if discount.percent_off is not None:
        rate = discount.percent_off / Decimal(100)
        return [
            min(price, round_half_up(Decimal(price) * rate, increment)) * quantity
            for _, _, quantity, price in lines
        ]
    assert discount.amount_off is not None  # the model guarantees exactly one of the two
    cap = min(discount.amount_off[currency], sum(amounts))
    return allocate(cap, amounts, increment)


def _tranches(net: int, quantity: int, increment: int) -> tuple[Charge, ...]:
    """Split `net` over `quantity` units at per-unit prices that differ by at most one increment."""
    base = net // increment // quantity * increment
    higher = (net - base * quantity) // increment
    tranches = (Charge(base + increment, higher), Charge(base, quantity - higher))
    return tuple(t for t in tranches if t.quantity > 0)

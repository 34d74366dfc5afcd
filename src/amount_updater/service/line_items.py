"""Plans the whole line-item array, and the shipping option, to send to a Checkout Session.

Stripe's update replaces the array: an existing line item survives only if its id is sent, so
every line item the service did not add is retransmitted by id, untouched. The service's own
lines are kept by id when their unit price still matches (changing only the quantity), and
replaced by a new price_data line when the price changed (re-pricing an id in place is
UNCONFIRMED in Stripe's API reference, so it is never attempted).

Shipping is a shipping option (`shipping_rate_data`), so that Stripe, receipts and tax treat it
as shipping. Sessions written before that carry it as a line item tagged with its rate: such a
line is read as the cart's shipping and dropped at the next write, which sends the option.
"""

from __future__ import annotations

from dataclasses import dataclass

from amount_updater.catalog.repository import CatalogRepository
from amount_updater.errors import TooManyLineItems
from amount_updater.pricing import PricedCart
from amount_updater.service.cart import PRODUCT_KEY, SessionCart
from amount_updater.stripe_gateway import KeepLine, LineWrite, NewLine
from amount_updater.stripe_gateway.models import ShippingOption, Taxability

MAX_LINE_ITEMS = 100  # Stripe's limit for payment-mode sessions


@dataclass(frozen=True, slots=True)
class LinePlan:
    writes: tuple[LineWrite, ...]
    changed: bool


def new_lines(priced: PricedCart, catalog: CatalogRepository) -> list[NewLine]:
    """Every product line of a priced cart as new Stripe line items (for a new session)."""
    lines = [
        _new_line(catalog, line.product_id, line.name, charge.unit_amount, charge.quantity)
        for line in priced.lines
        for charge in line.charges
    ]
    _check_count(len(lines))
    return lines


def shipping_option(priced: PricedCart, catalog: CatalogRepository) -> ShippingOption | None:
    """The cart's shipping rate as the one option the session offers."""
    if priced.shipping is None:
        return None
    rate = catalog.shipping_rate(priced.shipping.rate_id)
    estimate = rate.delivery_estimate if rate is not None else None
    return ShippingOption(
        priced.shipping.name,
        priced.shipping.amount,
        Taxability(rate.tax_code if rate else None, _behavior(catalog)),
        (estimate.minimum, estimate.maximum, estimate.unit.value) if estimate else None,
    )


def plan_line_items(
    current: SessionCart, priced: PricedCart, catalog: CatalogRepository
) -> LinePlan:
    wanted: dict[str, list[tuple[int, int]]] = {
        line.product_id: [(c.unit_amount, c.quantity) for c in line.charges]
        for line in priced.lines
    }
    names = {line.product_id: line.name for line in priced.lines}
    writes: list[LineWrite] = []
    # A shipping line of an older session is left out (which deletes it): shipping is an option.
    changed = bool(current.shipping_lines)

    product_ids = {li.id for li in current.product_lines}
    shipping_ids = {li.id for li in current.shipping_lines}
    for item in current.all_lines:
        if item.id in shipping_ids:
            continue
        if item.id not in product_ids:
            writes.append(KeepLine(item.id))
            continue
        tranches = wanted.get(item.metadata[PRODUCT_KEY], [])
        match = next((t for t in tranches if t[0] == item.unit_amount), None)
        if match is None:
            changed = True  # removed, or re-priced: omitting the id deletes it
            continue
        tranches.remove(match)
        if match[1] == item.quantity:
            writes.append(KeepLine(item.id))
        else:
            writes.append(KeepLine(item.id, match[1]))
            changed = True

    for product_id, tranches in wanted.items():
        for unit_amount, quantity in tranches:
            writes.append(_new_line(catalog, product_id, names[product_id], unit_amount, quantity))
            changed = True

    _check_count(len(writes))
    return LinePlan(tuple(writes), changed)


def _new_line(
    catalog: CatalogRepository, product_id: str, name: str, unit_amount: int, quantity: int
) -> NewLine:
    product = catalog.product(product_id)
    tax = Taxability(product.tax_code if product else None, _behavior(catalog))
    return NewLine(name, unit_amount, quantity, {PRODUCT_KEY: product_id}, tax)


def _behavior(catalog: CatalogRepository) -> str | None:
    behavior = catalog.tax_behavior
    return behavior.value if behavior is not None else None


def _check_count(count: int) -> None:
    if count > MAX_LINE_ITEMS:
        raise TooManyLineItems(
            f"The session would have {count} line items; Stripe allows {MAX_LINE_ITEMS}."
        )

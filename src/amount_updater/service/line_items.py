"""Plans the whole line-item array to retransmit to a Checkout Session.

Stripe's update replaces the array: an existing line item survives only if its id is sent, so
every line item the service did not add is retransmitted by id, untouched. The service's own
lines are kept by id when their unit price still matches (changing only the quantity), and
replaced by a new price_data line when the price changed (re-pricing an id in place is
UNCONFIRMED in the Stripe notes §1.2, so it is never attempted).
"""

from __future__ import annotations

from dataclasses import dataclass

from amount_updater.errors import TooManyLineItems
from amount_updater.pricing import PricedCart
from amount_updater.service.cart import PRODUCT_KEY, SHIPPING_KEY, SessionCart
from amount_updater.stripe_gateway import KeepLine, LineWrite, NewLine

MAX_LINE_ITEMS = 100  # Stripe's limit for payment-mode sessions


@dataclass(frozen=True, slots=True)
class LinePlan:
    writes: tuple[LineWrite, ...]
    changed: bool


def new_lines(priced: PricedCart) -> list[NewLine]:
    """Every line of a priced cart as new Stripe line items (for a session being created)."""
    lines = [
        NewLine(line.name, charge.unit_amount, charge.quantity, {PRODUCT_KEY: line.product_id})
        for line in priced.lines
        for charge in line.charges
    ]
    if priced.shipping is not None:
        shipping = priced.shipping
        lines.append(NewLine(shipping.name, shipping.amount, 1, {SHIPPING_KEY: shipping.rate_id}))
    _check_count(len(lines))
    return lines


def plan_line_items(current: SessionCart, priced: PricedCart) -> LinePlan:
    wanted: dict[str, list[tuple[int, int]]] = {
        line.product_id: [(c.unit_amount, c.quantity) for c in line.charges]
        for line in priced.lines
    }
    names = {line.product_id: line.name for line in priced.lines}
    writes: list[LineWrite] = []
    changed = False

    product_ids = {li.id for li in current.product_lines}
    shipping_ids = {li.id for li in current.shipping_lines}
    for item in current.all_lines:
        if item.id in shipping_ids:
            continue  # the shipping line always goes last; decided below
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
            writes.append(
                NewLine(names[product_id], unit_amount, quantity, {PRODUCT_KEY: product_id})
            )
            changed = True

    shipping = priced.shipping
    existing = next(
        (
            li
            for li in current.shipping_lines
            if shipping is not None
            and li.metadata.get(SHIPPING_KEY) == shipping.rate_id
            and li.unit_amount == shipping.amount
            and li.quantity == 1
        ),
        None,
    )
    if len(current.shipping_lines) != (1 if existing else 0):
        changed = True
    if existing is not None:
        writes.append(KeepLine(existing.id))
    elif shipping is not None:
        writes.append(NewLine(shipping.name, shipping.amount, 1, {SHIPPING_KEY: shipping.rate_id}))
        changed = True

    _check_count(len(writes))
    return LinePlan(tuple(writes), changed)


def _check_count(count: int) -> None:
    if count > MAX_LINE_ITEMS:
        raise TooManyLineItems(
            f"The session would have {count} line items; Stripe allows {MAX_LINE_ITEMS}."
        )

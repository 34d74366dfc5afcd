"""The cart kept on a PaymentIntent itself, so that the service stays stateless.

Stripe keeps no cart for a PaymentIntent, so the selection lives in the intent's metadata
(Stripe's limits: 50 keys, 40-character keys, 500-character values, docs.stripe.com/api/metadata),
and is mirrored in `amount_details` so that Stripe's Dashboard shows what was bought.

An intent created elsewhere, without the service's metadata, is adopted: its amount at that
moment is kept as an opaque `other` amount, and catalog items are added on top of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from amount_updater.catalog.repository import CatalogRepository
from amount_updater.errors import TooManyLineItems
from amount_updater.pricing import PricedCart, Selection
from amount_updater.service.cart import DISCOUNT_KEY, REVISION_KEY, read_revision
from amount_updater.service.request_history import HISTORY_KEY, read_history
from amount_updater.stripe_gateway import PaymentIntent

CART_KEY = "amount_updater_cart"  # "tshirt:2,gift_wrap:1", continued in _2, _3, ... if long
SHIPPING_KEY = "amount_updater_shipping"
OTHER_KEY = "amount_updater_other"
METADATA_VALUE_LIMIT = 500
MAX_CART_KEYS = 40  # leaves room under Stripe's 50 keys for the shop's own metadata
MAX_DETAIL_LINES = 200  # Stripe's limit for amount_details.line_items
MAX_QUANTITY = 999  # the API's own limit per product
PRODUCT_CODE_LIMIT = 12
OTHER_LINE_NAME = "Amount before cart changes"
UPDATABLE_STATUSES = frozenset(
    {"requires_payment_method", "requires_confirmation", "requires_action"}
)
# One cart entry as the service writes it: a catalog id, a colon, a quantity without sign or
# leading zero. ASCII only: str.isdigit() would accept "²", which int() refuses.
_ENTRY = re.compile(r"[a-z0-9][a-z0-9_\-]{0,39}:[1-9][0-9]{0,2}", re.ASCII)
_AMOUNT = re.compile(r"0|[1-9][0-9]{0,7}", re.ASCII)


@dataclass(frozen=True, slots=True)
class IntentCart:
    """The cart recorded in a PaymentIntent's metadata.

    Metadata is input like any other (anyone with the shop's Stripe key can edit it), so it is
    read strictly: an entry that is not exactly what the service writes, or a quantity over the
    API's limit, makes the whole cart unreadable (`problem`), never a guess. Such an intent
    answers 409 `cart_unreadable` until `PUT .../cart` replaces its cart.
    """

    selection: Selection
    other_subtotal: int
    revision: int
    cart_keys: tuple[str, ...]
    history: tuple[str, ...] = ()
    problem: str | None = None

    @classmethod
    def read(cls, intent: PaymentIntent, catalog: CatalogRepository) -> IntentCart:
        metadata = intent.metadata
        history = read_history(metadata)
        if REVISION_KEY not in metadata:
            # Adopted: everything already on the intent becomes the opaque other amount.
            return cls(Selection(), intent.amount, 0, (), history)
        keys = _cart_keys(metadata)
        revision = read_revision(metadata.get(REVISION_KEY))
        other = metadata.get(OTHER_KEY) or "0"
        if not _AMOUNT.fullmatch(other):
            return cls(Selection(), 0, revision, keys, history, f"{OTHER_KEY} is not an amount")
        items: list[tuple[str, int]] = []
        for entry in filter(None, ",".join(metadata[key] for key in keys).split(",")):
            if not _ENTRY.fullmatch(entry):
                return cls(Selection(), int(other), revision, keys, history, "bad cart entry")
            product_id, _, quantity = entry.partition(":")
            # A product gone from the catalog can no longer be priced: it leaves the cart.
            if catalog.product(product_id) is not None:
                items.append((product_id, int(quantity)))
        selection = Selection.of(items, _known_rate(metadata, catalog), _code(metadata))
        if any(line.quantity > MAX_QUANTITY for line in selection.items):
            return cls(Selection(), int(other), revision, keys, history, "quantity over limit")
        return cls(selection, int(other), revision, keys, history)


def _known_rate(metadata: Any, catalog: CatalogRepository) -> str | None:
    rate = metadata.get(SHIPPING_KEY) or None
    return rate if rate is not None and catalog.shipping_rate(rate) is not None else None


def _code(metadata: Any) -> str | None:
    code = metadata.get(DISCOUNT_KEY) or None
    return code if code is not None and len(code) <= 40 else None


def cart_metadata(
    priced: PricedCart,
    other_amount: int,
    revision: int,
    stale: tuple[str, ...],
    history: str = "",
) -> dict[str, str]:
    """The metadata that records `priced` (and unsets cart keys it no longer needs)."""
    chunks = _chunk(",".join(f"{line.product_id}:{line.quantity}" for line in priced.lines))
    keys = [CART_KEY] + [f"{CART_KEY}_{n}" for n in range(2, len(chunks) + 1)]
    metadata = dict.fromkeys(stale, "")
    metadata.update(zip(keys, chunks, strict=True))
    metadata[SHIPPING_KEY] = priced.shipping.rate_id if priced.shipping else ""
    metadata[DISCOUNT_KEY] = priced.discount.code if priced.discount else ""
    metadata[OTHER_KEY] = str(other_amount)
    metadata[REVISION_KEY] = str(revision)
    metadata[HISTORY_KEY] = history
    return metadata


def amount_details(priced: PricedCart, *, clear_missing: bool) -> dict[str, Any]:
    """`amount_details` adding up to the cart's total: per-line discounts, shipping, other."""
    lines: list[dict[str, Any]] = []
    for line in priced.lines:
        detail: dict[str, Any] = {
            "product_name": line.name,
            "product_code": line.product_id[:PRODUCT_CODE_LIMIT],
            "quantity": line.quantity,
            "unit_cost": line.unit_amount,
        }
        if line.discount:
            detail["discount_amount"] = line.discount
        lines.append(detail)
    if priced.other_subtotal:
        lines.append(
            {"product_name": OTHER_LINE_NAME, "quantity": 1, "unit_cost": priced.other_subtotal}
        )
    if len(lines) > MAX_DETAIL_LINES:
        raise TooManyLineItems(f"Stripe allows {MAX_DETAIL_LINES} payment line items.")
    details: dict[str, Any] = {"line_items": lines}
    if priced.shipping is not None:
        details["shipping"] = {"amount": priced.shipping.amount}
    elif clear_missing:
        details["shipping"] = ""
    if clear_missing:
        # Whatever another integration set at the top level would break the arithmetic.
        details["discount_amount"] = ""
        details["tax"] = ""
    return details


def _chunk(encoded: str) -> list[str]:
    chunks: list[str] = []
    current = ""
    for entry in filter(None, encoded.split(",")):
        candidate = f"{current},{entry}" if current else entry
        if len(candidate) > METADATA_VALUE_LIMIT:
            chunks.append(current)
            candidate = entry
        current = candidate
    chunks.append(current)
    if len(chunks) > MAX_CART_KEYS:
        raise TooManyLineItems("The cart is too large to record on the PaymentIntent.")
    return chunks


def _cart_keys(metadata: Any) -> tuple[str, ...]:
    keys = [CART_KEY] if CART_KEY in metadata else []
    n = 2
    while f"{CART_KEY}_{n}" in metadata:
        keys.append(f"{CART_KEY}_{n}")
        n += 1
    return tuple(keys)

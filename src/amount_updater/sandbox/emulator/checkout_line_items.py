"""Checkout Session line items: building ``item`` objects from ``price_data`` and applying the
whole-array update semantics of ``POST /v1/checkout/sessions/{id}`` (notes §1.2).

Every function here returns new dicts and never mutates its inputs, so a refused update leaves
the stored session untouched.
"""

from __future__ import annotations

from typing import Any

from .currencies import check_minor_unit_rounding, read_currency
from .errors import invalid_param, parameters_exclusive, resource_missing
from .ids import new_id
from .metadata import merge_metadata
from .params import (
    child,
    read_amount,
    read_dict,
    read_int,
    read_list,
    read_str,
    reject_unknown,
    require,
)

MAX_LINE_ITEMS = 100  # payment mode (notes §1.7); applied to updates too (UNCONFIRMED, strict)
MAX_QUANTITY = 999_999

NEW_ITEM_PARAMS = ("price", "price_data", "quantity", "metadata")
EXISTING_ITEM_PARAMS = ("id", "price", "price_data", "quantity", "metadata")
PRICE_DATA_PARAMS = ("currency", "unit_amount", "product", "product_data")
PRODUCT_DATA_PARAMS = ("name", "description", "metadata")


def read_line_item_array(raw: Any) -> list[dict[str, Any]]:
    if raw == "":
        raise invalid_param(
            "A Checkout Session needs at least one line item; line_items cannot be unset.",
            "line_items",
            "parameter_invalid_empty",
        )
    entries = read_list(raw, "line_items")
    if len(entries) > MAX_LINE_ITEMS:
        raise invalid_param(
            f"You can have at most {MAX_LINE_ITEMS} line items in payment mode; "
            f"you passed {len(entries)}.",
            "line_items",
        )
    return [read_dict(entry, child("line_items", i)) for i, entry in enumerate(entries)]


def build_new_item(entry: dict[str, Any], prefix: str, now: float) -> dict[str, Any]:
    """A new line item (and its inline Price) from ``{price_data, quantity[, metadata]}``."""
    reject_unknown(entry, NEW_ITEM_PARAMS, prefix)
    if "price" in entry:
        # Only inline `price_data` is emulated; a Price id can never exist here.
        raise resource_missing("price", str(entry["price"]), child(prefix, "price"), status=400)
    price_data = read_dict(require(entry, "price_data", prefix), child(prefix, "price_data"))
    quantity = read_quantity(require(entry, "quantity", prefix), child(prefix, "quantity"))
    metadata = _item_metadata({}, entry, prefix)
    price, product_name = _build_price(price_data, child(prefix, "price_data"), now)
    item = {
        "id": new_id("li"),
        "object": "item",
        "adjustable_quantity": None,
        "amount_discount": 0,
        "amount_subtotal": 0,
        "amount_tax": 0,
        "amount_total": 0,
        "currency": price["currency"],
        "description": product_name,
        "metadata": metadata,
        "price": price,
        "quantity": quantity,
    }
    return with_amounts(item)


def apply_update(
    current: list[dict[str, Any]], raw: Any, currency: str, now: float
) -> list[dict[str, Any]]:
    """The session's new line items after a retransmitted ``line_items`` array.

    ``{id, ...}`` keeps (and optionally changes) an item, ``{price_data, quantity}`` adds one,
    an item whose id is omitted is removed, and the array order is the new order.
    """
    existing = {item["id"]: item for item in current}
    kept: set[str] = set()
    result: list[dict[str, Any]] = []
    for index, entry in enumerate(read_line_item_array(raw)):
        prefix = child("line_items", index)
        if "id" not in entry:
            item = build_new_item(entry, prefix, now)
            check_currency(item, currency, child(prefix, "price_data"))
            result.append(item)
            continue
        reject_unknown(entry, EXISTING_ITEM_PARAMS, prefix)
        if "price_data" in entry or "price" in entry:
            # Re-pricing an existing line item in place is UNCONFIRMED (notes §1.2): refused, so
            # the service has to drop the old id and add a new price_data item.
            other = "price_data" if "price_data" in entry else "price"
            raise parameters_exclusive(prefix, ["id", other])
        item_id = read_str(entry["id"], child(prefix, "id"))
        if item_id in kept:
            raise invalid_param(
                f"Line item '{item_id}' appears more than once in line_items.",
                child(prefix, "id"),
            )
        if item_id not in existing:
            raise resource_missing("line item", item_id, child(prefix, "id"), status=400)
        kept.add(item_id)
        result.append(_updated_existing(existing[item_id], entry, prefix))
    return result


def _updated_existing(item: dict[str, Any], entry: dict[str, Any], prefix: str) -> dict[str, Any]:
    updated = dict(item)
    if "quantity" in entry:
        updated["quantity"] = read_quantity(entry["quantity"], child(prefix, "quantity"))
    if "metadata" in entry:
        updated["metadata"] = _item_metadata(item["metadata"], entry, prefix)
    return with_amounts(updated)


def check_currency(item: dict[str, Any], currency: str, param: str) -> None:
    if item["currency"] != currency:
        raise invalid_param(
            "All line items of a Checkout Session must use the same currency "
            f"({currency}); this one uses {item['currency']}.",
            child(param, "currency"),
        )


def read_quantity(value: Any, param: str) -> int:
    return read_int(value, param, minimum=1, maximum=MAX_QUANTITY)


def with_amounts(item: dict[str, Any]) -> dict[str, Any]:
    subtotal = item["price"]["unit_amount"] * item["quantity"]
    item["amount_subtotal"] = subtotal
    # No discounts or taxes are emulated, so the total equals the subtotal.
    item["amount_total"] = subtotal
    return item


def _item_metadata(current: dict[str, str], entry: dict[str, Any], prefix: str) -> dict[str, str]:
    if "metadata" not in entry:
        return dict(current)
    return merge_metadata(current, entry["metadata"], child(prefix, "metadata"))


def _build_price(price_data: dict[str, Any], prefix: str, now: float) -> tuple[dict[str, Any], str]:
    reject_unknown(price_data, PRICE_DATA_PARAMS, prefix)
    currency = read_currency(require(price_data, "currency", prefix), child(prefix, "currency"))
    if "product" in price_data:
        raise resource_missing(
            "product", str(price_data["product"]), child(prefix, "product"), status=400
        )
    unit_amount = read_amount(
        require(price_data, "unit_amount", prefix), child(prefix, "unit_amount")
    )
    check_minor_unit_rounding(unit_amount, currency, child(prefix, "unit_amount"))
    product_prefix = child(prefix, "product_data")
    product_data = read_dict(require(price_data, "product_data", prefix), product_prefix)
    reject_unknown(product_data, PRODUCT_DATA_PARAMS, product_prefix)
    name = read_str(
        require(product_data, "name", product_prefix),
        child(product_prefix, "name"),
        empty_ok=False,
    )
    if "description" in product_data:
        read_str(product_data["description"], child(product_prefix, "description"))
    if "metadata" in product_data:
        merge_metadata({}, product_data["metadata"], child(product_prefix, "metadata"))
    price = {
        "id": new_id("price"),
        "object": "price",
        # Inline prices made from price_data are not reusable, so Stripe shows them inactive
        # (UNCONFIRMED).
        "active": False,
        "billing_scheme": "per_unit",
        "created": int(now),
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": None,
        "product": new_id("prod", 14),
        "recurring": None,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }
    return price, name

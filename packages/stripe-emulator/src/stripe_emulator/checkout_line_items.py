"""Checkout Session line items: building ``item`` objects from ``price_data`` and applying the
whole-array update semantics of ``POST /v1/checkout/sessions/{id}``.

Every function here returns new dicts and never mutates its inputs, so a refused update leaves
the stored session untouched. A stored item carries, besides Stripe's fields, private keys
(``_tax_code``, ``_tax_rates``) that :func:`render_item` leaves out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .checkout_prices import build_price
from .errors import invalid_param, resource_missing
from .ids import new_id
from .metadata import merge_metadata
from .params import (
    child,
    read_bool,
    read_dict,
    read_int,
    read_list,
    read_str,
    reject_unknown,
    require,
)

MAX_LINE_ITEMS = 100  # payment mode; applied to updates too (UNCONFIRMED, strict)
MAX_QUANTITY = 999_999
# adjustable_quantity defaults: "By default this value is 99" / "By default this value is 0".
DEFAULT_MAXIMUM = 99
DEFAULT_MINIMUM = 0

NEW_ITEM_PARAMS = (
    "price",
    "price_data",
    "quantity",
    "metadata",
    "adjustable_quantity",
    "tax_rates",
)
EXISTING_ITEM_PARAMS = ("id", *NEW_ITEM_PARAMS)


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


def build_new_item(
    entry: dict[str, Any], prefix: str, now: float, *, update: bool = False
) -> dict[str, Any]:
    """A new line item (and its inline Price) from ``{price_data, quantity, ...}``."""
    reject_unknown(entry, NEW_ITEM_PARAMS, prefix)
    if "price" in entry:
        # Only inline `price_data` is emulated; a Price id can never exist here.
        raise resource_missing("price", str(entry["price"]), child(prefix, "price"), status=400)
    price_data = read_dict(require(entry, "price_data", prefix), child(prefix, "price_data"))
    quantity = read_quantity(require(entry, "quantity", prefix), child(prefix, "quantity"))
    price, product = build_price(price_data, child(prefix, "price_data"), now)
    item = {
        "id": new_id("li"),
        "object": "item",
        "adjustable_quantity": None,
        "amount_discount": 0,
        "amount_subtotal": 0,
        "amount_tax": 0,
        "amount_total": 0,
        "currency": price["currency"],
        "description": product["name"],
        "metadata": _item_metadata({}, entry, prefix),
        "price": price,
        "quantity": quantity,
        "_tax_code": product["tax_code"],
        "_tax_rates": [],
    }
    _apply_options(item, entry, prefix, clearable=update)
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
            item = build_new_item(entry, prefix, now, update=True)
            check_currency(item, currency, child(prefix, "price_data"))
            result.append(item)
            continue
        reject_unknown(entry, EXISTING_ITEM_PARAMS, prefix)
        item_id = read_str(entry["id"], child(prefix, "id"))
        if item_id in kept:
            raise invalid_param(
                f"Line item '{item_id}' appears more than once in line_items.",
                child(prefix, "id"),
            )
        if item_id not in existing:
            raise resource_missing("line item", item_id, child(prefix, "id"), status=400)
        kept.add(item_id)
        result.append(_updated_existing(existing[item_id], entry, prefix, currency, now))
    return result


def _updated_existing(
    item: dict[str, Any], entry: dict[str, Any], prefix: str, currency: str, now: float
) -> dict[str, Any]:
    updated = dict(item)
    if "price" in entry:
        raise resource_missing("price", str(entry["price"]), child(prefix, "price"), status=400)
    if "price_data" in entry:
        # The spec: "To update an existing line item, specify its id along with the new values
        # of the fields to update", and price_data is one of those fields. So the line keeps its
        # id and gets a new inline Price (new price id, new product name as its description).
        # Documented, not seen live (UNCONFIRMED).
        price_prefix = child(prefix, "price_data")
        price, product = build_price(
            read_dict(entry["price_data"], price_prefix), price_prefix, now
        )
        updated.update(
            price=price,
            currency=price["currency"],
            description=product["name"],
            _tax_code=product["tax_code"],
        )
        check_currency(updated, currency, price_prefix)
    if "quantity" in entry:
        updated["quantity"] = read_quantity(entry["quantity"], child(prefix, "quantity"))
    if "metadata" in entry:
        updated["metadata"] = _item_metadata(item["metadata"], entry, prefix)
    _apply_options(updated, entry, prefix, clearable=True)
    return with_amounts(updated)


def _apply_options(
    item: dict[str, Any], entry: dict[str, Any], prefix: str, *, clearable: bool
) -> None:
    """``adjustable_quantity`` and ``tax_rates`` (``""`` clears them on update), then the
    quantity's bounds."""
    if "adjustable_quantity" in entry:
        item["adjustable_quantity"] = _read_adjustable_quantity(
            entry["adjustable_quantity"], child(prefix, "adjustable_quantity")
        )
    if "tax_rates" in entry:
        item["_tax_rates"] = _read_tax_rates(
            entry["tax_rates"], child(prefix, "tax_rates"), clearable=clearable
        )
    bounds = item["adjustable_quantity"]
    # "When using adjustable quantities with a line_items.quantity value greater than 99 (the
    # default adjustable maximum), set adjustable_quantity.maximum to be greater than or equal
    # to that item's quantity." The refusal's shape is UNCONFIRMED; a quantity under the
    # minimum is refused the same way (strict).
    if bounds and bounds["enabled"]:  # noqa: SIM102 (the comment is about the inner check)
        if not bounds["minimum"] <= item["quantity"] <= bounds["maximum"]:
            raise invalid_param(
                f"The quantity ({item['quantity']}) must be between adjustable_quantity's "
                f"minimum ({bounds['minimum']}) and maximum ({bounds['maximum']}).",
                child(prefix, "quantity"),
            )


def _read_adjustable_quantity(raw: Any, prefix: str) -> dict[str, Any]:
    config = read_dict(raw, prefix)
    reject_unknown(config, ("enabled", "maximum", "minimum"), prefix)
    enabled = read_bool(require(config, "enabled", prefix), child(prefix, "enabled"))
    if not enabled:
        # "Setting to false will remove any previously specified constraints on quantity."
        # Whether Stripe then shows this object or null is UNCONFIRMED.
        return {"enabled": False, "maximum": None, "minimum": None}
    maximum = DEFAULT_MAXIMUM
    if "maximum" in config:
        maximum = read_int(
            config["maximum"], child(prefix, "maximum"), minimum=1, maximum=MAX_QUANTITY
        )
    minimum = DEFAULT_MINIMUM
    if "minimum" in config:
        minimum = read_int(
            config["minimum"], child(prefix, "minimum"), minimum=0, maximum=MAX_QUANTITY
        )
    if minimum > maximum:
        raise invalid_param(
            f"adjustable_quantity's minimum ({minimum}) cannot exceed its maximum ({maximum}).",
            child(prefix, "minimum"),
        )
    return {"enabled": True, "maximum": maximum, "minimum": minimum}


def _read_tax_rates(raw: Any, prefix: str, *, clearable: bool) -> list[str]:
    if raw == "" and clearable:
        return []
    rates = [
        read_str(value, child(prefix, i), max_length=5000, empty_ok=False)
        for i, value in enumerate(read_list(raw, prefix))
    ]
    for index, rate in enumerate(rates):
        # No TaxRate objects exist in the emulator: any txr_ id is taken as an existing rate
        # (as any pm_ id is a working card); tax amounts are not computed from them yet.
        if not rate.startswith("txr_"):
            raise resource_missing("tax_rate", rate, child(prefix, index), status=400)
    return rates


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
    # No discounts are emulated; the tax (and the total with it) is set from the session's
    # address by checkout_shipping.recompute_totals (sandbox rates, .sandbox_tax).
    item["amount_tax"] = 0
    item["amount_total"] = subtotal
    return item


def render_item(item: dict[str, Any]) -> dict[str, Any]:
    """The item as Stripe shows it (without the emulator's private keys)."""
    return {key: value for key, value in item.items() if not key.startswith("_")}


def render_items(items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [render_item(item) for item in items]


def _item_metadata(current: dict[str, str], entry: dict[str, Any], prefix: str) -> dict[str, str]:
    if "metadata" not in entry:
        return dict(current)
    return merge_metadata(current, entry["metadata"], child(prefix, "metadata"))

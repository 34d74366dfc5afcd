"""Inline Prices made from a Checkout Session line item's ``price_data`` (create and update).

Only ``price_data`` with ``product_data`` is emulated: no Price or Product objects exist, so a
``price`` or ``price_data[product]`` id is refused as missing.
"""

from __future__ import annotations

from typing import Any

from .currencies import check_minor_unit_rounding, read_currency
from .errors import resource_missing
from .ids import new_id
from .metadata import merge_metadata
from .params import (
    child,
    read_amount,
    read_dict,
    read_enum,
    read_str,
    reject_unknown,
    require,
)

PRICE_DATA_PARAMS = ("currency", "unit_amount", "product", "product_data", "tax_behavior")
PRODUCT_DATA_PARAMS = ("name", "description", "metadata", "tax_code")
TAX_BEHAVIORS = ("exclusive", "inclusive", "unspecified")


def build_price(
    price_data: dict[str, Any], prefix: str, now: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The inline Price, and what the emulator keeps of its product (name and tax code)."""
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
    tax_behavior = "unspecified"
    if "tax_behavior" in price_data:
        tax_behavior = read_enum(
            price_data["tax_behavior"], child(prefix, "tax_behavior"), TAX_BEHAVIORS
        )
    product = _read_product_data(price_data, prefix)
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
        "tax_behavior": tax_behavior,
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }
    return price, product


def _read_product_data(price_data: dict[str, Any], prefix: str) -> dict[str, Any]:
    product_prefix = child(prefix, "product_data")
    product_data = read_dict(require(price_data, "product_data", prefix), product_prefix)
    reject_unknown(product_data, PRODUCT_DATA_PARAMS, product_prefix)
    name = read_str(
        require(product_data, "name", product_prefix),
        child(product_prefix, "name"),
        max_length=5000,
        empty_ok=False,
    )
    if "description" in product_data:
        read_str(
            product_data["description"], child(product_prefix, "description"), max_length=40000
        )
    if "metadata" in product_data:
        merge_metadata({}, product_data["metadata"], child(product_prefix, "metadata"))
    tax_code = None
    if "tax_code" in product_data:
        # Any string is taken; Stripe checks it against its tax code list (txcd_...), which the
        # emulator does not have.
        tax_code = read_str(
            product_data["tax_code"],
            child(product_prefix, "tax_code"),
            max_length=5000,
            empty_ok=False,
        )
    return {"name": name, "tax_code": tax_code}

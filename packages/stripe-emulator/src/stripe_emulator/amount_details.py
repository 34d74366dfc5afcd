"""PaymentIntent ``amount_details`` (payment line items): parsing, merge, arithmetic checks.

Rules from stripe-python 16.1.0's PaymentIntent params and
docs.stripe.com/payments/payment-line-items. The arithmetic Stripe enforces,
whenever line items are present:

    amount == sum(unit_cost * quantity - line discount_amount + line tax) + shipping.amount
              - discount_amount + tax.total_tax_amount
"""

from __future__ import annotations

from typing import Any

from .errors import invalid_param, parameters_exclusive
from .ids import new_id
from .lists import first_page
from .params import (
    child,
    read_amount,
    read_bool,
    read_dict,
    read_int,
    read_list,
    read_str,
    reject_unknown,
    require,
)

PARAM = "amount_details"
DETAIL_FIELDS = ("line_items", "shipping", "discount_amount", "tax")
MAX_LINE_ITEMS = 200
LINE_ITEM_PARAMS = (
    "product_name",
    "product_code",
    "quantity",
    "unit_cost",
    "discount_amount",
    "tax",
    "unit_of_measure",
    "payment_method_options",
)
MISMATCH = "amount_details_amount_mismatch"
EXTRAS_TOO_LARGE = "amount_details_tax_shipping_discount_greater_than_amount"


def merge_amount_details(current: dict[str, Any], raw: Any) -> tuple[dict[str, Any], bool]:
    """Apply an ``amount_details`` parameter to the stored details.

    Returns the new details and whether arithmetic validation is enforced for this request.
    ``amount_details=""`` clears everything; a sub-field set to ``""`` is unset; a sub-field
    sent again replaces the stored one (``line_items`` as a whole array).
    """
    if raw == "":
        return {}, True
    details_in = read_dict(raw, PARAM)
    reject_unknown(details_in, (*DETAIL_FIELDS, "enforce_arithmetic_validation"), PARAM)
    enforce = True
    if "enforce_arithmetic_validation" in details_in:
        enforce = read_bool(
            details_in["enforce_arithmetic_validation"],
            child(PARAM, "enforce_arithmetic_validation"),
        )
    merged = {key: value for key, value in current.items() if key != "error"}
    for field in DETAIL_FIELDS:
        if field not in details_in:
            continue
        value = details_in[field]
        if value == "":
            merged.pop(field, None)
        else:
            merged[field] = _READERS[field](value, child(PARAM, field))
    _check_exclusive(merged)
    return merged, enforce


def check_arithmetic(details: dict[str, Any], amount: int, *, enforce: bool) -> None:
    """Validate ``details`` against ``amount``: raise (enforced) or record ``details["error"]``."""
    details.pop("error", None)
    problem = _arithmetic_problem(details, amount)
    if problem is None:
        return
    code, message = problem
    if enforce:
        raise invalid_param(message, PARAM, code)
    details["error"] = {"code": code, "message": message}


def render_amount_details(intent: dict[str, Any], expand: set[str]) -> dict[str, Any]:
    stored = intent["amount_details"]
    body = {key: value for key, value in stored.items() if key != "line_items"}
    body["tip"] = {}
    if "amount_details.line_items" in expand:
        body["line_items"] = first_page(stored.get("line_items", []), line_items_url(intent))
    return body


def line_items_url(intent: dict[str, Any]) -> str:
    return f"/v1/payment_intents/{intent['id']}/amount_details_line_items"


def _arithmetic_problem(details: dict[str, Any], amount: int) -> tuple[str, str] | None:
    shipping = (details.get("shipping") or {}).get("amount") or 0
    discount = details.get("discount_amount", 0)
    tax = details.get("tax", {}).get("total_tax_amount", 0)
    if "line_items" not in details:
        # Without line items there is nothing to add up; Stripe's second documented error code
        # covers extras exceeding the amount (its exact trigger is UNCONFIRMED).
        if shipping + discount + tax > amount:
            return (
                EXTRAS_TOO_LARGE,
                f"The sum of tax, shipping and discount in `amount_details` "
                f"({shipping + discount + tax}) is greater than the `amount` ({amount}).",
            )
        return None
    total = sum(
        line["unit_cost"] * line["quantity"]
        - (line["discount_amount"] or 0)
        + ((line["tax"] or {}).get("total_tax_amount", 0))
        for line in details["line_items"]
    )
    total += shipping - discount + tax
    if total == amount:
        return None
    return (
        MISMATCH,
        f"The total value of `amount_details` ({total}) does not match the `amount` ({amount}). "
        "Make sure that the total value of `line_items` matches the amount to charge, taking "
        "into account any discounts, tax, and shipping.",
    )


def _check_exclusive(details: dict[str, Any]) -> None:
    lines = details.get("line_items", [])
    if "discount_amount" in details and any(line["discount_amount"] for line in lines):
        raise parameters_exclusive(
            child(PARAM, "discount_amount"),
            ["amount_details[discount_amount]", "amount_details[line_items][#][discount_amount]"],
        )
    if "tax" in details and any(line["tax"] for line in lines):
        raise parameters_exclusive(
            child(PARAM, "tax"), ["amount_details[tax]", "amount_details[line_items][#][tax]"]
        )


def _read_line_items(raw: Any, param: str) -> list[dict[str, Any]]:
    entries = read_list(raw, param)
    if len(entries) > MAX_LINE_ITEMS:
        raise invalid_param(
            f"You can pass at most {MAX_LINE_ITEMS} line items; you passed {len(entries)}.", param
        )
    return [_read_line_item(entry, child(param, i)) for i, entry in enumerate(entries)]


def _read_line_item(raw: Any, prefix: str) -> dict[str, Any]:
    entry = read_dict(raw, prefix)
    reject_unknown(entry, LINE_ITEM_PARAMS, prefix)
    line: dict[str, Any] = {
        "id": new_id("uli"),
        "object": "payment_intent_amount_details_line_item",
        "discount_amount": None,
        "payment_method_options": None,
        "product_code": _optional_str(entry, "product_code", prefix, 12),
        "product_name": read_str(
            require(entry, "product_name", prefix),
            child(prefix, "product_name"),
            max_length=1024,
            empty_ok=False,
        ),
        "quantity": read_int(
            require(entry, "quantity", prefix), child(prefix, "quantity"), minimum=1
        ),
        "tax": None,
        "unit_cost": read_amount(require(entry, "unit_cost", prefix), child(prefix, "unit_cost")),
        "unit_of_measure": _optional_str(entry, "unit_of_measure", prefix, 12),
    }
    if "discount_amount" in entry:
        line["discount_amount"] = read_int(
            entry["discount_amount"], child(prefix, "discount_amount"), minimum=1
        )
    if "tax" in entry:
        line["tax"] = _read_tax(entry["tax"], child(prefix, "tax"))
    if "payment_method_options" in entry:
        line["payment_method_options"] = read_dict(
            entry["payment_method_options"], child(prefix, "payment_method_options")
        )
    return line


def _read_shipping(raw: Any, param: str) -> dict[str, Any]:
    shipping = read_dict(raw, param)
    reject_unknown(shipping, ("amount", "from_postal_code", "to_postal_code"), param)
    return {
        "amount": read_amount(shipping["amount"], child(param, "amount"))
        if "amount" in shipping
        else None,
        "from_postal_code": _optional_str(shipping, "from_postal_code", param, 10),
        "to_postal_code": _optional_str(shipping, "to_postal_code", param, 10),
    }


def _read_tax(raw: Any, param: str) -> dict[str, Any]:
    tax = read_dict(raw, param)
    reject_unknown(tax, ("total_tax_amount",), param)
    amount = read_amount(require(tax, "total_tax_amount", param), child(param, "total_tax_amount"))
    return {"total_tax_amount": amount}


def _read_discount(raw: Any, param: str) -> int:
    return read_int(raw, param, minimum=1)


def _optional_str(entry: dict[str, Any], name: str, prefix: str, max_length: int) -> str | None:
    if name not in entry:
        return None
    return read_str(entry[name], child(prefix, name), max_length=max_length)


_READERS = {
    "line_items": _read_line_items,
    "shipping": _read_shipping,
    "discount_amount": _read_discount,
    "tax": _read_tax,
}

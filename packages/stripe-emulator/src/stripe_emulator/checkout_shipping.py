"""Checkout Session shipping and totals: ``shipping_options`` (create and update),
``collected_information`` (update), and the totals and automatic-tax status they drive.

A ``shipping_rate_data`` option becomes a ShippingRate (``shr_...``) kept in the emulator's
state, so a later ``shipping_options[][shipping_rate]`` may name it. With ``automatic_tax`` on,
the status waits for a shipping address, then reports ``complete`` with the tax computed at the
emulator's sandbox rates (:mod:`.sandbox_tax`: a fixed table per country, not Stripe Tax).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import sandbox_tax
from .checkout_prices import TAX_BEHAVIORS
from .currencies import MINIMUM_CHARGE, format_minor, read_currency
from .errors import invalid_param, parameters_exclusive, resource_missing
from .ids import new_id
from .metadata import merge_metadata
from .params import (
    MAX_AMOUNT,
    child,
    read_amount,
    read_dict,
    read_enum,
    read_int,
    read_list,
    read_str,
    reject_unknown,
    require,
)

MAX_SHIPPING_OPTIONS = 5
RATE_DATA_PARAMS = (
    "display_name",
    "fixed_amount",
    "type",
    "metadata",
    "delivery_estimate",
    "tax_behavior",
    "tax_code",
)
DELIVERY_UNITS = ("business_day", "day", "hour", "month", "week")
ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")


def read_shipping_options(
    raw: Any, currency: str, now: float, known: Mapping[str, dict[str, Any]], *, clearable: bool
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The session's ``shipping_options`` and the ShippingRates made for them (to be stored
    once the whole request is accepted). ``""`` clears the options on update."""
    if raw == "" and clearable:
        return [], {}
    entries = read_list(raw, "shipping_options")
    if len(entries) > MAX_SHIPPING_OPTIONS:
        raise invalid_param(
            f"You can pass at most {MAX_SHIPPING_OPTIONS} shipping_options.", "shipping_options"
        )
    options: list[dict[str, Any]] = []
    made: dict[str, dict[str, Any]] = {}
    for index, entry in enumerate(entries):
        rate = _read_option(entry, child("shipping_options", index), currency, now, known)
        if rate["id"] not in known:
            made[rate["id"]] = rate
        options.append(
            {"shipping_amount": rate["fixed_amount"]["amount"], "shipping_rate": rate["id"]}
        )
    return options, made


def _read_option(
    raw: Any, prefix: str, currency: str, now: float, known: Mapping[str, dict[str, Any]]
) -> dict[str, Any]:
    entry = read_dict(raw, prefix)
    reject_unknown(entry, ("shipping_rate", "shipping_rate_data"), prefix)
    if "shipping_rate" in entry and "shipping_rate_data" in entry:
        raise parameters_exclusive(prefix, ["shipping_rate", "shipping_rate_data"])
    if "shipping_rate" in entry:
        rate_id = read_str(entry["shipping_rate"], child(prefix, "shipping_rate"))
        if rate_id not in known:
            raise resource_missing(
                "shipping_rate", rate_id, child(prefix, "shipping_rate"), status=400
            )
        rate = known[rate_id]
        amount_param = child(prefix, "shipping_rate")
    else:
        data_prefix = child(prefix, "shipping_rate_data")
        rate = _read_rate_data(require(entry, "shipping_rate_data", prefix), data_prefix, now)
        amount_param = child(child(data_prefix, "fixed_amount"), "currency")
    rate_currency = rate["fixed_amount"]["currency"]
    if rate_currency != currency:
        raise invalid_param(
            f"The shipping rate currency ({rate_currency}) must match the Checkout Session "
            f"currency ({currency}).",
            amount_param,
        )
    return rate


def _read_rate_data(raw: Any, prefix: str, now: float) -> dict[str, Any]:
    data = read_dict(raw, prefix)
    reject_unknown(data, RATE_DATA_PARAMS, prefix)
    display_name = read_str(
        require(data, "display_name", prefix),
        child(prefix, "display_name"),
        max_length=100,
        empty_ok=False,
    )
    if "type" in data:
        read_enum(data["type"], child(prefix, "type"), ("fixed_amount",))
    amount_prefix = child(prefix, "fixed_amount")
    fixed = read_dict(require(data, "fixed_amount", prefix), amount_prefix)
    # currency_options (prices in other currencies) is not emulated.
    reject_unknown(fixed, ("amount", "currency"), amount_prefix)
    amount = read_amount(require(fixed, "amount", amount_prefix), child(amount_prefix, "amount"))
    currency = read_currency(
        require(fixed, "currency", amount_prefix), child(amount_prefix, "currency")
    )
    tax_behavior = "unspecified"
    if "tax_behavior" in data:
        tax_behavior = read_enum(data["tax_behavior"], child(prefix, "tax_behavior"), TAX_BEHAVIORS)
    tax_code = None
    if "tax_code" in data:
        tax_code = read_str(data["tax_code"], child(prefix, "tax_code"), empty_ok=False)
    estimate = None
    if "delivery_estimate" in data:
        estimate = _read_delivery_estimate(
            data["delivery_estimate"], child(prefix, "delivery_estimate")
        )
    return {
        "id": new_id("shr"),
        "object": "shipping_rate",
        "active": True,
        "created": int(now),
        "delivery_estimate": estimate,
        "display_name": display_name,
        "fixed_amount": {"amount": amount, "currency": currency},
        "livemode": False,
        "metadata": merge_metadata({}, data.get("metadata", {}), child(prefix, "metadata")),
        "tax_behavior": tax_behavior,
        "tax_code": tax_code,
        "type": "fixed_amount",
    }


def _read_delivery_estimate(raw: Any, prefix: str) -> dict[str, Any]:
    estimate = read_dict(raw, prefix)
    reject_unknown(estimate, ("maximum", "minimum"), prefix)
    result: dict[str, Any] = {"maximum": None, "minimum": None}
    for bound in ("maximum", "minimum"):
        if bound not in estimate:
            continue
        bound_prefix = child(prefix, bound)
        value = read_dict(estimate[bound], bound_prefix)
        reject_unknown(value, ("unit", "value"), bound_prefix)
        result[bound] = {
            "unit": read_enum(
                require(value, "unit", bound_prefix), child(bound_prefix, "unit"), DELIVERY_UNITS
            ),
            # "Must be greater than 0."
            "value": read_int(
                require(value, "value", bound_prefix), child(bound_prefix, "value"), minimum=1
            ),
        }
    return result


def read_collected_information(raw: Any) -> dict[str, Any]:
    info = read_dict(raw, "collected_information")
    reject_unknown(info, ("shipping_details",), "collected_information")
    prefix = "collected_information[shipping_details]"
    details = read_dict(require(info, "shipping_details", "collected_information"), prefix)
    reject_unknown(details, ("name", "address"), prefix)
    name = read_str(
        require(details, "name", prefix), child(prefix, "name"), max_length=255, empty_ok=False
    )
    address_prefix = child(prefix, "address")
    address_in = read_dict(require(details, "address", prefix), address_prefix)
    reject_unknown(address_in, ADDRESS_FIELDS, address_prefix)
    for required in ("country", "line1"):
        require(address_in, required, address_prefix)
    # Whether Stripe checks the country against shipping_address_collection's
    # allowed_countries here is UNCONFIRMED; the emulator does not.
    address = {
        field: read_str(address_in[field], child(address_prefix, field), max_length=5000)
        if field in address_in
        else None
        for field in ADDRESS_FIELDS
    }
    return {
        "business_name": None,
        "individual_name": None,
        "shipping_details": {"address": address, "name": name},
    }


def recompute_totals(session: dict[str, Any], rates: Mapping[str, dict[str, Any]]) -> None:
    """Line item taxes, totals, shipping cost and automatic-tax status from the items, the
    shipping options (their ShippingRates in `rates`) and the collected address. Replaces
    ``session["line_items"]`` with new dicts: the stored ones are never changed in place."""
    currency = session["currency"]
    country = sandbox_tax.destination(session)
    rate = sandbox_tax.rate_for(country)
    items, items_tax = sandbox_tax.tax_items(session["line_items"], rate, currency)
    session["line_items"] = items
    subtotal = sum(item["amount_subtotal"] for item in items)
    options = session["shipping_options"]
    # Which option is selected after shipping_options is replaced is UNCONFIRMED:
    # the emulator selects the first one.
    shipping = options[0]["shipping_amount"] if options else 0
    shipping_tax = sandbox_tax.NO_TAX
    if options:
        behavior = rates[options[0]["shipping_rate"]]["tax_behavior"]
        shipping_tax = sandbox_tax.tax_on(shipping, behavior, rate, currency)
    session["shipping_cost"] = (
        {
            "amount_subtotal": shipping,
            "amount_tax": shipping_tax.amount,
            "amount_total": shipping + shipping_tax.added,
            "shipping_rate": options[0]["shipping_rate"],
        }
        if options
        else None
    )
    if session["automatic_tax"]["enabled"]:
        located = bool((session["collected_information"] or {}).get("shipping_details"))
        session["automatic_tax"] = {
            **session["automatic_tax"],
            "status": "complete" if located else "requires_location_inputs",
        }
    total = subtotal + shipping + items_tax.added + shipping_tax.added
    _check_total(total, currency)
    session["amount_subtotal"] = subtotal
    session["amount_total"] = total
    session["total_details"] = {
        "amount_discount": 0,
        "amount_shipping": shipping,
        "amount_tax": items_tax.amount + shipping_tax.amount,
    }


def _check_total(total: int, currency: str) -> None:
    # Stripe refuses payment-mode sessions whose total is under the currency's minimum charge
    # ("The Checkout Session's total amount due must add up to at least ..."); the code and
    # whether updates are checked too are UNCONFIRMED: the emulator checks both, strictly.
    minimum = MINIMUM_CHARGE.get(currency, 1)
    if total < minimum:
        raise invalid_param(
            "The Checkout Session's total amount due must add up to at least "
            f"{format_minor(minimum, currency)}",
            "line_items",
            "amount_too_small",
        )
    if total > MAX_AMOUNT:
        raise invalid_param(
            "The Checkout Session's total amount due must be no more than "
            f"{format_minor(MAX_AMOUNT, currency)}",
            "line_items",
            "amount_too_large",
        )

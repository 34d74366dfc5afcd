"""Checkout Session parameters in Stripe's shapes: line items, shipping options, the shipping
address and the creation options. Plain data in, the nested params stripe-python encodes out."""

from __future__ import annotations

from typing import Any

from amount_updater.stripe_gateway.models import (
    LineWrite,
    NewLine,
    SessionOptions,
    ShippingAddress,
    ShippingOption,
)


def new_line(currency: str, line: NewLine) -> dict[str, Any]:
    product: dict[str, Any] = {"name": line.name}
    price: dict[str, Any] = {"currency": currency, "product_data": product}
    if line.tax.tax_code is not None:
        product["tax_code"] = line.tax.tax_code
    if line.tax.tax_behavior is not None:
        price["tax_behavior"] = line.tax.tax_behavior
    price["unit_amount"] = line.unit_amount
    return {"price_data": price, "quantity": line.quantity, "metadata": dict(line.metadata)}


def shipping_options_param(currency: str, option: ShippingOption | None) -> list[Any] | str:
    """`shipping_options`: the one rate offered, or "" (Stripe's way to clear the list)."""
    if option is None:
        return ""
    rate: dict[str, Any] = {
        "display_name": option.name,
        "type": "fixed_amount",
        "fixed_amount": {"amount": option.amount, "currency": currency},
    }
    if option.tax.tax_behavior is not None:
        rate["tax_behavior"] = option.tax.tax_behavior
    if option.tax.tax_code is not None:
        rate["tax_code"] = option.tax.tax_code
    if option.delivery_estimate is not None:
        minimum, maximum, unit = option.delivery_estimate
        rate["delivery_estimate"] = {
            "minimum": {"unit": unit, "value": minimum},
            "maximum": {"unit": unit, "value": maximum},
        }
    return [{"shipping_rate_data": rate}]


def shipping_details_param(address: ShippingAddress) -> dict[str, Any]:
    """`collected_information[shipping_details]`: name and address, unset parts left out."""
    parts = {
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "state": address.state,
        "postal_code": address.postal_code,
        "country": address.country,
    }
    return {
        "name": address.name,
        "address": {key: value for key, value in parts.items() if value is not None},
    }


def session_options(options: SessionOptions) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if options.automatic_tax:
        params["automatic_tax"] = {"enabled": True}
    if options.shipping_countries:
        params["shipping_address_collection"] = {
            "allowed_countries": list(options.shipping_countries)
        }
        # The address reaches Stripe through the service (which offers the rates that serve
        # it), not from the browser.
        params["permissions"] = {"update_shipping_details": "server_only"}
    for name in ("customer", "customer_email", "client_reference_id", "locale"):
        value = getattr(options, name)
        if value is not None:
            params[name] = value
    return params


def line_write(currency: str, line: LineWrite) -> dict[str, Any]:
    if isinstance(line, NewLine):
        return new_line(currency, line)
    if line.quantity is None:
        return {"id": line.id}
    return {"id": line.id, "quantity": line.quantity}

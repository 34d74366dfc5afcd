"""Stripe-shaped JSON for wire-level tests, following Stripe's own example objects
(fixtures3.json `checkout.session` and `item`), trimmed to the fields that matter here."""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import parse_qsl

_ids = itertools.count(1)
NOW = 1_800_000_000  # the frozen clock of the API tests (2027-01-15)


def line_item(
    *,
    description: str,
    unit_amount: int,
    quantity: int = 1,
    currency: str = "usd",
    metadata: dict[str, str] | None = None,
    id: str | None = None,
) -> dict[str, Any]:
    n = next(_ids)
    return {
        "id": id or f"li_test{n:06d}",
        "object": "item",
        "amount_discount": 0,
        "amount_subtotal": unit_amount * quantity,
        "amount_tax": 0,
        "amount_total": unit_amount * quantity,
        "currency": currency,
        "description": description,
        "metadata": metadata or {},
        "price": {
            "id": f"price_test{n:06d}",
            "object": "price",
            "active": True,
            "billing_scheme": "per_unit",
            "currency": currency,
            "product": f"prod_test{n:06d}",
            "type": "one_time",
            "unit_amount": unit_amount,
            "unit_amount_decimal": str(unit_amount),
        },
        "quantity": quantity,
        "adjustable_quantity": None,
    }


def product_line(product_id: str, name: str, unit_amount: int, quantity: int = 1, **kw: Any):
    return line_item(
        description=name,
        unit_amount=unit_amount,
        quantity=quantity,
        metadata={"product_id": product_id},
        **kw,
    )


def checkout_session(
    *,
    id: str = "cs_test_a1",
    status: str = "open",
    currency: str = "usd",
    line_items: list[dict[str, Any]] | None = None,
    expires_at: int = NOW + 3600,
    metadata: dict[str, str] | None = None,
    ui_mode: str = "elements",
    mode: str = "payment",
    page_size: int = 10,
) -> dict[str, Any]:
    items = line_items or []
    total = sum(item["amount_subtotal"] for item in items)
    return {
        "id": id,
        "object": "checkout.session",
        "amount_subtotal": total,
        "amount_total": total,
        "client_secret": f"{id}_secret_test",
        "created": NOW - 60,
        "currency": currency,
        "expires_at": expires_at,
        "livemode": False,
        "metadata": metadata or {},
        "mode": mode,
        "payment_intent": None,
        "payment_status": "unpaid",
        "status": status,
        "ui_mode": ui_mode,
        "url": None,
        "line_items": {
            "object": "list",
            "data": items[:page_size],
            "has_more": len(items) > page_size,
            "url": f"/v1/checkout/sessions/{id}/line_items",
        },
    }


def stripe_error(code: str, message: str, type: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"type": type, "code": code, "message": message}}


def form(content: bytes) -> dict[str, str]:
    """A Stripe form body as a flat dict of bracket keys: {"line_items[0][id]": "li_1", ...}."""
    return dict(parse_qsl(content.decode(), keep_blank_values=True))


def line_items_sent(content: bytes) -> list[dict[str, str]]:
    """The retransmitted line-item array of an update body, one flat dict per entry."""
    flat = form(content)
    entries: dict[int, dict[str, str]] = {}
    for key, value in flat.items():
        if key.startswith("line_items["):
            index, _, rest = key[len("line_items[") :].partition("]")
            entries.setdefault(int(index), {})[rest] = value
    return [entries[i] for i in sorted(entries)]


def payment_intent(
    *,
    id: str = "pi_test_a1",
    amount: int = 2500,
    currency: str = "usd",
    status: str = "requires_payment_method",
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Shaped like fixtures3.json `payment_intent`, trimmed."""
    return {
        "id": id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "automatic_payment_methods": {"enabled": True},
        "capture_method": "automatic",
        "client_secret": f"{id}_secret_test",
        "created": NOW - 60,
        "currency": currency,
        "livemode": False,
        "metadata": metadata or {},
        "status": status,
    }

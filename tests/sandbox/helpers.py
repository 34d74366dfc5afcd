"""Shared helpers for the emulator tests: a movable clock, form posting, error assertions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import httpx

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z

Fields = Mapping[str, str] | Sequence[tuple[str, str]]


class FakeClock:
    """A clock the tests move by hand (unix seconds, like time.time)."""

    def __init__(self, start: float = START) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def post(
    client: httpx.AsyncClient, path: str, fields: Fields = (), **headers: str
) -> httpx.Response:
    """POST a form body exactly as written (bracket keys and all)."""
    return await client.post(
        path,
        content=urlencode(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded", **_headers(headers)},
    )


def _headers(headers: Mapping[str, str]) -> dict[str, str]:
    # idempotency_key="k" -> Idempotency-Key: k
    return {
        "-".join(part.capitalize() for part in name.split("_")): v for name, v in headers.items()
    }


def item_fields(
    index: int,
    *,
    name: str = "T-shirt",
    unit_amount: int | str = 1000,
    quantity: int | str = 1,
    currency: str = "usd",
    sku: str | None = None,
) -> dict[str, str]:
    prefix = f"line_items[{index}]"
    fields = {
        f"{prefix}[price_data][currency]": currency,
        f"{prefix}[price_data][unit_amount]": str(unit_amount),
        f"{prefix}[price_data][product_data][name]": name,
        f"{prefix}[quantity]": str(quantity),
    }
    if sku is not None:
        fields[f"{prefix}[metadata][sku]"] = sku
    return fields


def session_fields(
    items: int = 1, *, ui_mode: str = "elements", unit_amount: int = 1000, **extra: str
) -> dict[str, str]:
    """A valid create-session body with ``items`` line items (sku-0, sku-1, ...)."""
    fields = {"mode": "payment", "ui_mode": ui_mode}
    if ui_mode in ("elements", "embedded_page", "form"):
        fields["return_url"] = "https://shop.example/return"
    for index in range(items):
        fields |= item_fields(
            index, name=f"Item {index}", unit_amount=unit_amount, sku=f"sku-{index}"
        )
    return fields | extra


async def create_session(client: httpx.AsyncClient, items: int = 1, **extra: str) -> dict[str, Any]:
    response = await post(client, "/v1/checkout/sessions", session_fields(items, **extra))
    assert response.status_code == 200, response.text
    return response.json()


async def create_intent(
    client: httpx.AsyncClient, amount: int = 2000, currency: str = "usd", **extra: str
) -> dict[str, Any]:
    fields = {"amount": str(amount), "currency": currency} | extra
    response = await post(client, "/v1/payment_intents", fields)
    assert response.status_code == 200, response.text
    return response.json()


def assert_error(
    response: httpx.Response,
    status: int,
    code: str | None,
    *,
    param: str | None = None,
    error_type: str = "invalid_request_error",
) -> dict[str, Any]:
    """Assert Stripe's error shape; ``code=None`` means Stripe sends no code for this case."""
    assert response.status_code == status, response.text
    assert response.headers["request-id"].startswith("req_")
    error = response.json()["error"]
    assert error["type"] == error_type
    assert error.get("code") == code
    if code is not None:
        assert error["doc_url"] == "https://docs.stripe.com/error-codes/" + code.replace("_", "-")
    if param is not None:
        assert error["param"] == param
    assert error["message"]
    return error

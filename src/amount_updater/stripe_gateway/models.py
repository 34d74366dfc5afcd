"""What the service reads from and writes to Stripe, parsed down to the fields it uses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class StripeLineItem:
    id: str
    description: str
    quantity: int
    unit_amount: int | None
    amount_subtotal: int
    metadata: Mapping[str, str]

    @classmethod
    def from_stripe(cls, data: Mapping[str, Any]) -> StripeLineItem:
        price = data.get("price") or {}
        return cls(
            id=data["id"],
            description=data.get("description") or "",
            quantity=int(data.get("quantity") or 0),
            unit_amount=price.get("unit_amount"),
            amount_subtotal=int(data.get("amount_subtotal") or 0),
            metadata=data.get("metadata") or {},
        )


@dataclass(frozen=True, slots=True)
class CheckoutSession:
    """A Checkout Session with every line item (all pages, not only the expanded first ones)."""

    id: str
    status: str
    currency: str
    expires_at: int
    ui_mode: str | None
    mode: str | None
    amount_subtotal: int
    amount_total: int
    metadata: Mapping[str, str]
    client_secret: str | None
    line_items: tuple[StripeLineItem, ...] = field(default=())

    @classmethod
    def from_stripe(
        cls, data: Mapping[str, Any], line_items: tuple[StripeLineItem, ...] = ()
    ) -> CheckoutSession:
        return cls(
            id=data["id"],
            status=data.get("status") or "",
            currency=(data.get("currency") or "").lower(),
            expires_at=int(data.get("expires_at") or 0),
            ui_mode=data.get("ui_mode"),
            mode=data.get("mode"),
            amount_subtotal=int(data.get("amount_subtotal") or 0),
            amount_total=int(data.get("amount_total") or 0),
            metadata=data.get("metadata") or {},
            client_secret=data.get("client_secret"),
            line_items=line_items,
        )


@dataclass(frozen=True, slots=True)
class UpdatedSession:
    """Stripe's answer to a session update: the totals it now holds."""

    id: str
    status: str
    amount_subtotal: int
    amount_total: int

    @classmethod
    def from_stripe(cls, data: Mapping[str, Any]) -> UpdatedSession:
        return cls(
            id=data["id"],
            status=data.get("status") or "",
            amount_subtotal=int(data.get("amount_subtotal") or 0),
            amount_total=int(data.get("amount_total") or 0),
        )


@dataclass(frozen=True, slots=True)
class PaymentIntent:
    id: str
    status: str
    currency: str
    amount: int
    metadata: Mapping[str, str]
    client_secret: str | None

    @classmethod
    def from_stripe(cls, data: Mapping[str, Any]) -> PaymentIntent:
        return cls(
            id=data["id"],
            status=data.get("status") or "",
            currency=(data.get("currency") or "").lower(),
            amount=int(data.get("amount") or 0),
            metadata=data.get("metadata") or {},
            client_secret=data.get("client_secret"),
        )


@dataclass(frozen=True, slots=True)
class KeepLine:
    """Retransmit an existing line item by id; with `quantity`, also change its quantity."""

    id: str
    quantity: int | None = None


@dataclass(frozen=True, slots=True)
class NewLine:
    """Add a line item priced inline (price_data), tagged with metadata."""

    name: str
    unit_amount: int
    quantity: int
    metadata: Mapping[str, str]


LineWrite = KeepLine | NewLine


@dataclass(frozen=True, slots=True)
class StripeWrite:
    """One POST to Stripe, complete enough to be sent again unchanged: same path, same
    parameters, same idempotency key (Stripe then replays it instead of applying it twice)."""

    operation: str  # for metrics and logs, e.g. "checkout.sessions.update"
    path: str
    params: Mapping[str, Any]
    idempotency_key: str
    what: str  # the object's name in error details, e.g. "checkout session"

    def dump(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "path": self.path,
            "params": self.params,
            "idempotency_key": self.idempotency_key,
            "what": self.what,
        }

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> StripeWrite:
        return cls(
            operation=str(data["operation"]),
            path=str(data["path"]),
            params=dict(data["params"]),
            idempotency_key=str(data["idempotency_key"]),
            what=str(data["what"]),
        )

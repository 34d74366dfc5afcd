"""What the service reads from and writes to Stripe, parsed down to the fields it uses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


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
    amount_tax: int = 0  # total_details.amount_tax: Stripe's tax, when it computes any
    amount_shipping: int = 0  # total_details.amount_shipping: the shipping option's amount
    tax_status: str | None = None  # automatic_tax.status; None without automatic tax
    # collected_information.shipping_details: {name, address: {line1, ..., country}} or None
    shipping_details: Mapping[str, Any] | None = None

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
            shipping_details=(data.get("collected_information") or {}).get("shipping_details"),
            tax_status=tax_status(data),
            **_totals(data),
        )


def tax_status(data: Mapping[str, Any]) -> str | None:
    """Stripe Tax's progress on a session: `requires_location_inputs` until it has an address
    to tax, then `complete` (or `failed`); None when automatic tax is off."""
    automatic = data.get("automatic_tax") or {}
    status = automatic.get("status") if automatic.get("enabled") else None
    return status if isinstance(status, str) else None


def _totals(data: Mapping[str, Any]) -> dict[str, int]:
    """Tax and shipping from a session's total_details (null before Stripe computes them)."""
    details = data.get("total_details") or {}
    return {
        "amount_tax": int(details.get("amount_tax") or 0),
        "amount_shipping": int(details.get("amount_shipping") or 0),
    }


@dataclass(frozen=True, slots=True)
class UpdatedSession:
    """Stripe's answer to a session update: the totals it now holds."""

    id: str
    status: str
    amount_subtotal: int
    amount_total: int
    amount_tax: int = 0
    amount_shipping: int = 0
    tax_status: str | None = None

    @classmethod
    def of(cls, session: CheckoutSession) -> UpdatedSession:
        return cls(
            session.id,
            session.status,
            session.amount_subtotal,
            session.amount_total,
            session.amount_tax,
            session.amount_shipping,
            session.tax_status,
        )

    @classmethod
    def from_stripe(cls, data: Mapping[str, Any]) -> UpdatedSession:
        return cls(
            id=data["id"],
            status=data.get("status") or "",
            amount_subtotal=int(data.get("amount_subtotal") or 0),
            amount_total=int(data.get("amount_total") or 0),
            tax_status=tax_status(data),
            **_totals(data),
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
class Taxability:
    """How Stripe Tax treats a price: its tax code and whether the amount includes tax (None:
    the account's defaults)."""

    tax_code: str | None = None
    tax_behavior: str | None = None


@dataclass(frozen=True, slots=True)
class NewLine:
    """Add a line item priced inline (price_data), tagged with metadata."""

    name: str
    unit_amount: int
    quantity: int
    metadata: Mapping[str, str]
    tax: Taxability = Taxability()


@dataclass(frozen=True, slots=True)
class ShippingOption:
    """The shipping rate offered on a session, priced inline (shipping_rate_data)."""

    name: str
    amount: int
    tax: Taxability = Taxability()
    delivery_estimate: tuple[int, int, str] | None = None  # minimum, maximum, unit


class ShippingAddress(Protocol):
    """The address the customer entered (collected_information[shipping_details])."""

    @property
    def name(self) -> str: ...
    @property
    def line1(self) -> str: ...
    @property
    def country(self) -> str: ...
    @property
    def line2(self) -> str | None: ...
    @property
    def city(self) -> str | None: ...
    @property
    def state(self) -> str | None: ...
    @property
    def postal_code(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """What a session is created with besides its cart: tax, address collection, customer."""

    automatic_tax: bool = False
    shipping_countries: tuple[str, ...] = ()  # non-empty: collect a shipping address
    customer: str | None = None
    customer_email: str | None = None
    client_reference_id: str | None = None
    locale: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


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

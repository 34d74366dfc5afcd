"""The cart as the service reads it off a Stripe object, and the view it answers with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from amount_updater.catalog.repository import CatalogRepository
from amount_updater.pricing import PricedCart, Selection
from amount_updater.pricing.selection import ShippingAddress
from amount_updater.service.request_history import read_history
from amount_updater.stripe_gateway import CheckoutSession, StripeLineItem

PRODUCT_KEY = "product_id"  # line-item metadata: a catalog product the service added
SHIPPING_KEY = "shipping_rate_id"  # line-item metadata: a shipping line of an older session
SHIPPING_RATE_KEY = "amount_updater_shipping"  # session metadata: the shipping option's rate
DISCOUNT_KEY = "amount_updater_discount"  # session metadata: the recorded discount code
REVISION_KEY = "amount_updater_rev"  # session metadata: bumped by every write of the service


class RecordedCart(Protocol):
    """The cart the service recorded on a Stripe object, as read back from it."""

    @property
    def selection(self) -> Selection: ...

    @property
    def other_subtotal(self) -> int: ...

    @property
    def revision(self) -> int: ...

    @property
    def history(self) -> tuple[str, ...]: ...

    @property
    def problem(self) -> str | None:
        """Why the recorded cart cannot be read (then `selection` is empty), or None."""
        ...


def read_revision(value: object) -> int:
    """The service's revision counter from metadata; 0 when missing or not a plain number."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 12:
        return int(value)
    return 0


@dataclass(frozen=True, slots=True)
class OtherItem:
    """A line item the service did not add: shown, counted, never changed."""

    line_item_id: str
    description: str
    quantity: int
    amount: int


@dataclass(frozen=True, slots=True)
class SessionCart:
    """A Checkout Session's line items sorted into the service's own and everybody else's."""

    selection: Selection
    all_lines: tuple[StripeLineItem, ...]  # in the session's order
    product_lines: tuple[StripeLineItem, ...]
    shipping_lines: tuple[StripeLineItem, ...]
    other_lines: tuple[StripeLineItem, ...]
    revision: int
    history: tuple[str, ...] = ()
    problem: str | None = None  # Stripe's own line items always read

    @property
    def other_items(self) -> tuple[OtherItem, ...]:
        return tuple(
            OtherItem(li.id, li.description, li.quantity, li.amount_subtotal)
            for li in self.other_lines
        )

    @property
    def other_subtotal(self) -> int:
        return sum(li.amount_subtotal for li in self.other_lines)

    @classmethod
    def read(cls, session: CheckoutSession, catalog: CatalogRepository) -> SessionCart:
        """Sort line items by their metadata.

        A product or shipping rate that is no longer in the catalog (or has no price in the
        session's currency) can't be re-priced, so its line is treated like one added elsewhere.
        """
        quantities: dict[str, int] = {}
        products, shipping, others = [], [], []
        for item in session.line_items:
            product = catalog.product(item.metadata.get(PRODUCT_KEY, ""))
            rate = catalog.shipping_rate(item.metadata.get(SHIPPING_KEY, ""))
            if product is not None and session.currency in product.prices:
                products.append(item)
                quantities[product.id] = quantities.get(product.id, 0) + item.quantity
            elif rate is not None and session.currency in rate.prices:
                shipping.append(item)
            else:
                others.append(item)
        recorded_rate = catalog.shipping_rate(session.metadata.get(SHIPPING_RATE_KEY) or "")
        if shipping:
            rate_id: str | None = shipping[0].metadata[SHIPPING_KEY]
        elif recorded_rate is not None and session.currency in recorded_rate.prices:
            rate_id = recorded_rate.id
        else:
            rate_id = None
        selection = Selection.of(
            list(quantities.items()),
            shipping_rate_id=rate_id,
            discount_code=session.metadata.get(DISCOUNT_KEY) or None,
            ship_to=read_address(session.shipping_details),
        )
        return cls(
            selection,
            session.line_items,
            tuple(products),
            tuple(shipping),
            tuple(others),
            read_revision(session.metadata.get(REVISION_KEY)),
            read_history(session.metadata),
        )


def read_address(details: Mapping[str, Any] | None) -> ShippingAddress | None:
    """The collected shipping details Stripe holds, if complete enough to ship to."""
    address = (details or {}).get("address") or {}
    name, line1, country = (details or {}).get("name"), address.get("line1"), address.get("country")
    if not (isinstance(name, str) and isinstance(line1, str) and isinstance(country, str)):
        return None
    return ShippingAddress(
        name,
        line1,
        country,
        address.get("line2"),
        address.get("city"),
        address.get("state"),
        address.get("postal_code"),
    )


@dataclass(frozen=True, slots=True)
class CartView:
    """What the API answers: the recomputed cart, and the total the Stripe object holds."""

    object: Literal["checkout.session", "payment_intent", "quote"]
    id: str | None
    status: str | None
    currency: str
    expires_at: int | None
    priced: PricedCart
    other_items: tuple[OtherItem, ...]
    amount_total: int
    # Stripe's tax on a Checkout Session (0 without automatic tax); None where Stripe computes
    # none (quotes, PaymentIntents): never a number the service made up.
    amount_tax: int | None = None
    tax_status: str | None = None  # Stripe Tax's progress (Checkout Sessions with it on)

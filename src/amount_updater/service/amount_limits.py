"""Stripe's charge limits, checked before Stripe is called."""

from __future__ import annotations

from amount_updater.errors import AmountOutOfRange, CartEmpty
from amount_updater.money.currencies import MAX_AMOUNT, Currency
from amount_updater.pricing.cart import PricedCart


def check_amount(amount: int, currency: str) -> None:
    """Stripe's per-currency minimum and maximum, checked before Stripe is called."""
    minimum = Currency.of(currency).minimum_charge or 1
    if not minimum <= amount <= MAX_AMOUNT:
        raise AmountOutOfRange(
            f"A {currency} payment must be between {minimum} and {MAX_AMOUNT} (minor units);"
            f" this cart comes to {amount}.",
            extra={"amount": amount, "minimum": minimum, "maximum": MAX_AMOUNT},
        )


def check_cart(priced: PricedCart, currency: str) -> None:
    """A cart Stripe can charge: something in it, and a total inside the currency's limits."""
    if not priced.lines and not priced.other_subtotal:
        # Stripe keeps at least one line on a session and charges at least the minimum: an
        # empty cart is refused in the shopper's words, before the amount check would be.
        raise CartEmpty(
            "Your cart needs at least one item: add something else before removing the last one."
        )
    check_amount(priced.total, currency)

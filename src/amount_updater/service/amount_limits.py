"""Stripe's charge limits, checked before Stripe is called."""

from __future__ import annotations

from amount_updater.errors import AmountOutOfRange
from amount_updater.money.currencies import MAX_AMOUNT, Currency


def check_amount(amount: int, currency: str) -> None:
    """Stripe's per-currency minimum and maximum, checked before Stripe is called."""
    minimum = Currency.of(currency).minimum_charge or 1
    if not minimum <= amount <= MAX_AMOUNT:
        raise AmountOutOfRange(
            f"A {currency} payment must be between {minimum} and {MAX_AMOUNT} (minor units);"
            f" this cart comes to {amount}.",
            extra={"amount": amount, "minimum": minimum, "maximum": MAX_AMOUNT},
        )

"""Sandbox tax: what the emulator charges as tax on a Checkout Session with automatic tax on.

These are SANDBOX RATES: one made-up rate per destination country, for every product and for
shipping alike, so that the flow address -> shipping options -> tax -> total works offline. They
are not Stripe Tax and not any country's law (no states or provinces, no product tax codes, no
thresholds or registrations, no exemptions). Stripe's session object has no field that could say
so (``automatic_tax.provider`` stays ``"stripe"``, and the suite checks every answer against
Stripe's spec), so the label lives here and on the demo page ("Tax (sandbox rates)").

The rules:

- Tax is computed once ``automatic_tax.enabled`` is true and the session holds
  ``collected_information.shipping_details.address.country``; a country not in
  :data:`SANDBOX_RATES` is taxed at 0 %.
- Each line item (its ``amount_subtotal``) and the shipping cost (the selected option's amount)
  is taxed on its own, with its own ``tax_behavior``: the price's, or the shipping rate's.
- ``exclusive`` (and ``unspecified``, taken as an account whose default is exclusive): the tax
  is ``amount x rate`` and is added to the totals.
- ``inclusive``: the tax is the part of the amount it includes, ``amount x rate / (1 + rate)``;
  it is reported but not added (the amount already holds it).
- Each tax is rounded half up to the currency's smallest chargeable step: one minor unit, or ten
  in the three-decimal currencies (bhd, jod, kwd, omr, tnd), whose amounts must end in 0.

Where Stripe reports it: per line item ``amount_tax`` (its ``amount_total`` includes an exclusive
tax), ``shipping_cost.amount_tax`` (and its ``amount_total``), ``total_details.amount_tax`` (all
tax, inclusive tax too) and the session's ``amount_total`` (exclusive tax only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .currencies import THREE_DECIMAL

# Sandbox rates in basis points (1/100 of a percent): 725 is 7.25 %.
SANDBOX_RATES: Mapping[str, int] = {
    "US": 725,
    "CA": 1300,
    "GB": 2000,
    "DE": 1900,
    "FR": 2000,
    "JP": 1000,
    "KW": 0,
}
BASIS = 10_000


@dataclass(frozen=True, slots=True)
class Tax:
    """The tax on one amount, and the part of it that the total does not already hold."""

    amount: int = 0
    added: int = 0


NO_TAX = Tax()


def rate_for(country: str | None) -> int:
    """The sandbox rate of `country` in basis points (0 for the countries not in the table)."""
    return SANDBOX_RATES.get(country or "", 0)


def destination(session: Mapping[str, Any]) -> str | None:
    """The country the session's tax is computed for: None while automatic tax is off or no
    shipping address is known (Stripe's ``requires_location_inputs``)."""
    if not (session.get("automatic_tax") or {}).get("enabled"):
        return None
    details = (session.get("collected_information") or {}).get("shipping_details") or {}
    country = (details.get("address") or {}).get("country")
    return country if isinstance(country, str) and country else None


def tax_on(amount: int, behavior: str, rate: int, currency: str) -> Tax:
    """The tax on `amount` (minor units) at `rate` basis points, for a price whose
    ``tax_behavior`` is `behavior`, rounded half up to the currency's step."""
    if rate == 0 or amount == 0:
        return NO_TAX
    if behavior == "inclusive":
        included = _round_half_up(amount * rate, BASIS + rate, _step(currency))
        return Tax(amount=included, added=0)
    tax = _round_half_up(amount * rate, BASIS, _step(currency))
    return Tax(amount=tax, added=tax)


def tax_items(
    items: list[dict[str, Any]], rate: int, currency: str
) -> tuple[list[dict[str, Any]], Tax]:
    """New line items with their ``amount_tax`` and ``amount_total`` set, and their tax in all.
    The items given are left untouched (a refused update must not change the stored ones)."""
    taxed: list[dict[str, Any]] = []
    amount = added = 0
    for item in items:
        tax = tax_on(item["amount_subtotal"], item["price"]["tax_behavior"], rate, currency)
        taxed.append(
            {
                **item,
                "amount_tax": tax.amount,
                "amount_total": item["amount_subtotal"] - item["amount_discount"] + tax.added,
            }
        )
        amount += tax.amount
        added += tax.added
    return taxed, Tax(amount, added)


def _step(currency: str) -> int:
    return 10 if currency in THREE_DECIMAL else 1


def _round_half_up(numerator: int, denominator: int, step: int) -> int:
    """``numerator / denominator`` rounded half up to a multiple of `step` (all non-negative
    integers, so no float ever touches an amount)."""
    scaled = denominator * step
    return (2 * numerator + scaled) // (2 * scaled) * step

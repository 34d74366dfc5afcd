"""Currencies: which ones exist, their minor-unit rules and minimum charge amounts.

Amounts on the wire are integers in the currency's minor unit.
"""

from __future__ import annotations

from typing import Any

from .errors import invalid_param
from .params import MAX_AMOUNT


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Presentment currencies listed on docs.stripe.com/currencies (reproduced from memory of that
# page; a currency missing here is refused as "Invalid currency", which errs on the strict side).
SUPPORTED = _codes(
    """
    usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd bwp
    byn bzd cad cdf chf clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel gip
    gmd gnf gtq gyd hkd hnl htg huf idr ils inr isk jmd jod jpy kes kgs khr kmf krw kwd kyd kzt
    lak lbp lkr lrd lsl mad mdl mga mkd mmk mnt mop mur mvr mwk mxn myr mzn nad ngn nio nok npr
    nzd omr pab pen pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek sgd shp sle sos srd
    std szl thb tjs tnd top try ttd twd tzs uah ugx uyu uzs vnd vuv wst xaf xcd xof xpf yer zar
    zmw
    """
)

ZERO_DECIMAL = _codes("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf")

# "these API calls require the least-significant (last) digit to be 0".
THREE_DECIMAL = _codes("bhd jod kwd omr tnd")

# Minimum charge in minor units. USD 0.50 is from Stripe's API reference; every other
# value comes from secondary sources quoting docs.stripe.com/currencies (UNCONFIRMED). Currencies
# without a known minimum (krw and the rest) only need a positive amount.
MINIMUM_CHARGE = {
    "usd": 50,
    "eur": 50,
    "gbp": 30,
    "jpy": 50,
    "cad": 50,
    "aud": 50,
    "chf": 50,
    "sek": 300,
    "nok": 300,
    "dkk": 250,
    "hkd": 400,
    "sgd": 50,
    "mxn": 1000,
    "brl": 50,
    "inr": 50,
    "pln": 200,
    "czk": 1500,
    "huf": 17500,
    "nzd": 50,
}


def read_currency(value: Any, param: str) -> str:
    """A supported currency code, lowercased as Stripe stores it."""
    code = value.lower() if isinstance(value, str) else ""
    if code not in SUPPORTED:
        # Stripe's message is "Invalid currency: ..."; no code from its list fits (UNCONFIRMED).
        raise invalid_param(f"Invalid currency: {value if isinstance(value, str) else ''}.", param)
    return code


def format_minor(amount: int, currency: str) -> str:
    """Render minor units for messages, e.g. ``0.50 usd`` or ``50 jpy``."""
    if currency in ZERO_DECIMAL:
        return f"{amount} {currency}"
    decimals = 3 if currency in THREE_DECIMAL else 2
    return f"{amount / 10**decimals:.{decimals}f} {currency}"


def check_charge_amount(amount: int, currency: str, param: str) -> None:
    """Refuse amounts Stripe would not charge: below the minimum, above 8 digits, or not
    rounded to ten in a three-decimal currency."""
    minimum = MINIMUM_CHARGE.get(currency, 1)
    if amount < minimum:
        raise invalid_param(
            f"Amount must be at least {format_minor(minimum, currency)}", param, "amount_too_small"
        )
    if amount > MAX_AMOUNT:
        raise invalid_param(
            f"Amount must be no more than {format_minor(MAX_AMOUNT, currency)}",
            param,
            "amount_too_large",
        )
    check_minor_unit_rounding(amount, currency, param)


def check_minor_unit_rounding(amount: int, currency: str, param: str) -> None:
    if currency in THREE_DECIMAL and amount % 10 != 0:
        # The exact Stripe code is UNCONFIRMED; `invalid_charge_amount` is the closest code in
        # Stripe's published list.
        raise invalid_param(
            f"Amounts in {currency} must be rounded to the nearest ten: the last digit of "
            f"{amount} must be 0.",
            param,
            "invalid_charge_amount",
        )

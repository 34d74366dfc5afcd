"""Stripe's currency table: minor-unit exponents, rounding increments and charge limits.

Amounts are always integers in the currency's minor unit, as Stripe's API expects them
(1000 = 10.00 USD, 1000 = 1,000 JPY, 1000 = 1.000 KWD). Sources: docs.stripe.com/currencies,
docs.stripe.com/currencies.
"""

from __future__ import annotations

from dataclasses import dataclass

ZERO_DECIMAL = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()  # noqa: SIM905
)
# Stripe requires the last digit of a three-decimal amount to be 0: round to the nearest ten.
THREE_DECIMAL = frozenset(("bhd", "jod", "kwd", "omr", "tnd"))

MAX_AMOUNT = 99_999_999  # "The amount value supports up to eight digits"

# Minimum charge per currency, in minor units. USD $0.50 is documented; the others are Stripe's
# currency page as quoted by secondary sources (UNCONFIRMED), so a
# currency missing here falls back to no client-side minimum and Stripe has the last word.
MINIMUM_CHARGE: dict[str, int] = {
    "usd": 50,
    "eur": 50,
    "gbp": 30,
    "jpy": 50,
    "cad": 50,
    "aud": 50,
    "chf": 50,
    "nzd": 50,
    "sgd": 50,
    "brl": 50,
    "inr": 50,
    "sek": 300,
    "nok": 300,
    "dkk": 250,
    "hkd": 400,
    "pln": 200,
    "czk": 1500,
    "huf": 17500,
    "mxn": 1000,
}


@dataclass(frozen=True, slots=True)
class Currency:
    """How amounts in one ISO 4217 currency are expressed to Stripe.

    Usage::

        Currency.of("jpy").exponent      # 0: 3500 means ¥3,500
        Currency.of("kwd").increment     # 10: Stripe wants the last digit to be 0
    """

    code: str
    exponent: int
    increment: int

    @classmethod
    def of(cls, code: str) -> Currency:
        code = code.lower()
        if code in ZERO_DECIMAL:
            return cls(code, 0, 1)
        if code in THREE_DECIMAL:
            return cls(code, 3, 10)
        return cls(code, 2, 1)

    @property
    def minimum_charge(self) -> int | None:
        return MINIMUM_CHARGE.get(self.code)

    def is_valid_amount(self, amount: int) -> bool:
        return 0 <= amount <= MAX_AMOUNT and amount % self.increment == 0


# The presentment currencies Stripe lists on docs.stripe.com/currencies (lower case, as the API
# wants them). UNCONFIRMED in part: Stripe adds currencies over time and some are limited to
# some countries or payment methods; a catalog currency outside this list is refused at start,
# and one inside it can still be refused by Stripe for a given account.
STRIPE_CURRENCIES = frozenset(
    """
    aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd bwp byn
    bzd cad cdf chf clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel gip gmd
    gnf gtq gyd hkd hnl htg huf idr ils inr isk jmd jod jpy kes kgs khr kmf krw kwd kyd kzt lak
    lbp lkr lrd lsl mad mdl mga mkd mmk mnt mop mur mvr mwk mxn myr mzn nad ngn nio nok npr nzd
    omr pab pen pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek sgd shp sle sos srd std
    szl thb tjs tnd top try ttd twd tzs uah ugx usd uyu uzs vnd vuv wst xaf xcd xof xpf yer zar
    zmw
    """.split()  # noqa: SIM905
)


def is_currency_code(code: str) -> bool:
    """A three-letter lower-case code (the shape Stripe's API takes), known or not."""
    return len(code) == 3 and code.isascii() and code.isalpha() and code.islower()


def is_stripe_currency(code: str) -> bool:
    return code in STRIPE_CURRENCIES

"""Pure cart pricing: catalog rules + selection -> amounts. No I/O, no clock, no Stripe."""

from amount_updater.pricing.cart import (
    Charge,
    PricedCart,
    PricedDiscount,
    PricedLine,
    PricedShipping,
    price_cart,
)
from amount_updater.pricing.rules import CartRules
from amount_updater.pricing.selection import CartLine, Selection

__all__ = [
    "CartLine",
    "CartRules",
    "Charge",
    "PricedCart",
    "PricedDiscount",
    "PricedLine",
    "PricedShipping",
    "Selection",
    "price_cart",
]

"""Pure cart pricing: catalog + selection -> amounts. No I/O, no clock, no Stripe."""

from amount_updater.pricing.cart import (
    Charge,
    PricedCart,
    PricedDiscount,
    PricedLine,
    PricedShipping,
    price_cart,
    require_discount,
)
from amount_updater.pricing.selection import CartLine, Selection

__all__ = [
    "CartLine",
    "Charge",
    "PricedCart",
    "PricedDiscount",
    "PricedLine",
    "PricedShipping",
    "Selection",
    "price_cart",
    "require_discount",
]

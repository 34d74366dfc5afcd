"""A small catalog for the tests of the cart rules and the changes built on them."""

from __future__ import annotations

from datetime import UTC, datetime

from amount_updater.catalog.repository import parse_catalog
from amount_updater.pricing import CartRules

NOW = datetime(2026, 11, 26, tzinfo=UTC)

CATALOG_TOML = """
[products.tshirt]
name = "T-shirt"
prices = { usd = 2500, eur = 2300 }
max_quantity = 10

[products.mug]
name = "Mug"
prices = { usd = 1200, eur = 1100 }

[products.stickers]
name = "Stickers"
prices = { usd = 399 }

[products.gift_wrap]
name = "Gift Wrap"
kind = "addon"
prices = { usd = 500, eur = 450 }

[shipping.standard]
name = "Standard"
prices = { usd = 500, eur = 450 }

[shipping.domestic]
name = "Domestic"
prices = { usd = 300 }

[discounts.SAVE10]
percent_off = 10
min_subtotal = { usd = 2000 }

[discounts.FIVEOFF]
amount_off = { usd = 500 }

[discounts.ENDED]
percent_off = 50
expires_at = 2026-11-25T00:00:00Z
"""


CATALOG = parse_catalog(CATALOG_TOML, "cart rules")


def rules_in(currency: str) -> CartRules:
    """The catalog's rules for a cart in `currency` at NOW."""
    return CartRules(CATALOG, currency, NOW)

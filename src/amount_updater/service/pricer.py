"""Prices carts from the catalog at the time of the request; shared by every object kind."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from amount_updater.catalog.repository import CatalogRepository
from amount_updater.errors import CurrencyNotSupported
from amount_updater.money.currencies import is_currency_code
from amount_updater.pricing import PricedCart, Selection, price_cart
from amount_updater.service.cart import CartView
from amount_updater.service.changes import CartRules, build_selection, check_shipping_has_items


class CartPricer:
    def __init__(self, catalog: CatalogRepository, clock: Callable[[], float] = time.time) -> None:
        self.catalog = catalog
        self.clock = clock

    def rules(self, currency: str) -> CartRules:
        currency = currency.lower()
        if not is_currency_code(currency) or not self.catalog.supports(currency):
            raise CurrencyNotSupported(f"The catalog has no prices in {currency!r}.")
        return CartRules(self.catalog.catalog, currency, datetime.fromtimestamp(self.clock(), UTC))

    def price(self, rules: CartRules, selection: Selection, other_subtotal: int = 0) -> PricedCart:
        return price_cart(
            self.catalog.catalog,
            rules.currency,
            selection,
            now=rules.now,
            other_subtotal=other_subtotal,
        )

    def new_cart(
        self,
        currency: str,
        items: list[tuple[str, int]],
        shipping_rate_id: str | None,
        discount_code: str | None,
    ) -> PricedCart:
        """A fresh cart, every part validated, priced."""
        rules = self.rules(currency)
        selection = build_selection(rules, items, shipping_rate_id, discount_code)
        check_shipping_has_items(selection, 0)
        return self.price(rules, selection)

    def quote(
        self,
        currency: str,
        items: list[tuple[str, int]],
        shipping_rate_id: str | None,
        discount_code: str | None,
    ) -> CartView:
        """The cart priced from the catalog alone: no Stripe call."""
        priced = self.new_cart(currency, items, shipping_rate_id, discount_code)
        return CartView("quote", None, None, priced.currency, None, priced, (), priced.total)

"""Prices carts from the catalog at the time of the request; shared by every object kind."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from amount_updater.catalog.repository import CatalogRepository
from amount_updater.pricing import CartRules, PricedCart, Selection, price_cart
from amount_updater.service.cart import CartView, RecordedCart
from amount_updater.service.changes import NewCart, build_selection, check_shipping_has_items


class CartPricer:
    def __init__(self, catalog: CatalogRepository, clock: Callable[[], float] = time.time) -> None:
        self.catalog = catalog
        self.clock = clock

    def rules(self, currency: str) -> CartRules:
        """The catalog's rules for a cart in `currency`, now."""
        return self.catalog.rules(currency, datetime.fromtimestamp(self.clock(), UTC))

    def price(self, rules: CartRules, selection: Selection, other_subtotal: int = 0) -> PricedCart:
        return price_cart(rules, selection, other_subtotal=other_subtotal)

    def price_recorded(self, cart: RecordedCart, currency: str) -> PricedCart:
        """The cart recorded on a Stripe object, priced from the catalog now."""
        return self.price(self.rules(currency), cart.selection, cart.other_subtotal)

    def new_cart(self, cart: NewCart) -> PricedCart:
        """A fresh cart, every part validated, priced."""
        rules = self.rules(cart.currency)
        selection = build_selection(rules, cart.items, cart.shipping_rate_id, cart.discount_code)
        check_shipping_has_items(selection, 0)
        return self.price(rules, selection)

    def quote(self, cart: NewCart) -> CartView:
        """The cart priced from the catalog alone: no Stripe call."""
        priced = self.new_cart(cart)
        return CartView("quote", None, None, priced.currency, None, priced, (), priced.total)

"""The catalog's rules for one cart (pricing/rules.py): products, shipping rates and discount
codes, checked in one place for every change and every price."""

from __future__ import annotations

import pytest

from amount_updater.errors import (
    CurrencyNotSupported,
    InvalidDiscountCode,
    QuantityLimitExceeded,
    UnknownProduct,
    UnknownShippingRate,
)
from amount_updater.pricing import CartRules, Selection
from tests.support.cart_rules import rules_in


@pytest.fixture
def usd() -> CartRules:
    return rules_in("usd")


@pytest.fixture
def eur() -> CartRules:
    return rules_in("eur")


def discounted(rules: CartRules, code: str, selection: Selection) -> str:
    return rules.require_discount(code, rules.items_subtotal(selection)).code


# --- Products, shipping, discounts ---------------------------------------------------------


def test_check_product_accepts_a_priced_product_within_its_limit(usd):
    usd.check_product("tshirt", 10)


def test_check_product_refuses_an_unknown_product(usd):
    with pytest.raises(UnknownProduct):
        usd.check_product("hoodie", 1)


def test_check_product_refuses_a_product_without_a_price_in_the_currency(eur):
    with pytest.raises(CurrencyNotSupported):
        eur.check_product("stickers", 1)


def test_check_product_refuses_more_than_max_quantity(usd):
    with pytest.raises(QuantityLimitExceeded) as caught:
        usd.check_product("tshirt", 11)
    assert caught.value.extra == {"product_id": "tshirt", "max_quantity": 10}


def test_item_without_max_quantity_is_limited_to_99(usd):
    usd.check_product("mug", 99)
    with pytest.raises(QuantityLimitExceeded):
        usd.check_product("mug", 100)


def test_addon_is_limited_to_one(usd):
    usd.check_product("gift_wrap", 1)
    with pytest.raises(QuantityLimitExceeded):
        usd.check_product("gift_wrap", 2)


def test_shipping_rate_refuses_an_unknown_rate(usd):
    with pytest.raises(UnknownShippingRate):
        usd.shipping_rate("teleport")


def test_shipping_rate_refuses_a_rate_without_a_price_in_the_currency(eur):
    with pytest.raises(CurrencyNotSupported):
        eur.shipping_rate("domestic")


def test_require_discount_returns_the_canonical_code(usd):
    assert discounted(usd, " save10 ", Selection.of([("tshirt", 1)])) == "SAVE10"


def test_require_discount_refuses_a_cart_below_the_minimum(usd):
    with pytest.raises(InvalidDiscountCode):
        discounted(usd, "SAVE10", Selection.of([("mug", 1)]))


def test_require_discount_measures_the_items_only(usd):
    selection = Selection.of([("mug", 1)], shipping_rate_id="standard")
    with pytest.raises(InvalidDiscountCode):
        discounted(usd, "SAVE10", selection)


def test_require_discount_refuses_an_expired_code(usd):
    with pytest.raises(InvalidDiscountCode):
        discounted(usd, "ENDED", Selection.of([("tshirt", 1)]))


def test_require_discount_refuses_an_amount_off_code_in_another_currency(eur):
    with pytest.raises(InvalidDiscountCode):
        discounted(eur, "FIVEOFF", Selection.of([("tshirt", 1)]))


def test_a_code_is_found_whatever_its_case_and_surrounding_space(usd):
    assert usd.usable_discount("  save10\n").code == "SAVE10"


def test_a_recorded_code_is_none_once_expired(usd):
    assert usd.recorded_discount("ended") is None


def test_a_recorded_code_without_expiry_stays(usd):
    recorded = usd.recorded_discount("save10")
    assert recorded is not None
    assert recorded.code == "SAVE10"


def test_a_recorded_unknown_code_is_none(usd):
    assert usd.recorded_discount("NOPE") is None


def test_a_recorded_amount_off_code_of_another_currency_is_none(eur):
    assert eur.recorded_discount("FIVEOFF") is None


def test_serves_needs_a_known_rate(usd):
    assert usd.serves("standard", "US")
    assert not usd.serves("teleport", "US")
    assert not usd.serves(None, "US")


def test_known_product_ignores_the_currency(eur):
    assert eur.known_product("stickers").id == "stickers"
    with pytest.raises(UnknownProduct):
        eur.known_product("hoodie")

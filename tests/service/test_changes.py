from __future__ import annotations

from datetime import UTC, datetime

import pytest

from amount_updater.catalog.models import Catalog
from amount_updater.catalog.repository import parse_catalog
from amount_updater.errors import (
    CurrencyNotSupported,
    InvalidDiscountCode,
    QuantityLimitExceeded,
    UnknownProduct,
    UnknownShippingRate,
)
from amount_updater.pricing import CartLine, Selection
from amount_updater.service.changes import (
    AddItem,
    CartRules,
    ReplaceCart,
    SetDiscount,
    SetQuantity,
    SetShipping,
    build_selection,
)

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


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return parse_catalog(CATALOG_TOML, "test")


@pytest.fixture
def usd(catalog) -> CartRules:
    return CartRules(catalog, "usd", NOW)


@pytest.fixture
def eur(catalog) -> CartRules:
    return CartRules(catalog, "eur", NOW)


# --- CartRules --------------------------------------------------------------------------------


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


def test_check_shipping_refuses_an_unknown_rate(usd):
    with pytest.raises(UnknownShippingRate):
        usd.check_shipping("teleport")


def test_check_shipping_refuses_a_rate_without_a_price_in_the_currency(eur):
    with pytest.raises(CurrencyNotSupported):
        eur.check_shipping("domestic")


def test_check_discount_returns_the_canonical_code(usd):
    assert usd.check_discount(" save10 ", Selection.of([("tshirt", 1)])) == "SAVE10"


def test_check_discount_refuses_a_cart_below_the_minimum(usd):
    with pytest.raises(InvalidDiscountCode):
        usd.check_discount("SAVE10", Selection.of([("mug", 1)]))


def test_check_discount_measures_the_items_only(usd):
    selection = Selection.of([("mug", 1)], shipping_rate_id="standard")
    with pytest.raises(InvalidDiscountCode):
        usd.check_discount("SAVE10", selection)


def test_check_discount_refuses_an_expired_code(usd):
    with pytest.raises(InvalidDiscountCode):
        usd.check_discount("ENDED", Selection.of([("tshirt", 1)]))


def test_check_discount_refuses_an_amount_off_code_in_another_currency(eur):
    with pytest.raises(InvalidDiscountCode):
        eur.check_discount("FIVEOFF", Selection.of([("tshirt", 1)]))


# --- Changes ----------------------------------------------------------------------------------


def test_add_item_appends_a_new_product(usd):
    selection = AddItem("mug", 2).apply(Selection.of([("tshirt", 1)]), usd)
    assert selection.items == (CartLine("tshirt", 1), CartLine("mug", 2))


def test_add_item_adds_to_the_existing_quantity(usd):
    assert AddItem("mug", 2).apply(Selection.of([("mug", 3)]), usd).quantity_of("mug") == 5


def test_add_item_checks_the_limit_against_the_new_total(usd):
    with pytest.raises(QuantityLimitExceeded):
        AddItem("tshirt", 2).apply(Selection.of([("tshirt", 9)]), usd)


def test_add_item_refuses_an_unknown_product(usd):
    with pytest.raises(UnknownProduct):
        AddItem("hoodie", 1).apply(Selection(), usd)


def test_set_quantity_replaces_the_quantity(usd):
    assert SetQuantity("mug", 2).apply(Selection.of([("mug", 7)]), usd).quantity_of("mug") == 2


def test_set_quantity_checks_the_limit(usd):
    with pytest.raises(QuantityLimitExceeded):
        SetQuantity("tshirt", 11).apply(Selection(), usd)


def test_set_quantity_zero_removes_the_line(usd):
    selection = SetQuantity("mug", 0).apply(Selection.of([("mug", 2), ("tshirt", 1)]), usd)
    assert selection.items == (CartLine("tshirt", 1),)


def test_set_quantity_zero_of_an_unknown_product_is_refused(usd):
    with pytest.raises(UnknownProduct):
        SetQuantity("hoodie", 0).apply(Selection(), usd)


def test_set_quantity_zero_of_a_product_not_priced_in_the_currency_is_allowed(eur):
    assert SetQuantity("stickers", 0).apply(Selection(), eur) == Selection()


def test_set_shipping_selects_a_rate(usd):
    assert SetShipping("standard").apply(Selection(), usd).shipping_rate_id == "standard"


def test_set_shipping_none_clears_the_rate(usd):
    selection = Selection.of([], shipping_rate_id="standard")
    assert SetShipping(None).apply(selection, usd).shipping_rate_id is None


def test_set_shipping_refuses_an_unknown_rate(usd):
    with pytest.raises(UnknownShippingRate):
        SetShipping("teleport").apply(Selection(), usd)


def test_set_discount_records_the_canonical_code(usd):
    selection = SetDiscount("save10").apply(Selection.of([("tshirt", 1)]), usd)
    assert selection.discount_code == "SAVE10"


def test_set_discount_none_clears_the_code(usd):
    selection = Selection.of([("tshirt", 1)], discount_code="SAVE10")
    assert SetDiscount(None).apply(selection, usd).discount_code is None


def test_set_discount_refuses_an_unknown_code(usd):
    with pytest.raises(InvalidDiscountCode):
        SetDiscount("NOPE").apply(Selection.of([("tshirt", 1)]), usd)


def test_changes_leave_the_original_selection_untouched(usd):
    original = Selection.of([("mug", 1)])
    AddItem("mug", 1).apply(original, usd)
    assert original.quantity_of("mug") == 1


# --- ReplaceCart / build_selection ------------------------------------------------------------


def test_replace_cart_ignores_the_current_selection(usd):
    current = Selection.of([("mug", 5)], shipping_rate_id="standard", discount_code="FIVEOFF")
    replaced = ReplaceCart((("tshirt", 1),), None, None).apply(current, usd)
    assert replaced == Selection.of([("tshirt", 1)])


def test_build_selection_merges_repeated_products(usd):
    selection = build_selection(usd, [("mug", 1), ("tshirt", 1), ("mug", 2)], None, None)
    assert selection.items == (CartLine("mug", 3), CartLine("tshirt", 1))


def test_build_selection_checks_the_limit_after_merging(usd):
    with pytest.raises(QuantityLimitExceeded):
        build_selection(usd, [("tshirt", 6), ("tshirt", 5)], None, None)


def test_build_selection_checks_every_product(usd):
    with pytest.raises(UnknownProduct):
        build_selection(usd, [("tshirt", 1), ("hoodie", 1)], None, None)


def test_build_selection_checks_the_shipping_rate(eur):
    with pytest.raises(CurrencyNotSupported):
        build_selection(eur, [("tshirt", 1)], "domestic", None)


def test_build_selection_checks_the_discount_against_the_new_items(usd):
    with pytest.raises(InvalidDiscountCode):
        build_selection(usd, [("mug", 1)], "standard", "SAVE10")


def test_build_selection_records_everything(usd):
    selection = build_selection(usd, [("tshirt", 1)], "standard", "save10")
    assert selection == Selection.of([("tshirt", 1)], "standard", "SAVE10")


def test_build_selection_drops_zero_quantities(usd):
    assert build_selection(usd, [("tshirt", 0)], None, None) == Selection()

from __future__ import annotations

import pytest

from amount_updater.errors import (
    CurrencyNotSupported,
    InvalidDiscountCode,
    QuantityLimitExceeded,
    UnknownProduct,
    UnknownShippingRate,
)
from amount_updater.pricing import CartLine, CartRules, Selection
from amount_updater.service.changes import (
    AddItem,
    ReplaceCart,
    SetDiscount,
    SetQuantity,
    SetShipping,
    build_selection,
)
from tests.support.cart_rules import rules_in


@pytest.fixture
def usd() -> CartRules:
    return rules_in("usd")


@pytest.fixture
def eur() -> CartRules:
    return rules_in("eur")


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

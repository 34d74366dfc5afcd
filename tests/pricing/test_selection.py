from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amount_updater.pricing.selection import CartLine, Selection


def ids(selection: Selection) -> list[str]:
    return [line.product_id for line in selection.items]


def test_empty_selection_has_no_items_shipping_or_discount():
    selection = Selection()
    assert selection.items == ()
    assert selection.shipping_rate_id is None
    assert selection.discount_code is None


def test_of_keeps_the_order_of_first_appearance():
    selection = Selection.of([("mug", 1), ("tshirt", 2), ("hoodie", 1)])
    assert ids(selection) == ["mug", "tshirt", "hoodie"]


def test_of_merges_repeated_products():
    selection = Selection.of([("mug", 1), ("tshirt", 2), ("mug", 3)])
    assert selection.items == (CartLine("mug", 4), CartLine("tshirt", 2))


def test_of_drops_zero_quantities():
    assert Selection.of([("mug", 0), ("tshirt", 1)]).items == (CartLine("tshirt", 1),)


def test_of_drops_products_whose_merged_quantity_is_not_positive():
    assert Selection.of([("mug", 2), ("mug", -2)]).items == ()


def test_of_records_shipping_and_discount():
    selection = Selection.of([("mug", 1)], shipping_rate_id="standard", discount_code="SAVE10")
    assert selection.shipping_rate_id == "standard"
    assert selection.discount_code == "SAVE10"


def test_selection_is_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Selection().discount_code = "X"  # type: ignore[misc]


def test_quantity_of_an_absent_product_is_zero():
    assert Selection.of([("mug", 2)]).quantity_of("tshirt") == 0


def test_quantity_of_a_present_product():
    assert Selection.of([("mug", 2)]).quantity_of("mug") == 2


def test_with_quantity_changes_a_line_in_place():
    selection = Selection.of([("a", 1), ("b", 1), ("c", 1)]).with_quantity("b", 5)
    assert selection.items == (CartLine("a", 1), CartLine("b", 5), CartLine("c", 1))


def test_with_quantity_zero_removes_the_line():
    selection = Selection.of([("a", 1), ("b", 1)]).with_quantity("a", 0)
    assert selection.items == (CartLine("b", 1),)


def test_with_quantity_of_a_new_product_goes_last():
    selection = Selection.of([("a", 1), ("b", 1)]).with_quantity("c", 2)
    assert ids(selection) == ["a", "b", "c"]


def test_with_quantity_zero_of_an_absent_product_changes_nothing():
    selection = Selection.of([("a", 1)])
    assert selection.with_quantity("z", 0) == selection


def test_with_quantity_returns_a_new_selection_and_leaves_the_old_one():
    original = Selection.of([("a", 1)])
    original.with_quantity("a", 3)
    assert original.items == (CartLine("a", 1),)


def test_with_quantity_keeps_shipping_and_discount():
    selection = Selection.of([("a", 1)], "standard", "SAVE10").with_quantity("a", 2)
    assert (selection.shipping_rate_id, selection.discount_code) == ("standard", "SAVE10")


def test_with_added_adds_to_the_existing_quantity():
    assert Selection.of([("a", 2)]).with_added("a", 3).quantity_of("a") == 5


def test_with_added_of_a_new_product_appends_it():
    assert ids(Selection.of([("a", 2)]).with_added("b", 1)) == ["a", "b"]


def test_with_shipping_sets_and_clears_the_rate():
    selection = Selection().with_shipping("express")
    assert selection.shipping_rate_id == "express"
    assert selection.with_shipping(None).shipping_rate_id is None


def test_with_discount_sets_and_clears_the_code():
    selection = Selection().with_discount("SAVE10")
    assert selection.discount_code == "SAVE10"
    assert selection.with_discount(None).discount_code is None


product_ids = st.sampled_from(["a", "b", "c", "d", "e"])
raw_items = st.lists(st.tuples(product_ids, st.integers(0, 20)), max_size=12)


@given(raw_items)
def test_of_has_one_positive_line_per_product(items):
    selection = Selection.of(items)
    assert len(set(ids(selection))) == len(selection.items)
    assert all(line.quantity > 0 for line in selection.items)


@given(raw_items)
def test_of_quantities_are_the_sums_of_the_input(items):
    selection = Selection.of(items)
    for product_id in {pid for pid, _ in items}:
        assert selection.quantity_of(product_id) == sum(q for p, q in items if p == product_id)


@given(raw_items, product_ids, st.integers(0, 20))
def test_with_quantity_sets_exactly_that_quantity_and_keeps_the_others(items, product_id, qty):
    before = Selection.of(items)
    after = before.with_quantity(product_id, qty)
    assert after.quantity_of(product_id) == qty
    others_before = [line for line in before.items if line.product_id != product_id]
    others_after = [line for line in after.items if line.product_id != product_id]
    assert others_after == others_before

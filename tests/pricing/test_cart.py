from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from amount_updater.catalog.models import Catalog
from amount_updater.catalog.repository import parse_catalog
from amount_updater.errors import (
    CurrencyNotSupported,
    InvalidDiscountCode,
    UnknownProduct,
    UnknownShippingRate,
)
from amount_updater.pricing import (
    CartRules,
    Charge,
    PricedDiscount,
    PricedShipping,
    Selection,
    price_cart,
)

NOW = datetime(2026, 11, 26, tzinfo=UTC)

CATALOG_TOML = """
[products.tshirt]
name = "T-shirt"
prices = { usd = 2500, eur = 2300, jpy = 3500, kwd = 7500 }

[products.mug]
name = "Mug"
prices = { usd = 1200, eur = 1100, jpy = 1500, kwd = 3500 }

[products.stickers]
name = "Sticker pack"
prices = { usd = 399 }

[products.odd]
name = "Odd"
prices = { usd = 2505 }

[products.even]
name = "Even"
prices = { usd = 2504 }

[products.thousand]
name = "Thousand"
prices = { usd = 1000 }

[products.freebie]
name = "Freebie"
prices = { usd = 0 }

[shipping.standard]
name = "Standard Shipping"
prices = { usd = 500, jpy = 600, kwd = 1500 }

[shipping.domestic]
name = "Domestic"
prices = { usd = 300 }

[discounts.SAVE10]
percent_off = 10
min_subtotal = { usd = 2000 }

[discounts.WELCOME]
percent_off = 15

[discounts.FREE]
percent_off = 100

[discounts.FIVEOFF]
amount_off = { usd = 500, jpy = 700, kwd = 1500 }

[discounts.OFF499]
amount_off = { usd = 499 }

[discounts.BIGSPENDER]
amount_off = { usd = 1000 }
min_subtotal = { usd = 10000 }

[discounts.ENDED]
percent_off = 50
expires_at = 2026-11-26T00:00:00Z

[discounts.LATER]
percent_off = 50
expires_at = 2026-11-26T00:00:01Z
"""


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return parse_catalog(CATALOG_TOML, "test")


def price(catalog: Catalog, items, currency="usd", shipping=None, code=None, other=0):
    selection = Selection.of(items, shipping_rate_id=shipping, discount_code=code)
    return price_cart(CartRules(catalog, currency, NOW), selection, other_subtotal=other)


# --- Plain prices ---------------------------------------------------------------------------


def test_line_amount_is_unit_price_times_quantity(catalog):
    (line,) = price(catalog, [("tshirt", 3)]).lines
    assert (line.unit_amount, line.quantity, line.amount) == (2500, 3, 7500)


def test_line_carries_the_catalog_name_and_product_id(catalog):
    (line,) = price(catalog, [("mug", 1)]).lines
    assert (line.product_id, line.name) == ("mug", "Mug")


def test_undiscounted_line_is_one_charge_at_the_catalog_price(catalog):
    (line,) = price(catalog, [("tshirt", 3)]).lines
    assert line.discount == 0
    assert line.charges == (Charge(2500, 3),)


def test_lines_keep_the_selection_order(catalog):
    cart = price(catalog, [("mug", 1), ("tshirt", 1), ("stickers", 2)])
    assert [line.product_id for line in cart.lines] == ["mug", "tshirt", "stickers"]


def test_items_subtotal_sums_the_lines(catalog):
    assert price(catalog, [("tshirt", 2), ("mug", 1)]).items_subtotal == 6200


def test_prices_are_taken_in_the_requested_currency(catalog):
    cart = price(catalog, [("tshirt", 2)], currency="jpy")
    assert cart.currency == "jpy"
    assert cart.items_subtotal == 7000


def test_empty_selection_totals_zero(catalog):
    cart = price(catalog, [])
    assert (cart.lines, cart.items_subtotal, cart.total) == ((), 0, 0)


def test_shipping_is_priced_in_the_currency(catalog):
    cart = price(catalog, [("mug", 1)], currency="kwd", shipping="standard")
    assert cart.shipping == PricedShipping("standard", "Standard Shipping", 1500)
    assert cart.shipping_total == 1500


def test_no_shipping_and_no_discount_count_as_zero(catalog):
    cart = price(catalog, [("mug", 1)])
    assert (cart.shipping, cart.discount) == (None, None)
    assert (cart.shipping_total, cart.discount_total) == (0, 0)


def test_other_subtotal_counts_towards_subtotal_and_total(catalog):
    cart = price(catalog, [("mug", 1)], shipping="standard", other=700)
    assert cart.subtotal == 1900
    assert cart.total == 2400


def test_total_adds_shipping_and_subtracts_discount(catalog):
    cart = price(catalog, [("tshirt", 1)], shipping="standard", code="FIVEOFF")
    assert cart.total == 2500 - 500 + 500


def test_charge_amount_is_unit_amount_times_quantity():
    assert Charge(834, 2).amount == 1668


def test_unknown_product_is_refused(catalog):
    with pytest.raises(UnknownProduct):
        price(catalog, [("nope", 1)])


def test_product_without_a_price_in_the_currency_is_refused(catalog):
    with pytest.raises(CurrencyNotSupported):
        price(catalog, [("stickers", 1)], currency="kwd")


def test_unknown_shipping_rate_is_refused(catalog):
    with pytest.raises(UnknownShippingRate):
        price(catalog, [("mug", 1)], shipping="teleport")


def test_shipping_rate_without_a_price_in_the_currency_is_refused(catalog):
    with pytest.raises(CurrencyNotSupported):
        price(catalog, [("mug", 1)], currency="kwd", shipping="domestic")


# --- Percent discounts ------------------------------------------------------------------------


def test_percent_discount_rounds_each_unit_half_up(catalog):
    (line,) = price(catalog, [("odd", 3)], code="SAVE10").lines
    assert line.discount == 251 * 3


def test_percent_discount_rounds_below_half_down(catalog):
    (line,) = price(catalog, [("even", 3)], code="SAVE10").lines
    assert line.discount == 250 * 3


def test_percent_discount_charges_the_discounted_unit_price(catalog):
    (line,) = price(catalog, [("odd", 3)], code="SAVE10").lines
    assert line.charges == (Charge(2254, 3),)


def test_percent_discount_in_three_decimal_currency_rounds_to_tens(catalog):
    # 15 % of 7.500 KWD is 1.125 KWD: 1125 fils, rounded half up to 1130.
    (line,) = price(catalog, [("tshirt", 2)], currency="kwd", code="WELCOME").lines
    assert line.discount == 1130 * 2
    assert line.charges == (Charge(6370, 2),)


def test_percent_discount_in_zero_decimal_currency(catalog):
    # 15 % of 1,500 JPY is exactly 225.
    (line,) = price(catalog, [("mug", 1)], currency="jpy", code="WELCOME").lines
    assert line.discount == 225


def test_hundred_percent_discount_makes_lines_free(catalog):
    cart = price(catalog, [("tshirt", 2)], shipping="standard", code="FREE")
    assert cart.lines[0].charges == (Charge(0, 2),)
    assert cart.discount_total == 5000
    assert cart.total == 500


def test_percent_discount_applies_in_any_currency(catalog):
    cart = price(catalog, [("tshirt", 1)], currency="eur", code="WELCOME")
    assert cart.discount == PricedDiscount("WELCOME", 345)


def test_percent_discount_total_is_the_sum_of_line_discounts(catalog):
    cart = price(catalog, [("odd", 1), ("tshirt", 1)], code="SAVE10")
    assert cart.discount_total == 251 + 250


# --- Amount discounts -------------------------------------------------------------------------


def test_amount_discount_is_split_over_lines_in_proportion(catalog):
    cart = price(catalog, [("tshirt", 1), ("mug", 1)], code="FIVEOFF")
    assert [line.discount for line in cart.lines] == [338, 162]
    assert cart.discount_total == 500


def test_amount_discount_is_capped_at_the_items_subtotal(catalog):
    cart = price(catalog, [("stickers", 1)], shipping="standard", code="FIVEOFF")
    assert cart.discount_total == 399
    assert cart.total == 500


def test_uneven_discounted_line_is_charged_in_two_tranches(catalog):
    # 3 x 1000 - 499 = 2501 = 2 x 834 + 1 x 833
    (line,) = price(catalog, [("thousand", 3)], code="OFF499").lines
    assert line.charges == (Charge(834, 2), Charge(833, 1))


def test_amount_discount_in_three_decimal_currency_stays_in_tens(catalog):
    cart = price(catalog, [("tshirt", 1), ("mug", 2)], currency="kwd", code="FIVEOFF")
    assert all(line.discount % 10 == 0 for line in cart.lines)
    assert cart.discount_total == 1500


def test_amount_discount_without_an_amount_in_the_currency_is_dropped(catalog):
    cart = price(catalog, [("tshirt", 1)], currency="eur", code="FIVEOFF")
    assert cart.discount is None
    assert cart.total == 2300


def test_discount_on_a_free_cart_is_zero(catalog):
    cart = price(catalog, [("freebie", 2)], code="FIVEOFF")
    assert cart.discount == PricedDiscount("FIVEOFF", 0)
    assert cart.lines[0].charges == (Charge(0, 2),)


def test_discount_never_touches_shipping_or_other_items(catalog):
    cart = price(catalog, [("stickers", 1)], shipping="standard", code="FIVEOFF", other=5000)
    assert cart.discount_total == 399
    assert cart.total == 5000 + 500


# --- Recorded codes ---------------------------------------------------------------------------


def test_recorded_code_is_matched_case_insensitively_and_stripped(catalog):
    cart = price(catalog, [("tshirt", 1)], code="  save10 ")
    assert cart.discount == PricedDiscount("SAVE10", 250)


def test_unknown_recorded_code_is_dropped(catalog):
    assert price(catalog, [("tshirt", 1)], code="NOPE").discount is None


def test_code_expires_at_its_expiry_instant(catalog):
    assert price(catalog, [("tshirt", 1)], code="ENDED").discount is None


def test_code_applies_until_its_expiry_instant(catalog):
    assert price(catalog, [("tshirt", 1)], code="LATER").discount_total == 1250


def test_recorded_code_below_minimum_stays_recorded_at_zero(catalog):
    cart = price(catalog, [("mug", 1)], code="SAVE10")
    assert cart.discount == PricedDiscount("SAVE10", 0)
    assert all(line.discount == 0 for line in cart.lines)
    assert cart.total == 1200


def test_recorded_code_applies_again_once_the_minimum_is_reached(catalog):
    assert price(catalog, [("mug", 2)], code="SAVE10").discount == PricedDiscount("SAVE10", 240)


def test_minimum_is_compared_to_items_not_shipping_or_other_items(catalog):
    cart = price(catalog, [("mug", 1)], shipping="standard", code="SAVE10", other=5000)
    assert cart.discount_total == 0


def test_minimum_subtotal_is_inclusive(catalog):
    cart = price(catalog, [("thousand", 10)], code="BIGSPENDER")
    assert cart.discount_total == 1000


# --- require_discount -------------------------------------------------------------------------


def test_require_discount_returns_the_catalog_discount(catalog):
    discount = CartRules(catalog, "usd", NOW).require_discount(" save10", 2000)
    assert discount.code == "SAVE10"


def test_require_discount_refuses_an_unknown_code(catalog):
    with pytest.raises(InvalidDiscountCode, match="Unknown"):
        CartRules(catalog, "usd", NOW).require_discount("NOPE", 5000)


def test_require_discount_refuses_an_expired_code(catalog):
    with pytest.raises(InvalidDiscountCode, match="expired"):
        CartRules(catalog, "usd", NOW).require_discount("ENDED", 5000)


def test_require_discount_refuses_an_amount_off_code_in_another_currency(catalog):
    with pytest.raises(InvalidDiscountCode, match="eur"):
        CartRules(catalog, "eur", NOW).require_discount("FIVEOFF", 5000)


def test_require_discount_refuses_a_subtotal_below_the_minimum(catalog):
    with pytest.raises(InvalidDiscountCode) as caught:
        CartRules(catalog, "usd", NOW).require_discount("SAVE10", 1999)
    assert caught.value.extra == {"min_subtotal": 2000}


def test_require_discount_has_no_minimum_in_a_currency_without_one(catalog):
    assert CartRules(catalog, "jpy", NOW).require_discount("SAVE10", 1).code == "SAVE10"


# --- Properties -------------------------------------------------------------------------------

CURRENCIES = ("usd", "eur", "jpy", "kwd")
PROPERTY = settings(deadline=None, max_examples=150)


def increment_of(currency: str) -> int:
    return 10 if currency == "kwd" else 1


@dataclass(frozen=True)
class Setup:
    catalog: Catalog
    currency: str
    selection: Selection
    other_subtotal: int

    def price(self, **changes: Any):
        selection = changes.pop("selection", self.selection)
        other = changes.pop("other_subtotal", self.other_subtotal)
        return price_cart(
            CartRules(self.catalog, self.currency, NOW), selection, other_subtotal=other
        )

    @property
    def discount(self):
        return self.catalog.discounts["CODE"]


def amounts(draw, currency: str, low: int = 0, high: int = 500_000) -> int:
    step = increment_of(currency)
    small = st.integers(low // step, min(high, 1000) // step)
    return draw(st.one_of(small, st.integers(low // step, high // step))) * step


percents = st.one_of(
    st.sampled_from(["10", "12.5", "15", "50"]).map(Decimal),  # rates with exact halves
    st.integers(1, 100).map(Decimal),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2),
)


@st.composite
def setups(draw, kind: str | None = None, with_minimum: bool | None = None) -> Setup:
    """A catalog of 1-5 products, a shipping rate and one discount `CODE`, and a cart of them."""
    currency = draw(st.sampled_from(CURRENCIES))
    count = draw(st.integers(1, 5))
    products = {
        f"p{i}": {
            "id": f"p{i}",
            "name": f"Product {i}",
            "prices": {currency: amounts(draw, currency)},
        }
        for i in range(count)
    }
    shipping = {
        "ship": {"id": "ship", "name": "Ship", "prices": {currency: amounts(draw, currency)}}
    }
    kind = kind or draw(st.sampled_from(["percent", "amount"]))
    discount: dict[str, Any] = {"code": "CODE"}
    if kind == "percent":
        discount["percent_off"] = draw(percents)
    else:
        discount["amount_off"] = {currency: amounts(draw, currency, low=10, high=2_000_000)}
    if with_minimum is None:
        with_minimum = draw(st.booleans())
    if with_minimum:
        discount["min_subtotal"] = {currency: amounts(draw, currency, high=5_000_000)}
    catalog = Catalog.model_validate(
        {"products": products, "shipping": shipping, "discounts": {"CODE": discount}}
    )
    chosen = draw(st.lists(st.sampled_from(sorted(products)), unique=True, max_size=count))
    items = [(pid, draw(st.integers(1, 99))) for pid in chosen]
    selection = Selection.of(
        items,
        shipping_rate_id=draw(st.sampled_from([None, "ship"])),
        discount_code=draw(st.sampled_from([None, "CODE", "code", "UNKNOWN"])),
    )
    other_subtotal = amounts(draw, currency, high=1_000_000)
    return Setup(catalog, currency, selection, other_subtotal)


def charged(cart) -> int:
    """What Stripe would charge for the catalog lines: sum of unit_amount x quantity."""
    return sum(
        charge.unit_amount * charge.quantity for line in cart.lines for charge in line.charges
    )


def charged_line(line) -> int:
    return sum(charge.unit_amount * charge.quantity for charge in line.charges)


@PROPERTY
@given(setups())
def test_total_is_items_plus_other_minus_discount_plus_shipping(setup):
    cart = setup.price()
    assert cart.total == (
        cart.items_subtotal + cart.other_subtotal - cart.discount_total + cart.shipping_total
    )


@PROPERTY
@given(setups())
def test_charges_add_up_to_the_discounted_items_subtotal(setup):
    cart = setup.price()
    assert charged(cart) == cart.items_subtotal - cart.discount_total


@PROPERTY
@given(setups())
def test_line_discounts_add_up_to_the_discount_total(setup):
    cart = setup.price()
    assert sum(line.discount for line in cart.lines) == cart.discount_total


@PROPERTY
@given(setups())
def test_every_charge_has_a_positive_quantity_and_non_negative_price(setup):
    for line in setup.price().lines:
        for charge in line.charges:
            assert charge.quantity >= 1
            assert charge.unit_amount >= 0


@PROPERTY
@given(setups())
def test_every_amount_respects_the_currency_increment(setup):
    step = increment_of(setup.currency)
    cart = setup.price()
    for line in cart.lines:
        assert line.discount % step == 0
        assert all(charge.unit_amount % step == 0 for charge in line.charges)
    assert cart.total % step == 0


@PROPERTY
@given(setups())
def test_charges_of_a_line_cover_its_quantity_at_prices_one_increment_apart(setup):
    step = increment_of(setup.currency)
    for line in setup.price().lines:
        assert sum(charge.quantity for charge in line.charges) == line.quantity
        assert charged_line(line) == line.amount - line.discount
        units = [charge.unit_amount for charge in line.charges]
        assert 1 <= len(units) <= 2
        assert max(units) - min(units) <= step


def half_up(value: Fraction, step: int) -> int:
    return math.floor(value / step + Fraction(1, 2)) * step


@PROPERTY
@given(setups(kind="percent", with_minimum=False))
def test_percent_discount_per_line_is_unit_discount_rounded_half_up_times_quantity(setup):
    cart = setup.price(selection=setup.selection.with_discount("CODE"))
    percent = Fraction(setup.discount.percent_off)
    step = increment_of(setup.currency)
    for line in cart.lines:
        per_unit = min(line.unit_amount, half_up(line.unit_amount * percent / 100, step))
        assert line.discount == per_unit * line.quantity
        assert 0 <= line.discount <= line.amount


@PROPERTY
@given(setups(kind="amount", with_minimum=False))
def test_amount_discount_is_exactly_the_amount_or_the_items_subtotal(setup):
    cart = setup.price(selection=setup.selection.with_discount("CODE"))
    amount_off = setup.discount.amount_off[setup.currency]
    assert cart.discount_total == min(amount_off, cart.items_subtotal)
    assert all(0 <= line.discount <= line.amount for line in cart.lines)


@PROPERTY
@given(setups(), st.sampled_from([None, "ship"]), st.integers(0, 10**6))
def test_shipping_and_other_items_do_not_change_the_discount(setup, rate, other):
    step = increment_of(setup.currency)
    before = setup.price()
    after = setup.price(selection=setup.selection.with_shipping(rate), other_subtotal=other * step)
    assert after.discount == before.discount
    assert after.lines == before.lines


def with_minimum(setup: Setup, minimum: int) -> Catalog:
    discount = setup.discount.model_copy(update={"min_subtotal": {setup.currency: minimum}})
    return setup.catalog.model_copy(update={"discounts": {"CODE": discount}})


@PROPERTY
@given(setups(), st.integers(1, 10**6))
def test_below_the_minimum_a_recorded_code_prices_at_zero_and_stays(setup, shortfall):
    subtotal = setup.price().items_subtotal
    catalog = with_minimum(setup, subtotal + shortfall * increment_of(setup.currency))
    selection = setup.selection.with_discount("CODE")
    cart = price_cart(CartRules(catalog, setup.currency, NOW), selection)
    assert cart.discount == PricedDiscount("CODE", 0)
    assert all(line.discount == 0 for line in cart.lines)
    assert charged(cart) == cart.items_subtotal


@PROPERTY
@given(setups(), st.integers(1, 10**6))
def test_below_the_minimum_require_discount_refuses_the_code(setup, shortfall):
    subtotal = setup.price().items_subtotal
    minimum = subtotal + shortfall * increment_of(setup.currency)
    catalog = with_minimum(setup, minimum)
    with pytest.raises(InvalidDiscountCode) as caught:
        CartRules(catalog, setup.currency, NOW).require_discount("CODE", subtotal)
    assert caught.value.extra == {"min_subtotal": minimum}


@PROPERTY
@given(setups(with_minimum=True))
def test_require_discount_refuses_exactly_the_subtotals_below_the_minimum(setup):
    minimum = setup.discount.min_subtotal[setup.currency]
    subtotal = setup.price().items_subtotal
    if subtotal < minimum:
        with pytest.raises(InvalidDiscountCode):
            CartRules(setup.catalog, setup.currency, NOW).require_discount("CODE", subtotal)
    else:
        assert CartRules(setup.catalog, setup.currency, NOW).require_discount("CODE", subtotal)


@PROPERTY
@given(setups(), st.integers(0, 10**6))
def test_expired_recorded_code_is_dropped(setup, seconds_ago):
    expires_at = NOW - timedelta(seconds=seconds_ago)
    discount = setup.discount.model_copy(update={"expires_at": expires_at})
    catalog = setup.catalog.model_copy(update={"discounts": {"CODE": discount}})
    selection = setup.selection.with_discount("CODE")
    cart = price_cart(CartRules(catalog, setup.currency, NOW), selection)
    assert cart.discount is None
    assert cart.discount_total == 0


@PROPERTY
@given(setups(), st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1))
def test_unknown_recorded_code_is_dropped_whatever_it_is(setup, code):
    assume(code != "CODE")
    cart = setup.price(selection=setup.selection.with_discount(code))
    assert cart.discount is None

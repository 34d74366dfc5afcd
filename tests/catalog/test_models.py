from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from amount_updater.catalog.models import Catalog, Discount, Product, ProductKind, ShippingRate
from amount_updater.money.currencies import MAX_AMOUNT

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def product(**fields) -> Product:
    return Product.model_validate(
        {"id": "tshirt", "name": "T-shirt", "prices": {"usd": 2500}} | fields
    )


def discount(**fields) -> Discount:
    return Discount.model_validate({"code": "SAVE10", "percent_off": 10} | fields)


def test_product_defaults_to_an_item():
    assert product().kind is ProductKind.ITEM


def test_item_quantity_limit_defaults_to_99():
    assert product().quantity_limit == 99


def test_addon_quantity_limit_defaults_to_1():
    assert product(kind="addon").quantity_limit == 1


def test_max_quantity_overrides_the_default_limit():
    assert product(max_quantity=10).quantity_limit == 10
    assert product(kind="addon", max_quantity=3).quantity_limit == 3


@pytest.mark.parametrize("max_quantity", [0, 1000])
def test_max_quantity_outside_1_to_999_is_refused(max_quantity):
    with pytest.raises(ValidationError):
        product(max_quantity=max_quantity)


def test_unknown_product_kind_is_refused():
    with pytest.raises(ValidationError):
        product(kind="bundle")


@pytest.mark.parametrize("product_id", ["", "T-shirt", "-tshirt", "t shirt", "x" * 41])
def test_product_id_must_be_a_short_lowercase_slug(product_id):
    with pytest.raises(ValidationError):
        product(id=product_id)


@pytest.mark.parametrize("product_id", ["t", "gift_wrap", "mug-2", "9lives", "x" * 40])
def test_product_id_slugs_are_accepted(product_id):
    assert product(id=product_id).id == product_id


def test_product_needs_a_name():
    with pytest.raises(ValidationError):
        product(name="")


def test_product_needs_at_least_one_price():
    with pytest.raises(ValidationError):
        product(prices={})


def test_unknown_field_is_refused():
    with pytest.raises(ValidationError, match="colour"):
        product(colour="red")


@pytest.mark.parametrize("price", [25.0, "2500", True])
def test_price_must_be_a_strict_integer(price):
    with pytest.raises(ValidationError):
        product(prices={"usd": price})


@pytest.mark.parametrize("price", [-1, MAX_AMOUNT + 1])
def test_price_outside_zero_to_eight_digits_is_refused(price):
    with pytest.raises(ValidationError):
        product(prices={"usd": price})


def test_zero_price_is_accepted():
    assert product(prices={"usd": 0}).prices == {"usd": 0}


@pytest.mark.parametrize("code", ["USD", "usdollar", "us"])
def test_price_currency_must_be_a_lowercase_code(code):
    with pytest.raises(ValidationError, match="currency code"):
        product(prices={code: 100})


def test_three_decimal_price_must_end_in_zero():
    with pytest.raises(ValidationError, match="multiple of 10"):
        product(prices={"kwd": 7505})


def test_three_decimal_price_ending_in_zero_is_accepted():
    assert product(prices={"kwd": 7500}).prices["kwd"] == 7500


def test_product_is_immutable():
    with pytest.raises(ValidationError):
        product().name = "Other"  # type: ignore[misc]


def test_shipping_rate_checks_its_amounts():
    with pytest.raises(ValidationError, match="multiple of 10"):
        ShippingRate.model_validate({"id": "std", "name": "Standard", "prices": {"kwd": 1}})


def test_discount_needs_percent_off_or_amount_off():
    with pytest.raises(ValidationError, match="exactly one"):
        Discount.model_validate({"code": "NOTHING"})


def test_discount_cannot_have_both_percent_off_and_amount_off():
    with pytest.raises(ValidationError, match="exactly one"):
        discount(amount_off={"usd": 500})


def test_amount_off_discount_is_accepted():
    assert Discount.model_validate({"code": "FIVE", "amount_off": {"usd": 500}}).percent_off is None


@pytest.mark.parametrize("percent", [0, -5, Decimal("100.01")])
def test_percent_off_must_be_above_0_and_at_most_100(percent):
    with pytest.raises(ValidationError):
        discount(percent_off=percent)


def test_percent_off_keeps_decimals_exactly():
    assert discount(percent_off="12.5").percent_off == Decimal("12.5")


@pytest.mark.parametrize("amount", [0, 5.0])
def test_amount_off_must_be_a_positive_strict_integer(amount):
    with pytest.raises(ValidationError):
        Discount.model_validate({"code": "FIVE", "amount_off": {"usd": amount}})


def test_three_decimal_amount_off_must_end_in_zero():
    with pytest.raises(ValidationError, match="multiple of 10"):
        Discount.model_validate({"code": "FIVE", "amount_off": {"kwd": 1505}})


def test_three_decimal_min_subtotal_must_end_in_zero():
    with pytest.raises(ValidationError, match="multiple of 10"):
        discount(min_subtotal={"kwd": 1})


@pytest.mark.parametrize("code", ["save10", "", "SAVE 10", "-SAVE"])
def test_discount_code_must_be_uppercase(code):
    with pytest.raises(ValidationError):
        discount(code=code)


def test_naive_expiry_is_refused():
    with pytest.raises(ValidationError, match="UTC offset"):
        discount(expires_at=datetime(2026, 12, 31))


def test_discount_without_expiry_never_expires():
    assert not discount().is_expired(datetime.max.replace(tzinfo=UTC))


def test_discount_is_expired_from_its_expiry_instant():
    ending = discount(expires_at=NOW)
    assert not ending.is_expired(NOW - timedelta(microseconds=1))
    assert ending.is_expired(NOW)


def test_expiry_with_another_offset_is_compared_as_an_instant():
    ending = discount(expires_at="2026-11-26T01:00:00+01:00")
    assert ending.is_expired(NOW)


def test_catalog_currencies_are_those_of_its_products():
    catalog = Catalog.model_validate(
        {
            "products": {
                "a": {"id": "a", "name": "A", "prices": {"usd": 1, "eur": 1}},
                "b": {"id": "b", "name": "B", "prices": {"jpy": 1}},
            },
            "shipping": {"s": {"id": "s", "name": "S", "prices": {"gbp": 1}}},
        }
    )
    assert catalog.currencies == frozenset({"usd", "eur", "jpy"})


def test_empty_catalog_model_is_allowed():
    assert Catalog().products == {}

from __future__ import annotations

import pytest

from amount_updater.money.currencies import (
    MAX_AMOUNT,
    THREE_DECIMAL,
    ZERO_DECIMAL,
    Currency,
    is_currency_code,
)


def test_two_decimal_currency_has_exponent_2_and_increment_1():
    assert Currency.of("usd") == Currency("usd", 2, 1)


def test_zero_decimal_currency_has_exponent_0():
    assert Currency.of("jpy") == Currency("jpy", 0, 1)


def test_three_decimal_currency_rounds_to_tens():
    assert Currency.of("kwd") == Currency("kwd", 3, 10)


@pytest.mark.parametrize("code", sorted(ZERO_DECIMAL))
def test_every_zero_decimal_currency_is_recognised(code):
    assert Currency.of(code).exponent == 0


@pytest.mark.parametrize("code", sorted(THREE_DECIMAL))
def test_every_three_decimal_currency_has_increment_10(code):
    assert Currency.of(code).increment == 10


def test_currency_code_is_lowercased():
    assert Currency.of("KWD") == Currency.of("kwd")


def test_minimum_charge_is_known_for_usd():
    assert Currency.of("usd").minimum_charge == 50


def test_minimum_charge_is_none_for_unlisted_currency():
    assert Currency.of("kwd").minimum_charge is None


@pytest.mark.parametrize("amount", [0, 1, 2500, MAX_AMOUNT])
def test_valid_amounts_in_usd(amount):
    assert Currency.of("usd").is_valid_amount(amount)


@pytest.mark.parametrize("amount", [-1, MAX_AMOUNT + 1])
def test_amount_outside_zero_to_eight_digits_is_invalid(amount):
    assert not Currency.of("usd").is_valid_amount(amount)


def test_three_decimal_amount_must_end_in_zero():
    kwd = Currency.of("kwd")
    assert kwd.is_valid_amount(7500)
    assert not kwd.is_valid_amount(7505)


def test_largest_three_decimal_amount_is_the_largest_multiple_of_ten():
    kwd = Currency.of("kwd")
    assert not kwd.is_valid_amount(MAX_AMOUNT)
    assert kwd.is_valid_amount(MAX_AMOUNT - 9)


@pytest.mark.parametrize("code", ["usd", "eur", "jpy", "kwd", "abc"])
def test_lowercase_three_letters_is_a_currency_code(code):
    assert is_currency_code(code)


@pytest.mark.parametrize("code", ["USD", "Usd", "us", "usdd", "", "u5d", "us ", "usé"])
def test_anything_else_is_not_a_currency_code(code):
    assert not is_currency_code(code)

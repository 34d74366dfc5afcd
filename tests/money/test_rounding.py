from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amount_updater.money.rounding import allocate, round_half_up


@pytest.mark.parametrize(
    ("value", "expected"),
    [("250.5", 251), ("250.4999", 250), ("250.5001", 251), ("250", 250), ("0.5", 1), ("0", 0)],
)
def test_round_half_up_rounds_exact_halves_up(value, expected):
    assert round_half_up(Decimal(value)) == expected


def test_round_half_up_rounds_negative_halves_away_from_zero():
    assert round_half_up(Decimal("-250.5")) == -251


@pytest.mark.parametrize(
    ("value", "expected"), [("1125", 1130), ("1124.9", 1120), ("1115", 1120), ("4", 0), ("5", 10)]
)
def test_round_half_up_to_an_increment_of_ten(value, expected):
    assert round_half_up(Decimal(value), 10) == expected


def test_round_half_up_returns_an_int():
    assert type(round_half_up(Decimal("2.5"))) is int


def test_allocate_splits_in_proportion():
    assert allocate(500, [2500, 1200]) == [338, 162]


def test_allocate_gives_leftover_units_to_largest_remainders():
    assert allocate(10, [1, 2, 1]) == [3, 5, 2]


def test_allocate_breaks_ties_towards_the_earlier_weight():
    assert allocate(10, [1, 1, 1]) == [4, 3, 3]


def test_allocate_in_steps_of_the_increment():
    assert allocate(100, [1, 1, 1], increment=10) == [40, 30, 30]


def test_allocate_refuses_a_total_that_is_not_a_multiple_of_the_increment():
    with pytest.raises(ValueError, match="multiple of the increment"):
        allocate(105, [1, 1], increment=10)


def test_allocate_zero_total_gives_zero_parts():
    assert allocate(0, [3, 4]) == [0, 0]


def test_allocate_over_all_zero_weights_gives_zero_parts():
    assert allocate(0, [0, 0]) == [0, 0]


def test_allocate_gives_nothing_to_a_zero_weight():
    assert allocate(100, [0, 5, 0]) == [0, 100, 0]


increments = st.sampled_from([1, 10])
weight_lists = st.lists(st.integers(0, 10**7), min_size=1, max_size=12).filter(lambda w: sum(w) > 0)


@st.composite
def allocations(draw):
    increment = draw(increments)
    weights = draw(weight_lists)
    total = draw(st.integers(0, 10**7)) * increment
    return total, weights, increment


@given(allocations())
def test_allocate_parts_sum_to_the_total(case):
    total, weights, increment = case
    assert sum(allocate(total, weights, increment)) == total


@given(allocations())
def test_allocate_parts_are_multiples_of_the_increment(case):
    total, weights, increment = case
    assert all(part % increment == 0 for part in allocate(total, weights, increment))


@given(allocations())
def test_allocate_part_never_exceeds_its_share_rounded_up(case):
    total, weights, increment = case
    parts = allocate(total, weights, increment)
    units, weight_sum = total // increment, sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        ceiling_units = -(-units * weight // weight_sum)
        floor_units = units * weight // weight_sum
        assert floor_units * increment <= part <= ceiling_units * increment


@given(allocations())
def test_allocate_is_deterministic(case):
    total, weights, increment = case
    assert allocate(total, weights, increment) == allocate(total, list(weights), increment)


@given(allocations())
def test_allocate_returns_one_part_per_weight(case):
    total, weights, increment = case
    assert len(allocate(total, weights, increment)) == len(weights)


@given(st.integers(0, 10**9), st.integers(1, 1000), increments)
def test_round_half_up_of_a_non_negative_value_is_floor_of_value_plus_half(
    numerator, denominator, increment
):
    value = Decimal(numerator) / Decimal(denominator)
    steps = math.floor(Fraction(numerator, denominator * increment) + Fraction(1, 2))
    assert round_half_up(value, increment) == steps * increment

"""Exact integer rounding; no floats ever touch an amount."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def round_half_up(value: Decimal, increment: int = 1) -> int:
    """Round `value` (minor units) half up to a multiple of `increment`.

    Half up means away from zero at exactly .5, which is how the catalog's percent discounts are
    documented: 10 % of 2,505 cents is 250.5 and becomes 251.
    """
    steps = (value / increment).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(steps) * increment


def allocate(total: int, weights: list[int], increment: int = 1) -> list[int]:
    """Split `total` over `weights` in proportion (largest remainder), in steps of `increment`.

    The parts always add up to `total` exactly (when `total` is a multiple of `increment`).
    Ties go to the earlier weight, so the split is deterministic.
    """
    if total % increment:
        raise ValueError("total must be a multiple of the increment")
    weight_sum = sum(weights)
    if weight_sum <= 0:
        return [0] * len(weights)
    units = total // increment
    floors = [units * w // weight_sum for w in weights]
    remainders = [units * w % weight_sum for w in weights]
    leftover = units - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:leftover]:
        floors[i] += 1
    return [part * increment for part in floors]

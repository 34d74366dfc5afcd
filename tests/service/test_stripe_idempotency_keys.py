"""Stripe idempotency keys for the service's writes: a retry of one write gets the same key,
any other write (or the same write asked by another caller) another one, and the derivation is
pinned: a write left pending across a deploy is sent again with its recorded key, but a key
derived differently for the same intended write would not be recognised by Stripe."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from amount_updater.service.stripe_idempotency_keys import derive_key
from amount_updater.stripe_gateway.models import KeepLine, NewLine

METADATA = {"amount_updater_rev": "3", "amount_updater_discount": ""}
LINES = (
    KeepLine("li_1"),
    KeepLine("li_2", 2),
    NewLine("Gift Wrap", 500, 1, {"product_id": "gift_wrap"}),
)
# What this derivation gives for these: a new line now carries its tax code and behaviour
# (the previous release gave 5bec1191..., the one before, hashing the caller's key apart,
# f875d52c...). A retry across such a release is still applied once: its request marker is on
# the object, and a pending write is settled with the key it was sent with.
PINNED = "au-cs-update-6fd4fa11647ffa84f4d292b319126b28942b2718"


def test_the_derivation_is_pinned():
    key = derive_key("cs-update:cs_test_1:2", "caller-key", METADATA, LINES)
    assert key == PINNED


def test_a_retry_of_the_same_write_gets_the_same_key():
    first = derive_key("cs-update:cs_test_1:2", "k", dict(METADATA), LINES)
    again = derive_key("cs-update:cs_test_1:2", "k", dict(reversed(METADATA.items())), LINES)
    assert first == again  # metadata key order does not matter
    assert first.startswith("au-cs-update-")


@pytest.mark.parametrize(
    ("scope", "caller_key", "lines"),
    [
        ("cs-update:cs_test_1:3", "k", LINES),  # another revision
        ("cs-update:cs_test_2:2", "k", LINES),  # another session
        ("cs-update:cs_test_1:2", "other", LINES),  # another caller key
        ("cs-update:cs_test_1:2", None, LINES),  # no caller key
        ("cs-update:cs_test_1:2", "k", LINES[:2]),  # another state
        ("cs-update:cs_test_1:2", "k", (KeepLine("li_1", 1), *LINES[1:])),
    ],
)
def test_any_other_write_gets_another_key(scope, caller_key, lines):
    # `caller_key` stands for anything naming the caller: its scope, key, or request markers.
    assert derive_key(scope, caller_key, METADATA, lines) != derive_key(
        "cs-update:cs_test_1:2", "k", METADATA, LINES
    )


def test_two_kinds_of_line_with_the_same_fields_differ():
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Other:
        id: str
        quantity: int | None = None

    assert derive_key("s", None, (KeepLine("li_1"),)) != derive_key("s", None, (Other("li_1"),))


def test_a_value_that_cannot_be_part_of_a_key_is_refused():
    with pytest.raises(TypeError):
        derive_key("s", None, MappingProxyType({"a": "b"}))

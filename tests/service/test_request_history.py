"""The markers of the requests that changed an object, kept in its metadata."""

from __future__ import annotations

import pytest

from amount_updater.service.changes import AddItem, SetQuantity
from amount_updater.service.request_history import (
    HISTORY_KEY,
    MAX_MARKERS,
    Origin,
    history_value,
    read_history,
    with_markers,
)

ADD_MUG = AddItem("mug", 1)


def marker(n: int) -> str:
    return f"{n:024x}"


class TestMarker:
    def test_is_stable_for_one_request(self):
        origin = Origin("token:cs_1", "key-1")
        assert origin.marker(ADD_MUG) == Origin("token:cs_1", "key-1").marker(AddItem("mug", 1))

    def test_differs_between_keys(self):
        markers = {Origin("token:cs_1", f"key-{n}").marker(ADD_MUG) for n in range(100)}
        assert len(markers) == 100

    def test_differs_between_callers_with_the_same_key(self):
        shopper = Origin("anonymous:10.0.0.1", "order-1001").marker(ADD_MUG)
        other = Origin("anonymous:10.0.0.2", "order-1001").marker(ADD_MUG)
        assert shopper != other

    def test_differs_between_changes_under_one_key(self):
        origin = Origin("token:cs_1", "key-1")
        assert origin.marker(ADD_MUG) != origin.marker(SetQuantity("mug", 1))

    @pytest.mark.parametrize("key", [None, ""])
    def test_is_empty_without_a_key(self, key: str | None):
        assert Origin("token:cs_1", key).marker(ADD_MUG) == ""

    def test_does_not_reveal_the_key_or_the_caller(self):
        value = Origin("api_key:key_abc", "order-7f3a-secret").marker(ADD_MUG)
        assert "order" not in value
        assert "key_abc" not in value
        assert len(value) == 24
        assert set(value) <= set("0123456789abcdef")


class TestHistory:
    def test_reads_the_markers_oldest_first(self):
        metadata = {HISTORY_KEY: f"{marker(1)} {marker(2)}"}
        assert read_history(metadata) == (marker(1), marker(2))

    def test_one_marker_of_the_previous_format_is_a_history_of_one(self):
        assert read_history({HISTORY_KEY: marker(7)}) == (marker(7),)

    @pytest.mark.parametrize(
        "value",
        ["", "  ", "not a marker", "ZZ" * 12, "ABCDEF" * 4, marker(1) + "0", "²" * 24],
    )
    def test_anything_that_is_not_a_marker_is_ignored(self, value: str):
        assert read_history({HISTORY_KEY: value}) == ()

    def test_a_missing_value_is_an_empty_history(self):
        assert read_history({}) == ()

    def test_new_markers_go_last_and_empty_ones_are_skipped(self):
        assert with_markers((marker(1),), ["", marker(2)]) == (marker(1), marker(2))

    def test_a_marker_already_recorded_is_not_recorded_twice(self):
        assert with_markers((marker(1),), [marker(1)]) == (marker(1),)

    def test_the_oldest_markers_go_past_the_limit(self):
        full = tuple(marker(n) for n in range(MAX_MARKERS))
        assert with_markers(full, [marker(99)]) == (*full[1:], marker(99))

    def test_a_full_history_fits_in_one_stripe_metadata_value(self):
        full = tuple(marker(n) for n in range(MAX_MARKERS))
        assert len(history_value(full)) <= 500
        assert read_history({HISTORY_KEY: history_value(full)}) == full

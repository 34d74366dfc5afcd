"""The serving worker's garbage-collector settings."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from amount_updater.gc_tuning import YOUNG_COLLECTION_THRESHOLD, tune_garbage_collector


@pytest.fixture
def restored_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_collector")
def test_start_up_objects_are_frozen_and_young_collections_are_rarer():
    _, middle, old = gc.get_threshold()
    tune_garbage_collector()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, middle, old)

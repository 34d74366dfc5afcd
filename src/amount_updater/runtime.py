"""Process settings for a serving worker."""

from __future__ import annotations

import gc

# Allocations between two young-generation collections. CPython's default (700) makes a server
# that allocates a few thousand short-lived objects per request collect several times per
# request; every object here dies young, with its request.
YOUNG_COLLECTION_THRESHOLD = 20_000


def tune_garbage_collector() -> None:
    """Freeze what start-up built (modules, the app, the catalog) out of the collector's scans,
    and collect the young generation less often. Measured in `make bench` (scenario A): about
    +5% updates/s, within the machine's noise on one run, repeatable over several."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, old)

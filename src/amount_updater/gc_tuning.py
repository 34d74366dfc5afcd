"""Process settings for a serving worker."""

from __future__ import annotations

import gc

# Allocations between two young-generation collections. CPython's default (700) makes a server
# that allocates a few thousand short-lived objects per request collect several times per
# request, though nearly all of them die with their request anyway.
YOUNG_COLLECTION_THRESHOLD = 20_000


def tune_garbage_collector() -> None:
    """Freeze what start-up built (modules, the app, the catalog) out of the collector's scans,
    and collect the young generation less often (`benchmarks/README.md` has the effect)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, old)

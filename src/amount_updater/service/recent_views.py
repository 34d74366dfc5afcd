"""The carts read or written in the last moments, to answer repeated cart reads from memory.

A storefront polls its cart (a page open in two tabs, a script checking the total): every read
would otherwise cost a Stripe call, from the account's shared rate budget. So a cart read is
answered from the view of the last read or write of that object by this process, when that is
at most `ttl_s` old (2 seconds). Changes never use it: they always read the object from Stripe.
A change made through another replica, or on Stripe's side, shows in reads here at most that
much later.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from amount_updater.service.cart import CartView

READ_TTL_S = 2.0


class RecentViews:
    def __init__(
        self,
        *,
        ttl_s: float = READ_TTL_S,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._views: OrderedDict[str, tuple[float, CartView]] = OrderedDict()
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock

    def __len__(self) -> int:
        return len(self._views)

    def remember(self, object_id: str, view: CartView) -> None:
        if self._ttl_s <= 0:
            return
        self._views.pop(object_id, None)
        self._views[object_id] = (self._clock() + self._ttl_s, view)
        while len(self._views) > self._max_entries:
            self._views.popitem(last=False)

    def recall(self, object_id: str) -> CartView | None:
        found = self._views.get(object_id)
        if found is None:
            return None
        if found[0] <= self._clock():
            del self._views[object_id]
            return None
        return found[1]

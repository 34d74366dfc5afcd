"""Stripe's rate limits, spent by the service before each call instead of drawn as 429s.

Stripe allows by default 100 requests per second per account in live mode and 25 in test mode,
and 25 per second per endpoint (a method and path template: reading sessions and updating them
are two endpoints). Past them it answers 429, which costs a round trip and a retry. So every
call first takes one request from two moving one-second windows, the account's and its
endpoint's (`limits`' moving-window limiter, in memory or, with Redis, shared by every replica
of one shop). When either is spent, the call waits until the window frees a request, as long
as that is within the request's budget; otherwise it is refused at once (429 `rate_limited`,
nothing sent), rather than after a wait that could not succeed. If the shared windows cannot be
read (Redis down), the call goes ahead uncounted: the budget only spares round trips, and a
change needs Redis for its lock anyway.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from contextvars import ContextVar

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from amount_updater.errors import StripeRateLimited

# Stripe's published defaults, less a tenth kept in reserve: a request counted here at one
# moment reaches Stripe's own window a little later, so a budget spent to the last request
# would now and then draw a 429 at a window's edge.
LIVE_PER_SECOND = 90  # Stripe: 100 in live mode
TEST_PER_SECOND = 22  # Stripe: 25 in test mode
ENDPOINT_PER_SECOND = 22  # Stripe: 25 per endpoint
logger = logging.getLogger(__name__)

NAMESPACE = "au-stripe"
_prepaid: ContextVar[str | None] = ContextVar("amount_updater_prepaid_request", default=None)


class StripeRateBudget:
    """Usage::

    budget = StripeRateBudget(MovingWindowRateLimiter(MemoryStorage()), per_second=25,
                              per_endpoint=25)
    await budget.spend("checkout.sessions.update", deadline=loop.time() + 5)
    """

    def __init__(
        self,
        limiter: MovingWindowRateLimiter,
        *,
        per_second: int,
        per_endpoint: int,
        on_wait: Callable[[], None] | None = None,
    ) -> None:
        self._limiter = limiter
        self._account: RateLimitItem | None = (
            RateLimitItemPerSecond(per_second, 1, namespace=NAMESPACE) if per_second else None
        )
        self._endpoint: RateLimitItem | None = (
            RateLimitItemPerSecond(per_endpoint, 1, namespace=NAMESPACE) if per_endpoint else None
        )
        self._on_wait = on_wait
        self._turns: dict[str, asyncio.Lock] = {}

    async def spend(self, endpoint: str, *, deadline: float | None) -> None:
        """Take one request for `endpoint` from the budget, waiting for one if need be.

        `deadline` is the event loop's time by which the caller must be done; None: no limit.
        """
        if _prepaid.get() == endpoint:
            _prepaid.set(None)
            return
        # Callers wait their turn in arrival order, one at a time per endpoint: without it,
        # every waiter would wake each time the window frees one request.
        turn = self._turns.setdefault(endpoint, asyncio.Lock())
        waited = turn.locked()
        async with turn:
            while True:
                wait = await self._take(endpoint)
                if wait is None:
                    break
                waited = True
                loop = asyncio.get_running_loop()
                if deadline is not None and loop.time() + wait > deadline:
                    raise StripeRateLimited(
                        "The shop's Stripe request budget is spent for now; try again shortly.",
                        headers={"Retry-After": "1"},
                    )
                await asyncio.sleep(wait)
        if waited and self._on_wait is not None:
            self._on_wait()

    async def prepay(self, endpoint: str, *, deadline: float | None) -> None:
        """Take a request for `endpoint` now, for the next call to it from this task. A queue of
        changes takes its read's request before it forms its batch, so that the changes that
        arrive while it waits for its turn join the batch."""
        await self.spend(endpoint, deadline=deadline)
        _prepaid.set(endpoint)

    async def _take(self, endpoint: str) -> float | None:
        """None when a request was taken from both windows (or they cannot be read); else
        seconds to wait first."""
        try:
            return await self._take_from_windows(endpoint)
        except StorageError:
            logger.warning("stripe_budget.unavailable", extra={"endpoint": endpoint})
            return None

    async def _take_from_windows(self, endpoint: str) -> float | None:
        limiter, account, per_endpoint = self._limiter, self._account, self._endpoint
        if per_endpoint is not None and not await limiter.test(per_endpoint, "endpoint", endpoint):
            return await self._until_free(per_endpoint, "endpoint", endpoint)
        if account is not None and not await limiter.hit(account, "account"):
            return await self._until_free(account, "account")
        if per_endpoint is not None and not await limiter.hit(per_endpoint, "endpoint", endpoint):
            # Another request took the endpoint's last one since the test: the account's request
            # taken above is not given back (the budget errs on the safe side).
            return await self._until_free(per_endpoint, "endpoint", endpoint)
        return None

    async def _until_free(self, item: RateLimitItem, *identifiers: str) -> float:
        stats = await self._limiter.get_window_stats(item, *identifiers)
        return max(stats.reset_time - time.time(), 0.001)


def account_rate(secret_key: str, configured: int | None, sandbox: bool = False) -> int:
    """The account's requests per second: as configured, or from Stripe's default for the
    key's mode (live keys start with sk_live_ or rk_live_); none in sandbox mode, whose
    emulator has no limits."""
    if configured is not None:
        return configured
    if sandbox:
        return 0
    return LIVE_PER_SECOND if secret_key.startswith(("sk_live_", "rk_live_")) else TEST_PER_SECOND


def endpoint_rate(configured: int | None, sandbox: bool = False) -> int:
    """Requests per second per endpoint: as configured, or from Stripe's default (none in
    sandbox mode)."""
    if configured is not None:
        return configured
    return 0 if sandbox else ENDPOINT_PER_SECOND

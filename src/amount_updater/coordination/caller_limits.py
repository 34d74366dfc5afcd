"""The service's own rate limits, by who is asking.

- anonymous callers (a shopper's browser creating a cart, reading the catalog or a quote) are
  counted per client address;
- token holders (the shopper's page changing or reading its one object) per object;
- API-key callers (a shop's own servers, all behind one address) per key, sized for a busy shop.

Stripe's own limit of 1,000 updates per PaymentIntent an hour is counted per object for every
caller. Windows are `limits`' moving windows, in memory or in the Redis every replica shares. If
Redis cannot be reached a limit is not enforced (fail open) and a warning is logged: a missed
count cannot corrupt a cart, and changes fail closed on their lock anyway.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from limits import (
    RateLimitItem,
    RateLimitItemPerHour,
    RateLimitItemPerMinute,
    RateLimitItemPerSecond,
)
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from amount_updater.auth.authenticator import Caller
from amount_updater.config import Settings
from amount_updater.errors import RateLimited

logger = logging.getLogger(__name__)

Action = Literal["create", "change", "read"]
NAMESPACE = "callers"


@dataclass(frozen=True, slots=True)
class Limit:
    """One limit: `item` (count per window; None: off), what it counts, the setting that sets it."""

    name: str
    item: RateLimitItem | None
    per: str
    setting: str

    def describe(self) -> str:
        if self.item is None:
            return "off"
        window = self.item.GRANULARITY.name
        return f"{self.item.amount} per {window} per {self.per}"


def _limit(name: str, count: int, window: type[RateLimitItem], per: str, setting: str) -> Limit:
    return Limit(name, window(count, 1, namespace=NAMESPACE) if count else None, per, setting)


@dataclass(frozen=True, slots=True)
class CallerLimits:
    anonymous_creates: Limit
    anonymous_reads: Limit
    token_changes: Limit
    token_reads: Limit
    api_key_requests: Limit
    object_changes_hourly: Limit

    @classmethod
    def from_settings(cls, settings: Settings) -> CallerLimits:
        prefix = "AMOUNT_UPDATER_RATE_LIMIT_"
        return cls(
            anonymous_creates=_limit(
                "anonymous_creates",
                settings.rate_limit_creates_per_minute,
                RateLimitItemPerMinute,
                "client address",
                prefix + "CREATES_PER_MINUTE",
            ),
            anonymous_reads=_limit(
                "anonymous_reads",
                settings.rate_limit_anonymous_reads_per_minute,
                RateLimitItemPerMinute,
                "client address",
                prefix + "ANONYMOUS_READS_PER_MINUTE",
            ),
            token_changes=_limit(
                "token_changes",
                settings.rate_limit_changes_per_minute,
                RateLimitItemPerMinute,
                "object",
                prefix + "CHANGES_PER_MINUTE",
            ),
            token_reads=_limit(
                "token_reads",
                settings.rate_limit_reads_per_minute,
                RateLimitItemPerMinute,
                "object",
                prefix + "READS_PER_MINUTE",
            ),
            api_key_requests=_limit(
                "api_key_requests",
                settings.rate_limit_api_key_per_second,
                RateLimitItemPerSecond,
                "API key",
                prefix + "API_KEY_PER_SECOND",
            ),
            object_changes_hourly=_limit(
                "object_changes_hourly",
                settings.rate_limit_changes_per_hour,
                RateLimitItemPerHour,
                "object",
                prefix + "CHANGES_PER_HOUR",
            ),
        )

    def described(self) -> dict[str, str]:
        """Each limit in words, for /readyz."""
        return {
            limit.name: limit.describe()
            for limit in (
                self.anonymous_creates,
                self.anonymous_reads,
                self.token_changes,
                self.token_reads,
                self.api_key_requests,
                self.object_changes_hourly,
            )
        }

    def applying(
        self, caller: Caller, action: Action, object_id: str | None
    ) -> list[tuple[Limit, str]]:
        """The limits a request of `caller` doing `action` counts against, with their subjects."""
        if caller.kind == "api_key":
            counted = [(self.api_key_requests, caller.id)]
        elif caller.kind == "token":
            counted = [(self.token_reads if action == "read" else self.token_changes, caller.id)]
        else:
            anonymous = self.anonymous_creates if action == "create" else self.anonymous_reads
            counted = [(anonymous, caller.id)]
        if action == "change" and object_id is not None:
            counted.append((self.object_changes_hourly, object_id))
        return counted


class CallerLimiter:
    def __init__(
        self,
        limiter: MovingWindowRateLimiter,
        limits: CallerLimits,
        *,
        on_refusal: Callable[[str], None],
    ) -> None:
        self._limiter = limiter
        self.limits = limits
        self._on_refusal = on_refusal

    async def check(self, caller: Caller, action: Action, object_id: str | None = None) -> None:
        """Count this request; 429 `rate_limited` (with Retry-After) when a limit is spent."""
        for limit, subject in self.limits.applying(caller, action, object_id):
            if limit.item is None:
                continue
            try:
                if await self._limiter.hit(limit.item, limit.name, subject):
                    continue
                stats = await self._limiter.get_window_stats(limit.item, limit.name, subject)
            except StorageError:
                logger.warning("rate_limit.unavailable", extra={"limit": limit.name})
                continue
            self._on_refusal(limit.name)
            # `limits` keeps its windows by the wall clock (time.time), in memory and in Redis. A
            # hit leaves the window strictly after it ends: a whole second past it, to be sure.
            retry_after = max(1, math.floor(stats.reset_time - time.time()) + 1)
            raise RateLimited(
                f"Rate limit reached: {limit.describe()} ({limit.setting}); retry in"
                f" {retry_after} s.",
                headers={"Retry-After": str(retry_after)},
                extra={"limit": limit.name, "retry_after": retry_after},
            )

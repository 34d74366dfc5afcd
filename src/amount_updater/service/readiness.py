"""Readiness: the catalog, Stripe (a cheap call, cached) and Redis when configured."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from amount_updater.catalog.repository import CatalogSource
from amount_updater.stripe_gateway import StripeGateway

STRIPE_CHECK_TTL_S = 30.0
CHECK_TIMEOUT_S = 2.0


class Readiness:
    def __init__(
        self,
        gateway: StripeGateway,
        redis: Redis | None,
        catalog: CatalogSource,
        rate_limits: dict[str, str],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._gateway = gateway
        self._redis = redis
        self.catalog = catalog
        self.rate_limits = rate_limits
        self._clock = clock
        self._stripe: tuple[float, str] | None = None  # (checked at, result)

    async def check(self) -> dict[str, str]:
        """Each dependency's state: "ok" or what is wrong."""
        checks = {"catalog": "ok", "stripe": await self._stripe_state()}
        if self._redis is not None:
            checks["redis"] = await self._redis_state()
        return checks

    async def _stripe_state(self) -> str:
        now = self._clock()
        if self._stripe is None or now - self._stripe[0] > STRIPE_CHECK_TTL_S:
            try:
                async with asyncio.timeout(CHECK_TIMEOUT_S):
                    problem = await self._gateway.ping()
            except TimeoutError:
                problem = "timeout"
            self._stripe = (now, problem or "ok")
        return self._stripe[1]

    async def _redis_state(self) -> str:
        assert self._redis is not None
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_S):
                await self._redis.ping()
        except (RedisError, OSError, TimeoutError):
            return "unreachable"
        return "ok"

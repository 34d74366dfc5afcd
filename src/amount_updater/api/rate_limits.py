"""The service's own rate limits, as dependencies of the routes they protect."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from amount_updater.coordination.rate_limits import Limit, RateLimiter
from amount_updater.errors import RateLimited


@dataclass(frozen=True, slots=True)
class RateLimits:
    creates: Limit  # per client address
    changes_per_minute: Limit  # per object
    changes_per_hour: Limit  # per object
    reads_per_minute: Limit  # per object: every cart read costs a Stripe call


async def _enforce(request: Request, limit: Limit, subject: str) -> None:
    limiter: RateLimiter = request.state.rate_limiter
    retry_after = await limiter.check(limit, subject)
    if retry_after is not None:
        raise RateLimited(
            f"Too many requests ({limit.count} per {limit.window_s} s); retry later.",
            headers={"Retry-After": str(int(retry_after + 0.999))},
        )


async def limit_creation(request: Request) -> None:
    """Per client address. Behind a proxy, run uvicorn with --forwarded-allow-ips so that the
    address is the shopper's, not the proxy's."""
    limits: RateLimits = request.state.rate_limits
    address = request.client.host if request.client else "unknown"
    await _enforce(request, limits.creates, address)


async def limit_changes(request: Request, object_id: str) -> None:
    limits: RateLimits = request.state.rate_limits
    await _enforce(request, limits.changes_per_minute, object_id)
    await _enforce(request, limits.changes_per_hour, object_id)


async def limit_reads(request: Request, object_id: str) -> None:
    limits: RateLimits = request.state.rate_limits
    await _enforce(request, limits.reads_per_minute, object_id)

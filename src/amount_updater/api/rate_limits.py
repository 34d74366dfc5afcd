"""The service's own rate limits, as dependencies of the routes they protect: each request
counts against the limits of its caller's class (coordination/caller_limits.py)."""

from __future__ import annotations

from fastapi import Request

from amount_updater.api.deps import ApiKeyCaller, CredentialsDep
from amount_updater.auth.authenticator import Caller
from amount_updater.coordination.caller_limits import Action, CallerLimiter


async def count_request(
    request: Request, caller: Caller, action: Action, object_id: str | None = None
) -> None:
    """429 `rate_limited` when `caller` has spent a limit that `action` counts against."""
    limiter: CallerLimiter = request.state.caller_limiter
    await limiter.check(caller, action, object_id)


async def limit_creation(request: Request, credentials: CredentialsDep) -> None:
    """A shop's server (X-API-Key) per key; a shopper's browser per client address, which
    behind a proxy is the shopper's only when AMOUNT_UPDATER_TRUSTED_PROXIES names it."""
    await count_request(request, credentials.caller(), "create")


async def limit_reads(request: Request, credentials: CredentialsDep) -> None:
    """Catalog and quotes: per key with an API key, else per client address."""
    await count_request(request, credentials.caller(), "read")


async def limit_api_key(request: Request, caller: ApiKeyCaller) -> None:
    """Routes for a shop's servers only: per key (401 first without a valid one)."""
    await count_request(request, caller, "read")

"""The time one request may take, Stripe retries and lock waits included."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from amount_updater.errors import StripeTimeout
from amount_updater.observability import context


@asynccontextmanager
async def within(seconds: float) -> AsyncIterator[None]:
    """Cancel the work after `seconds` and answer 504, well before the storefront gives up."""
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError:
        raise StripeTimeout(
            f"The change did not complete within {seconds:g} s. Retry with the same "
            "Idempotency-Key: a change that did reach Stripe is not applied twice."
        ) from None


def request_marker(idempotency_key: str | None, change: object = None) -> str:
    """What the service records on the Stripe object for the request that last changed it.

    It covers the caller (keys are scoped per caller, as in the Idempotency-Key store), the key
    and the change itself, so only a retry of the very same request matches it.
    """
    if not idempotency_key:
        return ""
    ctx = context.current()
    caller = ctx.caller if ctx is not None and ctx.caller else ""
    material = "\0".join((caller, idempotency_key, repr(change)))
    return hashlib.sha256(material.encode()).hexdigest()[:24]

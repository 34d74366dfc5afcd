"""The time one request may take, Stripe retries and lock waits included."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from amount_updater.errors import StripeTimeout


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


def request_marker(idempotency_key: str | None) -> str:
    """What the service records on the Stripe object for the request that last changed it."""
    if not idempotency_key:
        return ""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]

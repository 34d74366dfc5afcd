"""The time one request may take, Stripe retries and lock waits included."""

from __future__ import annotations

import asyncio
import hashlib
from types import TracebackType

from amount_updater.errors import StripeTimeout
from amount_updater.observability import context


class within:  # lower case: used as `async with within(seconds)`, like asyncio.timeout
    """Cancel the work after `seconds` and answer 504, well before the storefront gives up.

    A class rather than an @asynccontextmanager: it runs on every change, and the generator
    machinery cost as much as the timeout itself.
    """

    __slots__ = ("_seconds", "_timeout")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._timeout: asyncio.Timeout | None = None

    async def __aenter__(self) -> None:
        self._timeout = asyncio.timeout(self._seconds)  # the clock starts on entry
        await self._timeout.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._timeout is not None
        try:
            await self._timeout.__aexit__(exc_type, exc, traceback)
        except TimeoutError:
            raise self._expired() from None
        if exc_type is not None and issubclass(exc_type, TimeoutError):
            raise self._expired() from None  # a timeout within the work: the same answer

    def _expired(self) -> StripeTimeout:
        return StripeTimeout(
            f"The change did not complete within {self._seconds:g} s. Retry with the same "
            "Idempotency-Key: a change that did reach Stripe is not applied twice."
        )


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

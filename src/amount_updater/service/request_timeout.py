"""The time one request may take, Stripe retries and lock waits included."""

from __future__ import annotations

import asyncio
from contextvars import Token
from types import TracebackType

from amount_updater.deadlines import reset_deadline, set_deadline
from amount_updater.errors import StripeTimeout


class within:  # lower case: used as `async with within(seconds)`, like asyncio.timeout
    """Cancel the work after `seconds` and answer 504, well before the storefront gives up.

    A class rather than an @asynccontextmanager: it runs on every change, and the generator
    machinery cost as much as the timeout itself.
    """

    __slots__ = ("_seconds", "_timeout", "_token")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._timeout: asyncio.Timeout | None = None
        self._token: Token[float | None] | None = None

    async def __aenter__(self) -> None:
        self._timeout = asyncio.timeout(self._seconds)  # the clock starts on entry
        await self._timeout.__aenter__()
        self._token = set_deadline(asyncio.get_running_loop().time() + self._seconds)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._timeout is not None
        assert self._token is not None
        reset_deadline(self._token)
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

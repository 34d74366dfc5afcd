"""One HTTP exchange with Stripe's API over an httpx transport, in Stripe's wire format.

It sends exactly what stripe-python would (form body, bearer key, the API version stripe-python
pins, the idempotency key) and reads the JSON answer as plain dicts, skipping the SDK's
requestor and object layers, which cost about 2 ms of CPU per call. Errors are raised as
stripe-python's own exception classes, chosen the way stripe-python chooses them, so everything
above this module handles Stripe's errors one way.

Requests go straight to the transport (`handle_async_request`, httpx's transport interface):
the client layer's cookie jar, redirect loop and auth flow, which Stripe calls never use, cost a
fifth of a change's CPU. One exchange, answer included, takes at most `timeout_s` (httpx's
timeouts bound each read, not an answer that trickles in forever), and an answer over
`max_answer_bytes` once decoded (an endless body, a compressed bomb) is refused without being
kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx
import orjson
import stripe

from amount_updater import __version__
from amount_updater.stripe_gateway.forms import encode_form

API_VERSION: str = stripe.api_version  # the version stripe-python's types describe
USER_AGENT = f"amount-updater/{__version__} stripe-python/{stripe.VERSION}"
FORM = b"application/x-www-form-urlencoded"
MAX_ANSWER_BYTES = 4 * 1024 * 1024  # Stripe's answers here are a few KB; a page of 100 lines
# of a session about 150 KB


class AnswerTooLarge(Exception):
    """Stripe's answer (decoded) was larger than the wire accepts."""


class StripeWire:
    def __init__(
        self,
        transport: httpx.AsyncBaseTransport,
        *,
        secret_key: str,
        api_base: str,
        timeout_s: float,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        self._transport = transport
        self._base = api_base.rstrip("/")
        # Connecting and waiting for a pooled connection are bounded by the transport; reads are
        # not (no timer re-armed on every chunk): the whole exchange is bounded below.
        self._extensions = {"timeout": httpx.Timeout(timeout_s, read=None).as_dict()}
        self._timeout_s = timeout_s
        self._max_answer_bytes = max_answer_bytes
        # Encoded once: httpx then has less to normalise per request.
        self._headers = [
            (b"Authorization", f"Bearer {secret_key}".encode()),
            (b"Stripe-Version", API_VERSION.encode()),
            (b"User-Agent", USER_AGENT.encode()),
        ]

    async def call(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any],
        idempotency_key: str | None = None,
    ) -> tuple[dict[str, Any], str | None]:
        """The decoded JSON object and Stripe's request id; a stripe.StripeError otherwise."""
        headers = list(self._headers)
        form = encode_form(params)
        url = self._base + path
        content = None
        if method == "get":
            if form:
                url = f"{url}?{form}"
        else:
            content = form.encode()
            headers.append((b"Content-Type", FORM))
            if idempotency_key is not None:
                headers.append((b"Idempotency-Key", idempotency_key.encode()))
        try:
            async with asyncio.timeout(self._timeout_s):
                request = httpx.Request(
                    method.upper(),
                    url,
                    content=content,
                    headers=headers,
                    extensions=self._extensions,
                )
                response = await self._transport.handle_async_request(request)
                try:
                    body = await self._read(response)
                finally:
                    await response.aclose()
        except TimeoutError:
            raise stripe.APIConnectionError(  # type: ignore[no-untyped-call]  # untyped in the SDK
                f"Stripe did not answer within {self._timeout_s:g} s.", should_retry=True
            ) from httpx.ReadTimeout("the whole exchange took too long")
        except AnswerTooLarge as exc:
            raise stripe.APIConnectionError(  # type: ignore[no-untyped-call]
                f"Stripe's answer exceeded {self._max_answer_bytes} bytes.", should_retry=False
            ) from exc
        except httpx.HTTPError as exc:
            raise stripe.APIConnectionError(  # type: ignore[no-untyped-call]
                f"Could not reach Stripe ({type(exc).__name__}).", should_retry=True
            ) from exc
        request_id = response.headers.get("request-id")
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            data = None
        if not 200 <= response.status_code < 300 or not isinstance(data, dict):
            raise _error(response, body, data)
        return data, request_id

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def _read(self, response: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self._max_answer_bytes:
                raise AnswerTooLarge(size)
            chunks.append(chunk)
        return b"".join(chunks)


def _error(response: httpx.Response, raw: bytes, data: Any) -> stripe.StripeError:
    """stripe-python's exception for this answer (as its requestor picks it for API v1)."""
    status = response.status_code
    body = raw.decode("utf-8", "replace")
    headers = dict(response.headers)
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return stripe.APIError(
            f"Invalid response from Stripe (HTTP {status}).", body, status, data, headers
        )
    message, code, param = error.get("message"), error.get("code"), error.get("param")
    if status == 429 or (status == 400 and code == "rate_limit"):
        return stripe.RateLimitError(message, body, status, data, headers)
    if status in (400, 404):
        if error.get("type") == "idempotency_error":
            return stripe.IdempotencyError(message, body, status, data, headers)
        return stripe.InvalidRequestError(  # type: ignore[no-untyped-call]  # untyped in the SDK
            message, param, code, body, status, data, headers
        )
    if status == 401:
        return stripe.AuthenticationError(message, body, status, data, headers)
    if status == 402:
        return stripe.CardError(  # type: ignore[no-untyped-call]  # untyped in the SDK
            message, param, code, body, status, data, headers
        )
    if status == 403:
        return stripe.PermissionError(message, body, status, data, headers)
    return stripe.APIError(message, body, status, data, headers)

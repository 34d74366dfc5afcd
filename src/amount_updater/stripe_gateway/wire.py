"""One HTTP exchange with Stripe's API over httpx, in Stripe's wire format.

The gateway's hot path: it sends exactly what stripe-python would (form body, bearer key, the
API version stripe-python pins, the idempotency key) and reads the JSON answer as plain dicts,
skipping the SDK's requestor and object layers (about 2 ms of CPU per call, measured in
performance-notes.md). Errors are raised as stripe-python's own exception classes, chosen the
way stripe-python chooses them, so everything above this module handles Stripe's errors one way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import stripe

from amount_updater import __version__
from amount_updater.stripe_gateway.forms import encode_form

API_VERSION: str = stripe.api_version  # the version stripe-python's types describe
USER_AGENT = f"amount-updater/{__version__} stripe-python/{stripe.VERSION}"
FORM = b"application/x-www-form-urlencoded"


class StripeWire:
    def __init__(
        self, http: httpx.AsyncClient, *, secret_key: str, api_base: str, timeout_s: float
    ) -> None:
        self._http = http
        self._base = httpx.URL(api_base.rstrip("/") + "/")
        # Requests are built here and handed to `send`: merging the client's defaults into every
        # request (`client.request`) cost a tenth of the hot path's CPU.
        self._extensions = {"timeout": httpx.Timeout(timeout_s).as_dict()}
        # Every header, Host included, is given whole: httpx then skips its own pass over the
        # headers (a third of the cost of building a request).
        self._headers = [
            (b"Host", self._base.netloc),
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
        query = None
        if method == "get":
            query, body = form or None, b""
        else:
            body = form.encode()
            headers.append((b"Content-Type", FORM))
            headers.append((b"Content-Length", str(len(body)).encode()))
            if idempotency_key is not None:
                headers.append((b"Idempotency-Key", idempotency_key.encode()))
        try:
            request = httpx.Request(
                method.upper(),
                api_url(self._base, path, query),
                stream=httpx.ByteStream(body),
                headers=headers,
                extensions=self._extensions,
            )
            response = await self._http.send(request)
        except httpx.HTTPError as exc:
            raise stripe.APIConnectionError(  # type: ignore[no-untyped-call]  # untyped in the SDK
                f"Could not reach Stripe ({type(exc).__name__}).", should_retry=True
            ) from exc
        request_id = _request_id(response)
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            data = None
        if not 200 <= response.status_code < 300 or not isinstance(data, dict):
            raise _error(response, data)
        return data, request_id

    async def aclose(self) -> None:
        await self._http.aclose()


def _request_id(response: httpx.Response) -> str | None:
    """Stripe's `Request-Id` header. Read from the raw headers: `Headers.get` first works out
    the encoding of every name and value, which took half of the 8 us the lookup cost."""
    return next(
        (value.decode("latin-1") for name, value in response.headers.raw if name.lower() == _ID),
        None,
    )


_ID = b"request-id"


def api_url(base: httpx.URL, path: str, query: str | None) -> httpx.URL:
    """`base` + `path` + `?query` as an httpx.URL.

    Parsing a URL from a string costs httpx about 40 us (it validates and re-quotes every
    component), twice per change. Here the base was parsed once and the rest is ours: the path
    is quoted and the query comes form-encoded, so only the parts that change are replaced. For
    the paths the gateway builds (Stripe ids, checked against `[A-Za-z0-9_]` at the API) the
    result equals parsing the whole string; `..` segments are not resolved and a `%` in the
    path is quoted, which those ids never contain.
    This reaches into httpx's parsed form (`_uri_reference`, a NamedTuple since 0.24); should
    that change, the URL is parsed the public way, and a test compares both.
    """
    base_path = base.raw_path.split(b"?", 1)[0].decode("ascii")  # still percent-encoded
    path = base_path + quote(path.lstrip("/"), safe="/")
    reference = getattr(base, "_uri_reference", None)
    if not isinstance(reference, tuple) or not hasattr(reference, "_replace"):
        return base.copy_with(raw_path=(path if query is None else f"{path}?{query}").encode())
    url = httpx.URL.__new__(httpx.URL)
    url._uri_reference = reference._replace(path=path, query=query)
    return url


def _error(response: httpx.Response, data: Any) -> stripe.StripeError:
    """stripe-python's exception for this answer (as its requestor picks it for API v1)."""
    status = response.status_code
    body = response.text
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

"""A lean HTTP/1.1 transport for httpx: asyncio protocols, httptools' parser, a keep-alive pool.

httpx stays the client API (respx mocks it), but what sits under it decides the hot path's cost.
httpcore's pool degrades under hundreds of concurrent requests (performance-notes.md: 1,044 GET/s
at 4 in flight, 181 at 64); aiohttp's holds, but building its request and response objects cost
a fifth of the service's CPU per change. Stripe's API needs little of either: HTTP/1.1 over TLS,
small JSON answers read whole, no proxies, no streaming, no redirects. So each connection is an
`asyncio.Protocol` whose bytes go straight into httptools (llhttp, the parser uvicorn uses), and
idle connections wait in a pool per origin until they expire or the server closes them.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from collections import deque
from typing import Any, cast

import certifi
import httptools
import httpx

Origin = tuple[bytes, bytes, int]
_FRAMING = frozenset({b"content-length", b"transfer-encoding"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_UNSAFE = re.compile(rb"[\r\n\0]").search  # would split a header line: refused, not sent


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection, one exchange at a time."""

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.idle_since = 0.0
        self.closed = False
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._answer: asyncio.Future[httpx.Response] | None = None
        self._request: httpx.Request | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._headers_done = False
        self._reusable = False

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._answer is None:
            # Bytes nobody asked for: the connection's state is unknown, so it is not reused.
            self.close()
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"Invalid HTTP answer: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._answer is None or self._answer.done():
            return
        if exc is None and self._headers_done and not self._has_length():
            self._reusable = False
            self.on_message_complete()  # an answer delimited by the end of the connection
        else:
            self._fail(httpx.RemoteProtocolError("Server disconnected without a full answer."))

    # httptools callbacks

    def on_message_begin(self) -> None:
        if self._answer is None or self._answer.done():
            # A second answer in the same read: nobody asked for it, so the connection goes.
            self._reusable = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._headers_done = True
        if self._request is not None and self._request.method == "HEAD":
            # llhttp cannot know that an answer to HEAD has no body: answer now, and close.
            self._reusable = False
            self.on_message_complete()

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        answer, request = self._answer, self._request
        if answer is None or answer.done() or request is None:
            return
        status = self._parser.get_status_code()
        if 100 <= status < 200 and status != 101:
            # An interim answer (100 Continue, 103 Early Hints): the final one follows.
            self._headers, self._body, self._headers_done = [], [], False
            return
        self._reusable = self._reusable and self._parser.should_keep_alive()
        answer.set_result(_read_response(status, self._headers, b"".join(self._body), request))

    # the exchange

    async def exchange(
        self, request: httpx.Request, head: bytes, read_timeout: float | None
    ) -> httpx.Response:
        assert self._transport is not None
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[httpx.Response] = loop.create_future()
        self._answer, self._request = answer, request
        self._headers, self._body = [], []
        self._headers_done, self._reusable = False, True
        timer = None
        if read_timeout is not None:
            timer = loop.call_later(read_timeout, self._time_out)
        try:
            self._transport.write(head)
            return await answer
        except BaseException:
            # Cancelled or failed half way: what the server sends next belongs to nobody.
            self._reusable = False
            raise
        finally:
            if timer is not None:
                timer.cancel()
            self._answer = self._request = None
            if not self._reusable:
                self.close()

    @property
    def reusable(self) -> bool:
        return self._reusable and not self.closed

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.close()

    def _has_length(self) -> bool:
        return any(
            name.lower() in (b"content-length", b"transfer-encoding") for name, _ in self._headers
        )

    def _time_out(self) -> None:
        self._fail(httpx.ReadTimeout("Stripe did not answer in time."))

    def _fail(self, exc: Exception) -> None:
        self._reusable = False
        if self._answer is not None and not self._answer.done():
            if self._request is not None and isinstance(exc, httpx.RequestError):
                exc.request = self._request
            self._answer.set_exception(exc)
        self.close()


class HTTP11Transport(httpx.AsyncBaseTransport):
    """httpx transport: HTTP/1.1 keep-alive connections, as many as there are requests in flight.

    Idle connections are kept per origin (newest first, so the pool shrinks back after a burst)
    and dropped after `keepalive_s`, or as soon as the server closes them. A server that closes a
    connection just as a request goes out on it fails that request (`RemoteProtocolError`),
    which nothing here retries: the gateway retries it, with the write's idempotency key.
    """

    def __init__(
        self,
        *,
        keepalive_s: float = 60.0,
        max_idle_per_origin: int = 1024,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._keepalive_s = keepalive_s
        self._max_idle = max_idle_per_origin
        self._ssl = ssl_context
        self._idle: dict[Origin, deque[_Connection]] = {}
        self._busy: set[_Connection] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        origin: Origin = (url.raw_scheme, url.raw_host, url.port or _default_port(url.raw_scheme))
        timeouts = request.extensions.get("timeout", {})
        # A body given whole is read without the async iteration `aread` goes through.
        body = request.read() if isinstance(request.stream, httpx.ByteStream) else None
        head = _serialize(request, await request.aread() if body is None else body)
        connection = self._idle_connection(origin) or await self._connect(
            origin, timeouts.get("connect")
        )
        self._busy.add(connection)
        try:
            return await connection.exchange(request, head, timeouts.get("read"))
        finally:
            self._busy.discard(connection)
            if connection.reusable:
                connection.idle_since = now = time.monotonic()
                idle = self._idle.setdefault(origin, deque())
                while idle and (idle[0].closed or idle[0].idle_since < now - self._keepalive_s):
                    idle.popleft().close()  # the oldest first: expired, or closed by the server
                if len(idle) < self._max_idle:
                    idle.append(connection)
                else:
                    connection.close()

    def _idle_connection(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        if not idle:
            return None
        expired_before = time.monotonic() - self._keepalive_s
        while idle:
            connection = idle.pop()
            if not connection.closed and connection.idle_since > expired_before:
                return connection
            connection.close()
        return None

    async def _connect(self, origin: Origin, timeout: float | None) -> _Connection:
        scheme, host, port = origin
        tls = self._tls() if scheme == b"https" else None
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                _, connection = await loop.create_connection(
                    lambda: _Connection(origin),
                    host.decode("ascii"),
                    port,
                    ssl=tls,
                    server_hostname=host.decode("ascii") if tls else None,
                )
        except TimeoutError as exc:
            raise httpx.ConnectTimeout("Could not connect to Stripe in time.") from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        return connection

    def _tls(self) -> ssl.SSLContext:
        if self._ssl is None:
            # The same trust store as httpx's own default.
            self._ssl = ssl.create_default_context(cafile=certifi.where())
        return self._ssl

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()
        for connection in list(self._busy):
            connection.close()


def _default_port(scheme: bytes) -> int:
    return 443 if scheme == b"https" else 80


def _read_response(
    status: int, headers: list[tuple[bytes, bytes]], body: bytes, request: httpx.Request
) -> httpx.Response:
    """The answer as httpx builds it from `content=` and reads it, for an unencoded body (but
    for the Content-Length httpx adds to an answer that came without one: the headers are the
    ones the server sent).

    httpx's own way (`Response(content=...)`) runs the body through its decoder and chunker
    generators and adds a Content-Length header: 19 us of CPU per answer, against 3 us for
    building it on the body as is and recording it read (measured with timeit on a 6 KB answer;
    twice per change). This sets the attributes `read()` and `close()` set (`_content` is private
    to httpx; a test compares both ways). An encoded answer (gzip, ...) still takes httpx's
    way, which decodes it.
    """
    if any(name.lower() == b"content-encoding" for name, _ in headers):
        return httpx.Response(status, headers=headers, content=body, request=request)
    response = httpx.Response(
        status, headers=headers, stream=httpx.ByteStream(body), request=request
    )
    response._content = body
    response.is_stream_consumed = response.is_closed = True
    return response


def _serialize(request: httpx.Request, body: bytes) -> bytes:
    url = request.url
    lines = [request.method.encode("ascii"), b" ", url.raw_path, b" HTTP/1.1\r\n"]
    has_host = False
    for name, value in request.headers.raw:
        lowered = name.lower()
        if lowered in _FRAMING:
            continue  # the body goes out whole, with its own length
        has_host = has_host or lowered == b"host"
        lines += (name, b": ", value, b"\r\n")
    # One search over every name and value (the separators are added after it) instead of two
    # per header.
    if _UNSAFE(b"".join(lines[4::4]) + b"".join(lines[6::4])):
        pairs = zip(lines[4::4], lines[6::4], strict=True)
        name = next(n for n, v in pairs if _UNSAFE(n) or _UNSAFE(v))
        raise httpx.LocalProtocolError(f"Invalid character in header {name!r}.", request=request)
    if not has_host:
        lines[4:4] = (b"Host: ", url.netloc, b"\r\n")
    if body or request.method in _BODY_METHODS:
        lines += (b"Content-Length: ", str(len(body)).encode("ascii"), b"\r\n")
    lines.append(b"\r\n")
    lines.append(body)
    return b"".join(lines)


class _IgnoredCookies(httpx.Cookies):
    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class _StripeClient(httpx.AsyncClient):
    """httpx's client with the one sending path the gateway uses.

    `AsyncClient.send` runs an auth flow, a redirect loop, event hooks and cookie extraction
    for every request, as coroutines and generators: about 20 us of CPU per call (measured:
    43 us per call through `send`, 21 through the transport alone), and this client is built
    with no auth, no redirects and no hooks. Cookies are ignored outright: Stripe's API sets
    none the service needs, and httpx reads every answer's through urllib's compatibility
    objects (8% of the hot path's CPU). A call that asks for anything else (streaming, auth,
    redirects), or a client built with any of those, takes httpx's own path. The transport
    still comes from `_transport_for_url`, the hook respx mocks, so tests see every request as
    before.
    """

    _ignored = _IgnoredCookies()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Built with auth, hooks or redirects after all: httpx's own path, every time.
        self._lean = (
            self.auth is None and not self.follow_redirects and not any(self.event_hooks.values())
        )

    @property
    def cookies(self) -> httpx.Cookies:
        return self._ignored

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        return None

    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: Any = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: Any = httpx.USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        if (
            not self._lean
            or stream
            or auth is not httpx.USE_CLIENT_DEFAULT
            or follow_redirects is not httpx.USE_CLIENT_DEFAULT
            or self.is_closed
        ):
            return await super().send(
                request, stream=stream, auth=auth, follow_redirects=follow_redirects
            )
        if "timeout" not in request.extensions:
            request.extensions = {**request.extensions, "timeout": self.timeout.as_dict()}
        transport = self._transport_for_url(request.url)
        try:
            response = await transport.handle_async_request(request)
        except httpx.RequestError as exc:
            exc.request = request  # as httpx's own path attaches it
            raise
        response.request = request
        try:
            await response.aread()
        except BaseException:
            await response.aclose()
            raise
        return response


def stripe_http_client(timeout_s: float) -> httpx.AsyncClient:
    """The httpx client the gateway sends through: this transport, no cookies, no redirects, and
    no proxy settings from the environment."""
    return _StripeClient(
        transport=HTTP11Transport(),
        timeout=httpx.Timeout(timeout_s),
        follow_redirects=False,
        trust_env=False,
    )

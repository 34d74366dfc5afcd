"""An httpx transport over aiohttp's connection pool.

httpx stays the client API (respx mocks it), but httpcore's pool degrades under hundreds of
concurrent requests (performance-notes.md: 1,044 GET/s at 4 in flight, 181 at 64), while
aiohttp's holds. The answer is read whole (Stripe's JSON objects are small), which is cheaper
than streaming it chunk by chunk through httpx.
"""

from __future__ import annotations

import aiohttp
import httpx


class AiohttpTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, max_connections: int = 0, keepalive_s: float = 60.0) -> None:
        self._max_connections = max_connections  # 0: no limit
        self._keepalive_s = keepalive_s
        self._session: aiohttp.ClientSession | None = None

    def _session_now(self) -> aiohttp.ClientSession:
        # Built on first use, inside the running event loop (aiohttp needs one).
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections,
                keepalive_timeout=self._keepalive_s,
                ttl_dns_cache=300,
            )
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=True, cookie_jar=aiohttp.DummyCookieJar()
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=timeouts.get("connect"),
            sock_read=timeouts.get("read"),
        )
        try:
            async with self._session_now().request(
                request.method,
                str(request.url),
                headers=dict(request.headers),
                data=request.content or None,
                allow_redirects=False,
                timeout=timeout,
            ) as response:
                body = await response.read()
                return httpx.Response(
                    status_code=response.status,
                    headers=response.raw_headers,
                    content=body,
                    request=request,
                )
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise httpx.ReadTimeout(str(exc) or "timed out", request=request) from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        except aiohttp.ClientError as exc:
            raise httpx.ReadError(str(exc), request=request) from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

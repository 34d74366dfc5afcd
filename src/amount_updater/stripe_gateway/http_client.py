"""The HTTP transport that carries every call to Stripe: httpx-aiohttp over aiohttp's pool.

The gateway speaks httpx (its requests, responses, errors and transport interface; tests plug
in respx's router as an `httpx.MockTransport`). The transport under it is httpx-aiohttp's,
because httpx's own pool (httpcore) slows down sharply with hundreds of requests in flight,
which a worker has when Stripe is slow (`benchmarks/README.md` has the measurement). It:

- verifies TLS against certifi's roots, or `SSL_CERT_FILE` / `SSL_CERT_DIR` when set
  (`httpx.create_ssl_context`);
- goes through `HTTPS_PROXY` / `HTTP_PROXY` unless `NO_PROXY` names Stripe's host (the
  standard library's reading of those variables, made once for the one origin it talks to);
- opens at most `max_connections` connections; past that, a call waits for one;
- keeps no cookies and follows no redirects.

The answer's size cap and the overall deadline of one call are the wire's (`wire.py`).
"""

from __future__ import annotations

import urllib.request

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

KEEPALIVE_S = 30.0  # Stripe keeps idle connections for about a minute; reconnect before it does


def stripe_transport(*, api_base: str, max_connections: int) -> httpx.AsyncBaseTransport:
    ssl_context = httpx.create_ssl_context(trust_env=True)

    def session() -> aiohttp.ClientSession:
        # Built on first use, inside the event loop that serves the requests.
        connector = aiohttp.TCPConnector(
            limit=max_connections, ssl=ssl_context, keepalive_timeout=KEEPALIVE_S
        )
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())

    return AiohttpTransport(client=session, proxy=proxy_for(api_base), trust_env=False)


def proxy_for(url: str) -> httpx.Proxy | None:
    """The proxy the environment names for `url` (HTTPS_PROXY / HTTP_PROXY, in either case),
    or None when there is none or NO_PROXY exempts its host."""
    parsed = httpx.URL(url)
    proxy = urllib.request.getproxies().get(parsed.scheme)
    if not proxy or urllib.request.proxy_bypass(parsed.host):
        return None
    return httpx.Proxy(proxy)

"""The client that carries every Stripe call, over real sockets: TLS verified against a test CA
(accepted when trusted through SSL_CERT_FILE; a self-signed or wrong-host certificate refused),
HTTPS_PROXY / HTTP_PROXY / NO_PROXY honoured, connections capped, and an oversized, endless or
trickling answer refused within the timeout."""

from __future__ import annotations

import asyncio
import gzip
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import stripe
import trustme
from starlette.types import Receive, Scope, Send

from amount_updater.stripe_gateway.http_client import proxy_for, stripe_transport
from amount_updater.stripe_gateway.wire import StripeWire
from tests.support.proxy import running_proxy
from tests.support.servers import serve_in_thread

SESSION = b'{"id": "cs_test_1", "object": "checkout.session", "amount_total": 2500}'


async def stripe_like(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers every request with a small session, as Stripe would."""
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"request-id", b"req_1")],
        }
    )
    await send({"type": "http.response.body", "body": SESSION})


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


def tls_files(ca: trustme.CA, tmp_path: Path, *hosts: str) -> dict[str, str]:
    server = ca.issue_cert(*hosts)
    cert, key = tmp_path / f"{hosts[0]}.pem", tmp_path / f"{hosts[0]}.key"
    server.cert_chain_pems[0].write_to_path(str(cert))
    for extra in server.cert_chain_pems[1:]:
        extra.write_to_path(str(cert), append=True)
    server.private_key_pem.write_to_path(str(key))
    return {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}


@pytest.fixture
def trusted_ca(ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> trustme.CA:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    monkeypatch.setenv("SSL_CERT_FILE", str(path))
    return ca


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


async def call(base: str, *, timeout_s: float = 5, max_answer_bytes: int | None = None) -> dict:
    transport = stripe_transport(api_base=base, max_connections=10)
    options = {} if max_answer_bytes is None else {"max_answer_bytes": max_answer_bytes}
    wire = StripeWire(
        transport, secret_key="sk_test_x", api_base=base, timeout_s=timeout_s, **options
    )
    try:
        data, _ = await wire.call("get", "/v1/checkout/sessions/cs_test_1", {})
        return data
    finally:
        await wire.aclose()


@pytest.fixture
def https_server(trusted_ca: trustme.CA, tmp_path: Path, no_proxy_env) -> Iterator[str]:
    with serve_in_thread(stripe_like, **tls_files(trusted_ca, tmp_path, "127.0.0.1")) as url:
        yield url


class TestTls:
    @pytest.mark.asyncio
    async def test_a_certificate_from_a_ca_trusted_through_ssl_cert_file_is_accepted(
        self, https_server: str
    ):
        assert (await call(https_server))["id"] == "cs_test_1"

    @pytest.mark.asyncio
    async def test_a_certificate_from_an_untrusted_ca_is_refused(
        self, trusted_ca, tmp_path: Path, no_proxy_env
    ):
        stranger = trustme.CA()  # self-made, in no trust store
        files = tls_files(stranger, tmp_path, "127.0.0.1")
        with (
            serve_in_thread(stripe_like, **files) as url,
            pytest.raises(stripe.APIConnectionError) as refused,
        ):
            await call(url)
        assert "certificate" in repr(refused.value.__cause__).lower()

    @pytest.mark.asyncio
    async def test_a_certificate_for_another_host_is_refused(
        self, trusted_ca: trustme.CA, tmp_path: Path, no_proxy_env
    ):
        files = tls_files(trusted_ca, tmp_path, "example.org")
        with (
            serve_in_thread(stripe_like, **files) as url,
            pytest.raises(stripe.APIConnectionError) as refused,
        ):
            await call(url)
        cause = repr(refused.value.__cause__).lower()
        assert "hostname" in cause or "certificate" in cause

    @pytest.mark.asyncio
    async def test_without_ssl_cert_file_the_test_ca_is_not_trusted(
        self, ca: trustme.CA, tmp_path: Path, no_proxy_env, monkeypatch: pytest.MonkeyPatch
    ):
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        files = tls_files(ca, tmp_path, "127.0.0.1")
        with serve_in_thread(stripe_like, **files) as url, pytest.raises(stripe.APIConnectionError):
            await call(url)


class TestProxies:
    @pytest.mark.asyncio
    async def test_https_goes_through_https_proxy(
        self, https_server: str, monkeypatch: pytest.MonkeyPatch
    ):
        with running_proxy() as proxy:
            monkeypatch.setenv("HTTPS_PROXY", proxy.url)
            data = await call(https_server)
        assert data["id"] == "cs_test_1"
        port = https_server.rsplit(":", 1)[1]
        assert proxy.targets == [f"CONNECT 127.0.0.1:{port}"]

    @pytest.mark.asyncio
    async def test_no_proxy_naming_the_host_goes_direct(
        self, https_server: str, monkeypatch: pytest.MonkeyPatch
    ):
        with running_proxy() as proxy:
            monkeypatch.setenv("HTTPS_PROXY", proxy.url)
            monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
            data = await call(https_server)
        assert data["id"] == "cs_test_1"
        assert proxy.targets == []

    @pytest.mark.asyncio
    async def test_http_goes_through_http_proxy(self, no_proxy_env, monkeypatch):
        with serve_in_thread(stripe_like) as url, running_proxy() as proxy:
            monkeypatch.setenv("HTTP_PROXY", proxy.url)
            data = await call(url)
        assert data["id"] == "cs_test_1"
        assert proxy.targets == [f"GET {url}/v1/checkout/sessions/cs_test_1"]

    def test_the_proxy_is_read_from_the_environment_in_either_case(self, no_proxy_env, monkeypatch):
        monkeypatch.setenv("https_proxy", "http://proxy.internal:3128")
        assert proxy_for("https://api.stripe.com") is not None
        assert proxy_for("http://127.0.0.1:8000") is None
        monkeypatch.setenv("no_proxy", ".stripe.com")
        assert proxy_for("https://api.stripe.com") is None


async def endless(scope: Scope, receive: Receive, send: Send) -> None:
    """A body that never ends, as long as the client listens."""
    if scope["type"] != "http":
        return
    gone = asyncio.Event()

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        gone.set()

    watcher = asyncio.create_task(watch())
    await send({"type": "http.response.start", "status": 200, "headers": []})
    chunk = b"x" * 65536
    while not gone.is_set():
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await asyncio.sleep(0)
    await watcher


async def trickle(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    for _ in range(100):  # a byte every 0.1 s: every single read is quick, the whole is not
        await send({"type": "http.response.body", "body": b" ", "more_body": True})
        await asyncio.sleep(0.1)
    await send({"type": "http.response.body", "body": SESSION})


async def deflate_bomb(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    body = zlib.compress(b"0" * (64 * 1024 * 1024), 9)  # 64 MiB once decoded, ~64 KB sent
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-encoding", b"deflate"), (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})


class TestAnswerLimits:
    @pytest.mark.asyncio
    async def test_an_endless_answer_is_refused_once_past_the_cap(self, no_proxy_env):
        with serve_in_thread(endless) as url:
            started = time.monotonic()
            with pytest.raises(stripe.APIConnectionError) as refused:
                await call(url, timeout_s=10)
            elapsed = time.monotonic() - started
        assert "exceeded" in str(refused.value)
        assert refused.value.should_retry is False
        assert elapsed < 10  # refused at the cap, not at the timeout

    @pytest.mark.asyncio
    async def test_a_compressed_bomb_is_refused_once_decoded_past_the_cap(self, no_proxy_env):
        with (
            serve_in_thread(deflate_bomb) as url,
            pytest.raises(stripe.APIConnectionError) as refused,
        ):
            await call(url, timeout_s=10)
        assert "exceeded" in str(refused.value)

    @pytest.mark.asyncio
    async def test_an_answer_that_trickles_in_is_cut_at_the_timeout(self, no_proxy_env):
        with serve_in_thread(trickle) as url:
            started = time.monotonic()
            with pytest.raises(stripe.APIConnectionError) as refused:
                await call(url, timeout_s=1)
            elapsed = time.monotonic() - started
        assert "within 1 s" in str(refused.value)
        assert elapsed < 3


class TestConnectionCap:
    @pytest.mark.asyncio
    async def test_no_more_connections_than_the_cap_are_opened(self, no_proxy_env):
        inside, most = 0, 0
        release = asyncio.Event()

        async def held(scope: Scope, receive: Receive, send: Send) -> None:
            nonlocal inside, most
            if scope["type"] != "http":
                return
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.3)
            inside -= 1
            await stripe_like(scope, receive, send)

        with serve_in_thread(held) as url:
            transport = stripe_transport(api_base=url, max_connections=2)
            wire = StripeWire(transport, secret_key="sk_test_x", api_base=url, timeout_s=10)
            try:
                answers = await asyncio.gather(
                    *(wire.call("get", f"/v1/checkout/sessions/cs_{n}", {}) for n in range(6))
                )
            finally:
                await wire.aclose()
        release.set()
        assert len(answers) == 6
        assert most == 2


async def gzipped(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    body = gzip.compress(SESSION)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-encoding", b"gzip"),
                (b"content-length", b"%d" % len(body)),
                (b"request-id", b"req_gz"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class TestAnswers:
    @pytest.mark.asyncio
    async def test_a_compressed_answer_is_handed_over_decoded(self, no_proxy_env):
        with serve_in_thread(gzipped) as url:
            assert (await call(url))["id"] == "cs_test_1"

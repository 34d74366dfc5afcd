"""The HTTP/1.1 transport under the gateway, against a real server: a scripted asyncio server on
127.0.0.1 that records the raw bytes it receives, counts the connections it accepts, notes which
ones the client closed, and answers each request the way the test tells it to."""

from __future__ import annotations

import asyncio
import functools
import gzip
import random
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
import respx

from amount_updater.stripe_gateway.transport import (
    HTTP11Transport,
    _read_response,
    stripe_http_client,
)

TIMEOUT = 2.0  # only reached when a test fails: every answer here comes in milliseconds
LIMIT = 5.0  # per test


@dataclass
class Received:
    """One request as the server read it off the wire."""

    head: bytes  # the request line and the headers, up to the blank line
    body: bytes
    connection: int  # index of the server connection it came on

    @property
    def request_line(self) -> bytes:
        return self.head.split(b"\r\n", 1)[0]

    @property
    def method(self) -> str:
        return self.request_line.split(b" ")[0].decode()

    @property
    def target(self) -> str:
        return self.request_line.split(b" ")[1].decode()

    def header(self, name: bytes) -> list[bytes]:
        values = []
        for line in self.head.split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            if key.strip().lower() == name.lower():
                values.append(value.strip())
        return values


@dataclass
class ServerConnection:
    index: int
    writer: asyncio.StreamWriter
    closed_by_client: bool = False  # the server read EOF (or a reset) from the client
    closed: bool = False


Handler = Callable[[Received, asyncio.StreamWriter], Awaitable[None]]


def answer(body: bytes = b"ok", status: str = "200 OK", headers: tuple[bytes, ...] = ()) -> bytes:
    head = [b"HTTP/1.1 " + status.encode(), b"Content-Length: %d" % len(body), *headers]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


async def echo_target(request: Received, writer: asyncio.StreamWriter) -> None:
    writer.write(answer(request.target.encode()))


class ScriptedServer:
    def __init__(self) -> None:
        self.handler: Handler = echo_target
        self.requests: list[Received] = []
        self.connections: list[ServerConnection] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        connection = ServerConnection(len(self.connections), writer)
        self.connections.append(connection)
        try:
            while not writer.is_closing():
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    connection.closed_by_client = not writer.is_closing()
                    break
                request = Received(head[:-4], b"", connection.index)
                length = request.header(b"content-length")
                request.body = await reader.readexactly(int(length[0])) if length else b""
                self.requests.append(request)
                await self.handler(request, writer)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            connection.closed_by_client = not writer.is_closing()
        except asyncio.CancelledError:
            pass  # torn down by the fixture
        finally:
            connection.closed = True
            writer.close()

    async def aclose(self) -> None:
        assert self._server is not None
        self._server.close()
        for connection in self.connections:
            connection.writer.close()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=1.0)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._server.wait_closed()
        await asyncio.sleep(0.01)  # the transports' connection_lost callbacks


async def eventually(condition: Callable[[], bool], timeout: float = 1.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.002)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bounded(test: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """An asyncio test that fails after LIMIT seconds instead of hanging: a pool or parser
    fault can leave a request waiting on a future nobody will resolve."""

    @functools.wraps(test)
    async def run(*args: object, **kwargs: object) -> None:
        async with asyncio.timeout(LIMIT):
            await test(*args, **kwargs)

    return pytest.mark.asyncio(run)


@pytest_asyncio.fixture
async def server() -> AsyncIterator[ScriptedServer]:
    scripted = ScriptedServer()
    await scripted.start()
    yield scripted
    await scripted.aclose()


@pytest_asyncio.fixture
async def client(server: ScriptedServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=HTTP11Transport(), timeout=TIMEOUT) as http:
        yield http


async def silent_on_the_first_connection(request: Received, writer: asyncio.StreamWriter) -> None:
    # Whatever is asked on connection 0 is never answered; on any later one, "second".
    if request.connection > 0:
        writer.write(answer(b"second"))


# The round trip


@bounded
async def test_get_sends_the_request_line_and_host_and_reads_the_answer(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    async def handler(request: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(answer(b'{"id": "price_1"}', headers=(b"Request-Id: req_1",)))

    server.handler = handler

    response = await client.get(server.url + "/v1/prices/price_1?expand%5B%5D=product&limit=3")

    [received] = server.requests
    assert received.request_line == (
        b"GET /v1/prices/price_1?expand%5B%5D=product&limit=3 HTTP/1.1"
    )
    assert received.header(b"host") == [f"127.0.0.1:{server.port}".encode()]
    assert received.header(b"content-length") == []
    assert received.body == b""
    assert response.status_code == 200
    assert response.headers["request-id"] == "req_1"
    assert response.headers["content-length"] == "17"
    assert response.content == b'{"id": "price_1"}'


@bounded
async def test_post_sends_content_length_and_body_and_reads_the_answer(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    async def handler(request: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(answer(b'{"error": {}}', "402 Payment Required", (b"Request-Id: req_2",)))

    server.handler = handler
    form = b"amount=1500&currency=eur&metadata[note]=caf%C3%A9"

    response = await client.post(
        server.url + "/v1/payment_intents/pi_1",
        content=form,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Idempotency-Key": "k1"},
    )

    [received] = server.requests
    assert received.request_line == b"POST /v1/payment_intents/pi_1 HTTP/1.1"
    assert received.header(b"host") == [f"127.0.0.1:{server.port}".encode()]
    assert received.header(b"content-length") == [str(len(form)).encode()]
    assert received.header(b"idempotency-key") == [b"k1"]
    assert received.body == form
    assert response.status_code == 402
    assert response.headers["request-id"] == "req_2"
    assert response.content == b'{"error": {}}'
    assert response.request.url == server.url + "/v1/payment_intents/pi_1"


@bounded
async def test_a_streamed_body_goes_out_whole_with_its_length_not_chunked(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    async def parts() -> AsyncIterator[bytes]:
        yield b"a=1"
        yield b"&b=2"

    response = await client.post(server.url + "/v1/x", content=parts())

    [received] = server.requests
    assert received.header(b"transfer-encoding") == []
    assert received.header(b"content-length") == [b"7"]
    assert received.body == b"a=1&b=2"
    assert response.status_code == 200


@bounded
async def test_a_request_built_without_host_or_length_gets_both(server: ScriptedServer) -> None:
    transport = HTTP11Transport()
    try:
        request = httpx.Request("POST", server.url + "/v1/x", stream=httpx.ByteStream(b"a=1"))
        assert "host" not in request.headers
        response = await transport.handle_async_request(request)
    finally:
        await transport.aclose()

    [received] = server.requests
    assert received.header(b"host") == [f"127.0.0.1:{server.port}".encode()]
    assert received.header(b"content-length") == [b"3"]
    assert response.status_code == 200


@bounded
@pytest.mark.parametrize("value", ["v\r\nX-Injected: 1", "v\nX-Injected: 1", "v\x00"])
async def test_a_header_that_would_split_the_request_is_refused_unsent(
    server: ScriptedServer, client: httpx.AsyncClient, value: str
) -> None:
    request = httpx.Request("GET", server.url + "/v1/x", headers=[(b"X-Note", value.encode())])

    with pytest.raises(httpx.LocalProtocolError, match="X-Note"):
        await client.send(request)
    assert server.requests == []


@bounded
async def test_a_header_name_that_would_split_the_request_is_refused_unsent(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    request = httpx.Request(
        "GET", server.url + "/v1/x", headers=[(b"X-Injected: 1\r\nX-Note", b"v")]
    )

    with pytest.raises(httpx.LocalProtocolError, match="X-Injected"):
        await client.send(request)
    assert server.requests == []


@bounded
async def test_idle_connections_left_behind_by_a_burst_close_once_expired(
    server: ScriptedServer,
) -> None:
    # Steady traffic reuses the newest connection: the older ones must not linger past expiry.
    transport = HTTP11Transport(keepalive_s=0.1)
    async with httpx.AsyncClient(transport=transport, timeout=TIMEOUT) as http:
        await asyncio.gather(*(http.get(server.url + f"/{n}") for n in range(3)))
        for _ in range(8):
            await http.get(server.url + "/steady")
            await asyncio.sleep(0.03)
        await eventually(lambda: sum(c.closed_by_client for c in server.connections) == 2)
        assert len(server.connections) == 3  # the steady one was never replaced


@bounded
async def test_large_bodies_cross_whole_both_ways(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    big = random.Random(1).randbytes(300_000)

    async def handler(request: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(answer(request.body[::-1]))

    server.handler = handler

    response = await client.post(server.url + "/big", content=big)

    assert server.requests[0].body == big
    assert response.content == big[::-1]


@bounded
async def test_gzip_answer_is_decoded(server: ScriptedServer, client: httpx.AsyncClient) -> None:
    async def handler(request: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(answer(gzip.compress(b'{"id": "cs_1"}'), headers=(b"Content-Encoding: gzip",)))

    server.handler = handler

    response = await client.get(server.url + "/v1/checkout/sessions/cs_1")

    assert response.content == b'{"id": "cs_1"}'


@bounded
async def test_no_content_answer_completes_and_keeps_the_connection(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    async def handler(request: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")

    server.handler = handler

    first = await asyncio.wait_for(client.delete(server.url + "/a"), TIMEOUT)
    second = await asyncio.wait_for(client.delete(server.url + "/b"), TIMEOUT)

    assert (first.status_code, first.content) == (204, b"")
    assert (second.status_code, second.content) == (204, b"")
    assert len(server.connections) == 1


# The keep-alive pool


@bounded
async def test_sequential_requests_reuse_one_connection(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    for path in ("/a", "/b", "/c"):
        response = await client.get(server.url + path)
        assert response.text == path

    assert len(server.connections) == 1
    assert [request.connection for request in server.requests] == [0, 0, 0]


@bounded
async def test_concurrent_requests_each_get_their_own_answer(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    jitter = random.Random(7)

    async def handler(request: Received, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(jitter.random() / 200)
        writer.write(answer(request.target.encode()))

    server.handler = handler

    for round_ in range(2):
        paths = [f"/v1/items/{round_}-{i}?n={i}" for i in range(50)]
        responses = await asyncio.gather(*(client.get(server.url + path) for path in paths))
        assert [response.text for response in responses] == paths
        assert [response.request.url.raw_path.decode() for response in responses] == paths

    assert len(server.requests) == 100
    assert len(server.connections) <= 50


@bounded
async def test_idle_connections_beyond_max_idle_per_origin_are_closed(
    server: ScriptedServer,
) -> None:
    async def handler(request: Received, writer: asyncio.StreamWriter) -> None:
        # Both first requests are held until both have arrived, on two connections.
        await eventually(lambda: len(server.requests) >= 2)
        writer.write(answer(request.target.encode()))

    server.handler = handler
    async with httpx.AsyncClient(
        transport=HTTP11Transport(max_idle_per_origin=1), timeout=TIMEOUT
    ) as client:
        await asyncio.gather(client.get(server.url + "/a"), client.get(server.url + "/b"))
        assert len(server.connections) == 2
        await eventually(lambda: sum(c.closed_by_client for c in server.connections) == 1)

        for path in ("/c", "/d", "/e"):
            assert (await client.get(server.url + path)).text == path

    assert len(server.connections) == 2


@bounded
async def test_after_a_burst_the_newest_idle_connection_is_reused_first(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    async def handler(request: Received, writer: asyncio.StreamWriter) -> None:
        await eventually(lambda: len(server.requests) >= 2)
        if request.target == "/late":
            await asyncio.sleep(0.02)
        writer.write(answer(request.target.encode()))

    server.handler = handler

    await asyncio.gather(client.get(server.url + "/early"), client.get(server.url + "/late"))
    for path in ("/c", "/d", "/e"):
        await client.get(server.url + path)

    late = next(request.connection for request in server.requests if request.target == "/late")
    assert len(server.connections) == 2
    assert [request.connection for request in server.requests[2:]] == [late] * 3


@bounded
async def test_chunked_answer_is_decoded_whole(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    async def handler(request: Received, writer: asyncio.StreamWriter) -> None:
        pieces = [
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"5\r\nhello\r\n",
            b"7\r\n, wo",
            b"rld\r\n",
            b"0\r\n\r\n",
        ]
        for piece in pieces:
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(0.005)

    server.handler = handler

    first = await client.get(server.url + "/chunked")
    second = await client.get(server.url + "/chunked")

    assert first.content == b"hello, world"
    assert second.content == b"hello, world"
    assert len(server.connections) == 1  # a chunked answer delimits itself


@bounded
async def test_connection_close_answer_is_not_reused(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    async def handler(request: Received, writer: asyncio.StreamWriter) -> None:
        # The server keeps its end open: only the header tells the client not to reuse it.
        writer.write(answer(request.target.encode(), headers=(b"Connection: close",)))

    server.handler = handler

    assert (await client.get(server.url + "/a")).text == "/a"
    assert (await client.get(server.url + "/b")).text == "/b"

    assert len(server.connections) == 2
    await eventually(lambda: server.connections[0].closed_by_client)


@bounded
async def test_answer_delimited_by_the_server_closing_is_read_whole(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    async def handler(request: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
        for piece in (b"first part, ", b"second part, ", b"last part"):
            await writer.drain()
            await asyncio.sleep(0.005)
            writer.write(piece)
        await writer.drain()
        writer.close()

    server.handler = handler

    first = await client.get(server.url + "/a")
    second = await client.get(server.url + "/b")

    assert first.content == b"first part, second part, last part"
    assert second.content == b"first part, second part, last part"
    assert len(server.connections) == 2


@bounded
async def test_a_connection_the_server_closed_while_idle_is_replaced(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    async def handler(request: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(answer(request.target.encode()))  # keep-alive, as far as the headers say
        if request.connection == 0:
            await writer.drain()
            writer.close()

    server.handler = handler

    assert (await client.get(server.url + "/a")).text == "/a"
    await eventually(lambda: server.connections[0].closed)
    await asyncio.sleep(0.05)  # idle
    assert (await client.get(server.url + "/b")).text == "/b"

    assert len(server.connections) == 2
    assert [request.connection for request in server.requests] == [0, 1]


@bounded
async def test_bytes_sent_to_an_idle_connection_retire_it(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    async def handler(request: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(answer(request.target.encode()))
        if request.connection == 0:
            await writer.drain()
            await asyncio.sleep(0.02)
            writer.write(b"HTTP/1.1 200 OK\r\nX-Stray: 1\r\n")

    server.handler = handler

    assert (await client.get(server.url + "/a")).text == "/a"
    await eventually(lambda: server.connections[0].closed_by_client)
    assert (await client.get(server.url + "/b")).text == "/b"

    assert len(server.connections) == 2


@bounded
async def test_bytes_after_the_answer_in_the_same_segment_do_not_break_the_next_request(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    async def handler(request: Received, writer: asyncio.StreamWriter) -> None:
        stray = b"HTTP/1.1 200 OK\r\nX-Stray: 1\r\n" if request.connection == 0 else b""
        writer.write(answer(request.target.encode()) + stray)

    server.handler = handler

    assert (await client.get(server.url + "/a")).text == "/a"
    await asyncio.sleep(0.02)
    assert (await client.get(server.url + "/b")).text == "/b"


@bounded
async def test_interim_1xx_answer_is_skipped_for_the_final_one(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    async def handler(request: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
        writer.write(answer(b"final"))

    server.handler = handler

    response = await client.get(server.url + "/a")

    assert (response.status_code, response.content) == (200, b"final")


@bounded
async def test_an_expired_idle_connection_is_not_reused(server: ScriptedServer) -> None:
    async with httpx.AsyncClient(
        transport=HTTP11Transport(keepalive_s=0.05), timeout=TIMEOUT
    ) as client:
        await client.get(server.url + "/a")
        await client.get(server.url + "/b")  # within keepalive_s: reused
        assert len(server.connections) == 1

        await asyncio.sleep(0.1)
        assert (await client.get(server.url + "/c")).text == "/c"

        assert len(server.connections) == 2
        assert [request.connection for request in server.requests] == [0, 0, 1]
        await eventually(lambda: server.connections[0].closed_by_client)


@bounded
async def test_aclose_closes_idle_connections(server: ScriptedServer) -> None:
    client = httpx.AsyncClient(transport=HTTP11Transport(), timeout=TIMEOUT)
    await asyncio.gather(client.get(server.url + "/a"), client.get(server.url + "/b"))
    await asyncio.sleep(0.02)
    assert not any(connection.closed for connection in server.connections)

    await client.aclose()

    await eventually(lambda: all(c.closed_by_client for c in server.connections))


# Failures


@bounded
@pytest.mark.parametrize(
    "partial",
    [
        b"",
        b"HTTP/1.1 200 OK\r\nContent-Le",
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
    ],
    ids=["nothing", "half-headers", "half-body", "half-chunk"],
)
async def test_server_disconnecting_mid_answer_is_a_remote_protocol_error(
    server: ScriptedServer, partial: bytes
) -> None:
    async def handler(request: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(partial)
        await writer.drain()
        writer.close()

    server.handler = handler
    transport = HTTP11Transport()
    request = httpx.Request(
        "GET", server.url + "/a", extensions={"timeout": httpx.Timeout(TIMEOUT).as_dict()}
    )
    try:
        with pytest.raises(httpx.RemoteProtocolError) as raised:
            await transport.handle_async_request(request)
    finally:
        await transport.aclose()

    assert raised.value.request is request


@bounded
async def test_server_disconnecting_mid_answer_fails_the_client_request(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    async def handler(request: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        await writer.drain()
        writer.close()

    server.handler = handler

    with pytest.raises(httpx.RemoteProtocolError) as raised:
        await client.get(server.url + "/a")

    assert raised.value.request.url == server.url + "/a"


@bounded
async def test_read_timeout_and_the_connection_is_not_reused(server: ScriptedServer) -> None:
    server.handler = silent_on_the_first_connection
    async with httpx.AsyncClient(transport=HTTP11Transport(), timeout=0.2) as client:
        with pytest.raises(httpx.ReadTimeout) as raised:
            async with asyncio.timeout(1.0):  # not the transport's: a hang fails here
                await client.get(server.url + "/slow")
        assert raised.value.request.url == server.url + "/slow"

        assert (await client.get(server.url + "/next")).text == "second"

    assert [request.connection for request in server.requests] == [0, 1]
    await eventually(lambda: server.connections[0].closed_by_client)


@bounded
async def test_read_timeout_carries_the_request(server: ScriptedServer) -> None:
    server.handler = silent_on_the_first_connection
    transport = HTTP11Transport()
    request = httpx.Request(
        "GET", server.url + "/slow", extensions={"timeout": httpx.Timeout(0.1).as_dict()}
    )
    try:
        with pytest.raises(httpx.ReadTimeout) as raised:
            async with asyncio.timeout(1.0):
                await transport.handle_async_request(request)
    finally:
        await transport.aclose()

    assert raised.value.request is request


@bounded
async def test_connection_refused_is_a_connect_error() -> None:
    async with httpx.AsyncClient(transport=HTTP11Transport(), timeout=TIMEOUT) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{closed_port()}/a")


@bounded
@pytest.mark.parametrize(
    "malformed",
    [
        b"garbage\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
    ],
    ids=["status-line", "content-length", "header"],
)
async def test_malformed_answer_is_a_remote_protocol_error(
    server: ScriptedServer, malformed: bytes
) -> None:
    async def handler(request: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(malformed if request.connection == 0 else answer(b"fine"))

    server.handler = handler
    transport = HTTP11Transport()
    request = httpx.Request(
        "GET", server.url + "/a", extensions={"timeout": httpx.Timeout(TIMEOUT).as_dict()}
    )
    async with httpx.AsyncClient(transport=transport, timeout=TIMEOUT) as client:
        with pytest.raises(httpx.RemoteProtocolError) as raised:
            await transport.handle_async_request(request)
        assert raised.value.request is request
        await eventually(lambda: server.connections[0].closed_by_client)

        assert (await client.get(server.url + "/b")).text == "fine"

    assert len(server.connections) == 2


@bounded
async def test_cancelled_request_closes_its_connection(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    server.handler = silent_on_the_first_connection
    pending = asyncio.create_task(client.get(server.url + "/cancelled"))
    await eventually(lambda: len(server.requests) == 1)

    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending

    await eventually(lambda: server.connections[0].closed_by_client)
    assert (await client.get(server.url + "/next")).text == "second"
    assert [request.connection for request in server.requests] == [0, 1]


@bounded
async def test_head_answer_with_content_length_completes(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    async def handler(request: Received, writer: asyncio.StreamWriter) -> None:
        if request.method == "HEAD":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n")
        else:
            writer.write(answer(b"after head"))

    server.handler = handler

    response = await asyncio.wait_for(client.head(server.url + "/v1/prices"), 1.0)
    after = await asyncio.wait_for(client.get(server.url + "/v1/prices"), 1.0)

    assert response.status_code == 200
    assert response.headers["content-length"] == "1234"
    assert response.content == b""
    assert after.content == b"after head"


# stripe_http_client


async def _set_cookie(request: Received, writer: asyncio.StreamWriter) -> None:
    writer.write(answer(b"{}", headers=(b"Set-Cookie: session=abc; Path=/",)))


@bounded
async def test_stripe_http_client_keeps_no_cookie(server: ScriptedServer) -> None:
    server.handler = _set_cookie
    async with stripe_http_client(TIMEOUT) as client:
        first = await client.get(server.url + "/a")
        assert first.headers["set-cookie"] == "session=abc; Path=/"
        assert len(client.cookies) == 0
        assert dict(client.cookies) == {}

        await client.get(server.url + "/b")

    assert [request.header(b"cookie") for request in server.requests] == [[], []]


@bounded
async def test_a_plain_client_would_have_kept_and_sent_that_cookie(
    server: ScriptedServer, client: httpx.AsyncClient
) -> None:
    server.handler = _set_cookie

    await client.get(server.url + "/a")
    await client.get(server.url + "/b")

    assert client.cookies.get("session") == "abc"
    assert server.requests[1].header(b"cookie") == [b"session=abc"]


@bounded
async def test_stripe_http_client_goes_through_the_transport_without_redirects(
    server: ScriptedServer,
) -> None:
    async def handler(request: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(answer(b"", "302 Found", (f"Location: {server.url}/elsewhere".encode(),)))

    server.handler = handler
    async with stripe_http_client(TIMEOUT) as client:
        assert isinstance(client._transport, HTTP11Transport)
        response = await client.get(server.url + "/a")

    assert response.status_code == 302
    assert [request.target for request in server.requests] == ["/a"]


@bounded
async def test_stripe_http_client_applies_its_timeout(server: ScriptedServer) -> None:
    server.handler = silent_on_the_first_connection
    async with stripe_http_client(0.1) as client:
        with pytest.raises(httpx.ReadTimeout):
            async with asyncio.timeout(1.0):  # httpx's default would be 5 s
                await client.get(server.url + "/slow")


@bounded
async def test_respx_still_mocks_the_stripe_http_client(monkeypatch: pytest.MonkeyPatch) -> None:
    connections: list[httpx.Request] = []

    async def no_network(self: HTTP11Transport, request: httpx.Request) -> httpx.Response:
        connections.append(request)
        raise AssertionError("the real transport was used")

    monkeypatch.setattr(HTTP11Transport, "handle_async_request", no_network)

    with respx.mock(using="httpx") as router:
        route = router.post("https://api.stripe.com/v1/payment_intents/pi_1").respond(
            200, json={"id": "pi_1"}
        )
        async with stripe_http_client(TIMEOUT) as client:
            posted = await client.post(
                "https://api.stripe.com/v1/payment_intents/pi_1", content=b"amount=1"
            )
            sent = await client.send(
                httpx.Request(
                    "POST", "https://api.stripe.com/v1/payment_intents/pi_1", content=b"amount=2"
                )
            )

    assert posted.json() == sent.json() == {"id": "pi_1"}
    assert [call.request.content for call in route.calls] == [b"amount=1", b"amount=2"]
    assert connections == []


@bounded
async def test_stripe_http_client_errors_carry_the_request_and_the_client_timeout(
    server: ScriptedServer,
) -> None:
    server.handler = silent_on_the_first_connection
    async with stripe_http_client(0.2) as client:
        request = httpx.Request("GET", server.url + "/slow")  # no timeout of its own
        with pytest.raises(httpx.ReadTimeout) as raised:
            async with asyncio.timeout(1.0):  # the client's 0.2 s must fire first
                await client.send(request)
        assert raised.value.request is request
        assert request.extensions["timeout"] == httpx.Timeout(0.2).as_dict()


@bounded
async def test_stripe_http_client_reads_the_answer_and_links_it_to_its_request(
    server: ScriptedServer,
) -> None:
    server.handler = lambda request, writer: _write(writer, answer(b'{"id": "cs_1"}'))
    async with stripe_http_client(TIMEOUT) as client:
        request = client.build_request("GET", server.url + "/v1/checkout/sessions/cs_1")
        response = await client.send(request)

    assert response.request is request
    assert response.is_closed
    assert response.json() == {"id": "cs_1"}


@bounded
async def test_stripe_http_client_streams_through_httpxs_own_path(
    server: ScriptedServer,
) -> None:
    server.handler = lambda request, writer: _write(writer, answer(b"streamed"))
    async with (
        stripe_http_client(TIMEOUT) as client,
        client.stream("GET", server.url + "/a") as response,
    ):
        assert await response.aread() == b"streamed"


@bounded
async def test_a_closed_stripe_http_client_refuses_to_send(server: ScriptedServer) -> None:
    client = stripe_http_client(TIMEOUT)
    await client.aclose()
    with pytest.raises(RuntimeError):
        await client.get(server.url + "/a")
    assert server.requests == []


async def _write(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(data)


@pytest.mark.parametrize("encoding", [None, b"gzip"])
def test_an_answer_is_built_read_as_httpx_builds_it_from_its_content(
    encoding: bytes | None,
) -> None:
    text = '{"id": "cs_1", "name": "caf\u00e9"}'.encode()
    headers = [(b"Content-Type", b"application/json"), (b"Request-Id", b"req_1")]
    body = text
    if encoding is not None:
        headers.append((b"Content-Encoding", encoding))
        body = gzip.compress(text)
    request = httpx.Request("GET", "https://api.stripe.com/v1/checkout/sessions/cs_1")

    ours = _read_response(200, list(headers), body, request)
    httpxs = httpx.Response(200, headers=list(headers), content=body, request=request)

    assert ours.status_code == httpxs.status_code
    assert ours.request is request
    assert ours.content == httpxs.content == text
    assert ours.json() == httpxs.json()
    assert ours.text == httpxs.text
    assert (ours.is_closed, ours.is_stream_consumed) == (httpxs.is_closed, True)
    # httpx adds a Content-Length computed from the body it was given; every header the server
    # sent is kept as sent.
    assert ours.headers.raw[: len(headers)] == httpxs.headers.raw[: len(headers)]
    assert ours.headers.get("request-id") == "req_1"

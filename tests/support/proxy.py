"""A forward proxy on a loopback port, for tests of clients that must go through one: CONNECT
tunnels (https) and absolute-form requests (http), each target recorded."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from tests.support.servers import free_port


class Proxy:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.targets: list[str] = []  # "CONNECT host:port" or "GET http://..."

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
        self.targets.append(f"{method} {target}")
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
        else:  # absolute form: forward to the origin, in origin form
            url = urlsplit(target)
            upstream_reader, upstream_writer = await asyncio.open_connection(
                url.hostname, url.port or 80
            )
            path = (url.path or "/") + (f"?{url.query}" if url.query else "")
            rest = head.split(b"\r\n", 1)[1]
            upstream_writer.write(f"{method} {path} HTTP/1.1\r\n".encode() + rest)
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))

    def serve(self, ready: threading.Event, stop: threading.Event) -> None:
        async def main() -> None:
            server = await asyncio.start_server(self.handle, "127.0.0.1", self.port)
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.05)
            server.close()

        asyncio.run(main())


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


@contextmanager
def running_proxy() -> Iterator[Proxy]:
    proxy, ready, stop = Proxy(), threading.Event(), threading.Event()
    thread = threading.Thread(target=proxy.serve, args=(ready, stop), daemon=True)
    thread.start()
    ready.wait(5)
    try:
        yield proxy
    finally:
        stop.set()
        thread.join(5)

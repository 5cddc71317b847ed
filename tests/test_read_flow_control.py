"""Read-side flow control over a real socket, on asyncio and on uvloop.

A server writes a large body as fast as the socket takes it while the client reads
it slowly: the bytes buffered in the client must stay within twice read_bufsize plus
what the protocol pauses one loop step late (one receive buffer on asyncio's socket
transport, which reads once per step; two on uvloop, which may read again within the
step), and the body must arrive whole. What is buffered is sampled after each chunk
taken, so a peak may be seen up to one chunk low.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest

import airhttp

BODY = bytes(range(256)) * (24 * 1024)  # 6 MiB
READ_BUFSIZE = 2**16
RECEIVE_BUFFER = 2**18  # airhttp.client_proto's per-thread receive buffer
BOUND = 2 * READ_BUFSIZE + 2 * RECEIVE_BUFFER


def _uvloop_run() -> Callable[[Coroutine[Any, Any, int]], int]:
    uvloop = pytest.importorskip("uvloop")
    run: Callable[[Coroutine[Any, Any, int]], int] = uvloop.run
    return run


@contextlib.asynccontextmanager
async def body_server() -> AsyncIterator[str]:
    """Answers every request with BODY under a Content-Length, written in one go."""
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while await reader.readuntil(b"\r\n\r\n"):
                writer.write(head + BODY)
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.close()
        await server.wait_closed()


async def slow_download() -> int:
    """Read BODY 64 KiB at a time with a pause after each; return the most ever buffered."""
    most = 0
    async with body_server() as url, airhttp.ClientSession(read_bufsize=READ_BUFSIZE) as s:
        for _ in range(2):  # the second time on the pooled connection
            digest = hashlib.sha256()
            async with s.get(url) as resp:
                consumed = 0
                async for chunk in resp.content.iter_chunked(READ_BUFSIZE):
                    digest.update(chunk)
                    consumed += len(chunk)
                    most = max(most, resp.content.total_bytes - consumed)
                    await asyncio.sleep(0.0005)
            assert digest.digest() == hashlib.sha256(BODY).digest()
    return most


def test_a_slow_reader_bounds_what_asyncio_buffers() -> None:
    most = asyncio.run(slow_download())
    assert 2 * READ_BUFSIZE <= most <= 2 * READ_BUFSIZE + RECEIVE_BUFFER


def test_a_slow_reader_bounds_what_uvloop_buffers() -> None:
    most = _uvloop_run()(slow_download())
    assert 2 * READ_BUFSIZE <= most <= BOUND

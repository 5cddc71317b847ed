"""The floor: about the least work an asyncio client can do for a GET, to measure against.

Prebuilt request bytes, one reused receive buffer (BufferedProtocol), and only the parsing
the benchmark's servers need (their exact Content-Length spelling, no chunked bodies).
It is a yardstick, never a client: no validation, no errors worth the name.
"""

from __future__ import annotations

import asyncio
from typing import Final, cast
from urllib.parse import urlsplit

from clients import CheckedReply, Unavailable

HEAD_END: Final = b"\r\n\r\n"
LENGTH_FIELD: Final = b"\r\nContent-Length: "
BUFFER_SIZE: Final = 256 * 1024


class FloorProtocol(asyncio.BufferedProtocol):
    """One keep-alive connection; each `fetch` sends the request and waits for its body."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._buffer = bytearray(BUFFER_SIZE)
        self._view = memoryview(self._buffer)
        self.transport: asyncio.Transport | None = None
        self._head = b""
        self._body_left = -1  # -1 while the head is still being read
        self._keep: list[bytes] | None = None
        self._size = 0
        self._done: asyncio.Future[int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, so no isinstance check.
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._done is not None and not self._done.done():
            self._done.set_exception(exc or ConnectionResetError("server closed"))

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._view

    def buffer_updated(self, nbytes: int) -> None:
        if self._body_left >= 0:
            self._take_body(nbytes)
            return
        data = self._head + self._buffer[:nbytes]
        end = data.find(HEAD_END)
        if end < 0:
            self._head = data
            return
        at = data.find(LENGTH_FIELD, 0, end) + len(LENGTH_FIELD)
        self._body_left = int(data[at : data.find(b"\r", at)])
        self._head = b""
        rest = data[end + 4 :]
        self._size = 0
        if rest:
            self._add(rest)
        self._maybe_finish()

    def _take_body(self, nbytes: int) -> None:
        if self._keep is not None:
            self._add(bytes(self._buffer[:nbytes]))
        else:
            # A download is only counted: the bytes stay in the reused buffer.
            self._body_left -= nbytes
            self._size += nbytes
        self._maybe_finish()

    def _add(self, data: bytes) -> None:
        if self._keep is not None:
            self._keep.append(data)
        self._body_left -= len(data)
        self._size += len(data)

    def _maybe_finish(self) -> None:
        if self._body_left == 0 and self._done is not None:
            self._body_left = -1
            self._done.set_result(self._size)

    async def fetch(self, request: bytes, keep_body: bool) -> tuple[int, bytes]:
        assert self.transport is not None
        self._keep = [] if keep_body else None
        self._done = self._loop.create_future()
        self.transport.write(request)
        size = await self._done
        body = b"".join(self._keep) if self._keep is not None else b""
        return size, body


class FloorClient:
    """The floor's bench/clients.py adapter: `get` and `download` only."""

    library = "bare asyncio"
    detail = "BufferedProtocol, prebuilt requests"

    def __init__(self) -> None:
        self._connection: FloorProtocol | None = None
        self._requests: dict[str, bytes] = {}

    async def _send(self, url: str, keep_body: bool) -> tuple[int, bytes]:
        request = self._requests.get(url)
        if request is None:
            parts = urlsplit(url)
            request = f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode()
            self._requests[url] = request
        if self._connection is None:
            loop = asyncio.get_running_loop()
            parts = urlsplit(url)
            _, protocol = await loop.create_connection(
                lambda: FloorProtocol(loop), parts.hostname or "127.0.0.1", parts.port or 80
            )
            self._connection = protocol
        return await self._connection.fetch(request, keep_body)

    async def get(self, url: str) -> bytes:
        return (await self._send(url, keep_body=True))[1]

    async def download(self, url: str) -> int:
        return (await self._send(url, keep_body=False))[0]

    async def upload(self, url: str, data: bytes) -> bytes:
        raise Unavailable("the floor client only sends GETs")

    async def post_json(self, url: str, document: object) -> object:
        raise Unavailable("the floor client only sends GETs")

    async def cold_get(self, url: str) -> bytes:
        raise Unavailable("the floor client keeps one connection")

    async def ws_echo(self, url: str, text: str) -> str:
        raise Unavailable("the floor client has no WebSocket")

    async def inspect(self, url: str) -> CheckedReply:
        raise Unavailable("the floor client keeps no headers")

    async def close(self) -> None:
        if self._connection is not None and self._connection.transport is not None:
            self._connection.transport.close()

"""The HTTP/1.1 keep-alive server that the client benchmark talks to, run as its own process.

It only has to cost less than any client it serves: it must not grow into a general server.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import email.utils
import hashlib
import json
import signal
from typing import Final

SMALL_BODY: Final = b"Hello, World!"
# Enough fields to resemble an API reply; its encoding is about 1 KiB.
JSON_DOCUMENT: Final = {
    "id": 12345,
    "name": "airhttp benchmark",
    "active": True,
    "score": 98.25,
    "tags": ["http", "asyncio", "client", "benchmark", "pure-python"],
    "owner": {
        "login": "bench",
        "id": 1,
        "site_admin": False,
        "url": "http://127.0.0.1/users/bench",
    },
    "items": [
        {"sku": f"item-{i:03d}", "price": i * 1.5, "qty": i % 7, "ok": i % 2 == 0}
        for i in range(10)
    ],
    "description": "A fixed document used to measure JSON response handling. " * 2,
}
HEADERS30_COUNT: Final = 30
HEAD_END: Final = b"\r\n\r\n"
CONTENT_LENGTH: Final = b"\r\ncontent-length:"
WS_PATH: Final = b"GET /ws "
WS_KEY_FIELD: Final = b"\r\nsec-websocket-key:"
WS_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def ws_accept_reply(head: bytes) -> bytes:
    """The 101 answer to a WebSocket upgrade request (RFC 6455 section 4.2.2)."""
    lowered = head.lower()
    at = lowered.find(WS_KEY_FIELD) + len(WS_KEY_FIELD)
    end = lowered.find(b"\r\n", at)
    key = head[at : end if end >= 0 else None].strip()
    accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest())  # noqa: S324
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + HEAD_END
    )


def ws_echo(buffer: bytes) -> tuple[list[bytes], int, bool]:
    """Echo every complete masked client frame in `buffer` back unmasked.

    Returns the replies, how many bytes were consumed and whether a CLOSE was seen.
    """
    replies: list[bytes] = []
    pos = 0
    size = len(buffer)
    while size - pos >= 6:
        first = buffer[pos]
        length = buffer[pos + 1] & 0x7F
        header = 2
        if length == 126:
            if size - pos < 8:
                break
            length = int.from_bytes(buffer[pos + 2 : pos + 4], "big")
            header = 4
        elif length == 127:
            if size - pos < 14:
                break
            length = int.from_bytes(buffer[pos + 2 : pos + 10], "big")
            header = 10
        start = pos + header + 4
        if size < start + length:
            break
        mask = buffer[start - 4 : start]
        masked = buffer[start : start + length]
        whole, rest = divmod(length, 4)
        key = int.from_bytes(mask * whole + mask[:rest], "big")
        payload = (int.from_bytes(masked, "big") ^ key).to_bytes(length, "big")
        if length < 126:
            replies.append(bytes((first, length)) + payload)
        elif length < 65536:
            replies.append(bytes((first, 126)) + length.to_bytes(2, "big") + payload)
        else:
            replies.append(bytes((first, 127)) + length.to_bytes(8, "big") + payload)
        pos = start + length
        if first & 0x0F == 0x8:
            return replies, pos, True
    return replies, pos, False


def render(status: bytes, headers: list[tuple[str, str]], body: bytes) -> bytes:
    lines = [b"HTTP/1.1 " + status]
    lines.extend(f"{name}: {value}".encode("latin-1") for name, value in headers)
    lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + HEAD_END + body


def small_headers(date: str, content_type: str) -> list[tuple[str, str]]:
    # Six fields with Content-Length, about what a typical API server sends.
    return [
        ("Server", "airhttp-bench"),
        ("Date", date),
        ("Content-Type", content_type),
        ("Cache-Control", "no-cache"),
        ("Connection", "keep-alive"),
    ]


def build_responses(date: str) -> dict[bytes, bytes]:
    """Pre-render every route's full response so serving one costs a dict lookup."""
    text = "text/plain; charset=utf-8"
    many = small_headers(date, text)
    many.extend(
        (f"X-Bench-Header-{i:02d}", f"value-{i:02d}-abcdefghijklmnop")
        for i in range(HEADERS30_COUNT - len(many) - 1)
    )
    json_body = json.dumps(JSON_DOCUMENT).encode()
    return {
        b"/small": render(b"200 OK", small_headers(date, text), SMALL_BODY),
        b"/headers30": render(b"200 OK", many, SMALL_BODY),
        b"/json": render(b"200 OK", small_headers(date, "application/json"), json_body),
    }


class Routes:
    """The current pre-rendered responses, re-rendered once a second to keep Date honest."""

    __slots__ = ("_loop", "not_found", "responses")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.responses: dict[bytes, bytes] = {}
        self.not_found = b""
        self.refresh()

    def refresh(self) -> None:
        date = email.utils.formatdate(usegmt=True)
        self.responses = build_responses(date)
        self.not_found = render(b"404 Not Found", small_headers(date, "text/plain"), b"not found")
        self._loop.call_later(1.0, self.refresh)


class BenchProtocol(asyncio.Protocol):
    """One client connection: find each request's end, answer it, keep the connection open."""

    __slots__ = ("_buffer", "_routes", "_transport", "_websocket")

    def __init__(self, routes: Routes) -> None:
        self._routes = routes
        self._transport: asyncio.Transport | None = None
        self._buffer = b""
        self._websocket = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        if self._websocket:
            self._echo(buffer)
            return
        responses = self._routes.responses
        replies: list[bytes] = []
        start = 0
        close = False
        while True:
            head_end = buffer.find(HEAD_END, start)
            if head_end < 0:
                break
            body_start = head_end + 4
            head = buffer[start:head_end]
            length = 0
            # Benchmark GETs carry no body, so only other methods pay for a header scan.
            if not head.startswith(b"GET "):
                lowered = head.lower()
                at = lowered.find(CONTENT_LENGTH)
                if at >= 0:
                    value_start = at + len(CONTENT_LENGTH)
                    value_end = lowered.find(b"\r\n", value_start)
                    length = int(lowered[value_start : value_end if value_end >= 0 else None])
            if len(buffer) < body_start + length:
                break
            if head.startswith(WS_PATH):
                replies.append(ws_accept_reply(head))
                self._websocket = True
                self._buffer = b""
                assert self._transport is not None
                self._transport.write(b"".join(replies))
                self._echo(buffer[body_start:])
                return
            first_space = head.find(b" ")
            path = head[first_space + 1 : head.find(b" ", first_space + 1)]
            replies.append(responses.get(path) or self._routes.not_found)
            if b"lose" in head and b"\r\nconnection: close" in head.lower():
                close = True
            start = body_start + length
        self._buffer = buffer[start:]
        transport = self._transport
        assert transport is not None
        if replies:
            transport.write(b"".join(replies))
        if close:
            transport.close()


    def _echo(self, buffer: bytes) -> None:
        replies, used, closing = ws_echo(buffer)
        self._buffer = buffer[used:]
        transport = self._transport
        assert transport is not None
        if replies:
            transport.write(b"".join(replies))
        if closing:
            transport.close()


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    routes = Routes(loop)
    server = await loop.create_server(lambda: BenchProtocol(routes), host, port, backlog=1024)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    bound_port: int = server.sockets[0].getsockname()[1]
    # bench/run.py waits for this line: the port is the first thing printed.
    print(bound_port, flush=True)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()

"""The Python benchmark server: the WebSocket echo, and every HTTP route when nginx is missing.

It only has to cost less than any client it serves: it must not grow into a general server.
Every reply is rendered in advance; request bodies are counted and dropped, never buffered.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import email.utils
import hashlib
import signal
from typing import Final, cast

from payloads import (
    DOWNLOAD_SIZE,
    MIB,
    SMALL_BODY,
    UPLOAD_REPLY,
    download_block,
    extra_headers,
    gzip_body,
    json_body,
)

HEAD_END: Final = b"\r\n\r\n"
CONTENT_LENGTH: Final = b"\r\ncontent-length:"
WS_PATH: Final = b"GET /ws "
WS_KEY_FIELD: Final = b"\r\nsec-websocket-key:"
WS_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# nginx sends the precompressed /gzip in chunks of this size; the fallback does the same.
GZIP_CHUNK: Final = 32 * 1024


def ws_accept_reply(head: bytes) -> bytes:
    """The 101 answer to a WebSocket upgrade request (RFC 6455 section 4.2.2)."""
    lowered = head.lower()
    at = lowered.find(WS_KEY_FIELD) + len(WS_KEY_FIELD)
    end = lowered.find(b"\r\n", at)
    key = head[at : end if end >= 0 else None].strip()
    accept = base64.b64encode(
        hashlib.sha1(key + WS_GUID).digest()
    )  # RFC 6455 section 4.2.2 names SHA-1
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


def base_headers(date: str, content_type: str) -> list[tuple[str, str]]:
    # The fields nginx sends for a `return 200` reply, Content-Length aside.
    return [
        ("Server", "airhttp-bench"),
        ("Date", date),
        ("Content-Type", content_type),
        ("Connection", "keep-alive"),
    ]


def render_chunked_gzip(date: str) -> bytes:
    head = base_headers(date, "text/plain")
    head += [("Transfer-Encoding", "chunked"), ("Content-Encoding", "gzip")]
    lines = [b"HTTP/1.1 200 OK", *(f"{k}: {v}".encode("latin-1") for k, v in head)]
    packed = gzip_body()
    chunks = [
        b"%x\r\n%b\r\n" % (len(piece), piece)
        for piece in (packed[at : at + GZIP_CHUNK] for at in range(0, len(packed), GZIP_CHUNK))
    ]
    return b"\r\n".join(lines) + HEAD_END + b"".join(chunks) + b"0\r\n\r\n"


def build_responses(date: str) -> dict[bytes, bytes]:
    """Pre-render every route's full response so serving one costs a dict lookup."""
    text = "text/plain"
    small = [*base_headers(date, text), ("Cache-Control", "no-cache")]
    many = base_headers(date, text) + extra_headers()
    download = download_block() * (DOWNLOAD_SIZE // MIB)
    return {
        b"/small": render(b"200 OK", small, SMALL_BODY),
        b"/headers30": render(b"200 OK", many, SMALL_BODY),
        b"/json": render(b"200 OK", base_headers(date, "application/json"), json_body()),
        b"/download": render(b"200 OK", base_headers(date, "application/octet-stream"), download),
        b"/gzip": render_chunked_gzip(date),
        b"/upload": render(b"200 OK", base_headers(date, text), UPLOAD_REPLY),
    }


class Routes:
    """The pre-rendered responses, made once: Date stays the start time, which no client reads.

    (Re-rendering the 64 MiB download to refresh Date would cost the clients' timings.)
    """

    __slots__ = ("not_found", "responses")

    def __init__(self) -> None:
        date = email.utils.formatdate(usegmt=True)
        self.responses = build_responses(date)
        self.not_found = render(b"404 Not Found", base_headers(date, "text/plain"), b"not found")


def body_length(head: bytes) -> int:
    # Benchmark GETs carry no body, so only other methods pay for a header scan.
    if head.startswith(b"GET "):
        return 0
    lowered = head.lower()
    at = lowered.find(CONTENT_LENGTH)
    if at < 0:
        return 0
    value_start = at + len(CONTENT_LENGTH)
    value_end = lowered.find(b"\r\n", value_start)
    return int(lowered[value_start : value_end if value_end >= 0 else None])


class BenchProtocol(asyncio.Protocol):
    """One client connection: find each request's end, answer it, keep the connection open."""

    __slots__ = ("_body_left", "_buffer", "_pending", "_routes", "_transport", "_websocket")

    def __init__(self, routes: Routes) -> None:
        self._routes = routes
        self._transport: asyncio.Transport | None = None
        self._buffer = b""
        self._websocket = False
        # A request whose body is still arriving: bytes left to drop, and the reply after it.
        self._body_left = 0
        self._pending = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, so no isinstance check.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        transport = self._transport
        assert transport is not None
        if self._websocket:
            self._echo(self._buffer + data if self._buffer else data)
            return
        if self._body_left:
            used = min(self._body_left, len(data))
            self._body_left -= used
            if self._body_left:
                return
            transport.write(self._pending)
            self._pending = b""
            data = data[used:]
        buffer = self._buffer + data if self._buffer else data
        replies: list[bytes] = []
        start = 0
        while (head_end := buffer.find(HEAD_END, start)) >= 0:
            head = buffer[start:head_end]
            if head.startswith(WS_PATH):
                transport.write(b"".join(replies) + ws_accept_reply(head))
                self._websocket = True
                self._buffer = b""
                self._echo(buffer[head_end + 4 :])
                return
            first_space = head.find(b" ")
            path = head[first_space + 1 : head.find(b" ", first_space + 1)]
            reply = self._routes.responses.get(path) or self._routes.not_found
            start = head_end + 4 + body_length(head)
            if start > len(buffer):
                self._body_left = start - len(buffer)
                self._pending = reply
                start = len(buffer)
                break
            replies.append(reply)
        self._buffer = buffer[start:]
        if replies:
            transport.write(b"".join(replies))

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
    routes = Routes()
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
    parser.add_argument("--uvloop", action="store_true", help="serve on uvloop")
    args = parser.parse_args()
    if args.uvloop:
        import uvloop

        uvloop.run(serve(args.host, args.port))
    else:
        asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()

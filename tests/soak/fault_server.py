"""A misbehaving HTTP and WebSocket server for the soak run, meant for its own process.

`python -m tests.soak.fault_server --port 0` listens on 127.0.0.1, prints `PORT <n>` and
serves until SIGTERM, SIGINT or the end of its standard input (so it never outlives the
run that started it). It imports nothing from the test tree and neither HTTP client: the
HTTP and WebSocket sides are written by hand, from RFC 9112 and RFC 6455, with
asyncio streams.

Every request says by its path what it gets, so the client knows what to expect:

- `/ok/<n>`: a small keep-alive answer, framed by Content-Length, chunked or gzip by n
  (see `ok_payload`; a POST gets its body back after b"got "); every 50th closes after
  answering (`Connection: close`). `X-Conn` numbers the connection it came on.
- `/fault/<kind>/<n>`: one of `HTTP_FAULTS`, played as described there.
- `/ws/<kind>/<n>` with an Upgrade: a WebSocket that echoes text and binary messages;
  for a kind of `WS_FAULTS` the second message gets the misbehaviour instead of its echo.
- `/stats`: JSON counts of what the server saw (connections, requests by kind, and
  requests that arrived on a connection the client should have dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import hashlib
import json
import signal
import socket
import struct
import sys
import threading
import zlib
from collections.abc import Sequence
from typing import Final

# kind -> what the server does once it has read the request.
HTTP_FAULTS: Final = {
    "close_before_head": "closes without answering",
    "close_mid_head": "sends the status line and one header, then closes",
    "close_mid_body_length": "sends 10 of 100 Content-Length bytes, then closes",
    "close_mid_body_chunked": "sends one chunk of a chunked body, then closes",
    "reset_before_head": "resets the connection (SO_LINGER 0) without answering",
    "reset_mid_body": "sends the head and 10 of 100 bytes, then resets",
    "stall_head": "sends nothing until the client gives up",
    "stall_body": "sends the head and 10 of 100 bytes, then nothing",
    "malformed_head": "answers with a status line that breaks HTTP",
    "long_body": "sends 22 bytes more than its Content-Length of 5",
    "corrupt_gzip": "sends a gzip header followed by bytes that are no deflate stream",
}
WS_FAULTS: Final = {
    "ws_drop_mid_message": "sends half a frame, then closes TCP",
    "ws_invalid_frame": "sends a frame with a reserved opcode",
    "ws_reset": "resets the connection (SO_LINGER 0)",
    "ws_bad_accept": "answers the handshake with a wrong Sec-WebSocket-Accept",
}
# After these the client must not send another request on the connection: the server
# keeps it open and counts any request that still comes (`reused_after_fault`).
MUST_NOT_REUSE: Final = frozenset({"malformed_head", "long_body", "corrupt_gzip"})
LONG_BODY: Final = b"hello"
LONG_BODY_EXTRA: Final = b"EXTRA BYTES, NO ANSWER"
# How long a stalled answer waits for the client to hang up before closing itself.
STALL_LIMIT: Final = 30.0

# RFC 6455 section 1.3.
_WS_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_TEXT, _BINARY, _CLOSE, _PING, _PONG = 0x1, 0x2, 0x8, 0x9, 0xA

_KEEP, _CLOSE_CONN, _RESET, _POISON = "keep", "close", "reset", "poison"


def ok_payload(n: int) -> bytes:
    """The body of `GET /ok/<n>` (before any framing or compression)."""
    return b"ok %d " % n + b"x" * (n % 97)


def is_closing_ok(n: int) -> bool:
    """`/ok/<n>` answers with `Connection: close` and closes for every 50th n."""
    return n % 50 == 1


def ws_accept(key: str) -> str:
    """Sec-WebSocket-Accept for `key` (RFC 6455 section 4.2.2)."""
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + _WS_GUID).digest()).decode()


def ws_frame(opcode: int, payload: bytes = b"", *, declared: int | None = None) -> bytes:
    """An unmasked server frame; `declared` lies about the payload length."""
    size = len(payload) if declared is None else declared
    first = 0x80 | opcode
    if size <= 125:
        return bytes((first, size)) + payload
    return bytes((first, 126)) + struct.pack("!H", size) + payload


def _unmask(data: bytes, key: bytes) -> bytes:
    n = len(data)
    mask = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(mask, "big")).to_bytes(n, "big")


async def _read_ws_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One client frame as (opcode, unmasked payload); fragments are not expected here."""
    b0, b1 = await reader.readexactly(2)
    size = b1 & 0x7F
    if size == 126:
        (size,) = struct.unpack("!H", await reader.readexactly(2))
    elif size == 127:
        (size,) = struct.unpack("!Q", await reader.readexactly(8))
    key = await reader.readexactly(4) if b1 & 0x80 else b""
    data = await reader.readexactly(size) if size else b""
    return b0 & 0x0F, _unmask(data, key) if key and data else data


def _head(status: str, *headers: str) -> bytes:
    return ("HTTP/1.1 " + status + "\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n").encode()


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _wait_for_hangup(reader: asyncio.StreamReader) -> None:
    with contextlib.suppress(asyncio.TimeoutError, ConnectionError):
        await asyncio.wait_for(reader.read(), STALL_LIMIT)


class FaultServer:
    """Answers each connection's requests in turn; `stats` counts what it saw."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests: collections.Counter[str] = collections.Counter()
        self.reused_after_fault = 0
        self.errors = 0  # exceptions of the server's own: each one is a bug here, not there
        self.tasks: set[asyncio.Task[None]] = set()

    def stats(self) -> dict[str, object]:
        return {
            "connections": self.connections,
            "requests": dict(self.requests),
            "reused_after_fault": self.reused_after_fault,
            "errors": self.errors,
        }

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        self.connections += 1
        ending = _CLOSE_CONN
        try:
            ending = await self._serve(reader, writer, self.connections)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass  # the server is stopping
        except Exception as exc:
            self.errors += 1
            print(f"fault server error: {exc!r}", file=sys.stderr, flush=True)
        finally:
            self.tasks.discard(task)
            if ending == _RESET:
                _reset(writer)
            else:
                writer.close()

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conn_id: int
    ) -> str:
        poisoned = False
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return _CLOSE_CONN  # the client hung up between requests
            method, target, headers = _parse_head(head)
            length = int(headers.get("content-length", "0"))
            body = await reader.readexactly(length) if length else b""
            if poisoned:
                self.reused_after_fault += 1
            parts = target.split("/")
            kind = parts[2] if len(parts) == 4 and parts[1] in ("fault", "ws") else parts[1]
            self.requests[kind] += 1
            n = int(parts[-1]) if parts[-1].isdigit() else 0
            if parts[1] == "ws":
                return await self._websocket(kind, headers, reader, writer)
            if kind == "stats":
                data = json.dumps(self.stats()).encode()
                writer.write(_head("200 OK", f"Content-Length: {len(data)}") + data)
                ending = _KEEP
            elif kind == "ok":
                ending = self._answer_ok(n, method, body, headers, writer, conn_id)
            else:
                ending = await self._fault(kind, reader, writer)
            await writer.drain()
            if ending == _POISON:
                poisoned = True
            elif ending != _KEEP:
                return ending

    def _answer_ok(
        self,
        n: int,
        method: str,
        body: bytes,
        headers: dict[str, str],
        writer: asyncio.StreamWriter,
        conn_id: int,
    ) -> str:
        payload = b"got " + body if method == "POST" else ok_payload(n)
        closing = is_closing_ok(n)
        extra = [f"X-Conn: {conn_id}"] + (["Connection: close"] if closing else [])
        variant = n % 4
        if variant == 2:
            half = len(payload) // 2
            chunks = b"".join(
                b"%x\r\n%s\r\n" % (len(c), c) for c in (payload[:half], payload[half:])
            )
            writer.write(
                _head("200 OK", "Transfer-Encoding: chunked", *extra) + chunks + b"0\r\n\r\n"
            )
        else:
            if variant == 3 and "gzip" in headers.get("accept-encoding", ""):
                packer = zlib.compressobj(1, zlib.DEFLATED, 31)
                payload = packer.compress(payload) + packer.flush()
                extra.append("Content-Encoding: gzip")
            writer.write(_head("200 OK", f"Content-Length: {len(payload)}", *extra) + payload)
        return _CLOSE_CONN if closing else _KEEP

    async def _fault(
        self, kind: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> str:
        partial = _head("200 OK", "Content-Length: 100") + b"0123456789"
        if kind == "close_before_head":
            return _CLOSE_CONN
        if kind == "close_mid_head":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n")
            return _CLOSE_CONN
        if kind == "close_mid_body_length":
            writer.write(partial)
            return _CLOSE_CONN
        if kind == "close_mid_body_chunked":
            writer.write(_head("200 OK", "Transfer-Encoding: chunked") + b"a\r\n0123456789\r\n")
            return _CLOSE_CONN
        if kind == "reset_before_head":
            return _RESET
        if kind == "reset_mid_body":
            writer.write(partial)
            await writer.drain()
            await asyncio.sleep(0.01)  # let the head arrive first: the body is what breaks
            return _RESET
        if kind == "stall_head":
            await _wait_for_hangup(reader)
            return _CLOSE_CONN
        if kind == "stall_body":
            writer.write(partial)
            await _wait_for_hangup(reader)
            return _CLOSE_CONN
        if kind == "malformed_head":
            writer.write(b"HTTP/1.1 20x OK\r\nContent-Length: 2\r\n\r\nok")
        elif kind == "long_body":
            writer.write(_head("200 OK", "Content-Length: 5") + LONG_BODY + LONG_BODY_EXTRA)
        elif kind == "corrupt_gzip":
            junk = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"this is no deflate stream"
            writer.write(
                _head("200 OK", "Content-Encoding: gzip", f"Content-Length: {len(junk)}") + junk
            )
        else:
            writer.write(_head("404 Not Found", "Content-Length: 0"))
            return _KEEP
        return _POISON

    async def _websocket(
        self,
        kind: str,
        headers: dict[str, str],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> str:
        accept = ws_accept(headers.get("sec-websocket-key", ""))
        if kind == "ws_bad_accept":
            accept = ws_accept("not the client's key")
        writer.write(
            _head(
                "101 Switching Protocols",
                "Upgrade: websocket",
                "Connection: Upgrade",
                f"Sec-WebSocket-Accept: {accept}",
            )
        )
        messages = 0
        while True:
            opcode, payload = await _read_ws_frame(reader)
            if opcode == _CLOSE:
                writer.write(ws_frame(_CLOSE, payload[:2]))
                await writer.drain()
                return _CLOSE_CONN
            if opcode == _PING:
                writer.write(ws_frame(_PONG, payload))
                continue
            if opcode not in (_TEXT, _BINARY):
                continue
            messages += 1
            if messages == 2 and kind == "ws_drop_mid_message":
                writer.write(ws_frame(_TEXT, payload[:3], declared=len(payload) + 40))
                await writer.drain()
                return _CLOSE_CONN
            if messages == 2 and kind == "ws_reset":
                return _RESET
            if messages == 2 and kind == "ws_invalid_frame":
                writer.write(ws_frame(0x3, payload))
            else:
                writer.write(ws_frame(opcode, payload))
            await writer.drain()


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return method, target, headers


async def serve(host: str, port: int) -> None:
    """Serve until SIGTERM, SIGINT or the end of stdin; prints `PORT <n>` once listening."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    def watch_stdin() -> None:
        # The parent holds our stdin: when it goes away (even killed), so do we.
        with contextlib.suppress(Exception):
            sys.stdin.buffer.read()
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=watch_stdin, daemon=True).start()
    fault_server = FaultServer()
    server = await asyncio.start_server(fault_server.handle, host, port, backlog=1024)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    await stop.wait()
    server.close()
    tasks = list(fault_server.tasks)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await server.wait_closed()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()

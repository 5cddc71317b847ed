"""A first tour of airhttp: a GET, a JSON POST, a streamed download and response headers.

It talks only to a small HTTP/1.1 server started inside this process; it never uses the network.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import sys
from typing import Final

import airhttp

HOST: Final = "127.0.0.1"
GREETING: Final = "Hello from the airhttp demo server!"
STREAM_PIECE: Final = b"0123456789abcdef" * 512
STREAM_PIECES: Final = 8
STREAM_BODY: Final = STREAM_PIECE * STREAM_PIECES
# Small enough that the 64 KiB download visibly arrives as several chunks.
READ_SIZE: Final = 16 * 1024
PAYLOAD: Final = {"greeting": "hello", "numbers": [1, 2, 3], "nested": {"ok": True}}

Headers = list[tuple[str, str]]


class DemoServer:
    """Serves GET /, POST /echo and GET /stream over HTTP/1.1 with keep-alive."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve_connection, HOST, 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        # Python 3.10/3.11 do not wait for live connections in wait_closed(), so end them here.
        for writer in self._writers:
            writer.close()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.add(writer)
        self.connections += 1
        try:
            while await self._serve_one_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass

    async def _serve_one_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer one request; return whether the connection stays open for another."""
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, _, header_block = head.decode("latin-1").partition("\r\n")
        method, target, _version = request_line.split(" ", 2)
        fields: dict[str, str] = {}
        for line in header_block.split("\r\n"):
            name, sep, value = line.partition(":")
            if sep:
                fields[name.strip().lower()] = value.strip()
        length = int(fields.get("content-length", "0"))
        body = await reader.readexactly(length) if length else b""
        self.requests += 1

        if method == "GET" and target == "/":
            await send(writer, "200 OK", "text/plain; charset=utf-8", GREETING.encode())
        elif method == "POST" and target == "/echo":
            try:
                document = json.loads(body)
            except ValueError:
                await send(writer, "400 Bad Request", "text/plain", b"body is not JSON")
            else:
                await send(writer, "200 OK", "application/json", json.dumps(document).encode())
        elif method == "GET" and target == "/stream":
            await send_chunked(writer)
        else:
            await send(writer, "404 Not Found", "text/plain", b"no such page")
        return fields.get("connection", "").lower() != "close"


def common_headers(content_type: str) -> Headers:
    return [
        ("Server", "airhttp-demo"),
        ("Date", email.utils.formatdate(usegmt=True)),
        ("Content-Type", content_type),
    ]


def render_head(status: str, headers: Headers) -> bytes:
    lines = [f"HTTP/1.1 {status}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def send(writer: asyncio.StreamWriter, status: str, content_type: str, body: bytes) -> None:
    headers = common_headers(content_type)
    headers.append(("Content-Length", str(len(body))))
    writer.write(render_head(status, headers) + body)
    await writer.drain()


async def send_chunked(writer: asyncio.StreamWriter) -> None:
    headers = common_headers("application/octet-stream")
    headers.append(("Transfer-Encoding", "chunked"))
    writer.write(render_head("200 OK", headers))
    for _ in range(STREAM_PIECES):
        writer.write(b"%x\r\n%b\r\n" % (len(STREAM_PIECE), STREAM_PIECE))
        await writer.drain()
        # A short pause so the client really receives the body piece by piece.
        await asyncio.sleep(0.005)
    writer.write(b"0\r\n\r\n")
    await writer.drain()


async def tour(base: str) -> list[str]:
    """Run the client side of the demo and return any problems it noticed."""
    problems: list[str] = []
    async with airhttp.ClientSession() as session:
        print("\n1. A plain GET")
        async with session.get(f"{base}/") as resp:
            text = await resp.text()
            print(f"   GET / -> {resp.status} {resp.reason}")
            print(f"   text: {text!r}")
        if text != GREETING:
            problems.append(f"GET / returned {text!r}")

        print("\n2. A POST with a JSON body")
        async with session.post(f"{base}/echo", json=PAYLOAD) as resp:
            echoed = await resp.json()
            print(f"   POST /echo -> {resp.status} ({resp.content_type})")
            print(f"   sent:     {PAYLOAD}")
            print(f"   received: {echoed}")
        if echoed != PAYLOAD:
            problems.append(f"POST /echo returned {echoed!r}")

        print("\n3. A streamed download")
        received = bytearray()
        sizes: list[int] = []
        async with session.get(f"{base}/stream") as resp:
            print(f"   GET /stream -> {resp.status}, reading pieces of up to {READ_SIZE} bytes")
            async for chunk in resp.content.iter_chunked(READ_SIZE):
                sizes.append(len(chunk))
                received += chunk
            headers = resp.headers
        print(f"   chunk sizes: {sizes}")
        print(f"   total: {len(received)} bytes in {len(sizes)} chunks")
        if bytes(received) != STREAM_BODY:
            problems.append("GET /stream body does not match what the server sent")

        print("\n4. The response headers of GET /stream")
        for name, value in headers.items():
            print(f"   {name}: {value}")
    return problems


async def main() -> int:
    server = DemoServer()
    port = await server.start()
    print(f"airhttp {airhttp.__version__} demo; in-process server at http://{HOST}:{port}")
    try:
        problems = await tour(f"http://{HOST}:{port}")
    finally:
        await server.close()
    noun = "connection" if server.connections == 1 else "connections"
    print(
        f"\nThe server answered {server.requests} requests over {server.connections} TCP {noun}"
        " (the session keeps connections alive and reuses them)."
    )
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

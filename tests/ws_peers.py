"""Two independent WebSocket servers for the interop tests: `websockets` and aiohttp.web.

Both run one echo service on 127.0.0.1 and record what they saw; they do nothing of
their own accord but what a test's message asks. Test scaffolding only: nothing leaves
the host.

A text message that starts with "!" is a command to the server instead of an echo:

    !close CODE [REASON]         close with that code and reason
    !abort                       drop the TCP connection, no CLOSE frame
    !ping PAYLOAD                ping, wait for the matching pong, then send "pong PAYLOAD"
    !deaf                        stop reading the socket (answers nothing), after sending "deaf"
    !burst COUNT SIZE            send COUNT binary messages of SIZE bytes: `burst_message(i, SIZE)`
    !fragments COUNT SIZE KIND   send one KIND ("text"/"binary") message of COUNT fragments
                                 of SIZE bytes each, fragment i made of chr(ord("a") + i)
    !utf8 TEXT                   send TEXT as one text message, one UTF-8 byte per frame
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import WSMsgType, web
from multidict import CIMultiDict
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.http11 import Request, Response
from yarl import URL

import airhttp

from .conftest import WebServer
from .tcp_support import LoopbackServer, pipe

__all__ = (
    "PEER_NAMES",
    "AiohttpPeer",
    "Deflate",
    "Handshake",
    "Peer",
    "PeerOptions",
    "TcpRelay",
    "burst_message",
    "UpgradingProxy",
    "WEBSOCKETS_DEFAULT_DEFLATE",
    "WebsocketsPeer",
    "fragment_payload",
    "make_peer",
    "relay_to",
)

# tests/conftest.py's `peer` fixture runs each of these.
PEER_NAMES: Final = ("websockets", "aiohttp")
# How long a "deaf" handler keeps its socket paused when the test does not end first.
_DEAF_LIMIT: Final = 2.0


@dataclass(frozen=True)
class Deflate:
    """The server's permessage-deflate settings; None for a window means "as the client asks".

    aiohttp.web has only on/off: a `Deflate` with any field set is refused for it.
    """

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int | None = None
    client_max_window_bits: int | None = None


# websockets' own default (compression="deflate"): 12-bit windows both ways.
WEBSOCKETS_DEFAULT_DEFLATE: Final = Deflate(server_max_window_bits=12, client_max_window_bits=12)


@dataclass(frozen=True)
class PeerOptions:
    """How a peer's server is set up; `max_size` is the largest message it accepts."""

    ssl: ssl.SSLContext | None = None
    max_size: int = 2**20
    deflate: Deflate | None = None
    protocols: tuple[str, ...] = ()
    set_cookie: tuple[str, str] | None = None


@dataclass
class Handshake:
    """One upgrade request as the server read it, and the 101 it answered."""

    path_qs: str
    request_headers: list[tuple[str, str]]
    response_headers: CIMultiDict[str]

    @property
    def headers(self) -> CIMultiDict[str]:
        return CIMultiDict(self.request_headers)


@dataclass
class Peer:
    """What both servers share: the records a test reads after talking to one."""

    name: str = ""
    # Whether the server's CLOSE answer repeats the client's code (else it says 1000).
    echoes_close_code: bool = False
    handshakes: list[Handshake] = field(default_factory=list)
    # As each connection ends, the CLOSE it got from the client: (code, reason) or None.
    _ended: asyncio.Queue[tuple[int, str] | None] = field(default_factory=asyncio.Queue)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self, options: PeerOptions = PeerOptions()) -> URL:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def next_client_close(self, timeout: float = 1.0) -> tuple[int, str] | None:
        """Wait for a connection handler to end; what CLOSE (if any) the client had sent."""
        return await asyncio.wait_for(self._ended.get(), timeout)

    def _record_end(self, close: tuple[int, str] | None) -> None:
        self._ended.put_nowait(close)

    async def _stay_deaf(self, transport: asyncio.BaseTransport) -> None:
        # Paused, the server never reads the client's pings; it hears again once the
        # test is over so that its handler can see the connection end.
        assert isinstance(transport, asyncio.ReadTransport)
        transport.pause_reading()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), _DEAF_LIMIT)
        if not transport.is_closing():
            transport.resume_reading()


def fragment_payload(count: int, size: int) -> list[bytes]:
    return [bytes([ord("a") + index]) * size for index in range(count)]


def burst_message(index: int, size: int) -> bytes:
    return index.to_bytes(4, "big") + bytes([index % 256]) * (size - 4)


_COMMAND = re.compile(r"!(\w+)(?: (.*))?", re.DOTALL)


def _command(text: str) -> tuple[str, str] | None:
    match = _COMMAND.fullmatch(text)
    return None if match is None else (match.group(1), match.group(2) or "")


# --- websockets -----------------------------------------------------------------------------


class WebsocketsPeer(Peer):
    """The `websockets` library's asyncio server."""

    def __init__(self) -> None:
        super().__init__(name="websockets", echoes_close_code=True)
        self._servers: list[Server] = []

    async def start(self, options: PeerOptions = PeerOptions()) -> URL:
        def process_response(
            connection: ServerConnection, request: Request, response: Response
        ) -> None:
            if options.set_cookie is not None:
                name, value = options.set_cookie
                response.headers["Set-Cookie"] = f"{name}={value}; Path=/"
            self.handshakes.append(
                Handshake(
                    request.path,
                    list(request.headers.raw_items()),
                    CIMultiDict(response.headers.raw_items()),
                )
            )

        kwargs: dict[str, Any] = {"compression": None}
        if options.deflate is not None:
            kwargs = {"extensions": [ServerPerMessageDeflateFactory(**vars(options.deflate))]}
        server = await serve(
            self._handle,
            "127.0.0.1",
            0,
            ssl=options.ssl,
            subprotocols=list(options.protocols) or None,  # type: ignore[arg-type]
            process_response=process_response,
            ping_interval=None,
            close_timeout=1,
            max_size=options.max_size,
            **kwargs,
        )
        self._servers.append(server)
        port = server.sockets[0].getsockname()[1]
        scheme = "wss" if options.ssl is not None else "ws"
        return URL.build(scheme=scheme, host="127.0.0.1", port=port, path="/")

    async def close(self) -> None:
        self._stopping.set()
        for server in self._servers:
            server.close()
            await server.wait_closed()

    async def _handle(self, ws: ServerConnection) -> None:
        try:
            async for message in ws:
                command = _command(message) if isinstance(message, str) else None
                if command is None:
                    await ws.send(message)
                else:
                    await self._run(ws, *command)
        except ConnectionClosed:
            pass
        finally:
            received = ws.protocol.close_rcvd
            self._record_end(None if received is None else (received.code, received.reason))

    async def _run(self, ws: ServerConnection, name: str, arg: str) -> None:
        if name == "close":
            code, _, reason = arg.partition(" ")
            await ws.close(int(code), reason)
        elif name == "abort":
            ws.transport.abort()
        elif name == "ping":
            pong_waiter = await ws.ping(arg.encode())
            await asyncio.wait_for(pong_waiter, 1.0)
            await ws.send(f"pong {arg}")
        elif name == "deaf":
            await ws.send("deaf")
            await self._stay_deaf(ws.transport)
        elif name == "burst":
            count, size = map(int, arg.split())
            for index in range(count):
                await ws.send(burst_message(index, size))
        elif name == "utf8":
            await ws.send((bytes([byte]) for byte in arg.encode()), text=True)
        elif name == "fragments":
            counts, kind = arg.rsplit(" ", 1)
            parts = fragment_payload(*map(int, counts.split()))
            if kind == "text":
                await ws.send(part.decode() for part in parts)
            else:
                await ws.send(iter(parts))
        else:
            raise ValueError(f"unknown command {name!r}")


# --- aiohttp.web ------------------------------------------------------------------------------


class AiohttpPeer(Peer):
    """aiohttp.web's WebSocketResponse; `heartbeat` and `answer_pings` set its ping habits."""

    def __init__(self) -> None:
        super().__init__(name="aiohttp", echoes_close_code=False)
        self._web = WebServer()
        self.heartbeat: float | None = None
        self.answer_pings = True
        # Pings the server read from the client (it handles them itself, autoping off).
        self.pings_seen = 0

    async def start(self, options: PeerOptions = PeerOptions()) -> URL:
        deflate = options.deflate
        if deflate is not None and deflate != Deflate():
            raise ValueError("aiohttp.web can only switch permessage-deflate on")

        async def handle(request: web.Request) -> web.WebSocketResponse:
            ws = web.WebSocketResponse(
                protocols=options.protocols,
                compress=deflate is not None,
                # aiohttp.web refuses a message of exactly max_msg_size bytes.
                max_msg_size=options.max_size + 1,
                heartbeat=self.heartbeat,
                autoping=False,
            )
            if options.set_cookie is not None:
                ws.set_cookie(*options.set_cookie)
            await ws.prepare(request)
            self.handshakes.append(
                Handshake(
                    request.path_qs,
                    [(name.decode(), value.decode()) for name, value in request.raw_headers],
                    CIMultiDict(ws.headers),
                )
            )
            await self._serve(request, ws)
            return ws

        app = web.Application()
        app.router.add_get("/{tail:.*}", handle)
        base = await self._web.start(app, ssl_context=options.ssl)
        return base.with_scheme("wss" if options.ssl is not None else "ws").with_path("/")

    async def close(self) -> None:
        self._stopping.set()
        await self._web.close()

    async def _serve(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        close: tuple[int, str] | None = None
        awaited_pong: bytes | None = None
        try:
            while not ws.closed:
                msg = await ws.receive()
                if msg.type is WSMsgType.TEXT:
                    command = _command(msg.data)
                    if command is None:
                        await ws.send_str(msg.data)
                    elif command[0] == "ping":
                        awaited_pong = command[1].encode()
                        await ws.ping(awaited_pong)
                    else:
                        close = await self._run(request, ws, *command)
                elif msg.type is WSMsgType.BINARY:
                    await ws.send_bytes(msg.data)
                elif msg.type is WSMsgType.PING:
                    self.pings_seen += 1
                    if self.answer_pings:
                        await ws.pong(msg.data)
                elif msg.type is WSMsgType.PONG:
                    if msg.data == awaited_pong:
                        await ws.send_str(f"pong {msg.data.decode()}")
                        awaited_pong = None
                elif msg.type is WSMsgType.CLOSE:
                    close = (msg.data, msg.extra or "")
                else:
                    break
        finally:
            self._record_end(close)

    async def _run(
        self, request: web.Request, ws: web.WebSocketResponse, name: str, arg: str
    ) -> tuple[int, str] | None:
        """One command; for "close", the client's answer (aiohttp keeps only its code)."""
        transport = request.transport
        assert transport is not None
        if name == "close":
            code, _, reason = arg.partition(" ")
            await ws.close(code=int(code), message=reason.encode())
            return None if ws.close_code is None else (ws.close_code, "")
        if name == "abort":
            transport.abort()
        elif name == "deaf":
            await ws.send_str("deaf")
            await self._stay_deaf(transport)
        elif name == "burst":
            count, size = map(int, arg.split())
            for index in range(count):
                await ws.send_bytes(burst_message(index, size))
        else:
            raise ValueError(f"unknown command {name!r}")
        return None


def make_peer(name: str) -> Peer:
    return WebsocketsPeer() if name == "websockets" else AiohttpPeer()


# --- a byte-counting TCP relay ------------------------------------------------------------------


class TcpRelay(LoopbackServer):
    """Forwards one port to another and counts the bytes each way (to see compression work)."""

    def __init__(self, target: URL) -> None:
        super().__init__()
        self._target = target
        self.upstream = 0  # client -> server
        self.downstream = 0  # server -> client

    async def start(self) -> URL:
        listening = await super().start()
        return self._target.with_port(listening.port)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = self._target.host, self._target.port
        assert host is not None and port is not None
        up_reader, up_writer = await asyncio.open_connection(host, port)
        await asyncio.gather(
            pipe(reader, up_writer, self._count_up), pipe(up_reader, writer, self._count_down)
        )

    def _count_up(self, size: int) -> None:
        self.upstream += size

    def _count_down(self, size: int) -> None:
        self.downstream += size


@contextlib.asynccontextmanager
async def relay_to(target: URL) -> AsyncIterator[tuple[TcpRelay, URL]]:
    relay = TcpRelay(target)
    url = await relay.start()
    try:
        yield relay, url
    finally:
        await relay.close()


# --- an HTTP proxy that forwards upgrades -------------------------------------------------------


class UpgradingProxy(LoopbackServer):
    """A forward proxy for absolute-form requests that keeps relaying after a 101.

    proxy.py answers an absolute-form upgrade with 400; this one turns the request
    line into origin form, drops the Proxy-* headers, and pipes bytes both ways.
    `heads` holds every request head as the proxy received it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.heads: list[bytes] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.heads.append(head)
            request_line, *lines = head[:-4].decode("latin-1").split("\r\n")
            method, target, version = request_line.split(" ")
            url = URL(target)
            assert url.host is not None and url.port is not None
            kept = [line for line in lines if not line.lower().startswith("proxy-")]
            forwarded = "\r\n".join([f"{method} {url.raw_path_qs} {version}", *kept])
            up_reader, up_writer = await asyncio.open_connection(url.host, url.port)
            up_writer.write(forwarded.encode("latin-1") + b"\r\n\r\n")
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


async def echo(ws: airhttp.ClientWebSocketResponse, text: str) -> str:
    await ws.send_str(text)
    return await ws.receive_str()

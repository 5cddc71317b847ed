"""The lab of the cancellation soak: servers, a resolver and scenarios that take their time.

Every point where a request can wait is made to last: a resolver that sleeps (DNS), a
listener whose accept queue is full (TCP connect), a relay that holds the TLS ClientHello
(handshake), a body that trickles out of an async generator (write), a server that delays
its head (head) or drips its body (body read), a user step inside `async with resp:`
(release) and a WebSocket peer that stays silent (receive). Servers mark each point they
reach in their `phases`, and "<point>_abandoned" when the client hung up there; requests
mark theirs through MARKS. Used by `tests/soak/cancel.py` and `tests/test_cancellation.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import functools
import importlib
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Final

from yarl import URL

from ..tcp_support import LoopbackServer, pipe, stalled_listener, tls_material
from ..ws_support import CLOSE, handshake_response, reference_mask, server_frame

UPLOADS: Final = frozenset({"write", "release_upload"})
# The name the resolver answers for (with 127.0.0.1); any other name fails the lookup.
SLOW_NAME: Final = "slow.test"
CHUNK: Final = b"x" * 1024

# --- milestones: what a request, or a server, has reached -------------------------------


class Milestones:
    """Names hit in order; `wait` returns once a name was hit `times` times."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.frozen: list[str] | None = None
        self._changed = asyncio.Event()

    def hit(self, name: str) -> None:
        self.names.append(name)
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def freeze(self) -> None:
        """Keep what was reached so far as where the cancel landed."""
        if self.frozen is None:
            self.frozen = list(self.names)

    def count(self, name: str) -> int:
        return self.names.count(name)

    async def wait(self, name: str, times: int = 1, timeout: float = 2.0) -> None:
        async with asyncio.timeout(timeout):
            while self.count(name) < times:
                await self._changed.wait()


# The request's milestones, set by whoever starts the request. Trace callbacks, the body
# generator and the scenario run in that context (tasks copy it), so each request marks
# its own, WebSocket handshakes included (ws_connect takes no trace_request_ctx).
MARKS: contextvars.ContextVar[Milestones | None] = contextvars.ContextVar("MARKS", default=None)


def mark(name: str) -> None:
    marks = MARKS.get()
    if marks is not None:
        marks.hit(name)


def mark_trace(client: Any) -> Any:
    """A TraceConfig that marks each connection and DNS signal on the request."""
    config = client.TraceConfig()
    signals = {
        "connection_queued_start": "queued_start",
        "connection_queued_end": "queued_end",
        "connection_create_start": "create_start",
        "connection_create_end": "create_end",
        "connection_reuseconn": "reuseconn",
        "dns_resolvehost_start": "dns_start",
        "dns_resolvehost_end": "dns_end",
        "dns_cache_hit": "dns_hit",
        "request_headers_sent": "headers_sent",
    }
    for signal, name in signals.items():

        async def on_signal(session: Any, ctx: Any, params: Any, _name: str = name) -> None:
            mark(_name)

        getattr(config, f"on_{signal}").append(on_signal)
    return config


# --- a resolver that takes its time ---------------------------------------------------


class _SlowLookups:
    """Answers SLOW_NAME with 127.0.0.1 after `delay` seconds; marks each step."""

    def __init__(self, delay: float, phases: Milestones) -> None:
        self.delay = delay
        self.phases = phases

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[dict[str, Any]]:
        self.phases.hit("dns")
        try:
            await asyncio.sleep(self.delay)
        except asyncio.CancelledError:
            self.phases.hit("dns_cancelled")
            raise
        if host != SLOW_NAME:
            raise OSError(f"no such test name: {host}")
        self.phases.hit("dns_done")
        address = {"hostname": host, "host": "127.0.0.1", "port": port}
        return [{**address, "family": socket.AF_INET, "proto": 0, "flags": 0}]

    async def close(self) -> None:
        pass


def slow_resolver(client: Any, delay: float, phases: Milestones) -> Any:
    """A resolver for `client` (airhttp or aiohttp): its own AbstractResolver subclass."""
    abc = importlib.import_module(f"{client.__name__}.abc")
    cls = type("SlowResolver", (_SlowLookups, abc.AbstractResolver), {})
    return cls(delay, phases)


# --- servers ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Timings:
    """How long each slow step takes (seconds); the tests make them all "forever"."""

    dns: float = 0.003
    tls: float = 0.003
    head: float = 0.003
    drip_gap: float = 0.001
    drip_chunks: int = 4
    upload_gap: float = 0.001
    upload_chunks: int = 4
    hold: float = 0.003


FOREVER: Final = Timings(dns=30.0, tls=30.0, head=30.0, drip_gap=30.0, upload_gap=30.0, hold=30.0)


@dataclasses.dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]


async def read_head(reader: asyncio.StreamReader) -> Request | None:
    """The next request head, or None when the client hung up."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = raw.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return Request(method, path, headers)


async def read_body(
    reader: asyncio.StreamReader, request: Request, on_chunk: Callable[[], None]
) -> int:
    """Read a Content-Length or chunked body as it comes; its size. Raises at EOF."""
    length = request.headers.get("content-length")
    if length is not None:
        await reader.readexactly(int(length))
        on_chunk()
        return int(length)
    if request.headers.get("transfer-encoding", "").lower() != "chunked":
        return 0
    total = 0
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        await reader.readexactly(size + 2)  # the data and its CRLF (no trailers)
        if size == 0:
            return total
        total += size
        on_chunk()


def respond(writer: asyncio.StreamWriter, body: bytes, *, length: int | None = None) -> None:
    size = len(body) if length is None else length
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + body)


async def hung_up(reader: asyncio.StreamReader, seconds: float) -> bool:
    """Wait up to `seconds`; True if the client closed its end meanwhile."""
    try:
        # asyncio.timeout, not wait_for: no task of the server's may outlive its handler.
        async with asyncio.timeout(seconds):
            data = await reader.read(1)
    except TimeoutError:
        return False
    return data == b""


class PhaseServer(LoopbackServer):
    """HTTP/1.1 with keep-alive; each path takes its time at one point of a request.

    /ok answers at once; /head waits before its head; /drip drips its body; /upload reads
    the body as it trickles in, then answers; /early answers at once and reads the body
    afterwards; /ws upgrades, then stays silent until the client's CLOSE. `phases` gets
    each point reached, and "<point>_abandoned" when the client hung up there.
    """

    def __init__(self, timings: Timings, ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__()
        self.timings = timings
        self.phases = Milestones()
        self.connections = 0
        self.ws_writers: list[asyncio.StreamWriter] = []
        self._ssl = ssl_context

    async def start(self) -> URL:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self._ssl)
        port = self._server.sockets[0].getsockname()[1]
        scheme = "http" if self._ssl is None else "https"
        return URL.build(scheme=scheme, host="127.0.0.1", port=port)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        routes = {
            "/ok": self._ok,
            "/head": self._head,
            "/drip": self._drip,
            "/upload": self._upload,
            "/early": self._early,
            "/ws": self._ws,
        }
        try:
            while (request := await read_head(reader)) is not None:
                if not await routes[request.path.partition("?")[0]](request, reader, writer):
                    break
        except (OSError, asyncio.IncompleteReadError):
            pass  # the client went away mid-request: what a cancel does
        finally:
            writer.close()

    async def _ok(self, request: Request, reader: Any, writer: asyncio.StreamWriter) -> bool:
        await read_body(reader, request, lambda: None)
        respond(writer, b"ok")
        return True

    async def _head(self, request: Request, reader: Any, writer: asyncio.StreamWriter) -> bool:
        self.phases.hit("head")
        if await hung_up(reader, self.timings.head):
            self.phases.hit("head_abandoned")
            return False
        respond(writer, b"late")
        return True

    async def _drip(self, request: Request, reader: Any, writer: asyncio.StreamWriter) -> bool:
        chunks = self.timings.drip_chunks
        respond(writer, CHUNK, length=chunks * len(CHUNK))
        self.phases.hit("drip")
        for _ in range(chunks - 1):
            await writer.drain()
            if await hung_up(reader, self.timings.drip_gap):
                self.phases.hit("drip_abandoned")
                return False
            writer.write(CHUNK)
        return True

    async def _upload(self, request: Request, reader: Any, writer: asyncio.StreamWriter) -> bool:
        try:
            size = await read_body(reader, request, lambda: self.phases.hit("upload_chunk"))
        except asyncio.IncompleteReadError:
            self.phases.hit("upload_abandoned")
            return False
        respond(writer, b"got %d" % size)
        return True

    async def _early(self, request: Request, reader: Any, writer: asyncio.StreamWriter) -> bool:
        respond(writer, b"early")
        self.phases.hit("early")
        try:
            await read_body(reader, request, lambda: None)
        except asyncio.IncompleteReadError:
            self.phases.hit("early_abandoned")
            return False
        return True

    async def _ws(self, request: Request, reader: Any, writer: asyncio.StreamWriter) -> bool:
        """/ws?hold waits before its 101; /ws?deaf never answers the client's CLOSE."""
        if "hold" in request.path:
            self.phases.hit("ws_handshake")
            if await hung_up(reader, self.timings.head):
                self.phases.hit("ws_handshake_abandoned")
                return False
        writer.write(handshake_response(request.headers["sec-websocket-key"]))
        self.ws_writers.append(writer)
        self.phases.hit("ws")
        while True:
            try:
                opcode, payload = await read_frame(reader)
            except asyncio.IncompleteReadError:
                self.phases.hit("ws_abandoned")
                return False
            if opcode == CLOSE:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
                self.phases.hit(f"ws_close_{code}")
                if "deaf" not in request.path:
                    writer.write(server_frame(CLOSE, payload[:2]))
                    return False
            else:
                self.phases.hit("ws_frame")


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One client frame (RFC 6455 section 5.2): its opcode and unmasked payload."""
    first, second = await reader.readexactly(2)
    size = second & 0x7F
    if size >= 126:
        size = int.from_bytes(await reader.readexactly(2 if size == 126 else 8), "big")
    key = await reader.readexactly(4) if second & 0x80 else b""
    payload = await reader.readexactly(size)
    return first & 0x0F, reference_mask(payload, key) if key else payload


class TLSRelay(LoopbackServer):
    """Holds each client's ClientHello for `timings.tls`, then relays to a TLS server.

    The client is left waiting in its handshake meanwhile; "tls" marks a held hello,
    "tls_abandoned" a client that hung up while waiting.
    """

    scheme = "https"

    def __init__(self, upstream: URL, timings: Timings, phases: Milestones) -> None:
        super().__init__()
        self.upstream = upstream
        self.timings = timings
        self.phases = phases

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            hello = await reader.read(65536)
            if not hello:
                return
            self.phases.hit("tls")
            more: bytes | None = None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.timings.tls):
                    more = await reader.read(65536)
            if more == b"":
                self.phases.hit("tls_abandoned")
                return
            up_reader, up_writer = await asyncio.open_connection(
                self.upstream.host, self.upstream.port
            )
            up_writer.write(hello + (more or b""))
            # The relay's own tasks: they live as long as the client pools the connection.
            pipes = {
                asyncio.ensure_future(pipe(reader, up_writer)),
                asyncio.ensure_future(pipe(up_reader, writer)),
            }
            self._tasks |= pipes
            try:
                await asyncio.gather(*pipes)
            finally:
                self._tasks -= pipes
        except OSError:
            pass
        finally:
            writer.close()


# --- the lab: servers, resolver and one session -----------------------------------------


@functools.lru_cache(maxsize=1)
def _contexts() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server, client) contexts for the test CA, made once: loading the system's CAs into
    a client context takes tens of milliseconds."""
    material = tls_material()
    return material.server_context(), material.client_context()


@dataclasses.dataclass
class Lab:
    """Everything one run talks to, and the session under test."""

    client: Any
    session: Any
    timings: Timings
    http: PhaseServer
    tls: PhaseServer
    relay: TLSRelay
    resolver: Any
    base: URL
    tls_base: URL
    stalled_port: int
    limit: int

    def url(self, scenario: str) -> URL:
        """The URL a scenario asks for."""
        if scenario == "dns":
            return self.base.with_host(SLOW_NAME).with_path("/ok")
        if scenario == "connect":
            return self.base.with_port(self.stalled_port).with_path("/ok")
        if scenario == "tls":
            return self.tls_base.with_path("/ok")
        if scenario == "ws":
            return self.base.with_scheme("ws").with_path("/ws")
        paths = {"write": "/upload", "head": "/head", "body": "/drip", "release": "/ok"}
        return self.base.with_path(paths.get(scenario, "/early"))

    def own_tasks(self) -> set[asyncio.Task[Any]]:
        """The servers' connection tasks: the soak's own, never a client leak."""
        return self.http._tasks | self.tls._tasks | self.relay._tasks


@contextlib.asynccontextmanager
async def open_lab(
    client: Any,
    timings: Timings,
    *,
    limit: int,
    ttl_dns_cache: int | None = 0,
    use_dns_cache: bool = True,
    socket_factory: Callable[[Any], socket.socket] | None = None,
) -> AsyncIterator[Lab]:
    """Start the servers and a session (closed, with the servers, on the way out).

    `ttl_dns_cache=0` makes every request look its name up through the connector's
    shared lookups (the default path) instead of answering from the cache.
    """
    server_context, client_context = _contexts()
    http = PhaseServer(timings)
    tls = PhaseServer(timings, server_context)
    with stalled_listener() as stalled_port:
        base = await http.start()
        relay = TLSRelay(await tls.start(), timings, tls.phases)
        tls_base = await relay.start()
        resolver = slow_resolver(client, timings.dns, http.phases)
        connector = client.TCPConnector(
            limit=limit,
            resolver=resolver,
            ssl=client_context,
            use_dns_cache=use_dns_cache,
            ttl_dns_cache=ttl_dns_cache,
            socket_factory=socket_factory,
        )
        session = client.ClientSession(
            connector=connector,
            trace_configs=[mark_trace(client)],
            timeout=client.ClientTimeout(total=None),
        )
        lab = Lab(
            client, session, timings, http, tls, relay, resolver, base, tls_base,
            stalled_port, limit,
        )  # fmt: skip
        try:
            yield lab
        finally:
            await session.close()
            for server in (relay, tls, http):
                await server.close()


# --- scenarios --------------------------------------------------------------------------


async def slow_body(timings: Timings) -> AsyncIterator[bytes]:
    """A request body that trickles out: one chunk, then one per `upload_gap`."""
    for index in range(timings.upload_chunks):
        if index:
            await asyncio.sleep(timings.upload_gap)
        mark("chunk")
        yield CHUNK
    mark("upload_done")


async def fetch(lab: Lab, scenario: str) -> bytes:
    """One HTTP scenario: request, read the body inside `async with resp:`."""
    session, url = lab.session, lab.url(scenario)
    if scenario in UPLOADS:
        context = session.post(url, data=slow_body(lab.timings))
    else:
        context = session.get(url)
    async with context as resp:
        mark("resp")
        body: bytes = await resp.read()
        if scenario.startswith("release"):
            mark("hold")
            # The user's own step inside the block: a cancel here makes the exit
            # release the response under the CancelledError.
            await asyncio.sleep(lab.timings.hold)
    mark("done")
    return body


async def ws_silence(lab: Lab) -> None:
    """A WebSocket whose peer says nothing: receive() waits until cancelled."""
    timeout = lab.client.ClientWSTimeout(ws_receive=None, ws_close=2.0)
    async with lab.session.ws_connect(lab.url("ws"), timeout=timeout) as ws:
        mark("ws_open")
        await ws.receive()


def scenario_call(lab: Lab, scenario: str) -> Awaitable[Any]:
    return ws_silence(lab) if scenario == "ws" else fetch(lab, scenario)

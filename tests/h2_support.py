"""Independent HTTP/2 servers for the HTTP/2 tests: hypercorn serving an ASGI app, and a
raw server on the `h2` library whose every answer a test scripts.

Test scaffolding only: every server listens on 127.0.0.1, nothing leaves the host. TLS
uses the suite's shared trustme CA (`tcp_support.tls_material()`): a client trusts it with
`server.ca.configure_trust(context)`, or takes `client_ssl_context()`.

Hypercorn (a real, independent HTTP/2 implementation)
    `Hypercorn(app=h2_app, *, mode="h2", options=None)`, an async context manager;
    `start()` returns its URL, `close()` stops it within a second. Modes:

    - "h2": TLS, ALPN offers h2 and http/1.1;
    - "http/1.1": TLS, ALPN offers only http/1.1 (a client falls back);
    - "h2c": cleartext; hypercorn takes HTTP/2 by prior knowledge (a connection that
      opens with the HTTP/2 preface) as well as HTTP/1.1 and `Upgrade: h2c`.

    `options` sets any hypercorn Config attribute (e.g. {"h2_max_concurrent_streams": 1}).
    `requests` records one `RequestRecord(client, http_version, method, path)` per request
    the app saw; `connections` lists the distinct client (host, port) pairs, i.e. TCP
    connections, in order. `url`, `ca`, `closing` (set when close() begins: `h2_app`'s
    waits end early so that hypercorn can shut down at once). Fixtures: `h2_server`,
    `h2c_server`, `h11_server` (the "http/1.1" mode).

    Hypercorn 0.18 sends response trailers only on HTTP/2 (and 3) and only when the
    request carried `te: trailers`; otherwise it drops them silently.

h2_app (the ASGI app hypercorn serves by default)
    GET /hello                -> 200 "hello", text/plain
    POST|PUT /echo            -> 200, the request body streamed back as it arrives
    POST|PUT /echo-trailers   -> the same, then trailer x-body-length: <bytes received>
    GET /headers              -> JSON {"method", "path", "query_string", "http_version",
                                 "headers": [[name, value], ...]} as the app saw them
    GET /bytes?size=N         -> N bytes of b"0123456789abcdef" repeated, in 64 KiB chunks
    GET /stream?chunks=N&delay=S -> b"chunk-0\\n" ... b"chunk-{N-1}\\n", S s apart
    GET /trailers             -> "with trailers", trailers x-checksum: abc, x-count: 2
    GET /gzip                 -> gzip of "hello gzip" * 100, content-encoding: gzip
    GET /cookies/set?a=1&b=2  -> 200, one set-cookie per pair (Path=/)
    GET /cookies              -> JSON {"cookie": [every cookie header value received]}
    GET /redirect?to=/hello   -> 302 to `to`
    GET /slow?delay=S         -> 200 "slow" after S seconds
    GET /status/{code}        -> that status, empty body
    anything else             -> 404

RawH2Server (the `h2` library directly, so a test decides every frame)
    `RawH2Server(handler=None, *, tls=False, alpn=("h2",), max_concurrent_streams=None,
    initial_window=None, window_updates=True, goaway=None, settings=None)`, an async
    context manager with `start() -> URL` and `close()`; fixture `raw_h2` starts them
    (`await raw_h2(handler, **options)`) and closes them after the test.

    `handler(stream)` runs once per request stream as soon as its HEADERS arrive (the
    default one reads the body and answers 200 "ok"). An `H2Stream` has `stream_id`,
    `method`, `path`, `headers` (every field including pseudo-headers, latin-1 str
    pairs), `raw_headers`, `header(name)`, `body` (received so far), `ended`,
    `client_reset` (the client's RST_STREAM code), `connection`, and:

    - `await read_body()`: the body once END_STREAM arrived (what came, if reset);
    - `await respond(status=200, headers=(), body=b"", trailers=None)`;
    - `await send_headers(status, headers=(), end_stream=False)`: ":status" first;
    - `await send_raw_headers(headers, end_stream=False)`: exactly these fields, in this
      order, unchecked: uppercase names, "connection", a pseudo-header after a regular
      one, no ":status", NUL/CR/LF in values, thousands of fields, a huge value;
    - `await send_data(data, end_stream=False)`: waits for the client's flow control
      window, and writes what fits;
    - `await send_trailers(headers)`, `await end()`, `await reset(error_code)`.

    Sends on a stream the client reset, or after the connection is gone, do nothing.
    `stream.connection` (an `H2ServerConnection`) has `index` (1 for the first
    connection), `remote_settings` (what the client's SETTINGS said), `client_goaway`,
    `goaway(last_stream_id, error_code=0)` (a raw GOAWAY frame; the server goes on
    answering), `send_raw(data)` and `close()`.

    Options: `max_concurrent_streams` advertises SETTINGS_MAX_CONCURRENT_STREAMS; a
    stream over it is refused with RST_STREAM(REFUSED_STREAM) (counted, not fatal).
    `initial_window` advertises SETTINGS_INITIAL_WINDOW_SIZE; `window_updates=False`
    never acknowledges request data, so no WINDOW_UPDATE is ever sent. `goaway=GoAway(
    after, last_stream_id, error_code=0, connections=1)`: on each of the first
    `connections` connections, once `after` requests arrived, send GOAWAY(last_stream_id),
    answer the streams up to it through the handler, never answer the rest, and close the
    connection when the answered ones are done. `settings` adds any other settings.

    Records: `connections` (accepted), `peak_streams` (most client streams open at once
    on one connection, refused ones included), `refused_streams`, `received_bytes` (DATA
    payload), `streams` (every H2Stream, in order), `conns` (every H2ServerConnection),
    `protocol_errors` (h2's complaints about what a client sent). An exception a handler
    raises resets its stream and is raised again by close().

Fixtures are not in conftest.py: a test module imports the ones it uses and names them in
its `__all__`, so that ruff sees them used (tests/test_h2_support.py does).

Usage::

    async def test_x(h2_server: Hypercorn) -> None:
        url = h2_server.url / "hello"

    async def test_y(raw_h2: RawH2Factory) -> None:
        async def handler(stream: H2Stream) -> None:
            await stream.send_headers(200)
            await stream.send_data(b"part")
            await stream.reset(ErrorCode.INTERNAL_ERROR)

        server = await raw_h2(handler, max_concurrent_streams=1)
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self, cast
from urllib.parse import parse_qsl

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
import hpack
import pytest
import trustme
from h2.errors import ErrorCodes as ErrorCode
from hyperframe.frame import GoAwayFrame
from yarl import URL

from .tcp_support import tls_material

__all__ = [
    "ASGIApp",
    "ErrorCode",
    "GoAway",
    "H2ServerConnection",
    "H2Stream",
    "Handler",
    "Hypercorn",
    "Mode",
    "RawH2Factory",
    "RawH2Server",
    "Receive",
    "RequestRecord",
    "Scope",
    "Send",
    "client_ssl_context",
    "h11_server",
    "h2_app",
    "h2_server",
    "h2c_server",
    "ok_handler",
    "pattern_bytes",
    "raw_h2",
    "server_ssl_context",
]

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Mode = Literal["h2", "http/1.1", "h2c"]
HeaderPairs = Iterable[tuple[str | bytes, str | bytes]]

PATTERN = b"0123456789abcdef"
CHUNK = 64 * 1024


async def until(check: Callable[[], bool], timeout: float = 1.0) -> None:
    """Wait, polling, until `check()` holds; fail the test after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "timed out waiting for the condition"
        await asyncio.sleep(0.002)


def pattern_bytes(size: int) -> bytes:
    """What /bytes?size=N answers: PATTERN repeated, cut to `size`."""
    return (PATTERN * (size // len(PATTERN) + 1))[:size]


def server_ssl_context(alpn: Sequence[str] = ("h2", "http/1.1")) -> ssl.SSLContext:
    """A server context with the shared localhost/127.0.0.1 certificate, offering `alpn`."""
    context = tls_material().server_context()
    context.set_alpn_protocols(list(alpn))
    return context


def client_ssl_context(alpn: Sequence[str] = ("h2", "http/1.1")) -> ssl.SSLContext:
    """A client context trusting the shared test CA, offering `alpn`."""
    context = tls_material().client_context()
    context.set_alpn_protocols(list(alpn))
    return context


# --- the ASGI app ---------------------------------------------------------------------------


async def _pause(scope: Scope, delay: float) -> None:
    """Sleep `delay` seconds, or less when the serving Hypercorn starts closing."""
    closing: asyncio.Event | None = scope.get("state", {}).get("closing")
    if closing is None:
        await asyncio.sleep(delay)
        return
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(closing.wait(), delay)


async def _start(
    send: Send, status: int, headers: Sequence[tuple[bytes, bytes]] = (), trailers: bool = False
) -> None:
    message: Message = {"type": "http.response.start", "status": status, "headers": list(headers)}
    if trailers:
        message["trailers"] = True
    await send(message)


async def _simple(
    send: Send, status: int, body: bytes = b"", headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    sized = [*headers, (b"content-length", str(len(body)).encode())]
    await _start(send, status, sized)
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _json(send: Send, data: Any) -> None:
    body = json.dumps(data).encode()
    await _simple(send, 200, body, [(b"content-type", b"application/json")])


async def _echo(scope: Scope, receive: Receive, send: Send, with_trailers: bool) -> None:
    trailers = with_trailers and "http.response.trailers" in scope.get("extensions", {})
    headers = [(b"content-type", b"application/octet-stream")]
    await _start(send, 200, headers, trailers=trailers)
    total = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        chunk = message.get("body", b"")
        total += len(chunk)
        more = message.get("more_body", False)
        if chunk or not more:
            await send({"type": "http.response.body", "body": chunk, "more_body": more})
        if not more:
            break
    if trailers:
        await send(
            {
                "type": "http.response.trailers",
                "headers": [(b"x-body-length", str(total).encode())],
                "more_trailers": False,
            }
        )


async def _drain_request(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect" or not message.get("more_body", False):
            return


async def h2_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The routes in the module docstring."""
    if scope["type"] != "http":
        return
    method: str = scope["method"]
    path: str = scope["path"]
    query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
    text = [(b"content-type", b"text/plain")]

    if path in ("/echo", "/echo-trailers") and method in ("POST", "PUT"):
        await _echo(scope, receive, send, with_trailers=path == "/echo-trailers")
        return
    await _drain_request(receive)

    if path == "/hello":
        await _simple(send, 200, b"hello", text)
    elif path == "/headers":
        headers = [
            [name.decode("latin-1"), value.decode("latin-1")] for name, value in scope["headers"]
        ]
        info = {
            "method": method,
            "path": path,
            "query_string": scope["query_string"].decode("latin-1"),
            "http_version": scope["http_version"],
            "headers": headers,
        }
        await _json(send, info)
    elif path == "/bytes":
        size = int(query.get("size", "0"))
        body = pattern_bytes(size)
        await _start(send, 200, [(b"content-length", str(size).encode())])
        for offset in range(0, size, CHUNK):
            chunk = body[offset : offset + CHUNK]
            more = offset + CHUNK < size
            await send({"type": "http.response.body", "body": chunk, "more_body": more})
        if size == 0:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
    elif path == "/stream":
        chunks = int(query.get("chunks", "3"))
        delay = float(query.get("delay", "0"))
        await _start(send, 200, text)
        for index in range(chunks):
            if index:
                await _pause(scope, delay)
            chunk = f"chunk-{index}\n".encode()
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    elif path == "/trailers":
        trailers = "http.response.trailers" in scope.get("extensions", {})
        body = b"with trailers"
        await _start(send, 200, [*text, (b"content-length", b"13")], trailers=trailers)
        await send({"type": "http.response.body", "body": body, "more_body": False})
        if trailers:
            fields = [(b"x-checksum", b"abc"), (b"x-count", b"2")]
            await send({"type": "http.response.trailers", "headers": fields})
    elif path == "/gzip":
        body = gzip.compress(b"hello gzip" * 100)
        await _simple(send, 200, body, [*text, (b"content-encoding", b"gzip")])
    elif path == "/cookies/set":
        cookies = [
            (b"set-cookie", f"{name}={value}; Path=/".encode("latin-1"))
            for name, value in query.items()
        ]
        await _simple(send, 200, b"ok", [*text, *cookies])
    elif path == "/cookies":
        values = [value.decode("latin-1") for name, value in scope["headers"] if name == b"cookie"]
        await _json(send, {"cookie": values})
    elif path == "/redirect":
        location = query.get("to", "/hello").encode("latin-1")
        await _simple(send, 302, b"", [(b"location", location)])
    elif path == "/slow":
        await _pause(scope, float(query.get("delay", "1")))
        await _simple(send, 200, b"slow", text)
    elif path.startswith("/status/"):
        await _simple(send, int(path.rsplit("/", 1)[1]))
    else:
        await _simple(send, 404, b"not found", text)


# --- hypercorn ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestRecord:
    """One request as the ASGI app saw it: the client's (host, port) is its connection."""

    client: tuple[str, int]
    http_version: str
    method: str
    path: str


class _Served:
    """`async with server:` starts it, and closes it after the block; `url` once started."""

    _url: URL | None = None

    @property
    def url(self) -> URL:
        assert self._url is not None, "start() the server first"
        return self._url

    @property
    def ca(self) -> trustme.CA:
        return tls_material().ca

    async def start(self) -> URL:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class Hypercorn(_Served):
    """Hypercorn serving an ASGI app on 127.0.0.1 in the running loop (module docstring)."""

    def __init__(
        self, app: ASGIApp = h2_app, *, mode: Mode = "h2", options: Mapping[str, Any] | None = None
    ) -> None:
        if mode not in ("h2", "http/1.1", "h2c"):
            raise ValueError(f"unknown mode {mode!r}")
        self.app = app
        self.mode = mode
        self.options = dict(options or {})
        self.requests: list[RequestRecord] = []
        self.errors: list[BaseException] = []
        self.closing = asyncio.Event()
        self._stop = asyncio.Event()
        self._started = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._files = contextlib.ExitStack()

    @property
    def connections(self) -> list[tuple[str, int]]:
        """The distinct client (host, port) pairs, in the order they first made a request."""
        return list(dict.fromkeys(record.client for record in self.requests))

    @property
    def http_versions(self) -> list[str]:
        return [record.http_version for record in self.requests]

    def client_ssl_context(self) -> ssl.SSLContext:
        alpn = ("http/1.1",) if self.mode == "http/1.1" else ("h2", "http/1.1")
        return client_ssl_context(alpn)

    async def start(self) -> URL:
        from hypercorn.asyncio import serve
        from hypercorn.config import Config

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind(("127.0.0.1", 0))
            # Listening already: a client may connect before hypercorn's loop accepts.
            listener.listen(100)
            port: int = listener.getsockname()[1]
        except BaseException:
            listener.close()
            raise
        config = Config()
        config.accesslog = None
        config.errorlog = None
        config.graceful_timeout = 1.0
        if self.mode != "h2c":
            material = tls_material().server.private_key_and_cert_chain_pem
            path = self._files.enter_context(material.tempfile())
            config.certfile = config.keyfile = path
            config.alpn_protocols = ["http/1.1"] if self.mode == "http/1.1" else ["h2", "http/1.1"]
        for name, value in self.options.items():
            if not hasattr(config, name):
                raise AttributeError(f"hypercorn Config has no {name!r}")
            setattr(config, name, value)
        # Hypercorn takes the socket over (fd://) and closes it when it stops.
        config.bind = [f"fd://{listener.detach()}"]
        self._task = asyncio.create_task(
            serve(cast(Any, self._asgi), config, shutdown_trigger=self._stop.wait, mode="asgi")
        )
        started = asyncio.create_task(self._started.wait())
        await asyncio.wait({self._task, started}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
        if not started.done():
            started.cancel()
            await asyncio.gather(started, return_exceptions=True)
        if self._task.done():
            self._files.close()
            self._task.result()  # raises why it stopped
            raise RuntimeError("hypercorn stopped at once")
        if not self._started.is_set():
            await self.close()
            raise RuntimeError("hypercorn did not start within 5 s")
        # Lifespan startup is done; the listening socket is handed over right after.
        for _ in range(3):
            await asyncio.sleep(0)
        scheme = "http" if self.mode == "h2c" else "https"
        self._url = URL.build(scheme=scheme, host="127.0.0.1", port=port)
        return self._url

    async def close(self) -> None:
        self.closing.set()
        self._stop.set()
        try:
            if self._task is not None:
                await self._task
        finally:
            self._task = None
            self._files.close()
        if self.errors:
            raise self.errors[0]

    async def _asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] == "http":
            client = scope.get("client") or ("", 0)
            self.requests.append(
                RequestRecord(
                    (client[0], client[1]), scope["http_version"], scope["method"], scope["path"]
                )
            )
        scope["state"] = {**scope.get("state", {}), "closing": self.closing}

        async def receive_or_closing() -> Message:
            # A request body that never ends would hold the shutdown up: close() ends it.
            getter = asyncio.ensure_future(receive())
            closing = asyncio.ensure_future(self.closing.wait())
            try:
                await asyncio.wait({getter, closing}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in (getter, closing):
                    if not waiter.done():
                        waiter.cancel()
                await asyncio.gather(getter, closing, return_exceptions=True)
            if getter.cancelled() or getter.exception() is not None:
                return {"type": "http.disconnect"}
            return getter.result()

        try:
            await self.app(scope, receive_or_closing, send)
        except Exception as exc:
            self.errors.append(exc)
            raise

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
                self._started.set()
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


@pytest.fixture
async def h2_server() -> AsyncIterator[Hypercorn]:
    """Hypercorn over TLS, ALPN h2 and http/1.1, serving `h2_app`."""
    async with Hypercorn(mode="h2") as server:
        yield server


@pytest.fixture
async def h2c_server() -> AsyncIterator[Hypercorn]:
    """Hypercorn in cleartext (h2c by prior knowledge, or HTTP/1.1), serving `h2_app`."""
    async with Hypercorn(mode="h2c") as server:
        yield server


@pytest.fixture
async def h11_server() -> AsyncIterator[Hypercorn]:
    """Hypercorn over TLS whose ALPN offers only http/1.1, serving `h2_app`."""
    async with Hypercorn(mode="http/1.1") as server:
        yield server


# --- the raw h2 server ----------------------------------------------------------------------


Handler = Callable[["H2Stream"], Awaitable[None]]


@dataclass(frozen=True)
class GoAway:
    """On each of the first `connections` connections: once `after` requests arrived, send
    GOAWAY(last_stream_id, error_code), answer the streams up to last_stream_id, leave the
    others unanswered and close the connection once the answered ones are done."""

    after: int
    last_stream_id: int
    error_code: int = 0
    connections: int = 1


class _LenientH2Connection(h2.connection.H2Connection):
    """h2 that advertises MAX_CONCURRENT_STREAMS but does not enforce it as a connection
    error: RawH2Server counts and refuses excess streams itself (RFC 9113 §5.1.2 allows a
    stream error of type REFUSED_STREAM)."""

    @property
    def open_inbound_streams(self) -> int:
        # h2 4.4 reads this only to enforce the limit on an incoming HEADERS frame.
        return 0


class _LiteralEncoder(hpack.Encoder):
    """HPACK without Huffman coding: hpack's Huffman encoder takes seconds on a 200 KB
    value (it is quadratic), literals take a millisecond."""

    def encode(self, headers: Any, huffman: bool = False) -> bytes:
        return super().encode(headers, huffman=False)


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("latin-1") if isinstance(value, str) else value


def _encode(headers: HeaderPairs) -> list[tuple[bytes, bytes]]:
    return [(_as_bytes(name), _as_bytes(value)) for name, value in headers]


class H2Stream:
    """One request stream on a RawH2Server, as its handler sees it (module docstring)."""

    def __init__(
        self, connection: H2ServerConnection, stream_id: int, headers: list[tuple[bytes, bytes]]
    ) -> None:
        self.connection = connection
        self.stream_id = stream_id
        self.raw_headers = headers
        self.headers = [
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in headers
        ]
        self.method = self.header(":method") or ""
        self.path = self.header(":path") or ""
        self.body = bytearray()
        self.ended = False
        self.refused = False
        self.client_reset: int | None = None
        self._changed = asyncio.Event()

    def __repr__(self) -> str:
        return f"<H2Stream {self.stream_id} {self.method} {self.path}>"

    def header(self, name: str) -> str | None:
        """The first field called `name` (give it in lowercase), or None."""
        for field, value in self.headers:
            if field == name:
                return value
        return None

    @property
    def dead(self) -> bool:
        """The client reset the stream, or the connection is gone: sends do nothing."""
        return self.client_reset is not None or self.connection.lost

    async def read_body(self) -> bytes:
        """The request body once END_STREAM arrived (what came, if the stream died first)."""
        while not self.ended and not self.dead:
            self._changed.clear()
            await self._changed.wait()
        return bytes(self.body)

    async def respond(
        self,
        status: int = 200,
        headers: HeaderPairs = (),
        body: bytes = b"",
        trailers: HeaderPairs | None = None,
    ) -> None:
        """A whole answer: headers, body (if any), trailers (if any), END_STREAM."""
        fields = list(headers)
        if trailers is None and not any(_as_bytes(name) == b"content-length" for name, _ in fields):
            fields.append(("content-length", str(len(body))))
        if not body and trailers is None:
            await self.send_headers(status, fields, end_stream=True)
            return
        await self.send_headers(status, fields)
        await self.send_data(body, end_stream=trailers is None)
        if trailers is not None:
            await self.send_trailers(trailers)

    async def send_headers(
        self, status: int, headers: HeaderPairs = (), *, end_stream: bool = False
    ) -> None:
        await self.send_raw_headers([(":status", str(status)), *headers], end_stream=end_stream)

    async def send_raw_headers(self, headers: HeaderPairs, *, end_stream: bool = False) -> None:
        """Exactly these fields in this order; h2's outbound checks are off on this server."""
        fields = _encode(headers)
        await self._act(lambda h2c: h2c.send_headers(self.stream_id, fields, end_stream=end_stream))

    async def send_data(self, data: bytes, *, end_stream: bool = False) -> None:
        """Send `data` as the client's flow-control windows allow, in frames that fit."""
        conn = self.connection
        view = memoryview(bytes(data))
        while not self.dead:
            try:
                window = min(
                    conn.h2.local_flow_control_window(self.stream_id),
                    conn.h2.max_outbound_frame_size,
                )
            except h2.exceptions.StreamClosedError:
                return
            if view and window <= 0:
                await conn.wait_window()
                continue
            chunk, view = view[:window], view[window:]
            last = end_stream and not view
            if chunk or last:
                await self._send_chunk(bytes(chunk), last)
                await conn.drain()
            if not view:
                return

    async def _send_chunk(self, chunk: bytes, last: bool) -> None:
        await self._act(lambda h2c: h2c.send_data(self.stream_id, chunk, end_stream=last))

    async def send_trailers(self, headers: HeaderPairs) -> None:
        """A trailer HEADERS frame, ending the stream."""
        await self.send_raw_headers(headers, end_stream=True)

    async def end(self) -> None:
        """END_STREAM on an empty DATA frame."""
        await self._act(lambda h2c: h2c.end_stream(self.stream_id))

    async def reset(self, error_code: int = ErrorCode.CANCEL) -> None:
        """RST_STREAM with `error_code`."""
        await self._act(lambda h2c: h2c.reset_stream(self.stream_id, error_code))

    async def _act(self, action: Callable[[h2.connection.H2Connection], None]) -> None:
        if self.dead:
            return
        try:
            action(self.connection.h2)
        except h2.exceptions.StreamClosedError:
            return
        self.connection.flush()

    def _wake(self) -> None:
        self._changed.set()


class H2ServerConnection:
    """One client connection on a RawH2Server."""

    def __init__(
        self,
        server: RawH2Server,
        index: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.server = server
        self.index = index
        self.peer: tuple[str, int] = writer.get_extra_info("peername")[:2]
        self.reader = reader
        self.writer = writer
        self.streams: dict[int, H2Stream] = {}
        self.remote_settings: dict[int, int] = {}
        self.client_goaway: int | None = None
        self.lost = False
        config = h2.config.H2Configuration(
            client_side=False,
            header_encoding=None,
            validate_outbound_headers=False,
            normalize_outbound_headers=False,
        )
        self.h2 = _LenientH2Connection(config=config)
        self.h2.encoder = _LiteralEncoder()
        codes = h2.settings.SettingCodes
        initial: dict[Any, int] = {codes.MAX_HEADER_LIST_SIZE: 1 << 20}
        if server.max_concurrent_streams is not None:
            initial[codes.MAX_CONCURRENT_STREAMS] = server.max_concurrent_streams
        if server.initial_window is not None:
            initial[codes.INITIAL_WINDOW_SIZE] = server.initial_window
        initial.update(server.settings)
        self.h2.local_settings = h2.settings.Settings(client=False, initial_values=initial)
        self._window = asyncio.Event()
        self._handlers: set[asyncio.Task[None]] = set()
        plan = server.goaway
        self._plan = plan if plan is not None and index <= plan.connections else None
        self._parked: list[H2Stream] = []
        self._goaway_last: int | None = None
        self._close_when_done = False
        self._closing_read = False  # closed our side, reading the client's last bytes
        self._hard_close: asyncio.TimerHandle | None = None

    # what a handler may do with the connection

    def goaway(self, last_stream_id: int | None = None, error_code: int = 0) -> None:
        """A GOAWAY frame, written raw: h2 does not learn of it, so answers may follow."""
        if last_stream_id is None:
            last_stream_id = max(self.streams, default=0)
        self._goaway_last = last_stream_id
        frame = GoAwayFrame(0, last_stream_id=last_stream_id, error_code=error_code)
        self.send_raw(frame.serialize())

    def send_raw(self, data: bytes) -> None:
        """Bytes written as they are, after whatever h2 has queued."""
        self.flush()
        if not self.writer.is_closing():
            self.writer.write(data)

    def close(self) -> None:
        """Close the connection after what was queued: a FIN (TLS: close_notify), then the
        client's last bytes are read and dropped until it closes too, or for a second.

        Closing with the client's bytes unread would send a TCP RST instead.
        """
        self.flush()
        if self.writer.is_closing():
            return
        if self.writer.can_write_eof():
            self._closing_read = True
            self.writer.write_eof()
            self._hard_close = asyncio.get_running_loop().call_later(1.0, self.writer.close)
        else:
            self.writer.close()

    # plumbing

    def flush(self) -> None:
        data = self.h2.data_to_send()
        if data and not self.writer.is_closing():
            self.writer.write(data)

    async def drain(self) -> None:
        try:
            await self.writer.drain()
        except ConnectionError:
            self._lose()

    async def wait_window(self) -> None:
        self._window.clear()
        await self._window.wait()

    def open_streams(self, up_to: int | None = None) -> int:
        """Client streams open now (with ids up to `up_to`)."""
        return sum(
            1
            for sid, stream in self.h2.streams.items()
            if sid % 2 == 1 and stream.open and (up_to is None or sid <= up_to)
        )

    def _lose(self) -> None:
        self.lost = True
        self._window.set()
        for stream in self.streams.values():
            stream._wake()

    async def run(self) -> None:
        try:
            self.h2.initiate_connection()
            self.flush()
            while True:
                try:
                    data = await self.reader.read(65536)
                except (ConnectionError, ssl.SSLError):
                    break
                if not data:
                    break
                if self._closing_read:
                    continue
                try:
                    events = self.h2.receive_data(data)
                except h2.exceptions.ProtocolError as exc:
                    self.server.protocol_errors.append(f"{type(exc).__name__}: {exc}")
                    self.flush()  # h2's GOAWAY
                    break
                for event in events:
                    self._on_event(event)
                self.flush()
        finally:
            if self._hard_close is not None:
                self._hard_close.cancel()
            self._lose()
            for task in list(self._handlers):
                task.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            self.writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await self.writer.wait_closed()

    def _on_event(self, event: h2.events.Event) -> None:
        server = self.server
        if isinstance(event, h2.events.RequestReceived):
            assert event.stream_id is not None and event.headers is not None
            headers = [(_as_bytes(name), _as_bytes(value)) for name, value in event.headers]
            stream = H2Stream(self, event.stream_id, headers)
            self.streams[event.stream_id] = stream
            server.streams.append(stream)
            # h2 has taken the whole read already: streams after this one do not count yet.
            open_now = self.open_streams(up_to=event.stream_id)
            server.peak_streams = max(server.peak_streams, open_now)
            limit = server.max_concurrent_streams
            if limit is not None and open_now > limit:
                stream.refused = True
                server.refused_streams += 1
                self.h2.reset_stream(event.stream_id, ErrorCode.REFUSED_STREAM)
                return
            self._arrived(stream)
        elif isinstance(event, h2.events.DataReceived):
            assert event.stream_id is not None and event.data is not None
            server.received_bytes += len(event.data)
            stream = self.streams[event.stream_id]
            stream.body += event.data
            if server.window_updates and event.flow_controlled_length:
                with contextlib.suppress(h2.exceptions.StreamClosedError):
                    self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            stream._wake()
        elif isinstance(event, h2.events.StreamEnded):
            assert event.stream_id is not None
            stream = self.streams[event.stream_id]
            stream.ended = True
            stream._wake()
        elif isinstance(event, h2.events.StreamReset):
            assert event.stream_id is not None
            stream_reset = self.streams.get(event.stream_id)
            if stream_reset is not None and event.remote_reset:
                stream_reset.client_reset = int(event.error_code or 0)
                stream_reset._wake()
            self._window.set()
        elif isinstance(event, h2.events.RemoteSettingsChanged):
            for code, changed in event.changed_settings.items():
                self.remote_settings[int(code)] = changed.new_value
            self._window.set()
        elif isinstance(event, h2.events.WindowUpdated):
            self._window.set()
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.client_goaway = int(event.error_code or 0)

    def _arrived(self, stream: H2Stream) -> None:
        plan = self._plan
        if plan is None:
            self._start(stream)
        elif self._goaway_last is None:
            self._parked.append(stream)
            if len(self._parked) >= plan.after:
                self.goaway(plan.last_stream_id, plan.error_code)
                self._close_when_done = True
                for parked in self._parked:
                    if parked.stream_id <= plan.last_stream_id:
                        self._start(parked)
                self._close_if_done()
        elif stream.stream_id <= self._goaway_last:
            self._start(stream)
        # else: a stream above GOAWAY's last_stream_id is never answered

    def _start(self, stream: H2Stream) -> None:
        task = asyncio.create_task(self._run_handler(stream))
        self._handlers.add(task)
        task.add_done_callback(self._handler_done)

    def _handler_done(self, task: asyncio.Task[None]) -> None:
        self._handlers.discard(task)
        self._close_if_done()

    def _close_if_done(self) -> None:
        if self._close_when_done and not self._handlers:
            self.close()

    async def _run_handler(self, stream: H2Stream) -> None:
        try:
            await self.server.handler(stream)
        except asyncio.CancelledError:
            pass  # the connection ended
        except Exception as exc:
            self.server.errors.append(exc)
            await stream.reset(ErrorCode.INTERNAL_ERROR)


async def ok_handler(stream: H2Stream) -> None:
    """The default RawH2Server handler: read the body, answer 200 "ok"."""
    await stream.read_body()
    await stream.respond(200, [("content-type", "text/plain")], b"ok")


class RawH2Server(_Served):
    """An HTTP/2 server on the h2 library, scripted per stream (module docstring)."""

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        tls: bool = False,
        alpn: Sequence[str] = ("h2",),
        max_concurrent_streams: int | None = None,
        initial_window: int | None = None,
        window_updates: bool = True,
        goaway: GoAway | None = None,
        settings: Mapping[int, int] | None = None,
    ) -> None:
        self.handler: Handler = handler or ok_handler
        self.tls = tls
        self.alpn = tuple(alpn)
        self.max_concurrent_streams = max_concurrent_streams
        self.initial_window = initial_window
        self.window_updates = window_updates
        self.goaway = goaway
        self.settings = dict(settings or {})
        self.conns: list[H2ServerConnection] = []
        self.streams: list[H2Stream] = []
        self.peak_streams = 0
        self.refused_streams = 0
        self.received_bytes = 0
        self.protocol_errors: list[str] = []
        self.errors: list[BaseException] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def connections(self) -> int:
        return len(self.conns)

    def client_ssl_context(self) -> ssl.SSLContext:
        return client_ssl_context(("h2",))

    async def start(self) -> URL:
        context = server_ssl_context(self.alpn) if self.tls else None
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=context)
        port = self._server.sockets[0].getsockname()[1]
        scheme = "https" if self.tls else "http"
        self._url = URL.build(scheme=scheme, host="127.0.0.1", port=port)
        return self._url

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        if self.errors:
            raise self.errors[0]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn = H2ServerConnection(self, len(self.conns) + 1, reader, writer)
        self.conns.append(conn)
        try:
            await conn.run()
        except asyncio.CancelledError:
            pass  # close() ends it; re-raised, asyncio's stream server logs it (3.11)
        finally:
            self._tasks.discard(task)


RawH2Factory = Callable[..., Awaitable[RawH2Server]]


@pytest.fixture
async def raw_h2() -> AsyncIterator[RawH2Factory]:
    """`await raw_h2(handler, **options)` starts a RawH2Server; all close after the test."""
    servers: list[RawH2Server] = []

    async def make(handler: Handler | None = None, **options: Any) -> RawH2Server:
        server = RawH2Server(handler, **options)
        await server.start()
        servers.append(server)
        return server

    yield make
    errors: list[BaseException] = []
    for server in servers:
        try:
            await server.close()
        except Exception as exc:
            errors.append(exc)
    if errors:
        raise errors[0]

"""Helpers for the connector tests: fake resolvers, TLS material and odd servers.

Test scaffolding only: every server here listens on loopback, nothing leaves the host.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import hashlib
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import trustme
from aiohttp import web
from yarl import URL

from airhttp.abc import AbstractResolver, ResolveResult
from airhttp.tracing import TraceConfig

DNS_SIGNALS = ("dns_resolvehost_start", "dns_resolvehost_end", "dns_cache_hit", "dns_cache_miss")


class FakeResolver(AbstractResolver):
    """Maps test names ("example.test") to loopback addresses and counts lookups.

    An address is "ip" (the request's port) or ("ip", port). A name mapped to an
    exception raises it. While `gate` is set, lookups wait for it to be opened.
    """

    def __init__(self, mapping: dict[str, Any], *, delay: float = 0.0) -> None:
        self.mapping = mapping
        self.delay = delay
        self.gate: asyncio.Event | None = None
        self.calls: collections.Counter[str] = collections.Counter()
        self.families: list[int] = []
        self.closed = False

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.calls[host] += 1
        self.families.append(family)
        if self.gate is not None:
            await self.gate.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        entry = self.mapping[host]
        if isinstance(entry, BaseException):
            raise entry
        results: list[ResolveResult] = []
        for addr in entry:
            ip, addr_port = (addr, port) if isinstance(addr, str) else addr
            fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
            results.append(
                ResolveResult(hostname=host, host=ip, port=addr_port, family=fam, proto=0, flags=0)
            )
        return results

    async def close(self) -> None:
        self.closed = True


def ok_app() -> web.Application:
    """`/` answers "ok"; `/peer` answers the client's address as "host port"."""

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def peer(request: web.Request) -> web.Response:
        assert request.transport is not None
        host, port = request.transport.get_extra_info("peername")[:2]
        return web.Response(text=f"{host} {port}")

    app = web.Application()
    app.router.add_get("/", ok)
    app.router.add_get("/peer", peer)
    return app


@contextlib.asynccontextmanager
async def serve(host: str, port: int = 0, ssl_context: Any = None) -> AsyncIterator[int]:
    """Serve `ok_app()` on host:port (host may be "::1"); yields the bound port."""
    runner = web.AppRunner(ok_app(), handle_signals=False, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
        await site.start()
        server = site._server
        assert server is not None
        yield server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    finally:
        await runner.cleanup()


def refused_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on (bound then released), so connecting is refused."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port


@contextlib.contextmanager
def stalled_listener() -> Iterator[int]:
    """A loopback port whose accept queue is full: new connects hang without an answer.

    Works offline: the kernel drops SYNs to a full queue instead of refusing them.
    """
    listener = socket.socket()
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port: int = listener.getsockname()[1]
        for _ in range(8):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


@functools.lru_cache(maxsize=1)
def ipv6_loopback_available() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


def dns_trace_config(events: list[tuple[Any, str, str]]) -> TraceConfig:
    """Records (trace_request_ctx, signal name, host) for each DNS signal."""
    config = TraceConfig()
    for name in DNS_SIGNALS:

        async def record(session: Any, ctx: Any, params: Any, _name: str = name) -> None:
            events.append((ctx.trace_request_ctx, _name, params.host))

        getattr(config, f"on_{name}").append(record)
    return config


# --- loopback servers of our own ---------------------------------------------------------


class LoopbackServer:
    """An asyncio server on 127.0.0.1 whose connection tasks are cancelled by close().

    Subclasses answer one connection in `serve`; `start` returns a URL with `scheme`.
    """

    scheme = "http"

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> URL:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return URL.build(scheme=self.scheme, host="127.0.0.1", port=port)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self.serve(reader, writer)
        except asyncio.CancelledError:
            pass  # close() ends it; re-raised, asyncio's stream server logs it (3.11)
        finally:
            self._tasks.discard(task)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


async def pipe(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    count: Callable[[int], None] | None = None,
) -> None:
    """Copy `reader` to `writer` until EOF (telling `count` each chunk's size), then close."""
    try:
        while data := await reader.read(65536):
            if count is not None:
                count(len(data))
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


# --- TLS ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TLSMaterial:
    """A test CA, a certificate for localhost/127.0.0.1 and one for "other.test"."""

    ca: trustme.CA
    server: trustme.LeafCert
    other: trustme.LeafCert
    fingerprint: bytes  # SHA-256 of `server`'s DER form

    def server_context(self, leaf: trustme.LeafCert | None = None) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        (leaf or self.server).configure_cert(context)
        return context

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context


@functools.lru_cache(maxsize=1)
def tls_material() -> TLSMaterial:
    """Built once per run: key generation is the slow part of every TLS test."""
    ca = trustme.CA()
    server = ca.issue_cert("localhost", "127.0.0.1")
    other = ca.issue_cert("other.test")
    der = ssl.PEM_cert_to_DER_cert(server.cert_chain_pems[0].bytes().decode())
    return TLSMaterial(ca, server, other, hashlib.sha256(der).digest())


class TLSCloseProbe(LoopbackServer):
    """A TLS server (over memory BIOs) that reports how each client hung up.

    `endings` gets "close_notify" when the client shut TLS down politely and
    "abrupt" when the TCP stream just ended.
    """

    scheme = "https"

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__()
        self._context = context
        self.endings: list[str] = []
        self.ended = asyncio.Event()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = self._context.wrap_bio(incoming, outgoing, server_side=True)

        async def exchange() -> None:
            pending = outgoing.read()
            if pending:
                writer.write(pending)
                await writer.drain()
            try:
                data = await reader.read(65536)
            except ConnectionError:
                data = b""
            if data:
                incoming.write(data)
            else:
                incoming.write_eof()

        try:
            while True:
                try:
                    tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    await exchange()
            head = b""
            while b"\r\n\r\n" not in head:
                try:
                    head += tls.read(65536)
                except ssl.SSLWantReadError:
                    await exchange()
            tls.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            while True:
                try:
                    if tls.read(65536) == b"":
                        self.endings.append("close_notify")
                        break
                except ssl.SSLWantReadError:
                    await exchange()
                except ssl.SSLZeroReturnError:
                    self.endings.append("close_notify")
                    break
                except ssl.SSLEOFError:
                    self.endings.append("abrupt")
                    break
            self.ended.set()
        finally:
            writer.close()

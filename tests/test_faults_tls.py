"""TLS peers that misbehave: broken handshakes, and bodies ended without close_notify.

Handshake faults are played by raw TCP servers behind an https:// URL: bytes that are not
TLS, a close or a reset right after the ClientHello, silence under `sock_connect`. The
close_notify cases use a TLS server driven over memory BIOs (tests/faults_ws_support.py),
which ends TCP exactly where a test says, with or without close_notify. After every
fault the same session must still reach a good TLS server, and a connection that broke
is never reused. The plain-HTTP-server case (aiohttp.web answering the ClientHello with
a 400) is in tests/test_connector_tls.py; these add the rest, and the session after it.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from yarl import URL

import airhttp
from airhttp.client_exceptions import (
    ClientConnectorError,
    ClientConnectorSSLError,
    ClientPayloadError,
    ConnectionTimeoutError,
)
from airhttp.http_exceptions import ContentLengthError, TransferEncodingError

from .conftest import RawServer, WebServer
from .faults_ws_support import TLSConn, TLSPeer, TLSScript, reset, response
from .tcp_support import ok_app, tls_material

NOT_TLS = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
TLS_HANDSHAKE_RECORD = 0x16  # the first byte of a ClientHello (RFC 8446 section 5.1)


@pytest.fixture
async def good_url(web_server: WebServer) -> URL:
    """A TLS server that behaves, for the request that follows each fault."""
    return await web_server.start(ok_app(), ssl_context=tls_material().server_context())


@functools.lru_cache(maxsize=1)
def trusting() -> ssl.SSLContext:
    """One client context for every request: the pool keys connections by context."""
    return tls_material().client_context()


async def get_text(session: Any, url: URL, **kwargs: Any) -> str:
    async with session.get(url, ssl=trusting(), **kwargs) as resp:
        assert resp.status == 200
        return str(await resp.text())


# --- 4. handshakes that go wrong ------------------------------------------------------------


class HandshakeFault:
    """A raw server that reads (or not) the ClientHello, then misbehaves in one way."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.first_bytes: list[bytes] = []

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.kind != "not-tls-first":
            self.first_bytes.append(await reader.read(65536))
        if self.kind.startswith("not-tls"):
            writer.write(NOT_TLS)
            await writer.drain()
        elif self.kind == "reset":
            reset(writer)
        elif self.kind == "stall":
            await asyncio.sleep(10)  # until the test ends and the server cancels it
        # "close": returning closes the connection (a FIN).


async def _start(raw_server: RawServer, kind: str) -> tuple[HandshakeFault, URL]:
    fault = HandshakeFault(kind)
    url = await raw_server.start(fault)
    return fault, url.with_scheme("https")


def _check_ssl_error(exc: BaseException, port: int | None) -> None:
    assert type(exc) is ClientConnectorSSLError
    assert isinstance(exc, ssl.SSLError)
    assert isinstance(exc.os_error, ssl.SSLError)
    assert "WRONG_VERSION_NUMBER" in str(exc.os_error)
    assert (exc.host, exc.port) == ("127.0.0.1", port)


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("not-tls-first", id="answers-before-the-client-hello"),
        pytest.param("not-tls", id="answers-the-client-hello"),
    ],
)
async def test_plain_bytes_instead_of_a_server_hello_raise_connector_ssl_error(
    raw_server: RawServer, good_url: URL, kind: str
) -> None:
    fault, url = await _start(raw_server, kind)
    async with airhttp.ClientSession() as session:
        for attempt in (1, 2):
            with pytest.raises(ClientConnectorSSLError) as info:
                await get_text(session, url)
            _check_ssl_error(info.value, url.port)
            assert raw_server.connections == attempt
        assert await get_text(session, good_url) == "ok"
    expected = [] if kind == "not-tls-first" else [TLS_HANDSHAKE_RECORD] * 2
    assert [data[0] for data in fault.first_bytes] == expected


@pytest.mark.parametrize(
    ("kind", "code"),
    [pytest.param("close", None, id="close"), pytest.param("reset", errno.ECONNRESET, id="reset")],
)
async def test_a_peer_leaving_after_the_client_hello_raises_connector_error(
    raw_server: RawServer, good_url: URL, kind: str, code: int | None
) -> None:
    fault, url = await _start(raw_server, kind)
    async with airhttp.ClientSession() as session:
        for attempt in (1, 2):
            with pytest.raises(ClientConnectorError) as info:
                await get_text(session, url)
            err = info.value
            # Not an SSL error: the TLS layer saw the stream end (or reset), as aiohttp.
            assert type(err) is ClientConnectorError
            assert type(err.os_error) is ConnectionResetError
            assert err.os_error.errno == code
            assert (err.host, err.port) == ("127.0.0.1", url.port)
            assert str(err).startswith(f"Cannot connect to host 127.0.0.1:{url.port} ssl:")
            assert raw_server.connections == attempt
        assert await get_text(session, good_url) == "ok"
    assert [data[0] for data in fault.first_bytes] == [TLS_HANDSHAKE_RECORD] * 2


async def test_a_stalled_handshake_runs_into_sock_connect(
    raw_server: RawServer, good_url: URL
) -> None:
    fault, url = await _start(raw_server, "stall")
    timeout = airhttp.ClientTimeout(sock_connect=0.2)
    async with airhttp.ClientSession() as session:
        started = time.monotonic()
        with pytest.raises(ConnectionTimeoutError) as info:
            await get_text(session, url, timeout=timeout)
        assert 0.15 < time.monotonic() - started < 0.6
        assert str(info.value) == f"Connection timeout to host {url}"
        assert isinstance(info.value, asyncio.TimeoutError)
        assert await get_text(session, good_url, timeout=timeout) == "ok"
    assert [data[0] for data in fault.first_bytes] == [TLS_HANDSHAKE_RECORD]


@pytest.mark.parametrize("kind", ["not-tls-first", "not-tls", "close", "reset", "stall"])
async def test_same_as_aiohttp_handshake_faults(raw_server: RawServer, kind: str) -> None:
    async def scenario(lib: Any, raw_server: RawServer) -> Any:
        _, url = await _start(raw_server, kind)
        async with lib.ClientSession() as session:
            try:
                await get_text(session, url, timeout=lib.ClientTimeout(sock_connect=0.2))
            except Exception as exc:
                os_error = getattr(exc, "os_error", None)
                shown = str(exc).replace(str(url.port), "PORT")
                return type(exc).__name__, type(os_error).__name__, shown.split(" ssl:")[0]
        raise AssertionError("no error")

    import aiohttp

    ours = await scenario(airhttp, raw_server)
    theirs = await scenario(aiohttp, raw_server)
    assert ours == theirs


# --- 5. TLS ended without close_notify -------------------------------------------------------


PeerStarter = Callable[[TLSScript], Awaitable[tuple[TLSPeer, URL]]]


@pytest.fixture
async def tls_peer() -> AsyncIterator[PeerStarter]:
    """Starts a TLSPeer running a script; every peer started is closed after the test."""
    peers: list[TLSPeer] = []

    async def start(script: TLSScript) -> tuple[TLSPeer, URL]:
        peer = TLSPeer(tls_material().server_context(), script)
        peers.append(peer)
        return peer, await peer.start()

    yield start
    for peer in peers:
        await peer.close()


def first_then_ok(first: bytes, *, notify: bool = False) -> TLSScript:
    """Connection 0 sends `first` and ends TCP (close_notify first if `notify`); the others
    answer "ok" to every request until the client leaves."""

    async def script(conn: TLSConn, index: int) -> None:
        await conn.handshake()
        await conn.read_head()
        if index == 0:
            await conn.send(first)
            if notify:
                await conn.close_notify()
            else:
                conn.fin()
            return
        while True:  # ends with an SSLError once the client hangs up
            await conn.send(response(b"ok"))
            await conn.read_head()

    return script


CHUNKED_CUT = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n" + b"x" * 16 + b"\r\n"


@pytest.mark.parametrize("notify", [pytest.param(False, id="fin"), pytest.param(True, id="notify")])
@pytest.mark.parametrize(
    ("first", "cause"),
    [
        pytest.param(response(b"x" * 500, length=1000), ContentLengthError, id="length"),
        pytest.param(CHUNKED_CUT, TransferEncodingError, id="chunked"),
    ],
)
async def test_a_body_cut_short_over_tls_raises_payload_error(
    tls_peer: PeerStarter, first: bytes, cause: type[Exception], notify: bool
) -> None:
    peer, url = await tls_peer(first_then_ok(first, notify=notify))
    async with airhttp.ClientSession() as session:
        async with session.get(url, ssl=trusting()) as resp:
            assert resp.status == 200
            with pytest.raises(ClientPayloadError) as info:
                await resp.read()
        assert str(info.value).startswith("Response payload is not completed: ")
        assert type(info.value.__cause__) is cause
        assert await get_text(session, url) == "ok"
    assert peer.connections == 2


@pytest.mark.parametrize(
    "first",
    [
        pytest.param(response(b"x" * 1000), id="keep-alive"),
        pytest.param(response(b"x" * 1000, close=True), id="connection-close"),
        # Delimited by the end of the stream: with no close_notify a cut cannot be told
        # from the end. aiohttp takes it as the end too (checked below).
        pytest.param(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"x" * 1000, id="until-eof"),
    ],
)
async def test_a_complete_response_without_close_notify_is_fine(
    tls_peer: PeerStarter, first: bytes
) -> None:
    peer, url = await tls_peer(first_then_ok(first))
    async with airhttp.ClientSession() as session:
        async with session.get(url, ssl=trusting()) as resp:
            assert resp.status == 200
            assert await resp.read() == b"x" * 1000
        # Let the bare FIN reach the idle keep-alive connection before it could be reused.
        await asyncio.sleep(0.05)
        assert await get_text(session, url) == "ok"
        assert peer.connections == 2
        # The good connection is pooled and reused.
        assert await get_text(session, url) == "ok"
    assert peer.connections == 2


@pytest.mark.parametrize(
    "first",
    [
        pytest.param(response(b"x" * 500, length=1000), id="cut"),
        pytest.param(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"x" * 1000, id="until-eof"),
    ],
)
async def test_same_as_aiohttp_without_close_notify(tls_peer: PeerStarter, first: bytes) -> None:
    import aiohttp

    async def scenario(lib: Any) -> Any:
        peer, url = await tls_peer(first_then_ok(first))
        async with lib.ClientSession() as session:
            async with session.get(url, ssl=trusting()) as resp:
                try:
                    outcome: Any = len(await resp.read())
                except Exception as exc:
                    outcome = type(exc).__name__, type(exc.__cause__).__name__
            after = await get_text(session, url)
        return outcome, after, peer.connections

    ours = await scenario(airhttp)
    assert ours == await scenario(aiohttp)

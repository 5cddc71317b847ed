"""Peers that misbehave under a session: WebSockets that stall, flood or vanish, and bombs.

WebSocket servers here speak RFC 6455 by hand (tests/ws_support.py) and then stall after
the handshake or mid-frame, announce messages over `max_msg_size` (plain, fragmented or
compressed), or drop TCP (FIN or RST) while the client receives, sends or closes. Every
case then checks that the same session still serves a plain HTTP request. The last
section sends compressed bodies that inflate to 256 MiB, in each coding, over a socket.
What the earlier suites already cover (tests/test_ws_raw_*.py, tests/test_ws_interop*.py,
tests/test_client_e2e.py) is not repeated. TLS faults are in tests/test_faults_tls.py.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from yarl import URL

import airhttp
from airhttp import WebSocketError, WSCloseCode, WSMsgType

from .conftest import RawServer, WebServer, read_request
from .faults_ws_support import MIB, bomb, deflated_message, reset
from .tcp_support import ok_app
from .ws_support import (
    BINARY,
    CANNOT_WRITE,
    CLOSE,
    CONT,
    PING,
    TEXT,
    ClientFrame,
    Peer,
    close_body,
    echo_close,
    observe_error,
    observe_message,
    observe_state,
    run_both,
    sends,
    serve,
    server_frame,
    wire,
)

CLOSED = (WSMsgType.CLOSED, None, None)
HALF_FRAME = server_frame(TEXT, b"hello")[:4]
DEFLATE_101: dict[str, Any] = {"extra": (("Sec-WebSocket-Extensions", "permessage-deflate"),)}


@pytest.fixture
async def http_url(web_server: WebServer) -> URL:
    """A well-behaved HTTP server, for the request that follows each fault."""
    return await web_server.start(ok_app())


async def plain_get(session: airhttp.ClientSession, url: URL, *, lent: int = 0) -> str:
    """A plain GET on the session that saw the fault; its connection is pooled again.

    `lent` is how many connections open WebSockets hold meanwhile (a slot each).
    """
    async with session.get(url) as resp:
        assert resp.status == 200
        text = await resp.text()
    connector = session.connector
    assert connector is not None
    assert len(connector._acquired) == lent, "a connection is still lent out"
    return text


# --- 1. peers that stall ------------------------------------------------------------------


async def test_silent_peer_times_receive_out_and_the_session_goes_on(
    raw_server: RawServer, http_url: URL
) -> None:
    server = await serve(raw_server, echo_close)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        started = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await ws.receive(timeout=0.2)
        assert 0.15 < time.monotonic() - started < 0.6
        assert (ws.closed, ws.exception()) == (False, None)
        # The WebSocket stays open (holding its slot) while plain requests come and go.
        assert await plain_get(session, http_url, lent=1) == "ok"
        assert await ws.close() is True
        assert ws.close_code == WSCloseCode.OK
        assert await plain_get(session, http_url) == "ok"
    assert wire(await server.result()) == [(CLOSE, close_body(1000))]
    assert raw_server.connections == 1


@pytest.mark.parametrize(
    "prefix", [pytest.param(b"", id="silent"), pytest.param(HALF_FRAME, id="half-a-frame")]
)
async def test_heartbeat_gives_up_on_a_stalled_peer_and_the_session_goes_on(
    raw_server: RawServer, http_url: URL, prefix: bytes
) -> None:
    server = await serve(raw_server, sends(prefix))
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url, heartbeat=0.1)
        started = time.monotonic()
        msg = await ws.receive()
        elapsed = time.monotonic() - started
        assert msg.type is WSMsgType.ERROR
        assert type(msg.data) is airhttp.ServerTimeoutError
        assert str(msg.data) == "No PONG received after 0.05 seconds"
        assert 0.1 <= elapsed < 0.6
        assert await ws.receive() == CLOSED
        assert (ws.closed, ws.close_code) == (True, WSCloseCode.ABNORMAL_CLOSURE)
        assert ws.exception() is msg.data
        # One unanswered PING, then TCP closed without a CLOSE frame.
        assert wire(await server.result()) == [(PING, b"")]
        assert await plain_get(session, http_url) == "ok"
    assert raw_server.connections == 1


# --- 2. messages over max_msg_size --------------------------------------------------------


@pytest.mark.parametrize(
    ("frames", "size"),
    [
        pytest.param(server_frame(TEXT, declared_length=1001), 1001, id="16-bit-length"),
        pytest.param(server_frame(BINARY, declared_length=2**62), 2**62, id="64-bit-length"),
        pytest.param(
            server_frame(TEXT, b"a" * 600, fin=False) + server_frame(CONT, declared_length=600),
            1200,
            id="fragments-600+600",
        ),
    ],
)
async def test_a_frame_header_over_max_msg_size_fails_before_its_payload(
    raw_server: RawServer, http_url: URL, frames: bytes, size: int
) -> None:
    # Only the headers are sent: the client must refuse without waiting for the payload.
    server = await serve(raw_server, sends(frames))
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url, max_msg_size=1000)
        msg = await asyncio.wait_for(ws.receive(), 0.5)
        assert msg.type is WSMsgType.ERROR
        assert type(msg.data) is WebSocketError
        assert msg.data.code == WSCloseCode.MESSAGE_TOO_BIG
        assert str(msg.data) == f"Message size {size} exceeds limit 1000"
        assert (ws.closed, ws.close_code) == (True, WSCloseCode.MESSAGE_TOO_BIG)
        assert await ws.receive() == CLOSED
        # The peer was told why, with 1009, and then the client hung up.
        assert wire(await server.result()) == [(CLOSE, close_body(1009))]
        assert await plain_get(session, http_url) == "ok"


def _compressed_frames(payload: bytes, fragments: int) -> bytes:
    """`payload` (deflated) as one message of `fragments` frames; RSV1 on the first only."""
    step = -(-len(payload) // fragments)
    parts = [payload[i : i + step] for i in range(0, len(payload), step)]
    assert len(parts) == fragments
    last = len(parts) - 1
    frames = [
        server_frame(CONT if i else BINARY, part, fin=i == last, rsv=0 if i else 4)
        for i, part in enumerate(parts)
    ]
    return b"".join(frames)


@pytest.mark.parametrize(
    ("inflated", "fragments"),
    [
        pytest.param(64 * MIB, 1, id="64MiB-one-frame"),
        pytest.param(16 * MIB, 8, id="16MiB-8-frames"),
    ],
)
async def test_a_compressed_message_inflating_past_max_msg_size_is_refused_quickly(
    raw_server: RawServer, http_url: URL, inflated: int, fragments: int
) -> None:
    payload = deflated_message(inflated)
    assert len(payload) < inflated // 200
    server = await serve(raw_server, sends(_compressed_frames(payload, fragments)), **DEFLATE_101)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url, compress=15, max_msg_size=MIB)
        assert ws.compress == 15
        started = time.monotonic()
        msg = await asyncio.wait_for(ws.receive(), 2)
        # Stopped at the limit: nowhere near the time to inflate 64 MiB.
        assert time.monotonic() - started < 0.5
        assert msg.type is WSMsgType.ERROR
        assert type(msg.data) is WebSocketError
        assert msg.data.code == WSCloseCode.MESSAGE_TOO_BIG
        assert str(msg.data) == f"Decompressed message exceeds size limit {MIB}"
        assert (ws.closed, ws.close_code) == (True, WSCloseCode.MESSAGE_TOO_BIG)
        assert await ws.receive() == CLOSED
        assert wire(await server.result()) == [(CLOSE, close_body(1009))]
        assert await plain_get(session, http_url) == "ok"


# --- 3. peers that drop TCP without a CLOSE frame -----------------------------------------

DROPS = [
    pytest.param(b"", False, id="fin"),
    pytest.param(b"", True, id="rst"),
    pytest.param(HALF_FRAME, False, id="half-a-frame-then-fin"),
    pytest.param(HALF_FRAME, True, id="half-a-frame-then-rst"),
]


def _drop_when(go: asyncio.Event, prefix: bytes, rst: bool) -> Any:
    async def script(peer: Peer) -> None:
        await go.wait()
        if prefix:
            peer.send(prefix)
            await peer.writer.drain()
        if rst:
            reset(peer.writer)
        # Otherwise returning closes the writer: a FIN.

    return script


@pytest.mark.parametrize(("prefix", "rst"), DROPS)
async def test_a_drop_during_receive_ends_it_with_closed_1006(
    raw_server: RawServer, http_url: URL, prefix: bytes, rst: bool
) -> None:
    go = asyncio.Event()
    server = await serve(raw_server, _drop_when(go, prefix, rst))
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        receiving = asyncio.create_task(ws.receive())
        await asyncio.sleep(0.02)
        assert not receiving.done()
        go.set()
        assert await asyncio.wait_for(receiving, 1) == CLOSED
        await server.result()
        assert (ws.closed, ws.close_code) == (True, WSCloseCode.ABNORMAL_CLOSURE)
        exc = ws.exception()
        assert type(exc) is airhttp.ClientConnectionResetError
        assert str(exc) == CANNOT_WRITE
        with pytest.raises(airhttp.ClientConnectionResetError, match=CANNOT_WRITE):
            await ws.send_str("too late")
        assert await ws.receive() == CLOSED
        assert await ws.close() is False
        assert await plain_get(session, http_url) == "ok"


@pytest.mark.parametrize("rst", [pytest.param(False, id="fin"), pytest.param(True, id="rst")])
@pytest.mark.parametrize("size", [pytest.param(1000, id="1KB"), pytest.param(2**18, id="256KiB")])
async def test_a_drop_while_sending_in_a_loop_raises_connection_reset(
    raw_server: RawServer, http_url: URL, rst: bool, size: int
) -> None:
    async def script(peer: Peer) -> ClientFrame:
        first = await peer.frame()
        if rst:
            reset(peer.writer)
        return first

    server = await serve(raw_server, script)
    text = "x" * size
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        sent = 0
        with pytest.raises(airhttp.ClientConnectionResetError) as info:
            while sent < 1000:
                await asyncio.wait_for(ws.send_str(text), 1)
                sent += 1
        assert str(info.value) == CANNOT_WRITE
        # A few sends go out before the client learns the peer is gone; never all of them.
        assert sent < 50
        assert wire([await server.result()]) == [(TEXT, text.encode())]
        assert await asyncio.wait_for(ws.receive(), 1) == CLOSED
        assert (ws.closed, ws.close_code) == (True, WSCloseCode.ABNORMAL_CLOSURE)
        assert type(ws.exception()) is airhttp.ClientConnectionResetError
        assert await plain_get(session, http_url) == "ok"


async def test_a_reset_while_close_waits_for_the_answer_ends_close_at_once(
    raw_server: RawServer, http_url: URL
) -> None:
    # The FIN variant is test_ws_raw_close.py's
    # test_close_when_the_server_drops_tcp_instead_of_answering.
    async def script(peer: Peer) -> ClientFrame:
        frame = await peer.frame()
        reset(peer.writer)
        return frame

    server = await serve(raw_server, script)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        started = time.monotonic()
        assert await ws.close() is True
        assert time.monotonic() - started < 0.5
        assert (ws.closed, ws.close_code) == (True, WSCloseCode.ABNORMAL_CLOSURE)
        assert type(ws.exception()) is airhttp.EofStream
        assert await ws.receive() == CLOSED
        assert await plain_get(session, http_url) == "ok"
    assert wire([await server.result()]) == [(CLOSE, close_body(1000))]


# --- the same with aiohttp's client as the oracle -----------------------------------------


async def test_same_as_aiohttp_half_a_frame_with_heartbeat(raw_server: RawServer) -> None:
    async def scenario(lib: Any, raw_server: RawServer) -> Any:
        server = await serve(raw_server, sends(HALF_FRAME))
        async with lib.ClientSession() as session:
            ws = await session.ws_connect(server.url, heartbeat=0.1)
            first = observe_message(await ws.receive())
            state = observe_state(ws), observe_error(ws.exception())
            return first, state, observe_message(await ws.receive()), wire(await server.result())

    ours, theirs = await run_both(raw_server, scenario)
    assert ours == theirs
    assert ours[1] == ((True, 1006), ("ServerTimeoutError", "No PONG received after 0.05 seconds"))


@pytest.mark.parametrize(
    ("frames", "answer", "options"),
    [
        pytest.param(server_frame(TEXT, declared_length=2**62), {}, {}, id="header"),
        pytest.param(
            _compressed_frames(deflated_message(16 * MIB), 8),
            DEFLATE_101,
            {"compress": 15},
            id="compressed-fragments",
        ),
    ],
)
async def test_same_as_aiohttp_over_max_msg_size(
    raw_server: RawServer, frames: bytes, answer: dict[str, Any], options: dict[str, Any]
) -> None:
    async def scenario(lib: Any, raw_server: RawServer) -> Any:
        server = await serve(raw_server, sends(frames), **answer)
        async with lib.ClientSession() as session:
            ws = await session.ws_connect(server.url, max_msg_size=MIB, **options)
            # exception() differs on purpose (decisions #5): not compared.
            first = observe_message(await ws.receive())
            state = observe_state(ws)
            return first, state, observe_message(await ws.receive()), wire(await server.result())

    ours, theirs = await run_both(raw_server, scenario)
    assert ours == theirs
    assert ours[1:] == ((True, 1009), (int(WSMsgType.CLOSED), None, None), [(CLOSE, b"\x03\xf1")])


@pytest.mark.parametrize(("prefix", "rst"), DROPS)
async def test_same_as_aiohttp_drop_during_receive(
    raw_server: RawServer, prefix: bytes, rst: bool
) -> None:
    async def scenario(lib: Any, raw_server: RawServer) -> Any:
        go = asyncio.Event()
        server = await serve(raw_server, _drop_when(go, prefix, rst))
        async with lib.ClientSession() as session:
            ws = await session.ws_connect(server.url)
            receiving = asyncio.create_task(ws.receive())
            await asyncio.sleep(0.02)
            go.set()
            msg = observe_message(await asyncio.wait_for(receiving, 1))
            await server.result()
            return msg, observe_state(ws), observe_error(ws.exception())

    ours, theirs = await run_both(raw_server, scenario)
    assert ours == theirs
    assert ours == (
        (int(WSMsgType.CLOSED), None, None),
        (True, 1006),
        ("ClientConnectionResetError", CANNOT_WRITE),
    )


# --- 6. compression bombs through a session ------------------------------------------------

CODINGS = ["gzip", "deflate", "br", "zstd"]
LIBRARY = {"br": "brotli", "zstd": "backports.zstd"}
READ_BUFSIZE = 2**16
READ_FIRST = 8 * MIB


async def _serve_bomb(raw_server: RawServer, coding: str) -> URL:
    body = bomb(coding)
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n"

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:  # keep-alive: the server would answer a second request here
            await read_request(reader)
            writer.write(head % (coding.encode(), len(body)) + body)
            await writer.drain()

    return await raw_server.start(handler)


@pytest.mark.parametrize("coding", CODINGS)
async def test_a_256_mib_bomb_read_in_part_stays_bounded_and_is_not_reused(
    raw_server: RawServer, coding: str
) -> None:
    if coding in LIBRARY:
        pytest.importorskip(LIBRARY[coding])
    # About 1.2 MB as gzip/deflate (their limit is about 1:1000), far less as br or zstd.
    assert len(bomb(coding)) < 1_300_000
    url = await _serve_bomb(raw_server, coding)
    started = time.monotonic()
    async with airhttp.ClientSession(read_bufsize=READ_BUFSIZE) as session:
        async with session.get(url) as resp:
            assert resp.headers["Content-Encoding"] == coding
            content = resp.content
            total = peak = 0
            async for chunk in content.iter_chunked(65536):
                assert len(chunk) <= 65536
                assert not chunk.strip(b"\0")
                total += len(chunk)
                peak = max(peak, len(chunk) + content._size)
                if total >= READ_FIRST:
                    break
            # Left alone, the decoder stops expanding once the reader is full.
            await asyncio.sleep(0.05)
            held = content._size
            resp.release()
        assert total == READ_FIRST
        # The same bound as tests/test_client_e2e.py's whole-body read.
        assert peak <= 8 * READ_BUFSIZE
        assert held <= 8 * READ_BUFSIZE
        assert raw_server.connections == 1
        # Released half-read, the connection was closed, not pooled: a new one is opened.
        async with session.get(url) as again:
            assert await again.content.read(10) == bytes(10)
        assert raw_server.connections == 2
    assert time.monotonic() - started < 3

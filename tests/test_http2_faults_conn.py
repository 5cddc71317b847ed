"""HTTP/2 faults and limits of a whole connection: the server's stream cap (FIFO waits),
GOAWAY, the server closing the socket, protocol errors. What was in flight fails or is
retried on a new connection; nothing leaks.

Every server is a RawH2Server (tests/h2_support.py): h2c by prior knowledge, and TLS with
ALPN h2 where a test takes `tls`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from yarl import URL

import airhttp

from .h2_support import ErrorCode, GoAway, H2Stream, RawH2Factory, RawH2Server, raw_h2, until

__all__ = ["raw_h2"]  # fixtures used below

H2 = airhttp.HttpVersion(2, 0)
Session = airhttp.ClientSession
Result = tuple[int, str]


def session_for(server: RawH2Server) -> Session:
    """h2c by prior knowledge on http://, ALPN h2 on https://."""
    if server.tls:
        connector = airhttp.TCPConnector(http2=True, ssl=server.client_ssl_context())
    else:
        connector = airhttp.TCPConnector(http2_prior_knowledge=True)
    return airhttp.ClientSession(connector=connector)


async def fetch(session: Session, method: str, url: URL, **kwargs: Any) -> Result:
    async with session.request(method, url, **kwargs) as resp:
        assert resp.version == H2
        return resp.status, await resp.text()


async def echo_path(stream: H2Stream) -> None:
    await stream.read_body()
    await stream.respond(200, body=stream.path.encode())


def slow_until(release: asyncio.Event) -> Callable[[H2Stream], Awaitable[None]]:
    """A handler answering each stream with its path, /slow only once `release` is set."""

    async def handler(stream: H2Stream) -> None:
        if stream.path == "/slow":
            await release.wait()
        await stream.respond(200, body=stream.path.encode())

    return handler


def paths(server: RawH2Server, index: int) -> list[tuple[int, str]]:
    """(stream id, path) of the streams that came on connection `index` (1 is the first)."""
    return [(s.stream_id, s.path) for s in server.streams if s.connection.index == index]


def launch(session: Session, method: str, url: URL, **kwargs: Any) -> asyncio.Future[Result]:
    return asyncio.ensure_future(fetch(session, method, url, **kwargs))


TLS = pytest.mark.parametrize("tls", [False, True], ids=["h2c", "tls"])


# --- the server's stream cap (SETTINGS_MAX_CONCURRENT_STREAMS) -----------------------------


@TLS
async def test_max_concurrent_streams_one_fifo(raw_h2: RawH2Factory, tls: bool) -> None:
    server = await raw_h2(echo_path, tls=tls, max_concurrent_streams=1)
    async with session_for(server) as session:
        results = await asyncio.gather(
            *(fetch(session, "GET", server.url / str(i)) for i in range(20))
        )
    assert results == [(200, f"/{i}") for i in range(20)]
    assert [s.path for s in server.streams] == [f"/{i}" for i in range(20)]
    assert server.peak_streams == 1
    assert server.refused_streams == 0
    assert server.connections == 1


async def test_max_concurrent_streams_two_with_a_slow_stream(raw_h2: RawH2Factory) -> None:
    release = asyncio.Event()
    server = await raw_h2(slow_until(release), max_concurrent_streams=2)
    async with session_for(server) as session:
        slow = asyncio.ensure_future(fetch(session, "GET", server.url / "slow"))
        await until(lambda: len(server.streams) == 1)
        # The other stream serves these one after another, in order.
        fast = await asyncio.gather(*(fetch(session, "GET", server.url / str(i)) for i in range(8)))
        release.set()
        assert await slow == (200, "/slow")
    assert fast == [(200, f"/{i}") for i in range(8)]
    assert [s.path for s in server.streams] == ["/slow", *(f"/{i}" for i in range(8))]
    assert server.peak_streams == 2
    assert server.refused_streams == 0
    assert server.connections == 1


async def test_cancelled_stream_waiter_leaves_the_queue(raw_h2: RawH2Factory) -> None:
    release = asyncio.Event()
    server = await raw_h2(slow_until(release), max_concurrent_streams=1)
    async with session_for(server) as session:
        slow = asyncio.ensure_future(fetch(session, "GET", server.url / "slow"))
        await until(lambda: len(server.streams) == 1)
        queued = [
            asyncio.ensure_future(fetch(session, "GET", server.url / str(i))) for i in range(3)
        ]
        timed = asyncio.ensure_future(
            fetch(session, "GET", server.url / "timed", timeout=airhttp.ClientTimeout(total=0.05))
        )
        await asyncio.sleep(0.01)
        queued[1].cancel()
        with pytest.raises(asyncio.TimeoutError):
            await timed
        release.set()
        assert await slow == (200, "/slow")
        assert await queued[0] == (200, "/0")
        assert await queued[2] == (200, "/2")
        with pytest.raises(asyncio.CancelledError):
            await queued[1]
    assert [s.path for s in server.streams] == ["/slow", "/0", "/2"]
    assert server.peak_streams == 1
    assert server.connections == 1


# --- GOAWAY ---------------------------------------------------------------------------------


@TLS
async def test_goaway_spares_lower_streams_retries_higher_gets(
    raw_h2: RawH2Factory, tls: bool
) -> None:
    server = await raw_h2(echo_path, tls=tls, goaway=GoAway(after=4, last_stream_id=3))
    async with session_for(server) as session:
        tasks: list[asyncio.Future[Result]] = []
        # One at a time, so that the stream ids are known: 1, 3, 5, 7.
        for method, path in [("GET", "g1"), ("GET", "g2"), ("GET", "g3"), ("POST", "p4")]:
            tasks.append(launch(session, method, server.url / path))
            await until(lambda: len(server.streams) == len(tasks))
        results = await asyncio.gather(*tasks, return_exceptions=True)
        # The new connection takes the next request too.
        later = await fetch(session, "GET", server.url / "later")
    assert results[:3] == [(200, "/g1"), (200, "/g2"), (200, "/g3")]
    assert type(results[3]) is airhttp.ServerDisconnectedError  # a POST is not sent again
    assert later == (200, "/later")
    assert server.connections == 2
    assert paths(server, 1) == [(1, "/g1"), (3, "/g2"), (5, "/g3"), (7, "/p4")]
    assert paths(server, 2) == [(1, "/g3"), (3, "/later")]


async def test_goaway_no_new_stream_on_going_away_connection(raw_h2: RawH2Factory) -> None:
    more = asyncio.Event()

    async def handler(stream: H2Stream) -> None:
        if stream.path == "/first":
            # GOAWAY before the head: the client knows of it once it has the head.
            stream.connection.goaway(last_stream_id=stream.stream_id)
            await stream.send_headers(200)
            await stream.send_data(b"one-")
            await more.wait()
            await stream.send_data(b"two", end_stream=True)
        else:
            await echo_path(stream)

    server = await raw_h2(handler)
    async with session_for(server) as session:
        async with session.get(server.url / "first") as first:
            assert first.status == 200
            # The first stream is still open: these go on a new connection all the same.
            second = await asyncio.gather(
                fetch(session, "GET", server.url / "a"), fetch(session, "POST", server.url / "b")
            )
            more.set()
            assert await first.read() == b"one-two"
    assert list(second) == [(200, "/a"), (200, "/b")]
    assert server.connections == 2
    assert paths(server, 1) == [(1, "/first")]
    assert sorted(paths(server, 2)) == [(1, "/a"), (3, "/b")]


async def test_goaway_zero_with_streams_in_flight_all_retried(raw_h2: RawH2Factory) -> None:
    server = await raw_h2(echo_path, goaway=GoAway(after=3, last_stream_id=0))
    async with session_for(server) as session:
        results = await asyncio.gather(
            *(fetch(session, "GET", server.url / str(i)) for i in range(3))
        )
    assert results == [(200, f"/{i}") for i in range(3)]
    assert server.connections == 2
    assert len(paths(server, 1)) == 3
    assert sorted(path for _, path in paths(server, 2)) == ["/0", "/1", "/2"]


async def test_goaway_moves_queued_requests_to_a_new_connection(raw_h2: RawH2Factory) -> None:
    """Requests queued for a stream of a capped connection that goes away open a new one."""
    server = await raw_h2(
        echo_path, max_concurrent_streams=1, goaway=GoAway(after=1, last_stream_id=1)
    )
    async with session_for(server) as session:
        results = await asyncio.gather(
            *(fetch(session, "GET", server.url / str(i)) for i in range(5))
        )
    assert results == [(200, f"/{i}") for i in range(5)]
    assert server.connections == 2
    assert paths(server, 1) == [(1, "/0")]
    assert paths(server, 2) == [(1, "/1"), (3, "/2"), (5, "/3"), (7, "/4")]  # FIFO still
    assert server.peak_streams == 1
    assert server.refused_streams == 0


# --- the server closes the socket -----------------------------------------------------------


@TLS
async def test_server_closes_connection_mid_flight(raw_h2: RawH2Factory, tls: bool) -> None:
    async def handler(stream: H2Stream) -> None:
        if stream.connection.index > 1:
            await echo_path(stream)
        elif stream.path == "/body":
            await stream.send_headers(200)
            await stream.send_data(b"partial")
            await asyncio.Event().wait()  # cancelled when the connection closes
        else:
            await stream.read_body()
            await asyncio.Event().wait()

    server = await raw_h2(handler, tls=tls)
    async with session_for(server) as session:
        body = await session.get(server.url / "body")
        assert body.status == 200
        get = launch(session, "GET", server.url / "get")
        post = launch(session, "POST", server.url / "post", data=b"x")
        await until(lambda: len(server.streams) == 3 and server.streams[2].ended)
        server.conns[0].close()
        with pytest.raises(airhttp.ClientPayloadError) as info:
            await body.read()
        body.release()
        assert "Response payload is not completed" in str(info.value)
        assert await get == (200, "/get")
        with pytest.raises(airhttp.ServerDisconnectedError) as disconnected:
            await post
        assert await fetch(session, "GET", server.url / "later") == (200, "/later")
    assert type(info.value) is airhttp.ClientPayloadError
    assert type(disconnected.value) is airhttp.ServerDisconnectedError
    assert server.connections == 2
    assert paths(server, 1) == [(1, "/body"), (3, "/get"), (5, "/post")]
    assert paths(server, 2) == [(1, "/get"), (3, "/later")]


async def test_server_closes_idle_connection_next_request_reconnects(
    raw_h2: RawH2Factory,
) -> None:
    server = await raw_h2(echo_path)
    async with session_for(server) as session:
        assert await fetch(session, "GET", server.url / "a") == (200, "/a")
        server.conns[0].close()
        await until(lambda: server.conns[0].writer.is_closing())
        await asyncio.sleep(0.01)  # the client's side sees the FIN
        assert await fetch(session, "POST", server.url / "b", data=b"") == (200, "/b")
    assert server.connections == 2
    assert paths(server, 2) == [(1, "/b")]


@pytest.mark.parametrize("tls", [False, True], ids=["h2c", "tls"])
@pytest.mark.parametrize("how", ["session-close", "keepalive-expiry"])
async def test_closing_a_connection_says_goaway_first(
    raw_h2: RawH2Factory, how: str, tls: bool
) -> None:
    """RFC 9113 6.8: the client tells the server it is done (NO_ERROR) before closing,
    also when the session aborts its TLS connections (ssl_shutdown_timeout=0)."""
    server = await raw_h2(echo_path, tls=tls)
    keepalive = 0.05 if how == "keepalive-expiry" else 30.0
    if tls:
        ssl = server.client_ssl_context()
        connector = airhttp.TCPConnector(http2=True, ssl=ssl, keepalive_timeout=keepalive)
    else:
        connector = airhttp.TCPConnector(http2_prior_knowledge=True, keepalive_timeout=keepalive)
    async with airhttp.ClientSession(connector=connector) as session:
        assert await fetch(session, "GET", server.url / "a") == (200, "/a")
        if how == "keepalive-expiry":
            await until(lambda: server.conns[0].client_goaway is not None)
    await until(lambda: server.conns[0].lost)
    assert server.conns[0].client_goaway == ErrorCode.NO_ERROR


# --- protocol errors from the server --------------------------------------------------------

BROKEN = [
    pytest.param(
        b"\x00\x00\x04\x00\x00\x00\x00\x00\x00abcd",
        ErrorCode.PROTOCOL_ERROR,
        id="data-on-stream-0",
    ),
    pytest.param(
        b"\x00\x00\x05\x00\x08\x00\x00\x00\x01\xc8abcd",
        ErrorCode.PROTOCOL_ERROR,
        id="data-padding-too-long",
    ),
    pytest.param(
        b"\x00\x00\x04\x03\x00\x00\x00\x00\x00\x00\x00\x00\x08",
        ErrorCode.PROTOCOL_ERROR,
        id="rst-stream-on-stream-0",
    ),
    pytest.param(
        b"\x00\x00\x04\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00",
        ErrorCode.PROTOCOL_ERROR,
        id="window-update-0",
    ),
    pytest.param(
        b"\x00\x00\x05\x04\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00",
        ErrorCode.FRAME_SIZE_ERROR,
        id="settings-length-5",
    ),
    pytest.param(
        # 'HTT' read as a length: 4.7 MB, refused from the header (RFC 9113 4.2).
        b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n",
        ErrorCode.FRAME_SIZE_ERROR,
        id="http1-text",
    ),
]


@pytest.mark.parametrize(("raw", "code"), BROKEN)
async def test_protocol_error_fails_every_stream(
    raw_h2: RawH2Factory, raw: bytes, code: ErrorCode
) -> None:
    async def handler(stream: H2Stream) -> None:
        if stream.connection.index > 1:
            await echo_path(stream)
        elif stream.path == "/body":
            await stream.send_headers(200)
            await stream.send_data(b"partial")
            await asyncio.Event().wait()
        else:
            await asyncio.Event().wait()

    async def exchange(session: Session) -> None:
        body = await session.get(server.url / "body")
        waiting = launch(session, "GET", server.url / "head")
        await until(lambda: len(server.streams) == 2)
        server.conns[0].send_raw(raw)
        with pytest.raises(airhttp.ClientPayloadError) as payload:
            await body.read()
        body.release()
        with pytest.raises(airhttp.ClientResponseError) as head:
            await waiting
        await until(lambda: server.conns[0].lost)
        assert await fetch(session, "GET", server.url / "later") == (200, "/later")
        errors.extend((payload.value, head.value))

    errors: list[Exception] = []
    server = await raw_h2(handler)
    async with session_for(server) as session:
        await asyncio.wait_for(exchange(session), 0.5)
    payload, head = errors
    assert isinstance(head, airhttp.ClientResponseError)
    assert type(payload) is airhttp.ClientPayloadError
    assert "HTTP/2 protocol error" in str(payload)
    assert type(head) is airhttp.ClientResponseError
    assert head.status == 400
    assert head.message.startswith("HTTP/2 protocol error: ")
    assert server.conns[0].client_goaway == code  # the client's GOAWAY
    assert server.connections == 2
    assert paths(server, 1) == [(1, "/body"), (3, "/head")]  # neither sent again
    assert paths(server, 2) == [(1, "/later")]

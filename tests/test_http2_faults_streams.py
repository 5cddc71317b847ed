"""HTTP/2 faults that hit one stream: resets, malformed header blocks and trailers, header
limits, upload flow control, sock_read. The connection must survive each of them.

Every server here is a RawH2Server (tests/h2_support.py) over h2c by prior knowledge.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from hyperframe.frame import DataFrame
from yarl import URL

import airhttp

from .h2_support import ErrorCode, H2Stream, RawH2Factory, raw_h2, until

__all__ = ["raw_h2"]  # fixtures used below

H2 = airhttp.HttpVersion(2, 0)
Session = airhttp.ClientSession


def h2c_session(**options: Any) -> Session:
    """A session speaking h2c by prior knowledge (`options` go to the session)."""
    connector = airhttp.TCPConnector(http2_prior_knowledge=True)
    return airhttp.ClientSession(connector=connector, **options)


async def forever() -> None:
    """Never answer (the server's close() cancels the handler)."""
    await asyncio.Event().wait()


async def get_text(session: Session, url: URL, **kwargs: Any) -> tuple[int, str]:
    async with session.get(url, **kwargs) as resp:
        assert resp.version == H2
        return resp.status, await resp.text()


Routes = dict[str, Callable[[H2Stream], Awaitable[None]]]


def routed(routes: Routes) -> Callable[[H2Stream], Awaitable[None]]:
    """A handler dispatching on the path; unknown paths get 200 with the path as body."""

    async def handler(stream: H2Stream) -> None:
        route = routes.get(stream.path)
        if route is None:
            await stream.read_body()
            await stream.respond(200, body=stream.path.encode())
        else:
            await route(stream)

    return handler


# --- RST_STREAM -----------------------------------------------------------------------------


async def test_reset_before_head_get_retried_once_and_succeeds(raw_h2: RawH2Factory) -> None:
    calls = 0

    async def handler(stream: H2Stream) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            await stream.reset(ErrorCode.INTERNAL_ERROR)
        else:
            await stream.respond(200, body=b"second")

    server = await raw_h2(handler)
    async with h2c_session() as session:
        assert await get_text(session, server.url / "x") == (200, "second")
    assert [s.stream_id for s in server.streams] == [1, 3]
    assert server.connections == 1  # the retry took a new stream of the same connection


async def test_reset_before_head_twice_fails_get(raw_h2: RawH2Factory) -> None:
    async def handler(stream: H2Stream) -> None:
        await stream.reset(ErrorCode.INTERNAL_ERROR)

    server = await raw_h2(handler)
    async with h2c_session() as session:
        with pytest.raises(airhttp.ServerDisconnectedError) as info:
            await session.get(server.url / "x")
    assert type(info.value) is airhttp.ServerDisconnectedError
    # The retry's stream (3) is the one named.
    assert str(info.value) == "HTTP/2 stream 3 reset by the server (INTERNAL_ERROR)"
    assert len(server.streams) == 2
    assert server.connections == 1


async def test_reset_before_head_post_not_retried(raw_h2: RawH2Factory) -> None:
    async def handler(stream: H2Stream) -> None:
        if stream.method == "POST":
            await stream.read_body()
            await stream.reset(ErrorCode.INTERNAL_ERROR)
        else:
            await stream.respond(200, body=b"after")

    server = await raw_h2(handler)
    async with h2c_session() as session:
        with pytest.raises(airhttp.ServerDisconnectedError) as info:
            await session.post(server.url / "p", data=b"payload")
        assert type(info.value) is airhttp.ServerDisconnectedError
        assert str(info.value) == "HTTP/2 stream 1 reset by the server (INTERNAL_ERROR)"
        assert [s.method for s in server.streams] == ["POST"]
        assert bytes(server.streams[0].body) == b"payload"
        # The connection is still in use.
        assert await get_text(session, server.url / "g") == (200, "after")
    assert server.connections == 1


@pytest.mark.parametrize("body_size", [2**20, 2**14])
async def test_reset_during_stalled_upload(raw_h2: RawH2Factory, body_size: int) -> None:
    """The server resets a POST whose body waits for flow control window (over the
    high-water mark for 1 MiB: the writer is paused)."""

    async def handler(stream: H2Stream) -> None:
        if stream.method == "GET":
            await stream.respond(200, body=b"after")
            return
        await until(lambda: len(stream.body) == 1024)
        await stream.reset(ErrorCode.INTERNAL_ERROR)

    async def exchange(session: Session) -> None:
        with pytest.raises(airhttp.ServerDisconnectedError) as info:
            await session.post(server.url / "up", data=b"x" * body_size)
        assert str(info.value) == "HTTP/2 stream 1 reset by the server (INTERNAL_ERROR)"
        assert await get_text(session, server.url / "g") == (200, "after")

    server = await raw_h2(handler, initial_window=1024, window_updates=False)
    async with h2c_session() as session:
        await asyncio.wait_for(exchange(session), 1.0)
    assert server.received_bytes == 1024
    assert [s.method for s in server.streams] == ["POST", "GET"]
    assert server.connections == 1


async def test_reset_mid_body_fails_read_others_unaffected(raw_h2: RawH2Factory) -> None:
    head_seen = asyncio.Event()
    broken_failed = asyncio.Event()

    async def broken(stream: H2Stream) -> None:
        await stream.send_headers(200)
        await stream.send_data(b"part")
        await head_seen.wait()
        await stream.reset(ErrorCode.INTERNAL_ERROR)

    async def slow(stream: H2Stream) -> None:
        await stream.send_headers(200)
        await stream.send_data(b"one-")
        await broken_failed.wait()
        await stream.send_data(b"two", end_stream=True)

    server = await raw_h2(routed({"/broken": broken, "/slow": slow}))
    async with h2c_session() as session:
        broken_resp = await session.get(server.url / "broken")
        await until(lambda: len(server.streams) == 1)
        slow_resp = await session.get(server.url / "slow")
        assert broken_resp.status == slow_resp.status == 200
        head_seen.set()
        with pytest.raises(airhttp.ClientPayloadError) as info:
            await broken_resp.read()
        assert type(info.value) is airhttp.ClientPayloadError
        assert "HTTP/2 stream 1 reset by the server (INTERNAL_ERROR)" in str(info.value)
        broken_failed.set()
        assert await slow_resp.read() == b"one-two"
        broken_resp.release()
        slow_resp.release()
        assert await get_text(session, server.url / "later") == (200, "/later")
    assert [s.path for s in server.streams] == ["/broken", "/slow", "/later"]
    assert server.connections == 1


async def test_reset_concurrent_stream_unaffected(raw_h2: RawH2Factory) -> None:
    async def reset(stream: H2Stream) -> None:
        await stream.reset(ErrorCode.CANCEL)

    async def ok(stream: H2Stream) -> None:
        # Answered only once both of the other request's streams were reset.
        await until(lambda: sum(s.path == "/reset" for s in server.streams) == 2)
        await stream.respond(200, body=b"fine")

    server = await raw_h2(routed({"/reset": reset, "/ok": ok}))
    async with h2c_session() as session:
        failing = asyncio.ensure_future(session.get(server.url / "reset"))
        status, text = await get_text(session, server.url / "ok")
        with pytest.raises(airhttp.ServerDisconnectedError):
            await failing
    assert (status, text) == (200, "fine")
    assert server.connections == 1


# --- malformed response header blocks (RFC 9113 8.2, 8.3.2) ---------------------------------

MALFORMED = [
    pytest.param(
        [(":status", "200"), ("X-Upper", "1")], "Invalid HTTP header: b'X-Upper'", id="uppercase"
    ),
    pytest.param(
        [(":status", "200"), ("connection", "keep-alive")],
        "Invalid HTTP header: b'connection'",
        id="connection",
    ),
    pytest.param(
        [(":status", "200"), ("transfer-encoding", "chunked")],
        "Invalid HTTP header: b'transfer-encoding'",
        id="transfer-encoding",
    ),
    pytest.param(
        [(":status", "200"), ("x-a", "1"), (":status", "200")],
        "Pseudo-header field ':status' not allowed here",
        id="pseudo-after-regular",
    ),
    pytest.param(
        [("x-a", "1"), (":status", "200")],
        "Response header block without :status first",
        id="status-not-first",
    ),
    pytest.param(
        [("content-length", "0")], "Response header block without :status first", id="no-status"
    ),
    pytest.param([(":status", "20x")], "Invalid :status '20x'", id="status-not-digits"),
    pytest.param([(":status", "2000")], "Invalid :status '2000'", id="status-4-digits"),
    pytest.param(
        [(":status", "200"), (":path", "/")],
        "Pseudo-header field ':path' not allowed here",
        id="request-pseudo",
    ),
    pytest.param([(":status", "200"), ("x-a", "a\x00b")], "x-a: a\\x00b", id="value-nul"),
    pytest.param([(":status", "200"), ("x-a", "a\rb")], "x-a: a\\rb", id="value-cr"),
    pytest.param([(":status", "200"), ("x-a", "a\nb")], "x-a: a\\nb", id="value-lf"),
    pytest.param([(":status", "200"), ("x-a", " lead")], "x-a:  lead", id="value-leading-space"),
    pytest.param(
        [(":status", "200"), ("x-a", "trail\t")], "x-a: trail\\t", id="value-trailing-tab"
    ),
    # h2 refuses these itself, for the whole connection: a stream error all the same.
    pytest.param(
        [(":status", "200"), ("content-length", "abc")], "content-length: abc", id="length-abc"
    ),
    pytest.param(
        [(":status", "200"), ("content-length", "-1")], "content-length: -1", id="length-minus"
    ),
]


async def head_only(stream: H2Stream, fields: list[tuple[str, str]]) -> None:
    """Send `fields` as the head (stream left open), then, once the client reset the stream,
    a DATA frame that crossed the RST_STREAM (RFC 9113 5.1: the client must ignore it)."""
    await stream.send_raw_headers(fields)
    await until(lambda: stream.client_reset is not None)
    stream.connection.send_raw(
        DataFrame(stream.stream_id, b"late", flags=["END_STREAM"]).serialize()
    )


@pytest.mark.parametrize(("fields", "message"), MALFORMED)
async def test_malformed_head_fails_stream_only(
    raw_h2: RawH2Factory, fields: list[tuple[str, str]], message: str
) -> None:
    async def bad(stream: H2Stream) -> None:
        await head_only(stream, fields)

    server = await raw_h2(routed({"/bad": bad}))
    async with h2c_session() as session:
        with pytest.raises(airhttp.ClientResponseError) as info:
            await session.get(server.url / "bad")
        assert type(info.value) is airhttp.ClientResponseError
        assert info.value.status == 400
        assert message in info.value.message
        await until(lambda: server.streams[0].client_reset is not None)
        assert server.streams[0].client_reset == ErrorCode.PROTOCOL_ERROR
        assert await get_text(session, server.url / "next") == (200, "/next")
    assert [s.path for s in server.streams] == ["/bad", "/next"]  # not retried
    assert server.connections == 1
    assert server.protocol_errors == []


@pytest.mark.parametrize("how", ["end-stream-on-headers", "body-in-same-read"])
async def test_malformed_head_of_complete_response(raw_h2: RawH2Factory, how: str) -> None:
    """The usual case: a server sends the malformed head and the end of the stream at once."""

    async def bad(stream: H2Stream) -> None:
        if how == "end-stream-on-headers":
            await stream.send_raw_headers([(":status", "204"), ("X-Upper", "1")], end_stream=True)
        else:
            await stream.respond(200, [("X-Upper", "1")], b"body")

    server = await raw_h2(routed({"/bad": bad}))
    async with h2c_session() as session:
        with pytest.raises(airhttp.ClientResponseError) as info:
            await session.get(server.url / "bad")
        assert info.value.status == 400
        assert info.value.message == "Invalid HTTP header: b'X-Upper'"
        assert await get_text(session, server.url / "next") == (200, "/next")
    assert [s.path for s in server.streams] == ["/bad", "/next"]
    assert server.connections == 1


async def test_malformed_head_concurrent_stream_unaffected(raw_h2: RawH2Factory) -> None:
    async def bad(stream: H2Stream) -> None:
        await until(lambda: len(server.streams) == 2)
        await head_only(stream, [(":status", "200"), ("Bad", "1")])

    async def good(stream: H2Stream) -> None:
        await stream.send_headers(200)
        await until(lambda: server.streams[0].client_reset is not None)
        await stream.send_data(b"good", end_stream=True)

    server = await raw_h2(routed({"/bad": bad, "/good": good}))
    async with h2c_session() as session:
        failing = asyncio.ensure_future(session.get(server.url / "bad"))
        await until(lambda: len(server.streams) == 1)
        status, text = await get_text(session, server.url / "good")
        with pytest.raises(airhttp.ClientResponseError) as info:
            await failing
    assert info.value.status == 400
    assert (status, text) == (200, "good")
    assert server.streams[0].client_reset == ErrorCode.PROTOCOL_ERROR
    assert server.connections == 1


# --- header limits on the decoded list ------------------------------------------------------


def count_from_path(stream: H2Stream) -> int:
    return int(stream.path.rsplit("/", 1)[1])


async def test_too_many_headers(raw_h2: RawH2Factory) -> None:
    async def many(stream: H2Stream) -> None:
        fields = [(":status", "200"), *((f"x-h{i}", "v") for i in range(count_from_path(stream)))]
        if len(fields) > 11:
            await head_only(stream, fields)
        else:
            await stream.respond(200, fields[1:], b"ok")  # adds content-length

    server = await raw_h2(many)
    async with h2c_session(max_headers=10) as session:
        assert await get_text(session, server.url / "9") == (200, "ok")  # 9 + content-length
        with pytest.raises(airhttp.ClientResponseError) as info:
            await session.get(server.url / "11")
        assert type(info.value) is airhttp.ClientResponseError
        assert info.value.status == 400
        assert info.value.message == "Too many headers received"
        assert await get_text(session, server.url / "0") == (200, "ok")
    assert server.streams[1].client_reset == ErrorCode.PROTOCOL_ERROR
    assert server.connections == 1


async def test_field_too_long(raw_h2: RawH2Factory) -> None:
    async def long_value(stream: H2Stream) -> None:
        size = count_from_path(stream)
        if size > 92:
            await head_only(stream, [(":status", "200"), ("x-long", "v" * size)])
        else:
            await stream.respond(200, [("x-long", "v" * size)], b"ok")

    server = await raw_h2(long_value)
    async with h2c_session(max_field_size=100) as session:
        # name + ": " + value: 6 + 2 + 92 == 100 fits.
        assert await get_text(session, server.url / "92") == (200, "ok")
        with pytest.raises(airhttp.ClientResponseError) as info:
            await session.get(server.url / "93")
        assert info.value.status == 400
        assert info.value.message == "Got more than 100 bytes when reading: b'x-long...'."
        assert await get_text(session, server.url / "1") == (200, "ok")
    assert server.streams[1].client_reset == ErrorCode.PROTOCOL_ERROR
    assert server.connections == 1


@pytest.mark.parametrize(
    ("options", "trailers", "message"),
    [
        pytest.param(
            {"max_headers": 3},
            [(f"x-t{i}", "v") for i in range(4)],
            "Too many headers received",
            id="too-many",
        ),
        pytest.param(
            {"max_field_size": 50},
            [("x-t", "v" * 60)],
            "Got more than 50 bytes when reading",
            id="too-long",
        ),
        pytest.param({}, [("X-T", "v")], "Invalid HTTP header: b'X-T'", id="uppercase"),
        pytest.param({}, [(":status", "200")], "Pseudo-header field", id="pseudo"),
    ],
)
async def test_bad_trailers_fail_body(
    raw_h2: RawH2Factory, options: dict[str, int], trailers: list[tuple[str, str]], message: str
) -> None:
    head_seen = asyncio.Event()

    async def handler(stream: H2Stream) -> None:
        if stream.path == "/next":
            await stream.respond(200, body=b"next")
            return
        await stream.send_headers(200)
        await stream.send_data(b"body")
        await head_seen.wait()
        await stream.send_trailers(trailers)

    server = await raw_h2(handler)
    async with h2c_session(**options) as session:
        async with session.get(server.url / "t") as resp:
            assert resp.status == 200
            head_seen.set()
            with pytest.raises(airhttp.ClientPayloadError) as info:
                await resp.read()
        assert type(info.value) is airhttp.ClientPayloadError
        assert message in str(info.value)
        assert await get_text(session, server.url / "next") == (200, "next")
    assert server.connections == 1


# --- flow control, timeouts ----------------------------------------------------------------


async def test_upload_stalls_at_server_window_then_times_out(raw_h2: RawH2Factory) -> None:
    window = 16384

    async def handler(stream: H2Stream) -> None:
        await stream.read_body()
        await stream.respond(200, body=b"got %d" % len(stream.body))

    server = await raw_h2(handler, initial_window=window, window_updates=False)
    async with h2c_session() as session:
        upload = asyncio.ensure_future(
            session.post(
                server.url / "up",
                data=b"x" * 2**20,
                timeout=airhttp.ClientTimeout(total=0.3),
            )
        )
        await until(lambda: server.received_bytes >= window)
        # Meanwhile the connection serves others.
        assert await get_text(session, server.url / "during") == (200, "got 0")
        with pytest.raises(asyncio.TimeoutError) as info:
            await upload
        assert type(info.value) is asyncio.TimeoutError  # as aiohttp's total timeout
        assert server.received_bytes == window
        await until(lambda: server.streams[0].client_reset is not None)
        assert server.streams[0].client_reset == ErrorCode.CANCEL
        assert await get_text(session, server.url / "after") == (200, "got 0")
    assert server.received_bytes == window
    assert server.connections == 1


async def test_sock_read_per_stream(raw_h2: RawH2Factory) -> None:
    async def silent(stream: H2Stream) -> None:
        await forever()

    async def answered(stream: H2Stream) -> None:
        # Answered after the other stream timed out: the connection outlives it.
        await until(lambda: server.streams[0].client_reset is not None)
        await stream.respond(200, body=b"answered")

    server = await raw_h2(routed({"/silent": silent, "/answered": answered}))
    async with h2c_session() as session:
        timeout = airhttp.ClientTimeout(sock_read=0.3)
        silent_req = asyncio.ensure_future(session.get(server.url / "silent", timeout=timeout))
        await until(lambda: len(server.streams) == 1)
        loop = asyncio.get_running_loop()
        started = loop.time()
        status, text = await get_text(session, server.url / "answered")
        with pytest.raises(airhttp.SocketTimeoutError) as info:
            await silent_req
        elapsed = loop.time() - started
    assert type(info.value) is airhttp.SocketTimeoutError
    assert isinstance(info.value, airhttp.ServerTimeoutError)
    assert (status, text) == (200, "answered")
    assert 0.25 <= elapsed < 1.0
    assert server.streams[0].client_reset == ErrorCode.CANCEL
    assert [s.path for s in server.streams] == ["/silent", "/answered"]  # no retry
    assert server.connections == 1


# --- the client ends a stream early; the server ends one early ------------------------------


async def test_release_mid_body_resets_stream_only(raw_h2: RawH2Factory) -> None:
    async def big(stream: H2Stream) -> None:
        await stream.send_headers(200)
        # More than the stream's window: the rest waits, then meets the client's reset.
        await stream.send_data(b"z" * (3 * 2**20), end_stream=True)

    server = await raw_h2(routed({"/big": big}))
    async with h2c_session() as session:
        resp = await session.get(server.url / "big")
        assert len(await resp.content.read(1000)) > 0
        resp.release()
        await until(lambda: server.streams[0].client_reset is not None)
        assert server.streams[0].client_reset == ErrorCode.CANCEL
        assert await get_text(session, server.url / "next") == (200, "/next")
    assert server.connections == 1


@pytest.mark.parametrize(
    "same_read",
    [
        True,
        False,
    ],
    ids=["same-read", "later-read"],
)
async def test_complete_response_then_reset_no_error_is_kept(
    raw_h2: RawH2Factory, same_read: bool
) -> None:
    """RFC 9113 8.1: a server may answer before the request body is all sent, then reset
    the stream with NO_ERROR; the client must not discard the response."""
    got_head = asyncio.Event()
    reset_sent = asyncio.Event()

    async def early(stream: H2Stream) -> None:
        if stream.method == "GET":
            # Frames after the reset: once the client has this answer, it had the reset.
            await reset_sent.wait()
            await stream.respond(200, body=b"next")
            return
        await until(lambda: len(stream.body) > 0)
        await stream.respond(413, body=b"too big")
        if not same_read:
            await got_head.wait()
        await stream.reset(ErrorCode.NO_ERROR)
        reset_sent.set()

    server = await raw_h2(early, initial_window=1024, window_updates=False)
    async with h2c_session() as session:
        async with session.post(server.url / "up", data=b"x" * 2**20) as resp:
            assert resp.status == 413
            got_head.set()
            assert await get_text(session, server.url / "next") == (200, "next")
            assert await resp.read() == b"too big"
        assert server.received_bytes == 1024
    assert server.connections == 1

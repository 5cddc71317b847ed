"""ResponseHandler's flow control, sock_read timer and compressed bodies (fake transport).

No sockets here: bytes go in through get_buffer/buffer_updated and data_received.
tests/test_read_flow_control.py checks the same bounds over real sockets.
"""

from __future__ import annotations

import asyncio
import gzip

import pytest

from airhttp.client_exceptions import ClientPayloadError, SocketTimeoutError
from airhttp.client_proto import ResponseHandler
from airhttp.http_exceptions import ContentEncodingError
from airhttp.streams import StreamReader

from .proto_support import (
    OK_HEAD,
    FakeTransport,
    callback_counter,
    connect,
    feed,
    gzip_head,
    ok,
    settings,
)


@pytest.fixture
async def conn() -> tuple[ResponseHandler, FakeTransport]:
    return connect(asyncio.get_running_loop())


# --- read pausing ---------------------------------------------------------------------


def streaming(proto: ResponseHandler) -> StreamReader:
    """Start a 1000-byte body with read_bufsize 100 (pause above 200): its stream."""
    proto.expect_response("GET", settings(read_bufsize=100))
    feed(proto, OK_HEAD % 1000)
    return proto.payload()


async def test_streamed_body_pauses_transport_above_twice_read_bufsize_and_resumes_below(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, transport = conn
    payload = streaming(proto)
    feed(proto, b"a" * 200)
    assert transport.pauses == 0
    feed(proto, b"b")
    # Asked for at once, told to the transport one loop step later.
    assert proto.reading_paused
    assert transport.pauses == 0
    await asyncio.sleep(0)
    assert transport.pauses == 1
    assert not transport.reading
    assert await payload.read(100) == b"a" * 100
    # 101 bytes left: still at or above the low-water mark.
    assert not transport.reading
    assert await payload.read(2) == b"aa"
    assert transport.reading
    assert transport.resumes == 1
    feed(proto, b"c" * 799)
    body = await payload.read()
    assert body == b"a" * 98 + b"b" + b"c" * 799
    assert proto.body_complete


async def test_a_pause_drained_within_the_same_loop_step_never_reaches_the_transport(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, transport = conn
    payload = streaming(proto)
    feed(proto, b"a" * 300)
    assert proto.reading_paused
    assert await payload.read(250) == b"a" * 250
    assert not proto.reading_paused
    await asyncio.sleep(0)
    assert (transport.pauses, transport.resumes) == (0, 0)
    assert transport.reading


async def test_a_pause_still_due_when_the_connection_is_lost_is_dropped(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, transport = conn
    streaming(proto)
    feed(proto, b"a" * 300)
    proto.connection_lost(None)
    await asyncio.sleep(0)
    assert transport.pauses == 0


async def test_a_second_read_within_one_loop_step_pauses_the_transport_at_once(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    # uvloop reads up to 32 times per wake-up: the read after the one that asked for the
    # pause applies it, so at most one read more than asked for gets in.
    proto, transport = conn
    payload = streaming(proto)
    feed(proto, b"a" * 300)
    assert transport.pauses == 0
    feed(proto, b"b" * 300)
    assert (transport.pauses, transport.reading) == (1, False)
    await asyncio.sleep(0)
    assert transport.pauses == 1
    assert await payload.read(600) == b"a" * 300 + b"b" * 300
    assert (transport.resumes, transport.reading) == (1, True)


async def test_pause_resume_pause_within_one_loop_step_pauses_once(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, transport = conn
    payload = streaming(proto)
    proto.pause_reading()
    proto.resume_reading()
    proto.pause_reading()
    await asyncio.sleep(0)
    assert (transport.pauses, transport.resumes, transport.reading) == (1, 0, False)
    proto.resume_reading()
    assert (transport.resumes, transport.reading) == (1, True)
    feed(proto, b"x" * 1000)
    assert await payload.read() == b"x" * 1000


# --- sock_read -------------------------------------------------------------------------


async def test_head_not_arriving_within_sock_read_fails_with_socket_timeout(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, transport = conn
    waiter = proto.expect_response("GET", settings(sock_read=0.05))
    with pytest.raises(SocketTimeoutError):
        await asyncio.wait_for(waiter, 1)
    assert transport.closed
    assert proto.should_close


async def test_body_stalling_past_sock_read_fails_payload_with_socket_timeout(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, transport = conn
    proto.expect_response("GET", settings(sock_read=0.05))
    feed(proto, OK_HEAD % 10 + b"12")
    payload = proto.payload()
    calls, callback = callback_counter()
    proto.on_complete(callback)
    with pytest.raises(SocketTimeoutError):
        await asyncio.wait_for(payload.read(), 1)
    assert transport.closed
    assert calls == [1]


async def test_arriving_data_pushes_back_sock_read_timer(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, transport = conn
    loop = asyncio.get_running_loop()
    waiter = proto.expect_response("GET", settings(sock_read=0.05))
    data = ok(b"x")
    start = loop.time()
    for byte in data[:4]:
        await asyncio.sleep(0.03)
        assert not waiter.done()
        feed(proto, bytes([byte]))
    # Well past one sock_read since expect_response, but never 0.05 s without data.
    assert loop.time() - start > 0.1
    feed(proto, data[4:])
    assert (await waiter).code == 200
    assert not transport.closed


async def test_sock_read_timer_stops_when_message_completes(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, transport = conn
    proto.expect_response("GET", settings(sock_read=0.05))
    feed(proto, OK_HEAD % 4 + b"ab")
    feed(proto, b"cd")
    await asyncio.sleep(0.12)
    assert not transport.closed
    assert not proto.should_close
    assert await proto.payload().read() == b"abcd"


async def test_time_while_reading_is_paused_does_not_count(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, transport = conn
    proto.expect_response("GET", settings(sock_read=0.05, read_bufsize=10))
    feed(proto, OK_HEAD % 40 + b"a" * 25)
    payload = proto.payload()
    assert proto.reading_paused
    await asyncio.sleep(0.2)
    assert not transport.reading
    assert payload.exception() is None
    assert not transport.closed
    assert await payload.read(25) == b"a" * 25
    assert transport.reading
    feed(proto, b"b" * 15)
    assert proto.body_complete
    assert await payload.read() == b"b" * 15


async def test_sock_read_runs_again_after_reading_resumes(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, transport = conn
    proto.expect_response("GET", settings(sock_read=0.05, read_bufsize=10))
    feed(proto, OK_HEAD % 40 + b"a" * 25)
    payload = proto.payload()
    await asyncio.sleep(0.1)
    assert await payload.read(25) == b"a" * 25
    with pytest.raises(SocketTimeoutError):
        await asyncio.wait_for(payload.read(), 1)
    assert transport.closed


async def test_resumed_reading_gets_a_full_sock_read_window(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    sock_read = 0.2
    proto, transport = conn
    proto.expect_response("GET", settings(sock_read=sock_read, read_bufsize=10))
    feed(proto, OK_HEAD % 40 + b"a" * 25)
    payload = proto.payload()
    assert proto.reading_paused
    # Paused for 2.5 windows: the timer rechecks at 1 and 2 windows, next at 3.
    await asyncio.sleep(2.5 * sock_read)
    assert await payload.read(25) == b"a" * 25
    assert transport.reading
    # 0.75 of a window after resuming: the peer has not been waited on for a full window.
    await asyncio.sleep(0.75 * sock_read)
    assert payload.exception() is None
    assert not transport.closed


# --- compressed bodies -----------------------------------------------------------------


async def test_gzip_body_in_one_read_is_decoded_through_stream(
    conn: tuple[ResponseHandler, FakeTransport], made_readers: list[StreamReader]
) -> None:
    proto, _ = conn
    body = b"compressed " * 100
    data = gzip.compress(body)
    waiter = proto.expect_response("GET")
    feed(proto, gzip_head(len(data)) + data)
    assert (await waiter).compression == "gzip"
    assert proto.take_body() is None
    assert len(made_readers) == 1
    assert await proto.payload().read() == body
    assert proto.body_complete
    assert not proto.should_close


async def test_gzip_body_over_many_reads_is_decoded(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    body = bytes(range(256)) * 64
    data = gzip.compress(body)
    proto.expect_response("GET")
    feed(proto, gzip_head(len(data)))
    calls, callback = callback_counter()
    proto.on_complete(callback)
    for i in range(0, len(data), 7):
        feed(proto, data[i : i + 7])
    assert calls == [1]
    assert await proto.payload().read() == body


async def test_gzip_body_is_left_alone_without_auto_decompress(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    data = gzip.compress(b"raw please")
    proto.expect_response("GET", settings(auto_decompress=False))
    feed(proto, gzip_head(len(data)) + data)
    assert proto.take_body() == data


async def test_corrupt_gzip_body_fails_payload_with_client_payload_error(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, transport = conn
    data = b"\x1f\x8b\x08\x00garbage-not-deflate"
    proto.expect_response("GET")
    feed(proto, gzip_head(len(data)) + data)
    with pytest.raises(ClientPayloadError) as info:
        await proto.payload().read()
    assert isinstance(info.value.__cause__, ContentEncodingError)
    assert transport.closed
    assert proto.should_close


async def test_gzip_body_expands_in_bounded_steps_and_resumes_when_reader_drains(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    bufsize = 256
    proto, transport = conn
    body = b"\0" * (256 * 1024)
    data = gzip.compress(body)
    assert len(data) < 2 * bufsize * 4
    proto.expect_response("GET", settings(read_bufsize=bufsize))
    calls, callback = callback_counter()
    proto.on_complete(callback)
    # The whole compressed body arrives in one read.
    feed(proto, gzip_head(len(data)) + data)
    payload = proto.payload()
    assert proto.reading_paused
    assert not proto.body_complete
    assert calls == []
    largest = 0
    pieces: list[bytes] = []
    while True:
        piece = await payload.readany()
        if not piece:
            break
        largest = max(largest, len(piece))
        pieces.append(piece)
    assert largest <= 4 * bufsize
    assert len(pieces) > len(body) // (4 * bufsize)
    assert b"".join(pieces) == body
    # The reader drained each pause within its loop step, so none reached the transport.
    assert (transport.pauses, transport.resumes) == (0, 0)
    assert transport.reading
    assert proto.body_complete
    assert calls == [1]
    assert not proto.should_close


async def test_gzip_body_received_whole_survives_connection_lost_while_reader_is_full(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    bufsize = 256
    proto, _ = conn
    body = b"\0" * (64 * 1024)
    data = gzip.compress(body)
    proto.expect_response("GET", settings(read_bufsize=bufsize))
    feed(proto, gzip_head(len(data)) + data)
    payload = proto.payload()
    # The server closes after a complete response, as with Connection: close.
    proto.connection_lost(None)
    assert await payload.read() == body

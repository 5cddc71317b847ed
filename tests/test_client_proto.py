"""Tests for airhttp.client_proto.ResponseHandler, driven through a fake transport.

No sockets here: bytes go in through get_buffer/buffer_updated and data_received.
"""

from __future__ import annotations

import asyncio

import pytest

from airhttp.client_exceptions import (
    ClientOSError,
    ClientPayloadError,
    ServerDisconnectedError,
)
from airhttp.client_proto import ResponseHandler
from airhttp.http_exceptions import (
    BadStatusLine,
    ContentLengthError,
    HttpProcessingError,
    TransferEncodingError,
)
from airhttp.streams import StreamReader

from .proto_support import (
    OK_HEAD,
    FakeTransport,
    callback_counter,
    connect,
    feed,
    ok,
    settings,
)


@pytest.fixture
async def conn() -> tuple[ResponseHandler, FakeTransport]:
    return connect(asyncio.get_running_loop())


# --- the head and the body ------------------------------------------------------------


async def test_head_future_resolves_with_parsed_head(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    waiter = proto.expect_response("GET")
    assert not waiter.done()
    feed(proto, b"HTTP/1.1 201 Created\r\nX-Thing: a\r\nX-Thing: b\r\nContent-Length: 0\r\n\r\n")
    message = await waiter
    assert message.code == 201
    assert message.reason == "Created"
    assert (message.version.major, message.version.minor) == (1, 1)
    assert message.headers.getall("x-thing") == ["a", "b"]
    assert message.content_length == 0
    assert not message.should_close


async def test_head_split_over_reads_resolves_only_once_complete(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    waiter = proto.expect_response("GET")
    data = ok(b"hello")
    for i in range(len(data) - 6):
        feed(proto, data[i : i + 1])
        assert not waiter.done()
    feed(proto, data[-6:])
    assert (await waiter).code == 200
    assert proto.take_body() == b"hello"


async def test_body_in_same_read_is_taken_whole_without_stream_reader(
    conn: tuple[ResponseHandler, FakeTransport], made_readers: list[StreamReader]
) -> None:
    proto, _ = conn
    waiter = proto.expect_response("GET")
    feed(proto, ok(b"hello world"))
    assert (await waiter).code == 200
    assert proto.body_complete
    assert proto.take_body() == b"hello world"
    assert proto.take_body() is None
    assert made_readers == []
    assert not proto.should_close


async def test_chunked_body_in_same_read_is_joined_whole(
    conn: tuple[ResponseHandler, FakeTransport], made_readers: list[StreamReader]
) -> None:
    proto, _ = conn
    proto.expect_response("GET")
    feed(
        proto,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    )
    assert proto.body_complete
    assert proto.take_body() == b"hello world"
    assert made_readers == []
    assert not proto.should_close


async def test_head_response_has_empty_body_despite_content_length(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    waiter = proto.expect_response("HEAD")
    feed(proto, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    assert (await waiter).content_length == 1000
    assert proto.body_complete
    assert proto.take_body() == b""
    assert not proto.should_close


async def test_body_over_several_reads_streams_through_payload(
    conn: tuple[ResponseHandler, FakeTransport], made_readers: list[StreamReader]
) -> None:
    proto, _ = conn
    waiter = proto.expect_response("GET")
    feed(proto, OK_HEAD % 11 + b"hel")
    await waiter
    assert not proto.body_complete
    assert proto.take_body() is None
    payload = proto.payload()
    assert made_readers == [payload]
    assert proto.payload() is payload
    feed(proto, b"lo wo")
    proto.data_received(b"rld")
    assert proto.body_complete
    assert await payload.read() == b"hello world"
    assert len(made_readers) == 1
    assert not proto.should_close


async def test_payload_asked_for_after_whole_body_holds_that_body(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    proto.expect_response("GET")
    feed(proto, ok(b"abc"))
    payload = proto.payload()
    assert await payload.read() == b"abc"
    assert payload.at_eof()
    assert proto.take_body() is None


# --- interim responses and upgrades ----------------------------------------------------


async def test_interim_1xx_responses_are_skipped(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    waiter = proto.expect_response("GET")
    feed(proto, b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n")
    assert not waiter.done()
    feed(proto, b"HTTP/1.1 102 Processing\r\n\r\n" + ok(b"done"))
    message = await waiter
    assert message.code == 200
    assert "Link" not in message.headers
    assert proto.take_body() == b"done"
    assert not proto.should_close


async def test_100_continue_resolves_continue_waiter(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    cont: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
    waiter = proto.expect_response("POST", continue_waiter=cont)
    feed(proto, b"HTTP/1.1 100 Continue\r\n\r\n")
    assert cont.done()
    assert cont.result() is True
    assert not waiter.done()
    feed(proto, ok(b"stored"))
    assert (await waiter).code == 200
    assert proto.take_body() == b"stored"


async def test_101_sets_upgraded_and_upgrade_tail_returns_following_bytes(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, transport = conn
    waiter = proto.expect_response("GET", settings(sock_read=0.05))
    feed(
        proto,
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\n\r\n\x81\x02hi",
    )
    message = await waiter
    assert message.code == 101
    assert message.upgrade
    assert proto.upgraded
    proto.data_received(b"\x81\x03abc")
    feed(proto, b"!")
    assert proto.upgrade_tail() == b"\x81\x02hi\x81\x03abc!"
    assert proto.upgrade_tail() == b""
    assert proto.should_close
    # The new protocol owns the connection now: no read timeout and no EOF error here.
    await asyncio.sleep(0.1)
    assert not transport.closed
    assert proto.eof_received() is False
    proto.connection_lost(None)
    assert proto.closed.done()


async def test_connect_2xx_hands_following_bytes_over_as_tunnel(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    waiter = proto.expect_response("CONNECT")
    feed(proto, b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01")
    assert (await waiter).code == 200
    assert proto.upgraded
    assert proto.upgrade_tail() == b"\x16\x03\x01"


# --- should_close ----------------------------------------------------------------------


async def test_fully_read_keep_alive_response_can_be_reused(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    assert proto.is_connected()
    proto.expect_response("GET")
    feed(proto, ok(b"x"))
    assert not proto.should_close
    assert proto.is_connected()


async def test_should_close_while_request_bytes_are_still_unsent(
    conn: tuple[ResponseHandler, FakeTransport],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proto, transport = conn
    proto.expect_response("POST")
    feed(proto, ok(b"x"))
    # The server answered before reading the whole upload: bytes wait in the transport.
    monkeypatch.setattr(transport, "get_write_buffer_size", lambda: 4096)
    assert proto.should_close


async def test_should_close_after_connection_close_header(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    proto.expect_response("GET")
    feed(proto, ok(b"x", b"Connection: close"))
    assert proto.body_complete
    assert proto.should_close


async def test_should_close_after_http_10_response(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    proto.expect_response("GET")
    feed(proto, b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx")
    assert proto.body_complete
    assert proto.should_close


async def test_http_10_keep_alive_response_can_be_reused(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    proto.expect_response("GET")
    feed(proto, b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx")
    assert not proto.should_close


async def test_should_close_after_read_until_close_body(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    proto.expect_response("GET")
    feed(proto, b"HTTP/1.1 200 OK\r\n\r\nsome")
    payload = proto.payload()
    assert proto.should_close
    feed(proto, b" more")
    assert proto.eof_received() is False
    assert proto.body_complete
    assert await payload.read() == b"some more"
    assert proto.should_close


async def test_should_close_while_body_is_unread(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    proto.expect_response("GET")
    feed(proto, OK_HEAD % 10 + b"12345")
    assert proto.should_close
    feed(proto, b"67890")
    assert not proto.should_close


async def test_should_close_with_leftover_bytes_after_message(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    proto.expect_response("GET")
    feed(proto, ok(b"x") + b"HTTP/1.1 200 OK\r\n")
    assert proto.body_complete
    assert proto.take_body() == b"x"
    assert proto.should_close


async def test_should_close_after_peer_eof(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    proto.expect_response("GET")
    feed(proto, ok(b"x"))
    assert not proto.should_close
    assert proto.eof_received() is False
    assert proto.should_close
    assert not proto.is_connected()
    assert proto.take_body() == b"x"


async def test_should_close_after_an_exception(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, transport = conn
    proto.expect_response("GET")
    feed(proto, ok(b"x"))
    assert not proto.should_close
    proto.fail(RuntimeError("boom"))
    assert proto.should_close
    assert transport.closed
    # The message was complete: its body is untouched by the failure.
    assert proto.take_body() == b"x"


async def test_should_close_once_transport_is_gone(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, transport = conn
    proto.expect_response("GET")
    feed(proto, ok(b"x"))
    proto.close()
    assert transport.closed
    assert proto.transport is None
    assert proto.should_close
    assert not proto.is_connected()


async def test_abort_aborts_the_transport(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, transport = conn
    proto.abort()
    assert transport.aborted
    assert not transport.closed
    assert proto.transport is None


# --- errors ----------------------------------------------------------------------------


async def test_malformed_head_fails_head_waiter_and_closes_transport(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, transport = conn
    waiter = proto.expect_response("GET")
    feed(proto, b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(BadStatusLine) as info:
        await waiter
    assert isinstance(info.value, HttpProcessingError)
    assert transport.closed
    assert proto.should_close


async def test_malformed_chunk_mid_body_fails_payload_with_client_payload_error(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, transport = conn
    proto.expect_response("GET")
    feed(proto, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
    payload = proto.payload()
    calls, callback = callback_counter()
    proto.on_complete(callback)
    feed(proto, b"zz\r\n")
    with pytest.raises(ClientPayloadError) as info:
        await payload.read()
    assert str(info.value).startswith("Response payload is not completed")
    assert isinstance(info.value.__cause__, TransferEncodingError)
    assert transport.closed
    assert calls == [1]


async def test_truncated_body_then_eof_fails_payload_as_not_completed(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    proto.expect_response("GET")
    feed(proto, OK_HEAD % 10 + b"1234")
    payload = proto.payload()
    calls, callback = callback_counter()
    proto.on_complete(callback)
    proto.eof_received()
    with pytest.raises(ClientPayloadError) as info:
        await payload.read()
    assert str(info.value).startswith("Response payload is not completed")
    assert isinstance(info.value.__cause__, ContentLengthError)
    assert calls == [1]
    assert proto.should_close
    proto.connection_lost(None)
    assert calls == [1]


async def test_truncated_body_then_connection_lost_fails_payload_as_not_completed(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    proto.expect_response("GET")
    feed(proto, OK_HEAD % 10 + b"1234")
    payload = proto.payload()
    proto.connection_lost(None)
    with pytest.raises(ClientPayloadError, match=r"^Response payload is not completed"):
        await payload.read()
    assert proto.closed.done()


async def test_connection_lost_before_head_fails_with_server_disconnected(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    waiter = proto.expect_response("GET", settings(sock_read=0.05))
    proto.connection_lost(None)
    with pytest.raises(ServerDisconnectedError):
        await waiter
    assert proto.closed.done()
    assert proto.should_close


@pytest.mark.parametrize("received", [b"", b"HTTP/1.1 200 OK\r\nContent-"])
async def test_eof_then_connection_lost_before_head_fails_with_server_disconnected(
    conn: tuple[ResponseHandler, FakeTransport], received: bytes
) -> None:
    # As aiohttp: no head, or a valid one cut short by the close, is a disconnection.
    proto, _ = conn
    waiter = proto.expect_response("GET")
    if received:
        feed(proto, received)
    proto.eof_received()
    assert not waiter.done()
    proto.connection_lost(None)
    with pytest.raises(ServerDisconnectedError):
        await waiter


async def test_connection_lost_with_oserror_before_head_fails_with_client_os_error(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    waiter = proto.expect_response("GET")
    proto.connection_lost(ConnectionResetError(104, "Connection reset by peer"))
    with pytest.raises(ClientOSError) as info:
        await waiter
    assert info.value.errno == 104
    assert proto.closed.done()


async def test_broken_half_head_then_eof_fails_head_waiter_with_http_error(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, transport = conn
    waiter = proto.expect_response("GET")
    feed(proto, b"HTTP/1.1 200 OK\r\nNo colon here\r\nContent-")
    proto.eof_received()
    with pytest.raises(HttpProcessingError):
        await waiter
    assert transport.closed


async def test_expect_response_on_lost_connection_fails_at_once(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    proto.connection_lost(None)
    waiter = proto.expect_response("GET")
    with pytest.raises(ServerDisconnectedError):
        await waiter


# --- fail(): the total timeout path ----------------------------------------------------


async def test_fail_before_head_fails_head_waiter_and_closes_transport(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, transport = conn
    waiter = proto.expect_response("GET", settings(sock_read=0.05))
    error = asyncio.TimeoutError()
    proto.fail(error)
    with pytest.raises(asyncio.TimeoutError) as info:
        await waiter
    assert info.value is error
    assert transport.closed
    assert proto.should_close


async def test_fail_during_body_fails_payload_and_calls_on_complete(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, transport = conn
    waiter = proto.expect_response("GET", settings(sock_read=0.05))
    feed(proto, OK_HEAD % 10 + b"123")
    await waiter
    payload = proto.payload()
    calls, callback = callback_counter()
    proto.on_complete(callback)
    error = asyncio.TimeoutError()
    proto.fail(error)
    assert calls == [1]
    with pytest.raises(asyncio.TimeoutError) as info:
        await payload.read()
    assert info.value is error
    assert transport.closed
    assert proto.should_close
    proto.connection_lost(None)
    assert calls == [1]


async def test_fail_before_payload_is_asked_for_fails_the_stream_made_later(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    proto.expect_response("GET")
    feed(proto, OK_HEAD % 10)
    error = asyncio.TimeoutError()
    proto.fail(error)
    with pytest.raises(asyncio.TimeoutError):
        await proto.payload().read()


# --- on_complete and reuse -------------------------------------------------------------


async def test_on_complete_fires_once_when_whole_body_arrives(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    proto.expect_response("GET")
    calls, callback = callback_counter()
    proto.on_complete(callback)
    feed(proto, ok(b"whole"))
    assert calls == [1]
    proto.eof_received()
    proto.connection_lost(None)
    assert calls == [1]
    assert proto.take_body() == b"whole"


async def test_on_complete_fires_once_when_streamed_body_ends(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    proto.expect_response("GET")
    feed(proto, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
    payload = proto.payload()
    calls, callback = callback_counter()
    proto.on_complete(callback)
    feed(proto, b"2\r\nde\r\n")
    assert calls == []
    feed(proto, b"0\r\n\r\n")
    assert calls == [1]
    assert await payload.read() == b"abcde"
    proto.eof_received()
    proto.connection_lost(None)
    assert calls == [1]


async def test_on_complete_is_not_carried_over_to_the_next_response(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    proto.expect_response("GET")
    feed(proto, OK_HEAD % 3 + b"a")
    calls, callback = callback_counter()
    proto.on_complete(callback)
    proto.on_complete(None)
    feed(proto, b"bc")
    assert calls == []


async def test_two_responses_over_one_protocol_get_fresh_state(
    conn: tuple[ResponseHandler, FakeTransport], made_readers: list[StreamReader]
) -> None:
    proto, transport = conn
    first = proto.expect_response("GET", settings(sock_read=0.05))
    feed(proto, OK_HEAD % 6 + b"one")
    assert (await first).headers["Content-Length"] == "6"
    payload = proto.payload()
    first_calls, first_callback = callback_counter()
    proto.on_complete(first_callback)
    feed(proto, b"one")
    assert first_calls == [1]
    assert await payload.read() == b"oneone"
    assert not proto.should_close

    second = proto.expect_response("GET", settings(sock_read=0.05))
    assert second is not first
    assert not proto.body_complete
    assert proto.take_body() is None
    second_calls, second_callback = callback_counter()
    proto.on_complete(second_callback)
    feed(proto, ok(b"two", b"X-Second: yes"))
    message = await second
    assert message.headers["X-Second"] == "yes"
    assert second_calls == [1]
    assert first_calls == [1]
    assert proto.take_body() == b"two"
    assert made_readers == [payload]
    assert not proto.should_close
    await asyncio.sleep(0.1)
    assert not transport.closed


async def test_response_after_streamed_one_is_not_mixed_with_its_parts(
    conn: tuple[ResponseHandler, FakeTransport],
) -> None:
    proto, _ = conn
    proto.expect_response("GET")
    feed(proto, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n")
    feed(proto, b"0\r\n\r\n")
    assert await proto.payload().read() == b"a"
    proto.expect_response("GET")
    feed(proto, OK_HEAD % 2 + b"b")
    feed(proto, b"c")
    assert await proto.payload().read() == b"bc"

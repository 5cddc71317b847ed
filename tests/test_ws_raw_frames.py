"""airhttp's WebSocket client against servers that speak RFC 6455 by hand: the frames.

The servers (tests/ws_support.py) send frames byte for byte, broken ones too, and parse
the masked frames the client writes back: protocol errors, size limits, pings and pongs,
heartbeats and the send methods. The last section runs some of them with aiohttp's
client too, as the oracle for behaviour meant to match.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import airhttp
from airhttp import WebSocketError, WSCloseCode, WSMsgType

from .conftest import RawServer
from .ws_support import (
    BINARY,
    CLOSE,
    CONT,
    PING,
    PONG,
    TEXT,
    ClientFrame,
    Peer,
    close_body,
    close_frame,
    echo_close,
    hold_until_eof,
    observe_error,
    observe_message,
    observe_state,
    run_both,
    sends,
    serve,
    server_frame,
    wire,
)

# --- frames the server must not send --------------------------------------------------

PROTOCOL_ERROR = WSCloseCode.PROTOCOL_ERROR
BAD_FRAMES = [
    pytest.param(server_frame(TEXT, b"hello", mask_key=b"abcd"), PROTOCOL_ERROR, id="masked"),
    pytest.param(server_frame(TEXT, b"\xff\xfe"), WSCloseCode.INVALID_TEXT, id="bad-utf8"),
    pytest.param(
        server_frame(TEXT, b"ok\xc3", fin=False) + server_frame(CONT, b"("),
        WSCloseCode.INVALID_TEXT,
        id="bad-utf8-across-fragments",
    ),
    pytest.param(server_frame(BINARY, b"x" * 11), WSCloseCode.MESSAGE_TOO_BIG, id="11-bytes"),
    pytest.param(
        server_frame(BINARY, b"x" * 6, fin=False) + server_frame(CONT, b"y" * 5),
        WSCloseCode.MESSAGE_TOO_BIG,
        id="6+5-fragments",
    ),
    pytest.param(server_frame(TEXT, b"x", rsv=2), PROTOCOL_ERROR, id="rsv2"),
    pytest.param(server_frame(TEXT, b"x", rsv=4), PROTOCOL_ERROR, id="rsv1-not-negotiated"),
    pytest.param(server_frame(0x3, b"x"), PROTOCOL_ERROR, id="opcode-3"),
    pytest.param(server_frame(0xB, b"x"), PROTOCOL_ERROR, id="opcode-b"),
    pytest.param(server_frame(CONT, b"x"), PROTOCOL_ERROR, id="continuation-first"),
    pytest.param(
        server_frame(TEXT, b"ab", fin=False) + server_frame(TEXT, b"cd"),
        PROTOCOL_ERROR,
        id="data-inside-fragmented",
    ),
    pytest.param(server_frame(PING, b"x", fin=False), PROTOCOL_ERROR, id="fragmented-ping"),
    pytest.param(server_frame(PING, b"x" * 126), PROTOCOL_ERROR, id="126-byte-ping"),
    pytest.param(server_frame(CLOSE, b"\x03"), PROTOCOL_ERROR, id="close-1-byte"),
    pytest.param(close_frame(1005), PROTOCOL_ERROR, id="close-1005"),
    pytest.param(close_frame(999), PROTOCOL_ERROR, id="close-999"),
    pytest.param(close_frame(1000, b"\xff"), WSCloseCode.INVALID_TEXT, id="close-bad-utf8-reason"),
]


@pytest.mark.parametrize(("frames", "code"), BAD_FRAMES)
async def test_protocol_violation_fails_the_connection(
    raw_server: RawServer, frames: bytes, code: int
) -> None:
    server = await serve(raw_server, sends(frames))
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url, max_msg_size=10)
        msg = await ws.receive()
        assert msg.type is WSMsgType.ERROR
        assert type(msg.data) is WebSocketError
        assert msg.extra is None
        # Everything else at once, so one wrong value does not hide the others.
        # Decisions #5: exception() keeps the error (aiohttp returns None there).
        observed = {
            "error_code": msg.data.code,
            "closed": ws.closed,
            "close_code": ws.close_code,
            "exception_is_the_error": ws.exception() is msg.data,
            "then": [await ws.receive(), await ws.receive()],
            "close_code_after": ws.close_code,
            "wire": wire(await server.result()),
        }
    assert observed == {
        "error_code": code,
        "closed": True,
        "close_code": code,
        "exception_is_the_error": True,
        "then": [(WSMsgType.CLOSED, None, None)] * 2,
        "close_code_after": code,
        "wire": [(CLOSE, close_body(code))],
    }


@pytest.mark.parametrize(
    ("frames", "expected"),
    [
        pytest.param(server_frame(BINARY, b"x" * 10), (WSMsgType.BINARY, b"x" * 10, ""), id="10"),
        pytest.param(
            server_frame(BINARY, b"ab", fin=False)
            + server_frame(CONT, b"cde", fin=False)
            + server_frame(CONT, b"fghij"),
            (WSMsgType.BINARY, b"abcdefghij", ""),
            id="2+3+5",
        ),
        pytest.param(
            server_frame(TEXT, "é".encode() * 5), (WSMsgType.TEXT, "é" * 5, ""), id="text-10"
        ),
        pytest.param(
            server_frame(TEXT, b"ab", fin=False)
            + server_frame(PING, b"p")
            + server_frame(CONT, b"cd"),
            (WSMsgType.TEXT, "abcd", ""),
            id="ping-between-fragments",
        ),
    ],
)
async def test_message_of_exactly_max_msg_size_is_accepted(
    raw_server: RawServer, frames: bytes, expected: tuple[Any, ...]
) -> None:
    server = await serve(raw_server, sends(frames, then=echo_close))
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url, max_msg_size=10)
        assert await ws.receive() == expected
        assert ws.exception() is None
        await ws.close()
    sent = wire(await server.result())
    assert sent[-1] == (CLOSE, close_body(1000))


async def test_messages_before_a_violation_are_delivered_first(raw_server: RawServer) -> None:
    server = await serve(raw_server, sends(server_frame(TEXT, b"ok"), server_frame(0x3)))
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        await asyncio.sleep(0.05)
        assert await ws.receive() == (WSMsgType.TEXT, "ok", "")
        msg = await ws.receive()
        assert (msg.type, msg.data.code) == (WSMsgType.ERROR, WSCloseCode.PROTOCOL_ERROR)
        assert await ws.receive() == (WSMsgType.CLOSED, None, None)
    assert wire(await server.result()) == [(CLOSE, close_body(1002))]


async def test_large_fragmented_message_is_reassembled(raw_server: RawServer) -> None:
    chunks = [bytes([i]) * 65536 for i in range(16)]

    async def script(peer: Peer) -> list[ClientFrame]:
        peer.send(server_frame(BINARY, chunks[0], fin=False))
        for chunk in chunks[1:-1]:
            peer.send(server_frame(CONT, chunk, fin=False))
        peer.send(server_frame(CONT, chunks[-1]))
        return await peer.echo_close()

    server = await serve(raw_server, script)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        assert await ws.receive() == (WSMsgType.BINARY, b"".join(chunks), "")
        await ws.close()
    await server.result()


def test_server_frame_helper_uses_the_shortest_length_form() -> None:
    assert server_frame(TEXT, b"abc") == b"\x81\x03abc"
    assert server_frame(BINARY, b"x" * 126)[:4] == b"\x82\x7e\x00\x7e"
    assert server_frame(BINARY, b"x" * 65536)[:10] == b"\x82\x7f" + (65536).to_bytes(8, "big")
    assert server_frame(PING, b"", fin=False, rsv=2) == b"\x29\x00"


# --- pings and pongs ------------------------------------------------------------------


@pytest.mark.parametrize("payload", [b"hi", b"", b"p" * 125])
async def test_ping_is_answered_without_receive(raw_server: RawServer, payload: bytes) -> None:
    ponged = asyncio.Event()

    async def script(peer: Peer) -> list[ClientFrame]:
        peer.send(server_frame(PING, payload))
        pong = await peer.frame()
        ponged.set()
        peer.send(server_frame(TEXT, b"after"))
        return [pong] + await peer.echo_close()

    server = await serve(raw_server, script)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        # Decisions #6: nobody is in receive() while the PING arrives.
        await asyncio.wait_for(ponged.wait(), 1)
        assert await ws.receive() == (WSMsgType.TEXT, "after", "")
        await ws.close()
    assert wire(await server.result()) == [(PONG, payload), (CLOSE, close_body(1000))]


async def test_unsolicited_pong_is_swallowed(raw_server: RawServer) -> None:
    frames = server_frame(PONG, b"u"), server_frame(TEXT, b"t")
    server = await serve(raw_server, sends(*frames, then=echo_close))
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        assert await ws.receive() == (WSMsgType.TEXT, "t", "")
        await ws.close()
    assert wire(await server.result()) == [(CLOSE, close_body(1000))]


async def test_without_autoping_pings_and_pongs_are_returned(raw_server: RawServer) -> None:
    received = asyncio.Event()
    checked = asyncio.Event()

    async def script(peer: Peer) -> tuple[bool, list[ClientFrame]]:
        peer.send(server_frame(PING, b"hi"), server_frame(PONG, b"unsolicited"))
        await received.wait()
        silent = await peer.silent_for(0.1)
        checked.set()
        return silent, await peer.echo_close()

    server = await serve(raw_server, script)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url, autoping=False)
        assert await ws.receive() == (WSMsgType.PING, b"hi", "")
        assert await ws.receive() == (WSMsgType.PONG, b"unsolicited", "")
        received.set()
        await checked.wait()
        await ws.pong(b"manual")
        await ws.ping()
        await ws.close()
    silent, frames = await server.result()
    assert silent
    assert wire(frames) == [(PONG, b"manual"), (PING, b""), (CLOSE, close_body(1000))]


# --- heartbeat ------------------------------------------------------------------------


async def test_heartbeat_without_pong_fails_the_connection(raw_server: RawServer) -> None:
    server = await serve(raw_server, hold_until_eof)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url, heartbeat=0.2)
        started = time.monotonic()
        msg = await ws.receive()
        assert 0.25 < time.monotonic() - started < 0.8
        assert msg.type is WSMsgType.ERROR
        assert type(msg.data) is airhttp.ServerTimeoutError
        assert str(msg.data) == "No PONG received after 0.1 seconds"
        assert msg.extra is None
        assert await ws.receive() == (WSMsgType.CLOSED, None, None)
        assert ws.closed is True
        assert ws.close_code == WSCloseCode.ABNORMAL_CLOSURE
        assert ws.exception() is msg.data
        # No CLOSE frame: just the PING, then TCP closed.
        assert wire(await server.result()) == [(PING, b"")]


async def test_heartbeat_timeout_without_a_reader_leaves_closed(raw_server: RawServer) -> None:
    server = await serve(raw_server, hold_until_eof)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url, heartbeat=0.2)
        assert wire(await server.result()) == [(PING, b"")]
        assert ws.closed is True
        assert ws.close_code == WSCloseCode.ABNORMAL_CLOSURE
        assert type(ws.exception()) is airhttp.ServerTimeoutError
        assert await ws.receive() == (WSMsgType.CLOSED, None, None)


async def test_heartbeat_answered_keeps_the_connection(raw_server: RawServer) -> None:
    async def script(peer: Peer) -> list[ClientFrame]:
        frames = []
        while True:
            frame = await peer.frame()
            frames.append(frame)
            if frame.opcode == PING:
                peer.send(server_frame(PONG, frame.payload))
            elif frame.opcode == CLOSE:
                peer.send(server_frame(CLOSE, frame.payload[:2]))
                return frames + await peer.frames_until_eof()

    server = await serve(raw_server, script)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url, heartbeat=0.2)
        await asyncio.sleep(0.65)
        assert ws.closed is False
        assert ws.close_code is None
        assert await ws.close() is True
        assert ws.close_code == 1000
    sent = wire(await server.result())
    assert sent[-1] == (CLOSE, close_body(1000))
    assert 2 <= len(sent[:-1]) <= 4
    assert set(sent[:-1]) == {(PING, b"")}


async def test_heartbeat_is_deferred_by_incoming_data(raw_server: RawServer) -> None:
    async def script(peer: Peer) -> tuple[list[bool], list[ClientFrame]]:
        silences = []
        for i in range(6):
            peer.send(server_frame(TEXT, b"%d" % i))
            silences.append(await peer.silent_for(0.1))
        return silences, await peer.echo_close()

    server = await serve(raw_server, script)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url, heartbeat=0.2)
        await asyncio.sleep(0.65)
        await ws.close()
    silences, frames = await server.result()
    assert silences == [True] * 6
    assert wire(frames) == [(CLOSE, close_body(1000))]


# --- sending and typed receives -------------------------------------------------------


async def test_send_type_errors(raw_server: RawServer) -> None:
    server = await serve(raw_server, echo_close)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        with pytest.raises(TypeError) as info:
            await ws.send_str(b"x")  # type: ignore[arg-type]
        assert str(info.value) == "data argument must be str (<class 'bytes'>)"
        with pytest.raises(TypeError) as info:
            await ws.send_bytes("x")  # type: ignore[arg-type]
        assert str(info.value) == "data argument must be byte-ish (<class 'str'>)"
        with pytest.raises(TypeError) as info:
            await ws.send_json({}, dumps=lambda obj: b"{}")  # type: ignore[arg-type,return-value]
        assert str(info.value) == "data argument must be str (<class 'bytes'>)"
        await ws.close()
    # Nothing went out for the refused calls.
    assert wire(await server.result()) == [(CLOSE, close_body(1000))]


async def test_send_methods_put_the_right_frames_on_the_wire(raw_server: RawServer) -> None:
    server = await serve(raw_server, echo_close)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        await ws.send_str("abc")
        await ws.send_bytes(bytearray(b"\x00\x01"))
        await ws.send_bytes(memoryview(b"mv"))
        await ws.send_json({"a": [1, 2], "b": "é"})
        await ws.send_json_bytes({"a": 1}, dumps=lambda obj: json.dumps(obj).encode())
        await ws.send_frame(b"f", WSMsgType.BINARY)
        await ws.send_str("x" * 126)
        await ws.close()
    frames = await server.result()
    assert wire(frames) == [
        (TEXT, b"abc"),
        (BINARY, b"\x00\x01"),
        (BINARY, b"mv"),
        (TEXT, b'{"a": [1, 2], "b": "\\u00e9"}'),
        (BINARY, b'{"a": 1}'),
        (BINARY, b"f"),
        (TEXT, b"x" * 126),
        (CLOSE, close_body(1000)),
    ]
    keys = {frame.mask_key for frame in frames}
    assert len(keys) == len(frames)


async def test_ping_and_pong_accept_str(raw_server: RawServer) -> None:
    server = await serve(raw_server, echo_close)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        # Decisions #10: str is UTF-8 encoded (aiohttp raises TypeError).
        await ws.ping("pé")
        await ws.pong("po")
        await ws.close()
    assert wire(await server.result()) == [
        (PING, "pé".encode()),
        (PONG, b"po"),
        (CLOSE, close_body(1000)),
    ]


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda ws: ws.ping(b"x" * 126), id="ping-126"),
        pytest.param(lambda ws: ws.pong(b"x" * 126), id="pong-126"),
        pytest.param(lambda ws: ws.close(message=b"y" * 124), id="close-reason-124"),
        pytest.param(lambda ws: ws.close(code=65536), id="close-code-65536"),
        pytest.param(lambda ws: ws.close(code=-1), id="close-code-negative"),
    ],
)
async def test_oversized_control_payload_raises_and_sends_nothing(
    raw_server: RawServer, call: Callable[[Any], Awaitable[Any]]
) -> None:
    server = await serve(raw_server, echo_close)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        try:
            with pytest.raises(ValueError):
                await call(ws)
            # Decisions #10: refused before anything is sent; the socket still works.
            assert ws.closed is False
            await ws.send_str("after")
            assert await ws.close(message=b"y" * 123) is True
        finally:
            # A no-op after a clean close; otherwise it keeps a stuck socket from leaking
            # into (and failing) whichever later test collects it.
            ws._response.close()
    assert wire(await server.result()) == [
        (TEXT, b"after"),
        (CLOSE, close_body(1000, b"y" * 123)),
    ]


async def test_receive_str_on_binary_raises_message_type_error(raw_server: RawServer) -> None:
    frames = server_frame(BINARY, b"\x00\x01bin"), server_frame(TEXT, b"txt")
    server = await serve(raw_server, sends(*frames, then=echo_close))
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        with pytest.raises(airhttp.WSMessageTypeError) as info:
            await ws.receive_str()
        assert isinstance(info.value, TypeError)
        assert str(info.value) == "Received message 2:b'\\x00\\x01bin' is not WSMsgType.TEXT"
        with pytest.raises(airhttp.WSMessageTypeError) as info:
            await ws.receive_bytes()
        assert str(info.value) == "Received message 1:'txt' is not WSMsgType.BINARY"
        assert ws.closed is False
        await ws.close()
    await server.result()


# --- the same with aiohttp's client as the oracle -------------------------------------


async def test_same_as_aiohttp_invalid_utf8(raw_server: RawServer) -> None:
    async def scenario(lib: Any, raw_server: RawServer) -> Any:
        server = await serve(raw_server, sends(server_frame(TEXT, b"\xff")))
        async with lib.ClientSession() as session:
            ws = await session.ws_connect(server.url)
            first = observe_message(await ws.receive())
            # exception() differs on purpose (decisions #5): not compared.
            state = observe_state(ws)
            second = observe_message(await ws.receive())
        return first, state, second, wire(await server.result())

    ours, theirs = await run_both(raw_server, scenario)
    assert ours == theirs
    assert ours == (
        (int(WSMsgType.ERROR), ("WebSocketError", 1007, "Invalid UTF-8 text message"), None),
        (True, 1007),
        (int(WSMsgType.CLOSED), None, None),
        [(CLOSE, close_body(1007))],
    )


async def test_same_as_aiohttp_message_type_error(raw_server: RawServer) -> None:
    async def scenario(lib: Any, raw_server: RawServer) -> Any:
        frames = server_frame(BINARY, b"\x00\x01bin"), server_frame(TEXT, b'{"a":')
        server = await serve(raw_server, sends(*frames, then=echo_close))
        async with lib.ClientSession() as session:
            ws = await session.ws_connect(server.url)
            errors = []
            for call in (ws.receive_str, ws.receive_json):
                try:
                    await call()
                except Exception as exc:
                    errors.append((observe_error(exc), isinstance(exc, TypeError)))
            state = observe_state(ws)
            await ws.close()
        return errors, state, wire(await server.result())

    ours, theirs = await run_both(raw_server, scenario)
    assert ours == theirs
    assert ours[0][0] == (
        ("WSMessageTypeError", "Received message 2:b'\\x00\\x01bin' is not WSMsgType.TEXT"),
        True,
    )
    assert ours[0][1][0][0] == "JSONDecodeError"


async def test_same_as_aiohttp_autoping_off(raw_server: RawServer) -> None:
    async def scenario(lib: Any, raw_server: RawServer) -> Any:
        frames = server_frame(PING, b"hi"), server_frame(PONG, b"po"), server_frame(TEXT, b"t")
        server = await serve(raw_server, sends(*frames, then=echo_close))
        async with lib.ClientSession() as session:
            ws = await session.ws_connect(server.url, autoping=False)
            seen = [observe_message(await ws.receive()) for _ in range(3)]
            await ws.close()
        return seen, wire(await server.result())

    ours, theirs = await run_both(raw_server, scenario)
    assert ours == theirs
    assert ours == (
        [(int(WSMsgType.PING), b"hi", ""), (int(WSMsgType.PONG), b"po", ""), (1, "t", "")],
        [(CLOSE, close_body(1000))],
    )


async def test_same_as_aiohttp_heartbeat_timeout(raw_server: RawServer) -> None:
    async def scenario(lib: Any, raw_server: RawServer) -> Any:
        server = await serve(raw_server, hold_until_eof)
        async with lib.ClientSession() as session:
            ws = await session.ws_connect(server.url, heartbeat=0.2)
            first = observe_message(await ws.receive())
            second = observe_message(await ws.receive())
            state = observe_state(ws), observe_error(ws.exception())
        return first, second, state, wire(await server.result())

    ours, theirs = await run_both(raw_server, scenario)
    assert ours == theirs
    assert ours == (
        (
            int(WSMsgType.ERROR),
            ("ServerTimeoutError", None, "No PONG received after 0.1 seconds"),
            None,
        ),
        (int(WSMsgType.CLOSED), None, None),
        ((True, 1006), ("ServerTimeoutError", "No PONG received after 0.1 seconds")),
        [(PING, b"")],
    )

"""airhttp's WebSocket client against servers that speak RFC 6455 by hand: closing.

Either side closing or dropping TCP, receive() timeouts and cancellation, sending once
closed, session close. The servers are in tests/ws_support.py; the last section runs
some scenarios with aiohttp's client too, as the oracle for behaviour meant to match.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import airhttp
from airhttp import WSCloseCode, WSMsgType

from .conftest import RawServer
from .ws_support import (
    CANNOT_WRITE,
    CLOSE,
    TEXT,
    ClientFrame,
    Peer,
    close_body,
    close_frame,
    echo_close,
    hang_up,
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

SHORT_CLOSE = airhttp.ClientWSTimeout(ws_close=0.2)


# --- close paths ----------------------------------------------------------------------


async def test_server_close_is_answered_and_tcp_closed(raw_server: RawServer) -> None:
    server = await serve(raw_server, sends(close_frame(1000, b"bye")))
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        msg = await ws.receive()
        assert msg == (WSMsgType.CLOSE, 1000, "bye")
        assert ws.closed is True
        assert ws.close_code == 1000
        assert ws.exception() is None
        # The server's EOF check proves TCP is closed before we read on.
        assert wire(await server.result()) == [(CLOSE, close_body(1000))]
        assert await ws.receive() == (WSMsgType.CLOSED, None, None)
        assert await ws.receive() == (WSMsgType.CLOSED, None, None)
        assert await ws.close() is False


async def test_server_close_4000_is_answered_with_1000(raw_server: RawServer) -> None:
    server = await serve(raw_server, sends(close_frame(4000, b"x")))
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        assert await ws.receive() == (WSMsgType.CLOSE, 4000, "x")
        assert ws.close_code == 4000
    assert wire(await server.result()) == [(CLOSE, close_body(1000))]


async def test_server_close_without_autoclose_waits_for_the_next_receive(
    raw_server: RawServer,
) -> None:
    proceed = asyncio.Event()

    async def script(peer: Peer) -> tuple[bool, list[ClientFrame]]:
        peer.send(close_frame(1000, b"bye"))
        await proceed.wait()
        silent = await peer.silent_for(0.05)
        return silent, await peer.frames_until_eof()

    server = await serve(raw_server, script)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url, autoclose=False)
        assert await ws.receive() == (WSMsgType.CLOSE, 1000, "bye")
        assert ws.closed is False
        assert ws.close_code == 1000
        proceed.set()
        await asyncio.sleep(0.1)
        # Still allowed before our own CLOSE: the frame goes on the wire.
        await ws.send_str("late")
        assert await ws.receive() == (WSMsgType.CLOSED, None, None)
        assert ws.closed is True
        assert await ws.close() is False
        silent, frames = await server.result()
    assert silent
    assert wire(frames) == [(TEXT, b"late"), (CLOSE, close_body(1000))]


async def test_server_close_without_autoclose_then_close_returns_true(
    raw_server: RawServer,
) -> None:
    server = await serve(raw_server, sends(close_frame(1000, b"bye")))
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url, autoclose=False)
        assert await ws.receive() == (WSMsgType.CLOSE, 1000, "bye")
        assert await ws.close() is True
        assert await ws.close() is False
        assert ws.close_code == 1000
    assert wire(await server.result()) == [(CLOSE, close_body(1000))]


async def test_empty_server_close_returns_at_once(raw_server: RawServer) -> None:
    server = await serve(raw_server, sends(close_frame(None)))
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        started = time.monotonic()
        # Decisions #7: no waiting for EOF or ws_close (aiohttp waits).
        assert await ws.receive() == (WSMsgType.CLOSE, 0, "")
        assert time.monotonic() - started < 0.5
        assert ws.closed is True
        assert ws.close_code == 0
        assert wire(await server.result()) == [(CLOSE, close_body(1000))]
        assert await ws.receive() == (WSMsgType.CLOSED, None, None)


async def test_server_dropping_tcp_gives_closed_1006(raw_server: RawServer) -> None:
    server = await serve(raw_server, hang_up)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        await server.result()
        for _ in range(3):
            assert await ws.receive() == (WSMsgType.CLOSED, None, None)
            assert ws.closed is True
            assert ws.close_code == WSCloseCode.ABNORMAL_CLOSURE
            exc = ws.exception()
            assert type(exc) is airhttp.ClientConnectionResetError
            assert str(exc) == CANNOT_WRITE


async def test_message_before_tcp_drop_is_delivered_first(raw_server: RawServer) -> None:
    server = await serve(raw_server, sends(server_frame(TEXT, b"last words"), then=hang_up))
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        await server.result()
        await asyncio.sleep(0.05)
        assert await ws.receive() == (WSMsgType.TEXT, "last words", "")
        assert await ws.receive() == (WSMsgType.CLOSED, None, None)
        assert ws.close_code == WSCloseCode.ABNORMAL_CLOSURE


async def test_close_gives_up_after_ws_close_when_the_server_never_answers(
    raw_server: RawServer,
) -> None:
    server = await serve(raw_server, hold_until_eof)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url, timeout=SHORT_CLOSE)
        started = time.monotonic()
        assert await ws.close() is True
        elapsed = time.monotonic() - started
        assert 0.15 < elapsed < 0.6
        assert ws.closed is True
        assert ws.close_code == WSCloseCode.ABNORMAL_CLOSURE
        assert type(ws.exception()) is TimeoutError
        assert wire(await server.result()) == [(CLOSE, close_body(1000))]


async def test_close_when_the_server_drops_tcp_instead_of_answering(
    raw_server: RawServer,
) -> None:
    async def script(peer: Peer) -> ClientFrame:
        return await peer.frame()

    server = await serve(raw_server, script)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        started = time.monotonic()
        assert await ws.close() is True
        assert time.monotonic() - started < 0.5
        assert ws.close_code == WSCloseCode.ABNORMAL_CLOSURE
        assert type(ws.exception()) is airhttp.EofStream
    assert wire([await server.result()]) == [(CLOSE, close_body(1000))]


async def test_frames_before_the_servers_close_answer_are_discarded(
    raw_server: RawServer,
) -> None:
    async def script(peer: Peer) -> list[ClientFrame]:
        frame = await peer.frame()
        peer.send(server_frame(TEXT, b"too late"), close_frame(1001))
        return [frame] + await peer.frames_until_eof()

    server = await serve(raw_server, script)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        assert await ws.close() is True
        # close_code is the server's answer, not what we sent.
        assert ws.close_code == 1001
        assert await ws.receive() == (WSMsgType.CLOSED, None, None)
    assert wire(await server.result()) == [(CLOSE, close_body(1000))]


async def test_close_while_another_task_receives(raw_server: RawServer) -> None:
    server = await serve(raw_server, echo_close)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        reader = asyncio.create_task(ws.receive())
        await asyncio.sleep(0.02)
        # Bounded: a close() that waits for the peer to act first would hang here.
        assert await asyncio.wait_for(ws.close(), 0.5) is True
        assert await reader == (WSMsgType.CLOSING, None, None)
        assert ws.close_code == 1000
        assert ws.closed is True
        assert await ws.receive() == (WSMsgType.CLOSED, None, None)
    assert wire(await server.result()) == [(CLOSE, close_body(1000))]


async def test_close_twice_and_custom_code_on_the_wire(raw_server: RawServer) -> None:
    server = await serve(raw_server, echo_close)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        assert await ws.close(code=4000, message=b"x") is True
        assert await ws.close() is False
        # The server echoed 4000: close_code is the server's code.
        assert ws.close_code == 4000
    frames = await server.result()
    assert [frame.payload.hex() for frame in frames] == ["0fa078"]
    assert wire(frames) == [(CLOSE, b"\x0f\xa0x")]


async def test_close_with_str_message_is_utf8(raw_server: RawServer) -> None:
    server = await serve(raw_server, echo_close)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        assert await ws.close(message="str") is True
    assert wire(await server.result()) == [(CLOSE, b"\x03\xe8str")]


async def test_receive_after_close_keeps_returning_closed(raw_server: RawServer) -> None:
    server = await serve(raw_server, echo_close)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        await ws.close()
        # Facts §4m: CLOSED every time (aiohttp has no limit on the client side).
        results: list[Any] = []
        for _ in range(7):
            try:
                results.append(await ws.receive())
            except RuntimeError as exc:
                results.append(exc)
        assert results == [(WSMsgType.CLOSED, None, None)] * 7
    await server.result()


async def test_receive_str_after_close_raises_type_error(raw_server: RawServer) -> None:
    server = await serve(raw_server, echo_close)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        await ws.close()
        with pytest.raises(airhttp.WSMessageTypeError) as info:
            await ws.receive_str()
        assert str(info.value) == "Received message 257:None is not WSMsgType.TEXT"
        with pytest.raises(airhttp.WSMessageTypeError) as info:
            await ws.receive_bytes()
        assert str(info.value) == "Received message 257:None is not WSMsgType.BINARY"
    await server.result()


async def test_leaving_async_with_sends_close_1000(raw_server: RawServer) -> None:
    server = await serve(raw_server, echo_close)
    async with airhttp.ClientSession() as session:
        async with session.ws_connect(server.url) as ws:
            assert ws.closed is False
        assert ws.closed is True
        assert ws.close_code == 1000
    assert wire(await server.result()) == [(CLOSE, close_body(1000))]


async def test_leaving_async_with_through_an_exception_sends_close(raw_server: RawServer) -> None:
    server = await serve(raw_server, echo_close)
    async with airhttp.ClientSession() as session:
        with pytest.raises(KeyError):
            async with session.ws_connect(server.url) as ws:
                raise KeyError("boom")
        assert ws.closed is True
    assert wire(await server.result()) == [(CLOSE, close_body(1000))]


async def test_session_close_says_going_away(raw_server: RawServer) -> None:
    server = await serve(raw_server, hold_until_eof)
    session = airhttp.ClientSession()
    try:
        ws = await session.ws_connect(server.url)
    finally:
        await session.close()
    # Decisions #11: CLOSE 1001 on every open WebSocket, and the socket is closed.
    assert wire(await server.result()) == [(CLOSE, close_body(1001))]
    assert ws.closed is True
    assert ws.close_code == WSCloseCode.GOING_AWAY
    assert await ws.receive() == (WSMsgType.CLOSED, None, None)


async def test_extra_info_comes_from_the_transport_until_close(raw_server: RawServer) -> None:
    server = await serve(raw_server, echo_close)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        assert ws.get_extra_info("peername") == ("127.0.0.1", server.url.port)
        assert ws.get_extra_info("nope", 5) == 5
        assert (ws.protocol, ws.compress, ws.client_notakeover) == (None, 0, False)
        assert (ws.closed, ws.close_code, ws.exception()) == (False, None, None)
        await ws.close()
        assert ws.get_extra_info("peername") is None
        assert ws.get_extra_info("nope", 5) == 5
    await server.result()


# --- receive(): timeouts, concurrency, cancellation -----------------------------------


async def test_receive_timeout_leaves_the_socket_usable(raw_server: RawServer) -> None:
    late = asyncio.Event()
    server = await serve(
        raw_server, sends(server_frame(TEXT, b"late"), after=late, then=echo_close)
    )
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        started = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await ws.receive(timeout=0.1)
        assert 0.08 < time.monotonic() - started < 0.5
        assert ws.closed is False
        assert ws.close_code == WSCloseCode.ABNORMAL_CLOSURE
        assert ws.exception() is None
        late.set()
        assert await ws.receive(timeout=1) == (WSMsgType.TEXT, "late", "")
        await ws.send_str("still here")
        await ws.close()
    assert wire(await server.result()) == [(TEXT, b"still here"), (CLOSE, close_body(1000))]


async def test_ws_receive_timeout_applies_to_every_receive(raw_server: RawServer) -> None:
    server = await serve(raw_server, echo_close)
    timeout = airhttp.ClientWSTimeout(ws_receive=0.1, ws_close=1.0)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url, timeout=timeout)
        with pytest.raises(asyncio.TimeoutError):
            await ws.receive()
        assert ws.closed is False
        await ws.close()
    await server.result()


async def test_receive_timeout_zero_means_no_timeout(raw_server: RawServer) -> None:
    async def script(peer: Peer) -> list[ClientFrame]:
        await asyncio.sleep(0.15)
        peer.send(server_frame(TEXT, b"slow"))
        return await peer.echo_close()

    server = await serve(raw_server, script)
    timeout = airhttp.ClientWSTimeout(ws_receive=0.05, ws_close=1.0)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url, timeout=timeout)
        # 0 is "unset", so ws_receive applies; a per-call value overrides it.
        with pytest.raises(asyncio.TimeoutError):
            await ws.receive(timeout=0)
        assert await ws.receive(timeout=1.0) == (WSMsgType.TEXT, "slow", "")
        await ws.close()
    await server.result()


async def test_concurrent_receive_is_refused(raw_server: RawServer) -> None:
    go = asyncio.Event()
    server = await serve(raw_server, sends(server_frame(TEXT, b"x"), after=go, then=echo_close))
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        first = asyncio.create_task(ws.receive())
        await asyncio.sleep(0.01)
        with pytest.raises(RuntimeError) as info:
            await ws.receive()
        assert str(info.value) == "Concurrent call to receive() is not allowed"
        go.set()
        assert await first == (WSMsgType.TEXT, "x", "")
        await ws.close()
    await server.result()


async def test_cancelled_receive_loses_no_message(raw_server: RawServer) -> None:
    go = asyncio.Event()
    server = await serve(raw_server, sends(server_frame(TEXT, b"after"), after=go, then=echo_close))
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        reader = asyncio.create_task(ws.receive())
        await asyncio.sleep(0.02)
        reader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reader
        assert ws.closed is False
        assert ws.close_code == WSCloseCode.ABNORMAL_CLOSURE
        go.set()
        assert await ws.receive(timeout=1) == (WSMsgType.TEXT, "after", "")
        await ws.close()
    await server.result()


async def test_peer_stalling_mid_frame_times_out_and_closes(raw_server: RawServer) -> None:
    server = await serve(raw_server, sends(server_frame(TEXT, b"hello")[:4]))
    timeout = airhttp.ClientWSTimeout(ws_close=0.1)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url, timeout=timeout)
        with pytest.raises(asyncio.TimeoutError):
            await ws.receive(timeout=0.2)
        started = time.monotonic()
        assert await ws.close() is True
        assert time.monotonic() - started < 0.5
        assert ws.close_code == WSCloseCode.ABNORMAL_CLOSURE
        assert type(ws.exception()) is TimeoutError
    assert wire(await server.result()) == [(CLOSE, close_body(1000))]


# --- sending once closed --------------------------------------------------------------


async def test_sending_after_close_raises_connection_reset(raw_server: RawServer) -> None:
    server = await serve(raw_server, echo_close)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        await ws.close()
        attempts = [
            ws.send_str("x"),
            ws.send_bytes(b"x"),
            ws.send_json({}),
            ws.ping(),
            ws.pong(),
            ws.send_frame(b"x", WSMsgType.TEXT),
        ]
        for attempt in attempts:
            with pytest.raises(airhttp.ClientConnectionResetError) as info:
                await attempt
            assert str(info.value) == CANNOT_WRITE
    assert wire(await server.result()) == [(CLOSE, close_body(1000))]


async def test_sending_after_the_server_dropped_tcp(raw_server: RawServer) -> None:
    server = await serve(raw_server, hang_up)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        await server.result()
        await asyncio.sleep(0.05)
        with pytest.raises(airhttp.ClientConnectionResetError) as info:
            await ws.send_str("x")
        assert str(info.value) == CANNOT_WRITE
        assert ws.closed is False
        assert ws.close_code is None
        assert await ws.receive() == (WSMsgType.CLOSED, None, None)


# --- async for ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tail", "expected", "code"),
    [
        pytest.param(close_frame(1000), [(WSMsgType.TEXT, "a", "")], 1000, id="close"),
        pytest.param(b"", [(WSMsgType.TEXT, "a", "")], WSCloseCode.ABNORMAL_CLOSURE, id="drop"),
        pytest.param(
            server_frame(0x3),
            [(WSMsgType.TEXT, "a", ""), "error 1002"],
            WSCloseCode.PROTOCOL_ERROR,
            id="error",
        ),
    ],
)
async def test_async_for_stops_on_close_and_yields_error(
    raw_server: RawServer, tail: bytes, expected: list[Any], code: int
) -> None:
    async def script(peer: Peer) -> None:
        peer.send(server_frame(TEXT, b"a"), tail)
        if tail:
            await peer.frames_until_eof()

    server = await serve(raw_server, script)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        seen: list[Any] = []
        async for msg in ws:
            if msg.type is WSMsgType.ERROR:
                seen.append(f"error {msg.data.code}")
            else:
                seen.append(msg)
        assert seen == expected
        assert ws.closed is True
        assert ws.close_code == code
    await server.result()


# --- the same with aiohttp's client as the oracle -------------------------------------


async def test_same_as_aiohttp_server_close_4000(raw_server: RawServer) -> None:
    async def scenario(lib: Any, raw_server: RawServer) -> Any:
        server = await serve(raw_server, sends(close_frame(4000, b"x")))
        async with lib.ClientSession() as session:
            ws = await session.ws_connect(server.url)
            first = observe_message(await ws.receive())
            state = observe_state(ws), observe_error(ws.exception())
            second = observe_message(await ws.receive())
        return first, state, second, wire(await server.result())

    ours, theirs = await run_both(raw_server, scenario)
    assert ours == theirs
    assert ours == (
        (int(WSMsgType.CLOSE), 4000, "x"),
        ((True, 4000), None),
        (int(WSMsgType.CLOSED), None, None),
        [(CLOSE, close_body(1000))],
    )


async def test_same_as_aiohttp_server_drop(raw_server: RawServer) -> None:
    async def scenario(lib: Any, raw_server: RawServer) -> Any:
        server = await serve(raw_server, hang_up)
        async with lib.ClientSession() as session:
            ws = await session.ws_connect(server.url)
            await server.result()
            seen = []
            for _ in range(3):
                seen.append(observe_message(await ws.receive()))
            return seen, observe_state(ws), observe_error(ws.exception())

    ours, theirs = await run_both(raw_server, scenario)
    assert ours == theirs
    assert ours == (
        [(int(WSMsgType.CLOSED), None, None)] * 3,
        (True, 1006),
        ("ClientConnectionResetError", CANNOT_WRITE),
    )


async def test_same_as_aiohttp_receive_timeout(raw_server: RawServer) -> None:
    async def scenario(lib: Any, raw_server: RawServer) -> Any:
        late = asyncio.Event()
        server = await serve(
            raw_server, sends(server_frame(TEXT, b"late"), after=late, then=echo_close)
        )
        async with lib.ClientSession() as session:
            ws = await session.ws_connect(server.url)
            try:
                await ws.receive(timeout=0.1)
            except BaseException as exc:
                raised: Any = type(exc)
            state = observe_state(ws), observe_error(ws.exception())
            late.set()
            message = observe_message(await ws.receive(timeout=1))
            closed = await ws.close()
        return raised, state, message, closed, wire(await server.result())

    ours, theirs = await run_both(raw_server, scenario)
    assert ours == theirs
    assert ours == (
        TimeoutError,
        ((False, 1006), None),
        (int(WSMsgType.TEXT), "late", ""),
        True,
        [(CLOSE, close_body(1000))],
    )


async def test_same_as_aiohttp_close_code_and_bytes(raw_server: RawServer) -> None:
    async def scenario(lib: Any, raw_server: RawServer) -> Any:
        server = await serve(raw_server, echo_close)
        async with lib.ClientSession() as session:
            ws = await session.ws_connect(server.url)
            results = [await ws.close(code=4000, message=b"x"), await ws.close()]
            state = observe_state(ws), observe_error(ws.exception())
            after = [observe_message(await ws.receive()) for _ in range(3)]
        return results, state, after, wire(await server.result())

    ours, theirs = await run_both(raw_server, scenario)
    assert ours == theirs
    assert ours == (
        [True, False],
        ((True, 4000), None),
        [(int(WSMsgType.CLOSED), None, None)] * 3,
        [(CLOSE, b"\x0f\xa0x")],
    )


async def test_same_as_aiohttp_many_receives_after_close(raw_server: RawServer) -> None:
    async def scenario(lib: Any, raw_server: RawServer) -> Any:
        server = await serve(raw_server, echo_close)
        async with lib.ClientSession() as session:
            ws = await session.ws_connect(server.url)
            await ws.close()
            seen: list[Any] = []
            for _ in range(8):
                try:
                    seen.append(observe_message(await ws.receive()))
                except RuntimeError as exc:
                    seen.append(observe_error(exc))
        await server.result()
        return seen

    ours, theirs = await run_both(raw_server, scenario)
    assert ours == theirs
    assert theirs == [(int(WSMsgType.CLOSED), None, None)] * 8


async def test_same_as_aiohttp_without_autoclose(raw_server: RawServer) -> None:
    async def scenario(lib: Any, raw_server: RawServer) -> Any:
        server = await serve(raw_server, sends(close_frame(1001, b"later")))
        async with lib.ClientSession() as session:
            ws = await session.ws_connect(server.url, autoclose=False)
            steps = [observe_message(await ws.receive()), observe_state(ws)]
            steps += [observe_message(await ws.receive()), observe_state(ws)]
            steps.append(await ws.close())
        return steps, wire(await server.result())

    ours, theirs = await run_both(raw_server, scenario)
    assert ours == theirs
    assert ours == (
        [
            (int(WSMsgType.CLOSE), 1001, "later"),
            (False, 1001),
            (int(WSMsgType.CLOSED), None, None),
            (True, 1001),
            False,
        ],
        [(CLOSE, close_body(1000))],
    )

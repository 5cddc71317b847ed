"""WebSocket corner cases a review found: races of close() with receive(), heartbeat
against a slow reader, close() against a peer that stopped reading, failed set-up."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import airhttp
from airhttp import WSMsgType

from .conftest import RawServer
from .ws_support import (
    BINARY,
    CLOSE,
    PING,
    PONG,
    TEXT,
    Peer,
    close_frame,
    echo_close,
    handshake_response,
    observe_message,
    run_both,
    sends,
    serve,
    server_frame,
)


async def test_close_after_the_receiving_task_was_cancelled(raw_server: RawServer) -> None:
    server = await serve(raw_server, echo_close)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        reader = asyncio.ensure_future(ws.receive())
        await asyncio.sleep(0.02)
        reader.cancel()
        # The cancelled receive() must not leave close() waiting for it.
        assert await asyncio.wait_for(ws.close(), 1.0) is True
        assert ws.close_code == 1000
        with pytest.raises(asyncio.CancelledError):
            await reader
    frames = await server.result()
    assert [(f.opcode, f.payload) for f in frames] == [(CLOSE, b"\x03\xe8")]


async def test_a_reader_that_keeps_receiving_after_closing_gets_closed(
    raw_server: RawServer,
) -> None:
    server = await serve(raw_server, echo_close)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        seen: list[WSMsgType] = []

        async def reader() -> None:
            while True:
                message = await ws.receive()
                seen.append(message.type)
                if message.type in (WSMsgType.CLOSED, WSMsgType.ERROR, WSMsgType.CLOSE):
                    return

        task = asyncio.ensure_future(reader())
        await asyncio.sleep(0.02)
        assert await asyncio.wait_for(ws.close(), 1.0) is True
        await asyncio.wait_for(task, 1.0)
    assert seen == [WSMsgType.CLOSING, WSMsgType.CLOSED]
    assert ws.close_code == 1000
    await server.result()


async def test_heartbeat_does_not_give_up_while_we_are_not_reading(
    raw_server: RawServer,
) -> None:
    async def script(peer: Peer) -> int:
        # 200 KB queued at the client pauses its socket; pings are still answered.
        peer.send(*(server_frame(BINARY, bytes(4000)) for _ in range(50)))
        pings = 0
        while True:
            try:
                frame = await peer.frame(timeout=1.0)
            except AssertionError:
                return pings
            if frame.opcode == PING:
                pings += 1
                peer.send(server_frame(PONG, frame.payload))
            elif frame.opcode == CLOSE:
                peer.send(server_frame(CLOSE, frame.payload[:2]))

    server = await serve(raw_server, script)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url, heartbeat=0.1)
        await asyncio.sleep(0.4)  # a slow consumer: several heartbeat periods
        received = 0
        while received < 50:
            message = await ws.receive(timeout=1.0)
            assert message.type is WSMsgType.BINARY
            received += 1
        assert not ws.closed
        assert ws.exception() is None
        await ws.close()
        assert ws.close_code == 1000
    await server.result()


async def test_heartbeat_stops_once_the_server_has_sent_close(raw_server: RawServer) -> None:
    async def script(peer: Peer) -> list[tuple[int, bytes]]:
        peer.send(close_frame(4000, b"bye"))
        frames = await peer.frames_until_eof(timeout=1.5)
        return [(f.opcode, f.payload) for f in frames]

    server = await serve(raw_server, script)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url, heartbeat=0.1, autoclose=False)
        message = await ws.receive()
        assert (message.type, message.data, message.extra) == (WSMsgType.CLOSE, 4000, "bye")
        await asyncio.sleep(0.3)  # longer than heartbeat + heartbeat / 2
        assert await ws.close() is True
        assert ws.close_code == 4000
        assert ws.exception() is None
    assert await server.result() == [(CLOSE, b"\x03\xe8")]


async def test_close_keeps_to_ws_close_when_the_peer_stopped_reading(
    raw_server: RawServer,
) -> None:
    loop_errors: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _, ctx: loop_errors.append(ctx))
    stop = asyncio.Event()

    async def script(peer: Peer) -> None:
        await stop.wait()  # reads nothing: the client's write buffer fills up

    server = await serve(raw_server, script)
    async with airhttp.ClientSession() as session:
        timeout = airhttp.ClientWSTimeout(ws_close=0.3)
        ws = await session.ws_connect(server.url, timeout=timeout)
        sender = asyncio.ensure_future(ws.send_bytes(bytes(32 * 1024 * 1024)))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        assert await ws.close() is True
        assert time.monotonic() - started < 1.0
        assert ws.close_code == 1006
        assert isinstance(ws.exception(), asyncio.TimeoutError)
        with pytest.raises(airhttp.ClientConnectionResetError):
            await sender
    stop.set()
    await server.result()
    await asyncio.sleep(0.05)
    assert loop_errors == []


async def test_negative_max_msg_size_is_refused_before_anything_is_sent(
    raw_server: RawServer,
) -> None:
    async def script(peer: Peer) -> None:
        return None

    server = await serve(raw_server, script, handshake=False)
    async with airhttp.ClientSession() as session:
        with pytest.raises(ValueError, match="max_msg_size"):
            session.ws_connect(server.url, max_msg_size=-1)
    assert raw_server.connections == 0


async def test_a_failing_ws_response_class_does_not_leak_the_connection(
    raw_server: RawServer,
) -> None:
    class Broken(airhttp.ClientWebSocketResponse):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError("no")

    async def script(peer: Peer) -> bool:
        return await peer.eof_within(1.0)

    server = await serve(raw_server, script)
    async with airhttp.ClientSession(ws_response_class=Broken) as session:
        with pytest.raises(RuntimeError, match="no"):
            await session.ws_connect(server.url)
        # Closed at once, while the session still lives: nothing for the GC to warn about.
        assert await server.result() is True


async def test_messages_that_came_with_the_101_survive_the_server_leaving(
    raw_server: RawServer,
) -> None:
    async def script(peer: Peer) -> None:
        request = await peer.read_request()
        assert request is not None
        # The answer, a message and a CLOSE in one write, then the server is gone.
        peer.send(
            handshake_response(request.key)
            + server_frame(TEXT, b"hello")
            + close_frame(1000, b"done")
        )
        await peer.writer.drain()
        peer.writer.close()

    server = await serve(raw_server, script, handshake=False)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        first = await ws.receive()
        second = await ws.receive()
        assert (first.type, first.data) == (WSMsgType.TEXT, "hello")
        assert (second.type, second.data, second.extra) == (WSMsgType.CLOSE, 1000, "done")
        assert ws.closed
        assert ws.close_code == 1000
    await server.result()


async def test_decode_text_false_hands_text_over_as_bytes_like_aiohttp(
    raw_server: RawServer,
) -> None:
    """aiohttp 3.14: ws_connect(decode_text=False) gives TEXT data as UTF-8 bytes, and
    receive_str()/receive_json() still work on them."""

    async def scenario(lib: Any, raw_server: RawServer) -> Any:
        text = "h\u00e9llo".encode()
        big = ('{"k": "' + "\u00e9" * 200 + '"}').encode()
        server = await serve(
            raw_server,
            sends(
                server_frame(TEXT, text),
                server_frame(TEXT, b'{"a": 1}'),
                server_frame(TEXT, big[:100], fin=False),
                server_frame(0x0, big[100:]),
                then=echo_close,
            ),
        )
        async with lib.ClientSession() as session:
            async with session.ws_connect(server.url, decode_text=False) as ws:
                first = observe_message(await ws.receive())
                as_json = await ws.receive_json()
                fragmented = await ws.receive_str()
        await server.result()
        return first, as_json, fragmented

    ours, theirs = await run_both(raw_server, scenario)
    assert ours == theirs
    assert ours[0] == (1, "h\u00e9llo".encode(), "")
    assert isinstance(ours[2], bytes)

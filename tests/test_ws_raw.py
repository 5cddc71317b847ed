"""airhttp's WebSocket client against servers that speak RFC 6455 by hand.

The servers (tests/ws_support.py) read the upgrade request, answer it, send frames
byte for byte and parse the masked frames the client writes back. The last section
runs some scenarios with aiohttp's client too, as the oracle for behaviour meant to match.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
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
    UpgradeRequest,
    accept_for,
    close_frame,
    handshake_response,
    hold_until_eof,
    parse_request,
    serve,
    server_frame,
)

SHORT_CLOSE = airhttp.ClientWSTimeout(ws_close=0.2)
CANNOT_WRITE = "Cannot write to closing transport"


def close_body(code: int, reason: bytes = b"") -> bytes:
    return code.to_bytes(2, "big") + reason


def wire(frames: list[ClientFrame]) -> list[tuple[int, bytes]]:
    """What the client sent, as (opcode, payload), after checking each frame is well formed."""
    for frame in frames:
        assert frame.fin and frame.rsv == 0 and frame.masked and len(frame.mask_key) == 4, frame
    return [(frame.opcode, frame.payload) for frame in frames]


async def echo_close(peer: Peer) -> list[ClientFrame]:
    return await peer.echo_close()


# --- the opening handshake: failures ---------------------------------------------------

HANDSHAKE_FAILURES = [
    pytest.param(
        dict(
            status="200 OK",
            upgrade=None,
            connection=None,
            accept=None,
            extra=[("Content-Length", "5"), ("X-Test", "1")],
            body=b"hello",
        ),
        200,
        "Invalid response status",
        id="200-instead-of-101",
    ),
    pytest.param(
        dict(
            status="404 Not Found",
            upgrade=None,
            connection=None,
            accept=None,
            extra=[("Content-Length", "9"), ("X-Test", "1")],
            body=b"not found",
        ),
        404,
        "Invalid response status",
        id="404",
    ),
    pytest.param(
        dict(upgrade=None, extra=[("X-Test", "1")]),
        101,
        "Invalid upgrade header",
        id="no-upgrade",
    ),
    pytest.param(
        dict(upgrade="foo", extra=[("X-Test", "1")]),
        101,
        "Invalid upgrade header",
        id="upgrade-foo",
    ),
    pytest.param(
        dict(connection=None, extra=[("X-Test", "1")]),
        101,
        "Invalid connection header",
        id="no-connection",
    ),
    pytest.param(
        dict(connection="keep-alive", extra=[("X-Test", "1")]),
        101,
        "Invalid connection header",
        id="connection-keep-alive",
    ),
    pytest.param(
        dict(accept="dGhlIHNhbXBsZSBub25jZQ==", extra=[("X-Test", "1")]),
        101,
        "Invalid challenge response",
        id="wrong-accept",
    ),
    pytest.param(
        dict(accept=None, extra=[("X-Test", "1")]),
        101,
        "Invalid challenge response",
        id="missing-accept",
    ),
]


def reply_headers(reply: bytes) -> list[tuple[str, str]]:
    head = reply.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    return parse_request(head).headers


@pytest.mark.parametrize(("answer", "status", "message"), HANDSHAKE_FAILURES)
async def test_handshake_failure_raises_and_closes_the_connection(
    raw_server: RawServer, answer: dict[str, Any], status: int, message: str
) -> None:
    async def script(peer: Peer) -> tuple[bytes, bool]:
        request = await peer.read_request()
        assert request is not None
        reply = handshake_response(request.key, **answer)
        peer.send(reply)
        return reply, await peer.eof_within(0.5)

    server = await serve(raw_server, script, handshake=False)
    async with airhttp.ClientSession() as session:
        with pytest.raises(airhttp.WSServerHandshakeError) as info:
            await session.ws_connect(server.url)
        reply, hung_up = await server.result()
        # Decisions #1: never pooled; the server sees EOF while the session still lives.
        assert hung_up
        with pytest.raises(airhttp.WSServerHandshakeError):
            await session.ws_connect(server.url)
        await server.result(1)
    assert raw_server.connections == 2

    exc = info.value
    assert type(exc) is airhttp.WSServerHandshakeError
    assert isinstance(exc, airhttp.ClientResponseError)
    assert exc.status == status
    assert exc.message == message
    assert exc.request_info.url == server.url
    assert exc.request_info.method == "GET"
    assert exc.headers is not None
    assert list(exc.headers.items()) == reply_headers(reply)
    assert exc.history == ()
    assert str(exc) == f"{status}, message='{message}', url='{server.url}'"
    assert exc.__cause__ is None


@pytest.mark.parametrize(
    ("upgrade", "connection"),
    [
        pytest.param("websocket", "keep-alive, Upgrade", id="token-list"),
        pytest.param("WebSocket", "upgrade", id="mixed-case"),
        pytest.param("WEBSOCKET", "UPGRADE", id="upper-case"),
    ],
)
async def test_handshake_accepts_token_list_and_any_case(
    raw_server: RawServer, upgrade: str, connection: str
) -> None:
    server = await serve(raw_server, echo_close, upgrade=upgrade, connection=connection)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        assert ws.closed is False
        assert await ws.close() is True
    assert wire(await server.result()) == [(CLOSE, close_body(1000))]


# --- the opening handshake: the request on the wire ------------------------------------


async def upgrade_request_of(raw_server: RawServer, **kwargs: Any) -> UpgradeRequest:
    """Connect once with `kwargs`, close cleanly, return the upgrade request the server saw.

    `session` (a dict) holds ClientSession arguments.
    """
    session_kwargs = kwargs.pop("session", {})
    server = await serve(raw_server, echo_close)
    async with airhttp.ClientSession(**session_kwargs) as session:
        async with session.ws_connect(server.url, **kwargs):
            pass
    await server.result()
    request = server.peers[0].requests[0]
    assert request.header("Host") == f"127.0.0.1:{server.url.port}"
    return request


def user_agent() -> str:
    return f"Python/{sys.version_info[0]}.{sys.version_info[1]} airhttp/{airhttp.__version__}"


async def test_default_upgrade_request_head(raw_server: RawServer) -> None:
    request = await upgrade_request_of(raw_server)
    assert request.request_line == "GET /ws HTTP/1.1"
    assert request.headers == [
        ("Host", request.header("Host")),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", request.key),
        ("Accept", "*/*"),
        ("Accept-Encoding", "gzip, deflate, br, zstd"),
        ("User-Agent", user_agent()),
    ]
    assert len(request.key) == 24
    assert len(base64.b64decode(request.key, validate=True)) == 16


async def test_every_connect_sends_a_fresh_key(raw_server: RawServer) -> None:
    first = await upgrade_request_of(raw_server)
    second = await upgrade_request_of(raw_server)
    assert first.key != second.key
    assert len(base64.b64decode(second.key, validate=True)) == 16


async def test_upgrade_request_with_every_option_keeps_aiohttps_header_order(
    raw_server: RawServer,
) -> None:
    jar = airhttp.CookieJar(unsafe=True)
    jar.update_cookies({"sid": "abc"})
    request = await upgrade_request_of(
        raw_server,
        protocols=("chat", "superchat"),
        origin="http://o.example",
        compress=15,
        headers={"X-A": "1"},
        auth=airhttp.BasicAuth("u", "p"),
        session={"cookie_jar": jar},
    )
    assert request.names[:12] == [
        "Host",
        "X-A",
        "Upgrade",
        "Connection",
        "Sec-WebSocket-Version",
        "Sec-WebSocket-Key",
        "Sec-WebSocket-Protocol",
        "Origin",
        "Sec-WebSocket-Extensions",
        "Accept",
        "Accept-Encoding",
        "User-Agent",
    ]
    # aiohttp puts Authorization before Cookie here but after it for session.get();
    # airhttp uses the get() order for both (left for the drop-in fidelity issue).
    assert sorted(request.names[12:]) == ["Authorization", "Cookie"]
    assert request.header("Sec-WebSocket-Protocol") == "chat,superchat"
    assert request.header("Origin") == "http://o.example"
    assert request.header("X-A") == "1"
    assert request.header("Authorization") == "Basic dTpw"
    assert request.header("Cookie") == "sid=abc"


@pytest.mark.parametrize(
    ("compress", "offer"),
    [
        (15, "permessage-deflate; client_max_window_bits"),
        (10, "permessage-deflate; client_max_window_bits; server_max_window_bits=10"),
    ],
)
async def test_compress_offers_permessage_deflate_as_aiohttp_does(
    raw_server: RawServer, compress: int, offer: str
) -> None:
    request = await upgrade_request_of(raw_server, compress=compress)
    assert request.header("Sec-WebSocket-Extensions") == offer


async def test_no_extension_offered_by_default(raw_server: RawServer) -> None:
    request = await upgrade_request_of(raw_server)
    assert request.header("Sec-WebSocket-Extensions") is None
    assert request.header("Content-Length") is None


async def test_session_headers_come_first_and_replace_the_user_agent(
    raw_server: RawServer,
) -> None:
    request = await upgrade_request_of(
        raw_server, session={"headers": {"X-S": "s", "User-Agent": "UA/1"}}
    )
    assert request.headers[1:4] == [("X-S", "s"), ("User-Agent", "UA/1"), ("Upgrade", "websocket")]
    assert request.names.count("User-Agent") == 1


async def test_call_headers_override_session_headers_in_place(raw_server: RawServer) -> None:
    request = await upgrade_request_of(
        raw_server, headers={"X-A": "1", "X-S": "override"}, session={"headers": {"X-S": "s"}}
    )
    assert request.headers[1:4] == [("X-S", "override"), ("X-A", "1"), ("Upgrade", "websocket")]


async def test_params_join_the_query_of_a_ws_url(raw_server: RawServer) -> None:
    server = await serve(raw_server, echo_close)
    url = server.url.with_scheme("ws").with_path("/a").with_query({"b": "1"})
    async with airhttp.ClientSession() as session:
        async with session.ws_connect(url, params={"c": "2"}) as ws:
            assert ws._response.url.scheme == "ws"
    await server.result()
    assert server.peers[0].requests[0].request_line == "GET /a?b=1&c=2 HTTP/1.1"


# --- subprotocols ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("protocols", "answer", "chosen"),
    [
        (("a",), "b", None),
        ((), "b", None),
        (("a", "c"), "a", "a"),
        (("a", "c"), "c", "c"),
        (("a", "c"), "a, c", "a"),
        (("a",), None, None),
    ],
)
async def test_subprotocol_selection(
    raw_server: RawServer, protocols: tuple[str, ...], answer: str | None, chosen: str | None
) -> None:
    extra = [] if answer is None else [("Sec-WebSocket-Protocol", answer)]
    server = await serve(raw_server, echo_close, extra=extra)
    async with airhttp.ClientSession() as session:
        async with session.ws_connect(server.url, protocols=protocols) as ws:
            assert ws.protocol == chosen
    await server.result()
    sent = server.peers[0].requests[0].header("Sec-WebSocket-Protocol")
    assert sent == (",".join(protocols) if protocols else None)


# --- redirects -------------------------------------------------------------------------


class RedirectingServer:
    """Answers GET /ws with a redirect to `location`; GET /ws2 goes to `final`."""

    def __init__(
        self, location: str, final: Callable[[Peer, UpgradeRequest], Awaitable[Any]]
    ) -> None:
        self.location = location
        self.final = final
        self.requests: list[UpgradeRequest] = []

    async def __call__(self, peer: Peer) -> Any:
        while True:
            request = await peer.read_request()
            if request is None:
                return None
            self.requests.append(request)
            if request.request_line.startswith("GET /ws "):
                peer.send(
                    f"HTTP/1.1 302 Found\r\nLocation: {self.location}\r\n"
                    "Content-Length: 0\r\n\r\n".encode()
                )
                continue
            return await self.final(peer, request)


async def test_http_redirect_is_followed_with_a_new_key(raw_server: RawServer) -> None:
    async def accept(peer: Peer, request: UpgradeRequest) -> list[ClientFrame]:
        peer.send(handshake_response(request.key, extra=[("Sec-WebSocket-Protocol", "chat")]))
        return await peer.echo_close()

    redirecting = RedirectingServer("/ws2", accept)
    server = await serve(raw_server, redirecting, handshake=False)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url, protocols=("chat",), headers={"X-A": "1"})
        assert ws.protocol == "chat"
        assert ws._response.url == server.url.with_path("/ws2")
        assert [r.status for r in ws._response.history] == [302]
        await ws.close()
    first, second = redirecting.requests
    assert first.request_line == "GET /ws HTTP/1.1"
    assert second.request_line == "GET /ws2 HTTP/1.1"
    assert first.key != second.key
    for request in (first, second):
        assert request.header("X-A") == "1"
        assert request.header("Sec-WebSocket-Protocol") == "chat"
        assert request.header("Upgrade") == "websocket"


async def test_redirect_to_a_ws_url_raises_non_http_redirect(raw_server: RawServer) -> None:
    location = "ws://127.0.0.1:1/ws2"

    async def never(peer: Peer, request: UpgradeRequest) -> None:
        raise AssertionError(f"unexpected request {request.request_line}")

    redirecting = RedirectingServer(location, never)
    server = await serve(raw_server, redirecting, handshake=False)
    async with airhttp.ClientSession() as session:
        with pytest.raises(airhttp.NonHttpUrlRedirectClientError) as info:
            await session.ws_connect(server.url)
    assert str(info.value) == location
    assert info.value.args == (location,)
    assert isinstance(info.value, airhttp.RedirectClientError)
    assert len(redirecting.requests) == 1


async def test_redirect_then_404_carries_the_history(raw_server: RawServer) -> None:
    async def not_found(peer: Peer, request: UpgradeRequest) -> bool:
        peer.send(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        return await peer.eof_within(0.5)

    redirecting = RedirectingServer("/ws2", not_found)
    server = await serve(raw_server, redirecting, handshake=False)
    async with airhttp.ClientSession() as session:
        with pytest.raises(airhttp.WSServerHandshakeError) as info:
            await session.ws_connect(server.url)
    exc = info.value
    assert exc.status == 404
    assert exc.message == "Invalid response status"
    assert exc.request_info.url == server.url.with_path("/ws2")
    assert [r.status for r in exc.history] == [302]


# --- frames the server must not send -------------------------------------------------

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
    async def script(peer: Peer) -> list[ClientFrame]:
        peer.send(frames)
        return await peer.frames_until_eof()

    server = await serve(raw_server, script)
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
    async def script(peer: Peer) -> list[ClientFrame]:
        peer.send(frames)
        return await peer.echo_close()

    server = await serve(raw_server, script)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url, max_msg_size=10)
        assert await ws.receive() == expected
        assert ws.exception() is None
        await ws.close()
    sent = wire(await server.result())
    assert sent[-1] == (CLOSE, close_body(1000))


async def test_messages_before_a_violation_are_delivered_first(raw_server: RawServer) -> None:
    async def script(peer: Peer) -> list[ClientFrame]:
        peer.send(server_frame(TEXT, b"ok"), server_frame(0x3))
        return await peer.frames_until_eof()

    server = await serve(raw_server, script)
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


# --- close paths ------------------------------------------------------------------------


async def test_server_close_is_answered_and_tcp_closed(raw_server: RawServer) -> None:
    async def script(peer: Peer) -> list[ClientFrame]:
        peer.send(close_frame(1000, b"bye"))
        return await peer.frames_until_eof()

    server = await serve(raw_server, script)
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
    async def script(peer: Peer) -> list[ClientFrame]:
        peer.send(close_frame(4000, b"x"))
        return await peer.frames_until_eof()

    server = await serve(raw_server, script)
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
    async def script(peer: Peer) -> list[ClientFrame]:
        peer.send(close_frame(1000, b"bye"))
        return await peer.frames_until_eof()

    server = await serve(raw_server, script)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url, autoclose=False)
        assert await ws.receive() == (WSMsgType.CLOSE, 1000, "bye")
        assert await ws.close() is True
        assert await ws.close() is False
        assert ws.close_code == 1000
    assert wire(await server.result()) == [(CLOSE, close_body(1000))]


async def test_empty_server_close_returns_at_once(raw_server: RawServer) -> None:
    async def script(peer: Peer) -> list[ClientFrame]:
        peer.send(close_frame(None))
        return await peer.frames_until_eof()

    server = await serve(raw_server, script)
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
    async def script(peer: Peer) -> None:
        return None

    server = await serve(raw_server, script)
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
    async def script(peer: Peer) -> None:
        peer.send(server_frame(TEXT, b"last words"))

    server = await serve(raw_server, script)
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


# --- receive(): timeouts, concurrency, cancellation ---------------------------------


async def test_receive_timeout_leaves_the_socket_usable(raw_server: RawServer) -> None:
    late = asyncio.Event()

    async def script(peer: Peer) -> list[ClientFrame]:
        await late.wait()
        peer.send(server_frame(TEXT, b"late"))
        return await peer.echo_close()

    server = await serve(raw_server, script)
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

    async def script(peer: Peer) -> list[ClientFrame]:
        await go.wait()
        peer.send(server_frame(TEXT, b"x"))
        return await peer.echo_close()

    server = await serve(raw_server, script)
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

    async def script(peer: Peer) -> list[ClientFrame]:
        await go.wait()
        peer.send(server_frame(TEXT, b"after"))
        return await peer.echo_close()

    server = await serve(raw_server, script)
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
    async def script(peer: Peer) -> list[ClientFrame]:
        peer.send(server_frame(TEXT, b"hello")[:4])
        return await peer.frames_until_eof()

    server = await serve(raw_server, script)
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


# --- pings and pongs ----------------------------------------------------------------


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
    async def script(peer: Peer) -> list[ClientFrame]:
        peer.send(server_frame(PONG, b"u"), server_frame(TEXT, b"t"))
        return await peer.echo_close()

    server = await serve(raw_server, script)
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


# --- sending --------------------------------------------------------------------------


async def test_sending_after_close_raises_connection_reset(raw_server: RawServer) -> None:
    server = await serve(raw_server, echo_close)
    async with airhttp.ClientSession() as session:
        ws = await session.ws_connect(server.url)
        await ws.close()
        sends = [
            ws.send_str("x"),
            ws.send_bytes(b"x"),
            ws.send_json({}),
            ws.ping(),
            ws.pong(),
            ws.send_frame(b"x", WSMsgType.TEXT),
        ]
        for send in sends:
            with pytest.raises(airhttp.ClientConnectionResetError) as info:
                await send
            assert str(info.value) == CANNOT_WRITE
    assert wire(await server.result()) == [(CLOSE, close_body(1000))]


async def test_sending_after_the_server_dropped_tcp(raw_server: RawServer) -> None:
    async def script(peer: Peer) -> None:
        return None

    server = await serve(raw_server, script)
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
    async def script(peer: Peer) -> list[ClientFrame]:
        peer.send(server_frame(BINARY, b"\x00\x01bin"), server_frame(TEXT, b"txt"))
        return await peer.echo_close()

    server = await serve(raw_server, script)
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


# --- the same scenarios with aiohttp's client as the oracle ----------------------------

Scenario = Callable[[Any, RawServer], Awaitable[Any]]


async def run_both(raw_server: RawServer, scenario: Scenario) -> tuple[Any, Any]:
    """The scenario's observables with airhttp, then with aiohttp (the reference)."""
    import aiohttp

    ours = await scenario(airhttp, raw_server)
    theirs = await scenario(aiohttp, raw_server)
    return ours, theirs


def observe_message(msg: Any) -> tuple[Any, ...]:
    data = msg.data
    if isinstance(data, BaseException):
        data = (type(data).__name__, getattr(data, "code", None), str(data))
    return (int(msg.type), data, msg.extra)


def observe_state(ws: Any) -> tuple[Any, ...]:
    code = ws.close_code
    return (ws.closed, None if code is None else int(code))


def observe_error(exc: BaseException | None) -> tuple[str, str] | None:
    return None if exc is None else (type(exc).__name__, str(exc))


async def test_same_as_aiohttp_server_close_4000(raw_server: RawServer) -> None:
    async def scenario(lib: Any, raw_server: RawServer) -> Any:
        async def script(peer: Peer) -> list[tuple[int, bytes]]:
            peer.send(close_frame(4000, b"x"))
            return wire(await peer.frames_until_eof())

        server = await serve(raw_server, script)
        async with lib.ClientSession() as session:
            ws = await session.ws_connect(server.url)
            first = observe_message(await ws.receive())
            state = observe_state(ws), observe_error(ws.exception())
            second = observe_message(await ws.receive())
        return first, state, second, await server.result()

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
        async def script(peer: Peer) -> None:
            return None

        server = await serve(raw_server, script)
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


async def test_same_as_aiohttp_invalid_utf8(raw_server: RawServer) -> None:
    async def scenario(lib: Any, raw_server: RawServer) -> Any:
        async def script(peer: Peer) -> list[tuple[int, bytes]]:
            peer.send(server_frame(TEXT, b"\xff"))
            return wire(await peer.frames_until_eof())

        server = await serve(raw_server, script)
        async with lib.ClientSession() as session:
            ws = await session.ws_connect(server.url)
            first = observe_message(await ws.receive())
            # exception() differs on purpose (decisions #5): not compared.
            state = observe_state(ws)
            second = observe_message(await ws.receive())
        return first, state, second, await server.result()

    ours, theirs = await run_both(raw_server, scenario)
    assert ours == theirs
    assert ours == (
        (int(WSMsgType.ERROR), ("WebSocketError", 1007, "Invalid UTF-8 text message"), None),
        (True, 1007),
        (int(WSMsgType.CLOSED), None, None),
        [(CLOSE, close_body(1007))],
    )


async def test_same_as_aiohttp_receive_timeout(raw_server: RawServer) -> None:
    async def scenario(lib: Any, raw_server: RawServer) -> Any:
        late = asyncio.Event()

        async def script(peer: Peer) -> list[tuple[int, bytes]]:
            await late.wait()
            peer.send(server_frame(TEXT, b"late"))
            return wire(await peer.echo_close())

        server = await serve(raw_server, script)
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
        return raised, state, message, closed, await server.result()

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


async def test_same_as_aiohttp_message_type_error(raw_server: RawServer) -> None:
    async def scenario(lib: Any, raw_server: RawServer) -> Any:
        async def script(peer: Peer) -> list[tuple[int, bytes]]:
            peer.send(server_frame(BINARY, b"\x00\x01bin"), server_frame(TEXT, b'{"a":'))
            return wire(await peer.echo_close())

        server = await serve(raw_server, script)
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
        return errors, state, await server.result()

    ours, theirs = await run_both(raw_server, scenario)
    assert ours == theirs
    assert ours[0][0] == (
        ("WSMessageTypeError", "Received message 2:b'\\x00\\x01bin' is not WSMsgType.TEXT"),
        True,
    )
    assert ours[0][1][0][0] == "JSONDecodeError"


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(
            dict(
                status="404 Not Found",
                upgrade=None,
                connection=None,
                accept=None,
                extra=[("Content-Length", "0")],
            ),
            id="404",
        ),
        pytest.param(dict(accept="AAAA"), id="wrong-accept"),
        pytest.param(dict(upgrade="foo"), id="upgrade-foo"),
    ],
)
async def test_same_as_aiohttp_handshake_failure(
    raw_server: RawServer, answer: dict[str, Any]
) -> None:
    async def scenario(lib: Any, raw_server: RawServer) -> Any:
        async def script(peer: Peer) -> None:
            request = await peer.read_request()
            assert request is not None
            peer.send(handshake_response(request.key, **answer))
            await peer.eof_within(0.2)

        server = await serve(raw_server, script, handshake=False)
        async with lib.ClientSession() as session:
            try:
                await session.ws_connect(server.url)
            except lib.WSServerHandshakeError as exc:
                caught = exc
        await server.result()
        # Each run has its own port and key: compare what does not depend on them.
        assert caught.request_info.url == server.url
        return (
            type(caught).__name__,
            caught.status,
            caught.message,
            str(caught).replace(str(server.url), "URL"),
            [(k, v) for k, v in caught.headers.items() if k != "Sec-WebSocket-Accept"],
            caught.history,
        )

    ours, theirs = await run_both(raw_server, scenario)
    assert ours == theirs
    assert ours[3] == f"{ours[1]}, message='{ours[2]}', url='URL'"


async def test_same_as_aiohttp_without_autoclose(raw_server: RawServer) -> None:
    async def scenario(lib: Any, raw_server: RawServer) -> Any:
        async def script(peer: Peer) -> list[tuple[int, bytes]]:
            peer.send(close_frame(1001, b"later"))
            return wire(await peer.frames_until_eof())

        server = await serve(raw_server, script)
        async with lib.ClientSession() as session:
            ws = await session.ws_connect(server.url, autoclose=False)
            steps = [observe_message(await ws.receive()), observe_state(ws)]
            steps += [observe_message(await ws.receive()), observe_state(ws)]
            steps.append(await ws.close())
        return steps, await server.result()

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


async def test_same_as_aiohttp_autoping_off(raw_server: RawServer) -> None:
    async def scenario(lib: Any, raw_server: RawServer) -> Any:
        async def script(peer: Peer) -> list[tuple[int, bytes]]:
            peer.send(
                server_frame(PING, b"hi"), server_frame(PONG, b"po"), server_frame(TEXT, b"t")
            )
            return wire(await peer.echo_close())

        server = await serve(raw_server, script)
        async with lib.ClientSession() as session:
            ws = await session.ws_connect(server.url, autoping=False)
            seen = [observe_message(await ws.receive()) for _ in range(3)]
            await ws.close()
        return seen, await server.result()

    ours, theirs = await run_both(raw_server, scenario)
    assert ours == theirs
    assert ours == (
        [(int(WSMsgType.PING), b"hi", ""), (int(WSMsgType.PONG), b"po", ""), (1, "t", "")],
        [(CLOSE, close_body(1000))],
    )


async def test_same_as_aiohttp_heartbeat_timeout(raw_server: RawServer) -> None:
    async def scenario(lib: Any, raw_server: RawServer) -> Any:
        async def script(peer: Peer) -> list[tuple[int, bytes]]:
            return wire(await peer.frames_until_eof())

        server = await serve(raw_server, script)
        async with lib.ClientSession() as session:
            ws = await session.ws_connect(server.url, heartbeat=0.2)
            first = observe_message(await ws.receive())
            second = observe_message(await ws.receive())
            state = observe_state(ws), observe_error(ws.exception())
        return first, second, state, await server.result()

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


async def test_same_as_aiohttp_request_head(raw_server: RawServer) -> None:
    async def scenario(lib: Any, raw_server: RawServer) -> Any:
        server = await serve(raw_server, echo_close)
        async with lib.ClientSession() as session:
            async with session.ws_connect(
                server.url,
                protocols=("chat", "superchat"),
                origin="http://o.example",
                headers={"X-A": "1"},
                compress=15,
            ):
                pass
        await server.result()
        request = server.peers[0].requests[0]
        return [
            (name, value)
            for name, value in request.headers
            if name not in ("Host", "Sec-WebSocket-Key", "User-Agent")
        ], request.request_line

    ours, theirs = await run_both(raw_server, scenario)
    assert ours == theirs


def test_accept_helper_matches_rfc_6455_example() -> None:
    # RFC 6455 section 1.3's worked example keeps the test server's own answer honest.
    assert accept_for("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_server_frame_helper_uses_the_shortest_length_form() -> None:
    assert server_frame(TEXT, b"abc") == b"\x81\x03abc"
    assert server_frame(BINARY, b"x" * 126)[:4] == b"\x82\x7e\x00\x7e"
    assert server_frame(BINARY, b"x" * 65536)[:10] == b"\x82\x7f" + (65536).to_bytes(8, "big")
    assert server_frame(PING, b"", fin=False, rsv=2) == b"\x29\x00"

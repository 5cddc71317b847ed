"""airhttp's WebSocket client against two independent servers, over real sockets.

Every test runs against `websockets` (its asyncio server) and aiohttp.web's
WebSocketResponse unless only one of them can play the part (fragmenting: websockets;
server heartbeats: aiohttp.web). The servers and fixtures live in `ws_peers`.
Compression, TLS and proxies are in test_ws_interop_deflate_tls.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from typing import Any

import pytest
from yarl import URL

import airhttp
from airhttp import WSMsgType

from .ws_peers import (
    AiohttpPeer,
    Peer,
    PeerOptions,
    WebsocketsPeer,
    burst_message,
    echo,
    fragment_payload,
)

TEXT, BINARY, PING, PONG = WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.PING, WSMsgType.PONG
CLOSE, CLOSED, ERROR = WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR
MiB = 2**20


# --- messages -------------------------------------------------------------------------------


async def test_text_message_comes_back_as_text(peer: Peer, session: airhttp.ClientSession) -> None:
    url = await peer.start()
    async with session.ws_connect(url) as ws:
        await ws.send_str("hello")
        msg = await ws.receive()
    assert (msg.type, msg.data, msg.extra) == (TEXT, "hello", "")


async def test_binary_message_comes_back_as_binary(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start()
    async with session.ws_connect(url) as ws:
        await ws.send_bytes(bytes(range(256)))
        msg = await ws.receive()
    assert (msg.type, msg.data, msg.extra) == (BINARY, bytes(range(256)), "")


async def test_json_round_trips_as_text_and_as_binary(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start()
    payload = {"a": [1, 2], "b": "é", "c": None}
    async with session.ws_connect(url) as ws:
        await ws.send_json(payload)
        text = await ws.receive_str()
        await ws.send_json(payload)
        decoded = await ws.receive_json()
        await ws.send_json_bytes(payload, dumps=lambda obj: json.dumps(obj).encode())
        binary = await ws.receive()
    assert text == '{"a": [1, 2], "b": "\\u00e9", "c": null}'
    assert decoded == payload
    assert binary.type is BINARY
    assert binary.json() == payload


async def test_empty_text_and_binary_messages_come_back_empty(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start()
    async with session.ws_connect(url) as ws:
        await ws.send_str("")
        await ws.send_bytes(b"")
        first, second = await ws.receive(), await ws.receive()
    assert (first.type, first.data) == (TEXT, "")
    assert (second.type, second.data) == (BINARY, b"")


async def test_unicode_text_survives_both_ways(peer: Peer, session: airhttp.ClientSession) -> None:
    url = await peer.start()
    text = "héllo wörld — 日本語 \U0001f389 \u0000 \ufeff"
    async with session.ws_connect(url) as ws:
        assert await echo(ws, text) == text
        assert await echo(ws, text * 1000) == text * 1000


@pytest.mark.parametrize("size", [MiB, 16 * MiB], ids=["1MiB", "16MiB"])
async def test_large_messages_travel_both_ways(
    peer: Peer, session: airhttp.ClientSession, size: int
) -> None:
    url = await peer.start(PeerOptions(max_size=size))
    binary = os.urandom(size)
    text = "0123456789abcdef" * (size // 16)
    # Exactly max_msg_size is allowed (aiohttp refuses it: /tmp/ws_decisions.md item 4).
    async with session.ws_connect(url, max_msg_size=size) as ws:
        await ws.send_bytes(binary)
        assert await ws.receive_bytes() == binary
        await ws.send_str(text)
        assert await ws.receive_str() == text


async def test_many_small_messages_keep_their_order(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start()
    sent = [f"message {i}" for i in range(500)]
    async with session.ws_connect(url) as ws:
        for text in sent:
            await ws.send_str(text)
        received = [await ws.receive_str() for _ in sent]
    assert received == sent


async def test_a_burst_read_late_arrives_whole_and_in_order(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start()
    async with session.ws_connect(url) as ws:
        # 8 MiB arrive while nobody reads: the client must pause the socket, then resume.
        await ws.send_str("!burst 128 65536")
        await asyncio.sleep(0.2)
        received = [await ws.receive_bytes() for _ in range(128)]
        assert await echo(ws, "after the burst") == "after the burst"
    assert received == [burst_message(index, 65536) for index in range(128)]


async def test_a_message_over_max_msg_size_fails_with_1009(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start()
    ws = await session.ws_connect(url, max_msg_size=1000)
    # The limit itself is allowed (aiohttp's client refuses a message of exactly 1000).
    assert await echo(ws, "x" * 1000) == "x" * 1000
    await ws.send_str("x" * 1001)
    msg = await ws.receive()
    assert msg.type is ERROR
    assert isinstance(msg.data, airhttp.WebSocketError)
    assert msg.data.code == airhttp.WSCloseCode.MESSAGE_TOO_BIG
    assert ws.closed
    assert ws.close_code == airhttp.WSCloseCode.MESSAGE_TOO_BIG
    assert ws.exception() is msg.data
    assert (await ws.receive()).type is CLOSED
    # We told the server why, in our CLOSE frame.
    assert await peer.next_client_close() == (1009, "")


async def test_text_split_inside_utf8_sequences_is_joined(
    websockets_peer: WebsocketsPeer, session: airhttp.ClientSession
) -> None:
    url = await websockets_peer.start()
    text = "héllo 日本語 \U0001f389"
    async with session.ws_connect(url) as ws:
        await ws.send_str(f"!utf8 {text}")
        assert await ws.receive_str() == text


@pytest.mark.parametrize("kind", ["text", "binary"])
async def test_fragmented_message_from_the_server_arrives_whole(
    websockets_peer: WebsocketsPeer, session: airhttp.ClientSession, kind: str
) -> None:
    url = await websockets_peer.start(PeerOptions(max_size=2 * MiB))
    expected = b"".join(fragment_payload(16, 64 * 1024))
    async with session.ws_connect(url, max_msg_size=2 * MiB) as ws:
        await ws.send_str(f"!fragments 16 65536 {kind}")
        msg = await ws.receive()
        # A message straight after the fragmented one is not mixed into it.
        assert await echo(ws, "after") == "after"
    if kind == "text":
        assert (msg.type, msg.data) == (TEXT, expected.decode())
    else:
        assert (msg.type, msg.data) == (BINARY, expected)


async def test_many_tiny_fragments_from_the_server_arrive_whole(
    websockets_peer: WebsocketsPeer, session: airhttp.ClientSession
) -> None:
    url = await websockets_peer.start()
    async with session.ws_connect(url) as ws:
        await ws.send_str("!fragments 26 1 text")
        assert await ws.receive_str() == "abcdefghijklmnopqrstuvwxyz"


# --- ping, pong, heartbeat ------------------------------------------------------------------


async def test_client_ping_is_answered_with_its_payload(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start()
    async with session.ws_connect(url, autoping=False) as ws:
        await ws.ping(b"are you there")
        msg = await ws.receive()
        await ws.ping()
        empty = await ws.receive()
    assert (msg.type, msg.data) == (PONG, b"are you there")
    assert (empty.type, empty.data) == (PONG, b"")


async def test_server_ping_is_answered_automatically_and_not_returned(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start()
    async with session.ws_connect(url) as ws:
        await ws.send_str("!ping knock knock")
        msg = await ws.receive()
    # The server sends "pong ..." only once our PONG with its payload arrived.
    assert (msg.type, msg.data) == (TEXT, "pong knock knock")


async def test_server_ping_with_autoping_off_is_returned_and_answered_by_hand(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start()
    async with session.ws_connect(url, autoping=False) as ws:
        await ws.send_str("!ping manual")
        ping = await ws.receive()
        await ws.pong(ping.data)
        msg = await ws.receive()
    assert (ping.type, ping.data, ping.extra) == (PING, b"manual", "")
    assert (msg.type, msg.data) == (TEXT, "pong manual")


async def test_heartbeat_keeps_a_connection_to_a_live_server_open(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start()
    # A PONG may take 0.1 s: room for a loaded machine.
    async with session.ws_connect(url, heartbeat=0.2) as ws:
        await asyncio.sleep(0.5)
        assert not ws.closed
        assert await echo(ws, "still here") == "still here"
    assert ws.close_code == 1000
    if isinstance(peer, AiohttpPeer):
        # Our empty heartbeat pings reached the server, one per 0.2 s.
        assert peer.pings_seen == 2


async def test_heartbeat_gives_up_on_a_server_that_stops_reading(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start()
    async with session.ws_connect(url, heartbeat=0.1) as ws:
        await ws.send_str("!deaf")
        assert await ws.receive_str() == "deaf"
        loop = asyncio.get_running_loop()
        started = loop.time()
        error = await ws.receive()
        elapsed = loop.time() - started
        after = await ws.receive()
    assert error.type is ERROR
    assert isinstance(error.data, airhttp.ServerTimeoutError)
    assert str(error.data) == "No PONG received after 0.05 seconds"
    assert 0.14 <= elapsed < 1.0
    assert after.type is CLOSED
    assert ws.closed
    assert ws.close_code == airhttp.WSCloseCode.ABNORMAL_CLOSURE
    assert ws.exception() is error.data


async def test_heartbeat_gives_up_on_a_server_that_ignores_pings(
    aiohttp_peer: AiohttpPeer, session: airhttp.ClientSession
) -> None:
    aiohttp_peer.answer_pings = False
    url = await aiohttp_peer.start()
    async with session.ws_connect(url, heartbeat=0.1) as ws:
        msg = await ws.receive()
    assert msg.type is ERROR
    assert str(msg.data) == "No PONG received after 0.05 seconds"
    assert ws.close_code == airhttp.WSCloseCode.ABNORMAL_CLOSURE
    # We hung up without a CLOSE frame, after one unanswered PING.
    assert await aiohttp_peer.next_client_close() is None
    assert aiohttp_peer.pings_seen == 1


async def test_server_heartbeat_is_answered_while_nobody_calls_receive(
    aiohttp_peer: AiohttpPeer, session: airhttp.ClientSession
) -> None:
    # aiohttp.web's heartbeat drops the connection if a PONG is 0.1 s late. Unlike
    # aiohttp's client we answer pings as they arrive, not only inside receive().
    aiohttp_peer.heartbeat = 0.2
    url = await aiohttp_peer.start()
    async with session.ws_connect(url) as ws:
        await asyncio.sleep(0.5)
        assert await echo(ws, "alive") == "alive"
    assert ws.close_code == 1000
    assert await aiohttp_peer.next_client_close() == (1000, "")


# --- closing --------------------------------------------------------------------------------


async def test_client_close_sends_1000_and_waits_for_the_answer(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start()
    ws = await session.ws_connect(url)
    assert await ws.close() is True
    assert await ws.close() is False
    assert ws.closed
    assert ws.close_code == 1000
    assert ws.exception() is None
    assert (await ws.receive()).type is CLOSED
    assert await peer.next_client_close() == (1000, "")


async def test_client_close_with_code_and_reason_reaches_the_server(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start()
    ws = await session.ws_connect(url)
    assert await ws.close(code=4000, message=b"see you later") is True
    assert await peer.next_client_close() == (4000, "see you later")
    # close_code is the server's answer: websockets echoes our code, aiohttp.web says 1000.
    assert ws.close_code == (4000 if peer.echoes_close_code else 1000)
    assert ws.exception() is None


async def test_close_reason_may_be_str_and_unicode(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start()
    ws = await session.ws_connect(url)
    await ws.close(code=4001, message="über")
    assert await peer.next_client_close() == (4001, "über")


@pytest.mark.parametrize(("code", "reason"), [(1001, ""), (4001, "server says bye")])
async def test_server_close_is_returned_with_code_and_reason(
    peer: Peer, session: airhttp.ClientSession, code: int, reason: str
) -> None:
    url = await peer.start()
    ws = await session.ws_connect(url)
    await ws.send_str(f"!close {code} {reason}")
    msg = await ws.receive()
    assert (msg.type, msg.data, msg.extra) == (CLOSE, code, reason)
    assert ws.closed
    assert ws.close_code == code
    assert (await ws.receive()).type is CLOSED
    assert (await ws.receive()).type is CLOSED
    assert ws.exception() is None
    # Our answer to the server's CLOSE is 1000, as aiohttp's client answers.
    assert await peer.next_client_close() == (1000, "")


async def test_server_close_with_autoclose_off_waits_for_our_close(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start()
    ws = await session.ws_connect(url, autoclose=False)
    await ws.send_str("!close 4002 later")
    msg = await ws.receive()
    assert (msg.type, msg.data, msg.extra) == (CLOSE, 4002, "later")
    assert not ws.closed
    assert ws.close_code == 4002
    assert await ws.close() is True
    assert ws.closed
    assert await peer.next_client_close() == (1000, "")


async def test_server_dropping_tcp_is_an_abnormal_closure(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start()
    ws = await session.ws_connect(url)
    await ws.send_str("!abort")
    msg = await ws.receive()
    assert (msg.type, msg.data, msg.extra) == (CLOSED, None, None)
    assert ws.closed
    assert ws.close_code == airhttp.WSCloseCode.ABNORMAL_CLOSURE
    assert isinstance(ws.exception(), airhttp.ClientConnectionResetError)
    assert (await ws.receive()).type is CLOSED
    assert await peer.next_client_close() is None
    with pytest.raises(airhttp.ClientConnectionResetError):
        await ws.send_str("too late")


async def test_leaving_async_with_closes_with_1000(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start()
    async with session.ws_connect(url) as ws:
        assert await echo(ws, "inside") == "inside"
    assert ws.closed
    assert ws.close_code == 1000
    assert await peer.next_client_close() == (1000, "")


async def test_leaving_async_with_through_an_exception_closes_with_1000(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start()
    with pytest.raises(LookupError):
        async with session.ws_connect(url) as ws:
            raise LookupError
    assert ws.closed
    assert await peer.next_client_close() == (1000, "")


async def test_closing_the_session_says_going_away(peer: Peer) -> None:
    url = await peer.start()
    session = airhttp.ClientSession()
    ws = await session.ws_connect(url)
    assert await echo(ws, "hi") == "hi"
    # aiohttp just drops the TCP connection here; we say goodbye first.
    await session.close()
    assert await peer.next_client_close() == (1001, "")
    assert ws.closed
    assert ws.close_code == 1001
    assert (await ws.receive()).type is CLOSED


async def test_close_while_the_server_is_still_sending(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start()
    ws = await session.ws_connect(url)
    await ws.send_str("!burst 200 1024")
    # What the server sends before its CLOSE answer is dropped.
    assert await ws.close() is True
    assert ws.close_code == 1000
    assert (await ws.receive()).type is CLOSED
    assert await peer.next_client_close() == (1000, "")


async def test_close_from_another_task_ends_a_reading_loop(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start()
    ws = await session.ws_connect(url)
    received: list[Any] = []
    first = asyncio.Event()

    async def read_all() -> None:
        async for msg in ws:
            received.append(msg.data)
            first.set()

    reader = asyncio.create_task(read_all())
    await ws.send_str("first")
    await asyncio.wait_for(first.wait(), 1.0)
    assert await ws.close() is True
    await asyncio.wait_for(reader, 1.0)
    assert received == ["first"]
    assert ws.close_code == 1000
    assert await peer.next_client_close() == (1000, "")


async def test_async_for_yields_messages_until_the_server_closes(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start()
    async with session.ws_connect(url) as ws:
        for text in ("one", "two", "three", "!close 1000 done"):
            await ws.send_str(text)
        received = [(msg.type, msg.data) async for msg in ws]
    assert received == [(TEXT, "one"), (TEXT, "two"), (TEXT, "three")]
    assert ws.closed
    assert ws.close_code == 1000


# --- what the socket reports ----------------------------------------------------------------


async def test_extra_info_names_the_peer_until_closed(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start()
    ws = await session.ws_connect(url)
    assert ws.get_extra_info("peername") == ("127.0.0.1", url.port)
    assert ws.get_extra_info("sockname")[0] == "127.0.0.1"
    assert ws.get_extra_info("sslcontext") is None
    assert ws.get_extra_info("no such thing", 5) == 5
    assert (ws.protocol, ws.compress, ws.client_notakeover) == (None, 0, False)
    await ws.close()
    assert ws.get_extra_info("peername") is None
    assert ws.get_extra_info("no such thing", 5) == 5


@pytest.mark.parametrize("offered", [("chat",), ("superchat", "chat")])
async def test_subprotocol_the_server_selects_is_reported(
    peer: Peer, session: airhttp.ClientSession, offered: tuple[str, ...]
) -> None:
    url = await peer.start(PeerOptions(protocols=("chat",)))
    async with session.ws_connect(url, protocols=offered) as ws:
        assert ws.protocol == "chat"
        assert await echo(ws, "chatting") == "chatting"
    handshake = peer.handshakes[0]
    assert handshake.headers["Sec-WebSocket-Protocol"] == ",".join(offered)
    assert handshake.response_headers["Sec-WebSocket-Protocol"] == "chat"


async def test_subprotocol_mismatch_is_each_servers_call(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start(PeerOptions(protocols=("chat",)))
    if isinstance(peer, WebsocketsPeer):
        # websockets refuses a client that speaks none of its subprotocols.
        with pytest.raises(airhttp.WSServerHandshakeError) as info:
            await session.ws_connect(url, protocols=("other",))
        assert (info.value.status, info.value.message) == (400, "Invalid response status")
        return
    # aiohttp.web goes on without one; so does the client (as aiohttp's does).
    async with session.ws_connect(url, protocols=("other",)) as ws:
        assert ws.protocol is None
        assert await echo(ws, "plain") == "plain"
    assert "Sec-WebSocket-Protocol" not in peer.handshakes[0].response_headers


# --- the handshake is an ordinary request of the session ------------------------------------


async def test_handshake_headers_in_aiohttps_order(peer: Peer) -> None:
    url = await peer.start()
    async with airhttp.ClientSession(headers={"X-Session": "s"}) as session:
        async with session.ws_connect(url, headers={"X-Call": "c"}, origin="http://o.test"):
            pass
    handshake = peer.handshakes[0]
    names = [name for name, _ in handshake.request_headers]
    assert names == [
        "Host",
        "X-Session",
        "X-Call",
        "Upgrade",
        "Connection",
        "Sec-WebSocket-Version",
        "Sec-WebSocket-Key",
        "Origin",
        "Accept",
        "Accept-Encoding",
        "User-Agent",
    ]
    headers = handshake.headers
    assert (headers["Host"], headers["X-Session"], headers["X-Call"]) == (
        f"127.0.0.1:{url.port}",
        "s",
        "c",
    )
    assert (headers["Upgrade"], headers["Connection"], headers["Sec-WebSocket-Version"]) == (
        "websocket",
        "Upgrade",
        "13",
    )
    assert headers["Origin"] == "http://o.test"
    assert re.fullmatch(r"[A-Za-z0-9+/]{22}==", headers["Sec-WebSocket-Key"])


async def test_a_call_header_overrides_the_sessions_in_its_place(peer: Peer) -> None:
    url = await peer.start()
    async with airhttp.ClientSession(headers={"X-S": "session", "User-Agent": "UA/1"}) as session:
        async with session.ws_connect(url, headers={"X-A": "1", "X-S": "call"}):
            pass
    request_headers = peer.handshakes[0].request_headers
    assert request_headers[:4] == [
        ("Host", f"127.0.0.1:{url.port}"),
        ("X-S", "call"),
        ("User-Agent", "UA/1"),
        ("X-A", "1"),
    ]
    assert [value for name, value in request_headers if name == "User-Agent"] == ["UA/1"]


async def test_cookies_go_with_the_handshake_and_set_cookie_on_the_101_is_stored(
    peer: Peer,
) -> None:
    url = await peer.start(PeerOptions(set_cookie=("srv", "42")))
    # unsafe: the jar must take cookies from an IP address.
    jar = airhttp.CookieJar(unsafe=True)
    async with airhttp.ClientSession(cookies={"sid": "abc"}, cookie_jar=jar) as session:
        async with session.ws_connect(url) as ws:
            assert await echo(ws, "x") == "x"
        stored = jar.filter_cookies(url.with_scheme("http"))
        assert (stored["sid"].value, stored["srv"].value) == ("abc", "42")
        async with session.ws_connect(url):
            pass
    first, second = peer.handshakes
    assert first.headers.getall("Cookie") == ["sid=abc"]
    assert first.response_headers["Set-Cookie"].startswith("srv=42")
    assert second.headers.getall("Cookie") == ["sid=abc; srv=42"]


async def test_credentials_go_with_the_handshake_as_basic_auth(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start()
    async with session.ws_connect(url, auth=airhttp.BasicAuth("user", "pass")):
        pass
    async with session.ws_connect(url.with_user("u").with_password("p")):
        pass
    first, second = peer.handshakes
    assert first.headers["Authorization"] == "Basic dXNlcjpwYXNz"
    assert second.headers["Authorization"] == "Basic dTpw"


async def test_params_are_added_to_the_query(peer: Peer, session: airhttp.ClientSession) -> None:
    url = await peer.start()
    async with session.ws_connect(url / "a" % {"b": "1"}, params={"c": "2"}) as ws:
        assert ws._response.url == url / "a" % {"b": "1", "c": "2"}
    assert peer.handshakes[0].path_qs == "/a?b=1&c=2"


async def test_a_middleware_adds_a_header_and_sees_the_101(peer: Peer) -> None:
    url = await peer.start()
    seen: list[tuple[str, str, int]] = []

    async def middleware(
        request: airhttp.ClientRequest, handler: airhttp.ClientHandlerType
    ) -> airhttp.ClientResponse:
        request.headers["X-Middleware"] = "yes"
        response = await handler(request)
        seen.append((request.method, str(request.url), response.status))
        return response

    async with airhttp.ClientSession(middlewares=(middleware,)) as session:
        async with session.ws_connect(url) as ws:
            assert await echo(ws, "through") == "through"
    assert peer.handshakes[0].headers["X-Middleware"] == "yes"
    assert seen == [("GET", str(url), 101)]


async def test_trace_signals_fire_for_the_handshake(peer: Peer) -> None:
    url = await peer.start()
    events: list[tuple[str, str, URL, int | None]] = []
    config = airhttp.TraceConfig()

    async def on_start(session: Any, ctx: Any, params: Any) -> None:
        events.append(("start", params.method, params.url, None))

    async def on_end(session: Any, ctx: Any, params: Any) -> None:
        events.append(("end", params.method, params.url, params.response.status))

    config.on_request_start.append(on_start)
    config.on_request_end.append(on_end)
    async with airhttp.ClientSession(trace_configs=[config]) as session:
        async with session.ws_connect(url) as ws:
            assert events == [("start", "GET", url, None), ("end", "GET", url, 101)]
            assert await echo(ws, "traced") == "traced"
    assert len(events) == 2

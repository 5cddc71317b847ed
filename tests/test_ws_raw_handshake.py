"""airhttp's WebSocket client against servers that speak RFC 6455 by hand: the handshake.

The servers (tests/ws_support.py) read the upgrade request and answer it byte for byte:
failures, the request on the wire, subprotocols and redirects. The last section runs
some of them with aiohttp's client too, as the oracle for behaviour meant to match.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import airhttp

from .conftest import RawServer
from .ws_support import (
    CLOSE,
    ClientFrame,
    Peer,
    UpgradeRequest,
    accept_for,
    close_body,
    echo_close,
    handshake_response,
    parse_request,
    run_both,
    serve,
    wire,
)

# --- the opening handshake: failures --------------------------------------------------


def refusal(status: str, body: bytes = b"", *extra: tuple[str, str]) -> dict[str, Any]:
    """A plain HTTP answer instead of the 101: no upgrade headers, `body` and its length."""
    return dict(
        status=status,
        upgrade=None,
        connection=None,
        accept=None,
        extra=[("Content-Length", str(len(body))), *extra],
        body=body,
    )


X_TEST = ("X-Test", "1")
# What the server gets wrong, the status and the message of the error we raise.
HANDSHAKE_FAILURES = [
    pytest.param(
        refusal("200 OK", b"hello", X_TEST), 200, "Invalid response status", id="200-instead-of-101"
    ),
    pytest.param(
        refusal("404 Not Found", b"not found", X_TEST), 404, "Invalid response status", id="404"
    ),
    *(
        pytest.param({header: value, "extra": [X_TEST]}, 101, message, id=case)
        for case, header, value, message in [
            ("no-upgrade", "upgrade", None, "Invalid upgrade header"),
            ("upgrade-foo", "upgrade", "foo", "Invalid upgrade header"),
            ("no-connection", "connection", None, "Invalid connection header"),
            ("connection-keep-alive", "connection", "keep-alive", "Invalid connection header"),
            ("wrong-accept", "accept", "dGhlIHNhbXBsZSBub25jZQ==", "Invalid challenge response"),
            ("missing-accept", "accept", None, "Invalid challenge response"),
        ]
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


# --- the opening handshake: the request on the wire -----------------------------------


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
    # aiohttp's form with airhttp's version added (http.SERVER_SOFTWARE).
    return airhttp.http.SERVER_SOFTWARE


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


# --- subprotocols ---------------------------------------------------------------------


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


# --- redirects ------------------------------------------------------------------------


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


# --- the test server's own answer -----------------------------------------------------


def test_accept_helper_matches_rfc_6455_example() -> None:
    # RFC 6455 section 1.3's worked example keeps the test server's own answer honest.
    assert accept_for("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


# --- the same with aiohttp's client as the oracle -------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(refusal("404 Not Found"), id="404"),
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

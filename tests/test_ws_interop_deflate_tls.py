"""airhttp's WebSocket client with compression, over TLS and through proxies, against
`websockets` and aiohttp.web (see test_ws_interop.py for the message and close paths).

TLS material comes from `tcp_support`, proxy.py from `proxy_support`.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import AsyncIterator, Iterator

import pytest
import trustme
from yarl import URL

import airhttp
from airhttp import WSMsgType

from .proxy_support import proxy_py
from .tcp_support import tls_material
from .ws_peers import (
    WEBSOCKETS_DEFAULT_DEFLATE,
    AiohttpPeer,
    Deflate,
    Peer,
    PeerOptions,
    UpgradingProxy,
    WebsocketsPeer,
    echo,
    fragment_payload,
    relay_to,
)

CLOSE, ERROR = WSMsgType.CLOSE, WSMsgType.ERROR
MiB = 2**20


# --- permessage-deflate -------------------------------------------------------------------


async def _exchange_a_mix(ws: airhttp.ClientWebSocketResponse) -> None:
    """Messages that exercise a compressor: repeats (context takeover), noise, size, nothing."""
    for i in range(6):
        text = f"repeat after me, number {i % 2}; " * 40
        assert await echo(ws, text) == text
    noise = os.urandom(65536)
    await ws.send_bytes(noise)
    assert await ws.receive_bytes() == noise
    big = "the quick brown fox jumps " * (MiB // 26)
    assert await echo(ws, big) == big
    assert await echo(ws, "") == ""
    await ws.send_bytes(b"")
    assert await ws.receive_bytes() == b""


def _extension_params(value: str) -> dict[str, str | None]:
    params: dict[str, str | None] = {}
    for part in value.split(";")[1:]:
        name, _, given = part.strip().partition("=")
        params[name] = given or None
    return params


def _agreed_client_window(peer: Peer) -> int:
    """RFC 7692 section 7.1.2.2: the server's limit if it set one, else the limit we offered."""
    handshake = peer.handshakes[0]
    for value in (
        handshake.response_headers["Sec-WebSocket-Extensions"],
        handshake.headers["Sec-WebSocket-Extensions"],
    ):
        bits = _extension_params(value).get("client_max_window_bits")
        if bits is not None:
            return int(bits)
    return 15


@pytest.mark.parametrize(
    ("deflate", "compress", "notakeover"),
    [
        (WEBSOCKETS_DEFAULT_DEFLATE, 12, False),
        (Deflate(), 15, False),
        (Deflate(server_no_context_takeover=True), 15, False),
        (Deflate(client_no_context_takeover=True), 15, True),
        (Deflate(server_max_window_bits=10), 15, False),
        (Deflate(client_max_window_bits=10), 10, False),
        (
            Deflate(
                server_no_context_takeover=True,
                client_no_context_takeover=True,
                server_max_window_bits=9,
                client_max_window_bits=9,
            ),
            9,
            True,
        ),
    ],
    ids=[
        "websockets-default",
        "plain",
        "server_no_context_takeover",
        "client_no_context_takeover",
        "server_max_window_bits=10",
        "client_max_window_bits=10",
        "all-four",
    ],
)
async def test_compress_15_agrees_to_each_server_setting(
    websockets_peer: WebsocketsPeer,
    session: airhttp.ClientSession,
    deflate: Deflate,
    compress: int,
    notakeover: bool,
) -> None:
    url = await websockets_peer.start(PeerOptions(max_size=2 * MiB, deflate=deflate))
    async with session.ws_connect(url, compress=15, max_msg_size=2 * MiB) as ws:
        assert (ws.compress, ws.client_notakeover) == (compress, notakeover)
        await _exchange_a_mix(ws)
        # websockets compresses its fragmented messages too: RSV1 on the first frame only.
        await ws.send_str("!fragments 8 3000 text")
        assert await ws.receive_str() == b"".join(fragment_payload(8, 3000)).decode()
    handshake = websockets_peer.handshakes[0]
    offer = "permessage-deflate; client_max_window_bits"
    assert handshake.headers["Sec-WebSocket-Extensions"] == offer
    assert handshake.response_headers["Sec-WebSocket-Extensions"].startswith("permessage-deflate")


async def test_a_client_window_of_8_bits_is_honoured(
    websockets_peer: WebsocketsPeer, session: airhttp.ClientSession
) -> None:
    # aiohttp refuses client_max_window_bits=8 ("Invalid window size"); we keep to it.
    url = await websockets_peer.start(PeerOptions(deflate=Deflate(client_max_window_bits=8)))
    async with session.ws_connect(url, compress=15) as ws:
        assert ws.compress == 8
        await _exchange_a_mix(ws)


@pytest.mark.parametrize("compress", range(9, 15))
async def test_smaller_windows_are_offered_as_aiohttp_does_and_round_trip(
    websockets_peer: WebsocketsPeer, session: airhttp.ClientSession, compress: int
) -> None:
    # The server caps our window at 11 bits and keeps its own at 10: offers above and
    # below both caps meet it.
    deflate = Deflate(client_max_window_bits=11, server_max_window_bits=10)
    url = await websockets_peer.start(PeerOptions(max_size=2 * MiB, deflate=deflate))
    async with session.ws_connect(url, compress=compress, max_msg_size=2 * MiB) as ws:
        assert ws.compress == _agreed_client_window(websockets_peer)
        assert ws.compress <= 11
        assert ws.client_notakeover is False
        await _exchange_a_mix(ws)
    handshake = websockets_peer.handshakes[0]
    assert handshake.headers["Sec-WebSocket-Extensions"] == (
        f"permessage-deflate; client_max_window_bits; server_max_window_bits={compress}"
    )
    response = _extension_params(handshake.response_headers["Sec-WebSocket-Extensions"])
    assert response["server_max_window_bits"] == str(min(compress, 10))


@pytest.mark.parametrize("compress", [15, 12, 9])
async def test_aiohttp_web_compression_round_trips(
    aiohttp_peer: AiohttpPeer, session: airhttp.ClientSession, compress: int
) -> None:
    url = await aiohttp_peer.start(PeerOptions(max_size=2 * MiB, deflate=Deflate()))
    async with session.ws_connect(url, compress=compress, max_msg_size=2 * MiB) as ws:
        assert ws.compress == _agreed_client_window(aiohttp_peer)
        assert ws.client_notakeover is False
        await _exchange_a_mix(ws)
    response = aiohttp_peer.handshakes[0].response_headers
    assert response["Sec-WebSocket-Extensions"].startswith("permessage-deflate")


async def test_compression_makes_messages_small_on_the_wire(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start(PeerOptions(max_size=2 * MiB, deflate=Deflate()))
    text = "all work and no play makes jack a dull boy " * (MiB // 43)
    async with relay_to(url) as (relay, relayed):
        async with session.ws_connect(relayed, max_msg_size=2 * MiB) as ws:
            assert ws.compress == 0
            assert await echo(ws, text) == text
        # Not offered, nothing is compressed: the relay saw the whole message each way.
        assert min(relay.upstream, relay.downstream) > len(text)
    async with relay_to(url) as (relay, relayed):
        async with session.ws_connect(relayed, compress=15, max_msg_size=2 * MiB) as ws:
            assert ws.compress == 15
            assert await echo(ws, text) == text
        # About 1 MiB each way in the clear; deflated, a few KiB.
        assert max(relay.upstream, relay.downstream) < 32 * 1024
    plain, compressed = peer.handshakes
    assert "Sec-WebSocket-Extensions" not in plain.headers
    assert "Sec-WebSocket-Extensions" not in plain.response_headers
    assert compressed.response_headers["Sec-WebSocket-Extensions"].startswith("permessage-deflate")


async def test_a_compressed_message_over_max_msg_size_fails_with_1009(
    websockets_peer: WebsocketsPeer, session: airhttp.ClientSession
) -> None:
    url = await websockets_peer.start(PeerOptions(deflate=Deflate()))
    ws = await session.ws_connect(url, compress=15, max_msg_size=1000)
    # A few bytes on the wire either way; 5000 once inflated.
    await ws.send_str("a" * 5000)
    msg = await ws.receive()
    assert msg.type is ERROR
    assert isinstance(msg.data, airhttp.WebSocketError)
    assert msg.data.code == airhttp.WSCloseCode.MESSAGE_TOO_BIG
    assert ws.close_code == airhttp.WSCloseCode.MESSAGE_TOO_BIG
    assert await websockets_peer.next_client_close() == (1009, "")


async def test_a_per_message_window_mixes_with_context_takeover(
    websockets_peer: WebsocketsPeer, session: airhttp.ClientSession
) -> None:
    url = await websockets_peer.start(PeerOptions(deflate=Deflate()))
    text = "context, context, context " * 100
    async with session.ws_connect(url, compress=15) as ws:
        for compress in (None, 9, None, None, 12, 15, None):
            await ws.send_str(text, compress=compress)
            assert await ws.receive_str() == text


async def test_nothing_is_compressed_when_the_server_declines(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    # aiohttp would set RSV1 on send_str(compress=15) here, which the server must refuse.
    url = await peer.start()
    async with session.ws_connect(url, compress=15) as ws:
        assert (ws.compress, ws.client_notakeover) == (0, False)
        await ws.send_str("plain please", compress=15)
        assert await ws.receive_str() == "plain please"
        assert await echo(ws, "still plain") == "still plain"
    assert peer.handshakes[0].headers["Sec-WebSocket-Extensions"].startswith("permessage-deflate")
    assert "Sec-WebSocket-Extensions" not in peer.handshakes[0].response_headers
    assert await peer.next_client_close() == (1000, "")


# --- wss:// -----------------------------------------------------------------------------------


def _trusting_context() -> ssl.SSLContext:
    return tls_material().client_context()


async def test_wss_round_trips_with_a_context_that_trusts_the_ca(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    options = PeerOptions(ssl=tls_material().server_context(), deflate=Deflate(), max_size=2 * MiB)
    url = await peer.start(options)
    assert url.scheme == "wss"
    context = _trusting_context()
    async with session.ws_connect(url, ssl=context, compress=15, max_msg_size=2 * MiB) as ws:
        assert ws.get_extra_info("sslcontext") is context
        assert ws.get_extra_info("peername") == ("127.0.0.1", url.port)
        assert ws.get_extra_info("ssl_object").server_hostname == "127.0.0.1"
        assert ws.compress == 15
        await _exchange_a_mix(ws)
    assert ws.close_code == 1000
    assert await peer.next_client_close() == (1000, "")


async def test_wss_with_an_untrusted_ca_fails_as_https_does(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start(PeerOptions(ssl=tls_material().server_context()))
    context = ssl.create_default_context()
    trustme.CA().configure_trust(context)
    with pytest.raises(airhttp.ClientConnectorCertificateError) as ws_failure:
        await session.ws_connect(url, ssl=context)
    with pytest.raises(airhttp.ClientConnectorCertificateError) as https_failure:
        await session.get(url.with_scheme("https"), ssl=context)
    assert type(ws_failure.value) is type(https_failure.value)
    assert ws_failure.value.host == https_failure.value.host == "127.0.0.1"
    assert ws_failure.value.port == url.port
    error = ws_failure.value.certificate_error
    assert isinstance(error, ssl.SSLCertVerificationError)
    assert error.verify_message == "unable to get local issuer certificate"
    assert peer.handshakes == []


async def test_wss_with_ssl_false_skips_verification(
    peer: Peer, session: airhttp.ClientSession
) -> None:
    url = await peer.start(PeerOptions(ssl=tls_material().server_context()))
    async with session.ws_connect(url, ssl=False) as ws:
        assert await echo(ws, "unverified") == "unverified"


# --- through proxies --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def open_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[URL]:
    with proxy_py(tmp_path_factory.mktemp("ws-proxy") / "open") as url:
        yield url


@pytest.fixture(scope="module")
def auth_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[URL]:
    """proxy.py that wants Basic credentials user:pass."""
    workdir = tmp_path_factory.mktemp("ws-proxy") / "auth"
    with proxy_py(workdir, "--basic-auth", "user:pass") as url:
        yield url


@pytest.fixture
async def upgrading_proxy() -> AsyncIterator[UpgradingProxy]:
    proxy = UpgradingProxy()
    yield proxy
    await proxy.close()


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "ws_proxy", "wss_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


async def test_wss_goes_through_a_connect_tunnel(
    peer: Peer, session: airhttp.ClientSession, open_proxy: URL
) -> None:
    url = await peer.start(PeerOptions(ssl=tls_material().server_context()))
    async with session.ws_connect(url, proxy=open_proxy, ssl=_trusting_context()) as ws:
        assert ws.get_extra_info("sslcontext") is not None
        assert await echo(ws, "tunnelled") == "tunnelled"
        await ws.send_str("!close 4003 tunnel closed")
        msg = await ws.receive()
    assert (msg.type, msg.data, msg.extra) == (CLOSE, 4003, "tunnel closed")
    headers = peer.handshakes[0].headers
    assert headers["Host"] == f"127.0.0.1:{url.port}"
    assert "Via" not in headers


async def test_wss_through_an_authenticating_proxy_with_proxy_auth(
    peer: Peer, session: airhttp.ClientSession, auth_proxy: URL
) -> None:
    url = await peer.start(PeerOptions(ssl=tls_material().server_context()))
    async with session.ws_connect(
        url,
        proxy=auth_proxy,
        proxy_auth=airhttp.BasicAuth("user", "pass"),
        ssl=_trusting_context(),
    ) as ws:
        assert await echo(ws, "authorised") == "authorised"
    # The credentials were for the proxy: never inside the tunnel.
    assert "Proxy-Authorization" not in peer.handshakes[0].headers


async def test_wss_through_an_authenticating_proxy_without_credentials_is_407(
    session: airhttp.ClientSession, websockets_peer: WebsocketsPeer, auth_proxy: URL
) -> None:
    url = await websockets_peer.start(PeerOptions(ssl=tls_material().server_context()))
    with pytest.raises(airhttp.ClientHttpProxyError) as info:
        await session.ws_connect(url, proxy=auth_proxy, ssl=_trusting_context())
    assert info.value.status == 407
    assert websockets_peer.handshakes == []


async def test_ws_through_proxy_py_is_refused_as_it_does_not_forward_upgrades(
    session: airhttp.ClientSession, websockets_peer: WebsocketsPeer, open_proxy: URL
) -> None:
    # ws:// goes to the proxy in absolute form, as aiohttp's does (no CONNECT);
    # proxy.py answers such an upgrade with 400 to both clients.
    url = await websockets_peer.start()
    with pytest.raises(airhttp.WSServerHandshakeError) as info:
        await session.ws_connect(url, proxy=open_proxy)
    assert (info.value.status, info.value.message) == (400, "Invalid response status")
    assert websockets_peer.handshakes == []


async def test_ws_goes_to_the_proxy_in_absolute_form_with_its_credentials(
    peer: Peer, session: airhttp.ClientSession, upgrading_proxy: UpgradingProxy
) -> None:
    url = await peer.start()
    proxy = await upgrading_proxy.start()
    async with session.ws_connect(
        url / "room" % {"n": "1"},
        proxy=proxy,
        proxy_auth=airhttp.BasicAuth("user", "pass"),
        proxy_headers={"X-Proxy": "p"},
    ) as ws:
        assert await echo(ws, "proxied") == "proxied"
    (head,) = upgrading_proxy.heads
    lines = head.decode().split("\r\n")
    assert lines[0] == f"GET ws://127.0.0.1:{url.port}/room?n=1 HTTP/1.1"
    assert "Proxy-Authorization: Basic dXNlcjpwYXNz" in lines
    # Unlike aiohttp, proxy_headers go with absolute-form requests too (docs/proxies.md).
    assert "X-Proxy: p" in lines
    assert "Upgrade: websocket" in lines
    assert peer.handshakes[0].path_qs == "/room?n=1"
    assert await peer.next_client_close() == (1000, "")

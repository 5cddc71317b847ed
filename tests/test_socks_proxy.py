"""SOCKS proxies through `proxy=`: every scheme, TLS and WebSocket targets, refusals,
broken proxies, pooling, credentials and the environment.

The proxy is tests/socks_server.py (ours, with its own tests) except in
tests/test_socks_pproxy.py, which runs the same traffic through pproxy.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from yarl import URL

import airhttp

from .conftest import WebServer
from .socks_server import SocksServer
from .tcp_support import tls_material

SCHEMES = ("socks4", "socks4a", "socks5", "socks5h")
REMOTE_DNS = {"socks4": False, "socks4a": True, "socks5": False, "socks5h": True}


async def _app(web_server: WebServer, *, tls: bool = False) -> URL:
    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        seen = {
            "line": f"{request.method} {request.raw_path}",
            "proxy_authorization": request.headers.get("Proxy-Authorization"),
            "authorization": request.headers.get("Authorization"),
            "body": body.decode(),
            "peer": request.transport.get_extra_info("peername")[0] if request.transport else "",
        }
        return web.json_response(seen)

    async def ws(request: web.Request) -> web.WebSocketResponse:
        socket_ = web.WebSocketResponse()
        await socket_.prepare(request)
        async for message in socket_:
            await socket_.send_str("echo:" + message.data)
        return socket_

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/ws", ws)
    context = tls_material().server_context() if tls else None
    return await web_server.start(app, ssl_context=context)


def _localhost(url: URL) -> URL:
    """The same server by name, so that who resolves it (client or proxy) matters."""
    return url.with_host("localhost")


@pytest.fixture
async def socks() -> AsyncIterator[SocksServer]:
    async with SocksServer(hosts={"localhost": "127.0.0.1"}) as proxy:
        yield proxy


@pytest.mark.parametrize("scheme", SCHEMES)
async def test_every_scheme_reaches_an_http_origin(
    web_server: WebServer, socks: SocksServer, scheme: str
) -> None:
    origin = _localhost(await _app(web_server)) / "echo"
    async with airhttp.ClientSession() as session:
        async with session.post(origin, data=b"hi", proxy=socks.url(scheme)) as resp:
            seen = await resp.json()
    assert resp.status == 200
    # Inside the tunnel only the origin reads the request: origin form, nothing for a proxy.
    assert seen["line"] == "POST /echo" and seen["proxy_authorization"] is None
    assert seen["body"] == "hi"
    (record,) = socks.records
    assert record.version == (4 if scheme.startswith("socks4") else 5)
    assert record.proxy_resolved is REMOTE_DNS[scheme]
    assert record.host == ("localhost" if REMOTE_DNS[scheme] else "127.0.0.1")
    assert record.port == origin.port


@pytest.mark.parametrize("scheme", ["socks4", "socks4a", "socks5", "socks5h"])
@pytest.mark.parametrize("how", ["url", "proxy_auth"])
async def test_credentials_from_the_url_or_proxy_auth(
    web_server: WebServer, scheme: str, how: str
) -> None:
    origin = await _app(web_server) / "echo"
    async with SocksServer(username="user", password="s3cret") as proxy:
        if how == "url":
            kwargs: dict[str, Any] = {"proxy": proxy.url(scheme, user="user", password="s3cret")}
        else:
            kwargs = {"proxy": proxy.url(scheme), "proxy_auth": airhttp.BasicAuth("user", "s3cret")}
        async with airhttp.ClientSession() as session:
            async with session.get(origin, **kwargs) as resp:
                seen = await resp.json()
        (record,) = proxy.records
    assert resp.status == 200 and seen["proxy_authorization"] is None
    assert record.username == "user"
    assert record.password == (None if scheme.startswith("socks4") else "s3cret")


async def test_an_https_origin_gets_tls_through_the_tunnel(web_server: WebServer) -> None:
    origin = await _app(web_server, tls=True) / "echo"
    async with SocksServer() as proxy:
        async with airhttp.ClientSession() as session:
            async with session.get(
                origin,
                proxy=proxy.url("socks5h"),
                ssl=tls_material().client_context(),
            ) as resp:
                seen = await resp.json()
    assert resp.status == 200 and seen["line"] == "GET /echo"
    assert proxy.records[0].port == origin.port


async def test_an_https_origin_is_verified_through_the_tunnel(web_server: WebServer) -> None:
    origin = await _app(web_server, tls=True) / "echo"
    async with SocksServer() as proxy:
        async with airhttp.ClientSession() as session:
            with pytest.raises(airhttp.ClientConnectorCertificateError):
                await session.get(origin, proxy=proxy.url("socks5"))
        assert proxy.records[0].port == origin.port  # refused at the origin, via the tunnel


@pytest.mark.parametrize("tls", [False, True], ids=["ws", "wss"])
async def test_websockets_go_through_socks(web_server: WebServer, tls: bool) -> None:
    base = await _app(web_server, tls=tls)
    url = base.with_scheme("wss" if tls else "ws") / "ws"
    async with SocksServer() as proxy:
        async with airhttp.ClientSession() as session:
            async with session.ws_connect(
                url,
                proxy=proxy.url("socks5h"),
                ssl=tls_material().client_context() if tls else True,
            ) as ws:
                await ws.send_str("ping")
                assert await ws.receive_str() == "echo:ping"
        assert proxy.records[0].port == base.port


SOCKS5_REPLIES = {
    0x01: "general SOCKS server failure",
    0x02: "connection not allowed by ruleset",
    0x03: "network unreachable",
    0x04: "host unreachable",
    0x05: "connection refused",
    0x06: "TTL expired",
    0x07: "command not supported",
    0x08: "address type not supported",
}


@pytest.mark.parametrize("reply", list(SOCKS5_REPLIES))
async def test_each_socks5_refusal_names_the_reply(web_server: WebServer, reply: int) -> None:
    origin = await _app(web_server) / "echo"
    async with SocksServer(refuse=reply) as proxy:
        async with airhttp.ClientSession() as session:
            with pytest.raises(airhttp.ClientSocksProxyError) as info:
                await session.get(origin, proxy=proxy.url("socks5"))
    error = info.value
    assert isinstance(error, airhttp.ClientConnectorError)
    assert not isinstance(error, airhttp.ClientProxyConnectionError)
    assert error.reply == reply and error.proxy == proxy.url("socks5")
    assert SOCKS5_REPLIES[reply] in str(error) and f"0x{reply:02x}" in str(error)
    assert error.host == origin.host and error.port == origin.port


@pytest.mark.parametrize("reply", [0x5B, 0x5C, 0x5D])
async def test_each_socks4_refusal_names_the_reply(web_server: WebServer, reply: int) -> None:
    origin = await _app(web_server) / "echo"
    async with SocksServer(refuse=reply) as proxy:
        async with airhttp.ClientSession() as session:
            with pytest.raises(airhttp.ClientSocksProxyError) as info:
                await session.get(origin, proxy=proxy.url("socks4"))
    assert info.value.reply == reply and "rejected" in str(info.value)


@pytest.mark.parametrize("scheme", ["socks5", "socks4"])
async def test_wrong_credentials_are_a_socks_error(web_server: WebServer, scheme: str) -> None:
    origin = await _app(web_server) / "echo"
    async with SocksServer(username="user", password="right") as proxy:
        async with airhttp.ClientSession() as session:
            with pytest.raises(airhttp.ClientSocksProxyError) as info:
                await session.get(origin, proxy=proxy.url(scheme, user="nobody", password="wrong"))
    for text in (str(info.value), repr(info.value)):
        assert "wrong" not in text and "nobody" not in text


async def test_a_proxy_that_wants_credentials_refuses_none(web_server: WebServer) -> None:
    origin = await _app(web_server) / "echo"
    async with SocksServer(username="user", password="right") as proxy:
        async with airhttp.ClientSession() as session:
            with pytest.raises(airhttp.ClientSocksProxyError, match="username and password"):
                await session.get(origin, proxy=proxy.url("socks5"))


@pytest.mark.parametrize("sent", [0, 1, 2, 5])
async def test_a_proxy_closing_mid_handshake_is_a_clear_error(
    web_server: WebServer, sent: int
) -> None:
    origin = await _app(web_server) / "echo"
    async with SocksServer(close_after=sent) as proxy:
        async with airhttp.ClientSession() as session:
            with pytest.raises(airhttp.ClientSocksProxyError, match="closed the connection"):
                await session.get(origin, proxy=proxy.url("socks5"))


@pytest.mark.parametrize("sent", [0, 2])
async def test_a_stalling_proxy_ends_at_sock_connect(web_server: WebServer, sent: int) -> None:
    origin = await _app(web_server) / "echo"
    timeout = airhttp.ClientTimeout(sock_connect=0.2)
    async with SocksServer(stall_after=sent) as proxy:
        async with airhttp.ClientSession(timeout=timeout) as session:
            with pytest.raises(airhttp.ConnectionTimeoutError):
                await session.get(origin, proxy=proxy.url("socks5"))


async def test_a_stalling_proxy_ends_at_the_total_timeout(web_server: WebServer) -> None:
    origin = await _app(web_server) / "echo"
    timeout = airhttp.ClientTimeout(total=0.2, sock_connect=None)
    async with SocksServer(stall_after=0) as proxy:
        async with airhttp.ClientSession(timeout=timeout) as session:
            with pytest.raises(asyncio.TimeoutError):
                await session.get(origin, proxy=proxy.url("socks5"))


@pytest.mark.parametrize(
    "raw",
    [b"\x04\x00", b"\x05\x03", b"\x05\x02"],
    ids=["wrong version", "method not offered", "credentials not given"],
)
async def test_a_malformed_method_answer_is_a_protocol_error(
    web_server: WebServer, raw: bytes
) -> None:
    origin = await _app(web_server) / "echo"
    async with SocksServer(raw_reply=raw, raw_reply_stage="method") as proxy:
        async with airhttp.ClientSession() as session:
            with pytest.raises(airhttp.ClientSocksProxyError):
                await session.get(origin, proxy=proxy.url("socks5"))


async def test_an_unreachable_proxy_is_a_proxy_connection_error(web_server: WebServer) -> None:
    origin = await _app(web_server) / "echo"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with airhttp.ClientSession() as session:
        with pytest.raises(airhttp.ClientProxyConnectionError) as info:
            await session.get(origin, proxy=f"socks5://127.0.0.1:{port}")
    assert info.value.port == port


async def test_pooled_per_proxy_and_origin(web_server: WebServer) -> None:
    first = await _app(web_server) / "echo"
    second = _localhost(first)  # another origin on the same server
    async with SocksServer(hosts={"localhost": "127.0.0.1"}) as proxy:
        async with airhttp.ClientSession() as session:
            for url in (first, first, second, second, first):
                async with session.get(url, proxy=proxy.url("socks5h")) as resp:
                    await resp.read()
        assert proxy.connections == 2
        assert [r.host for r in proxy.records] == ["127.0.0.1", "localhost"]


async def test_per_request_proxies_in_one_session_use_the_right_proxy(
    web_server: WebServer,
) -> None:
    origin = await _app(web_server) / "echo"
    async with SocksServer() as one, SocksServer() as two:
        async with airhttp.ClientSession(proxy=one.url("socks5")) as session:
            for proxy in (None, two.url("socks5"), None, two.url("socks4")):
                async with session.get(origin, proxy=proxy) as resp:
                    assert resp.status == 200
        assert one.connections == 1  # the session default, pooled
        assert [r.version for r in two.records] == [5, 4]


async def test_the_environment_all_proxy_and_no_proxy(
    web_server: WebServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    origin = await _app(web_server) / "echo"
    bypassed = _localhost(origin)
    async with SocksServer(username="u", password="p") as proxy:
        for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("ALL_PROXY", str(proxy.url("socks5h", user="u", password="p")))
        monkeypatch.setenv("NO_PROXY", "localhost")
        async with airhttp.ClientSession(trust_env=True) as session:
            async with session.get(origin) as resp:
                assert resp.status == 200
            async with session.get(bypassed) as resp:
                assert resp.status == 200
        assert [(r.host, r.username) for r in proxy.records] == [("127.0.0.1", "u")]


async def test_https_proxy_variable_with_a_socks_url(
    web_server: WebServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    origin = await _app(web_server) / "echo"
    async with SocksServer() as proxy:
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.setenv("HTTP_PROXY", str(proxy.url("socks4")))
        async with airhttp.ClientSession(trust_env=True) as session:
            async with session.get(origin) as resp:
                assert resp.status == 200
        assert proxy.records[0].version == 4


async def test_socks4_refuses_an_ipv6_only_target_before_dialling() -> None:
    async with SocksServer() as proxy:
        async with airhttp.ClientSession() as session:
            with pytest.raises(airhttp.ClientConnectorError, match="IPv4"):
                await session.get("http://[::1]:9/", proxy=proxy.url("socks4"))
        assert proxy.connections == 0


async def test_an_ipv6_target_through_socks5(web_server: WebServer) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="v6")

    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "::1", 0)
        try:
            await site.start()
        except OSError:
            pytest.skip("cannot listen on ::1")
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        async with SocksServer() as proxy:
            async with airhttp.ClientSession() as session:
                async with session.get(f"http://[::1]:{port}/", proxy=proxy.url("socks5")) as r:
                    assert await r.text() == "v6"
            assert proxy.records[0].address_type == "ipv6"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("how", ["url", "proxy_auth"])
async def test_credentials_never_reach_error_reprs(web_server: WebServer, how: str) -> None:
    origin = await _app(web_server) / "echo"
    async with SocksServer(username="user", password="right") as proxy:
        if how == "url":
            kwargs: dict[str, Any] = {"proxy": proxy.url("socks5", user="nobody", password="PW1")}
        else:
            kwargs = {
                "proxy": proxy.url("socks5"),
                "proxy_auth": airhttp.BasicAuth("nobody", "PW1"),
            }
        async with airhttp.ClientSession() as session:
            with pytest.raises(airhttp.ClientSocksProxyError) as refused:
                await session.get(origin, **kwargs)
            # The client resolves the origin for socks5://: its DNS error must not tell either.
            with pytest.raises(airhttp.ClientConnectorDNSError) as unresolved:
                await session.get("http://no-such-host.invalid/", **kwargs)
    for error in (refused.value, unresolved.value):
        assert "PW1" not in repr(error) and "PW1" not in str(error)


async def test_a_username_without_password_sends_an_empty_one(web_server: WebServer) -> None:
    origin = await _app(web_server) / "echo"
    async with SocksServer(username="user", password="") as proxy:
        async with airhttp.ClientSession() as session:
            async with session.get(origin, proxy=proxy.url("socks5", user="user")) as resp:
                assert resp.status == 200
        assert (proxy.records[0].username, proxy.records[0].password) == ("user", "")


@pytest.mark.parametrize(
    ("scheme", "url"),
    [("socks4a", "http://[::1]:9/"), ("socks5h", "http://" + "a" * 250 + ".example.com/")],
    ids=["IPv6 under SOCKS4a", "a name over 255 bytes"],
)
async def test_what_the_protocol_cannot_carry_is_a_client_error(scheme: str, url: str) -> None:
    async with SocksServer() as proxy:
        async with airhttp.ClientSession() as session:
            with pytest.raises(airhttp.ClientSocksProxyError):
                await session.get(url, proxy=proxy.url(scheme))
        assert proxy.connections == 0


class _TwoAddresses(airhttp.abc.AbstractResolver):
    """Resolves every name to a dead address first, then to 127.0.0.1."""

    async def resolve(self, host: str, port: int = 0, family: int = 0) -> list[Any]:
        if host == "127.0.0.1":
            return [self._entry(host, "127.0.0.1", port)]
        return [self._entry(host, "127.0.0.2", port), self._entry(host, "127.0.0.1", port)]

    @staticmethod
    def _entry(name: str, address: str, port: int) -> dict[str, Any]:
        return {
            "hostname": name, "host": address, "port": port,
            "family": socket.AF_INET, "proto": 0, "flags": 0,
        }  # fmt: skip

    async def close(self) -> None:
        pass


async def test_the_next_address_is_tried_when_the_proxy_cannot_reach_one(
    web_server: WebServer,
) -> None:
    origin = _localhost(await _app(web_server)) / "echo"
    async with SocksServer() as proxy:
        connector = airhttp.TCPConnector(resolver=_TwoAddresses())
        async with airhttp.ClientSession(connector=connector) as session:
            async with session.get(origin, proxy=proxy.url("socks5")) as resp:
                assert resp.status == 200
        assert [(r.host, r.reply) for r in proxy.records] == [("127.0.0.2", 5), ("127.0.0.1", 0)]


async def test_cancelling_mid_handshake_leaves_nothing_open(web_server: WebServer) -> None:
    origin = await _app(web_server) / "echo"
    async with SocksServer(stall_after=0) as proxy:
        async with airhttp.ClientSession() as session:
            task = asyncio.ensure_future(session.get(origin, proxy=proxy.url("socks5")))
            while not proxy.records:
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            for _ in range(50):
                if not proxy.open_connections:
                    break
                await asyncio.sleep(0.01)
        assert proxy.open_connections == 0


async def test_an_http_all_proxy_is_ignored_as_aiohttp_ignores_it(
    web_server: WebServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    origin = await _app(web_server) / "echo"
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")  # nothing listens there
    async with airhttp.ClientSession(trust_env=True) as session:
        async with session.get(origin) as resp:
            assert resp.status == 200
    assert airhttp.helpers.proxies_from_env() == {}

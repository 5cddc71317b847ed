"""Requests through HTTP proxies: absolute form, CONNECT tunnels, credentials and errors.

proxy.py (a real proxy, run as a subprocess once per module) carries the happy paths;
small asyncio fakes record what is said to a proxy and play the broken ones.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

import airhttp
from airhttp import BasicAuth, ClientTimeout, Fingerprint
from airhttp._proxy import connect_headers, prepare_proxied_headers
from airhttp.client_exceptions import (
    ClientConnectorCertificateError,
    ClientConnectorDNSError,
    ClientConnectorError,
    ClientHttpProxyError,
    ClientProxyConnectionError,
    ClientResponseError,
    InvalidURL,
    ServerDisconnectedError,
    ServerFingerprintMismatch,
    SocketTimeoutError,
)
from airhttp.client_reqrep import ClientRequest
from airhttp.connector import TCPConnector

from .conftest import RawServer, WebServer, read_request
from .proxy_support import proxy_py
from .tcp_support import FakeResolver, pipe, refused_port, tls_material

_PROXY_ENV = (
    "http_proxy",
    "https_proxy",
    "ws_proxy",
    "wss_proxy",
    "all_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "WS_PROXY",
    "WSS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
)
_OK: bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


# --- proxy.py, once per module ------------------------------------------------------------


@pytest.fixture(scope="module")
def open_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[URL]:
    with proxy_py(tmp_path_factory.mktemp("proxy") / "open") as url:
        yield url


@pytest.fixture(scope="module")
def auth_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[URL]:
    """proxy.py that wants Basic credentials user:pass."""
    with proxy_py(tmp_path_factory.mktemp("proxy") / "auth", "--basic-auth", "user:pass") as url:
        yield url


@pytest.fixture(scope="module")
def tls_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[URL]:
    """proxy.py spoken to over TLS, with a certificate from the test CA."""
    workdir = tmp_path_factory.mktemp("proxy")
    leaf = tls_material().server
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    options = ("--cert-file", str(cert), "--key-file", str(key))
    with proxy_py(workdir / "tls", *options) as url:
        yield url


# --- targets and fake proxies --------------------------------------------------------------


def _echo_app(hits: list[str]) -> web.Application:
    """Answers every request with its method, target and headers as JSON."""

    async def echo(request: web.Request) -> web.Response:
        hits.append(request.path_qs)
        body = await request.read()
        return web.json_response(
            {
                "method": request.method,
                "path": request.path_qs,
                "headers": list(request.headers.items()),
                "body": body.decode(),
            }
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    return app


@dataclass
class Target:
    url: URL
    hits: list[str]


@pytest.fixture
async def http_target(web_server: WebServer) -> Target:
    hits: list[str] = []
    return Target(await web_server.start(_echo_app(hits)), hits)


@pytest.fixture
async def https_target(web_server: WebServer) -> Target:
    """Serves 127.0.0.1 and localhost with a certificate from the test CA."""
    hits: list[str] = []
    url = await web_server.start(_echo_app(hits), ssl_context=tls_material().server_context())
    return Target(url, hits)


@dataclass
class FakeProxy:
    """Records each request head; CONNECT gets `connect_reply` or a relay to the target."""

    heads: list[bytes] = field(default_factory=list)
    connect_reply: bytes | None = None
    url: URL = field(default_factory=URL)

    @property
    def connects(self) -> list[bytes]:
        return [head for head in self.heads if head.startswith(b"CONNECT ")]


def _fake_proxy_handler(
    proxy: FakeProxy,
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await read_request(reader)
            proxy.heads.append(head)
            if not head.startswith(b"CONNECT "):
                writer.write(_OK)
                continue
            if proxy.connect_reply is not None:
                writer.write(proxy.connect_reply)
                await writer.drain()
                return
            authority = head.split(b" ")[1].decode()
            host, _, port = authority.rpartition(":")
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
            return

    return handle


@pytest.fixture
async def fake_proxy(raw_server: RawServer) -> FakeProxy:
    proxy = FakeProxy()
    proxy.url = await raw_server.start(_fake_proxy_handler(proxy))
    return proxy


def _head_lines(head: bytes) -> list[str]:
    return head.split(b"\r\n\r\n")[0].decode().split("\r\n")


def _head_headers(head: bytes) -> CIMultiDict[str]:
    headers: CIMultiDict[str] = CIMultiDict()
    for line in _head_lines(head)[1:]:
        name, _, value = line.partition(":")
        headers.add(name, value.strip())
    return headers


async def _echo(session: airhttp.ClientSession, url: URL, **kwargs: Any) -> dict[str, Any]:
    async with session.get(url, **kwargs) as resp:
        assert resp.status == 200
        result: dict[str, Any] = json.loads(await resp.text())
        return result


def _seen_headers(echo: dict[str, Any]) -> CIMultiDict[str]:
    return CIMultiDict(echo["headers"])


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in _PROXY_ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _trusting_context() -> ssl.SSLContext:
    return tls_material().client_context()


# --- plain HTTP through proxy.py --------------------------------------------------------------


async def test_http_target_is_fetched_through_the_proxy(
    open_proxy: URL, http_target: Target
) -> None:
    async with airhttp.ClientSession() as session:
        echo = await _echo(session, http_target.url / "a" % {"b": "1"}, proxy=open_proxy)
    assert echo["path"] == "/a?b=1"
    # proxy.py marks what it forwards; a direct connection would carry no Via.
    assert _seen_headers(echo)["Via"].endswith("proxy.py v2.4.10")


async def test_http_target_through_authenticating_proxy_with_credentials_succeeds(
    auth_proxy: URL, http_target: Target
) -> None:
    async with airhttp.ClientSession() as session:
        echo = await _echo(
            session, http_target.url / "x", proxy=auth_proxy, proxy_auth=BasicAuth("user", "pass")
        )
    headers = _seen_headers(echo)
    assert "Via" in headers
    # The proxy consumed its credentials: the target never sees them.
    assert "Proxy-Authorization" not in headers


async def test_http_target_through_authenticating_proxy_without_credentials_gets_407(
    auth_proxy: URL, http_target: Target
) -> None:
    async with airhttp.ClientSession() as session:
        async with session.get(http_target.url, proxy=auth_proxy) as resp:
            assert resp.status == 407
            await resp.read()
    assert http_target.hits == []


async def test_session_default_proxy_and_proxy_auth_apply_to_every_request(
    auth_proxy: URL, http_target: Target
) -> None:
    async with airhttp.ClientSession(
        proxy=auth_proxy, proxy_auth=BasicAuth("user", "pass")
    ) as session:
        echo = await _echo(session, http_target.url / "d")
    assert "Via" in _seen_headers(echo)


# --- plain HTTP: what the proxy is told -------------------------------------------------------


async def test_http_request_goes_to_the_proxy_in_absolute_form(fake_proxy: FakeProxy) -> None:
    async with airhttp.ClientSession() as session:
        async with session.get("http://example.test:8080/a?b=1#frag", proxy=fake_proxy.url) as r:
            assert await r.text() == "ok"
    lines = _head_lines(fake_proxy.heads[0])
    assert lines[0] == "GET http://example.test:8080/a?b=1 HTTP/1.1"
    assert _head_headers(fake_proxy.heads[0])["Host"] == "example.test:8080"


async def test_proxy_auth_and_proxy_headers_go_with_a_plain_http_request(
    fake_proxy: FakeProxy,
) -> None:
    async with airhttp.ClientSession() as session:
        async with session.get(
            "http://example.test/",
            proxy=fake_proxy.url,
            proxy_auth=BasicAuth("u", "p"),
            proxy_headers={"X-Proxy-Token": "t", "Host": "ignored.test"},
            headers={"Authorization": "Bearer target"},
        ) as resp:
            await resp.read()
    headers = _head_headers(fake_proxy.heads[0])
    assert headers["Proxy-Authorization"] == BasicAuth("u", "p").encode()
    assert headers["X-Proxy-Token"] == "t"
    assert headers.getall("Host") == ["example.test"]
    assert headers["Authorization"] == "Bearer target"


async def test_proxy_url_userinfo_becomes_proxy_authorization(fake_proxy: FakeProxy) -> None:
    proxy = fake_proxy.url.with_user("us er").with_password("p:w")
    async with airhttp.ClientSession() as session:
        async with session.get("http://example.test/", proxy=proxy) as resp:
            await resp.read()
    expected = BasicAuth("us er", "p:w").encode()
    assert _head_headers(fake_proxy.heads[0])["Proxy-Authorization"] == expected


async def test_proxy_auth_wins_over_proxy_url_userinfo(fake_proxy: FakeProxy) -> None:
    proxy = fake_proxy.url.with_user("url").with_password("cred")
    async with airhttp.ClientSession() as session:
        async with session.get(
            "http://example.test/", proxy=proxy, proxy_auth=BasicAuth("arg", "cred")
        ) as resp:
            await resp.read()
    expected = BasicAuth("arg", "cred").encode()
    assert _head_headers(fake_proxy.heads[0]).getall("Proxy-Authorization") == [expected]


async def test_proxied_http_connections_are_pooled_per_proxy_settings(
    fake_proxy: FakeProxy, raw_server: RawServer
) -> None:
    async with airhttp.ClientSession() as session:
        for token in ("a", "a", "b", "b"):
            async with session.get(
                "http://example.test/",
                proxy=fake_proxy.url,
                proxy_auth=BasicAuth("u", "p"),
                proxy_headers={"X-Token": token},
            ) as resp:
                await resp.read()
    assert raw_server.connections == 2
    # A reused connection still carries the credentials on every request.
    for head in fake_proxy.heads:
        assert _head_headers(head)["Proxy-Authorization"] == BasicAuth("u", "p").encode()


async def test_preparing_proxied_headers_twice_adds_nothing_more() -> None:
    req = ClientRequest(
        "GET",
        URL("http://example.test/"),
        proxy=URL("http://u:p@proxy.test:3128"),
        proxy_headers=[("X-A", "1"), ("X-A", "2")],
    )
    prepare_proxied_headers(req)
    prepare_proxied_headers(req)
    assert req.headers.getall("X-A") == ["1", "2"]
    assert req.headers.getall("Proxy-Authorization") == [BasicAuth("u", "p").encode()]


async def test_a_request_header_keeps_its_value_over_a_proxy_header() -> None:
    req = ClientRequest(
        "GET",
        URL("http://example.test/"),
        headers={"X-A": "request"},
        proxy=URL("http://proxy.test:3128"),
        proxy_headers={"X-A": "proxy"},
    )
    prepare_proxied_headers(req)
    assert req.headers.getall("X-A") == ["request"]


# --- HTTPS through a CONNECT tunnel -----------------------------------------------------------


async def test_https_target_is_tunnelled_and_verified_with_the_trusted_ca(
    auth_proxy: URL, https_target: Target
) -> None:
    url = https_target.url.with_host("localhost") / "t"
    async with airhttp.ClientSession() as session:
        echo = await _echo(
            session,
            url,
            proxy=auth_proxy.with_user("user").with_password("pass"),
            ssl=_trusting_context(),
        )
    assert echo["path"] == "/t"
    # Inside the tunnel proxy.py cannot add anything: no Via.
    assert "Via" not in _seen_headers(echo)


async def test_tunnelled_request_carries_a_body(open_proxy: URL, https_target: Target) -> None:
    async with airhttp.ClientSession() as session:
        async with session.post(
            https_target.url, data=b"payload", proxy=open_proxy, ssl=_trusting_context()
        ) as resp:
            echo = json.loads(await resp.text())
    assert echo["method"] == "POST"
    assert echo["body"] == "payload"


async def test_target_certificate_is_verified_through_the_tunnel(
    open_proxy: URL, https_target: Target
) -> None:
    async with airhttp.ClientSession() as session:
        with pytest.raises(ClientConnectorCertificateError) as info:
            await _echo(session, https_target.url, proxy=open_proxy)
    assert info.value.host == "127.0.0.1"
    assert info.value.port == https_target.url.port
    assert https_target.hits == []


async def test_target_hostname_is_checked_through_the_tunnel(
    open_proxy: URL, web_server: WebServer
) -> None:
    material = tls_material()
    url = await web_server.start(_echo_app([]), ssl_context=material.server_context(material.other))
    async with airhttp.ClientSession() as session:
        with pytest.raises(ClientConnectorCertificateError):
            await _echo(session, url, proxy=open_proxy, ssl=_trusting_context())


async def test_fingerprint_pins_the_target_certificate_through_the_tunnel(
    open_proxy: URL, https_target: Target
) -> None:
    async with airhttp.ClientSession() as session:
        good = Fingerprint(tls_material().fingerprint)
        echo = await _echo(session, https_target.url, proxy=open_proxy, ssl=good)
        assert echo["path"] == "/"
        with pytest.raises(ServerFingerprintMismatch):
            await _echo(session, https_target.url, proxy=open_proxy, ssl=Fingerprint(bytes(32)))


async def test_connect_without_credentials_raises_http_proxy_error_407(
    auth_proxy: URL, https_target: Target
) -> None:
    async with airhttp.ClientSession() as session:
        with pytest.raises(ClientHttpProxyError) as info:
            await _echo(session, https_target.url, proxy=auth_proxy, ssl=_trusting_context())
    err = info.value
    assert err.status == 407
    assert err.headers is not None
    assert "Proxy-Authenticate" in err.headers
    assert err.request_info.method == "CONNECT"
    assert err.request_info.url == https_target.url
    assert err.request_info.real_url == auth_proxy
    assert https_target.hits == []


async def test_connect_names_the_target_and_carries_only_what_is_meant_for_the_proxy(
    fake_proxy: FakeProxy, https_target: Target
) -> None:
    async with airhttp.ClientSession() as session:
        await _echo(
            session,
            https_target.url / "secret" % {"q": "1"},
            proxy=fake_proxy.url,
            proxy_auth=BasicAuth("u", "p"),
            proxy_headers={"X-Proxy-Token": "t"},
            headers={"Authorization": "Bearer target", "X-Target-Only": "1"},
            ssl=_trusting_context(),
        )
    (connect,) = fake_proxy.connects
    authority = f"127.0.0.1:{https_target.url.port}"
    assert _head_lines(connect)[0] == f"CONNECT {authority} HTTP/1.1"
    headers = _head_headers(connect)
    assert headers["Host"] == authority
    assert headers["Proxy-Authorization"] == BasicAuth("u", "p").encode()
    assert headers["X-Proxy-Token"] == "t"
    assert "Authorization" not in headers
    assert "X-Target-Only" not in headers
    assert b"secret" not in connect


async def test_proxy_authorization_is_never_sent_through_the_tunnel(
    fake_proxy: FakeProxy, https_target: Target
) -> None:
    async with airhttp.ClientSession() as session:
        echo = await _echo(
            session,
            https_target.url,
            proxy=fake_proxy.url.with_user("u").with_password("p"),
            proxy_headers={"X-Proxy-Token": "t"},
            headers={"Proxy-Authorization": "Basic bWluZTptaW5l"},
            ssl=_trusting_context(),
        )
    headers = _seen_headers(echo)
    assert "Proxy-Authorization" not in headers
    assert "X-Proxy-Token" not in headers


async def test_tunnelled_connection_is_reused_without_a_second_connect(
    fake_proxy: FakeProxy, https_target: Target
) -> None:
    context = _trusting_context()  # the context is part of the pool key
    async with airhttp.ClientSession() as session:
        for _ in range(3):
            await _echo(session, https_target.url, proxy=fake_proxy.url, ssl=context)
    assert len(fake_proxy.connects) == 1
    assert len(https_target.hits) == 3


async def test_server_hostname_is_the_name_checked_through_the_tunnel(
    fake_proxy: FakeProxy, web_server: WebServer
) -> None:
    material = tls_material()
    url = await web_server.start(_echo_app([]), ssl_context=material.server_context(material.other))
    async with airhttp.ClientSession() as session:
        echo = await _echo(
            session,
            url,
            proxy=fake_proxy.url,
            ssl=_trusting_context(),
            server_hostname="other.test",
        )
    assert echo["path"] == "/"


async def test_redirect_from_http_to_https_moves_from_absolute_form_to_a_tunnel(
    open_proxy: URL, https_target: Target, web_server: WebServer
) -> None:
    async def jump(request: web.Request) -> web.Response:
        raise web.HTTPFound(str(https_target.url / "landed"))

    app = web.Application()
    app.router.add_get("/", jump)
    start = await web_server.start(app)
    async with airhttp.ClientSession() as session:
        echo = await _echo(session, start, proxy=open_proxy, ssl=_trusting_context())
    assert echo["path"] == "/landed"
    assert "Via" not in _seen_headers(echo)


# --- the proxy over TLS (https:// proxy URL) --------------------------------------------------


@pytest.mark.skipif(sys.version_info < (3, 11), reason="TLS inside TLS needs asyncio 3.11")
async def test_https_target_through_an_https_proxy_nests_tls(
    tls_proxy: URL, https_target: Target
) -> None:
    async with airhttp.ClientSession() as session:
        echo = await _echo(session, https_target.url, proxy=tls_proxy, ssl=_trusting_context())
    assert echo["path"] == "/"


async def test_http_target_through_an_https_proxy_is_sent_over_tls_to_the_proxy(
    tls_proxy: URL, http_target: Target
) -> None:
    async with airhttp.ClientSession() as session:
        echo = await _echo(session, http_target.url, proxy=tls_proxy, ssl=_trusting_context())
    assert "Via" in _seen_headers(echo)


async def test_https_proxy_certificate_is_verified(tls_proxy: URL, http_target: Target) -> None:
    async with airhttp.ClientSession() as session:
        with pytest.raises(ClientConnectorCertificateError) as info:
            await _echo(session, http_target.url, proxy=tls_proxy)
    assert info.value.port == tls_proxy.port
    assert http_target.hits == []


# --- a proxy that fails ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "status", "message"),
    [
        (b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n"
         b"Content-Length: 4\r\n\r\nnope", 407, "Proxy Authentication Required"),
        (b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n", 502, "Bad Gateway"),
        (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", 101, "Switching Protocols"),
    ],
)  # fmt: skip
async def test_connect_answered_without_2xx_raises_http_proxy_error(
    fake_proxy: FakeProxy, reply: bytes, status: int, message: str
) -> None:
    fake_proxy.connect_reply = reply
    async with airhttp.ClientSession() as session:
        with pytest.raises(ClientHttpProxyError) as info:
            await _echo(session, URL("https://example.test/x"), proxy=fake_proxy.url)
    err = info.value
    assert (err.status, err.message) == (status, message)
    assert err.request_info.method == "CONNECT"
    assert err.request_info.url == URL("https://example.test/x")
    assert err.history == ()


async def test_failed_connect_closes_the_connection_to_the_proxy(
    raw_server: RawServer,
) -> None:
    closed = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        if await reader.read() == b"":
            closed.set()

    proxy = await raw_server.start(handle)
    async with airhttp.ClientSession() as session:
        with pytest.raises(ClientHttpProxyError):
            await _echo(session, URL("https://example.test/"), proxy=proxy)
        await asyncio.wait_for(closed.wait(), 1)


async def test_proxy_closing_without_answering_connect_is_server_disconnected(
    fake_proxy: FakeProxy,
) -> None:
    fake_proxy.connect_reply = b""
    async with airhttp.ClientSession() as session:
        with pytest.raises(ServerDisconnectedError):
            await _echo(session, URL("https://example.test/"), proxy=fake_proxy.url)


async def test_proxy_closing_mid_status_line_is_a_disconnection(
    fake_proxy: FakeProxy,
) -> None:
    # As aiohttp (checked as a black box): a valid answer cut short, not a bad one.
    fake_proxy.connect_reply = b"HTTP/1.1 200 Conn"
    async with airhttp.ClientSession() as session:
        with pytest.raises(ServerDisconnectedError):
            await _echo(session, URL("https://example.test/"), proxy=fake_proxy.url)


async def test_malformed_answer_to_connect_is_a_400_response_error(
    fake_proxy: FakeProxy,
) -> None:
    fake_proxy.connect_reply = b"SSH-2.0-OpenSSH\r\n\r\n"
    async with airhttp.ClientSession() as session:
        with pytest.raises(ClientResponseError) as info:
            await _echo(session, URL("https://example.test/"), proxy=fake_proxy.url)
    assert not isinstance(info.value, ClientHttpProxyError)
    assert info.value.status == 400
    assert info.value.request_info.method == "CONNECT"


async def test_tunnel_that_closes_before_the_tls_handshake_is_a_connector_error(
    fake_proxy: FakeProxy,
) -> None:
    fake_proxy.connect_reply = b"HTTP/1.1 200 Connection established\r\n\r\n"
    async with airhttp.ClientSession() as session:
        with pytest.raises(ClientConnectorError) as info:
            await _echo(session, URL("https://example.test/"), proxy=fake_proxy.url)
    assert info.value.host == "example.test"
    assert not isinstance(info.value, ClientProxyConnectionError)


async def test_proxy_data_before_the_tls_handshake_is_refused(fake_proxy: FakeProxy) -> None:
    fake_proxy.connect_reply = b"HTTP/1.1 200 Connection established\r\n\r\nGARBAGE"
    async with airhttp.ClientSession() as session:
        with pytest.raises(ClientConnectorError, match="before the TLS handshake"):
            await _echo(session, URL("https://example.test/"), proxy=fake_proxy.url)


async def test_silent_proxy_times_out_on_sock_read_while_connecting(
    raw_server: RawServer,
) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await reader.read()

    proxy = await raw_server.start(handle)
    async with airhttp.ClientSession(timeout=ClientTimeout(sock_read=0.1)) as session:
        with pytest.raises(SocketTimeoutError):
            await _echo(session, URL("https://example.test/"), proxy=proxy)


async def test_total_timeout_while_waiting_for_connect_closes_the_proxy_connection(
    raw_server: RawServer,
) -> None:
    closed = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        if await reader.read() == b"":
            closed.set()

    proxy = await raw_server.start(handle)
    async with airhttp.ClientSession(timeout=ClientTimeout(total=0.1)) as session:
        with pytest.raises(asyncio.TimeoutError):
            await _echo(session, URL("https://example.test/"), proxy=proxy)
        await asyncio.wait_for(closed.wait(), 1)


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_unreachable_proxy_raises_proxy_connection_error_and_never_goes_direct(
    scheme: str, http_target: Target, https_target: Target
) -> None:
    target = http_target if scheme == "http" else https_target
    port = refused_port()
    async with airhttp.ClientSession() as session:
        with pytest.raises(ClientProxyConnectionError) as info:
            await _echo(
                session, target.url, proxy=f"http://127.0.0.1:{port}", ssl=_trusting_context()
            )
    assert (info.value.host, info.value.port) == ("127.0.0.1", port)
    assert isinstance(info.value.os_error, ConnectionRefusedError)
    assert target.hits == []


async def test_proxy_name_that_does_not_resolve_is_a_dns_error_naming_the_proxy(
    http_target: Target,
) -> None:
    resolver = FakeResolver({"proxy.test": socket.gaierror(socket.EAI_NONAME, "unknown")})
    connector = TCPConnector(resolver=resolver)
    async with airhttp.ClientSession(connector=connector) as session:
        with pytest.raises(ClientConnectorDNSError) as info:
            await _echo(session, http_target.url, proxy="http://proxy.test:3128")
    assert (info.value.host, info.value.port) == ("proxy.test", 3128)
    assert http_target.hits == []


async def test_proxy_url_without_a_host_is_refused_instead_of_going_direct(
    http_target: Target,
) -> None:
    async with airhttp.ClientSession() as session:
        with pytest.raises(InvalidURL):
            await _echo(session, http_target.url, proxy="http://")
    assert http_target.hits == []


# --- trust_env: proxies from the environment ---------------------------------------------------


async def test_http_proxy_variable_is_used_only_with_trust_env(
    clean_env: pytest.MonkeyPatch, fake_proxy: FakeProxy, http_target: Target
) -> None:
    clean_env.setenv("HTTP_PROXY", str(fake_proxy.url))
    async with airhttp.ClientSession() as session:
        await _echo(session, http_target.url)
    assert fake_proxy.heads == []
    async with airhttp.ClientSession(trust_env=True) as session:
        async with session.get(http_target.url / "via") as resp:
            assert await resp.text() == "ok"
    assert _head_lines(fake_proxy.heads[0])[0] == f"GET {http_target.url / 'via'} HTTP/1.1"
    assert http_target.hits == ["/"]


async def test_https_proxy_variable_tunnels_https_targets(
    clean_env: pytest.MonkeyPatch, fake_proxy: FakeProxy, https_target: Target
) -> None:
    clean_env.setenv("HTTPS_PROXY", str(fake_proxy.url))
    async with airhttp.ClientSession(trust_env=True) as session:
        await _echo(session, https_target.url, ssl=_trusting_context())
    assert len(fake_proxy.connects) == 1


async def test_no_proxy_variable_bypasses_the_proxy(
    clean_env: pytest.MonkeyPatch, fake_proxy: FakeProxy, http_target: Target
) -> None:
    clean_env.setenv("HTTP_PROXY", str(fake_proxy.url))
    clean_env.setenv("NO_PROXY", "127.0.0.1")
    async with airhttp.ClientSession(trust_env=True) as session:
        await _echo(session, http_target.url)
    assert fake_proxy.heads == []
    assert http_target.hits == ["/"]


async def test_proxy_credentials_come_from_netrc_with_trust_env(
    clean_env: pytest.MonkeyPatch, fake_proxy: FakeProxy, tmp_path: Path
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine localhost login nuser password npass\n")
    clean_env.setenv("NETRC", str(netrc))
    clean_env.setenv("HTTP_PROXY", str(fake_proxy.url.with_host("localhost")))
    async with airhttp.ClientSession(trust_env=True) as session:
        async with session.get("http://example.test/") as resp:
            await resp.read()
    headers = _head_headers(fake_proxy.heads[0])
    assert headers["Proxy-Authorization"] == BasicAuth("nuser", "npass").encode()
    assert "Authorization" not in headers


async def test_explicit_proxy_wins_over_the_environment(
    clean_env: pytest.MonkeyPatch, fake_proxy: FakeProxy
) -> None:
    clean_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{refused_port()}")
    async with airhttp.ClientSession(trust_env=True) as session:
        async with session.get("http://example.test/", proxy=fake_proxy.url) as resp:
            assert await resp.text() == "ok"


# --- the CONNECT head, byte for byte ------------------------------------------------------------


async def test_connect_headers_keep_aiohttps_order_and_drop_a_proxy_host_header() -> None:
    req = ClientRequest(
        "GET",
        URL("https://example.test:8443/p"),
        proxy=URL("http://u:p@proxy.test:3128"),
        proxy_headers={"Host": "elsewhere.test", "X-P": "1"},
        headers={"User-Agent": "agent/1", "Authorization": "Bearer t"},
    )
    headers = connect_headers(req)
    assert list(headers.keys()) == [
        "Host",
        "X-P",
        "Accept",
        "Accept-Encoding",
        "User-Agent",
        "Proxy-Authorization",
    ]
    assert headers["Host"] == "example.test:8443"
    assert headers["User-Agent"] == "agent/1"

"""HTTP/2 against hypercorn, an independent server: what a user of the session sees.

ALPN h2 over TLS and h2c by prior knowledge; streams multiplexed over one connection
(counted server-side), bodies both ways with flow control, the ALPN fallback to
HTTP/1.1, trailers, and the layers above the connection (decompression, cookies,
redirects, middlewares, tracing, limits, keep-alive, proxies) left unchanged.
"""

from __future__ import annotations

import asyncio
import gc
import io
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from yarl import URL

import airhttp
from airhttp import ClientSession, HttpVersion, TCPConnector
from airhttp.client_proto import StreamHandler

from .conftest import WebServer
from .h2_support import (
    Hypercorn,
    client_ssl_context,
    h2_server,
    h2c_server,
    h11_server,
    pattern_bytes,
)
from .proxy_support import proxy_py

__all__ = ("h2_server", "h2c_server", "h11_server")

HTTP2 = HttpVersion(2, 0)


def _session(server: Hypercorn, **connector: Any) -> ClientSession:
    if server.url.scheme == "https":
        connector.setdefault("http2", True)
        connector["ssl"] = server.client_ssl_context()
    else:
        connector.setdefault("http2_prior_knowledge", True)
    return ClientSession(connector=TCPConnector(**connector))


# --- one request ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["h2", "h2c"])
async def test_get_speaks_http2(mode: Any) -> None:
    async with Hypercorn(mode=mode) as peer:
        async with _session(peer) as session, session.get(peer.url / "hello") as resp:
            assert resp.status == 200
            assert resp.version == HTTP2
            assert resp.reason == "OK"
            assert resp.content_type == "text/plain"
            assert await resp.text() == "hello"
        assert peer.http_versions == ["2"]


async def test_request_head_follows_rfc_9113(h2_server: Hypercorn) -> None:
    """Lowercase names, Host as :authority, no connection-specific fields."""
    headers = {"X-Custom": "Value", "Connection": "keep-alive", "Keep-Alive": "5", "TE": "gzip"}
    async with _session(h2_server) as session:
        async with session.get(h2_server.url / "headers", headers=headers) as resp:
            seen = await resp.json()
    fields = dict(seen["headers"])
    assert fields["x-custom"] == "Value"
    # (hypercorn turns :authority into host for the app, as ASGI asks.)
    for name in ("connection", "keep-alive", "te", "transfer-encoding"):
        assert name not in fields
    assert seen["http_version"] == "2"
    names = [name for name, _ in seen["headers"]]
    assert names == [name.lower() for name in names]


async def test_post_bytes_and_streamed_body_echo(h2_server: Hypercorn) -> None:
    async def parts() -> AsyncIterator[bytes]:
        for i in range(5):
            yield b"part-%d;" % i
            await asyncio.sleep(0)

    async with _session(h2_server) as session:
        async with session.post(h2_server.url / "echo", data=b"abc" * 1000) as resp:
            assert await resp.read() == b"abc" * 1000
        async with session.post(h2_server.url / "echo", data=parts()) as resp:
            assert await resp.read() == b"".join(b"part-%d;" % i for i in range(5))
        async with session.put(h2_server.url / "echo", data=b"x", chunked=True) as resp:
            assert await resp.read() == b"x"
        async with session.post(h2_server.url / "echo", json={"a": 1}) as resp:
            assert json.loads(await resp.read()) == {"a": 1}
    assert len(h2_server.connections) == 1


async def test_streamed_download_arrives_as_it_is_sent(h2c_server: Hypercorn) -> None:
    async with _session(h2c_server) as session:
        url = h2c_server.url.with_path("/stream").with_query(chunks=4, delay=0.05)
        async with session.get(url) as resp:
            lines = [line async for line in resp.content]
    assert lines == [b"chunk-%d\n" % i for i in range(4)]


async def test_head_and_no_content(h2_server: Hypercorn) -> None:
    async with _session(h2_server) as session:
        async with session.head(h2_server.url / "hello") as resp:
            assert resp.status == 200
            assert await resp.read() == b""
        async with session.get(h2_server.url / "status" / "204") as resp:
            assert resp.status == 204
            assert await resp.read() == b""
        async with session.get(h2_server.url / "nothing-here") as resp:
            assert resp.status == 404
            with pytest.raises(airhttp.ClientResponseError):
                resp.raise_for_status()


# --- many streams, one connection --------------------------------------------------------------


async def test_200_concurrent_requests_share_one_connection(h2_server: Hypercorn) -> None:
    async with _session(h2_server) as session:

        async def one(i: int) -> tuple[HttpVersion, bytes]:
            async with session.get(h2_server.url / "bytes", params={"size": i}) as resp:
                return resp.version, await resp.read()

        results = await asyncio.gather(*(one(i) for i in range(200)))
    assert [body for _, body in results] == [pattern_bytes(i) for i in range(200)]
    assert {version for version, _ in results} == {HTTP2}
    assert len(h2_server.connections) == 1
    assert len(h2_server.requests) == 200


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
async def test_a_finished_stream_is_freed_without_the_cycle_collector(
    h2c_server: Hypercorn, compressed: bool
) -> None:
    """Its handler and transport go as soon as it is released: a stream per request must
    not leave garbage for gc to find (that cost more than a tenth of a request)."""

    def handlers() -> int:
        return sum(isinstance(thing, StreamHandler) for thing in gc.get_objects())

    async with _session(h2c_server) as session:
        gc.collect()
        gc.disable()  # what is left unreachable stays among gc's objects
        try:
            if compressed:  # its decoder and reader hold the handler too
                async with session.get(h2c_server.url / "gzip") as resp:
                    assert resp.headers["Content-Encoding"] == "gzip"
                    assert len(await resp.read()) > 0
            else:
                url = h2c_server.url.with_path("/stream").with_query(delay=0.05)
                async with session.get(url) as resp:
                    assert handlers() == 1
                    assert await resp.read() == b"chunk-0\nchunk-1\nchunk-2\n"
            del resp
            assert handlers() == 0
        finally:
            gc.enable()


async def test_limit_per_host_counts_connections_not_streams(h2c_server: Hypercorn) -> None:
    async with _session(h2c_server, limit_per_host=1, limit=1) as session:

        async def one() -> str:
            async with session.get(h2c_server.url / "hello") as resp:
                return await resp.text()

        assert await asyncio.gather(*(one() for _ in range(50))) == ["hello"] * 50
    assert len(h2c_server.connections) == 1


async def test_server_stream_cap_makes_requests_wait_on_the_connection() -> None:
    async with Hypercorn(mode="h2c", options={"h2_max_concurrent_streams": 1}) as server:
        async with _session(server) as session:

            async def one(i: int) -> bytes:
                url = server.url.with_path("/slow").with_query(delay=0.01)
                async with session.get(url, headers={"x-i": str(i)}) as resp:
                    return await resp.read()

            assert await asyncio.gather(*(one(i) for i in range(10))) == [b"slow"] * 10
        assert len(server.connections) == 1


async def test_keepalive_expiry_closes_an_idle_http2_connection(h2c_server: Hypercorn) -> None:
    async with _session(h2c_server, keepalive_timeout=0.1) as session:
        for _ in range(2):
            async with session.get(h2c_server.url / "hello") as resp:
                assert await resp.text() == "hello"
            await asyncio.sleep(0.3)
    assert len(h2c_server.connections) == 2


# --- big bodies and flow control ------------------------------------------------------------


async def test_large_download_and_upload(h2_server: Hypercorn) -> None:
    size = 8 * 2**20  # beyond every window: the 1 MiB stream window, the server's 64 KiB
    async with _session(h2_server) as session:
        url = h2_server.url / "bytes"
        async with session.get(url, params={"size": size}) as resp:
            got = bytearray()
            async for chunk in resp.content.iter_chunked(65536):
                got += chunk
        assert got == pattern_bytes(size)
        body = pattern_bytes(size)
        async with session.post(h2_server.url / "echo", data=io.BytesIO(body)) as resp:
            assert await resp.read() == body
        whole = body[: 2**20 - 1]  # in memory, written whole: still far past the windows
        async with session.post(h2_server.url / "echo", data=whole) as resp:
            assert await resp.read() == whole


async def test_slow_reader_holds_back_the_server(h2c_server: Hypercorn) -> None:
    """A reader that stops reading stops acknowledging: what waits in memory is bounded."""
    size = 16 * 2**20
    async with _session(h2c_server) as session:
        url = h2c_server.url / "bytes"
        async with session.get(url, params={"size": size}, read_bufsize=2**16) as resp:
            await asyncio.sleep(0.3)  # the server sends until the windows are full
            buffered = resp.content.total_bytes
            assert buffered < 2 * 2**20 + 2**18
            assert len(await resp.read()) == size


# --- when the server says HTTP/1.1 -------------------------------------------------------------


async def test_alpn_falls_back_to_http11(h11_server: Hypercorn) -> None:
    async with _session(h11_server) as session:

        async def one() -> HttpVersion:
            async with session.get(h11_server.url / "hello") as resp:
                assert await resp.text() == "hello"
                return resp.version

        assert await one() == HttpVersion(1, 1)
        versions = await asyncio.gather(*(one() for _ in range(10)))
    assert set(versions) == {HttpVersion(1, 1)}
    assert set(h11_server.http_versions) == {"1.1"}
    assert len(h11_server.connections) > 1  # a pool of HTTP/1.1 connections, as usual


async def test_without_http2_the_connector_offers_only_http11(h2_server: Hypercorn) -> None:
    connector = TCPConnector(ssl=client_ssl_context(alpn=("http/1.1",)))
    async with ClientSession(connector=connector) as session:
        async with session.get(h2_server.url / "hello") as resp:
            assert resp.version == HttpVersion(1, 1)
    assert h2_server.http_versions == ["1.1"]


async def test_a_context_offering_h2_on_a_plain_connector_is_refused(h2_server: Hypercorn) -> None:
    """Speaking HTTP/1.1 into an h2 connection would fail obscurely: say why instead."""
    connector = TCPConnector(ssl=h2_server.client_ssl_context())
    async with ClientSession(connector=connector) as session:
        with pytest.raises(airhttp.ClientConnectorError, match="chose HTTP/2"):
            await session.get(h2_server.url / "hello")


# --- trailers ----------------------------------------------------------------------------------


async def test_trailers_end_the_body_and_the_connection_goes_on(h2_server: Hypercorn) -> None:
    async with _session(h2_server) as session:
        for _ in range(2):
            async with session.get(h2_server.url / "trailers", headers={"TE": "trailers"}) as resp:
                assert await resp.read() == b"with trailers"
        async with session.post(
            h2_server.url / "echo-trailers", data=b"12345", headers={"TE": "trailers"}
        ) as resp:
            assert await resp.read() == b"12345"
    assert len(h2_server.connections) == 1


# --- the layers above the connection ---------------------------------------------------------


async def test_gzip_is_decoded(h2_server: Hypercorn) -> None:
    async with _session(h2_server) as session, session.get(h2_server.url / "gzip") as resp:
        assert resp.headers["Content-Encoding"] == "gzip"
        assert await resp.text() == "hello gzip" * 100


async def test_cookies_and_redirects(h2c_server: Hypercorn) -> None:
    jar = airhttp.CookieJar(unsafe=True)
    connector = TCPConnector(http2_prior_knowledge=True)
    async with ClientSession(connector=connector, cookie_jar=jar) as session:
        async with session.get(h2c_server.url / "cookies" / "set", params={"a": "1"}) as resp:
            assert resp.status == 200
        url = h2c_server.url.with_path("/redirect").with_query(to="/cookies")
        async with session.get(url) as resp:
            assert resp.status == 200
            assert [r.status for r in resp.history] == [302]
            assert resp.version == HTTP2
            assert await resp.json() == {"cookie": ["a=1"]}
    assert len(h2c_server.connections) == 1


async def test_middlewares_and_tracing_see_http2_requests(h2c_server: Hypercorn) -> None:
    seen: list[str] = []

    async def middleware(
        request: airhttp.ClientRequest, handler: airhttp.ClientHandlerType
    ) -> airhttp.ClientResponse:
        seen.append(f"mw {request.method}")
        return await handler(request)

    trace = airhttp.TraceConfig()

    async def on(name: str) -> Any:
        async def record(*_: Any) -> None:
            seen.append(name)

        return record

    trace.on_request_start.append(await on("start"))
    trace.on_connection_create_end.append(await on("created"))
    trace.on_connection_reuseconn.append(await on("reused"))
    trace.on_request_headers_sent.append(await on("headers"))
    trace.on_request_end.append(await on("end"))
    connector = TCPConnector(http2_prior_knowledge=True)
    async with ClientSession(
        connector=connector, middlewares=(middleware,), trace_configs=[trace]
    ) as session:
        for _ in range(2):
            async with session.get(h2c_server.url / "hello") as resp:
                await resp.read()
    assert seen == [
        "start", "mw GET", "created", "headers", "end",
        "start", "mw GET", "reused", "headers", "end",
    ]  # fmt: skip


async def test_sock_read_applies_per_stream(h2c_server: Hypercorn) -> None:
    async with _session(h2c_server) as session:
        slow = h2c_server.url.with_path("/slow").with_query(delay=0.4)
        timeout = airhttp.ClientTimeout(sock_read=0.2)

        async def waits() -> None:
            async with session.get(slow, timeout=timeout) as resp:
                await resp.read()

        async def quick() -> str:
            async with session.get(h2c_server.url / "hello") as resp:
                return await resp.text()

        failed, answered = await asyncio.gather(waits(), quick(), return_exceptions=True)
        assert isinstance(failed, airhttp.SocketTimeoutError)
        assert answered == "hello"
        assert await quick() == "hello"
        await asyncio.sleep(0.3)  # the server's slow handler ends before it is shut down
    assert len(h2c_server.connections) == 1


async def test_websocket_on_an_http2_connector_keeps_http11(web_server: WebServer) -> None:
    from aiohttp import web

    async def ws(request: web.Request) -> web.WebSocketResponse:
        sock = web.WebSocketResponse()
        await sock.prepare(request)
        async for message in sock:
            await sock.send_str(f"echo {message.data}")
        return sock

    app = web.Application()
    app.router.add_get("/ws", ws)
    url = await web_server.start(app)
    async with ClientSession(connector=TCPConnector(http2=True)) as session:
        async with session.ws_connect(url / "ws") as sock:
            await sock.send_str("hi")
            assert (await sock.receive()).data == "echo hi"


def test_http2_without_the_h2_package_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "airhttp._h2_connection", None)
    monkeypatch.delattr(airhttp, "_h2_connection", raising=False)

    async def build() -> None:
        TCPConnector(http2=True)

    with pytest.raises(ImportError, match=r"airhttp\[http2\]"):
        asyncio.run(build())


# --- proxies -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[URL]:
    with proxy_py(tmp_path_factory.mktemp("h2-proxy") / "open") as url:
        yield url


async def test_http2_through_a_connect_tunnel(h2_server: Hypercorn, proxy: URL) -> None:
    async with _session(h2_server) as session:
        for _ in range(3):
            async with session.get(h2_server.url / "hello", proxy=proxy) as resp:
                assert resp.version == HTTP2
                assert await resp.text() == "hello"
    assert len(h2_server.connections) == 1


def test_without_http2_nothing_imports_h2() -> None:
    code = (
        "import asyncio, sys, airhttp\n"
        "async def main():\n"
        "    async with airhttp.ClientSession(connector=airhttp.TCPConnector()):\n"
        "        pass\n"
        "asyncio.run(main())\n"
        "assert not {'h2', 'hpack', 'airhttp._h2_connection'} & set(sys.modules), sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)

"""End-to-end requests over real sockets: aiohttp.web as the peer, plus raw servers."""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib

import pytest
from aiohttp import web
from yarl import URL

import airhttp
from airhttp.connector import TCPConnector

from .conftest import RawServer, WebServer, read_request


def _app() -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(
            text="Hello, World!",
            headers={"X-Peer-Port": str(request.transport.get_extra_info("peername")[1])},
        )  # type: ignore[union-attr]

    async def echo_json(request: web.Request) -> web.Response:
        data = await request.json()
        return web.json_response({"got": data, "ctype": request.content_type})

    async def echo_headers(request: web.Request) -> web.Response:
        return web.json_response(dict(request.headers))

    async def stream(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for i in range(10):
            await resp.write(bytes([65 + i]) * 10000)
        await resp.write_eof()
        return resp

    async def gzipped(request: web.Request) -> web.Response:
        body = gzip.compress(b"squeezed " * 1000)
        return web.Response(body=body, headers={"Content-Encoding": "gzip"})

    async def deflated(request: web.Request) -> web.Response:
        return web.Response(
            body=zlib.compress(b"deflated!"), headers={"Content-Encoding": "deflate"}
        )

    async def no_content(request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def status(request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="x")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.query.get("s", "1")))
        return web.Response(text="late")

    async def echo_body(request: web.Request) -> web.Response:
        body = await request.read()
        return web.Response(body=body, headers={"X-Method": request.method})

    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_post("/json", echo_json)
    app.router.add_get("/headers", echo_headers)
    app.router.add_get("/stream", stream)
    app.router.add_get("/gzip", gzipped)
    app.router.add_get("/deflate", deflated)
    app.router.add_get("/204", no_content)
    app.router.add_get("/status/{code}", status)
    app.router.add_get("/slow", slow)
    app.router.add_route("*", "/echo", echo_body)
    return app


@pytest.fixture
async def base(web_server: WebServer) -> URL:
    return await web_server.start(_app())


async def test_get_returns_status_headers_and_text(base: URL) -> None:
    async with airhttp.ClientSession() as session, session.get(base / "") as resp:
        assert resp.status == 200
        assert resp.reason == "OK"
        assert resp.ok
        assert resp.version == airhttp.HttpVersion11
        assert resp.content_type == "text/plain"
        assert resp.charset == "utf-8"
        assert await resp.text() == "Hello, World!"
        assert resp.headers["Content-Length"] == "13"
        assert (b"Content-Length", b"13") in resp.raw_headers


async def test_post_json_is_serialized_and_echoed(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        async with session.post(base / "json", json={"a": [1, 2]}) as resp:
            assert await resp.json() == {"got": {"a": [1, 2]}, "ctype": "application/json"}


async def test_default_headers_are_sent(base: URL) -> None:
    async with airhttp.ClientSession(headers={"X-Session": "s"}) as session:
        async with session.get(base / "headers", headers={"X-Req": "r"}) as resp:
            sent = await resp.json()
    assert sent["Host"] == f"127.0.0.1:{base.port}"
    assert sent["Accept"] == "*/*"
    assert "gzip" in sent["Accept-Encoding"]
    assert sent["User-Agent"].startswith("Python/3.")
    assert f"airhttp/{airhttp.__version__}" in sent["User-Agent"]
    assert sent["X-Session"] == "s"
    assert sent["X-Req"] == "r"


async def test_keep_alive_reuses_one_connection(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        ports = set()
        for _ in range(5):
            async with session.get(base / "") as resp:
                await resp.read()
                ports.add(resp.headers["X-Peer-Port"])
    assert len(ports) == 1


async def test_awaited_response_read_releases_connection(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        resp = await session.get(base / "")
        assert await resp.read() == b"Hello, World!"
        connector = session.connector
        assert isinstance(connector, TCPConnector)
        assert len(connector._acquired) == 0
        resp.release()


async def test_chunked_stream_is_read_in_pieces(base: URL) -> None:
    async with airhttp.ClientSession(read_bufsize=4096) as session:
        async with session.get(base / "stream") as resp:
            total = 0
            sizes = []
            async for chunk in resp.content.iter_chunked(3000):
                total += len(chunk)
                sizes.append(len(chunk))
    assert total == 100000
    assert max(sizes) <= 3000


async def test_gzip_and_deflate_bodies_are_decompressed(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        async with session.get(base / "gzip") as resp:
            assert await resp.read() == b"squeezed " * 1000
        async with session.get(base / "deflate") as resp:
            assert await resp.read() == b"deflated!"


async def test_auto_decompress_false_keeps_raw_bytes(base: URL) -> None:
    async with airhttp.ClientSession(auto_decompress=False) as session:
        async with session.get(base / "gzip") as resp:
            assert gzip.decompress(await resp.read()) == b"squeezed " * 1000


async def test_head_and_204_have_empty_bodies(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        async with session.head(base / "") as resp:
            assert resp.status == 200
            assert await resp.read() == b""
        async with session.get(base / "204") as resp:
            assert resp.status == 204
            assert await resp.read() == b""
        # The connection is still good afterwards.
        async with session.get(base / "") as resp:
            assert await resp.text() == "Hello, World!"


async def test_raise_for_status_raises_response_error(base: URL) -> None:
    async with airhttp.ClientSession(raise_for_status=True) as session:
        with pytest.raises(airhttp.ClientResponseError) as info:
            await session.get(base / "status/404")
    assert info.value.status == 404
    assert info.value.message == "Not Found"


async def test_methods_send_their_verb_and_body(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        for verb in ("put", "patch", "delete", "post"):
            async with getattr(session, verb)(base / "echo", data=b"payload") as resp:
                assert resp.headers["X-Method"] == verb.upper()
                assert await resp.read() == b"payload"


async def test_refused_connection_raises_connector_error() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    async with airhttp.ClientSession() as session:
        with pytest.raises(airhttp.ClientConnectorError) as info:
            await session.get(f"http://127.0.0.1:{port}/")
    assert info.value.host == "127.0.0.1"
    assert info.value.port == port
    assert isinstance(info.value.os_error, ConnectionRefusedError)


async def test_non_http_url_is_rejected() -> None:
    async with airhttp.ClientSession() as session:
        with pytest.raises(airhttp.NonHttpUrlClientError):
            await session.get("ftp://example.com/")
        with pytest.raises(airhttp.InvalidUrlClientError):
            await session.get("http:///nohost")


# --- raw servers that misbehave ---------------------------------------------------------


async def _serve(raw_server: RawServer, reply: bytes, *, close: bool = True) -> URL:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(reply)
        await writer.drain()
        if close:
            writer.close()
        else:
            await reader.read()

    return await raw_server.start(handler)


async def test_malformed_status_line_raises_response_error(raw_server: RawServer) -> None:
    url = await _serve(raw_server, b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n")
    async with airhttp.ClientSession() as session:
        with pytest.raises(airhttp.ClientResponseError) as info:
            await session.get(url)
    assert info.value.status == 400
    assert _pool_is_empty(session)


async def test_server_closing_without_reply_raises_server_disconnected(
    raw_server: RawServer,
) -> None:
    url = await _serve(raw_server, b"")
    async with airhttp.ClientSession() as session:
        with pytest.raises(airhttp.ServerDisconnectedError):
            await session.get(url)
    assert _pool_is_empty(session)


async def test_truncated_body_raises_payload_error(raw_server: RawServer) -> None:
    url = await _serve(raw_server, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")
    async with airhttp.ClientSession() as session, session.get(url) as resp:
        assert resp.status == 200
        with pytest.raises(airhttp.ClientPayloadError, match="Response payload is not completed"):
            await resp.read()
    assert _pool_is_empty(session)


async def test_truncated_chunked_body_raises_payload_error(raw_server: RawServer) -> None:
    url = await _serve(
        raw_server, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
    )
    async with airhttp.ClientSession() as session, session.get(url) as resp:
        with pytest.raises(airhttp.ClientPayloadError):
            await resp.read()


async def test_corrupt_gzip_raises_payload_error(raw_server: RawServer) -> None:
    url = await _serve(
        raw_server,
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello",
    )
    async with airhttp.ClientSession() as session, session.get(url) as resp:
        with pytest.raises(airhttp.ClientPayloadError):
            await resp.read()


async def test_content_length_with_transfer_encoding_is_rejected(raw_server: RawServer) -> None:
    url = await _serve(
        raw_server,
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\nhi\r\n0\r\n\r\n",
    )
    async with airhttp.ClientSession() as session:
        with pytest.raises(airhttp.ClientResponseError) as info:
            await session.get(url)
    assert info.value.status == 400


async def test_body_until_close_is_read_whole(raw_server: RawServer) -> None:
    url = await _serve(raw_server, b"HTTP/1.1 200 OK\r\n\r\nhello world")
    async with airhttp.ClientSession() as session, session.get(url) as resp:
        assert await resp.read() == b"hello world"


async def test_dripped_response_is_parsed(raw_server: RawServer) -> None:
    reply = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n"
        b"3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n"
    )

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        for i in range(len(reply)):
            writer.write(reply[i : i + 1])
            await writer.drain()
            if i % 8 == 0:
                await asyncio.sleep(0.001)
        await reader.read()

    url = await raw_server.start(handler)
    async with airhttp.ClientSession() as session, session.get(url) as resp:
        assert resp.headers["X-A"] == "b"
        assert await resp.read() == b"abcde"


async def test_interim_responses_are_skipped(raw_server: RawServer) -> None:
    url = await _serve(
        raw_server,
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        close=False,
    )
    async with airhttp.ClientSession() as session, session.get(url) as resp:
        assert resp.status == 200
        assert await resp.read() == b"ok"


async def test_sock_read_timeout_raises_socket_timeout(raw_server: RawServer) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(2)

    url = await raw_server.start(handler)
    timeout = airhttp.ClientTimeout(sock_read=0.1)
    async with airhttp.ClientSession(timeout=timeout) as session:
        with pytest.raises(airhttp.SocketTimeoutError):
            await session.get(url)
    assert _pool_is_empty(session)


async def test_total_timeout_raises_asyncio_timeout(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        with pytest.raises(asyncio.TimeoutError):
            await session.get(
                base / "slow", params={"s": "0.6"}, timeout=airhttp.ClientTimeout(total=0.2)
            )
        # The session is still usable afterwards.
        async with session.get(base / "") as resp:
            assert resp.status == 200


@pytest.mark.parametrize("total", [0, -1])
async def test_a_total_timeout_of_zero_or_less_means_no_limit(base: URL, total: float) -> None:
    # As aiohttp: only a positive total starts a timer (checked against aiohttp 3.14).
    timeout = airhttp.ClientTimeout(total=total)
    async with airhttp.ClientSession(timeout=timeout) as session:
        async with session.get(base / "slow", params={"s": "0.1"}) as resp:
            assert resp.status == 200
        async with session.get(base / "", timeout=timeout) as resp:
            assert resp.status == 200


async def test_total_timeout_while_reading_body_fails_the_read(raw_server: RawServer) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        await writer.drain()
        await asyncio.sleep(2)

    url = await raw_server.start(handler)
    async with airhttp.ClientSession(timeout=airhttp.ClientTimeout(total=0.2)) as session:
        async with session.get(url) as resp:
            with pytest.raises(asyncio.TimeoutError):
                await resp.read()


async def test_stale_keep_alive_connection_is_retried_once(raw_server: RawServer) -> None:
    """A server that closes each connection right after answering: idempotent requests succeed."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        # Claims keep-alive, then closes: the classic stale pooled connection.
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await asyncio.sleep(0.01)
        writer.close()

    url = await raw_server.start(handler)
    async with airhttp.ClientSession() as session:
        for _ in range(20):
            async with session.get(url) as resp:
                assert await resp.read() == b"ok"
            await asyncio.sleep(0.02)
    assert raw_server.connections >= 20


async def test_unread_response_closes_its_connection(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        async with session.get(base / "stream") as resp:
            await resp.content.read(10)
        assert _pool_is_empty(session)
        async with session.get(base / "") as resp:
            assert await resp.text() == "Hello, World!"


async def test_one_shot_request_closes_its_session(base: URL) -> None:
    async with airhttp.request("GET", base / "") as resp:
        assert await resp.text() == "Hello, World!"


async def test_many_concurrent_requests_respect_limit(base: URL) -> None:
    connector = TCPConnector(limit=5)
    async with airhttp.ClientSession(connector=connector) as session:

        async def one() -> str:
            async with session.get(base / "") as resp:
                return await resp.text()

        results = await asyncio.gather(*(one() for _ in range(100)))
        assert results == ["Hello, World!"] * 100
        assert len(connector._acquired) == 0
        assert sum(len(p) for p in connector._idle.values()) <= 5


def _pool_is_empty(session: airhttp.ClientSession) -> bool:
    connector = session.connector
    return connector is None or len(connector._acquired) == 0


async def test_json_helper_checks_content_type(base: URL) -> None:
    async with airhttp.ClientSession() as session, session.get(base / "") as resp:
        with pytest.raises(airhttp.ContentTypeError):
            await resp.json()
        with pytest.raises(json.JSONDecodeError):
            await resp.json(content_type=None)


async def test_compressed_body_expands_in_bounded_steps(raw_server: RawServer) -> None:
    """A small gzip body that inflates to 64 MiB never sits in memory whole."""
    inflated = 64 * 1024 * 1024
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    body = compressor.compress(b"\0" * inflated) + compressor.flush()
    assert len(body) < 100_000
    reply = (
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    url = await _serve(raw_server, reply, close=False)
    bufsize = 2**16
    async with airhttp.ClientSession(read_bufsize=bufsize) as session:
        async with session.get(url) as resp:
            content = resp.content
            total = 0
            peak = 0
            while True:
                chunk = await content.readany()
                if not chunk:
                    break
                total += len(chunk)
                peak = max(peak, len(chunk) + content._size)
    assert total == inflated
    # The reader pauses above 2 x read_bufsize and one bounded step may overshoot it; a read
    # that drains it refills synchronously while the caller still holds what it got. So the
    # peak is a small multiple of read_bufsize, independent of the inflated size.
    assert peak <= 8 * bufsize


async def test_head_arriving_while_send_awaits_a_trace_is_not_lost(base: URL) -> None:
    trace_config = airhttp.TraceConfig()

    async def slow_headers_sent(session: object, ctx: object, params: object) -> None:
        # Long enough for the whole response to arrive before start() runs.
        await asyncio.sleep(0.05)

    trace_config.on_request_headers_sent.append(slow_headers_sent)
    async with airhttp.ClientSession(trace_configs=[trace_config]) as session:
        async with session.get(base / "") as resp:
            assert await resp.text() == "Hello, World!"


async def test_total_timeout_never_fails_the_next_user_of_a_released_connection(
    web_server: WebServer,
) -> None:
    """A's timer fires after A's first hop gave its connection back; B now uses it."""
    from airhttp.abc import AbstractResolver, ResolveResult

    async def redirect(request: web.Request) -> web.Response:
        port = request.url.port
        raise web.HTTPFound(f"http://slow.test:{port}/")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.5)
        return web.Response(text="B done")

    app = web.Application()
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/slow", slow)
    base = await web_server.start(app)

    class SlowResolver(AbstractResolver):
        async def resolve(self, host: str, port: int = 0, family: int = 0) -> list[ResolveResult]:  # type: ignore[override]
            await asyncio.sleep(0.6)
            return [
                ResolveResult(
                    hostname=host, host="127.0.0.1", port=port, family=2, proto=0, flags=0
                )
            ]

        async def close(self) -> None:
            pass

    connector = TCPConnector(resolver=SlowResolver(), limit=1)
    async with airhttp.ClientSession(connector=connector) as session:

        async def request_a() -> None:
            with pytest.raises(asyncio.TimeoutError):
                await session.get(base / "redirect", timeout=airhttp.ClientTimeout(total=0.3))

        async def request_b() -> str:
            await asyncio.sleep(0.1)  # after A's first hop released the connection
            async with session.get(base / "slow") as resp:
                return await resp.text()

        _, b_text = await asyncio.gather(request_a(), request_b())
    assert b_text == "B done"


async def test_unsolicited_bytes_on_an_idle_connection_never_answer_the_next_request(
    raw_server: RawServer,
) -> None:
    counter = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal counter
        while True:
            await read_request(reader)
            counter += 1
            body = f"reply {counter}".encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()
            await asyncio.sleep(0.02)
            # An idle-timeout notice nobody asked for, on a connection said to be kept alive.
            writer.write(b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()

    url = await raw_server.start(handler)
    async with airhttp.ClientSession() as session:
        for expected in (1, 2, 3):
            async with session.get(url) as resp:
                assert resp.status == 200
                assert await resp.text() == f"reply {expected}"
            await asyncio.sleep(0.05)
    assert raw_server.connections == 3


async def test_response_dropped_half_read_gives_its_pool_slot_back(base: URL) -> None:
    import gc

    connector = TCPConnector(limit=1)
    async with airhttp.ClientSession(connector=connector, read_bufsize=1024) as session:
        resp = await session.get(base / "stream")
        assert len(await resp.content.read(10)) == 10
        # Collecting the response closes its connection (quietly, as aiohttp outside
        # debug mode), so the only slot is free again.
        del resp
        gc.collect()
        assert not connector._acquired

        async def second_request() -> str:
            async with session.get(base / "") as second:
                return await second.text()

        assert await asyncio.wait_for(second_request(), 2) == "Hello, World!"

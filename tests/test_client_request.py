"""ClientRequest: attributes, automatic headers, bodies and framing, over real sockets."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import os
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

import airhttp
from airhttp import _client_request, hdrs, payload
from airhttp._client_request import ClientRequest
from airhttp.client_exceptions import ClientConnectionError, ClientPayloadError, InvalidURL
from airhttp.connector import TCPConnector

from .conftest import RawServer, WebServer

_OK: bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
# A regression that leaves a request waiting fails in seconds instead of hanging the run.
_QUICK = airhttp.ClientTimeout(total=3)


# --- helpers --------------------------------------------------------------------------


def _request(method: str = "GET", url: str = "http://example.com/", **kwargs: Any) -> ClientRequest:
    return ClientRequest(method, URL(url), loop=asyncio.get_running_loop(), **kwargs)


def _tail(req: ClientRequest) -> list[tuple[str, str]]:
    """The headers after the automatic Host/Accept/Accept-Encoding/User-Agent ones."""
    return [(k, v) for k, v in req.headers.items() if k not in _AUTO]


_AUTO = {"Host", "Accept", "Accept-Encoding", "User-Agent"}


async def _agen(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def _read_message(reader: asyncio.StreamReader) -> bytes:
    """One request off a raw connection, framed by Content-Length or chunked coding."""
    head = await reader.readuntil(b"\r\n\r\n")
    lowered = head.lower()
    if b"transfer-encoding: chunked" in lowered:
        body = b""
        while True:
            size_line = await reader.readuntil(b"\r\n")
            body += size_line
            size = int(size_line.strip(), 16)
            body += await reader.readexactly(size + 2)
            if size == 0:
                return head + body
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return head + (await reader.readexactly(length) if length else b"")


class _Capture:
    """A raw server recording every request it reads, answering each with `reply`."""

    def __init__(self, raw_server: RawServer, reply: bytes = _OK) -> None:
        self.raw_server = raw_server
        self.reply = reply
        self.requests: list[bytes] = []

    async def start(self) -> URL:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while True:
                try:
                    message = await _read_message(reader)
                except asyncio.IncompleteReadError:
                    return
                self.requests.append(message)
                writer.write(self.reply)
                await writer.drain()

        return await self.raw_server.start(handler)

    def head(self, index: int = 0) -> list[bytes]:
        return self.requests[index].split(b"\r\n\r\n", 1)[0].split(b"\r\n")

    def body(self, index: int = 0) -> bytes:
        return self.requests[index].split(b"\r\n\r\n", 1)[1]


def _echo_app() -> web.Application:
    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        return web.json_response(
            {
                "method": request.method,
                "headers": list(request.headers.items()),
                "body": body.decode("latin-1"),
            }
        )

    async def form(request: web.Request) -> web.Response:
        fields: dict[str, Any] = {}
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                fields[name] = {
                    "filename": value.filename,
                    "content_type": value.content_type,
                    "data": value.file.read().decode("latin-1"),
                }
            else:
                fields[name] = value
        return web.json_response({"ctype": request.content_type, "fields": fields})

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_post("/form", form)
    return app


@pytest.fixture
async def echo(web_server: WebServer) -> URL:
    return await web_server.start(_echo_app())


async def _echoed(url: URL, method: str = "POST", **kwargs: Any) -> dict[str, Any]:
    async with airhttp.ClientSession(timeout=_QUICK) as session:
        async with session.request(method, url / "echo", **kwargs) as resp:
            assert resp.status == 200
            result: dict[str, Any] = await resp.json()
    result["headers"] = CIMultiDict(result["headers"])
    return result


# --- attributes -----------------------------------------------------------------------


async def test_attributes_describe_the_request() -> None:
    req = _request("get", "https://example.com:8443/a?b=1#frag", server_hostname="sni.example")
    assert req.method == "GET"
    assert req.url == URL("https://example.com:8443/a?b=1")
    assert req.original_url == URL("https://example.com:8443/a?b=1#frag")
    assert (req.host, req.port) == ("example.com", 8443)
    assert req.is_ssl()
    assert req.ssl is True
    assert req.server_hostname == "sni.example"
    assert req.proxy is None and req.proxy_headers is None
    assert req.session is None
    assert req.response_class is airhttp.ClientResponse
    assert req.version == airhttp.HttpVersion11
    assert req.chunked is None and req.compress is None
    assert req.body == b""
    assert len(req.skip_auto_headers) == 0
    key = req.connection_key
    assert (key.host, key.port, key.is_ssl, key.server_hostname) == (
        "example.com",
        8443,
        True,
        "sni.example",
    )
    info = req.request_info
    assert (info.url, info.method, info.real_url) == (req.url, "GET", req.original_url)
    assert info.headers["Host"] == "example.com:8443"


@pytest.mark.parametrize(
    ("url", "secure"),
    [("http://h/", False), ("https://h/", True), ("ws://h/", False), ("wss://h/", True)],
)
async def test_is_ssl_follows_the_scheme(url: str, secure: bool) -> None:
    assert _request(url=url).is_ssl() is secure


async def test_proxy_settings_are_kept_with_headers_as_a_multidict() -> None:
    auth = airhttp.BasicAuth("u", "p")
    req = _request(proxy=URL("http://proxy:3128"), proxy_auth=auth, proxy_headers={"X-Proxy": "1"})
    assert req.proxy == URL("http://proxy:3128")
    assert req.proxy_auth == auth
    assert isinstance(req.proxy_headers, CIMultiDict)
    assert req.proxy_headers["X-Proxy"] == "1"
    assert req.connection_key.proxy == URL("http://proxy:3128")


async def test_url_without_host_is_invalid() -> None:
    with pytest.raises(InvalidURL):
        _request(url="http:///path")


async def test_method_with_non_token_characters_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"non-token characters 'GET ' \(found at least ' '\)"):
        _request("GET ")


async def test_extension_methods_are_upper_cased_and_accepted() -> None:
    assert _request("m-search").method == "M-SEARCH"


async def test_version_may_be_given_as_a_string() -> None:
    assert _request(version="1.0").version == airhttp.HttpVersion10
    with pytest.raises(ValueError, match=r"Can not parse http version number: x\.y"):
        _request(version="x.y")


async def test_params_extend_the_query() -> None:
    req = _request(url="http://h/p?a=1", params=[("b", "2"), ("b", "3")])
    assert str(req.url) == "http://h/p?a=1&b=2&b=3"


async def test_url_credentials_become_basic_auth() -> None:
    req = _request(url="http://user:pass@h/")
    assert req.auth == airhttp.BasicAuth("user", "pass")
    assert req.headers["Authorization"] == airhttp.BasicAuth("user", "pass").encode()


async def test_auth_must_be_basic_auth() -> None:
    with pytest.raises(TypeError, match=r"BasicAuth\(\) tuple is required instead"):
        _request(auth=("u", "p"))


async def test_cookies_join_the_cookie_header() -> None:
    req = _request(cookies={"a": "1", "b": "x y"}, headers={"Cookie": "c=3"})
    assert req.headers["Cookie"] == 'a=1; b="x y"; c=3'


# --- automatic headers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://example.com:80/", "example.com"),
        ("https://example.com:443/", "example.com"),
        ("http://example.com:8080/", "example.com:8080"),
        ("https://example.com:80/", "example.com:80"),
        ("http://[::1]:8080/", "[::1]:8080"),
        ("https://[::1]/", "[::1]"),
        ("http://bücher.de/", "xn--bcher-kva.de"),
    ],
)
async def test_host_header_omits_default_ports_and_brackets_ipv6(url: str, host: str) -> None:
    assert _request(url=url).headers["Host"] == host


async def test_default_headers_come_in_aiohttp_order() -> None:
    req = _request()
    assert list(req.headers) == ["Host", "Accept", "Accept-Encoding", "User-Agent"]
    assert req.headers["Accept"] == "*/*"


async def test_user_agent_names_python_aiohttp_and_airhttp() -> None:
    # aiohttp's form (server-side checks look for "aiohttp/"), with airhttp's version added.
    major, minor = __import__("sys").version_info[:2]
    expected = f"Python/{major}.{minor} aiohttp/3.13.3 airhttp/{airhttp.__version__}"
    assert _request().headers["User-Agent"] == expected == airhttp.http.SERVER_SOFTWARE


def test_accept_encoding_offers_br_and_zstd_only_with_their_backends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_client_request, "HAS_BROTLI", False)
    monkeypatch.setattr(_client_request, "HAS_ZSTD", False)
    assert _client_request._default_accept_encoding() == "gzip, deflate"
    monkeypatch.setattr(_client_request, "HAS_ZSTD", True)
    assert _client_request._default_accept_encoding() == "gzip, deflate, zstd"
    monkeypatch.setattr(_client_request, "HAS_BROTLI", True)
    assert _client_request._default_accept_encoding() == "gzip, deflate, br, zstd"


def test_default_accept_encoding_matches_the_installed_backends() -> None:
    from airhttp import compression_utils

    offered = ClientRequest.DEFAULT_HEADERS[hdrs.ACCEPT_ENCODING].split(", ")
    assert ("br" in offered) is compression_utils.HAS_BROTLI
    assert ("zstd" in offered) is compression_utils.HAS_ZSTD


async def test_skip_auto_headers_drops_generated_headers_but_never_host() -> None:
    req = _request(
        "POST",
        data=b"x",
        skip_auto_headers=["user-agent", "Accept", "accept-encoding", "Content-Type", "Host"],
    )
    # RFC 9112 3.2 requires Host; aiohttp sends it even when asked to skip it.
    assert list(req.headers.items()) == [("Host", "example.com"), ("Content-Length", "1")]
    assert set(req.skip_auto_headers) == {
        "user-agent",
        "Accept",
        "accept-encoding",
        "Content-Type",
        "Host",
    }


async def test_user_headers_replace_automatic_ones_and_keep_repeats() -> None:
    req = _request(
        headers=[("host", "other.example"), ("User-Agent", "me"), ("X-A", "1"), ("X-A", "2")]
    )
    assert list(req.headers.items()) == [
        ("host", "other.example"),
        ("User-Agent", "me"),
        ("X-A", "1"),
        ("X-A", "2"),
        ("Accept", "*/*"),
        ("Accept-Encoding", ClientRequest.DEFAULT_HEADERS[hdrs.ACCEPT_ENCODING]),
    ]


async def test_keep_alive_follows_version_and_connection_header() -> None:
    assert _request().keep_alive()
    assert not _request(headers={"Connection": "close"}).keep_alive()
    assert not _request(version=airhttp.HttpVersion10).keep_alive()
    assert _request(
        version=airhttp.HttpVersion10, headers={"Connection": "keep-alive"}
    ).keep_alive()


# --- bodies: payload choice and framing headers ------------------------------------------


@pytest.mark.parametrize(
    ("make", "payload_type", "content_type", "length"),
    [
        (lambda: b"abc", payload.BytesPayload, "application/octet-stream", "3"),
        (lambda: bytearray(b"ab"), payload.BytesPayload, "application/octet-stream", "2"),
        (lambda: memoryview(b"abcd"), payload.BytesPayload, "application/octet-stream", "4"),
        (lambda: "héllo", payload.StringPayload, "text/plain; charset=utf-8", "6"),
        (lambda: io.BytesIO(b"bio"), payload.BytesIOPayload, "application/octet-stream", "3"),
        (lambda: io.StringIO("sio"), payload.StringIOPayload, "text/plain; charset=utf-8", "3"),
        (lambda: {"a": "1 2"}, payload.BytesPayload, "application/x-www-form-urlencoded", "5"),
        (lambda: [("a", "1"), ("a", "2")], payload.BytesPayload, None, "7"),
    ],
)
async def test_data_picks_a_payload_with_type_and_length(
    make: Callable[[], Any], payload_type: type, content_type: str | None, length: str
) -> None:
    req = _request("POST", data=make())
    assert type(req.body) is payload_type
    if content_type is not None:
        assert req.headers["Content-Type"] == content_type
    assert req.headers["Content-Length"] == length
    assert hdrs.TRANSFER_ENCODING not in req.headers


async def test_async_iterable_data_is_sent_chunked() -> None:
    req = _request("POST", data=_agen(b"a"))
    assert isinstance(req.body, payload.AsyncIterablePayload)
    assert req.chunked is True
    assert _tail(req) == [
        ("Content-Type", "application/octet-stream"),
        ("Transfer-Encoding", "chunked"),
    ]
    await req.body.close()


async def test_data_of_an_unsupported_type_is_refused() -> None:
    with pytest.raises(TypeError, match=r"Only io\.IOBase, multidict and"):
        _request("POST", data=123)


async def test_compress_sets_content_encoding_and_chunked_framing() -> None:
    req = _request("POST", data=b"x", compress=True)
    assert req.compress == "deflate"
    assert req.chunked is True
    assert _tail(req) == [
        ("Content-Encoding", "deflate"),
        ("Content-Type", "application/octet-stream"),
        ("Transfer-Encoding", "chunked"),
    ]
    assert _request("POST", data=b"x", compress="gzip").headers["Content-Encoding"] == "gzip"


async def test_compress_is_ignored_without_a_body() -> None:
    req = _request("POST", compress="gzip")
    assert req.compress is None
    assert _tail(req) == [("Content-Length", "0")]


async def test_compress_with_a_content_encoding_header_is_refused() -> None:
    with pytest.raises(
        ValueError, match="compress can not be set if Content-Encoding header is set"
    ):
        _request("POST", data=b"x", compress="gzip", headers={"Content-Encoding": "gzip"})


async def test_compress_with_an_encoding_airhttp_cannot_produce_is_refused() -> None:
    with pytest.raises(ValueError, match="compress='br' is not supported"):
        _request("POST", data=b"x", compress="br")


async def test_chunked_with_a_transfer_encoding_header_is_refused() -> None:
    with pytest.raises(ValueError, match='chunked can not be set if "Transfer-Encoding: chunked"'):
        _request("POST", data=b"x", chunked=True, headers={"Transfer-Encoding": "chunked"})


async def test_chunked_with_a_content_length_header_is_refused() -> None:
    with pytest.raises(ValueError, match="chunked can not be set if Content-Length header is set"):
        _request("POST", data=b"x", chunked=True, headers={"Content-Length": "1"})


async def test_transfer_encoding_header_alone_frames_the_body_without_content_length() -> None:
    # aiohttp would send both headers; RFC 9112 6.1 forbids Content-Length beside it.
    req = _request("POST", data=b"x", headers={"Transfer-Encoding": "chunked"})
    assert req.chunked is True
    assert hdrs.CONTENT_LENGTH not in req.headers


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("GET", []),
        ("HEAD", []),
        ("OPTIONS", []),
        ("TRACE", []),
        ("DELETE", [("Content-Length", "0")]),
        ("POST", [("Content-Length", "0")]),
        ("FOO", [("Content-Length", "0")]),
    ],
)
async def test_bodyless_requests_announce_a_zero_length_unless_a_get_method(
    method: str, expected: list[tuple[str, str]]
) -> None:
    assert _tail(_request(method)) == expected


async def test_expect100_asks_for_100_continue() -> None:
    req = _request("POST", data=b"x", expect100=True)
    assert req.headers["Expect"] == "100-continue"
    assert req._continue is not None
    assert _request("POST", data=b"x", headers={"Expect": "100-Continue"})._continue is not None


# --- update_body and the body attribute ------------------------------------------------


async def test_update_body_recomputes_length_and_the_type_the_old_body_brought() -> None:
    req = _request("POST", data=b"abc")
    await req.update_body("text")
    assert isinstance(req.body, payload.StringPayload)
    assert dict(_tail(req)) == {"Content-Length": "4", "Content-Type": "text/plain; charset=utf-8"}
    form = airhttp.FormData()
    form.add_field("f", io.BytesIO(b"data"), filename="f.bin")
    await req.update_body(form)
    assert req.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert int(req.headers["Content-Length"]) == req.body.size


async def test_update_body_keeps_a_content_type_the_caller_set() -> None:
    req = _request("POST", data=b"abc", headers={"Content-Type": "application/x-thing"})
    await req.update_body(b"hello")
    assert dict(_tail(req)) == {"Content-Type": "application/x-thing", "Content-Length": "5"}


async def test_update_body_to_none_leaves_a_zero_length_post_and_a_bare_get() -> None:
    post = _request("POST", data=b"abc")
    await post.update_body(None)
    assert post.body == b""
    assert _tail(post) == [("Content-Length", "0")]
    get = _request("GET", data=b"abc")
    await get.update_body(None)
    assert _tail(get) == []


async def test_update_body_moves_between_chunked_and_sized_bodies() -> None:
    req = _request("POST", data=b"abc")
    await req.update_body(_agen(b"x"))
    assert req.chunked is True
    assert hdrs.CONTENT_LENGTH not in req.headers
    assert req.headers["Transfer-Encoding"] == "chunked"
    await req.update_body(b"xyz")
    assert not req.chunked
    assert hdrs.TRANSFER_ENCODING not in req.headers
    assert req.headers["Content-Length"] == "3"


async def test_update_body_keeps_chunked_framing_the_caller_asked_for() -> None:
    req = _request("POST", data=b"abc", chunked=True)
    await req.update_body(b"xyz")
    assert req.chunked is True
    assert req.headers["Transfer-Encoding"] == "chunked"
    assert hdrs.CONTENT_LENGTH not in req.headers


async def test_update_body_closes_the_file_it_replaces(tmp_path: Path) -> None:
    path = tmp_path / "body.bin"
    path.write_bytes(b"file")
    with path.open("rb") as f:
        req = _request("POST", data=f)
        await req.update_body(b"new")
        assert f.closed


async def test_assigning_body_updates_the_headers_like_update_body() -> None:
    req = _request("POST", data=b"abc")
    req.body = b"hello"
    assert isinstance(req.body, payload.BytesPayload)
    assert req.headers["Content-Length"] == "5"
    req.body = None
    assert req.body == b""
    assert req.headers["Content-Length"] == "0"


# --- on the wire ------------------------------------------------------------------------


async def test_get_head_is_written_in_aiohttp_order(raw_server: RawServer) -> None:
    capture = _Capture(raw_server)
    url = await capture.start()
    async with airhttp.ClientSession(timeout=_QUICK) as session:
        async with session.get(url / "p" % {"q": "1"}) as resp:
            assert await resp.read() == b"ok"
    assert capture.head() == [
        b"GET /p?q=1 HTTP/1.1",
        f"Host: 127.0.0.1:{url.port}".encode(),
        b"Accept: */*",
        f"Accept-Encoding: {ClientRequest.DEFAULT_HEADERS[hdrs.ACCEPT_ENCODING]}".encode(),
        f"User-Agent: {_client_request._USER_AGENT}".encode(),
    ]


@pytest.mark.parametrize(
    ("method", "tail"),
    [
        ("POST", [b"Content-Length: 0", b"Content-Type: application/octet-stream"]),
        ("PUT", [b"Content-Length: 0", b"Content-Type: application/octet-stream"]),
        ("PATCH", [b"Content-Length: 0", b"Content-Type: application/octet-stream"]),
        ("DELETE", [b"Content-Length: 0"]),
        ("GET", []),
        ("OPTIONS", []),
    ],
)
async def test_bodyless_methods_send_what_aiohttp_sends(
    raw_server: RawServer, method: str, tail: list[bytes]
) -> None:
    capture = _Capture(raw_server)
    url = await capture.start()
    async with airhttp.ClientSession(timeout=_QUICK) as session:
        async with session.request(method, url) as resp:
            await resp.read()
    assert capture.head()[5:] == tail


async def test_bodyless_post_skipping_content_type_sends_only_the_length(
    raw_server: RawServer,
) -> None:
    capture = _Capture(raw_server)
    url = await capture.start()
    async with airhttp.ClientSession(timeout=_QUICK) as session:
        async with session.post(url, skip_auto_headers=["Content-Type"]) as resp:
            await resp.read()
    assert capture.head()[5:] == [b"Content-Length: 0"]


async def test_http10_requests_ask_for_keep_alive(raw_server: RawServer) -> None:
    capture = _Capture(raw_server)
    url = await capture.start()
    async with airhttp.ClientSession(version=airhttp.HttpVersion10, timeout=_QUICK) as session:
        async with session.post(url, data=b"x") as resp:
            await resp.read()
    assert capture.head()[0] == b"POST / HTTP/1.0"
    assert capture.head()[-1] == b"Connection: keep-alive"
    assert capture.body() == b"x"


@pytest.mark.parametrize(
    ("version", "last"),
    [(airhttp.HttpVersion11, b"Connection: close"), (airhttp.HttpVersion10, None)],
)
async def test_force_close_connector_says_close_where_the_version_needs_it(
    raw_server: RawServer, version: airhttp.HttpVersion, last: bytes | None
) -> None:
    capture = _Capture(raw_server)
    url = await capture.start()
    connector = TCPConnector(force_close=True)
    async with airhttp.ClientSession(
        connector=connector, version=version, timeout=_QUICK
    ) as session:
        async with session.get(url) as resp:
            await resp.read()
    connection_lines = [line for line in capture.head() if line.startswith(b"Connection")]
    assert connection_lines == ([last] if last else [])


async def test_callers_connection_header_is_left_alone(raw_server: RawServer) -> None:
    capture = _Capture(raw_server)
    url = await capture.start()
    async with airhttp.ClientSession(version=airhttp.HttpVersion10, timeout=_QUICK) as session:
        async with session.get(url, headers={"Connection": "close"}) as resp:
            await resp.read()
    assert [line for line in capture.head() if b"onnection" in line] == [b"Connection: close"]


async def test_chunked_true_frames_a_bytes_body_in_chunks(raw_server: RawServer) -> None:
    capture = _Capture(raw_server)
    url = await capture.start()
    async with airhttp.ClientSession(timeout=_QUICK) as session:
        async with session.post(url, data=b"abc", chunked=True) as resp:
            await resp.read()
        async with session.post(url, chunked=True) as resp:
            await resp.read()
    assert b"Transfer-Encoding: chunked" in capture.head(0)
    assert capture.body(0) == b"3\r\nabc\r\n0\r\n\r\n"
    assert capture.body(1) == b"0\r\n\r\n"


async def test_content_length_header_shorter_than_the_body_wins(raw_server: RawServer) -> None:
    capture = _Capture(raw_server)
    url = await capture.start()
    async with airhttp.ClientSession(timeout=_QUICK) as session:
        async with session.post(url, data=b"hello", headers={"Content-Length": "3"}) as resp:
            await resp.read()
        async with session.post(
            url, data=io.BytesIO(b"hello"), headers={"Content-Length": "3"}
        ) as resp:
            await resp.read()
    assert capture.body(0) == b"hel"
    assert capture.body(1) == b"hel"


async def test_body_shorter_than_its_content_length_header_closes_the_connection(
    raw_server: RawServer,
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        # Answers without waiting for the promised body; a reuse would desynchronise.
        writer.write(_OK)
        await writer.drain()
        await reader.read()

    url = await raw_server.start(handler)
    async with airhttp.ClientSession(timeout=_QUICK) as session:
        async with session.post(url, data=b"hi", headers={"Content-Length": "5"}) as resp:
            assert await resp.read() == b"ok"
        async with session.get(url) as resp:
            assert await resp.read() == b"ok"
    assert raw_server.connections == 2


async def test_large_body_arrives_whole(echo: URL) -> None:
    data = bytes(range(256)) * 1000
    got = await _echoed(echo, data=data)
    assert got["body"].encode("latin-1") == data


@pytest.mark.parametrize(
    ("make", "body", "content_type"),
    [
        (lambda p: b"raw", "raw", "application/octet-stream"),
        (lambda p: bytearray(b"ba"), "ba", "application/octet-stream"),
        (lambda p: memoryview(b"mv"), "mv", "application/octet-stream"),
        (lambda p: "héllo", "hÃ©llo", "text/plain; charset=utf-8"),
        (lambda p: io.BytesIO(b"bio"), "bio", "application/octet-stream"),
        (lambda p: io.StringIO("sïo"), "sÃ¯o", "text/plain; charset=utf-8"),
        (lambda p: p.open("rb"), "file bytes", "application/octet-stream"),
        (lambda p: p.open("r", encoding="utf-8"), "file bytes", "text/plain; charset=utf-8"),
        (lambda p: {"a": "1 2", "b": "é"}, "a=1+2&b=%C3%A9", "application/x-www-form-urlencoded"),
        (lambda p: [("a", "1"), ("a", "2")], "a=1&a=2", "application/x-www-form-urlencoded"),
    ],
)
async def test_sized_bodies_arrive_intact_with_type_and_length(
    echo: URL, tmp_path: Path, make: Callable[[Path], Any], body: str, content_type: str
) -> None:
    path = tmp_path / "upload.bin"
    path.write_bytes(b"file bytes")
    data = make(path)
    try:
        got = await _echoed(echo, data=data)
    finally:
        if hasattr(data, "close"):
            data.close()
    assert got["body"] == body
    assert got["headers"]["Content-Type"] == content_type
    assert got["headers"]["Content-Length"] == str(len(body.encode("latin-1")))
    assert "Transfer-Encoding" not in got["headers"]


async def test_async_generator_body_is_streamed_chunked(echo: URL) -> None:
    got = await _echoed(echo, data=_agen(b"one", b"", b"two"))
    assert got["body"] == "onetwo"
    assert got["headers"]["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in got["headers"]


async def test_payload_objects_are_sent_as_given(echo: URL) -> None:
    got = await _echoed(echo, data=payload.StringPayload("é", encoding="latin-1"))
    assert got["body"].encode("latin-1") == b"\xe9"
    assert got["headers"]["Content-Type"] == "text/plain; charset=latin-1"
    got = await _echoed(echo, data=payload.BytesPayload(b"\x89PNG", content_type="image/png"))
    assert got["headers"]["Content-Type"] == "image/png"
    got = await _echoed(echo, data=payload.JsonPayload({"a": 1}))
    assert json.loads(got["body"]) == {"a": 1}
    assert got["headers"]["Content-Type"] == "application/json"


async def test_json_is_serialised_with_the_sessions_serialiser(echo: URL) -> None:
    def dumps(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"))

    async with airhttp.ClientSession(json_serialize=dumps, timeout=_QUICK) as session:
        async with session.post(echo / "echo", json={"a": [1, 2]}) as resp:
            got = await resp.json()
    assert got["body"] == '{"a":[1,2]}'
    assert dict(got["headers"])["Content-Type"] == "application/json"


async def test_data_and_json_together_are_refused(echo: URL) -> None:
    async with airhttp.ClientSession(timeout=_QUICK) as session:
        with pytest.raises(
            ValueError, match="data and json parameters can not be used at the same"
        ):
            await session.post(echo / "echo", data=b"x", json={"a": 1})


async def test_multipart_form_with_a_file_is_parsed_by_the_server(echo: URL) -> None:
    form = airhttp.FormData()
    form.add_field("name", "value")
    form.add_field("upload", io.BytesIO(b"\x00file"), filename="a.bin", content_type="x/y")
    async with airhttp.ClientSession(timeout=_QUICK) as session:
        async with session.post(echo / "form", data=form) as resp:
            got = await resp.json()
    assert got["ctype"] == "multipart/form-data"
    assert got["fields"] == {
        "name": "value",
        "upload": {"filename": "a.bin", "content_type": "x/y", "data": "\x00file"},
    }


async def test_urlencoded_form_uses_its_charset(echo: URL) -> None:
    form = airhttp.FormData({"q": "é"}, charset="latin-1")
    got = await _echoed(echo, data=form)
    assert got["body"] == "q=%E9"
    assert got["headers"]["Content-Type"] == "application/x-www-form-urlencoded; charset=latin-1"


async def test_multipart_field_names_are_quoted_unless_quote_fields_is_off(echo: URL) -> None:
    quoted = airhttp.FormData(quote_fields=True)
    quoted.add_field("fïeld", b"v", filename='f "x".bin')
    raw = airhttp.FormData(quote_fields=False)
    raw.add_field("fïeld", b"v", filename='f "x".bin')
    got_quoted = (await _echoed(echo, data=quoted))["body"].encode("latin-1").decode()
    got_raw = (await _echoed(echo, data=raw))["body"].encode("latin-1").decode()
    # The same Content-Disposition values aiohttp writes for these fields.
    assert "name*=utf-8''f%C3%AFeld; filename=\"f%20%22x%22.bin\"" in got_quoted
    assert 'name="fïeld"; filename="f \\"x\\".bin"' in got_raw


@pytest.mark.parametrize(("compress", "encoding"), [(True, "deflate"), ("gzip", "gzip")])
async def test_compressed_body_is_decoded_by_the_server(
    echo: URL, compress: bool | str, encoding: str
) -> None:
    got = await _echoed(echo, data=b"hello " * 500, compress=compress)
    assert got["body"] == "hello " * 500
    assert got["headers"]["Content-Encoding"] == encoding
    assert got["headers"]["Transfer-Encoding"] == "chunked"


async def test_compressed_wire_bytes_decode_to_the_body(raw_server: RawServer) -> None:
    capture = _Capture(raw_server)
    url = await capture.start()
    async with airhttp.ClientSession(timeout=_QUICK) as session:
        async with session.post(url, data=b"abc" * 100, compress="gzip") as resp:
            await resp.read()
    chunks = capture.body()
    joined = b""
    while chunks:
        size_line, _, rest = chunks.partition(b"\r\n")
        size = int(size_line, 16)
        joined += rest[:size]
        chunks = rest[size + 2 :]
    assert gzip.decompress(joined) == b"abc" * 100


async def test_precompressed_data_is_sent_as_is_under_its_content_encoding(
    raw_server: RawServer,
) -> None:
    capture = _Capture(raw_server)
    url = await capture.start()
    data = zlib.compress(b"already squeezed")
    async with airhttp.ClientSession(timeout=_QUICK) as session:
        async with session.post(url, data=data, headers={"Content-Encoding": "deflate"}) as resp:
            await resp.read()
    assert b"Content-Encoding: deflate" in capture.head()
    assert f"Content-Length: {len(data)}".encode() in capture.head()
    assert capture.body() == data


# --- expect: 100-continue --------------------------------------------------------------


async def test_expect100_sends_the_body_after_100_continue(raw_server: RawServer) -> None:
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        assert b"Expect: 100-continue" in head
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        seen.append(await reader.readexactly(5))
        writer.write(_OK)
        await writer.drain()

    url = await raw_server.start(handler)
    async with airhttp.ClientSession(timeout=_QUICK) as session:
        async with session.post(url, data=b"hello", expect100=True) as resp:
            assert resp.status == 200
            assert await resp.read() == b"ok"
    assert seen == [b"hello"]


@pytest.mark.parametrize("status", [b"417 Expectation Failed", b"401 Unauthorized"])
async def test_expect100_answered_directly_sends_no_body_and_closes(
    raw_server: RawServer, status: bytes
) -> None:
    after_head: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 2\r\n\r\nno")
        await writer.drain()
        # Everything the client sends until it closes: must be nothing at all.
        after_head.append(await asyncio.wait_for(reader.read(), 2))

    url = await raw_server.start(handler)
    async with airhttp.ClientSession(timeout=_QUICK) as session:
        async with session.post(url, data=b"secret", expect100=True) as resp:
            assert resp.status == int(status[:3])
            assert await resp.read() == b"no"
        for _ in range(50):
            if after_head:
                break
            await asyncio.sleep(0.01)
    assert after_head == [b""]


async def test_expect100_resent_after_a_refusal_waits_for_its_own_100(
    raw_server: RawServer,
) -> None:
    bodies: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        if raw_server.connections == 1:
            writer.write(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            await reader.read()
            return
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        bodies.append(await reader.readexactly(4))
        writer.write(_OK)
        await writer.drain()

    async def send_twice(
        req: ClientRequest, handler: Callable[[ClientRequest], Awaitable[airhttp.ClientResponse]]
    ) -> airhttp.ClientResponse:
        first = await handler(req)
        if first.status != 401:
            return first
        first.release()
        return await handler(req)

    url = await raw_server.start(handler)
    async with airhttp.ClientSession(middlewares=(send_twice,), timeout=_QUICK) as session:
        async with session.post(url, data=b"body", expect100=True) as resp:
            assert await resp.read() == b"ok"
    assert bodies == [b"body"]


async def test_releasing_a_response_mid_upload_never_reuses_its_connection(
    raw_server: RawServer,
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if raw_server.connections == 1:
            await reader.readuntil(b"\r\n\r\n")
            # Answers at once and never reads the body: the upload stays unfinished.
            writer.write(_OK)
            await writer.drain()
            await asyncio.Event().wait()
        await _read_message(reader)
        writer.write(_OK)
        await writer.drain()

    url = await raw_server.start(handler)
    async with airhttp.ClientSession(timeout=_QUICK) as session:
        async with session.post(url, data=io.BytesIO(b"x" * 2**24)) as resp:
            assert await resp.read() == b"ok"
        # A request on that connection would be read as the rest of the upload.
        async with session.get(url) as resp:
            assert await resp.read() == b"ok"
    assert raw_server.connections == 2


# --- replays: retries, redirects, resends ------------------------------------------------


async def test_stale_connection_retry_replays_a_file_body(
    raw_server: RawServer, tmp_path: Path
) -> None:
    bodies: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        message = await _read_message(reader)
        bodies.append(message.split(b"\r\n\r\n", 1)[1])
        writer.write(_OK)
        await writer.drain()
        # A keep-alive server that drops the connection just as the next request lands.
        await _read_message(reader)

    url = await raw_server.start(handler)
    path = tmp_path / "put.bin"
    path.write_bytes(b"file body")
    async with airhttp.ClientSession(timeout=_QUICK) as session:
        async with session.put(url, data=b"first") as resp:
            await resp.read()
        with path.open("rb") as f:
            async with session.put(url, data=f) as resp:
                assert await resp.read() == b"ok"
    assert bodies == [b"first", b"file body"]
    assert raw_server.connections == 2


async def test_a_consumed_stream_is_not_resent_after_a_disconnection(
    raw_server: RawServer,
) -> None:
    # As aiohttp: the body cannot be sent again, so the disconnection itself is raised.
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_message(reader)
        writer.write(_OK)
        await writer.drain()
        await _read_message(reader)

    url = await raw_server.start(handler)
    async with airhttp.ClientSession(timeout=_QUICK) as session:
        async with session.put(url, data=b"first") as resp:
            await resp.read()
        with pytest.raises(airhttp.ServerDisconnectedError):
            await session.put(url, data=_agen(b"once"))
    assert raw_server.connections == 1


async def test_a_consumed_async_iterable_payload_is_not_sent_silently_empty(echo: URL) -> None:
    body = payload.AsyncIterablePayload(_agen(b"once"))
    async with airhttp.ClientSession(timeout=_QUICK) as session:
        async with session.post(echo / "echo", data=body) as resp:
            assert (await resp.json())["body"] == "once"
        with pytest.raises(ClientPayloadError, match="already been consumed"):
            await session.post(echo / "echo", data=body)


async def test_a_non_seekable_stream_is_sent_once_then_refused(echo: URL) -> None:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"piped")
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        body = payload.BufferedReaderPayload(pipe)
        async with airhttp.ClientSession(timeout=_QUICK) as session:
            async with session.post(echo / "echo", data=body) as resp:
                got = await resp.json()
            assert got["body"] == "piped"
            assert dict(got["headers"])["Transfer-Encoding"] == "chunked"
            with pytest.raises(ClientPayloadError, match="already been consumed"):
                await session.post(echo / "echo", data=body)


async def test_a_new_request_built_from_the_previous_body_replays_it(
    raw_server: RawServer, tmp_path: Path
) -> None:
    """What a 307/308 redirect needs: the next hop reuses `req.body`, rewound."""
    capture = _Capture(raw_server)
    url = await capture.start()
    path = tmp_path / "body.bin"
    path.write_bytes(b"replayed")
    loop = asyncio.get_running_loop()
    connector = TCPConnector()
    try:
        with path.open("rb") as f:
            first = ClientRequest("POST", url, data=f, loop=loop)
            second = ClientRequest("POST", url, data=first.body, loop=loop)
            assert second.body is first.body
            for req in (first, second):
                conn = await connector.connect(req, traces=[], timeout=airhttp.ClientTimeout())
                assert conn.protocol is not None
                conn.protocol.expect_response(req.method)
                resp = await req.send(conn)
                await resp.start(conn)
                assert await resp.read() == b"ok"
                resp.release()
            await second.close_body()
            assert f.closed
    finally:
        await connector.close()
    assert capture.body(0) == capture.body(1) == b"replayed"


async def test_close_body_waits_for_an_upload_still_running(
    raw_server: RawServer, tmp_path: Path
) -> None:
    size = 8 * 2**20
    read_body = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        # Answers at once and reads the body only later: the upload outlives the answer.
        writer.write(_OK)
        await writer.drain()
        await read_body.wait()
        await reader.readexactly(size)

    url = await raw_server.start(handler)
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * size)
    loop = asyncio.get_running_loop()
    connector = TCPConnector()
    try:
        with path.open("rb") as f:
            req = ClientRequest("POST", url, data=f, loop=loop)
            conn = await connector.connect(req, traces=[], timeout=airhttp.ClientTimeout())
            assert conn.protocol is not None
            conn.protocol.expect_response(req.method)
            resp = await req.send(conn)
            await resp.start(conn)
            assert await resp.read() == b"ok"
            await req.close_body()
            assert not f.closed
            read_body.set()
            await resp.wait_for_close()
            for _ in range(100):
                if f.closed:
                    break
                await asyncio.sleep(0.01)
            assert f.closed
    finally:
        await connector.close()


# --- tracing ------------------------------------------------------------------------------


async def _traced(url: URL, **kwargs: Any) -> list[tuple[str, Any]]:
    events: list[tuple[str, Any]] = []

    async def on_headers(session: object, ctx: object, params: Any) -> None:
        events.append(("headers", (params.method, params.url, dict(params.headers))))

    async def on_chunk(session: object, ctx: object, params: Any) -> None:
        events.append(("chunk", (params.method, params.url, params.chunk)))

    config = airhttp.TraceConfig()
    config.on_request_headers_sent.append(on_headers)
    config.on_request_chunk_sent.append(on_chunk)
    async with airhttp.ClientSession(trace_configs=[config], timeout=_QUICK) as session:
        async with session.post(url.with_fragment("frag"), **kwargs) as resp:
            await resp.read()
    return events


@pytest.mark.parametrize(
    ("kwargs", "chunks"),
    [
        ({}, []),
        ({"data": b""}, [b""]),
        ({"data": b"abc"}, [b"abc"]),
        ({"data": b"abc", "chunked": True}, [b"abc"]),
        ({"data": b"abc", "compress": "gzip"}, [b"abc"]),
        ({"data": b"abc", "expect100": True}, [b"abc"]),
        ({"data": io.BytesIO(b"bio")}, [b"bio"]),
    ],
)
async def test_trace_reports_headers_then_each_uncompressed_chunk(
    echo: URL, kwargs: dict[str, Any], chunks: list[bytes]
) -> None:
    events = await _traced(echo / "echo", **kwargs)
    assert events[0][0] == "headers"
    method, url, headers = events[0][1]
    assert (method, url) == ("POST", echo / "echo")
    assert headers["Host"] == f"127.0.0.1:{echo.port}"
    assert [event[1][2] for event in events[1:]] == chunks
    assert all(event[1][1] == echo / "echo" for event in events[1:])


async def test_trace_reports_each_chunk_of_a_streamed_body(echo: URL) -> None:
    events = await _traced(echo / "echo", data=_agen(b"g1", b"g2"))
    assert [name for name, _ in events] == ["headers", "chunk", "chunk"]
    assert [event[1][2] for event in events[1:]] == [b"g1", b"g2"]


# --- failures while writing ---------------------------------------------------------------


async def test_error_raised_by_the_body_iterator_reaches_the_caller(echo: URL) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"start"
        raise RuntimeError("producer failed")

    async with airhttp.ClientSession(timeout=_QUICK) as session:
        # As aiohttp: a ClientError whose cause is the iterator's own exception.
        with pytest.raises(ClientConnectionError, match="producer failed") as info:
            await session.post(echo / "echo", data=broken())
    assert isinstance(info.value.__cause__, RuntimeError)

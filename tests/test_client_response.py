"""ClientResponse over real sockets: the head, the body, release rules, parsed fields.

Expected values come from running aiohttp's client against the same replies.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from http.cookies import Morsel, SimpleCookie
from typing import Any

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

import airhttp
from airhttp._client_response import (
    _parse_content_type,
    _parse_content_type_slowly,
    _parse_links,
    _parse_plain_content_type,
)
from airhttp._cookie_parsing import morsel_from_set_cookie
from airhttp.client_exceptions import (
    ClientConnectionError,
    ClientResponseError,
    ContentTypeError,
)
from airhttp.connector import TCPConnector
from airhttp.multipart import BadContentDispositionHeader
from airhttp.streams import EmptyStreamReader, StreamReader

from .conftest import RawServer, WebServer, read_request

BIG_CHUNK = b"x" * 65536
BIG_CHUNKS = 16


def _app() -> web.Application:
    async def small(request: web.Request) -> web.Response:
        return web.Response(text="hello", headers={"X-A": "1"})

    async def big(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        resp.content_type = "text/html"
        await resp.prepare(request)
        for _ in range(BIG_CHUNKS):
            await resp.write(BIG_CHUNK)
            await asyncio.sleep(0.001)
        await resp.write_eof()
        return resp

    async def chunked(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for _ in range(3):
            await resp.write(b"abc")
            await asyncio.sleep(0.005)
        await resp.write_eof()
        return resp

    async def error(request: web.Request) -> web.Response:
        return web.Response(status=404, text="nope", reason="Not Here")

    async def no_content(request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def empty(request: web.Request) -> web.Response:
        return web.Response(body=b"")

    async def blank_json(request: web.Request) -> web.Response:
        return web.Response(body=b"  \n ", content_type="application/json")

    async def json_body(request: web.Request) -> web.Response:
        return web.Response(body=' {"a": "é"} '.encode(), content_type="application/json")

    async def latin(request: web.Request) -> web.Response:
        return web.Response(body="café".encode("latin-1"), content_type="text/plain")

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("/small")

    async def linked(request: web.Request) -> web.Response:
        return web.Response(
            text="l",
            headers={"Link": '</next?p=2>; rel="next", <http://other/>; rel=prev'},
        )

    app = web.Application()
    app.router.add_get("/small", small)
    app.router.add_get("/big", big)
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/error", error)
    app.router.add_get("/204", no_content)
    app.router.add_get("/empty", empty)
    app.router.add_get("/blank-json", blank_json)
    app.router.add_get("/json", json_body)
    app.router.add_get("/latin", latin)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/dir/linked", linked)
    return app


@pytest.fixture
async def base(web_server: WebServer) -> URL:
    return await web_server.start(_app())


@pytest.fixture
async def session() -> AsyncIterator[airhttp.ClientSession]:
    async with airhttp.ClientSession() as client:
        yield client


def _fixed_reply(reply: bytes) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any]:
    """A raw handler answering every request on the connection with `reply`."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            writer.write(reply)
            await writer.drain()

    return handler


async def _raw_get(
    raw_server: RawServer,
    head: str,
    body: bytes = b"",
    *,
    path: str = "/",
    **session_kwargs: Any,
) -> tuple[airhttp.ClientResponse, airhttp.ClientSession]:
    """GET from a raw server sending `head` (header lines) and `body`; caller closes both."""
    reply = f"HTTP/1.1 200 OK\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode("latin-1") + body
    url = await raw_server.start(_fixed_reply(reply))
    session = airhttp.ClientSession(**session_kwargs)
    try:
        resp = await session.get(url.with_path(path))
    except BaseException:
        await session.close()
        raise
    return resp, session


async def _with_raw(
    raw_server: RawServer,
    head: str,
    check: Callable[[airhttp.ClientResponse], Awaitable[None]],
    body: bytes = b"",
    *,
    path: str = "/",
    **session_kwargs: Any,
) -> None:
    resp, session = await _raw_get(raw_server, head, body, path=path, **session_kwargs)
    async with session, resp:
        await check(resp)


# --- the head -------------------------------------------------------------------------------


async def test_status_reason_version_method_and_ok_describe_the_reply(
    base: URL, session: airhttp.ClientSession
) -> None:
    async with session.get(base / "small") as resp:
        assert (resp.status, resp.reason, resp.ok, resp.method) == (200, "OK", True, "GET")
        assert resp.version == airhttp.HttpVersion11
    async with session.get(base / "error") as resp:
        assert (resp.status, resp.reason, resp.ok) == (404, "Not Here", False)


@pytest.mark.parametrize(("status", "ok"), [(399, True), (400, False), (500, False)])
async def test_ok_is_true_below_400_only(raw_server: RawServer, status: int, ok: bool) -> None:
    url = await raw_server.start(
        _fixed_reply(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n".encode())
    )
    async with airhttp.ClientSession() as session, session.get(url) as resp:
        assert resp.ok is ok


async def test_url_drops_the_fragment_and_real_url_keeps_it(
    base: URL, session: airhttp.ClientSession
) -> None:
    async with session.get(base.with_path("/small").with_fragment("frag")) as resp:
        assert resp.url == base.with_path("/small")
        assert resp.real_url == base.with_path("/small").with_fragment("frag")
        assert resp.host == "127.0.0.1"


async def test_url_obj_is_deprecated_in_favour_of_url(
    base: URL, session: airhttp.ClientSession
) -> None:
    async with session.get(base / "small") as resp:
        with pytest.warns(DeprecationWarning, match=r"use \.url"):
            assert resp.url_obj == resp.url


async def test_headers_and_raw_headers_keep_the_order_sent(
    base: URL, session: airhttp.ClientSession
) -> None:
    async with session.get(base / "small") as resp:
        assert isinstance(resp.headers, CIMultiDictProxy)
        assert resp.headers["x-a"] == "1"
        assert resp.raw_headers[0] == (b"X-A", b"1")
        assert [name for name, _ in resp.raw_headers][:3] == [
            b"X-A",
            b"Content-Type",
            b"Content-Length",
        ]


async def test_request_info_describes_the_request_and_history_the_redirects(
    base: URL, session: airhttp.ClientSession
) -> None:
    async with session.get(base / "redirect") as resp:
        assert resp.request_info.url == base / "small"
        assert resp.request_info.method == "GET"
        assert isinstance(resp.history, tuple)
        assert [r.status for r in resp.history] == [302]
        assert resp.history[0].url == base / "redirect"
    async with session.get(base / "small") as resp:
        assert resp.history == ()


async def test_content_length_comes_from_the_header_and_is_none_when_chunked(
    base: URL, session: airhttp.ClientSession
) -> None:
    async with session.get(base / "small") as resp:
        assert resp.content_length == 5
    async with session.get(base / "chunked") as resp:
        assert resp.content_length is None
        await resp.read()
    async with session.head(base / "small") as resp:
        assert resp.content_length == 5


async def test_repr_shows_url_status_reason_and_headers(
    base: URL, session: airhttp.ClientSession
) -> None:
    async with session.get(base / "small") as resp:
        text = repr(resp)
    assert text.startswith(f"<ClientResponse({base}/small) [200 OK]>\n<CIMultiDictProxy('X-A'")
    assert text.endswith(">\n")


async def test_repr_escapes_a_non_ascii_reason_and_shows_none_for_an_empty_one(
    raw_server: RawServer,
) -> None:
    url = await raw_server.start(
        _fixed_reply("HTTP/1.1 200 Très Bien\r\nContent-Length: 0\r\n\r\n".encode())
    )
    async with airhttp.ClientSession() as session:
        async with session.get(url / "päth") as resp:
            assert resp.reason == "Très Bien"
            assert repr(resp).startswith(f"<ClientResponse({url}/p%C3%A4th) [200 Tr\\xe8s Bien]>")
    bare = await raw_server.start(_fixed_reply(b"HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n"))
    async with airhttp.ClientSession() as session, session.get(bare) as resp:
        assert repr(resp).startswith(f"<ClientResponse({bare}) [404 None]>")


# --- Content-Type, charset, encoding --------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "content_type", "charset"),
    [
        ("text/plain", "text/plain", None),
        ('TEXT/HTML; Charset="ISO-8859-1"', "text/html", "ISO-8859-1"),
        ("application/vnd.api+json", "application/vnd.api+json", None),
        ("text/plain ; charset = utf-8", "text/plain", "utf-8"),
        ("text/plain; charset=utf-8; charset=latin-1", "text/plain", "utf-8"),
        ("text/plain;;charset=ascii", "text/plain", "ascii"),
        ("garbage", "application/octet-stream", None),
        ("", "application/octet-stream", None),
        ("*", "application/octet-stream", None),
        ("text/plain, text/html", "application/octet-stream", None),
        ("garbage; charset=utf-8", "application/octet-stream", "utf-8"),
        ("text/", "text/", None),
        ("/plain", "/plain", None),
        ("text / plain", "text / plain", None),
        ("text/pl ain", "text/pl ain", None),
        ("tex(t/plain", "tex(t/plain)", None),
        ("text/plain charset=utf-8", "text/plain charset=utf-8", None),
        ("text/plain;charset=", "text/plain", None),
        ("text/plain; charset", "text/plain", ""),
        ('text/plain; charset=""', "text/plain", ""),
        ("text/plain; ch@rset=utf-8", "text/plain", None),
        ("text/plain; charset=utf@8", "text/plain", "utf"),
        ("text/plain; charset=ut f-8", "text/plain", "ut"),
        ('text/plain; charset="utf-8', "text/plain", "utf-8"),
        ('text/plain; charset="a\\"b"', "text/plain", 'a"b'),
        ("text/plain; charset='utf-8'", "text/plain", None),
        ("text/plain; charset=(c)utf-8", "text/plain", "utf-8"),
        ("text/plain; charset*=utf-8''latin-1", "text/plain", "latin-1"),
        ("text/plain; charset*0=utf; charset*1=-8", "text/plain", "utf-8"),
        ('text/plain; x="a;charset=b"; charset=c', "text/plain", "c"),
        ('multipart/form-data; boundary="a;b"', "multipart/form-data", None),
    ],
)
def test_content_type_and_charset_are_read_like_aiohttp(
    value: str, content_type: str, charset: str | None
) -> None:
    assert _parse_content_type(value) == (content_type, charset)


_PLAIN_ALPHABET = "aA0-+./;= \t!#xjson"


@given(st.text(alphabet=_PLAIN_ALPHABET, max_size=30))
def test_the_split_fast_path_agrees_with_the_email_parser(value: str) -> None:
    fast = _parse_plain_content_type(value)
    if fast is not None:
        assert fast == _parse_content_type_slowly(value)


async def test_content_type_defaults_to_octet_stream_without_a_header(
    raw_server: RawServer,
) -> None:
    async def check(resp: airhttp.ClientResponse) -> None:
        assert resp.content_type == "application/octet-stream"
        assert resp.charset is None

    await _with_raw(raw_server, "", check)


async def test_content_type_and_charset_over_the_wire(raw_server: RawServer) -> None:
    async def check(resp: airhttp.ClientResponse) -> None:
        assert resp.content_type == "text/html"
        assert resp.charset == "ISO-8859-1"

    await _with_raw(raw_server, 'Content-Type: TEXT/HTML; Charset="ISO-8859-1"\r\n', check)


@pytest.mark.parametrize(
    ("content_type", "encoding"),
    [
        ("text/plain; charset=UTF8", "utf-8"),
        ("text/plain; charset=latin-1", "iso8859-1"),
        ("application/json", "utf-8"),
        ("application/json; charset=latin-1", "iso8859-1"),
        ("application/rdap+json", "utf-8"),
        ("text/plain; charset=bogus", "resolved"),
        ("application/vnd.api+json", "resolved"),
        ("text/plain", "resolved"),
        (None, "resolved"),
    ],
)
async def test_get_encoding_prefers_charset_then_json_then_the_fallback_resolver(
    raw_server: RawServer, content_type: str | None, encoding: str
) -> None:
    calls: list[tuple[airhttp.ClientResponse, bytes]] = []

    def resolver(resp: airhttp.ClientResponse, body: bytes) -> str:
        calls.append((resp, body))
        return "resolved"

    async def check(resp: airhttp.ClientResponse) -> None:
        await resp.read()
        assert resp.get_encoding() == encoding
        assert calls == ([(resp, b"body")] if encoding == "resolved" else [])

    head = "" if content_type is None else f"Content-Type: {content_type}\r\n"
    await _with_raw(raw_server, head, check, b"body", fallback_charset_resolver=resolver)


async def test_get_encoding_needs_the_body_before_it_can_fall_back(
    raw_server: RawServer,
) -> None:
    async def check(resp: airhttp.ClientResponse) -> None:
        with pytest.raises(RuntimeError, match="not yet read body"):
            resp.get_encoding()
        await resp.read()
        assert resp.get_encoding() == "utf-8"

    await _with_raw(raw_server, "Content-Type: text/plain\r\n", check, b"x")


async def test_get_encoding_from_a_charset_works_before_the_body_is_read(
    base: URL, session: airhttp.ClientSession
) -> None:
    async with session.get(base / "small") as resp:
        assert resp.get_encoding() == "utf-8"


# --- text() and json() ----------------------------------------------------------------------


async def test_text_decodes_with_the_charset_an_override_or_the_resolver(
    base: URL, raw_server: RawServer
) -> None:
    async with airhttp.ClientSession(fallback_charset_resolver=lambda r, b: "latin-1") as s:
        async with s.get(base / "latin") as resp:
            assert await resp.text() == "café"
            assert await resp.text() == "café"
    async with airhttp.ClientSession() as s, s.get(base / "latin") as resp:
        with pytest.raises(UnicodeDecodeError):
            await resp.text()
        assert await resp.text(errors="replace") == "caf\ufffd"
        assert await resp.text(errors="ignore") == "caf"
        assert await resp.text("latin-1") == "café"
        with pytest.raises(LookupError):
            await resp.text("bogus")


async def test_json_decodes_the_body(base: URL, session: airhttp.ClientSession) -> None:
    async with session.get(base / "json") as resp:
        assert await resp.json() == {"a": "é"}
        assert await resp.json(encoding="latin-1") == {"a": "Ã©"}
        seen: list[object] = []

        def loads(text: str) -> object:
            seen.append(text)
            return "loaded"

        assert await resp.json(loads=loads) == "loaded"
        assert seen == ['{"a": "é"}']


async def test_json_of_a_blank_body_is_none(base: URL, session: airhttp.ClientSession) -> None:
    async with session.get(base / "blank-json") as resp:
        assert await resp.json() is None
        assert await resp.text() == "  \n "


@pytest.mark.parametrize(
    ("content_type", "accepted"),
    [
        ("application/json", True),
        ("APPLICATION/JSON", True),
        ("application/json; charset=utf-8", True),
        ("application/vnd.api+json", True),
        ("application/problem+json", True),
        ("application/ld+json", True),
        ("application/a.b-c+json", True),
        ("application/jsonx", True),
        ("application/x-json", False),
        ("text/json", False),
        ("application/+json", False),
        ("text/plain+json", False),
        ("x/application/json", False),
        ("application/a b+json", False),
        ("text/plain", False),
    ],
)
async def test_json_accepts_json_media_types_and_their_plus_json_suffixes(
    raw_server: RawServer, content_type: str, accepted: bool
) -> None:
    async def check(resp: airhttp.ClientResponse) -> None:
        if accepted:
            assert await resp.json() == {"a": 1}
        else:
            with pytest.raises(ContentTypeError):
                await resp.json()

    await _with_raw(raw_server, f"Content-Type: {content_type}\r\n", check, b'{"a": 1}')


@pytest.mark.parametrize(
    ("content_type", "expected", "accepted"),
    [
        ("text/plain; charset=utf-8", "text/plain", True),
        ("TEXT/PLAIN", "text/plain", True),
        ("text/plain", "text", True),
        ("application/json", "APPLICATION/JSON", False),
        ("application/json", "application/vnd.api+json", False),
        ("garbage", "application/octet-stream", False),
        ("text/plain", "", True),
        ("text/plain", None, True),
    ],
)
async def test_json_with_another_content_type_looks_for_it_in_the_header(
    raw_server: RawServer, content_type: str, expected: str | None, accepted: bool
) -> None:
    async def check(resp: airhttp.ClientResponse) -> None:
        if accepted:
            assert await resp.json(content_type=expected) == [1]
        else:
            with pytest.raises(ContentTypeError):
                await resp.json(content_type=expected)

    await _with_raw(raw_server, f"Content-Type: {content_type}\r\n", check, b"[1]")


async def test_content_type_error_carries_the_response_details(
    raw_server: RawServer,
) -> None:
    async def check(resp: airhttp.ClientResponse) -> None:
        with pytest.raises(ContentTypeError) as info:
            await resp.json()
        err = info.value
        assert isinstance(err, ClientResponseError)
        assert err.status == 200
        assert err.message == (
            'Attempt to decode JSON with unexpected mimetype: text/html; charset="iso-8859-1"'
        )
        assert err.headers is resp.headers
        assert err.request_info is resp.request_info
        assert err.history == ()

    await _with_raw(raw_server, 'Content-Type: TEXT/HTML; Charset="ISO-8859-1"\r\n', check, b"{}")


async def test_json_reads_the_body_before_refusing_its_type(
    base: URL, session: airhttp.ClientSession
) -> None:
    resp = await session.get(base / "big")
    assert not resp.closed
    with pytest.raises(ContentTypeError):
        await resp.json()
    assert resp.closed
    assert resp.connection is None
    assert len(await resp.read()) == BIG_CHUNKS * len(BIG_CHUNK)
    resp.release()


# --- read() and content -------------------------------------------------------------------


async def test_read_returns_the_same_bytes_each_time(
    base: URL, session: airhttp.ClientSession
) -> None:
    async with session.get(base / "small") as resp:
        first = await resp.read()
        assert first == b"hello"
        assert await resp.read() is first


async def test_a_streamed_body_is_read_whole(base: URL, session: airhttp.ClientSession) -> None:
    async with session.get(base / "big") as resp:
        assert not resp.closed
        assert await resp.content.read(10) == b"x" * 10
        body = await resp.read()
        assert len(body) == BIG_CHUNKS * len(BIG_CHUNK) - 10
        assert resp.closed
        assert resp.connection is None


async def test_content_after_read_is_drained(base: URL, session: airhttp.ClientSession) -> None:
    async with session.get(base / "small") as resp:
        await resp.read()
        assert type(resp.content) is StreamReader
        assert resp.content.at_eof()
        assert await resp.content.read() == b""


async def test_read_after_content_gets_what_the_stream_left(
    base: URL, session: airhttp.ClientSession
) -> None:
    async with session.get(base / "small") as resp:
        assert await resp.content.read() == b"hello"
        assert await resp.read() == b""


@pytest.mark.parametrize(("method", "path"), [("GET", "/204"), ("HEAD", "/small")])
async def test_bodiless_replies_have_the_empty_stream(
    base: URL, session: airhttp.ClientSession, method: str, path: str
) -> None:
    async with session.request(method, base.with_path(path)) as resp:
        assert isinstance(resp.content, EmptyStreamReader)
        assert await resp.read() == b""


async def test_an_empty_body_has_a_stream_at_eof(base: URL, session: airhttp.ClientSession) -> None:
    async with session.get(base / "empty") as resp:
        assert type(resp.content) is StreamReader
        assert resp.content.at_eof()


async def test_response_chunk_trace_fires_once_with_the_whole_body(base: URL) -> None:
    seen: list[tuple[str, URL, bytes]] = []

    async def on_chunk(session: Any, ctx: Any, params: Any) -> None:
        seen.append((params.method, params.url, params.chunk))

    config = airhttp.TraceConfig()
    config.on_response_chunk_received.append(on_chunk)
    async with airhttp.ClientSession(trace_configs=[config]) as session:
        async with session.get(base / "small") as resp:
            await resp.read()
            await resp.read()
            await resp.text()
        async with session.get(base / "chunked") as resp:
            await resp.read()
        async with session.get(base / "chunked") as resp:
            await resp.content.read()
    assert seen == [
        ("GET", base / "small", b"hello"),
        ("GET", base / "chunked", b"abcabcabc"),
    ]


# --- releasing and closing ------------------------------------------------------------------


async def test_a_body_that_arrived_whole_frees_the_connection_at_once(
    base: URL, session: airhttp.ClientSession
) -> None:
    resp = await session.get(base / "small")
    assert resp.closed
    assert resp.connection is None
    connector = session.connector
    assert isinstance(connector, TCPConnector)
    assert len(connector._acquired) == 0
    assert await resp.read() == b"hello"
    resp.release()


def _keep_alive_server() -> tuple[Callable[..., Any], list[int]]:
    """Serves a 256 KiB body on a keep-alive connection, counting requests per connection."""
    requests: list[int] = []
    body = b"y" * 262144

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append(0)
        index = len(requests) - 1
        while True:
            await read_request(reader)
            requests[index] += 1
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            await writer.drain()

    return handler, requests


async def test_a_fully_read_body_returns_the_connection_to_the_pool(
    raw_server: RawServer,
) -> None:
    handler, requests = _keep_alive_server()
    url = await raw_server.start(handler)
    async with airhttp.ClientSession() as session:
        for _ in range(3):
            resp = await session.get(url)
            await resp.read()
    assert requests == [3]


async def test_releasing_an_unread_body_closes_the_connection(raw_server: RawServer) -> None:
    handler, requests = _keep_alive_server()
    url = await raw_server.start(handler)
    async with airhttp.ClientSession() as session:
        for _ in range(2):
            resp = await session.get(url)
            assert not resp.closed
            await resp.release()
            assert resp.closed
            assert resp.connection is None
    assert requests == [1, 1]


async def test_release_returns_something_awaitable(
    base: URL, session: airhttp.ClientSession
) -> None:
    resp = await session.get(base / "small")
    result = resp.release()
    assert await result is None


@pytest.mark.parametrize("how", ["release", "close", "context", "wait_for_close"])
async def test_reading_after_release_raises_connection_closed(
    base: URL, session: airhttp.ClientSession, how: str
) -> None:
    resp = await session.get(base / "small")
    if how == "release":
        resp.release()
    elif how == "close":
        resp.close()
    elif how == "wait_for_close":
        await resp.wait_for_close()
    else:
        async with resp:
            pass
    with pytest.raises(ClientConnectionError, match="Connection closed"):
        await resp.read()
    with pytest.raises(ClientConnectionError, match="Connection closed"):
        await resp.text()
    with pytest.raises(ClientConnectionError, match="Connection closed"):
        await resp.content.read()


async def test_a_body_read_before_release_stays_available_to_text_and_json(
    base: URL, session: airhttp.ClientSession
) -> None:
    async with session.get(base / "json") as resp:
        await resp.read()
    assert await resp.text() == ' {"a": "é"} '
    assert await resp.json() == {"a": "é"}
    with pytest.raises(ClientConnectionError):
        await resp.read()


async def test_release_of_a_streaming_body_fails_its_stream_with_connection_closed(
    base: URL, session: airhttp.ClientSession
) -> None:
    resp = await session.get(base / "big")
    resp.release()
    with pytest.raises(ClientConnectionError, match="Connection closed"):
        await resp.content.read()
    await asyncio.sleep(0.01)
    assert isinstance(resp.content.exception(), ClientConnectionError)


async def test_close_wakes_a_pending_read_with_connection_closed(
    raw_server: RawServer,
) -> None:
    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        await writer.drain()
        await asyncio.sleep(10)

    url = await raw_server.start(stall)
    async with airhttp.ClientSession() as session:
        resp = await session.get(url)
        reading = asyncio.ensure_future(resp.read())
        await asyncio.sleep(0.01)
        assert not reading.done()
        resp.close()
        with pytest.raises(ClientConnectionError, match="Connection closed"):
            await reading
        assert resp.closed


async def test_wait_for_close_releases_the_response(
    base: URL, session: airhttp.ClientSession
) -> None:
    resp = await session.get(base / "big")
    await resp.wait_for_close()
    assert resp.closed
    assert resp.connection is None


# --- raise_for_status -----------------------------------------------------------------------


async def test_raise_for_status_carries_the_reply_and_releases_outside_a_context(
    base: URL, session: airhttp.ClientSession
) -> None:
    resp = await session.get(base / "error")
    with pytest.raises(ClientResponseError) as info:
        resp.raise_for_status()
    err = info.value
    assert (err.status, err.message) == (404, "Not Here")
    assert err.headers is not None
    assert err.headers["Content-Length"] == "4"
    assert err.request_info.url == base / "error"
    assert err.history == ()
    assert str(err) == f"404, message='Not Here', url='{base}/error'"
    with pytest.raises(ClientConnectionError):
        await resp.read()


async def test_raise_for_status_inside_async_with_leaves_the_body_readable(
    base: URL, session: airhttp.ClientSession
) -> None:
    async with session.get(base / "error") as resp:
        with pytest.raises(ClientResponseError):
            resp.raise_for_status()
        assert await resp.read() == b"nope"


async def test_raise_for_status_does_nothing_below_400(
    base: URL, session: airhttp.ClientSession
) -> None:
    resp = await session.get(base / "small")
    resp.raise_for_status()
    assert await resp.read() == b"hello"
    resp.release()


# --- links ----------------------------------------------------------------------------------

_LINK_BASE = URL("http://h/base/x?q=1")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            '<http://example.com/page2>; rel="next"',
            [("next", [("rel", "next"), ("url", URL("http://example.com/page2"))])],
        ),
        (
            '<http://a/p2>; rel=next, </p3>; rel="last"',
            [
                ("next", [("rel", "next"), ("url", URL("http://a/p2"))]),
                ("last", [("rel", "last"), ("url", URL("http://h/p3"))]),
            ],
        ),
        ("<rel2>", [("rel2", [("url", URL("http://h/base/rel2"))])]),
        (
            '<r>; title="a, b"; rel="x y"',
            [("x y", [("title", "a, b"), ("rel", "x y"), ("url", URL("http://h/base/r"))])],
        ),
        (
            '<http://a/b>; rel="next"; rel="again"',
            [("next", [("rel", "next"), ("rel", "again"), ("url", URL("http://a/b"))])],
        ),
        (
            '   <http://a/b> ; rel = "next" ; foo  ',
            [("next", [("rel", "next"), ("url", URL("http://a/b"))])],
        ),
        (
            '<http://a/b>; REL="Next"',
            [("http://a/b", [("REL", "Next"), ("url", URL("http://a/b"))])],
        ),
        (
            '<http://a/b>; rel="next",',
            [('"next",', [("rel", '"next",'), ("url", URL("http://a/b"))])],
        ),
        ("garbage", []),
        ("x<a>; rel=x", []),
        ("<http://a/b,c>; rel=x", [("x", [("rel", "x"), ("url", URL("http://a/b,c"))])]),
        ('<a>; rel="a;b"', [('"a', [("rel", '"a'), ("url", URL("http://h/base/a"))])]),
        ("<a>b>; rel=x", [("x", [("rel", "x"), ("url", URL("http://h/base/a%3Eb"))])]),
        ("<a>; rel=", [("", [("rel", ""), ("url", URL("http://h/base/a"))])]),
        ("<a>; =x", [("a", [("url", URL("http://h/base/a"))])]),
        ("<a>; rel='x'", [("x", [("rel", "x"), ("url", URL("http://h/base/a"))])]),
        ("<a>; rel=\"x'", [("\"x'", [("rel", "\"x'"), ("url", URL("http://h/base/a"))])]),
        ("<a>; a b=c", [("a", [("url", URL("http://h/base/a"))])]),
        ('<a>; rel="x" junk', [("a", [("url", URL("http://h/base/a"))])]),
        ("<a>; rel = x y ", [("a", [("url", URL("http://h/base/a"))])]),
        ('<a>; rel="a" "b"', [('a" "b', [("rel", 'a" "b'), ("url", URL("http://h/base/a"))])]),
        ('<a>; rel="a"b', [('"a"b', [("rel", '"a"b'), ("url", URL("http://h/base/a"))])]),
        ("<a>; rel==x", [("=x", [("rel", "=x"), ("url", URL("http://h/base/a"))])]),
        (
            '<a>; title="x, <y>"; rel=z',
            [
                ("a", [("title", '"x'), ("url", URL("http://h/base/a"))]),
                ("z", [("rel", "z"), ("url", URL("http://h/base/y"))]),
            ],
        ),
        (
            "<a>; rel=x,,<b>; rel=y",
            [
                ("x,", [("rel", "x,"), ("url", URL("http://h/base/a"))]),
                ("y", [("rel", "y"), ("url", URL("http://h/base/b"))]),
            ],
        ),
        ("<a>; rel=x, <b", [("x", [("rel", "x"), ("url", URL("http://h/base/a"))])]),
        ("<>; rel=x", [("x", [("rel", "x"), ("url", _LINK_BASE)])]),
    ],
)
def test_links_parse_like_aiohttp(header: str, expected: list[tuple[str, list[Any]]]) -> None:
    links = _parse_links([header], _LINK_BASE)
    assert [(key, list(value.items())) for key, value in links.items()] == expected


async def test_links_join_targets_to_the_response_url_and_are_cached(
    base: URL, session: airhttp.ClientSession
) -> None:
    async with session.get(base / "dir" / "linked") as resp:
        links = resp.links
        assert links["next"]["url"] == base.with_path("/next").with_query(p=2)
        assert links["next"]["rel"] == "next"
        assert links["prev"]["url"] == URL("http://other/")
        assert resp.links is links


async def test_links_of_several_headers_are_all_kept(raw_server: RawServer) -> None:
    async def check(resp: airhttp.ClientResponse) -> None:
        assert [link["url"] for link in resp.links.getall("x")] == [resp.url / "a", resp.url / "b"]

    await _with_raw(raw_server, "Link: <a>; rel=x\r\nLink: <b>; rel=x\r\n", check)


async def test_links_are_empty_without_a_link_header(
    base: URL, session: airhttp.ClientSession
) -> None:
    async with session.get(base / "small") as resp:
        assert len(resp.links) == 0


# --- cookies --------------------------------------------------------------------------------


def _morsel_view(morsel: Morsel[str] | None) -> Any:
    if morsel is None:
        return None
    attrs = {key: value for key, value in morsel.items() if value}
    return morsel.key, morsel.value, morsel.coded_value, attrs


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("a=1; Path=/", ("a", "1", "1", {"path": "/"})),
        (
            "b=2; Domain=example.com; HttpOnly",
            ("b", "2", "2", {"domain": "example.com", "httponly": True}),
        ),
        ("a=1; Expires=garbage", ("a", "1", "1", {"expires": "garbage"})),
        ("a=1; Max-Age=abc", ("a", "1", "1", {"max-age": "abc"})),
        (
            "a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT",
            ("a", "1", "1", {"expires": "Wed, 21 Oct 2015 07:28:00 GMT"}),
        ),
        ("a=1; Domain=x; Domain=", ("a", "1", "1", {})),
        ("a=1;path=/p;PATH=/q", ("a", "1", "1", {"path": "/q"})),
        ("a=1;path=/a b", ("a", "1", "1", {"path": "/a"})),
        ("a=1; domain= .x.com ", ("a", "1", "1", {"domain": ".x.com"})),
        ("a=1; Secure=yes; HTTPONLY", ("a", "1", "1", {"secure": True, "httponly": True})),
        ("a=1; samesite; path", ("a", "1", "1", {})),
        ("a=1; Comment=hi; Version=1", ("a", "1", "1", {"comment": "hi", "version": "1"})),
        ("a=1; Unknown=x", ("a", "1", "1", {})),
        ("a[0]=1", ("a[0]", "1", "1", {})),
        ("$a=1", ("$a", "1", "1", {})),
        ("a=x y", ("a", "x y", "x y", {})),
        ("x=1, y=2", ("x", "1, y=2", "1, y=2", {})),
        (" a = 1 ", ("a", "1", "1", {})),
        ("a=", ("a", "", "", {})),
        ('a="x;y"', ("a", "x;y", '"x;y"', {})),
        ('a="x" ; path=/', ("a", "x", '"x"', {"path": "/"})),
        ('a="x"  y; path=/', ("a", '"x"  y', '"x"  y', {"path": "/"})),
        ('a="unterminated', ("a", '"unterminated', '"unterminated', {})),
        ('a="\\"q\\""', ("a", '"q"', '"\\"q\\""', {})),
        ('a="\\101"', ("a", "A", '"\\101"', {})),
        ('a="x\\"', ("a", "x\\", '"x\\"', {})),
        ('a="";', ("a", "", '""', {})),
        ("bad cookie", None),
        ("=1", None),
        ("", None),
        ("a;b=1", None),
        ("a=x\ty", None),
        ("a=1; path=/\x01", None),
        ("a=\xe4", ("a", "\xe4", "\xe4", {})),
        ("a\x7fb=1", None),
    ],
)
def test_set_cookie_fields_become_morsels_like_aiohttp(header: str, expected: Any) -> None:
    assert _morsel_view(morsel_from_set_cookie(header)) == expected


def test_an_attribute_of_only_unicode_blanks_reads_as_empty_not_a_crash() -> None:
    morsel = morsel_from_set_cookie("a=1; path=\xa0; domain=\u2003")
    assert morsel is not None
    assert (morsel.value, morsel["path"], morsel["domain"]) == ("1", "", "")


@pytest.mark.parametrize("name", ["a b", "a,b", 'a"b', "a\\b", "a\tb", "\xe4"])
def test_an_illegal_cookie_name_is_logged_and_dropped(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="airhttp.internal"):
        assert morsel_from_set_cookie(f"{name}=1") is None
    assert caplog.messages == [f"Can not load cookies: Illegal cookie name {name!r}"]


async def test_cookies_hold_every_set_cookie_with_the_last_of_a_name_winning(
    raw_server: RawServer, caplog: pytest.LogCaptureFixture
) -> None:
    head = (
        "Set-Cookie: a=1; Path=/\r\n"
        "Set-Cookie: b=2; Domain=example.com; HttpOnly\r\n"
        "Set-Cookie: a=3; Path=/x\r\n"
        "Set-Cookie: bad cookie\r\n"
        'Set-Cookie: q="quoted, val"; Max-Age=10\r\n'
    )

    async def check(resp: airhttp.ClientResponse) -> None:
        cookies = resp.cookies
        assert sorted(cookies) == ["a", "b", "q"]
        assert (cookies["a"].value, cookies["a"]["path"]) == ("3", "/x")
        assert cookies["b"]["httponly"] is True
        assert cookies["q"].value == "quoted, val"
        assert resp.cookies is cookies

    with caplog.at_level(logging.DEBUG, logger="airhttp.internal"):
        await _with_raw(raw_server, head, check, cookie_jar=airhttp.DummyCookieJar())
    assert "Ignored 1 invalid Set-Cookie field(s) and 0 over the 50-cookie limit" in (
        caplog.messages
    )


async def test_cookies_stop_at_fifty_per_response(
    raw_server: RawServer, caplog: pytest.LogCaptureFixture
) -> None:
    head = "".join(f"Set-Cookie: c{i}=1\r\n" for i in range(49))
    head += "Set-Cookie: x y=1\r\nSet-Cookie: z=2\r\nSet-Cookie: w=3\r\n"

    async def check(resp: airhttp.ClientResponse) -> None:
        assert len(resp.cookies) == 50
        assert "z" in resp.cookies
        assert "w" not in resp.cookies

    with caplog.at_level(logging.DEBUG, logger="airhttp.internal"):
        await _with_raw(raw_server, head, check, cookie_jar=airhttp.DummyCookieJar())
    assert "Ignored 1 invalid Set-Cookie field(s) and 1 over the 50-cookie limit" in (
        caplog.messages
    )


async def test_cookies_can_be_replaced(base: URL, session: airhttp.ClientSession) -> None:
    async with session.get(base / "small") as resp:
        assert len(resp.cookies) == 0
        replacement = SimpleCookie("k=v")
        resp.cookies = replacement
        assert resp.cookies is replacement


# --- Content-Disposition ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "kind", "params", "filename"),
    [
        ('attachment; filename="a.txt"', "attachment", {"filename": "a.txt"}, "a.txt"),
        ("inline", "inline", {}, None),
        (
            "attachment; filename*=UTF-8''%e2%82%ac%20rates.txt",
            "attachment",
            {"filename*": "€ rates.txt"},
            "€ rates.txt",
        ),
        (
            "attachment; filename=\"fallback.txt\"; filename*=UTF-8''real.txt",
            "attachment",
            {"filename": "fallback.txt", "filename*": "real.txt"},
            "real.txt",
        ),
        (
            "attachment; filename*=ISO-8859-1''%e4.txt",
            "attachment",
            {"filename*": "ä.txt"},
            "ä.txt",
        ),
        (
            'attachment; filename*0="foo."; filename*1="html"',
            "attachment",
            {"filename*0": "foo.", "filename*1": "html"},
            "foo.html",
        ),
        ('ATTACHMENT; FILENAME="X.TXT"', "attachment", {"filename": "X.TXT"}, "X.TXT"),
        ("", None, {}, None),
    ],
)
async def test_content_disposition_is_parsed_with_rfc_5987_filenames(
    raw_server: RawServer, header: str, kind: str | None, params: dict[str, str], filename: str
) -> None:
    async def check(resp: airhttp.ClientResponse) -> None:
        disposition = resp.content_disposition
        assert disposition is not None
        assert (disposition.type, dict(disposition.parameters), disposition.filename) == (
            kind,
            params,
            filename,
        )
        assert resp.content_disposition is disposition

    await _with_raw(raw_server, f"Content-Disposition: {header}\r\n", check)


async def test_a_bad_content_disposition_warns_once(raw_server: RawServer) -> None:
    async def check(resp: airhttp.ClientResponse) -> None:
        with pytest.warns(BadContentDispositionHeader):
            disposition = resp.content_disposition
        assert disposition is not None
        assert (disposition.type, disposition.filename) == (None, None)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert resp.content_disposition is disposition

    await _with_raw(raw_server, "Content-Disposition: attachment; filename=a b.txt\r\n", check)


async def test_content_disposition_is_none_without_the_header(
    base: URL, session: airhttp.ClientSession
) -> None:
    async with session.get(base / "small") as resp:
        assert resp.content_disposition is None


# --- garbage collection ---------------------------------------------------------------------


class _FakeConnection:
    def __init__(self) -> None:
        self.released = 0

    def release(self) -> None:
        self.released += 1


def _dangling_response(loop: asyncio.AbstractEventLoop) -> tuple[Any, _FakeConnection]:
    url = URL("http://h/x")
    info = airhttp.RequestInfo(url, "GET", CIMultiDictProxy(CIMultiDict()))
    resp = airhttp.ClientResponse(
        "GET",
        url,
        writer=None,
        continue100=None,
        timer=None,
        request_info=info,
        traces=[],
        loop=loop,
        session=None,
    )
    connection = _FakeConnection()
    resp._closed = False
    resp._connection = connection  # type: ignore[assignment]
    return resp, connection


async def test_an_unclosed_response_collected_frees_its_connection_silently() -> None:
    loop = asyncio.get_running_loop()
    resp, connection = _dangling_response(loop)
    del resp
    gc.collect()
    assert connection.released == 1


async def test_an_unclosed_response_collected_in_debug_mode_warns() -> None:
    loop = asyncio.get_running_loop()
    contexts: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: contexts.append(context))
    loop.set_debug(True)
    try:
        resp, connection = _dangling_response(loop)
        with pytest.warns(ResourceWarning, match="Unclosed response <ClientResponse"):
            del resp
            gc.collect()
    finally:
        loop.set_debug(False)
        loop.set_exception_handler(previous)
    assert connection.released == 1
    assert [c["message"] for c in contexts] == ["Unclosed response"]
    assert "source_traceback" in contexts[0]
    assert isinstance(contexts[0]["client_response"], airhttp.ClientResponse)
    contexts.clear()

"""Behaviour behind the aiohttp names airhttp offers, checked against aiohttp itself.

User-Agent and SERVER_SOFTWARE, Content-Disposition filenames, encode_basic_auth, the
Digest middleware on an empty challenge, the pluggable zlib backend, the gzip member
cap, and the small helpers (`helpers`, `client_middleware_digest_auth`) next to aiohttp's.
"""

from __future__ import annotations

import asyncio
import gc
import gzip
import re
import sys
import warnings
import zlib
from collections.abc import Iterator
from typing import Any

import aiohttp
import aiohttp.client_middleware_digest_auth as aiohttp_digest
import aiohttp.helpers as aiohttp_helpers
import aiohttp.multipart as aiohttp_multipart
import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

import airhttp
from airhttp import client_middleware_digest_auth as digest
from airhttp import compression_utils, helpers, http
from airhttp import multipart as airhttp_multipart

from .conftest import RawServer, WebServer, read_request

# --- User-Agent and http.SERVER_SOFTWARE -------------------------------------------------


def test_server_software_names_python_aiohttp_and_airhttp() -> None:
    major, minor = sys.version_info[:2]
    expected = f"Python/{major}.{minor} aiohttp/3.13.3 airhttp/{airhttp.__version__}"
    assert expected == http.SERVER_SOFTWARE
    assert airhttp.client_reqrep.SERVER_SOFTWARE is http.SERVER_SOFTWARE


async def test_default_user_agent_is_server_software_as_in_aiohttp(raw_server: RawServer) -> None:
    """aiohttp sends `http.SERVER_SOFTWARE` as its User-Agent; so does airhttp."""
    agents: list[str] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await read_request(reader)
        match = re.search(rb"\r\nUser-Agent: ([^\r]*)\r\n", head)
        agents.append(match.group(1).decode() if match else "")
        writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        await writer.drain()

    url = await raw_server.start(handler)
    for client in (aiohttp, airhttp):
        async with client.ClientSession() as session, session.get(url) as resp:
            assert resp.status == 204
    assert agents == [aiohttp.http.SERVER_SOFTWARE, http.SERVER_SOFTWARE]
    # Server-side checks for "aiohttp/" see both clients alike.
    assert all(re.match(r"Python/\d+\.\d+ aiohttp/\d", agent) for agent in agents)


# --- Content-Disposition filenames -------------------------------------------------------


def _parse(module: Any, value: str) -> tuple[Any, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        disptype, params = module.parse_content_disposition(value)
        filename = module.content_disposition_filename(params)
    return (disptype, params, filename), [w.category.__name__ for w in caught]


@pytest.mark.parametrize(
    "filename", ["/foo.html", "//x/y", "\\/x", "/", "a/b.txt", "../up.txt", '/a\\"b']
)
async def test_content_disposition_filename_leading_slashes_as_aiohttp(
    filename: str, web_server: WebServer
) -> None:
    """aiohttp drops the leading "/" and "\\" of a quoted filename ("/foo.html" -> "foo.html")."""
    header = f'attachment; filename="{filename}"'

    async def serve(request: web.Request) -> web.Response:
        return web.Response(body=b"x", headers={"Content-Disposition": header})

    app = web.Application()
    app.router.add_get("/", serve)
    url = await web_server.start(app)
    seen = []
    for each in (aiohttp, airhttp):
        async with each.ClientSession() as session, session.get(url) as resp:
            cd = resp.content_disposition
            assert cd is not None
            seen.append((cd.type, dict(cd.parameters), cd.filename))
    assert seen[0] == seen[1]
    assert not seen[1][2].startswith(("/", "\\"))


_CD_PIECES = st.sampled_from(
    [*"/\\\";=* '%a.", "é", "filename", "name", "attachment", "inline", "filename*", "utf-8''"]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_CD_PIECES, max_size=10).map("".join))
def test_parse_content_disposition_matches_aiohttp_on_any_value(value: str) -> None:
    assert _parse(airhttp_multipart, value) == _parse(aiohttp_multipart, value)


_CD_VALUES = st.one_of(
    # Mostly well-formed values, where a leading "/" or "\\" decides the outcome...
    st.text(alphabet=st.sampled_from(list("/\\a.é-")), max_size=6),
    # ...and some that break the quoting or the parameter list.
    st.text(alphabet=st.sampled_from(list("/\\\"; =*'%a.é")), max_size=8),
)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["attachment", "inline", "form-data"]),
    st.lists(
        st.tuples(
            st.sampled_from(["filename", "name", "filename*", "x"]), _CD_VALUES, st.booleans()
        ),
        max_size=3,
    ),
)
def test_parse_content_disposition_matches_aiohttp_on_parameter_lists(
    disposition: str, params: list[tuple[str, str, bool]]
) -> None:
    value = disposition + "".join(
        f'; {key}="{text}"' if quoted else f"; {key}={text}" for key, text, quoted in params
    )
    assert _parse(airhttp_multipart, value) == _parse(aiohttp_multipart, value)


# --- encode_basic_auth -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("login", "password", "encoding"),
    [
        ("user", "pass", "utf-8"),
        ("jürgen", "pässwörd", "utf-8"),
        ("u", "", "latin1"),
        ("", "p", "utf-8"),
    ],
)
def test_encode_basic_auth_matches_aiohttp(login: str, password: str, encoding: str) -> None:
    expected = aiohttp.encode_basic_auth(login, password, encoding)
    assert airhttp.encode_basic_auth(login, password, encoding) == expected
    assert airhttp.encode_basic_auth is helpers.encode_basic_auth


def test_encode_basic_auth_refuses_a_colon_in_the_login_as_aiohttp() -> None:
    with pytest.raises(ValueError) as theirs:
        aiohttp.encode_basic_auth("a:b", "p")
    with pytest.raises(ValueError):
        airhttp.encode_basic_auth("a:b", "p")
    assert "RFC 7617" in str(theirs.value)


# --- DigestAuthMiddleware on challenges without parameters ---------------------------------


@pytest.mark.parametrize("challenge", ["Digest ", "Digest", "Digest ,", "Digest foo=bar"])
async def test_digest_challenge_without_fields_returns_the_401_as_aiohttp(
    challenge: str, web_server: WebServer
) -> None:
    """aiohttp hands back a 401 whose Digest challenge has none of realm, nonce, qop,
    algorithm, opaque, domain, stale, without retrying and without raising."""
    calls: list[str | None] = []

    async def serve(request: web.Request) -> web.Response:
        calls.append(request.headers.get("Authorization"))
        return web.Response(status=401, headers={"WWW-Authenticate": challenge})

    app = web.Application()
    app.router.add_get("/", serve)
    url = await web_server.start(app)
    outcomes = []
    for client in (aiohttp, airhttp):
        calls.clear()
        middleware = client.DigestAuthMiddleware("user", "pass")
        async with client.ClientSession(middlewares=(middleware,)) as session:
            async with session.get(url) as resp:
                outcomes.append((resp.status, resp.headers["WWW-Authenticate"], list(calls)))
    assert outcomes[0] == outcomes[1] == (401, challenge.strip() or "Digest", [None])


async def test_digest_challenge_with_realm_only_still_raises_as_aiohttp(
    web_server: WebServer,
) -> None:
    """aiohttp raises ClientError("... Missing 'nonce' parameter") for `Digest realm="r"`."""

    async def serve(request: web.Request) -> web.Response:
        return web.Response(status=401, headers={"WWW-Authenticate": 'Digest realm="r"'})

    app = web.Application()
    app.router.add_get("/", serve)
    url = await web_server.start(app)
    errors = []
    for client in (aiohttp, airhttp):
        async with client.ClientSession(
            middlewares=(client.DigestAuthMiddleware("u", "p"),)
        ) as session:
            with pytest.raises(client.ClientError) as exc_info:
                await session.get(url)
            errors.append(str(exc_info.value))
    assert errors[0] == errors[1]


@pytest.mark.parametrize(
    "header",
    [
        'Digest realm="r", nonce="n", qop="auth,auth-int"',
        'Digest realm=r , nonce = "a\\"b"',
        'Digest REALM="X"',
        'realm="x"',
        'Digest realm="a,b", nonce="c", stale=true',
        'Basic realm="x", Digest realm="y"',
        "Digest ",
    ],
)
def test_parse_header_pairs_matches_aiohttp(header: str) -> None:
    assert digest.parse_header_pairs(header) == aiohttp_digest.parse_header_pairs(header)


@pytest.mark.parametrize("value", ['a"b\\c', "plain", '\\"', ""])
def test_escape_quotes_round_trips_as_aiohttp(value: str) -> None:
    escaped = digest.escape_quotes(value)
    assert escaped == aiohttp_digest.escape_quotes(value)
    assert digest.unescape_quotes(escaped) == aiohttp_digest.unescape_quotes(escaped) == value


def test_digest_tables_match_aiohttp() -> None:
    assert digest.SUPPORTED_ALGORITHMS == aiohttp_digest.SUPPORTED_ALGORITHMS
    assert digest.DigestFunctions == aiohttp_digest.DigestFunctions
    assert digest.CHALLENGE_FIELDS == aiohttp_digest.CHALLENGE_FIELDS
    assert digest.DigestAuthChallenge.__annotations__.keys() == set(digest.CHALLENGE_FIELDS)


# --- the pluggable zlib backend ---------------------------------------------------------


class _CountingZlib:
    """A zlib-like module that counts the (de)compressors made through it."""

    __name__ = "counting_zlib"

    def __init__(self) -> None:
        self.made: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(zlib, name)

    def compressobj(self, *args: Any, **kwargs: Any) -> Any:
        self.made.append("compressobj")
        return zlib.compressobj(*args, **kwargs)

    def decompressobj(self, *args: Any, **kwargs: Any) -> Any:
        self.made.append("decompressobj")
        return zlib.decompressobj(*args, **kwargs)


@pytest.fixture
def counting_zlib() -> Iterator[_CountingZlib]:
    backend = _CountingZlib()
    airhttp.set_zlib_backend(backend)  # type: ignore[arg-type]
    try:
        yield backend
    finally:
        airhttp.set_zlib_backend(zlib)


def test_zlib_backend_wrapper_follows_set_zlib_backend(counting_zlib: _CountingZlib) -> None:
    backend = compression_utils.ZLibBackend
    assert backend.name == "counting_zlib"
    assert backend.MAX_WBITS == zlib.MAX_WBITS
    assert backend.decompress(backend.compress(b"abc")) == b"abc"
    airhttp.set_zlib_backend(zlib)
    assert backend.name == aiohttp.compression_utils.ZLibBackend.name == "zlib"


async def test_gzip_and_deflate_responses_decode_through_the_chosen_backend(
    counting_zlib: _CountingZlib, raw_server: RawServer
) -> None:
    bodies = {
        b"/gzip": (b"gzip", gzip.compress(b"hello")),
        b"/deflate": (b"deflate", zlib.compress(b"hi")),
    }

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await read_request(reader)
        coding, body = bodies[head.split(b" ")[1]]
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Encoding: "
            + coding
            + b"\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\nConnection: close\r\n\r\n"
            + body
        )
        await writer.drain()

    url = await raw_server.start(handler)
    async with airhttp.ClientSession() as session:
        async with session.get(url / "gzip") as resp:
            assert await resp.read() == b"hello"
        async with session.get(url / "deflate") as resp:
            assert await resp.read() == b"hi"
    assert counting_zlib.made == ["decompressobj", "decompressobj"]


def test_request_compressor_uses_the_chosen_backend(counting_zlib: _CountingZlib) -> None:
    compressor = compression_utils.ZLibCompressor(encoding="gzip")
    assert gzip.decompress(compressor.compress_sync(b"x") + compressor.flush()) == b"x"
    assert counting_zlib.made == ["compressobj"]


@pytest.mark.parametrize("members", [1024, 1025])
async def test_more_than_1024_gzip_members_fail_as_in_aiohttp(
    members: int, web_server: WebServer
) -> None:
    """aiohttp 3.14 refuses a gzip body with more than 1024 members in one chunk
    (ClientPayloadError caused by ContentEncodingError) and decodes one with 1024."""
    body = gzip.compress(b"x") * members

    async def serve(request: web.Request) -> web.Response:
        return web.Response(body=body, headers={"Content-Encoding": "gzip"})

    app = web.Application()
    app.router.add_get("/", serve)
    url = await web_server.start(app)
    outcomes = []
    for client in (aiohttp, airhttp):
        async with client.ClientSession() as session, session.get(url) as resp:
            try:
                outcomes.append(len(await resp.read()))
            except client.ClientPayloadError as exc:
                cause = exc.__cause__
                outcomes.append((type(cause).__name__, str(cause)))
    assert outcomes[0] == outcomes[1]
    expected = members if members <= 1024 else ("ContentEncodingError", outcomes[0][1])
    assert outcomes[1] == expected


def test_values_of_compression_utils_match_aiohttp() -> None:
    theirs = aiohttp.compression_utils
    assert compression_utils.MAX_DECOMPRESS_MEMBERS == theirs.MAX_DECOMPRESS_MEMBERS
    assert compression_utils.CompressObjArgs.__annotations__.keys() == (
        theirs.CompressObjArgs.__annotations__.keys()
    )
    assert issubclass(compression_utils.TooManyMembersError, ValueError)


# --- helpers ------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("tex/plain;=\" \\*'%abé,")), max_size=24))
def test_parse_content_type_matches_aiohttp(raw: str) -> None:
    try:
        expected = aiohttp_helpers.parse_content_type(raw)
    except IndexError:
        # aiohttp (CPython's e-mail parser) crashes on e.g. "x/y; a*"; airhttp does not.
        assert helpers.parse_content_type(raw) == ("application/octet-stream", {})
        return
    media_type, params = helpers.parse_content_type(raw)
    assert (media_type, dict(params)) == (expected[0], dict(expected[1]))


class _Headers(helpers.HeadersMixin):
    def __init__(self, headers: dict[str, str]) -> None:
        self._headers = CIMultiDict(headers)


class _AiohttpHeaders(aiohttp_helpers.HeadersMixin):
    def __init__(self, headers: dict[str, str]) -> None:
        self._headers = CIMultiDict(headers)  # type: ignore[misc]


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "Text/HTML; Charset=UTF-8", "Content-Length": "12"},
        {},
        {"Content-Type": "garbage"},
        {"Content-Type": 'application/json; charset="latin-1"'},
    ],
)
def test_headers_mixin_reads_as_aiohttp(headers: dict[str, str]) -> None:
    ours, theirs = _Headers(headers), _AiohttpHeaders(headers)
    assert (ours.content_type, ours.charset, ours.content_length) == (
        theirs.content_type,
        theirs.charset,
        theirs.content_length,
    )


@pytest.mark.parametrize(
    "host", ["1.2.3.4", "01.2.3.4", "1.2.3", "256.1.1.1", "::1", "a.b", "1.2.3.4 ", "0.0.0.0"]
)
def test_is_canonical_ipv4_address_matches_aiohttp(host: str) -> None:
    assert helpers.is_canonical_ipv4_address(host) == aiohttp_helpers.is_canonical_ipv4_address(
        host
    )


@pytest.mark.parametrize("content", ['a"b\\c', "plain text", "", "a\x01"])
def test_quoted_string_matches_aiohttp(content: str) -> None:
    try:
        expected: str | type[ValueError] = aiohttp_helpers.quoted_string(content)
    except ValueError:
        expected = ValueError
    if expected is ValueError:
        with pytest.raises(ValueError):
            helpers.quoted_string(content)
    else:
        assert helpers.quoted_string(content) == expected


async def test_timer_context_turns_its_cancellation_into_a_timeout() -> None:
    loop = asyncio.get_running_loop()
    timer = helpers.TimerContext(loop)
    with pytest.raises(asyncio.TimeoutError):
        with timer:
            loop.call_soon(timer.timeout)
            await asyncio.sleep(1)
    with pytest.raises(asyncio.TimeoutError):
        timer.assert_timeout()


async def test_timer_context_lets_a_foreign_cancellation_through() -> None:
    loop = asyncio.get_running_loop()

    async def body() -> None:
        with helpers.TimerContext(loop):
            await asyncio.sleep(1)

    task = asyncio.ensure_future(body())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_timeout_handle_fires_its_timer_and_callbacks() -> None:
    loop = asyncio.get_running_loop()
    fired: list[str] = []
    handle = helpers.TimeoutHandle(loop, 0.01)
    handle.register(fired.append, "callback")
    timer = handle.timer()
    assert isinstance(timer, helpers.TimerContext)
    assert handle.start() is not None
    with pytest.raises(asyncio.TimeoutError):
        with timer:
            await asyncio.sleep(1)
    assert fired == ["callback"]
    assert isinstance(helpers.TimeoutHandle(loop, None).timer(), helpers.TimerNoop)
    assert helpers.TimeoutHandle(loop, None).start() is None


async def test_ceil_timeout_and_call_later_round_long_deadlines_up() -> None:
    loop = asyncio.get_running_loop()
    async with helpers.ceil_timeout(None):
        pass
    with pytest.raises(asyncio.TimeoutError):
        async with helpers.ceil_timeout(0.01):
            await asyncio.sleep(1)
    handle = helpers.call_later(lambda: None, 10, loop)
    assert handle is not None
    assert handle.when() == int(handle.when())
    handle.cancel()
    assert helpers.call_later(lambda: None, None, loop) is None


async def test_weakref_handle_calls_the_method_only_while_the_object_lives() -> None:
    loop = asyncio.get_running_loop()
    calls: list[str] = []

    class Target:
        def ping(self) -> None:
            calls.append("ping")

    alive = Target()
    helpers.weakref_handle(alive, "ping", 0.001, loop)
    gone = Target()
    helpers.weakref_handle(gone, "ping", 0.001, loop)
    del gone
    gc.collect()
    await asyncio.sleep(0.02)
    assert calls == ["ping"]
    assert helpers.weakref_handle(alive, "ping", None, loop) is None


async def test_noop_is_awaitable() -> None:
    assert await helpers.noop() is None


def test_etag_helpers_match_aiohttp() -> None:
    for value in ["abc", 'a"b', "a b", "\x7f", "é", "", "*"]:
        try:
            aiohttp_helpers.validate_etag_value(value)
            valid = True
        except ValueError:
            valid = False
        if valid:
            helpers.validate_etag_value(value)
        else:
            with pytest.raises(ValueError):
                helpers.validate_etag_value(value)
    assert re.match(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$", helpers.rfc822_formatted_time())


def test_should_remove_content_length_matches_aiohttp() -> None:
    for method in ("GET", "HEAD", "CONNECT", "POST"):
        for code in range(100, 600):
            assert helpers.should_remove_content_length(
                method, code
            ) == aiohttp_helpers.should_remove_content_length(method, code)

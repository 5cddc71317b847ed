"""Differential tests of the response side against aiohttp's client (the oracle).

Each scenario runs through aiohttp and airhttp against the same server; what code can
observe (status, headers, exception class and message, stream limits) must agree.
"""

from __future__ import annotations

import asyncio
import gzip
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from types import ModuleType
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

import airhttp

from .conftest import RawServer, WebServer, read_request

CLIENTS = (aiohttp, airhttp)
Outcome = tuple[Any, ...]


def _serve_bytes(response: bytes) -> Callable[[Any, Any], Awaitable[None]]:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(response)
        await writer.drain()

    return handler


async def _get(
    client: ModuleType, url: URL, session_kw: dict[str, Any], request_kw: dict[str, Any]
) -> Outcome:
    """What a GET lets code see: the head on success, class/status/message on failure."""
    try:
        async with client.ClientSession(**session_kw) as session:
            async with session.get(url, **request_kw) as resp:
                await resp.read()
                return ("ok", resp.status, resp.reason, tuple(resp.headers.items()))
    except client.ClientResponseError as exc:
        return (type(exc).__name__, exc.status, exc.message)
    except client.ClientPayloadError as exc:
        return (type(exc).__name__, str(exc))


async def _both(
    url: URL, session_kw: dict[str, Any] | None = None, request_kw: dict[str, Any] | None = None
) -> tuple[Outcome, Outcome]:
    ours = await _get(airhttp, url, session_kw or {}, request_kw or {})
    theirs = await _get(aiohttp, url, session_kw or {}, request_kw or {})
    return ours, theirs


def _head(fields: list[bytes], reason: bytes = b"OK") -> bytes:
    return b"HTTP/1.1 200 " + reason + b"\r\n" + b"".join(f + b"\r\n" for f in fields) + b"\r\n"


# --- header and status line limits ------------------------------------------------------

X = b"x"
LIMIT_CASES = {
    # The first field counts its name with its value; later fields count the value only.
    "first value fits with its name": [b"Custom: " + X * 8184],
    "first value one over with its name": [b"Custom: " + X * 8185],
    "later value of 8190": [b"Content-Length: 0", b"Custom: " + X * 8190],
    "later value of 8191": [b"Content-Length: 0", b"Custom: " + X * 8191],
    "trailing blanks count": [b"Content-Length: 0", b"Custom: " + X * 8188 + b"   "],
    "leading blanks do not": [b"Content-Length: 0", b"Custom:" + b" " * 50 + X * 8190],
    # A name is counted together with the name of the field before it.
    "name fits beside the next name": [b"N" * 8176 + b": v", b"Content-Length: 0"],
    "name one over beside the next name": [b"N" * 8177 + b": v", b"Content-Length: 0"],
    "obs-fold counts the continuation": [b"Content-Length: 0", b"X: a", b"  " + X * 8188],
}


@pytest.mark.parametrize("fields", LIMIT_CASES.values(), ids=LIMIT_CASES.keys())
async def test_default_field_limits_match_aiohttp(
    raw_server: RawServer, fields: list[bytes]
) -> None:
    """aiohttp's default parser bounds values, names and pairs of names by 8190 bytes."""
    url = await raw_server.start(_serve_bytes(_head(fields)))
    ours, theirs = await _both(url)
    assert ours == theirs


@pytest.mark.parametrize("size", [8190, 8191])
async def test_reason_phrase_limit_matches_aiohttp(raw_server: RawServer, size: int) -> None:
    """aiohttp bounds the reason phrase alone by max_line_size, quoting a bytearray."""
    url = await raw_server.start(_serve_bytes(_head([b"Content-Length: 0"], b"R" * size)))
    ours, theirs = await _both(url)
    assert ours == theirs
    assert ours[0] == ("ok" if size == 8190 else "ClientResponseError")


async def test_value_one_over_the_limit_fails_as_in_aiohttp(raw_server: RawServer) -> None:
    """8191 bytes: ClientResponseError 400 quoting the first 100 bytes of the value."""
    url = await raw_server.start(_serve_bytes(_head([b"A: 1", b"Custom: " + X * 8191])))
    ours, theirs = await _both(url)
    quote = repr(X * 100 + b"...")
    expected = ("ClientResponseError", 400, f"Got more than 8190 bytes when reading: {quote}.")
    assert ours == theirs == expected


@pytest.mark.parametrize("where", ["session", "request"])
@pytest.mark.parametrize(
    ("limits", "fields", "reason"),
    [
        ({"max_field_size": 100}, [b"A: 1", b"X: " + X * 100], b"OK"),
        ({"max_field_size": 100}, [b"A: 1", b"X: " + X * 101], b"OK"),
        ({"max_line_size": 50}, [b"A: 1"], b"R" * 50),
        ({"max_line_size": 50}, [b"A: 1"], b"R" * 51),
        ({"max_headers": 3}, [b"A: 1", b"B: 2", b"C: 3"], b"OK"),
        ({"max_headers": 3}, [b"A: 1", b"B: 2", b"C: 3", b"D: 4"], b"OK"),
    ],
)
async def test_explicit_limits_match_aiohttp(
    raw_server: RawServer,
    where: str,
    limits: dict[str, int],
    fields: list[bytes],
    reason: bytes,
) -> None:
    """max_field_size / max_line_size / max_headers act alike per session and per request."""
    url = await raw_server.start(_serve_bytes(_head([*fields, b"Content-Length: 0"], reason)))
    if where == "session":
        ours, theirs = await _both(url, session_kw=limits)
    else:
        ours, theirs = await _both(url, request_kw=limits)
    assert ours == theirs


async def test_trailers_share_max_headers_with_the_head_as_in_aiohttp(
    raw_server: RawServer,
) -> None:
    """aiohttp lets head and trailer fields together pass max_headers by one, no more."""
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nA: 1\r\n\r\n2\r\nhi\r\n0\r\n"
    for trailers, accepted in (
        (b"T1: 1\r\nT2: 2\r\n", True),
        (b"T1: 1\r\nT2: 2\r\nT3: 3\r\n", False),
    ):
        url = await raw_server.start(_serve_bytes(head + trailers + b"\r\n"))
        ours, theirs = await _both(url, session_kw={"max_headers": 3})
        assert ours == theirs
        assert (ours[0] == "ok") is accepted


_field_names = st.sampled_from([b"X", b"Custom", b"X-Some-Longer-Name", b"N" * 60])


@st.composite
def _limit_heads(draw: st.DrawFn) -> tuple[bytes, dict[str, int]]:
    """A head whose sizes sit around limits that are drawn too."""
    field_limit = draw(st.integers(30, 120))
    line_limit = draw(st.integers(30, 120))
    near_field = st.integers(field_limit - 3, field_limit + 2)
    fields = []
    for _ in range(draw(st.integers(0, 4))):
        name = draw(_field_names)
        value = X * max(0, draw(near_field) - draw(st.sampled_from([0, 0, len(name)])))
        blanks = draw(st.sampled_from([b"", b"", b" ", b"  "]))
        fields.append(name + b": " + value + blanks)
    reason = b"R" * draw(st.integers(line_limit - 2, line_limit + 2))
    limits = {"max_field_size": field_limit, "max_line_size": line_limit}
    if draw(st.booleans()):
        limits["max_headers"] = draw(st.integers(1, 5))
    return _head([*fields, b"Content-Length: 0"], reason), limits


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(case=_limit_heads())
async def test_header_limits_match_aiohttp_around_the_boundaries(
    case: tuple[bytes, dict[str, int]],
) -> None:
    """Property: for heads sized around random limits, both clients accept or fail alike."""
    head, limits = case
    server = RawServer()
    try:
        url = await server.start(_serve_bytes(head))
        ours, theirs = await _both(url, session_kw=limits)
    finally:
        await server.close()
    assert ours == theirs


async def test_obs_fold_keeps_blanks_like_aiohttp(raw_server: RawServer) -> None:
    """aiohttp drops only the CRLF of an obs-fold: the blanks around it stay in the value."""
    url = await raw_server.start(
        _serve_bytes(_head([b"X-A: b  ", b"   c  ", b"\td", b"Content-Length: 0"]))
    )
    ours, theirs = await _both(url)
    assert ours == theirs
    assert ("X-A", "b     c  \td") in ours[3]


# --- read_bufsize and the stream -------------------------------------------------------


async def _app(web_server: WebServer) -> URL:
    async def small(request: web.Request) -> web.Response:
        return web.Response(body=b"hello")

    async def chunked(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        await resp.write(b"abc")
        await resp.write(b"defgh")
        await resp.write_eof()
        return resp

    async def gzipped(request: web.Request) -> web.Response:
        body = gzip.compress(b"z" * 1000)
        return web.Response(body=body, headers={"Content-Encoding": "gzip"})

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"y" * 1_000_000)

    app = web.Application()
    app.router.add_get("/small", small)
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/gzip", gzipped)
    app.router.add_get("/big", big)
    return await web_server.start(app)


async def test_session_read_bufsize_sets_the_limits_of_a_body_read_whole(
    web_server: WebServer,
) -> None:
    """aiohttp: ClientSession(read_bufsize=2) -> content.get_read_buffer_limits() == (2, 4)."""
    base = await _app(web_server)
    seen = []
    for client in CLIENTS:
        async with client.ClientSession(read_bufsize=2) as session:
            async with session.get(base / "small") as resp:
                seen.append((resp.content.get_read_buffer_limits(), await resp.read()))
            async with session.get(base / "big") as resp:
                seen.append((resp.content.get_read_buffer_limits(), await resp.read()))
    assert seen[:2] == seen[2:]
    assert seen[0] == ((2, 4), b"hello")


async def test_request_read_bufsize_sets_the_limits_as_documented(
    web_server: WebServer,
) -> None:
    """Not differential: aiohttp 3.13 gives (7, 14) before and after read() as its docs
    say; 3.14.5 reports (sys.maxsize, 2 * sys.maxsize) once the body is read."""
    base = await _app(web_server)
    async with airhttp.ClientSession() as session:
        async with session.get(base / "small", read_bufsize=7) as resp:
            assert resp.content.get_read_buffer_limits() == (7, 14)
            assert await resp.read() == b"hello"
            assert resp.content.get_read_buffer_limits() == (7, 14)
        async with session.get(base / "big", read_bufsize=7) as resp:
            assert resp.content.get_read_buffer_limits() == (7, 14)
            assert len(await resp.read()) == 1_000_000


@pytest.mark.parametrize("path", ["small", "chunked", "gzip", "big"])
async def test_total_raw_bytes_counts_received_body_bytes_like_aiohttp(
    web_server: WebServer, path: str
) -> None:
    """aiohttp: total_raw_bytes counts body bytes as received (after de-chunking, before
    decompression): 5, 8, the gzip size, 1 MB; total_bytes counts what was decoded."""
    base = await _app(web_server)
    seen = []
    for client in CLIENTS:
        async with client.ClientSession() as session:
            async with session.get(base / path) as resp:
                body = await resp.read()
                seen.append((resp.content.total_raw_bytes, resp.content.total_bytes, len(body)))
    assert seen[0] == seen[1]


async def test_reading_after_the_session_closed_fails_like_aiohttp(
    web_server: WebServer,
) -> None:
    """aiohttp: a 1 MB body read after session.close() raises RuntimeError('Connection
    closed.') (no ClientError), then ClientConnectionError('Connection closed')."""
    base = await _app(web_server)
    seen = []
    for client in CLIENTS:
        session = client.ClientSession()
        resp = await session.get(base / "big")
        await session.close()
        errors = []
        for _ in range(2):
            with pytest.raises(Exception) as info:
                await resp.read()
            errors.append((type(info.value).__mro__[1].__name__, str(info.value)))
        seen.append((errors, isinstance(info.value, client.ClientConnectionError)))
        resp.release()
    assert seen[0] == seen[1]
    assert seen[0][0][0] == ("Exception", "Connection closed.")


# --- the request side as the response sees it ------------------------------------------


async def test_lower_case_methods_go_out_upper_case_like_aiohttp(raw_server: RawServer) -> None:
    """aiohttp upper-cases the method: request("get") sends GET, resp.method is "GET"."""
    lines: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await read_request(reader)
        lines.append(request.split(b"\r\n", 1)[0])
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    url = await raw_server.start(handler)
    methods = []
    for client in CLIENTS:
        async with client.ClientSession() as session:
            async with session.request("pAtCh", url, data=b"12") as resp:
                methods.append((resp.method, resp.request_info.method))
    assert lines[0] == lines[1] == b"PATCH / HTTP/1.1"
    assert methods[0] == methods[1] == ("PATCH", "PATCH")


async def _upload_outcome(client: ModuleType, url: URL, parts: int) -> tuple[str, float]:
    async def body() -> AsyncIterator[bytes]:
        for _ in range(parts):
            await asyncio.sleep(0.05)
            yield b"x" * 10

    timeout = client.ClientTimeout(total=2, sock_read=0.15)
    start = time.monotonic()
    try:
        async with client.ClientSession(timeout=timeout) as session:
            async with session.post(url, data=body()) as resp:
                outcome = (await resp.text()) or "empty"
    except asyncio.TimeoutError as exc:
        outcome = type(exc).__name__
    return outcome, time.monotonic() - start


async def _read_chunked_body(reader: asyncio.StreamReader) -> int:
    await reader.readuntil(b"\r\n\r\n")
    total = 0
    while size := int(await reader.readline(), 16):
        total += len(await reader.readexactly(size + 2)) - 2
    await reader.readline()
    return total


async def test_sock_read_waits_for_a_slow_upload_like_aiohttp(raw_server: RawServer) -> None:
    """aiohttp arms sock_read once the body is sent: a 0.3 s upload under sock_read=0.15
    succeeds when the server answers after reading it."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        total = await _read_chunked_body(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%d" % (len(str(total)), total))
        await writer.drain()

    url = await raw_server.start(handler)
    ours, took = await _upload_outcome(airhttp, url, 6)
    theirs, _ = await _upload_outcome(aiohttp, url, 6)
    assert ours == theirs == "60"
    assert took > 0.3


async def test_sock_read_starts_when_the_upload_ends_like_aiohttp(raw_server: RawServer) -> None:
    """aiohttp: a server silent after a 0.2 s upload times out sock_read after the upload."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_chunked_body(reader)
        await asyncio.sleep(1)

    url = await raw_server.start(handler)
    ours, took = await _upload_outcome(airhttp, url, 4)
    theirs, _ = await _upload_outcome(aiohttp, url, 4)
    assert ours == theirs == "SocketTimeoutError"
    # Timed from the end of the upload (0.2 s), not from the request's start.
    assert took > 0.2 + 0.15


async def test_deprecated_response_attributes_are_absent_like_aiohttp(
    web_server: WebServer,
) -> None:
    """aiohttp's ClientResponse has no `code` (only ClientResponseError.code does)."""
    base = await _app(web_server)
    for client in CLIENTS:
        async with client.ClientSession() as session:
            async with session.get(base / "small") as resp:
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    assert not hasattr(resp, "code")


# --- errors in the body --------------------------------------------------------------


async def _read_outcome(client: ModuleType, url: URL) -> Outcome:
    try:
        async with client.ClientSession() as session:
            async with session.get(url) as resp:
                return ("ok", await resp.read())
    except client.ClientResponseError as exc:
        return ("head", type(exc).__name__, exc.status)
    except client.ClientPayloadError as exc:
        return ("body", type(exc).__name__)


async def test_broken_chunk_in_the_heads_read_fails_the_head_like_aiohttp(
    raw_server: RawServer,
) -> None:
    """aiohttp parses a whole read before it hands out the head: a bad chunk that came
    with it raises ClientResponseError(400) from the request, not a payload error."""
    response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\nzz\r\n"
    url = await raw_server.start(_serve_bytes(response))
    ours = await _read_outcome(airhttp, url)
    theirs = await _read_outcome(aiohttp, url)
    assert ours == theirs == ("head", "ClientResponseError", 400)


async def test_undecodable_body_fails_the_read_with_aiohttps_text(raw_server: RawServer) -> None:
    """aiohttp: a gzip body that does not decode raises ClientPayloadError whose text is
    the decoding error's ("400, message: Can not decode content-encoding: gzip")."""
    response = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nabcd"
    url = await raw_server.start(_serve_bytes(response))
    seen = []
    for client in CLIENTS:
        async with client.ClientSession() as session:
            async with session.get(url) as resp:
                with pytest.raises(client.ClientPayloadError) as info:
                    await resp.read()
                seen.append(str(info.value))
    assert seen[0] == seen[1]
    assert "Can not decode content-encoding: gzip" in seen[0]

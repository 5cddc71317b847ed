"""Response smuggling: heads two parsers could read two ways are refused, never reused.

A raw server answers the first request with a vector followed by a second, "smuggled"
response on the same connection, and every later request with "fresh". A refused vector
must give ClientResponseError(400), and the next request on the same session must get
"fresh" over a new connection: were the connection reused, it would read "smuggled".
aiohttp's client (its C parser, what most users run) runs the same exchange as the oracle.
The sans-IO parser is tested byte by byte in tests/test_http_parser.py, and the framing
read as aiohttp reads it in tests/test_fidelity_framing.py; this file adds the socket,
the pool and the smuggled bytes.
"""

from __future__ import annotations

import asyncio
from types import ModuleType
from typing import Any

import aiohttp
import pytest
from yarl import URL

import airhttp

from .conftest import RawServer

STATUS = b"HTTP/1.1 200 OK\r\n"
SMUGGLED = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled"
FRESH = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh"
CHUNKED = b"5\r\nhello\r\n0\r\n\r\n"
TE = b"Transfer-Encoding: chunked\r\n\r\n"

Outcome = tuple[Any, ...]


async def _exchange(
    lib: ModuleType, raw_server: RawServer, first: bytes, *, hang_up: bool = False
) -> Outcome:
    """GET twice on one session: the first gets `first`, the second FRESH.

    Returns what the first GET gave (the body, or the exception's class and status),
    the second body and how many connections the two took. With `hang_up` the server
    closes the first connection after `first`, so a body read until the close can end.
    """
    served = False

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal served
        while True:
            await reader.readuntil(b"\r\n\r\n")
            if served:
                writer.write(FRESH)
            else:
                served = True
                writer.write(first)
                if hang_up:
                    await writer.drain()
                    return
            await writer.drain()

    url: URL = await raw_server.start(handler)
    before = raw_server.connections
    async with lib.ClientSession() as session:
        try:
            async with session.get(url) as resp:
                result: Outcome = ("ok", await asyncio.wait_for(resp.read(), 1))
        except (lib.ClientResponseError, lib.ClientPayloadError) as exc:
            result = (type(exc).__name__, getattr(exc, "status", None))
        async with session.get(url) as resp:
            second = await resp.read()
    return result, second, raw_server.connections - before


REFUSED_BY_BOTH = {
    "Content-Length then Transfer-Encoding": b"Content-Length: 5\r\n" + TE + CHUNKED,
    "Transfer-Encoding then Content-Length": (
        b"Transfer-Encoding: chunked\r\nContent-Length: 30\r\n\r\n" + CHUNKED
    ),
    "Transfer-Encoding gzip with Content-Length": (
        b"Transfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello"
    ),
    "two different Content-Length fields": (
        b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"
    ),
    "Content-Length: 5, 6": b"Content-Length: 5, 6\r\n\r\nhello!",
    "Content-Length: 5, 5": b"Content-Length: 5, 5\r\n\r\nhello",
    "Content-Length: +5": b"Content-Length: +5\r\n\r\nhello",
    "chunk size with junk": TE + b"5x\r\nhello\r\n0\r\n\r\n",
    "chunk data not followed by CRLF": TE + b"5\r\nhelloXX0\r\n\r\n",
    "negative chunk size": TE + b"-5\r\nhello\r\n0\r\n\r\n",
    "chunk size past 64 bits": TE + b"ffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
    "chunk size 0x5": TE + b"0x5\r\nhello\r\n0\r\n\r\n",
    "chunk size ended by a bare LF": TE + b"5\nhello\r\n0\r\n\r\n",
    "chunk size after a blank": TE + b" 5\r\nhello\r\n0\r\n\r\n",
    "bare CR in a chunk extension": TE + b"5;a\rb\r\nhello\r\n0\r\n\r\n",
    "obs-fold continuing Content-Length": b"Content-Length: 5\r\n 6\r\n\r\nhello!",
    "obs-fold first line hiding Transfer-Encoding": (
        b" Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello"
    ),
    "NUL in a header value": b"X-A: a\x00b\r\nContent-Length: 5\r\n\r\nhello",
    "NUL after the Content-Length value": b"Content-Length: 5\x00\r\n\r\nhello",
    "bare CR inside a field line": b"X-A: a\rContent-Length: 5\r\n\r\nhello",
    "tab before the colon": b"Content-Length\t: 5\r\n\r\nhello",
    "blank before the colon of Transfer-Encoding": (
        b"Transfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\nhello"
    ),
}


@pytest.mark.parametrize("vector", REFUSED_BY_BOTH)
async def test_a_smuggling_vector_is_refused_and_its_connection_never_reused(
    raw_server: RawServer, vector: str
) -> None:
    first = STATUS + REFUSED_BY_BOTH[vector] + SMUGGLED
    refused = (("ClientResponseError", 400), b"fresh", 2)
    assert await _exchange(airhttp, raw_server, first) == refused
    assert await _exchange(aiohttp, raw_server, first) == refused


# airhttp is stricter than aiohttp here: each is a way to make two parsers disagree on
# the framing (RFC 9112 2.2 and 5.1 let a client refuse them), so refusing is the point.
REFUSED_BY_AIRHTTP_ONLY = {
    # aiohttp reads the first line as a field "X-A" of its own.
    "obs-fold as the first field line": b" X-A: 1\r\nContent-Length: 5\r\n\r\nhello",
    # aiohttp names the field "Content-Length " yet frames the body by it.
    "blank before the colon of Content-Length": b"Content-Length : 5\r\n\r\nhello",
}


@pytest.mark.parametrize("vector", REFUSED_BY_AIRHTTP_ONLY)
async def test_a_vector_aiohttp_lets_through_is_refused_too(
    raw_server: RawServer, vector: str
) -> None:
    first = STATUS + REFUSED_BY_AIRHTTP_ONLY[vector] + SMUGGLED
    assert await _exchange(airhttp, raw_server, first) == (
        ("ClientResponseError", 400),
        b"fresh",
        2,
    )
    # aiohttp takes "hello" as the body but does not reuse the connection either.
    assert await _exchange(aiohttp, raw_server, first) == (("ok", b"hello"), b"fresh", 2)


# RFC 9112 6.3: when chunked is not the final transfer coding, the body runs until the
# connection closes. So the "smuggled" response is read as body bytes, never as a reply.
READ_UNTIL_CLOSE = {
    "Transfer-Encoding: chunked, gzip": b"Transfer-Encoding: chunked, gzip\r\n\r\n",
    "Transfer-Encoding: gzip": b"Transfer-Encoding: gzip\r\n\r\n",
    "chunked, then identity": b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n",
    "Transfer-Encoding: xchunked": b"Transfer-Encoding: xchunked\r\n\r\n",
    "obs-fold making gzip chunked one coding": b"Transfer-Encoding: gzip\r\n chunked\r\n\r\n",
}


@pytest.mark.parametrize("vector", READ_UNTIL_CLOSE)
async def test_a_body_without_final_chunked_is_read_until_the_close(
    raw_server: RawServer, vector: str
) -> None:
    first = STATUS + READ_UNTIL_CLOSE[vector] + CHUNKED + SMUGGLED
    expected = (("ok", CHUNKED + SMUGGLED), b"fresh", 2)
    assert await _exchange(airhttp, raw_server, first, hang_up=True) == expected
    assert await _exchange(aiohttp, raw_server, first, hang_up=True) == expected


# Not smuggling vectors: both clients read these alike (bare LF and obs-fold inside a
# head: RFC 9112 2.2 and 5.2 let a recipient accept them), and keep the connection alive.
ACCEPTED_BY_BOTH = {
    "bare LF line ends": b"HTTP/1.1 200 OK\nContent-Length: 5\n\nhello",
    "bare LF ends a chunked head": b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n" + CHUNKED,
    "obs-fold inside the head": STATUS + b"X-A: 1\r\n 2\r\nContent-Length: 5\r\n\r\nhello",
    "blank after the chunk size": STATUS + TE + b"5 \r\nhello\r\n0\r\n\r\n",
    "blank after the Content-Length value": STATUS + b"Content-Length: 5 \r\n\r\nhello",
}


@pytest.mark.parametrize("case", ACCEPTED_BY_BOTH)
async def test_lenient_but_unambiguous_heads_are_read_as_aiohttp_reads_them(
    raw_server: RawServer, case: str
) -> None:
    first = ACCEPTED_BY_BOTH[case]
    expected = (("ok", b"hello"), b"fresh", 1)
    assert await _exchange(airhttp, raw_server, first) == expected
    assert await _exchange(aiohttp, raw_server, first) == expected


async def test_a_content_length_trailer_is_ignored_where_aiohttp_refuses_it(
    raw_server: RawServer,
) -> None:
    # RFC 9110 6.5.1: framing fields mean nothing in trailers. airhttp ignores this one,
    # so the framing stays that of the chunks and the connection is reused; aiohttp's
    # parser refuses the response instead (a difference in leniency, not in framing).
    first = STATUS + TE + b"5\r\nhello\r\n0\r\nContent-Length: 100\r\n\r\n"
    assert await _exchange(airhttp, raw_server, first) == (("ok", b"hello"), b"fresh", 1)
    assert await _exchange(aiohttp, raw_server, first) == (
        ("ClientResponseError", 400),
        b"fresh",
        2,
    )


async def test_chunked_in_an_http_1_0_response_closes_the_connection_afterwards(
    raw_server: RawServer,
) -> None:
    # RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing, and the
    # recipient closes the connection after it. airhttp does, even if told keep-alive;
    # aiohttp reuses the connection (stricter here, on a framing question).
    first = (
        b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n" + CHUNKED
    )
    assert await _exchange(airhttp, raw_server, first) == (("ok", b"hello"), b"fresh", 2)
    assert await _exchange(aiohttp, raw_server, first) == (("ok", b"hello"), b"fresh", 1)

"""Differential tests of body framing (Content-Length, Transfer-Encoding) against aiohttp.

A raw server sends each head; aiohttp (with its C parser, what most users run) and
airhttp must agree on the outcome: the body and framing headers, or the exception class
and status. Only the wording of parser errors differs (docs/migrating.md).
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

import aiohttp
import pytest
from yarl import URL

import airhttp

CHUNKED = b"5\r\nhello\r\n0\r\n\r\n"
GZIPPED = gzip.compress(b"hello")
GZIPPED_CHUNKED = b"%x\r\n" % len(GZIPPED) + GZIPPED + b"\r\n0\r\n\r\n"

CASES: dict[str, bytes] = {
    "a Content-Length list of equal values is refused": b"Content-Length: 5, 5\r\n\r\nhello",
    "two equal Content-Length headers are refused": (
        b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"
    ),
    "a Content-Length list of different values is refused": b"Content-Length: 5, 6\r\n\r\nhello",
    "two different Content-Length headers are refused": (
        b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello"
    ),
    "a signed Content-Length is refused": b"Content-Length: +5\r\n\r\nhello",
    "leading zeros are fine": b"Content-Length: 005\r\n\r\nhello",
    "an empty Content-Length is refused": b"Content-Length: \r\n\r\nhello",
    "chunked before another coding reads until the close": (
        b"Transfer-Encoding: chunked, gzip\r\n\r\n" + CHUNKED
    ),
    "chunked after gzip is dechunked": b"Transfer-Encoding: gzip, chunked\r\n\r\n"
    + GZIPPED_CHUNKED,
    "a lone gzip coding reads until the close": b"Transfer-Encoding: gzip\r\n\r\n" + GZIPPED,
    "the coding name is case-insensitive": b"Transfer-Encoding: Chunked\r\n\r\n" + CHUNKED,
    "chunked in two headers is decoded once": (
        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + CHUNKED
    ),
    "chunked twice in one header is decoded once": (
        b"Transfer-Encoding: chunked, chunked\r\n\r\n" + CHUNKED
    ),
    "an empty Transfer-Encoding line after chunked does not count": (
        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: \r\n\r\n" + CHUNKED
    ),
    "identity beside a Content-Length is refused": (
        b"Transfer-Encoding: identity\r\nContent-Length: 5\r\n\r\nhello"
    ),
    "chunked beside a Content-Length is refused": (
        b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n" + CHUNKED
    ),
}


@pytest.fixture
async def framing_server() -> AsyncIterator[tuple[URL, dict[str, bytes]]]:
    current: dict[str, bytes] = {}

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n" + current["head"])
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    yield URL(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"), current
    server.close()
    await server.wait_closed()


async def _outcome(client: ModuleType, url: URL) -> tuple[Any, ...]:
    try:
        async with client.ClientSession() as session:
            async with session.get(url) as resp:
                body = await resp.read()
                framing = (
                    resp.headers.get("Transfer-Encoding"),
                    resp.headers.get("Content-Length"),
                )
                return ("ok", body, framing)
    except client.ClientResponseError as exc:
        return (type(exc).__name__, exc.status)


@pytest.mark.parametrize("case", list(CASES))
async def test_framing_is_read_as_aiohttp_reads_it(
    framing_server: tuple[URL, dict[str, bytes]], case: str
) -> None:
    url, current = framing_server
    current["head"] = CASES[case]
    assert await _outcome(airhttp, url) == await _outcome(aiohttp, url)


async def test_a_trailing_comma_after_chunked_is_still_chunked(
    framing_server: tuple[URL, dict[str, bytes]],
) -> None:
    # RFC 9110 5.6.1: empty list elements are ignored, so chunked is the final coding.
    # aiohttp reads this body until the close instead (docs/migrating.md).
    url, current = framing_server
    current["head"] = b"Transfer-Encoding: chunked,\r\n\r\n" + CHUNKED
    assert await _outcome(airhttp, url) == ("ok", b"hello", ("chunked,", None))
    assert (await _outcome(aiohttp, url))[1] == CHUNKED

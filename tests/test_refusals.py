"""What airhttp refuses before sending, and heads cut short by the server.

Every refusal must leave the session usable and nothing on the loop: the leak fixture of
conftest.py fails a test that leaves "Future exception was never retrieved" behind.
"""

from __future__ import annotations

import asyncio

import pytest
from yarl import URL

import airhttp
from airhttp import InvalidUrlClientError, ServerDisconnectedError

from .conftest import RawServer, read_request

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def ok_forever(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        await read_request(reader)
        writer.write(OK)


async def assert_still_works(session: airhttp.ClientSession, url: URL) -> None:
    async with session.get(url) as resp:
        assert await resp.read() == b"ok"


@pytest.mark.parametrize(
    "headers",
    [{"X-A": "a\r\nInjected: 1"}, {"X-A": "a\nb"}, {"X-A": "a\x00b"}, {"X-A\r\nB": "1"}],
)
async def test_header_injection_is_refused_and_leaves_nothing(
    raw_server: RawServer, headers: dict[str, str]
) -> None:
    url = await raw_server.start(ok_forever)
    async with airhttp.ClientSession() as session:
        await assert_still_works(session, url)  # a pooled connection is reused next
        with pytest.raises(ValueError, match="injection"):
            await session.get(url, headers=headers)
        await assert_still_works(session, url)


async def test_method_injection_is_refused_and_leaves_nothing(raw_server: RawServer) -> None:
    url = await raw_server.start(ok_forever)
    async with airhttp.ClientSession() as session:
        with pytest.raises(ValueError, match="non-token"):
            await session.request("GET / HTTP/1.1\r\nX: 1\r\n\r\nGET", url)
        await assert_still_works(session, url)


@pytest.mark.parametrize("inside", ["\r\n", "\r", "\n", "\x00"])
async def test_control_characters_inside_a_url_string_are_refused(
    raw_server: RawServer, inside: str
) -> None:
    # yarl would silently drop CR/LF ("/a\r\nb" -> "/ab") or quote NUL: refused instead.
    url = await raw_server.start(ok_forever)
    bad = f"{url}a{inside}b"
    async with airhttp.ClientSession() as session:
        with pytest.raises(InvalidUrlClientError) as info:
            await session.get(bad)
        assert info.value.url == bad
        assert isinstance(info.value, ValueError)
        await assert_still_works(session, url)
    assert raw_server.connections == 1


async def test_surrounding_whitespace_of_a_url_string_is_still_stripped(
    raw_server: RawServer,
) -> None:
    # A URL read with its line end ("...\n") keeps working, as with aiohttp.
    url = await raw_server.start(ok_forever)
    async with airhttp.ClientSession() as session:
        async with session.get(f" {url}\r\n") as resp:
            assert await resp.read() == b"ok"


@pytest.mark.parametrize(
    "cut",
    [
        b"HTTP/1.1 2",
        b"HTTP/1.1 200 OK\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Le",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n",
    ],
)
async def test_a_head_cut_short_is_a_server_disconnection(
    raw_server: RawServer, cut: bytes
) -> None:
    # As aiohttp (checked as a black box): ServerDisconnectedError, not a 400. The GET is
    # sent once more after a disconnection, so two connections are cut.
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if raw_server.connections > 2:
            await ok_forever(reader, writer)
        await read_request(reader)
        writer.write(cut)  # then the wrapper closes the connection

    url = await raw_server.start(handler)
    async with airhttp.ClientSession() as session:
        with pytest.raises(ServerDisconnectedError):
            await session.get(url)
        await assert_still_works(session, url)
    assert raw_server.connections == 3


@pytest.mark.parametrize(
    "broken", [b"garbage\r\n", b"HTTP/1.1 200 OK\r\nNo colon\r\n", b"HTTP/1.1 2000 OK\r\n"]
)
async def test_a_broken_head_cut_short_is_a_bad_response(
    raw_server: RawServer, broken: bytes
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(broken)

    url = await raw_server.start(handler)
    async with airhttp.ClientSession() as session:
        with pytest.raises(airhttp.ClientResponseError) as info:
            await session.get(url)
    assert info.value.status == 400

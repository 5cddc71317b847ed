"""Keep-alive connections the server closes: never handed out, or retried once if idempotent."""

from __future__ import annotations

import asyncio

import pytest
from yarl import URL

import airhttp
from airhttp.connector import TCPConnector

from .conftest import RawServer, read_request
from .pool_support import assert_pool_clean, event_trace, idle_count

OK: bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def fetch(session: airhttp.ClientSession, url: URL, method: str = "GET") -> str:
    async with session.request(method, url) as resp:
        return await resp.text()


async def test_connection_the_server_closed_while_idle_is_not_handed_out(
    raw_server: RawServer,
) -> None:
    async def closes_when_idle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                await asyncio.wait_for(read_request(reader), 0.03)
            except asyncio.TimeoutError:
                return  # the fixture closes the socket
            writer.write(OK)
            await writer.drain()

    url = await raw_server.start(closes_when_idle)
    config, events = event_trace()
    connector = TCPConnector()
    async with airhttp.ClientSession(connector=connector, trace_configs=[config]) as session:
        assert await fetch(session, url) == "ok"
        (pool,) = connector._idle.values()
        proto = pool[0][0]
        await asyncio.wait_for(asyncio.shield(proto.closed), 1)
        events.clear()
        assert await fetch(session, url) == "ok"
        assert events == ["create_start", "create_end"]
        assert_pool_clean(connector)
    assert raw_server.connections == 2


class ClosesAtNextRequest:
    """Serves one request per connection with keep-alive, then hangs up on the next one."""

    def __init__(self) -> None:
        self.requests = 0

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        self.requests += 1
        writer.write(OK)
        await writer.drain()
        await read_request(reader)
        self.requests += 1


async def test_stale_keepalive_race_is_retried_for_a_thousand_gets(
    raw_server: RawServer,
) -> None:
    server = ClosesAtNextRequest()
    url = await raw_server.start(server)
    connector = TCPConnector()
    async with airhttp.ClientSession(connector=connector) as session:
        for _ in range(1000):
            assert await fetch(session, url) == "ok"
        assert_pool_clean(connector)
    # Each GET after the first met a closing server once, then went again on a
    # fresh connection: 999 stale attempts, none surfaced.
    assert server.requests == 1999
    assert raw_server.connections == 1000


async def test_server_closing_right_after_each_reply_surfaces_no_error(
    raw_server: RawServer,
) -> None:
    async def reply_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(OK)
        await writer.drain()

    url = await raw_server.start(reply_then_close)
    connector = TCPConnector()
    async with airhttp.ClientSession(connector=connector) as session:
        for _ in range(500):
            assert await fetch(session, url) == "ok"
        assert_pool_clean(connector)
    assert raw_server.connections == 500


async def test_post_on_a_stale_connection_is_not_retried(raw_server: RawServer) -> None:
    server = ClosesAtNextRequest()
    url = await raw_server.start(server)
    connector = TCPConnector()
    async with airhttp.ClientSession(connector=connector) as session:
        assert await fetch(session, url) == "ok"
        with pytest.raises(airhttp.ServerDisconnectedError):
            await fetch(session, url, "POST")
        assert_pool_clean(connector)
        assert idle_count(connector) == 0
    assert server.requests == 2
    assert raw_server.connections == 1


async def test_stale_retry_happens_only_once(raw_server: RawServer) -> None:
    served = 0

    async def serves_only_the_first_request(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        nonlocal served
        while True:
            await read_request(reader)
            if served:
                return
            served += 1
            writer.write(OK)
            await writer.drain()

    url = await raw_server.start(serves_only_the_first_request)
    connector = TCPConnector()
    async with airhttp.ClientSession(connector=connector) as session:
        assert await fetch(session, url) == "ok"
        with pytest.raises(airhttp.ServerDisconnectedError):
            await fetch(session, url)
        assert_pool_clean(connector)
    assert raw_server.connections == 2


async def test_failure_on_a_fresh_connection_is_retried_once(raw_server: RawServer) -> None:
    # As aiohttp (checked as a black box): it does not tell pooled from new connections.
    async def hangs_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)

    url = await raw_server.start(hangs_up)
    connector = TCPConnector()
    async with airhttp.ClientSession(connector=connector) as session:
        with pytest.raises(airhttp.ServerDisconnectedError):
            await fetch(session, url)
        assert_pool_clean(connector)
    assert raw_server.connections == 2


async def test_a_fresh_connection_that_fails_once_is_retried_to_success(
    raw_server: RawServer,
) -> None:
    served = 0

    async def second_time(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal served
        await read_request(reader)
        served += 1
        if served > 1:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()

    url = await raw_server.start(second_time)
    async with airhttp.ClientSession() as session:
        async with session.get(url) as resp:
            assert await resp.read() == b"ok"
    assert raw_server.connections == 2


async def test_a_post_failing_on_a_fresh_connection_is_not_resent(raw_server: RawServer) -> None:
    async def hangs_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)

    url = await raw_server.start(hangs_up)
    async with airhttp.ClientSession() as session:
        with pytest.raises(airhttp.ServerDisconnectedError):
            await session.post(url, data=b"x")
    assert raw_server.connections == 1

"""The connection pool over real sockets: parameters, limits, FIFO waiters, no leaks."""

from __future__ import annotations

import asyncio
import functools
import gc
import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from yarl import URL

import airhttp
from airhttp import _tls_closing
from airhttp._pool import BaseConnector, Connection
from airhttp._reqrep_types import ConnectionKey
from airhttp.client import ClientTimeout
from airhttp.client_proto import ResponseHandler
from airhttp.connector import TCPConnector

from .conftest import RawServer, read_request
from .pool_support import (
    CountingConnector,
    HoldApp,
    MultiHostServer,
    RecordingConnector,
    assert_pool_clean,
    event_trace,
    free_port,
    idle_count,
    make_request,
)

HOSTS = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
NO_TIMEOUT = ClientTimeout()


@pytest.fixture
async def hold() -> AsyncIterator[tuple[HoldApp, list[URL]]]:
    state = HoldApp()
    server = MultiHostServer(state.app())
    urls = await server.start(HOSTS)
    yield state, urls
    state.release.set()
    await server.close()


async def until(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    """Let the loop run until `condition` holds (fails the test after `timeout`)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition never became true"
        await asyncio.sleep(0.001)


async def get_text(session: airhttp.ClientSession, url: URL) -> str:
    async with session.get(url) as resp:
        return await resp.text()


async def partial_body_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers with a head and 3 of 10 body bytes, then stalls."""
    await read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    await writer.drain()
    await reader.read()


# --- parameters and properties ----------------------------------------------------------


async def test_defaults_match_the_documented_values() -> None:
    connector = BaseConnector()
    assert connector.limit == 100
    assert connector.limit_per_host == 0
    assert connector.force_close is False
    assert connector.closed is False
    assert connector._keepalive_timeout == 15.0
    await connector.close()
    assert connector.closed is True


async def test_keepalive_timeout_with_force_close_is_rejected() -> None:
    with pytest.raises(ValueError, match="keepalive_timeout cannot be set if force_close"):
        BaseConnector(force_close=True, keepalive_timeout=3)


async def test_force_close_accepts_keepalive_timeout_none() -> None:
    connector = BaseConnector(force_close=True, keepalive_timeout=None)
    assert connector.force_close is True
    await connector.close()


async def test_limits_are_reported_as_given() -> None:
    async with BaseConnector(limit=7, limit_per_host=3, enable_cleanup_closed=True) as conn:
        assert (conn.limit, conn.limit_per_host) == (7, 3)
    assert conn.closed


async def test_close_twice_is_harmless() -> None:
    connector = TCPConnector()
    await connector.close()
    await connector.close()
    assert connector.closed


async def test_base_connector_connect_fails_without_create_connection_and_frees_slot(
    hold: tuple[HoldApp, list[URL]],
) -> None:
    _, urls = hold
    connector = BaseConnector(limit=1, limit_per_host=1)
    for _ in range(2):
        with pytest.raises(NotImplementedError):
            await connector.connect(make_request(urls[0]), [], NO_TIMEOUT)
        assert_pool_clean(connector)
    await connector.close()


# --- Connection and connect() -----------------------------------------------------------


async def test_connect_lends_a_connection_that_release_returns_to_the_pool(
    hold: tuple[HoldApp, list[URL]],
) -> None:
    _, urls = hold
    loop = asyncio.get_running_loop()
    async with TCPConnector(limit_per_host=2) as connector:
        conn = await connector.connect(make_request(urls[0]), [], NO_TIMEOUT)
        proto = conn.protocol
        assert isinstance(proto, ResponseHandler)
        assert conn.transport is proto.transport is not None
        assert not conn.closed
        with pytest.warns(DeprecationWarning, match="loop property is deprecated"):
            assert conn.loop is loop
        assert connector._acquired == {proto}
        conn.release()
        assert conn.protocol is None
        assert conn.transport is None
        assert conn.closed
        assert_pool_clean(connector)
        assert idle_count(connector) == 1
        again = await connector.connect(make_request(urls[0]), [], NO_TIMEOUT)
        assert again.protocol is proto
        again.close()
        assert idle_count(connector) == 0
        assert_pool_clean(connector)
        assert not proto.is_connected()


async def test_connection_callbacks_run_once_when_released_even_if_one_fails(
    hold: tuple[HoldApp, list[URL]],
) -> None:
    _, urls = hold
    async with TCPConnector() as connector:
        for finish in (Connection.release, Connection.close):
            conn = await connector.connect(make_request(urls[0]), [], NO_TIMEOUT)
            calls: list[str] = []

            def broken(calls: list[str] = calls) -> None:
                calls.append("broken")
                raise RuntimeError("callback failure must not escape")

            conn.add_callback(broken)
            conn.add_callback(functools.partial(calls.append, "second"))
            finish(conn)
            finish(conn)
            assert calls == ["broken", "second"]
            assert_pool_clean(connector)


async def test_close_closes_pooled_and_lent_connections(
    hold: tuple[HoldApp, list[URL]],
) -> None:
    _, urls = hold
    connector = TCPConnector()
    lent = await connector.connect(make_request(urls[0]), [], NO_TIMEOUT)
    pooled = await connector.connect(make_request(urls[1]), [], NO_TIMEOUT)
    protocols = [lent.protocol, pooled.protocol]
    pooled.release()
    await connector.close()
    assert connector.closed
    for proto in protocols:
        assert proto is not None
        assert proto.closed.done()
    assert lent.closed
    lent.release()
    assert_pool_clean(connector)
    assert idle_count(connector) == 0


async def test_connect_on_a_closed_connector_raises(hold: tuple[HoldApp, list[URL]]) -> None:
    _, urls = hold
    connector = TCPConnector()
    await connector.close()
    with pytest.raises(airhttp.ClientConnectionError, match="Connector is closed"):
        await connector.connect(make_request(urls[0]), [], NO_TIMEOUT)


async def test_close_fails_queued_waiters_with_connector_closed(
    hold: tuple[HoldApp, list[URL]],
) -> None:
    _, urls = hold
    connector = TCPConnector(limit=1)
    first = await connector.connect(make_request(urls[0]), [], NO_TIMEOUT)
    queued = asyncio.create_task(connector.connect(make_request(urls[0]), [], NO_TIMEOUT))
    await until(lambda: bool(connector._waiters))
    await connector.close()
    with pytest.raises(airhttp.ClientConnectionError, match="Connector is closed"):
        await queued
    first.release()
    assert_pool_clean(connector)


async def test_create_connection_is_the_hook_for_new_connections(
    hold: tuple[HoldApp, list[URL]],
) -> None:
    _, urls = hold
    connector = CountingConnector()
    async with airhttp.ClientSession(connector=connector) as session:
        for _ in range(3):
            assert await get_text(session, urls[0]) == "ok"
        assert connector.created == [f"127.0.0.1:{urls[0].port}"]
    forced = CountingConnector(force_close=True)
    async with airhttp.ClientSession(connector=forced) as session:
        for _ in range(3):
            assert await get_text(session, urls[0]) == "ok"
        assert len(forced.created) == 3


# --- keep-alive and force_close -----------------------------------------------------------


async def test_idle_connection_is_reused_within_keepalive(
    hold: tuple[HoldApp, list[URL]],
) -> None:
    state, urls = hold
    async with airhttp.ClientSession() as session:
        for _ in range(4):
            await get_text(session, urls[0])
    assert len(set(state.peers)) == 1


async def test_idle_connection_expires_and_the_cleanup_timer_closes_it(
    hold: tuple[HoldApp, list[URL]],
) -> None:
    state, urls = hold
    connector = TCPConnector(keepalive_timeout=0.05)
    async with airhttp.ClientSession(connector=connector) as session:
        await get_text(session, urls[0])
        (pool,) = connector._idle.values()
        proto = pool[0][0]
        assert connector._cleanup_handle is not None
        await asyncio.wait_for(asyncio.shield(proto.closed), 1.0)
        assert idle_count(connector) == 0
        assert connector._cleanup_handle is None
        await get_text(session, urls[0])
    assert len(set(state.peers)) == 2


async def test_expired_idle_connection_is_never_handed_out(
    hold: tuple[HoldApp, list[URL]],
) -> None:
    state, urls = hold
    connector = TCPConnector(keepalive_timeout=30)
    async with airhttp.ClientSession(connector=connector) as session:
        await get_text(session, urls[0])
        (pool,) = connector._idle.values()
        proto, released_at = pool[0]
        # As if the cleanup timer had not run yet when the keep-alive time ran out.
        pool[0] = (proto, released_at - 31)
        await get_text(session, urls[0])
        assert not proto.is_connected()
    assert len(set(state.peers)) == 2


async def test_keepalive_timeout_zero_never_reuses_a_connection(
    hold: tuple[HoldApp, list[URL]],
) -> None:
    state, urls = hold
    connector = TCPConnector(keepalive_timeout=0)
    async with airhttp.ClientSession(connector=connector) as session:
        for _ in range(3):
            await get_text(session, urls[0])
            assert idle_count(connector) == 0
    assert len(set(state.peers)) == 3


async def test_keepalive_timeout_none_keeps_idle_connections_without_a_timer(
    hold: tuple[HoldApp, list[URL]],
) -> None:
    state, urls = hold
    connector = TCPConnector(keepalive_timeout=None)
    async with airhttp.ClientSession(connector=connector) as session:
        for _ in range(3):
            await get_text(session, urls[0])
        assert connector._cleanup_handle is None
        assert idle_count(connector) == 1
    assert len(set(state.peers)) == 1


async def test_force_close_opens_a_fresh_connection_per_request(
    hold: tuple[HoldApp, list[URL]],
) -> None:
    state, urls = hold
    connector = TCPConnector(force_close=True)
    async with airhttp.ClientSession(connector=connector) as session:
        for _ in range(3):
            await get_text(session, urls[0])
            assert idle_count(connector) == 0
            assert_pool_clean(connector)
    assert len(set(state.peers)) == 3


@pytest.mark.parametrize(
    ("force_close", "version", "expected"),
    [
        (True, airhttp.HttpVersion11, b"close"),
        (True, airhttp.HttpVersion10, None),
        (False, airhttp.HttpVersion11, None),
        (False, airhttp.HttpVersion10, b"keep-alive"),
    ],
)
async def test_connection_header_says_whether_the_connector_keeps_connections(
    raw_server: RawServer,
    force_close: bool,
    version: airhttp.HttpVersion,
    expected: bytes | None,
) -> None:
    heads: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await read_request(reader))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()

    url = await raw_server.start(handler)
    connector = TCPConnector(force_close=force_close)
    async with airhttp.ClientSession(connector=connector, version=version) as session:
        await get_text(session, url)
    values = [
        line.partition(b":")[2].strip()
        for line in heads[0].split(b"\r\n")
        if line.lower().startswith(b"connection:")
    ]
    assert values == ([] if expected is None else [expected])


# --- limits -------------------------------------------------------------------------------


async def test_limit_caps_simultaneous_connections(hold: tuple[HoldApp, list[URL]]) -> None:
    state, urls = hold
    connector = TCPConnector(limit=3)
    async with airhttp.ClientSession(connector=connector) as session:
        tasks = [asyncio.create_task(get_text(session, urls[i % 3] / "hold")) for i in range(12)]
        await until(lambda: state.in_flight == 3)
        await until(lambda: sum(len(q) for q in connector._waiters.values()) == 9)
        assert len(connector._acquired) == 3
        state.release.set()
        assert await asyncio.gather(*tasks) == ["held"] * 12
        assert state.max_in_flight == 3
        assert_pool_clean(connector)


async def test_limit_per_host_caps_each_host(hold: tuple[HoldApp, list[URL]]) -> None:
    state, urls = hold
    connector = TCPConnector(limit_per_host=2)
    async with airhttp.ClientSession(connector=connector) as session:
        tasks = [asyncio.create_task(get_text(session, urls[i % 3] / "hold")) for i in range(15)]
        await until(lambda: state.in_flight == 6)
        assert sorted(len(s) for s in connector._acquired_per_host.values()) == [2, 2, 2]
        assert sum(len(q) for q in connector._waiters.values()) == 9
        state.release.set()
        await asyncio.gather(*tasks)
        assert state.max_in_flight == 6
        assert_pool_clean(connector)


async def test_limit_zero_means_no_overall_limit(hold: tuple[HoldApp, list[URL]]) -> None:
    state, urls = hold
    connector = TCPConnector(limit=0)
    async with airhttp.ClientSession(connector=connector) as session:
        tasks = [asyncio.create_task(get_text(session, urls[0] / "hold")) for _ in range(120)]
        await until(lambda: state.in_flight == 120)
        assert not connector._waiters
        state.release.set()
        await asyncio.gather(*tasks)
        assert_pool_clean(connector)


async def test_idle_connection_is_not_lent_beyond_the_limit(
    hold: tuple[HoldApp, list[URL]],
) -> None:
    _, urls = hold
    connector = TCPConnector(limit=2)
    idle_a = await connector.connect(make_request(urls[0]), [], NO_TIMEOUT)
    proto_a = idle_a.protocol
    idle_a.release()
    held = [await connector.connect(make_request(urls[1]), [], NO_TIMEOUT) for _ in range(2)]
    assert connector.take_idle(make_request(urls[0]).connection_key) is None
    queued = asyncio.create_task(connector.connect(make_request(urls[0]), [], NO_TIMEOUT))
    await until(lambda: bool(connector._waiters))
    assert not queued.done()
    held[0].release()
    reused = await queued
    assert reused.protocol is proto_a
    reused.release()
    held[1].release()
    assert_pool_clean(connector)
    await connector.close()


# --- fairness -------------------------------------------------------------------------------


async def test_waiters_are_served_in_arrival_order_across_hosts(
    hold: tuple[HoldApp, list[URL]],
) -> None:
    state, urls = hold
    connector = RecordingConnector(limit=5)
    async with airhttp.ClientSession(connector=connector) as session:
        tasks = [asyncio.create_task(get_text(session, urls[i % 3] / "brief")) for i in range(200)]
        assert await asyncio.gather(*tasks) == ["brief"] * 200
        assert_pool_clean(connector)
    assert len(connector.arrived) >= 150
    assert connector.served == connector.arrived
    assert connector.left_behind == []
    assert state.max_in_flight <= 5


async def test_waiters_are_served_in_arrival_order_per_host_under_both_limits(
    hold: tuple[HoldApp, list[URL]],
) -> None:
    state, urls = hold
    connector = RecordingConnector(limit=5, limit_per_host=2)
    async with airhttp.ClientSession(connector=connector) as session:
        tasks = [asyncio.create_task(get_text(session, urls[i % 3] / "brief")) for i in range(200)]
        assert await asyncio.gather(*tasks) == ["brief"] * 200
        assert_pool_clean(connector)
    assert len(connector.arrived) >= 150
    for host in HOSTS:
        arrived = [ident for ident in connector.arrived if ident[0] == host]
        served = [ident for ident in connector.served if ident[0] == host]
        assert served == arrived
    # Every freed slot went straight to a waiter that could use it.
    assert connector.left_behind == []
    assert state.max_in_flight <= 5


async def test_an_older_waiter_of_another_host_goes_before_a_younger_one(
    hold: tuple[HoldApp, list[URL]],
) -> None:
    _, (url_a, url_b, url_c) = hold
    connector = RecordingConnector(limit=2, limit_per_host=1)

    async def lend(url: URL) -> Connection:
        return await connector.connect(make_request(url), [], NO_TIMEOUT)

    a1, b1 = await lend(url_a), await lend(url_b)
    a2 = asyncio.create_task(lend(url_a))
    await until(lambda: len(connector.arrived) == 1)
    c1 = asyncio.create_task(lend(url_c))
    await until(lambda: len(connector.arrived) == 2)
    b2 = asyncio.create_task(lend(url_b))
    await until(lambda: len(connector.arrived) == 3)
    a1.release()  # frees a slot that A's waiter, the oldest, may use
    (await a2).release()  # A is idle now; C's waiter is older than B's
    b1.release()
    (await c1).release()
    (await b2).release()
    assert [host for host, _ in connector.served] == ["127.0.0.1", "127.0.0.3", "127.0.0.2"]
    assert_pool_clean(connector)
    await connector.close()


async def test_a_host_at_its_limit_does_not_hold_up_other_hosts(
    hold: tuple[HoldApp, list[URL]],
) -> None:
    _, urls = hold
    connector = TCPConnector(limit=10, limit_per_host=1)
    a1 = await connector.connect(make_request(urls[0]), [], NO_TIMEOUT)
    a2 = asyncio.create_task(connector.connect(make_request(urls[0]), [], NO_TIMEOUT))
    await until(lambda: bool(connector._waiters))
    b1 = await asyncio.wait_for(connector.connect(make_request(urls[1]), [], NO_TIMEOUT), 1)
    b1.release()
    a1.release()
    (await a2).release()
    assert_pool_clean(connector)
    await connector.close()


# --- no leaked slots ----------------------------------------------------------------------


async def test_cancelled_queued_request_leaves_the_queue(hold: tuple[HoldApp, list[URL]]) -> None:
    state, urls = hold
    connector = TCPConnector(limit=1, limit_per_host=1)
    async with airhttp.ClientSession(connector=connector) as session:
        first = asyncio.create_task(get_text(session, urls[0] / "hold"))
        await until(lambda: state.in_flight == 1)
        queued = asyncio.create_task(get_text(session, urls[0] / "hold"))
        await until(lambda: bool(connector._waiters))
        queued.cancel()
        with pytest.raises(asyncio.CancelledError):
            await queued
        assert not connector._waiters
        state.release.set()
        assert await first == "held"
        assert_pool_clean(connector)
        assert await get_text(session, urls[0]) == "ok"
        assert_pool_clean(connector)


async def test_waiter_cancelled_after_being_promised_a_slot_passes_it_on(
    hold: tuple[HoldApp, list[URL]],
) -> None:
    _, urls = hold
    connector = TCPConnector(limit=1, limit_per_host=1)

    async def lend() -> Connection:
        return await connector.connect(make_request(urls[0]), [], NO_TIMEOUT)

    first = await lend()
    second = asyncio.create_task(lend())
    third = asyncio.create_task(lend())
    await until(lambda: sum(len(q) for q in connector._waiters.values()) == 2)
    first.release()  # promises the slot to `second`, which has not run yet...
    second.cancel()  # ...and gives up before it could use it
    with pytest.raises(asyncio.CancelledError):
        await second
    conn = await asyncio.wait_for(third, 1)
    conn.release()
    assert_pool_clean(connector)
    await connector.close()


async def test_cancel_while_connecting_frees_the_slot(hold: tuple[HoldApp, list[URL]]) -> None:
    _, urls = hold
    connector = CountingConnector(limit=1, limit_per_host=1)
    connector.block = asyncio.Event()
    async with airhttp.ClientSession(connector=connector) as session:
        task = asyncio.create_task(get_text(session, urls[0]))
        await until(lambda: len(connector.created) == 1)
        assert len(connector._acquired) == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert_pool_clean(connector)
        connector.block = None
        assert await get_text(session, urls[0]) == "ok"
        assert_pool_clean(connector)


async def test_cancel_while_waiting_for_the_head_closes_the_connection(
    raw_server: RawServer, hold: tuple[HoldApp, list[URL]]
) -> None:
    _, urls = hold
    got_request = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        got_request.set()
        await reader.read()

    url = await raw_server.start(silent)
    connector = TCPConnector(limit=1, limit_per_host=1)
    async with airhttp.ClientSession(connector=connector) as session:
        task = asyncio.create_task(get_text(session, url))
        await asyncio.wait_for(got_request.wait(), 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert_pool_clean(connector)
        assert idle_count(connector) == 0
        assert await get_text(session, urls[0]) == "ok"
        assert_pool_clean(connector)


async def test_cancel_while_reading_the_body_closes_the_connection(
    raw_server: RawServer, hold: tuple[HoldApp, list[URL]]
) -> None:
    _, urls = hold
    url = await raw_server.start(partial_body_handler)
    connector = TCPConnector(limit=1, limit_per_host=1)
    async with airhttp.ClientSession(connector=connector) as session:
        reading = asyncio.Event()

        async def read_body() -> bytes:
            async with session.get(url) as resp:
                reading.set()
                return await resp.read()

        task = asyncio.create_task(read_body())
        await asyncio.wait_for(reading.wait(), 1)
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert_pool_clean(connector)
        assert idle_count(connector) == 0
        assert await get_text(session, urls[0]) == "ok"
        assert_pool_clean(connector)


async def test_refused_connection_frees_the_slot(hold: tuple[HoldApp, list[URL]]) -> None:
    _, urls = hold
    refused = URL.build(scheme="http", host="127.0.0.1", port=free_port())
    connector = TCPConnector(limit=1, limit_per_host=1)
    async with airhttp.ClientSession(connector=connector) as session:
        for _ in range(3):
            with pytest.raises(airhttp.ClientConnectorError):
                await asyncio.wait_for(get_text(session, refused), 1)
            assert_pool_clean(connector)
        assert await get_text(session, urls[0]) == "ok"
        assert_pool_clean(connector)


@pytest.mark.parametrize("finish", ["release", "close"])
async def test_unread_response_given_back_frees_the_slot(
    raw_server: RawServer, hold: tuple[HoldApp, list[URL]], finish: str
) -> None:
    _, urls = hold
    url = await raw_server.start(partial_body_handler)
    connector = TCPConnector(limit=1, limit_per_host=1)
    async with airhttp.ClientSession(connector=connector) as session:
        resp = await session.get(url)
        assert resp.status == 200
        assert len(connector._acquired) == 1
        getattr(resp, finish)()
        assert_pool_clean(connector)
        # Half a body is still on the wire: that connection must not be reused.
        assert idle_count(connector) == 0
        assert await get_text(session, urls[0]) == "ok"
        assert_pool_clean(connector)


async def test_dropped_unread_response_frees_its_slot_when_collected(
    raw_server: RawServer,
) -> None:
    rest = asyncio.Event()

    async def late_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabc")
        await writer.drain()
        await rest.wait()
        writer.write(b"def")
        await writer.drain()
        while True:
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()

    url = await raw_server.start(late_body)
    connector = TCPConnector(limit=1, limit_per_host=1)
    async with airhttp.ClientSession(connector=connector) as session:
        resp = await session.get(url)
        del resp
        gc.collect()
        # Collected at once, before the rest of its body: the slot is free and the
        # connection, with part of a body still on the wire, is closed, not pooled.
        assert_pool_clean(connector)
        assert idle_count(connector) == 0
        rest.set()
        # A new connection: the server's script starts over with its split first reply.
        assert await get_text(session, url) == "abcdef"
    assert raw_server.connections == 2


async def test_exception_inside_async_with_frees_the_slot(
    raw_server: RawServer, hold: tuple[HoldApp, list[URL]]
) -> None:
    _, urls = hold
    url = await raw_server.start(partial_body_handler)
    connector = TCPConnector(limit=1, limit_per_host=1)
    async with airhttp.ClientSession(connector=connector) as session:
        for target in (url, urls[0]):
            with pytest.raises(LookupError):
                async with session.get(target):
                    raise LookupError("user code failed")
            assert_pool_clean(connector)
        assert await get_text(session, urls[0]) == "ok"
        assert_pool_clean(connector)


async def test_timeout_while_queued_frees_nothing(hold: tuple[HoldApp, list[URL]]) -> None:
    state, urls = hold
    connector = TCPConnector(limit=1, limit_per_host=1)
    async with airhttp.ClientSession(connector=connector) as session:
        first = asyncio.create_task(get_text(session, urls[0] / "hold"))
        await until(lambda: state.in_flight == 1)
        with pytest.raises(asyncio.TimeoutError):
            await session.get(urls[0], timeout=airhttp.ClientTimeout(total=0.05))
        assert not connector._waiters
        state.release.set()
        await first
        assert_pool_clean(connector)


# --- tracing --------------------------------------------------------------------------------


async def test_connection_trace_signals_fire_in_order(hold: tuple[HoldApp, list[URL]]) -> None:
    state, urls = hold
    config, events = event_trace()
    connector = TCPConnector(limit=1)
    async with airhttp.ClientSession(connector=connector, trace_configs=[config]) as session:
        await get_text(session, urls[0])
        assert events == ["create_start", "create_end"]
        events.clear()
        await get_text(session, urls[0])
        assert events == ["reuseconn"]
        events.clear()
        first = asyncio.create_task(get_text(session, urls[0] / "hold"))
        await until(lambda: state.in_flight == 1)
        second = asyncio.create_task(get_text(session, urls[0]))
        await until(lambda: len(events) == 2)
        assert events == ["reuseconn", "queued_start"]
        state.release.set()
        await asyncio.gather(first, second)
        assert events == ["reuseconn", "queued_start", "queued_end", "reuseconn"]


async def test_queued_request_that_opens_a_connection_traces_create(
    hold: tuple[HoldApp, list[URL]],
) -> None:
    _, urls = hold
    config, events = event_trace()
    connector = TCPConnector(limit=1, force_close=True)
    async with airhttp.ClientSession(connector=connector, trace_configs=[config]) as session:
        first = await connector.connect(make_request(urls[0]), [], NO_TIMEOUT)
        second = asyncio.create_task(get_text(session, urls[0]))
        await until(lambda: events == ["queued_start"])
        first.release()
        assert await second == "ok"
        assert events == ["queued_start", "queued_end", "create_start", "create_end"]


async def test_cancel_inside_the_reuseconn_trace_gives_the_connection_back(
    hold: tuple[HoldApp, list[URL]],
) -> None:
    _, urls = hold
    entered = asyncio.Event()
    config = airhttp.TraceConfig()

    async def slow_reuse(session: Any, ctx: Any, params: Any) -> None:
        entered.set()
        await asyncio.sleep(10)

    config.on_connection_reuseconn.append(slow_reuse)
    connector = TCPConnector(limit_per_host=1)
    async with airhttp.ClientSession(connector=connector) as plain:
        await get_text(plain, urls[0])
        async with airhttp.ClientSession(
            connector=connector, connector_owner=False, trace_configs=[config]
        ) as traced:
            task = asyncio.create_task(get_text(traced, urls[0]))
            await asyncio.wait_for(entered.wait(), 1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            del task
            gc.collect()
            assert_pool_clean(connector)
            assert idle_count(connector) == 1


# --- finalizers -----------------------------------------------------------------------------


async def test_unclosed_connector_with_idle_connections_warns(
    hold: tuple[HoldApp, list[URL]],
) -> None:
    _, urls = hold
    loop = asyncio.get_running_loop()
    contexts: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, ctx: contexts.append(ctx))
    try:
        connector = TCPConnector()
        conn = await connector.connect(make_request(urls[0]), [], NO_TIMEOUT)
        proto = conn.protocol
        assert proto is not None
        conn.release()
        del conn
        with pytest.warns(ResourceWarning, match="Unclosed connector"):
            del connector
            gc.collect()
        assert [ctx["message"] for ctx in contexts] == ["Unclosed connector"]
        await asyncio.wait_for(asyncio.shield(proto.closed), 1)
    finally:
        loop.set_exception_handler(None)


async def test_unused_connector_is_collected_without_a_warning() -> None:
    connector = BaseConnector()
    del connector
    gc.collect()


async def test_dropped_lent_connection_warns_and_frees_its_slot(
    hold: tuple[HoldApp, list[URL]],
) -> None:
    _, urls = hold
    loop = asyncio.get_running_loop()
    contexts: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, ctx: contexts.append(ctx))
    try:
        async with TCPConnector(limit_per_host=1) as connector:
            conn = await connector.connect(make_request(urls[0]), [], NO_TIMEOUT)
            with pytest.warns(ResourceWarning, match="Unclosed connection"):
                del conn
                gc.collect()
            assert_pool_clean(connector)
            assert idle_count(connector) == 0
        assert [ctx["message"] for ctx in contexts] == ["Unclosed connection"]
    finally:
        loop.set_exception_handler(None)


# --- enable_cleanup_closed ------------------------------------------------------------------


class _StuckTLSTransport(asyncio.Transport):
    """A TLS transport whose peer never answers close_notify: close() never finishes."""

    def __init__(self, protocol: ResponseHandler) -> None:
        super().__init__()
        self._protocol = protocol
        self.closing = False
        self.aborted = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "sslcontext":
            return ssl.create_default_context()
        return default

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = self.aborted = True
        self._protocol.connection_lost(None)


def _stuck_protocol(loop: asyncio.AbstractEventLoop) -> tuple[ResponseHandler, _StuckTLSTransport]:
    proto = ResponseHandler(loop)
    transport = _StuckTLSTransport(proto)
    proto.connection_made(transport)
    return proto, transport


_KEY = ConnectionKey("example.org", 443, True, True, None, None, None)


async def test_enable_cleanup_closed_aborts_tls_transports_stuck_closing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_tls_closing, "_GRACE", 0.01)
    loop = asyncio.get_running_loop()
    connector = BaseConnector(enable_cleanup_closed=True)
    proto, transport = _stuck_protocol(loop)
    connector._release(_KEY, proto, should_close=True)
    assert transport.closing and not transport.aborted
    await asyncio.wait_for(asyncio.shield(proto.closed), 1)
    assert transport.aborted
    await connector.close()


async def test_without_enable_cleanup_closed_tls_transports_are_left_to_close(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_tls_closing, "_GRACE", 0.01)
    loop = asyncio.get_running_loop()
    connector = BaseConnector()
    proto, transport = _stuck_protocol(loop)
    connector._release(_KEY, proto, should_close=True)
    await asyncio.sleep(0.05)
    assert transport.closing and not transport.aborted
    await connector.close()
    transport.abort()


async def test_closing_the_connector_aborts_tls_transports_stuck_closing() -> None:
    loop = asyncio.get_running_loop()
    connector = BaseConnector(enable_cleanup_closed=True)
    proto, transport = _stuck_protocol(loop)
    connector._release(_KEY, proto, should_close=True)
    assert not transport.aborted
    await connector.close()
    assert transport.aborted

"""When RetryMiddleware stops: the call's time left, permanent failures, its limits, bodies.

Each way of giving up returns the last response as it is (or raises the last error) and
logs why; against local servers, over the real middleware chain.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from yarl import URL

import airhttp
from airhttp import RetryMiddleware
from airhttp._request_timer import RequestTimer, SharedDeadlines
from airhttp.client_exceptions import (
    ClientConnectorCertificateError,
    ClientConnectorError,
    ClientOSError,
    ClientProxyConnectionError,
    ClientSocksProxyError,
    ClientSSLError,
)
from airhttp.client_middleware_retry import DEFAULT_EXCEPTIONS, PERMANENT_EXCEPTIONS

from .conftest import RawServer, WebServer, read_request
from .retry_support import Reply, no_jitter, serve
from .socks_server import SocksServer
from .tcp_support import refused_port, tls_material


def given_up(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The "Giving up" lines logged on airhttp.client, at INFO."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "airhttp.client"
        and record.levelno == logging.INFO
        and record.getMessage().startswith("Giving up")
    ]


# --- the time left of the total timeout -------------------------------------------------


async def test_a_retry_after_longer_than_the_time_left_returns_the_response_at_once(
    web_server: WebServer, caplog: pytest.LogCaptureFixture
) -> None:
    app, url = await serve(web_server, busy=[Reply(503, {"Retry-After": "20"}), Reply(200)])
    retry = RetryMiddleware(jitter=False)  # real waits: none may happen
    timeout = airhttp.ClientTimeout(total=1)
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="airhttp.client"):
        async with (
            airhttp.ClientSession(middlewares=(retry,), timeout=timeout) as session,
            session.get(url / "busy") as resp,
        ):
            assert resp.status == 503
            assert resp.headers["Retry-After"] == "20"
            assert await resp.read() == b"ok"
    assert time.monotonic() - started < 0.5
    assert app.hits("/busy") == 1
    (line,) = given_up(caplog)
    assert line.startswith(f"Giving up on GET {url / 'busy'} after 503 Service Unavailable: ")
    assert "a wait of 20.00 s does not fit in the " in line
    assert line.endswith(" s left of the total timeout")


async def test_a_backoff_longer_than_the_time_left_raises_the_last_error_at_once() -> None:
    retry = RetryMiddleware(backoff=5, jitter=False)
    timeout = airhttp.ClientTimeout(total=1)
    started = time.monotonic()
    async with airhttp.ClientSession(middlewares=(retry,), timeout=timeout) as session:
        with pytest.raises(ClientConnectorError):
            await session.get(f"http://127.0.0.1:{refused_port()}/")
    assert time.monotonic() - started < 0.5


async def test_retries_stop_when_the_next_wait_would_outlast_the_total(
    web_server: WebServer,
) -> None:
    app, url = await serve(web_server, down=[Reply(503)])
    # Real waits here: 0.15 s between tries, 0.4 s for the whole call.
    retry = RetryMiddleware(attempts=50, backoff=0.15, backoff_factor=1, jitter=False)
    timeout = airhttp.ClientTimeout(total=0.4)
    started = time.monotonic()
    async with (
        airhttp.ClientSession(middlewares=(retry,), timeout=timeout) as session,
        session.get(url / "down") as resp,
    ):
        assert resp.status == 503
    assert time.monotonic() - started < 0.4
    assert 2 <= app.hits("/down") <= 3


async def test_the_total_timeout_during_an_attempt_is_raised_not_retried(
    raw_server: RawServer,
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        if raw_server.connections > 1:
            await asyncio.sleep(10)  # never answers; cancelled by the fixture
        writer.write(b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()

    url = await raw_server.start(handler)
    retry = no_jitter(backoff=0)
    timeout = airhttp.ClientTimeout(total=0.3)
    async with airhttp.ClientSession(middlewares=(retry,), timeout=timeout) as session:
        with pytest.raises(asyncio.TimeoutError) as info:
            await session.get(url)
    assert type(info.value) is asyncio.TimeoutError
    assert retry.delays == [0]
    assert raw_server.connections == 2


async def test_time_left_counts_down_the_total_and_is_none_without_one(
    web_server: WebServer,
) -> None:
    _, url = await serve(web_server)
    seen: list[float | None] = []

    async def record(
        request: airhttp.ClientRequest, handler: airhttp.ClientHandlerType
    ) -> airhttp.ClientResponse:
        seen.append(request.time_left())
        return await handler(request)

    for total in (2.0, None):
        timeout = airhttp.ClientTimeout(total=total)
        async with (
            airhttp.ClientSession(middlewares=(record,), timeout=timeout) as session,
            session.get(url) as resp,
        ):
            assert resp.status == 200
    left, unlimited = seen
    assert left is not None and 1.5 < left <= 2.0
    assert unlimited is None
    # A request built by hand has no timer at all.
    assert airhttp.ClientRequest("GET", url).time_left() is None


@pytest.mark.parametrize("shared", [False, True], ids=["own timer", "shared second"])
async def test_a_timer_has_nothing_left_once_it_fired_or_was_cancelled(shared: bool) -> None:
    loop = asyncio.get_running_loop()
    deadlines = SharedDeadlines(loop) if shared else None
    cancelled = RequestTimer.start(loop, airhttp.ClientTimeout(total=60), deadlines)
    assert cancelled is not None
    # Over ceil_threshold (5 s) the deadline is rounded up to a whole second.
    assert 59 < cancelled.remaining() <= 61
    cancelled.cancel()
    assert cancelled.remaining() == 0.0
    timers: list[RequestTimer] = []
    # Shared only above ceil_threshold, so it is lowered to keep the wait short.
    short = airhttp.ClientTimeout(total=0.02, ceil_threshold=0.01 if shared else 5)

    async def timed_out() -> None:
        timer = RequestTimer.start(loop, short, deadlines)
        assert timer is not None
        timers.append(timer)
        await asyncio.sleep(10)  # cancelled by the timer: no connection is attached

    with pytest.raises(asyncio.CancelledError):
        await asyncio.create_task(timed_out())
    (fired,) = timers
    assert fired.fired and fired.remaining() == 0.0
    if deadlines is not None:
        assert len(deadlines) == 1  # the cancelled one's second, until it passes
        deadlines.close()
        assert len(deadlines) == 0


async def test_timers_ending_in_the_same_second_share_one_loop_timer() -> None:
    loop = asyncio.get_running_loop()
    deadlines = SharedDeadlines(loop)
    timeout = airhttp.ClientTimeout(total=0.3, ceil_threshold=0.1)
    timers: list[RequestTimer] = []

    async def request(hold: float) -> None:
        timer = RequestTimer.start(loop, timeout, deadlines)
        assert timer is not None
        timers.append(timer)
        await asyncio.sleep(hold)
        timer.cancel()

    tasks = [asyncio.create_task(request(hold)) for hold in (0, 5, 5)]
    await asyncio.sleep(0)
    # Three requests, one loop timer (two if the clock just crossed a whole second).
    assert len(timers) == 3 and 1 <= len(deadlines) <= 2
    results = await asyncio.gather(*tasks, return_exceptions=True)
    # The one that finished first left its second; the others were cancelled at it.
    assert [type(r) for r in results] == [
        type(None),
        asyncio.CancelledError,
        asyncio.CancelledError,
    ]
    assert [t.fired for t in timers] == [False, True, True]
    assert len(deadlines) == 0


async def test_a_failing_timer_does_not_keep_the_rest_of_its_second_from_firing() -> None:
    loop = asyncio.get_running_loop()
    deadlines = SharedDeadlines(loop)
    timeout = airhttp.ClientTimeout(total=0.05, ceil_threshold=0.01)
    reported: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _, context: reported.append(context))

    class BrokenProtocol:
        def fail(self, exc: BaseException) -> None:
            raise RuntimeError("broken")

    class Lease:  # what RequestTimer.attach() holds: something with a .protocol
        protocol = BrokenProtocol()

    lease = Lease()
    tasks: list[asyncio.Task[None]] = []
    timers: list[RequestTimer] = []

    async def request(broken: bool) -> None:
        timer = RequestTimer.start(loop, timeout, deadlines)
        assert timer is not None
        timers.append(timer)
        if broken:
            timer.attach(lease)  # type: ignore[arg-type]
        await asyncio.sleep(5)

    try:
        tasks = [asyncio.create_task(request(i == 0)) for i in range(4)]
        others = await asyncio.wait_for(asyncio.gather(*tasks[1:], return_exceptions=True), 3)
        # The broken one raised inside the shared callback; the three others were cancelled.
        assert [type(r) for r in others] == [asyncio.CancelledError] * 3
        assert [t.fired for t in timers] == [True] * 4
        assert not tasks[0].done()
        assert [str(c["exception"]) for c in reported] == ["broken"]
    finally:
        loop.set_exception_handler(None)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# --- failures another attempt would meet again ------------------------------------------


class MyError(Exception):
    pass


@pytest.mark.parametrize(
    ("exceptions", "retried"),
    [
        (DEFAULT_EXCEPTIONS, False),
        ((*DEFAULT_EXCEPTIONS, MyError), False),
        ((ClientOSError,), False),
        ((Exception,), False),
        ((ClientSSLError,), True),
        ((ClientConnectorCertificateError,), True),
    ],
)
async def test_a_certificate_failure_is_retried_only_when_named(
    exceptions: tuple[type[BaseException], ...], retried: bool
) -> None:
    server = WebServer()
    url = await server.start(web.Application(), ssl_context=tls_material().server_context())
    retry = no_jitter(exceptions=exceptions)
    try:
        async with airhttp.ClientSession(middlewares=(retry,)) as session:
            with pytest.raises(ClientConnectorCertificateError):
                await session.get(url)
    finally:
        await server.close()
    assert retry.delays == ([0.5, 1.0] if retried else [])


@pytest.mark.parametrize(
    ("exceptions", "tries"), [(DEFAULT_EXCEPTIONS, 1), ((ClientSocksProxyError,), 3)]
)
async def test_a_socks_proxy_refusing_the_target_is_retried_only_when_named(
    web_server: WebServer, exceptions: tuple[type[BaseException], ...], tries: int
) -> None:
    _, url = await serve(web_server)
    retry = no_jitter(exceptions=exceptions)
    async with (
        SocksServer(refuse=0x05) as proxy,
        airhttp.ClientSession(middlewares=(retry,)) as session,
    ):
        with pytest.raises(ClientSocksProxyError):
            await session.get(url, proxy=proxy.url("socks5"))
        assert proxy.connections == tries


async def test_a_socks_proxy_that_cannot_be_reached_is_retried() -> None:
    retry = no_jitter()
    proxy = URL(f"socks5h://127.0.0.1:{refused_port()}")
    async with airhttp.ClientSession(middlewares=(retry,)) as session:
        with pytest.raises(ClientProxyConnectionError):
            await session.get("http://example.invalid/", proxy=proxy)
    assert retry.delays == [0.5, 1.0]


def test_the_permanent_failures_are_the_documented_ones() -> None:
    names = {cls.__name__ for cls in PERMANENT_EXCEPTIONS}
    assert names == {
        "ClientSSLError",
        "ServerFingerprintMismatch",
        "ClientSocksProxyError",
        "InvalidURL",
        "NonHttpUrlClientError",
    }


# --- limits and bodies, each logged -------------------------------------------------------


async def test_running_out_of_attempts_returns_the_last_response_and_is_logged(
    web_server: WebServer, caplog: pytest.LogCaptureFixture
) -> None:
    _, url = await serve(web_server, down=[Reply(503)], broken=[Reply(500)])
    with caplog.at_level(logging.INFO, logger="airhttp.client"):
        async with airhttp.ClientSession(middlewares=(no_jitter(attempts=2),)) as session:
            async with session.get(url / "down") as resp:
                assert resp.status == 503
            # A status that is not retried is no retry given up: nothing is logged.
            async with session.get(url / "broken") as resp:
                assert resp.status == 500
    assert given_up(caplog) == [
        f"Giving up on GET {url / 'down'} after 503 Service Unavailable: that was attempt 2 of 2"
    ]


async def test_retry_after_beyond_its_max_returns_the_response_and_is_logged(
    web_server: WebServer, caplog: pytest.LogCaptureFixture
) -> None:
    app, url = await serve(web_server, busy=[Reply(503, {"Retry-After": "61"}), Reply(200)])
    retry = no_jitter()  # retry_after_max defaults to 60 s
    with caplog.at_level(logging.INFO, logger="airhttp.client"):
        async with (
            airhttp.ClientSession(middlewares=(retry,)) as session,
            session.get(url / "busy") as resp,
        ):
            assert resp.status == 503
            assert resp.headers["Retry-After"] == "61"
    assert app.hits("/busy") == 1
    assert retry.delays == []
    assert given_up(caplog) == [
        f"Giving up on GET {url / 'busy'} after 503 Service Unavailable: "
        "Retry-After asks for 61 s, more than retry_after_max (60 s)"
    ]


async def test_a_body_that_cannot_be_sent_again_is_logged(
    web_server: WebServer, caplog: pytest.LogCaptureFixture
) -> None:
    app, url = await serve(web_server, post=[Reply(503), Reply(200)])

    async def chunks() -> AsyncIterator[bytes]:
        yield b"once"

    retry = no_jitter(methods=None)
    with caplog.at_level(logging.INFO, logger="airhttp.client"):
        async with (
            airhttp.ClientSession(middlewares=(retry,)) as session,
            session.post(url / "post", data=chunks()) as resp,
        ):
            assert resp.status == 503
    assert app.hits("/post") == 1
    assert given_up(caplog) == [
        f"Giving up on POST {url / 'post'} after 503 Service Unavailable: "
        "its body cannot be sent again"
    ]


async def test_a_method_not_retried_logs_nothing(
    web_server: WebServer, caplog: pytest.LogCaptureFixture
) -> None:
    _, url = await serve(web_server, post=[Reply(503)])
    with caplog.at_level(logging.INFO, logger="airhttp.client"):
        async with (
            airhttp.ClientSession(middlewares=(no_jitter(),)) as session,
            session.post(url / "post", data=b"x") as resp,
        ):
            assert resp.status == 503
    assert given_up(caplog) == []

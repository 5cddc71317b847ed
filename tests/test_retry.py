"""Tests for RetryMiddleware over the real middleware chain against local servers.

When it stops retrying (time left, permanent failures, limits) is test_retry_giving_up.py.
"""

from __future__ import annotations

import asyncio
import datetime
import email.utils
import io
import json
import logging
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

import airhttp
from airhttp import RetryMiddleware, TraceConfig, TraceRequestRetryParams
from airhttp.client_exceptions import (
    ClientConnectorError,
    ClientResponseError,
    ServerDisconnectedError,
    SocketTimeoutError,
)
from airhttp.client_middleware_digest_auth import DigestAuthMiddleware
from airhttp.client_middleware_retry import (
    DEFAULT_EXCEPTIONS,
    DEFAULT_METHODS,
    DEFAULT_STATUSES,
    RetryEvent,
    body_replayable,
    parse_retry_after,
)

from .conftest import RawServer, WebServer, read_request
from .retry_support import Reply, no_jitter, serve
from .tcp_support import refused_port

# --- statuses -------------------------------------------------------------------------


@pytest.mark.parametrize("status", sorted(DEFAULT_STATUSES))
async def test_each_default_status_is_retried_until_success(
    web_server: WebServer, status: int
) -> None:
    app, url = await serve(web_server, flaky=[Reply(status), Reply(200, body=b"done")])
    retry = no_jitter()
    async with (
        airhttp.ClientSession(middlewares=(retry,)) as session,
        session.get(url / "flaky") as resp,
    ):
        assert resp.status == 200
        assert await resp.read() == b"done"
    assert app.hits("/flaky") == 2
    assert retry.delays == [0.5]


async def test_a_status_not_listed_is_returned_at_once(web_server: WebServer) -> None:
    app, url = await serve(web_server, flaky=[Reply(500), Reply(200)])
    async with (
        airhttp.ClientSession(middlewares=(no_jitter(),)) as session,
        session.get(url / "flaky") as resp,
    ):
        assert resp.status == 500
    assert app.hits("/flaky") == 1


@pytest.mark.parametrize(("attempts", "delays"), [(1, []), (4, [0.5, 1.0, 2.0])])
async def test_gives_up_after_attempts_and_returns_the_last_response(
    web_server: WebServer, attempts: int, delays: list[float]
) -> None:
    app, url = await serve(web_server, down=[Reply(503, body=b"down")])
    retry = no_jitter(attempts=attempts)
    async with (
        airhttp.ClientSession(middlewares=(retry,)) as session,
        session.get(url / "down") as resp,
    ):
        assert resp.status == 503
        assert await resp.read() == b"down"
    assert app.hits("/down") == attempts
    assert retry.delays == delays


async def test_raise_for_status_applies_to_the_last_response_only(web_server: WebServer) -> None:
    app, url = await serve(web_server, flaky=[Reply(503), Reply(200)], down=[Reply(503)])
    async with airhttp.ClientSession(middlewares=(no_jitter(),), raise_for_status=True) as session:
        async with session.get(url / "flaky") as resp:
            assert resp.status == 200
        with pytest.raises(ClientResponseError) as info:
            await session.get(url / "down")
    assert info.value.status == 503
    assert app.hits("/down") == 3


async def test_retried_responses_are_released_and_their_connection_reused(
    web_server: WebServer,
) -> None:
    app, url = await serve(web_server, down=[Reply(503, body=b"x" * 10000)])
    released: list[bool] = []

    def note(event: RetryEvent) -> None:
        assert event.response is not None
        released.append(event.response.closed and event.response.connection is None)

    async with (
        airhttp.ClientSession(middlewares=(no_jitter(on_retry=note),)) as session,
        session.get(url / "down") as resp,
    ):
        assert resp.status == 503
    assert released == [True, True]
    # One keep-alive connection served every attempt.
    assert len({seen.peer for seen in app.seen}) == 1


# --- connection failures and timeouts ------------------------------------------------


async def test_connection_refused_then_a_server_that_appears(raw_server: RawServer) -> None:
    port = refused_port()
    servers: list[asyncio.Server] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nup")
        await writer.drain()
        writer.close()

    async def start_server() -> None:
        servers.append(await asyncio.start_server(answer, "127.0.0.1", port))

    errors: list[BaseException | None] = []
    retry = no_jitter(on_retry=lambda event: errors.append(event.exception))
    retry.before_next = start_server
    try:
        async with (
            airhttp.ClientSession(middlewares=(retry,)) as session,
            session.get(f"http://127.0.0.1:{port}/") as resp,
        ):
            assert await resp.read() == b"up"
    finally:
        for server in servers:
            server.close()
            await server.wait_closed()
    assert len(errors) == 1 and isinstance(errors[0], ClientConnectorError)


async def test_the_last_exception_is_raised_when_every_attempt_fails() -> None:
    port = refused_port()
    retry = no_jitter(attempts=3)
    async with airhttp.ClientSession(middlewares=(retry,)) as session:
        with pytest.raises(ClientConnectorError):
            await session.get(f"http://127.0.0.1:{port}/")
    assert retry.delays == [0.5, 1.0]


async def test_a_server_closing_before_its_answer_is_retried(raw_server: RawServer) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        if raw_server.connections <= 2:
            # Closed by the fixture's wrapper, no answer at all: twice, since the session
            # itself sends an idempotent request once more after a disconnection.
            return
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nagain")
        await writer.drain()

    url = await raw_server.start(handler)
    seen: list[BaseException | None] = []
    retry = no_jitter(on_retry=lambda event: seen.append(event.exception))
    async with (
        airhttp.ClientSession(middlewares=(retry,)) as session,
        session.get(url) as resp,
    ):
        assert await resp.read() == b"again"
    assert raw_server.connections == 3
    assert len(seen) == 1 and isinstance(seen[0], ServerDisconnectedError)


async def test_a_read_timeout_is_retried(raw_server: RawServer) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        if raw_server.connections == 1:
            await asyncio.sleep(10)  # never answers; cancelled by the fixture
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate")
        await writer.drain()

    url = await raw_server.start(handler)
    seen: list[BaseException | None] = []
    retry = no_jitter(on_retry=lambda event: seen.append(event.exception))
    timeout = airhttp.ClientTimeout(sock_read=0.1)
    async with (
        airhttp.ClientSession(middlewares=(retry,), timeout=timeout) as session,
        session.get(url) as resp,
    ):
        assert await resp.read() == b"late"
    assert len(seen) == 1 and isinstance(seen[0], SocketTimeoutError)


async def test_a_broken_answer_is_not_retried(raw_server: RawServer) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        await writer.drain()

    url = await raw_server.start(handler)
    async with airhttp.ClientSession(middlewares=(no_jitter(),)) as session:
        with pytest.raises(ClientResponseError):
            await session.get(url)
    assert raw_server.connections == 1


async def test_a_cancel_during_the_wait_propagates_and_leaves_nothing(
    web_server: WebServer,
) -> None:
    app, url = await serve(web_server, down=[Reply(503)])
    waiting = asyncio.Event()
    retry = RetryMiddleware(backoff=30, jitter=False, on_retry=lambda _: waiting.set())
    async with airhttp.ClientSession(middlewares=(retry,)) as session:
        task = asyncio.create_task(session.get(url / "down"))
        await waiting.wait()
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The first answer's connection went back before the wait: it serves the next call.
        async with session.get(url / "other") as resp:
            assert resp.status == 200
    assert app.hits("/down") == 1
    assert len({seen.peer for seen in app.seen}) == 1


# --- methods and bodies ------------------------------------------------------------------


async def test_post_is_not_retried_by_default(web_server: WebServer) -> None:
    app, url = await serve(web_server, post=[Reply(503), Reply(200)])
    async with (
        airhttp.ClientSession(middlewares=(no_jitter(),)) as session,
        session.post(url / "post", data=b"once") as resp,
    ):
        assert resp.status == 503
    assert app.hits("/post") == 1


async def test_a_failed_post_is_not_retried_by_default() -> None:
    retry = no_jitter()
    async with airhttp.ClientSession(middlewares=(retry,)) as session:
        with pytest.raises(ClientConnectorError):
            await session.post(f"http://127.0.0.1:{refused_port()}/", data=b"x")
    assert retry.delays == []


@pytest.mark.parametrize("method", sorted(DEFAULT_METHODS))
async def test_every_idempotent_method_is_retried(web_server: WebServer, method: str) -> None:
    app, url = await serve(web_server, flaky=[Reply(503), Reply(200)])
    async with (
        airhttp.ClientSession(middlewares=(no_jitter(),)) as session,
        session.request(method, url / "flaky") as resp,
    ):
        assert resp.status == 200
    assert app.hits("/flaky") == 2


async def test_methods_can_name_post(web_server: WebServer) -> None:
    app, url = await serve(web_server, flaky=[Reply(503), Reply(200)])
    async with airhttp.ClientSession(middlewares=(no_jitter(methods={"post"}),)) as session:
        async with session.post(url / "flaky", data=b"x") as resp:
            assert resp.status == 200
        async with session.get(url / "flaky") as resp:
            assert resp.status == 200
    assert app.hits("/flaky") == 3


def bodies(tmp_path: Path) -> dict[str, Callable[[], dict[str, Any]]]:
    path = tmp_path / "upload.bin"
    path.write_bytes(os.urandom(200_000))

    def multipart() -> dict[str, Any]:
        form = airhttp.FormData()
        form.add_field("name", "value")
        form.add_field("file", path.open("rb"), filename="upload.bin")
        return {"data": form}

    return {
        "bytes": lambda: {"data": b"payload bytes"},
        "text": lambda: {"data": "payload text"},
        "json": lambda: {"json": {"a": [1, 2, 3]}},
        "form": lambda: {"data": {"field": "value", "other": "x y"}},
        "bytesio": lambda: {"data": io.BytesIO(b"from memory")},
        "file": lambda: {"data": path.open("rb")},
        "multipart": multipart,
    }


@pytest.mark.parametrize("kind", ["bytes", "text", "json", "form", "bytesio", "file", "multipart"])
async def test_post_with_methods_none_replays_its_body(
    web_server: WebServer, tmp_path: Path, kind: str
) -> None:
    app, url = await serve(web_server, post=[Reply(503), Reply(200)])
    kwargs = bodies(tmp_path)[kind]()
    async with (
        airhttp.ClientSession(middlewares=(no_jitter(methods=None),)) as session,
        session.post(url / "post", **kwargs) as resp,
    ):
        assert resp.status == 200
    sent = [seen.body for seen in app.seen]
    assert len(sent) == 2
    assert sent[0] == sent[1] and sent[0]
    if kind == "json":
        assert json.loads(sent[0]) == {"a": [1, 2, 3]}
    if kind == "file":
        assert sent[0] == (tmp_path / "upload.bin").read_bytes()


async def test_a_seekable_file_is_replayed_from_where_it_stood(
    web_server: WebServer, tmp_path: Path
) -> None:
    app, url = await serve(web_server, post=[Reply(503), Reply(200)])
    path = tmp_path / "data.txt"
    path.write_bytes(b"skip:the rest")
    with path.open("rb") as file:
        file.seek(5)
        async with (
            airhttp.ClientSession(middlewares=(no_jitter(methods=None),)) as session,
            session.post(url / "post", data=file) as resp,
        ):
            assert resp.status == 200
    assert [seen.body for seen in app.seen] == [b"the rest", b"the rest"]


async def test_an_upload_cut_short_by_an_early_answer_is_sent_again_whole(
    raw_server: RawServer, tmp_path: Path
) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(4_000_000))
    received: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if raw_server.connections == 1:
            await reader.readuntil(b"\r\n\r\n")
            # Answers before reading the body, then stops reading and hangs up.
            writer.write(b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
            return
        request = await read_request(reader)
        received.append(request.partition(b"\r\n\r\n")[2])
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    url = await raw_server.start(handler)
    with path.open("rb") as file:
        async with (
            airhttp.ClientSession(middlewares=(no_jitter(methods=None),)) as session,
            session.post(url, data=file) as resp,
        ):
            assert resp.status == 200
    assert received == [path.read_bytes()]


async def test_an_async_generator_body_is_not_retried(web_server: WebServer) -> None:
    app, url = await serve(web_server, post=[Reply(503), Reply(200)])

    async def chunks() -> AsyncIterator[bytes]:
        yield b"one "
        yield b"time"

    retry = no_jitter(methods=None)
    async with (
        airhttp.ClientSession(middlewares=(retry,)) as session,
        session.post(url / "post", data=chunks()) as resp,
    ):
        assert resp.status == 503
    assert [seen.body for seen in app.seen] == [b"one time"]
    assert retry.delays == []


async def test_a_non_seekable_stream_is_not_retried(web_server: WebServer) -> None:
    app, url = await serve(web_server, post=[Reply(503), Reply(200)])
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"piped")
    os.close(write_fd)
    retry = no_jitter(methods=None)
    with open(read_fd, "rb") as pipe:
        async with (
            airhttp.ClientSession(middlewares=(retry,)) as session,
            session.post(url / "post", data=pipe) as resp,
        ):
            assert resp.status == 503
    assert [seen.body for seen in app.seen] == [b"piped"]
    assert retry.delays == []


def test_which_bodies_can_be_sent_again(tmp_path: Path) -> None:
    from airhttp import payload

    async def chunks() -> AsyncIterator[bytes]:
        yield b""

    assert body_replayable(b"")
    assert body_replayable(payload.BytesPayload(b"x"))
    assert body_replayable(payload.BytesIOPayload(io.BytesIO(b"x")))
    generator = chunks()
    assert not body_replayable(payload.AsyncIterablePayload(generator))
    read_fd, write_fd = os.pipe()
    os.close(write_fd)
    with open(read_fd, "rb") as pipe:
        assert not body_replayable(payload.BufferedReaderPayload(pipe))
    writer = airhttp.MultipartWriter()
    writer.append(b"in memory")
    assert body_replayable(writer)
    writer.append_payload(payload.AsyncIterablePayload(chunks()))
    assert not body_replayable(writer)


# --- waits: backoff, jitter, Retry-After ------------------------------------------------


def test_backoff_grows_by_its_factor_up_to_its_cap() -> None:
    retry = RetryMiddleware(backoff=0.5, backoff_factor=3, backoff_max=10, jitter=False)
    assert [retry.backoff_delay(n) for n in range(1, 6)] == [0.5, 1.5, 4.5, 10, 10]
    assert retry.backoff_delay(100_000) == 10  # no overflow for a huge retry number


def test_full_jitter_draws_within_zero_and_the_backoff() -> None:
    retry = RetryMiddleware(backoff=1, backoff_factor=2, backoff_max=5)
    for n, ceiling in ((1, 1), (2, 2), (3, 4), (4, 5), (9, 5)):
        samples = [retry.backoff_delay(n) for _ in range(300)]
        assert all(0 <= sample <= ceiling for sample in samples)
        # Spread over the range, not one fixed value.
        assert min(samples) < ceiling * 0.25 and max(samples) > ceiling * 0.75


async def test_retry_after_seconds_is_honoured(web_server: WebServer) -> None:
    _, url = await serve(
        web_server, busy=[Reply(429, {"Retry-After": "7"}), Reply(503, {"Retry-After": "0"})]
    )
    retry = no_jitter(attempts=3)
    async with (
        airhttp.ClientSession(middlewares=(retry,)) as session,
        session.get(url / "busy") as resp,
    ):
        assert resp.status == 503
    assert retry.delays == [7.0, 0.0]


async def test_retry_after_http_date_is_honoured(web_server: WebServer) -> None:
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=20)
    past = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
    _, url = await serve(
        web_server,
        busy=[
            Reply(503, {"Retry-After": email.utils.format_datetime(later, usegmt=True)}),
            Reply(503, {"Retry-After": email.utils.format_datetime(past, usegmt=True)}),
            Reply(200),
        ],
    )
    retry = no_jitter()
    async with (
        airhttp.ClientSession(middlewares=(retry,)) as session,
        session.get(url / "busy") as resp,
    ):
        assert resp.status == 200
    assert 17 <= retry.delays[0] <= 20
    assert retry.delays[1] == 0


async def test_an_unusable_retry_after_falls_back_to_backoff(web_server: WebServer) -> None:
    _, url = await serve(web_server, busy=[Reply(503, {"Retry-After": "soon"}), Reply(200)])
    retry = no_jitter()
    async with (
        airhttp.ClientSession(middlewares=(retry,)) as session,
        session.get(url / "busy") as resp,
    ):
        assert resp.status == 200
    assert retry.delays == [0.5]


async def test_retry_after_can_be_ignored_or_unbounded(web_server: WebServer) -> None:
    _, url = await serve(web_server, busy=[Reply(503, {"Retry-After": "3600"})])
    ignoring = no_jitter(attempts=2, respect_retry_after=False)
    unbounded = no_jitter(attempts=2, retry_after_max=None)
    # Without a total timeout: the default one (300 s) leaves no time for an hour's wait.
    timeout = airhttp.ClientTimeout(total=None)
    for retry, expected in ((ignoring, [0.5]), (unbounded, [3600.0])):
        async with (
            airhttp.ClientSession(middlewares=(retry,), timeout=timeout) as session,
            session.get(url / "busy") as resp,
        ):
            assert resp.status == 503
        assert retry.delays == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("0", 0.0),
        ("-1", None),
        ("1.5", None),
        ("\u00b2", None),  # a superscript digit is no DIGIT
        ("", None),
        ("tomorrow", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 10.0),
        ("Wednesday, 21-Oct-15 07:28:00 GMT", 10.0),
        ("Wed Oct 21 07:28:00 2015", 10.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    now = datetime.datetime(2015, 10, 21, 7, 27, 50, tzinfo=datetime.timezone.utc)
    assert parse_retry_after(value, now) == expected


# --- visibility: logs, tracing, the callback ---------------------------------------------


async def test_each_retry_is_logged(
    web_server: WebServer, caplog: pytest.LogCaptureFixture
) -> None:
    _, url = await serve(web_server, flaky=[Reply(503), Reply(200)])
    with caplog.at_level(logging.INFO, logger="airhttp.client"):
        async with (
            airhttp.ClientSession(middlewares=(no_jitter(),)) as session,
            session.get(url / "flaky") as resp,
        ):
            assert resp.status == 200
    records = [r for r in caplog.records if r.name == "airhttp.client"]
    assert len(records) == 1
    assert records[0].levelno == logging.INFO
    message = records[0].getMessage()
    assert message == (
        f"Retrying GET {url / 'flaky'} in 0.50 s (attempt 2 of 3) after 503 Service Unavailable"
    )


async def test_a_retried_exception_is_logged_with_its_type(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = refused_port()
    with caplog.at_level(logging.INFO, logger="airhttp.client"):
        async with airhttp.ClientSession(middlewares=(no_jitter(attempts=2),)) as session:
            with pytest.raises(ClientConnectorError):
                await session.get(f"http://127.0.0.1:{port}/")
    retried, gave_up = [r.getMessage() for r in caplog.records if r.name == "airhttp.client"]
    assert "(attempt 2 of 2) after ClientConnectorError: " in retried
    assert gave_up.startswith(
        f"Giving up on GET http://127.0.0.1:{port}/ after ClientConnectorError"
    )
    assert gave_up.endswith(": that was attempt 2 of 2")


async def test_each_retry_fires_on_request_retry_and_each_attempt_its_own_signals(
    web_server: WebServer,
) -> None:
    _, url = await serve(web_server, flaky=[Reply(503), Reply(502), Reply(200)])
    retries: list[tuple[Any, TraceRequestRetryParams]] = []
    heads: list[str] = []
    config = TraceConfig()

    async def on_retry(session: Any, ctx: Any, params: TraceRequestRetryParams) -> None:
        retries.append((ctx, params))

    async def on_headers(session: Any, ctx: Any, params: Any) -> None:
        heads.append(params.method)

    config.on_request_retry.append(on_retry)
    config.on_request_headers_sent.append(on_headers)
    async with (
        airhttp.ClientSession(middlewares=(no_jitter(),), trace_configs=[config]) as session,
        session.get(url / "flaky", trace_request_ctx={"id": 7}) as resp,
    ):
        assert resp.status == 200
    assert heads == ["GET", "GET", "GET"]
    assert [(p.attempt, p.delay, p.response.status) for _, p in retries] == [  # type: ignore[union-attr]
        (2, 0.5, 503),
        (3, 1.0, 502),
    ]
    assert all(p.exception is None and p.url == url / "flaky" for _, p in retries)
    # The request's own context: the one every other signal of this call gets.
    assert {ctx.trace_request_ctx["id"] for ctx, _ in retries} == {7}


async def test_on_retry_may_be_a_coroutine_function(web_server: WebServer) -> None:
    _, url = await serve(web_server, flaky=[Reply(503), Reply(200)])
    events: list[RetryEvent] = []

    async def on_retry(event: RetryEvent) -> None:
        await asyncio.sleep(0)
        events.append(event)

    async with (
        airhttp.ClientSession(middlewares=(no_jitter(on_retry=on_retry),)) as session,
        session.get(url / "flaky") as resp,
    ):
        assert resp.status == 200
    (event,) = events
    assert (event.attempt, event.delay, event.exception) == (2, 0.5, None)
    assert event.request.url == url / "flaky"
    assert event.response is not None and event.response.status == 503


# --- with the rest of the chain: redirects, Digest auth ----------------------------------


async def test_each_redirect_hop_is_retried_on_its_own(web_server: WebServer) -> None:
    app, url = await serve(
        web_server,
        start=[Reply(503), Reply(302, {"Location": "/flaky"})],
        flaky=[Reply(503), Reply(200, body=b"there")],
    )
    retry = no_jitter()
    async with (
        airhttp.ClientSession(middlewares=(retry,)) as session,
        session.get(url / "start") as resp,
    ):
        assert await resp.read() == b"there"
        assert [r.status for r in resp.history] == [302]
    assert [seen.path for seen in app.seen] == ["/start", "/start", "/flaky", "/flaky"]
    assert retry.delays == [0.5, 0.5]


CHALLENGE = 'Digest realm="test", nonce="abc123", qop="auth", algorithm=MD5'


@pytest.mark.parametrize("retry_first", [True, False])
async def test_works_together_with_digest_auth(web_server: WebServer, retry_first: bool) -> None:
    busy = [True]  # the first authorized request finds the server busy

    async def handler(request: web.Request) -> web.Response:
        if not request.headers.get("Authorization", "").startswith("Digest "):
            return web.Response(status=401, headers={"WWW-Authenticate": CHALLENGE})
        if busy:
            busy.pop()
            return web.Response(status=503)
        return web.Response(text="secret")

    app = web.Application()
    app.router.add_get("/", handler)
    url = await web_server.start(app)
    retry = no_jitter()
    digest = DigestAuthMiddleware("user", "pass")
    chain = (retry, digest) if retry_first else (digest, retry)
    async with (
        airhttp.ClientSession(middlewares=chain) as session,
        session.get(url) as resp,
    ):
        assert resp.status == 200
        assert await resp.text() == "secret"
    assert len(retry.delays) == 1


# --- arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"attempts": 0},
        {"backoff": -1},
        {"backoff_max": -1},
        {"backoff_factor": 0.5},
        {"retry_after_max": -1},
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        RetryMiddleware(**kwargs)


def test_the_defaults_are_the_documented_ones() -> None:
    assert frozenset({429, 502, 503, 504}) == DEFAULT_STATUSES
    assert frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) == DEFAULT_METHODS
    assert ServerDisconnectedError in DEFAULT_EXCEPTIONS
    assert not any(issubclass(ClientResponseError, exc) for exc in DEFAULT_EXCEPTIONS)
    assert airhttp.RetryMiddleware is RetryMiddleware

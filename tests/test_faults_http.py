"""Fault injection over HTTP: a raw server breaks each phase of one exchange.

Every case runs over real loopback sockets and checks four things: the documented
exception (exact class, and the message where aiohttp has a fixed one), nothing left on
the loop (the autouse fixture of conftest.py), the next request on the same session
working, and whether the faulty connection was reused (it never is). aiohttp runs the
same fault on a connection of its own as a black-box oracle.

Covered here: a refused connection; closes and TCP resets before the head, in the head and
at each point of a Content-Length or chunked body; answers that come before the request
body was read; extra bytes after a response (a second response, a body longer than its
Content-Length); floods of interim 1xx responses; heads over the size limits; a server
that answers and closes while a streamed body is still being uploaded. Stalls, timeouts and
slow servers are in tests/test_faults_http_timing.py.

Covered elsewhere and not repeated: a head cut short (tests/test_refusals.py), a close
without reply, a short Content-Length body and a cut chunked body in their simplest form
(tests/test_client_e2e.py), the stale keep-alive retry (tests/test_stale_connection.py).
"""

from __future__ import annotations

import asyncio
import errno
import io
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

import airhttp
from airhttp import (
    ClientConnectorError,
    ClientOSError,
    ClientPayloadError,
    ClientResponseError,
    ServerDisconnectedError,
)

from .conftest import RawServer, read_request
from .fault_support import (
    CHUNKS_CUT,
    DISCONNECTED,
    LENGTH_CUT,
    OK,
    RESET,
    Fault,
    Outcome,
    Scripted,
    aiohttp_attempt,
    answer,
    assert_next_request_works,
    attempt,
    faulty_connections,
    guarded_session,
    serve_ok,
)
from .tcp_support import refused_port

CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
LENGTH_HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"


# --- the fault table: the connection dies at one point of the exchange -----------------


async def half_close_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write_eof()  # FIN before the request was even read
    await reader.read()


@dataclass(frozen=True)
class Case:
    fault: Fault
    raises: type[Exception]
    stage: str  # "head": raised by the request; "body": raised by read()
    message: str
    prefix: bool = False  # `message` starts the text rather than being all of it


CASES: dict[str, Case] = {
    "FIN at once": Case(half_close_at_once, ServerDisconnectedError, "head", DISCONNECTED),
    "reads the request, closes": Case(answer(b""), ServerDisconnectedError, "head", DISCONNECTED),
    "close inside a Content-Length body": Case(
        answer(LENGTH_HEAD + b"hello"), ClientPayloadError, "body", LENGTH_CUT, prefix=True
    ),
    "close inside a chunk-size line": Case(
        answer(CHUNKED_HEAD + b"5\r\nhello\r\n1"), ClientPayloadError, "body", CHUNKS_CUT
    ),
    "close inside a chunk's data": Case(
        answer(CHUNKED_HEAD + b"5\r\nhel"), ClientPayloadError, "body", CHUNKS_CUT
    ),
    "close before a chunk's CRLF": Case(
        answer(CHUNKED_HEAD + b"5\r\nhello"), ClientPayloadError, "body", CHUNKS_CUT
    ),
    "close between chunks": Case(
        answer(CHUNKED_HEAD + b"5\r\nhello\r\n"), ClientPayloadError, "body", CHUNKS_CUT
    ),
    "close after the last chunk": Case(
        answer(CHUNKED_HEAD + b"5\r\nhello\r\n0\r\n"), ClientPayloadError, "body", CHUNKS_CUT
    ),
    "close inside the trailers": Case(
        answer(CHUNKED_HEAD + b"5\r\nhello\r\n0\r\nX-Trailer: 1\r\n"),
        ClientPayloadError,
        "body",
        CHUNKS_CUT,
    ),
    "RST before the head": Case(answer(b"", then="reset"), ClientOSError, "head", RESET),
    "RST inside the head": Case(
        answer(b"HTTP/1.1 200 OK\r\nContent-Le", then="reset"), ClientOSError, "head", RESET
    ),
    "RST inside a Content-Length body": Case(
        answer(LENGTH_HEAD + b"hello", then="reset"),
        ClientPayloadError,
        "body",
        LENGTH_CUT,
        prefix=True,
    ),
    "RST between chunks": Case(
        answer(CHUNKED_HEAD + b"5\r\nhello\r\n", then="reset"),
        ClientPayloadError,
        "body",
        CHUNKS_CUT,
        prefix=True,  # aiohttp appends ". ConnectionResetError(...)"
    ),
}


def assert_fails_as(outcome: Outcome, case: Case, *, exact_class: bool) -> None:
    err = outcome.error
    assert err is not None, f"no error: {outcome}"
    if exact_class:
        assert type(err) is case.raises, repr(err)
    else:  # the oracle: aiohttp's class of the same name
        assert type(err).__name__ == case.raises.__name__, repr(err)
    assert outcome.stage == case.stage
    if case.prefix:
        assert outcome.message().startswith(case.message), outcome.message()
    else:
        assert outcome.message() == case.message
    if isinstance(err, OSError) and not isinstance(err, TimeoutError):
        assert err.errno == errno.ECONNRESET


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_fault_table(raw_server: RawServer, case: Case) -> None:
    faulty = faulty_connections(case.raises, case.stage)
    script = Scripted(case.fault, faulty)
    url = await raw_server.start(script)
    async with guarded_session() as session:
        outcome = await attempt(session, url)
        assert_fails_as(outcome, case, exact_class=True)
        assert isinstance(outcome.error, airhttp.ClientError)
        if case.stage == "body":
            assert outcome.status == 200
        await assert_next_request_works(session, url)
    assert script.connections == faulty + 1  # no faulty connection was reused
    assert_fails_as(await aiohttp_attempt(raw_server, case.fault), case, exact_class=False)


async def test_connection_refused_is_a_connector_error(raw_server: RawServer) -> None:
    port = refused_port()
    refused = f"http://127.0.0.1:{port}/"
    message = f"Cannot connect to host 127.0.0.1:{port} ssl:default [Connect call failed "
    message += f"('127.0.0.1', {port})]"
    url = await raw_server.start(serve_ok)
    async with guarded_session() as session:
        with pytest.raises(ClientConnectorError) as info:
            await session.get(refused)
        await assert_next_request_works(session, url)
    err = info.value
    assert type(err) is ClientConnectorError
    assert isinstance(err.os_error, ConnectionRefusedError)
    assert err.errno == errno.ECONNREFUSED
    assert (err.host, err.port) == ("127.0.0.1", port)
    assert str(err) == message
    async with aiohttp.ClientSession() as oracle:
        with pytest.raises(aiohttp.ClientConnectorError) as theirs:
            await oracle.get(refused)
    assert str(theirs.value) == message
    assert theirs.value.errno == errno.ECONNREFUSED


async def test_a_close_at_once_is_a_reset_or_a_disconnection(raw_server: RawServer) -> None:
    # The close races the request on the wire: if the request is already in the server's
    # socket, the kernel answers it with a RST (what loopback shows, for aiohttp too), else
    # the client sees the FIN first. Either way a ClientConnectionError, never a hang.
    async def close_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        return

    script = Scripted(close_at_once, faulty=2)  # the retry meets it too
    url = await raw_server.start(script)
    async with guarded_session() as session:
        outcome = await attempt(session, url)
        await assert_next_request_works(session, url)
    assert outcome.stage == "head"
    err = outcome.error
    if isinstance(err, ClientOSError):
        assert type(err) is ClientOSError
        assert (err.errno, str(err)) == (errno.ECONNRESET, RESET)
    else:
        assert type(err) is ServerDisconnectedError, repr(err)
    assert script.connections == 3
    theirs = (await aiohttp_attempt(raw_server, close_at_once)).error
    assert type(theirs).__name__ in ("ClientOSError", "ServerDisconnectedError"), repr(theirs)


# --- the server answers before it read the request body --------------------------------


BIG = 8 << 20


@pytest.mark.filterwarnings("ignore:Sending a large body directly:ResourceWarning")
@pytest.mark.parametrize("as_file", [False, True], ids=["bytes", "BytesIO"])
@pytest.mark.parametrize("close", [True, False], ids=["Connection: close", "keep-alive"])
@pytest.mark.parametrize("status", [413, 401])
async def test_an_answer_before_the_body_was_read_is_returned(
    raw_server: RawServer, status: int, close: bool, as_file: bool
) -> None:
    stop = asyncio.Event()
    heads: list[bytes] = []

    async def early(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await reader.readuntil(b"\r\n\r\n"))
        extra = b"Connection: close\r\n" if close else b""
        writer.write(b"HTTP/1.1 %d Nope\r\nContent-Length: 4\r\n%s\r\nnope" % (status, extra))
        await writer.drain()
        await stop.wait()  # never reads the 8 MiB, never closes by itself

    def body() -> bytes | io.BytesIO:
        return io.BytesIO(b"x" * BIG) if as_file else b"x" * BIG

    script = Scripted(early)
    url = await raw_server.start(script)
    async with guarded_session() as session:
        started = time.monotonic()
        outcome = await attempt(session, url, method="POST", data=body())
        assert time.monotonic() - started < 1.0  # not waiting for the upload to drain
        assert (outcome.stage, outcome.status, outcome.body) == ("done", status, b"nope"), repr(
            outcome.error
        )
        await assert_next_request_works(session, url)
    assert script.connections == 2  # the half-sent body rules the connection out
    assert b"Content-Length: %d\r\n" % BIG in heads[0]
    theirs = await aiohttp_attempt(raw_server, early, method="POST", data=body())
    stop.set()
    assert (theirs.stage, theirs.status, theirs.body) == ("done", status, b"nope")


# --- bytes after the end of a response -------------------------------------------------

SECOND = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nextra"


def after_response(extra: bytes, *, later: bool, released: asyncio.Event) -> Fault:
    """Answer "ok" followed by `extra`: in the same write, or once the client let go of
    the response; then go on serving the connection, in case the client reuses it."""

    async def fault(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        if later:
            writer.write(OK)
            await writer.drain()
            await released.wait()
            writer.write(extra)
        else:
            writer.write(OK + extra)
        await writer.drain()
        await serve_ok(reader, writer)

    return fault


async def run_extra_bytes_case(raw_server: RawServer, extra: bytes, later: bool) -> None:
    released = asyncio.Event()
    script = Scripted(after_response(extra, later=later, released=released))
    url = await raw_server.start(script)
    async with guarded_session() as session:
        first = await attempt(session, url)
        released.set()
        await asyncio.sleep(0.05)  # the extra bytes reach the idle connection
        assert (first.stage, first.body) == ("done", b"ok")
        # Were the connection reused, `extra` would be read as this answer.
        await assert_next_request_works(session, url)
        await assert_next_request_works(session, url)
    assert script.connections == 2


@pytest.mark.parametrize("later", [False, True], ids=["same write", "later write"])
async def test_a_second_response_to_one_request_is_never_read_as_the_next(
    raw_server: RawServer, later: bool
) -> None:
    await run_extra_bytes_case(raw_server, SECOND, later)
    if not later:
        # aiohttp agrees in the same write. In a later write it reuses the connection and
        # returns the stray "extra" as the next request's answer (aiohttp 3.14.5).
        released = asyncio.Event()
        released.set()
        fault = after_response(SECOND, later=False, released=released)
        theirs = await aiohttp_attempt(raw_server, fault)
        assert (theirs.stage, theirs.body) == ("done", b"ok")


@pytest.mark.parametrize("later", [False, True], ids=["same write", "later write"])
async def test_a_body_longer_than_its_content_length_gives_the_declared_bytes(
    raw_server: RawServer, later: bool
) -> None:
    # aiohttp fails the request itself (ClientResponseError 400, "Bad status line" on
    # "okgarbage") when the extra arrives in the same read; airhttp returning the
    # declared body and dropping the connection is intended.
    await run_extra_bytes_case(raw_server, b"garbage", later)


# --- interim 1xx responses --------------------------------------------------------------


@pytest.mark.parametrize(
    "interim",
    [b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"],
    ids=["100", "103"],
)
async def test_fifty_interim_responses_then_the_final_one(
    raw_server: RawServer, interim: bytes
) -> None:
    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(interim * 50 + OK)
        await serve_ok(reader, writer)

    script = Scripted(flood)
    url = await raw_server.start(script)
    async with guarded_session() as session:
        outcome = await attempt(session, url)
        assert (outcome.stage, outcome.status, outcome.body) == ("done", 200, b"ok")
        await assert_next_request_works(session, url)
    assert script.connections == 1  # a sound exchange: the connection was reused
    theirs = await aiohttp_attempt(raw_server, flood)
    assert (theirs.stage, theirs.status, theirs.body) == ("done", 200, b"ok")


# --- heads over the limits --------------------------------------------------------------

MEGABYTE = 1 << 20
HUGE_HEADS = {
    "status line over max_line_size": b"HTTP/1.1 200 " + b"O" * 9000 + b"\r\n",
    "field over max_field_size": b"HTTP/1.1 200 OK\r\nX-Big: " + b"v" * 9000 + b"\r\n",
    "max_headers + 1 fields": b"HTTP/1.1 200 OK\r\n"
    + b"".join(b"X-%d: v\r\n" % i for i in range(129)),
}


class HeadFlood:
    """Sends a head that breaks a limit; "endless" streams 1 MB of 'a' without a CRLF."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.written = 0
        self.finished = False

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        if self.kind == "endless":
            writer.write(b"HTTP/1.1 200 OK\r\nX-Long: ")
            while self.written < MEGABYTE:
                writer.write(b"a" * 1024)
                self.written += 1024
                await writer.drain()  # fails once the client has hung up
                await asyncio.sleep(0)
        else:
            writer.write(HUGE_HEADS[self.kind] + b"Content-Length: 2\r\n\r\nok")
            await writer.drain()
        self.finished = True
        await reader.read()


@pytest.mark.parametrize("kind", [*HUGE_HEADS, "endless"])
async def test_a_head_over_the_limits_is_a_bad_response(raw_server: RawServer, kind: str) -> None:
    flood = HeadFlood(kind)
    script = Scripted(flood)
    url = await raw_server.start(script)
    async with guarded_session() as session:
        outcome = await attempt(session, url)
        finished_then = flood.finished
        await assert_next_request_works(session, url)
    assert type(outcome.error) is ClientResponseError
    assert (outcome.stage, outcome.error.status) == ("head", 400)
    assert script.connections == 2
    if kind == "endless":
        assert not finished_then  # refused while the server was still sending
        assert flood.written < MEGABYTE // 4
    theirs = await aiohttp_attempt(raw_server, HeadFlood(kind))
    assert isinstance(theirs.error, aiohttp.ClientResponseError)
    assert theirs.error.status == 400
    assert outcome.message() == theirs.message()


# --- the server answers and closes while a streamed body is being uploaded -------------


class Upload:
    """An async generator body of up to 8 MiB that records how far it got."""

    def __init__(self) -> None:
        self.chunks = 0
        self.closed = False

    async def body(self) -> AsyncIterator[bytes]:
        try:
            while self.chunks < 128:
                self.chunks += 1
                yield b"x" * 65536
                await asyncio.sleep(0.001)
        finally:
            self.closed = True


@pytest.mark.parametrize("answers", [True, False], ids=["413 then close", "close, no answer"])
async def test_a_close_during_a_streamed_upload(raw_server: RawServer, answers: bool) -> None:
    async def cut_upload(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await reader.read(65536)  # some of the body, then no more
        if answers:
            writer.write(b"HTTP/1.1 413 Too Large\r\nContent-Length: 3\r\n\r\nnah")
            await writer.drain()

    script = Scripted(cut_upload)
    url = await raw_server.start(script)
    upload = Upload()
    async with guarded_session() as session:
        outcome = await attempt(session, url, method="POST", data=upload.body())
        for _ in range(3):
            await asyncio.sleep(0)
        assert upload.closed  # the upload ended with the exchange
        assert upload.chunks < 16
        await assert_next_request_works(session, url)
    assert script.connections == 2
    theirs = await aiohttp_attempt(raw_server, cut_upload, method="POST", data=Upload().body())
    if answers:
        assert (outcome.stage, outcome.status, outcome.body) == ("done", 413, b"nah")
        assert (theirs.stage, theirs.status, theirs.body) == ("done", 413, b"nah")
    else:
        assert type(outcome.error) is ServerDisconnectedError
        assert (outcome.stage, outcome.message()) == ("head", DISCONNECTED)
        assert (theirs.stage, type(theirs.error).__name__) == ("head", "ServerDisconnectedError")

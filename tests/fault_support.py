"""Scaffolding for the HTTP fault-injection tests (tests/test_faults_http*.py).

A `Scripted` handler plays one fault on the first connection a client opens and answers
"ok" on every later one, so a test can check that the next request on the same session
works and whether the faulty connection was reused. `attempt` runs one request through
an airhttp or an aiohttp session and records where it ended, so aiohttp can be asked the
same question as a black-box oracle.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

import airhttp
from airhttp import ClientOSError, ServerDisconnectedError

from .conftest import RawServer, read_request

Fault = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
# A guard against hangs: a fault case that needs more than this has failed anyway.
GUARD = 5.0

# aiohttp's fixed messages (the same in airhttp).
DISCONNECTED = "Server disconnected"
RESET = f"[Errno {errno.ECONNRESET}] {os.strerror(errno.ECONNRESET)}"
SOCK_READ = "Timeout on reading data from socket"
NOT_COMPLETED = "Response payload is not completed: "
CHUNKS_CUT = (
    NOT_COMPLETED + "<TransferEncodingError: 400, "
    "message='Not enough data to satisfy transfer length header.'>"
)
# aiohttp 3.14 adds "(received 5 of 10 bytes)" and, after a reset, the OSError; airhttp
# ends the sentence there (parser wording is its own, docs/migrating.md): a prefix.
LENGTH_CUT = (
    NOT_COMPLETED
    + "<ContentLengthError: 400, message='Not enough data to satisfy content length header"
)


async def serve_ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer every request on this connection with "ok" until the client leaves."""
    while True:
        try:
            await read_request(reader)
        except asyncio.IncompleteReadError:
            return
        writer.write(OK)
        await writer.drain()


class Scripted:
    """A raw-server handler: the first `faulty` connections play `fault`, later ones
    answer "ok".

    It counts its own connections, so one RawServer can serve a script per client.
    """

    def __init__(self, fault: Fault, faulty: int = 1) -> None:
        self.fault = fault
        self.faulty = faulty
        self.connections = 0

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.connections <= self.faulty:
            await self.fault(reader, writer)
        else:
            await serve_ok(reader, writer)


def faulty_connections(raises: type[BaseException], stage: str) -> int:
    """How many connections a fault must spoil to reach the caller: a request that failed
    before its head with one of these is sent once more (docs/pooling.md)."""
    retried = stage == "head" and issubclass(raises, (ServerDisconnectedError, ClientOSError))
    return 2 if retried else 1


def reset(writer: asyncio.StreamWriter) -> None:
    """Drop the connection with a TCP RST: linger on, zero seconds, then close."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def answer(data: bytes, *, then: str = "close") -> Fault:
    """A fault that reads the request, sends `data`, then closes ("close") or resets."""

    async def fault(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        if data:
            writer.write(data)
            await writer.drain()
        if then == "reset":
            if data:
                await asyncio.sleep(0.03)  # the client takes what was sent first
            reset(writer)
        # "close": the RawServer wrapper closes the connection once this returns

    return fault


@dataclass
class Outcome:
    """How one request ended: `stage` "head" (raised by the request), "body" (raised by
    read()) or "done" (no error)."""

    stage: str
    error: BaseException | None = None
    status: int | None = None
    body: bytes = b""

    def message(self) -> str:
        err = self.error
        assert err is not None, f"no error: {self}"
        # ClientResponseError's str() adds the URL, whose port differs per server.
        return err.message if hasattr(err, "status") else str(err)  # type: ignore[attr-defined]


async def attempt(
    session: Any, url: URL | str, *, method: str = "GET", data: Any = None, **kwargs: Any
) -> Outcome:
    """Run one request through an airhttp or aiohttp session and read its whole body."""
    stage, status = "head", None
    try:
        async with session.request(method, url, data=data, **kwargs) as resp:
            stage, status = "body", resp.status
            body = await resp.read()
    except Exception as exc:
        return Outcome(stage, exc, status)
    return Outcome("done", None, status, body)


async def aiohttp_attempt(
    raw_server: RawServer, fault: Fault, timeout: Any = None, **kwargs: Any
) -> Outcome:
    """The same fault asked of aiohttp as a black box, on fresh connections.

    Both clients send an idempotent request once more on a fresh connection after a
    ServerDisconnectedError or ClientOSError, even when the first connection was fresh
    too (docs/pooling.md): the retry meets the fault as well.
    """
    url = await raw_server.start(Scripted(fault, faulty=2))
    timeout = timeout or aiohttp.ClientTimeout(total=GUARD)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        return await attempt(session, url, **kwargs)


async def assert_next_request_works(session: airhttp.ClientSession, url: URL | str) -> None:
    async with session.get(url) as resp:
        assert resp.status == 200
        assert await resp.read() == b"ok"


def guarded_session(**kwargs: Any) -> airhttp.ClientSession:
    """An airhttp session whose total timeout turns a hang into a quick failure."""
    kwargs.setdefault("timeout", airhttp.ClientTimeout(total=GUARD))
    return airhttp.ClientSession(**kwargs)

"""A fake transport and feeding helpers for driving ResponseHandler without sockets.

Test scaffolding only: nothing here opens a socket, starts a task or schedules a timer.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from airhttp import client_proto
from airhttp._settings import DEFAULT_SETTINGS, RequestSettings
from airhttp._timeouts import ClientTimeout
from airhttp.client_proto import ResponseHandler
from airhttp.streams import StreamReader


class FakeTransport(asyncio.Transport):
    """Records what the protocol asks of it; never calls back into the protocol."""

    def __init__(self, extra: dict[str, Any] | None = None) -> None:
        super().__init__(extra)
        self.extra: dict[str, Any] = extra or {}
        self.writes: list[bytes] = []
        self.reading = True
        self.pauses = 0
        self.resumes = 0
        self.closed = False
        self.aborted = False

    def get_write_buffer_size(self) -> int:
        return 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def pause_reading(self) -> None:
        self.pauses += 1
        self.reading = False

    def resume_reading(self) -> None:
        self.resumes += 1
        self.reading = True

    def is_reading(self) -> bool:
        return self.reading

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.extra.get(name, default)


def connect(loop: asyncio.AbstractEventLoop) -> tuple[ResponseHandler, FakeTransport]:
    """A protocol already attached to a fresh fake transport."""
    protocol = ResponseHandler(loop)
    transport = FakeTransport({"peername": ("127.0.0.1", 8080)})
    protocol.connection_made(transport)
    return protocol, transport


def feed(protocol: ResponseHandler, data: bytes) -> None:
    """Deliver `data` the way a BufferedProtocol transport does: copy into get_buffer()."""
    while data:
        view = protocol.get_buffer(len(data))
        n = min(len(view), len(data))
        assert n > 0
        view[:n] = data[:n]
        data = data[n:]
        protocol.buffer_updated(n)


def settings(*, sock_read: float | None = None, **changes: Any) -> RequestSettings:
    """Request settings for one exchange: defaults, a sock_read timeout and `changes`."""
    return dataclasses.replace(
        DEFAULT_SETTINGS, timeout=ClientTimeout(sock_read=sock_read), **changes
    )


OK_HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n"


def ok(body: bytes, *extra: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\n" + b"".join(h + b"\r\n" for h in extra)
    return head + b"Content-Length: %d\r\n\r\n" % len(body) + body


def gzip_head(length: int) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % length


def spy_readers(monkeypatch: pytest.MonkeyPatch) -> list[StreamReader]:
    """Every StreamReader the protocol creates, in order."""
    made: list[StreamReader] = []

    def spy(*args: Any, **kwargs: Any) -> StreamReader:
        reader = StreamReader(*args, **kwargs)
        made.append(reader)
        return reader

    monkeypatch.setattr(client_proto, "StreamReader", spy)
    return made


def callback_counter() -> tuple[list[int], Callable[[], None]]:
    calls: list[int] = []
    return calls, lambda: calls.append(1)

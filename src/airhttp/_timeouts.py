"""Request timeouts: the public ClientTimeout value and the one timer each request runs.

A timeout fails the protocol's pending wait, or cancels a connect in progress; it
never reads or writes anything itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import weakref
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from ._pool import Connection

__all__ = ("DEFAULT_TIMEOUT", "ClientTimeout", "RequestTimer", "uncancel_current_task")


@dataclasses.dataclass(frozen=True)
class ClientTimeout:
    """Timeouts in seconds; None disables one. `total` covers the whole request."""

    total: float | None = None
    connect: float | None = None
    sock_read: float | None = None
    sock_connect: float | None = None
    ceil_threshold: float = 5


DEFAULT_TIMEOUT: Final = ClientTimeout(total=5 * 60, sock_connect=30)


class RequestTimer:
    """The one timer of a request: fails the lent connection's wait, or cancels the task.

    It holds the request's Connection lease, never the protocol itself: once the
    connection goes back to the pool the lease is empty, so a late timeout can never
    fail whichever request uses that protocol next. The lease is held weakly so that a
    response the user drops half-read can still be collected and give its slot back.
    """

    __slots__ = ("_connection", "_handle", "_task", "fired")

    def __init__(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        self._connection: weakref.ref[Connection] | None = None
        self._task = asyncio.current_task(loop)
        self.fired = False
        self._handle: asyncio.TimerHandle | None = loop.call_at(when, self._fire)

    def attach(self, connection: Connection) -> None:
        self._connection = weakref.ref(connection)

    def cancel(self) -> None:
        handle = self._handle
        if handle is not None:
            self._handle = None
            handle.cancel()

    def _fire(self) -> None:
        self._handle = None
        self.fired = True
        ref = self._connection
        connection = None if ref is None else ref()
        protocol = None if connection is None else connection.protocol
        if protocol is not None:
            protocol.fail(asyncio.TimeoutError())
        elif self._task is not None:
            self._task.cancel()


def uncancel_current_task() -> None:
    task = asyncio.current_task()
    if task is not None and sys.version_info >= (3, 11):
        task.uncancel()

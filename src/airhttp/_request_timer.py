"""The one timer each request runs for its total timeout.

A timeout fails the lent connection's pending wait, or cancels a connect in progress;
it never reads or writes anything itself.
"""

from __future__ import annotations

import asyncio
import sys
import weakref
from typing import TYPE_CHECKING

from .helpers import calculate_timeout_when

if TYPE_CHECKING:
    from ._pool import Connection
    from ._timeouts import ClientTimeout

__all__ = ("RequestTimer", "uncancel_current_task")


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

    @classmethod
    def start(cls, loop: asyncio.AbstractEventLoop, timeout: ClientTimeout) -> RequestTimer | None:
        """The timer for `timeout.total`, or None when the request has no total limit."""
        total = timeout.total
        if total is None:
            return None
        return cls(loop, calculate_timeout_when(loop.time(), total, timeout.ceil_threshold))

    def remaining(self) -> float:
        """Seconds until the timeout fires; 0 once it has fired or was cancelled."""
        handle = self._handle
        if handle is None:
            return 0.0
        return max(handle.when() - asyncio.get_running_loop().time(), 0.0)

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

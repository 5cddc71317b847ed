"""The one timer each request runs for its total timeout.

A timeout fails the lent connection's pending wait, or cancels a connect in progress;
it never reads or writes anything itself.
"""

from __future__ import annotations

import asyncio
import math
import sys
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._pool import Connection
    from ._timeouts import ClientTimeout

__all__ = ("RequestTimer", "SharedDeadlines")


class RequestTimer:
    """The one timer of a request: fails the lent connection's wait, or cancels the task.

    It holds the request's Connection lease, never the protocol itself: once the
    connection goes back to the pool the lease is empty, so a late timeout can never
    fail whichever request uses that protocol next. The lease is held weakly so that a
    response the user drops half-read can still be collected and give its slot back.
    """

    __slots__ = (
        "_cancelled_task",
        "_cancelling",
        "_connection",
        "_handle",
        "_shared",
        "_task",
        "fired",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._connection: weakref.ref[Connection] | None = None
        task = self._task = asyncio.current_task(loop)
        # The cancels already pending when the request began, as asyncio.timeout records.
        self._cancelling = 0
        if task is not None and sys.version_info >= (3, 11):
            self._cancelling = task.cancelling()
        self.fired = False
        self._cancelled_task = False
        self._handle: asyncio.TimerHandle | None = None
        self._shared: _SharedDeadline | None = None

    @classmethod
    def start(
        cls,
        loop: asyncio.AbstractEventLoop,
        timeout: ClientTimeout,
        deadlines: SharedDeadlines | None = None,
    ) -> RequestTimer | None:
        """The timer for `timeout.total`, or None when it is no limit (None, 0 or less).

        A timeout of `ceil_threshold` or more ends on a whole second; with `deadlines` given,
        it then shares that second's one loop timer with every other request ending then.
        """
        total = timeout.total
        if total is None or total <= 0:
            return None  # as aiohttp: only a positive total is a limit
        timer = cls(loop)
        when = loop.time() + total
        if total >= timeout.ceil_threshold:
            # Rounded up to a whole second from the threshold itself on, as aiohttp's
            # total timer does (helpers.calculate_timeout_when starts above it).
            when = math.ceil(when)
            if deadlines is not None:
                shared = timer._shared = deadlines.at(when)
                shared.timers.add(timer)
                return timer
        timer._handle = loop.call_at(when, timer._fire)
        return timer

    def remaining(self) -> float:
        """Seconds until the timeout fires; 0 once it has fired or was cancelled."""
        handle = self._handle
        shared = self._shared
        if handle is not None:
            when = handle.when()
        elif shared is not None:
            when = shared.when
        else:
            return 0.0
        return max(when - asyncio.get_running_loop().time(), 0.0)

    def attach(self, connection: Connection) -> None:
        self._connection = weakref.ref(connection)

    def cancel(self) -> None:
        shared = self._shared
        if shared is not None:
            self._shared = None
            shared.timers.discard(self)
            return
        handle = self._handle
        if handle is not None:
            self._handle = None
            handle.cancel()

    def take_back_cancel(self) -> bool:
        """Undo the task's cancel that the fired timeout stands for.

        True when that leaves no other cancel pending, so the CancelledError means the
        timeout alone; False when the task was also cancelled by someone else (in the same
        loop step), whose cancel must go on, as asyncio.timeout decides, or when the timer
        never cancelled the task (it failed the connection's wait).
        """
        task = self._task
        if task is None or not self._cancelled_task:
            # It failed the connection's wait instead: a CancelledError is someone else's.
            return False
        if sys.version_info < (3, 11):
            return True
        return task.uncancel() <= self._cancelling

    def _fire(self) -> None:
        self._handle = None
        self._shared = None
        self.fired = True
        ref = self._connection
        connection = None if ref is None else ref()
        protocol = None if connection is None else connection.protocol
        if protocol is not None:
            protocol.fail(asyncio.TimeoutError())
        elif self._task is not None:
            self._cancelled_task = True
            self._task.cancel()


class _SharedDeadline:
    """The one loop timer of every request timer that ends at `when` (a whole second)."""

    __slots__ = ("_deadlines", "_loop", "handle", "timers", "when")

    def __init__(self, deadlines: SharedDeadlines, loop: asyncio.AbstractEventLoop, when: float):
        self._deadlines = deadlines
        self._loop = loop
        self.when = when
        self.timers: set[RequestTimer] = set()
        self.handle = loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self._deadlines.forget(self.when)
        timers, self.timers = self.timers, set()
        for timer in timers:
            if timer._shared is not self:
                continue  # cancelled by an earlier timer's failure callbacks
            try:
                timer._fire()
            except Exception as exc:
                # Reported as the loop reports a failing callback, and the other
                # requests of this second still time out.
                self._loop.call_exception_handler(
                    {"message": "Exception in a request timeout", "exception": exc}
                )


class SharedDeadlines:
    """A session's request deadlines by whole second, one loop timer per second.

    Each request with a long total timeout joins the timer of the second it ends in and
    leaves it when it finishes, instead of scheduling and cancelling a timer of its own
    (a TimerHandle, a heap push and a cancel per request: ~12% of a small GET's own time
    under py-spy). An emptied second's timer is left to fire: the next request in the same
    second joins it again.
    """

    __slots__ = ("_by_when", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._by_when: dict[float, _SharedDeadline] = {}

    def at(self, when: float) -> _SharedDeadline:
        shared = self._by_when.get(when)
        if shared is None:
            shared = self._by_when[when] = _SharedDeadline(self, self._loop, when)
        return shared

    def __len__(self) -> int:
        """How many seconds have a timer scheduled."""
        return len(self._by_when)

    def forget(self, when: float) -> None:
        self._by_when.pop(when, None)

    def close(self) -> None:
        """Stop the timers no request is waiting on (the session is closing)."""
        for when, shared in list(self._by_when.items()):
            if not shared.timers:
                shared.handle.cancel()
                del self._by_when[when]

"""Flow control shared by every asyncio protocol of airhttp.

Tracks read pausing (asked for by a full StreamReader) and write pausing (told by
the transport) and lets writers wait for drain. No parsing and no pooling here.
"""

from __future__ import annotations

import asyncio
from typing import cast

__all__ = ("BaseProtocol",)


class BaseProtocol(asyncio.BufferedProtocol):
    """Write-side drain waiting and read-side pausing for one transport."""

    __slots__ = (
        "_connection_lost",
        "_drain_waiter",
        "_loop",
        "_lost_error",
        "_pause_due",
        "_paused",
        "_reading_paused",
        "_transport_paused",
        "transport",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._reading_paused = False
        # A pause asked for is applied one loop step later (see pause_reading).
        self._pause_due = False
        self._transport_paused = False
        self._connection_lost = False
        self._lost_error: BaseException | None = None
        self.transport: asyncio.Transport | None = None

    @property
    def writing_paused(self) -> bool:
        return self._paused

    @property
    def lost_error(self) -> BaseException | None:
        """What the connection died of; None while open or after a clean close."""
        return self._lost_error

    @property
    def reading_paused(self) -> bool:
        """True while a full reader has asked the transport to stop reading."""
        return self._reading_paused

    # --- write side: the transport tells us when its buffer is full ---------------

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        waiter = self._drain_waiter
        if waiter is not None:
            self._drain_waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def wait_for_drain(self) -> None:
        """Return once the transport accepts more data; raise if it is gone."""
        if self._connection_lost:
            raise ConnectionResetError("Connection lost")
        if not self._paused:
            return
        waiter = self._drain_waiter
        if waiter is None:
            waiter = self._loop.create_future()
            self._drain_waiter = waiter
        # Shared by every writer waiting: shielded so one cancelled writer does not cancel
        # the others. It only ever gets a result, so nothing is left unretrieved when all
        # of them are cancelled; a lost connection is reported here instead.
        await asyncio.shield(waiter)
        if self._connection_lost:
            raise self._lost_error or ConnectionResetError("Connection lost")

    # --- read side: a StreamReader asks us to stop and restart reading ------------

    # The flag follows the reader even without a transport: decoding of bytes already
    # received keeps honouring it after the connection is gone.
    def pause_reading(self) -> None:
        if not self._reading_paused:
            self._reading_paused = True
            if self.transport is not None and not self._pause_due:
                # Told to the transport one loop step later: the reader woken by the read
                # that filled it usually drains it in that step, and then the transport is
                # never paused and resumed (two epoll_ctl calls and a reader handle saved
                # per read on a download). asyncio's socket transport reads once per
                # step, so nothing more comes in before that; uvloop and asyncio's TLS
                # transport may read again at once, and then pause_due_now() pauses
                # it: at most one read more than asked for.
                self._pause_due = True
                self._loop.call_soon(self.pause_due_now)

    def pause_due_now(self) -> None:
        """Tell the transport about a pause asked for earlier in this loop step, if any."""
        if not self._pause_due:
            return
        self._pause_due = False
        transport = self.transport
        if self._reading_paused and not self._transport_paused and transport is not None:
            self._transport_paused = True
            try:
                transport.pause_reading()
            except (AttributeError, NotImplementedError, RuntimeError):
                pass

    def resume_reading(self) -> None:
        if self._reading_paused:
            self._reading_paused = False
            transport = self.transport
            if self._transport_paused:
                self._transport_paused = False
                if transport is not None:
                    try:
                        transport.resume_reading()
                    except (AttributeError, NotImplementedError, RuntimeError):
                        pass

    # --- lifecycle -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._connection_lost = True
        self.transport = None
        self._lost_error = exc
        waiter = self._drain_waiter
        if waiter is not None:
            self._drain_waiter = None
            if not waiter.done():
                waiter.set_result(None)

"""Item queues (DataQueue, FlowControlDataQueue) from a protocol to one reading coroutine.

No byte buffering or parsing here, and no transport access: pausing goes through the protocol.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Generic, TypeVar

from ._futures import EXC_CAUSE_SENTINEL, set_exception, set_result
from .base_protocol import BaseProtocol

__all__ = ("DataQueue", "EofStream", "FlowControlDataQueue")

_T = TypeVar("_T")


class EofStream(Exception):
    """Raised by DataQueue.read() once the queue is drained and closed."""


class DataQueue(Generic[_T]):
    """A queue of whole items (not bytes) fed by a protocol and read by one coroutine.

    Buffered items are still handed out after set_exception(); the error is raised once
    the queue is empty.
    """

    __slots__ = ("_buffer", "_eof", "_exception", "_loop", "_waiter")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._eof = False
        self._waiter: asyncio.Future[None] | None = None
        self._exception: BaseException | None = None
        self._buffer: collections.deque[_T] = collections.deque()

    def __len__(self) -> int:
        return len(self._buffer)

    def is_eof(self) -> bool:
        return self._eof

    def at_eof(self) -> bool:
        return self._eof and not self._buffer

    def exception(self) -> BaseException | None:
        return self._exception

    def set_exception(
        self, exc: BaseException, exc_cause: BaseException = EXC_CAUSE_SENTINEL
    ) -> None:
        self._eof = True
        self._exception = exc
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            set_exception(waiter, exc, exc_cause)

    def feed_data(self, data: _T, size: int = 0) -> None:
        """Queue one item; `size` only matters to FlowControlDataQueue."""
        self._buffer.append(data)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def feed_eof(self) -> None:
        self._eof = True
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            set_result(waiter, None)

    async def read(self) -> _T:
        """The next item; the stored exception or EofStream once drained and closed."""
        if not self._buffer and not self._eof:
            if self._waiter is not None:
                raise RuntimeError(
                    "read() called while another coroutine is already waiting for incoming data"
                )
            waiter = self._loop.create_future()
            self._waiter = waiter
            try:
                await waiter
            finally:
                if self._waiter is waiter:
                    self._waiter = None
        if self._buffer:
            return self._buffer.popleft()
        exc = self._exception
        if exc is not None:
            raise exc
        raise EofStream

    def __aiter__(self) -> DataQueue[_T]:
        return self

    async def __anext__(self) -> _T:
        try:
            return await self.read()
        except EofStream:
            raise StopAsyncIteration from None


class FlowControlDataQueue(DataQueue[_T]):
    """A DataQueue that pauses its protocol past ``2 * limit`` queued size units.

    The size of an item is whatever the producer passes to feed_data(); reading resumes
    the protocol once the queued size drops below ``2 * limit`` again.
    """

    __slots__ = ("_limit", "_paused", "_protocol", "_size", "_sizes")

    def __init__(
        self, protocol: BaseProtocol, limit: int, *, loop: asyncio.AbstractEventLoop
    ) -> None:
        super().__init__(loop=loop)
        self._protocol = protocol
        self._limit = limit * 2
        self._size = 0
        self._paused = False
        self._sizes: collections.deque[int] = collections.deque()

    def feed_data(self, data: _T, size: int = 0) -> None:
        super().feed_data(data, size)
        self._sizes.append(size)
        self._size += size
        if self._size > self._limit and not self._paused:
            self._paused = True
            self._protocol.pause_reading()

    async def read(self) -> _T:
        data = await super().read()
        self._size -= self._sizes.popleft()
        if self._paused and self._size < self._limit:
            self._paused = False
            self._protocol.resume_reading()
        return data

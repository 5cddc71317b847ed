"""Body buffers between a protocol that feeds bytes and the code that awaits them.

Owns buffering, read-side flow control and waking readers; it parses nothing and
never touches a transport (pausing goes through the protocol).
"""

from __future__ import annotations

import asyncio
import collections
import functools
import warnings
from collections.abc import Awaitable, Callable
from typing import Final, Generic, TypeVar, cast

from ._data_queue import DataQueue, EofStream, FlowControlDataQueue
from ._futures import EXC_CAUSE_SENTINEL, set_exception, set_result
from .base_protocol import BaseProtocol
from .helpers import DEFAULT_CHUNK_SIZE as DEFAULT_CHUNK_SIZE
from .helpers import BaseTimerContext as BaseTimerContext
from .helpers import TimerNoop as TimerNoop
from .helpers import internal_logger
from .http_exceptions import LineTooLong

__all__ = (
    "EMPTY_PAYLOAD",
    "AsyncStreamIterator",
    "AsyncStreamReaderMixin",
    "ChunkTupleAsyncStreamIterator",
    "DataQueue",
    "EmptyStreamReader",
    "EofStream",
    "FlowControlDataQueue",
    "StreamReader",
)

_T = TypeVar("_T")

_EMPTY: Final = b""
_DEFAULT_LIMIT: Final = 2**16
# How much of an over-long line LineTooLong quotes back.
_LINE_QUOTE: Final = 100

_UNREAD_DEPRECATED: Final = (
    "unread_data() is deprecated and will be removed in future releases (#3260)"
)


class AsyncStreamIterator(Generic[_T]):
    """Async iterator over repeated calls to one read coroutine; b"" or EofStream ends it."""

    __slots__ = ("read_func",)

    def __init__(self, read_func: Callable[[], Awaitable[_T]]) -> None:
        self.read_func = read_func

    def __aiter__(self) -> AsyncStreamIterator[_T]:
        return self

    async def __anext__(self) -> _T:
        try:
            rv = await self.read_func()
        except EofStream:
            raise StopAsyncIteration from None
        if rv == _EMPTY:
            raise StopAsyncIteration
        return rv


class ChunkTupleAsyncStreamIterator:
    """Yields readchunk() results until the stream reports (b"", False)."""

    __slots__ = ("_stream",)

    def __init__(self, stream: AsyncStreamReaderMixin) -> None:
        self._stream = stream

    def __aiter__(self) -> ChunkTupleAsyncStreamIterator:
        return self

    async def __anext__(self) -> tuple[bytes, bool]:
        rv = await self._stream.readchunk()
        if not rv[1] and not rv[0]:
            raise StopAsyncIteration
        return rv


class AsyncStreamReaderMixin:
    """The iteration helpers shared by every StreamReader flavour."""

    __slots__ = ()

    async def read(self, n: int = -1) -> bytes:
        raise NotImplementedError

    async def readany(self) -> bytes:
        raise NotImplementedError

    async def readline(self, *, max_line_length: int | None = None) -> bytes:
        raise NotImplementedError

    async def readchunk(self) -> tuple[bytes, bool]:
        raise NotImplementedError

    def __aiter__(self) -> AsyncStreamIterator[bytes]:
        return AsyncStreamIterator(self.readline)

    def iter_chunked(self, n: int) -> AsyncStreamIterator[bytes]:
        """Yield pieces of at most `n` bytes until EOF."""
        return AsyncStreamIterator(functools.partial(self.read, n))

    def iter_any(self) -> AsyncStreamIterator[bytes]:
        """Yield whatever is buffered each time data arrives, until EOF."""
        return AsyncStreamIterator(self.readany)

    def iter_chunks(self) -> ChunkTupleAsyncStreamIterator:
        """Yield (data, end_of_http_chunk) tuples until EOF."""
        return ChunkTupleAsyncStreamIterator(self)


def _run_eof_callback(callback: Callable[[], None]) -> None:
    try:
        callback()
    except Exception:
        # A broken listener must not break the protocol that is feeding us.
        internal_logger.exception("Exception in eof callback")


class StreamReader(AsyncStreamReaderMixin):
    """A byte buffer fed by a protocol and drained by one reading coroutine at a time.

    The protocol is paused once more than ``2 * limit`` bytes are buffered and resumed
    when a read leaves fewer than ``limit``.
    """

    __slots__ = (
        "_buffer",
        "_chunk_end",
        "_eof",
        "_eof_callbacks",
        "_eof_waiter",
        "_exception",
        "_high_water",
        "_http_chunk_splits",
        "_loop",
        "_low_water",
        "_offset",
        "_paused",
        "_protocol",
        "_raw_bytes",
        "_size",
        "_waiter",
        "total_bytes",
    )

    def __init__(
        self,
        protocol: BaseProtocol,
        limit: int,
        *,
        timer: object = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        # `timer` is accepted for aiohttp's signature only: read timeouts are the
        # protocol's job, so waiting here stays a bare future.
        self._protocol = protocol
        self._low_water = limit
        self._high_water = limit * 2
        # Resolved lazily: a reader fed and read without waiting never needs a loop.
        self._loop = loop
        self._buffer: collections.deque[bytes] = collections.deque()
        # Bytes of _buffer[0] already handed out; slicing by offset avoids
        # re-copying the rest of a big chunk on every small read.
        self._offset = 0
        self._size = 0
        self._eof = False
        self._paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._eof_waiter: asyncio.Future[None] | None = None
        self._exception: BaseException | None = None
        self._eof_callbacks: list[Callable[[], None]] | None = None
        self._http_chunk_splits: collections.deque[int] | None = None
        self._chunk_end = 0
        self.total_bytes = 0
        # Received bytes when they differ from those fed (a compressed body); else -1.
        self._raw_bytes = -1

    def __repr__(self) -> str:
        info = [self.__class__.__name__]
        if self._size:
            info.append(f"{self._size} bytes")
        if self._eof:
            info.append("eof")
        if self._low_water != _DEFAULT_LIMIT:
            info.append(f"low={self._low_water} high={self._high_water}")
        if self._waiter is not None:
            info.append(f"w={self._waiter!r}")
        if self._exception is not None:
            info.append(f"e={self._exception!r}")
        return "<{}>".format(" ".join(info))

    def get_read_buffer_limits(self) -> tuple[int, int]:
        return (self._low_water, self._high_water)

    @property
    def total_raw_bytes(self) -> int:
        """Body bytes received so far, before any decompression (framing not counted)."""
        raw = self._raw_bytes
        return self.total_bytes if raw < 0 else raw

    def count_raw_bytes(self, n: int) -> None:
        """Record `n` received bytes that reach this stream only once decoded."""
        raw = self._raw_bytes
        self._raw_bytes = n if raw < 0 else raw + n

    # --- producer side ---------------------------------------------------------------

    def feed_data(self, data: bytes) -> None:
        assert not self._eof, "feed_data after feed_eof"
        if not data:
            return
        n = len(data)
        self._buffer.append(data)
        size = self._size + n
        self._size = size
        self.total_bytes += n
        waiter = self._waiter
        if waiter is not None:
            # Inlined rather than set_result(): this runs for every received block.
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)
        if size > self._high_water and not self._paused:
            self._paused = True
            self._protocol.pause_reading()

    def feed_eof(self) -> None:
        self._eof = True
        if self._paused:
            # Nothing more comes for this body: a pause now would only stall the
            # connection's next response.
            self._paused = False
            self._protocol.resume_reading()
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            set_result(waiter, None)
        waiter = self._eof_waiter
        if waiter is not None:
            self._eof_waiter = None
            set_result(waiter, None)
        callbacks = self._eof_callbacks
        if callbacks:
            self._eof_callbacks = None
            for callback in callbacks:
                _run_eof_callback(callback)

    def set_exception(
        self, exc: BaseException, exc_cause: BaseException = EXC_CAUSE_SENTINEL
    ) -> None:
        self._exception = exc
        # A failed stream never reaches a clean EOF, so its listeners are dropped.
        self._eof_callbacks = None
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            set_exception(waiter, exc, exc_cause)
        waiter = self._eof_waiter
        if waiter is not None:
            self._eof_waiter = None
            set_exception(waiter, exc, exc_cause)

    def on_eof(self, callback: Callable[[], None]) -> None:
        """Call `callback` once at EOF; at once if EOF was already fed."""
        if self._eof:
            _run_eof_callback(callback)
            return
        callbacks = self._eof_callbacks
        if callbacks is None:
            self._eof_callbacks = [callback]
        else:
            callbacks.append(callback)

    def begin_http_chunk_receiving(self) -> None:
        if self._http_chunk_splits is None:
            if self.total_bytes:
                raise RuntimeError(
                    "Called begin_http_chunk_receiving when some data was already fed"
                )
            self._http_chunk_splits = collections.deque()

    def end_http_chunk_receiving(self) -> None:
        splits = self._http_chunk_splits
        if splits is None:
            raise RuntimeError(
                "Called end_chunk_receiving without calling begin_chunk_receiving first"
            )
        total = self.total_bytes
        if total == self._chunk_end:
            # An empty chunk adds no boundary a reader could observe.
            return
        self._chunk_end = total
        splits.append(total)
        # readchunk() may be parked with the chunk's bytes already taken.
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            set_result(waiter, None)

    # --- state -----------------------------------------------------------------------

    def exception(self) -> BaseException | None:
        return self._exception

    def is_eof(self) -> bool:
        """True once the producer fed EOF, even if bytes are still buffered."""
        return self._eof

    def at_eof(self) -> bool:
        """True once EOF was fed and every buffered byte was read."""
        return self._eof and not self._buffer

    async def wait_eof(self) -> None:
        if self._eof:
            return
        exc = self._exception
        if exc is not None:
            raise exc
        if self._eof_waiter is not None:
            raise RuntimeError("wait_eof() called while another coroutine is already waiting")
        waiter = self._get_loop().create_future()
        self._eof_waiter = waiter
        try:
            await waiter
        finally:
            if self._eof_waiter is waiter:
                self._eof_waiter = None

    def unread_data(self, data: bytes) -> None:
        """Push `data` back in front of the buffer (deprecated, kept for old callers)."""
        warnings.warn(_UNREAD_DEPRECATED, DeprecationWarning, stacklevel=2)
        if data:
            self._restore([data])

    # --- consumer side ---------------------------------------------------------------

    async def read(self, n: int = -1) -> bytes:
        """Up to `n` bytes (everything until EOF if n < 0); b"" at EOF."""
        exc = self._exception
        if exc is not None:
            raise exc
        if n < 0:
            if self._eof:
                return self._take_all() if self._buffer else _EMPTY
            return await self._read_to_eof()
        if not n:
            return _EMPTY
        while not self._buffer:
            if self._eof:
                return _EMPTY
            await self._wait("read")
        return self._take(n)

    async def readany(self) -> bytes:
        """Everything buffered once anything is; b"" at EOF."""
        exc = self._exception
        if exc is not None:
            raise exc
        while not self._buffer:
            if self._eof:
                return _EMPTY
            await self._wait("readany")
        return self._take_all()

    async def readchunk(self) -> tuple[bytes, bool]:
        """The next piece and whether it ends an HTTP chunk; (b"", False) at EOF.

        Without chunk boundaries each call returns one fed block with False.
        """
        exc = self._exception
        if exc is not None:
            raise exc
        while True:
            splits = self._http_chunk_splits
            if splits:
                cursor = self.total_bytes - self._size
                while splits:
                    pos = splits.popleft()
                    if pos == cursor:
                        return (_EMPTY, True)
                    if pos > cursor:
                        return (self._take(pos - cursor), True)
                    # A plain read() already went past this boundary.
            if self._buffer:
                return (self._take_chunk(), False)
            if self._eof:
                return (_EMPTY, False)
            await self._wait("readchunk")

    async def readexactly(self, n: int) -> bytes:
        """Exactly `n` bytes; asyncio.IncompleteReadError if EOF comes first."""
        exc = self._exception
        if exc is not None:
            raise exc
        if n <= 0:
            return _EMPTY
        if self._size >= n:
            return self._take(n)
        parts: list[bytes] = []
        need = n
        while True:
            if self._buffer:
                # Taking as we go keeps the protocol unpaused when n exceeds the limits.
                if self._size >= need:
                    parts.append(self._take(need))
                    return _EMPTY.join(parts)
                data = self._take_all()
                parts.append(data)
                need -= len(data)
                continue
            if self._eof:
                partial = _EMPTY.join(parts)
                raise asyncio.IncompleteReadError(partial, n)
            try:
                await self._wait("readexactly")
            except BaseException:
                self._restore(parts)
                raise

    async def readline(self, *, max_line_length: int | None = None) -> bytes:
        """One line including its b"\\n"; the unterminated tail at EOF, then b""."""
        return await self.readuntil(b"\n", max_size=max_line_length)

    async def readuntil(self, separator: bytes = b"\n", *, max_size: int | None = None) -> bytes:
        """Bytes up to and including `separator`; whatever is left at EOF.

        Raises LineTooLong once more than `max_size` (default: the high-water mark)
        bytes were read without completing the line.
        """
        seplen = len(separator)
        if not seplen:
            raise ValueError("Separator should be at least one-byte string")
        exc = self._exception
        if exc is not None:
            raise exc
        limit = self._high_water if max_size is None else max_size
        buffer = self._buffer
        if buffer:
            # The common case: the whole line already sits in the first block.
            offset = self._offset
            found = buffer[0].find(separator, offset)
            if found != -1 and found + seplen - offset <= limit:
                return self._take(found + seplen - offset)
        parts: list[bytes] = []
        got = 0
        keep = seplen - 1
        tail = _EMPTY
        while True:
            if buffer:
                chunk = buffer[0]
                offset = self._offset
                end = -1
                if tail:
                    # The separator may straddle the previous block and this one.
                    found = (tail + chunk[offset : offset + keep]).find(separator)
                    if found != -1:
                        end = offset + found + seplen - len(tail)
                if end == -1:
                    found = chunk.find(separator, offset)
                    if found != -1:
                        end = found + seplen
                piece = self._take(end - offset) if end != -1 else self._take_chunk()
                parts.append(piece)
                got += len(piece)
                if got > limit:
                    line = _EMPTY.join(parts)[:_LINE_QUOTE] + b"..."
                    raise LineTooLong(line, limit)
                if end != -1:
                    return parts[0] if len(parts) == 1 else _EMPTY.join(parts)
                if keep:
                    tail = piece[-keep:] if len(piece) >= keep else (tail + piece)[-keep:]
                continue
            if self._eof:
                return _EMPTY.join(parts)
            try:
                await self._wait("readuntil")
            except BaseException:
                self._restore(parts)
                raise

    def read_nowait(self, n: int = -1) -> bytes:
        """Up to `n` buffered bytes (all if n < 0) without waiting; b"" if none."""
        exc = self._exception
        if exc is not None:
            raise exc
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            raise RuntimeError("Called while some coroutine is waiting for incoming data.")
        if not self._buffer or not n:
            return _EMPTY
        if n < 0:
            return self._take_all()
        return self._take(n)

    # --- internals -------------------------------------------------------------------

    def _get_loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        return loop

    async def _wait(self, func_name: str) -> None:
        exc = self._exception
        if exc is not None:
            raise exc
        if self._waiter is not None:
            msg = "called while another coroutine is already waiting for incoming data"
            raise RuntimeError(f"{func_name}() {msg}")
        waiter = self._get_loop().create_future()
        self._waiter = waiter
        try:
            await waiter
        finally:
            if self._waiter is waiter:
                self._waiter = None

    async def _read_to_eof(self) -> bytes:
        parts: list[bytes] = []
        while True:
            if self._buffer:
                # Draining as we go keeps the protocol unpaused for bodies over the limit;
                # the blocks are kept as they are and joined once, at the end.
                self._drain_into(parts)
                continue
            if self._eof:
                break
            try:
                await self._wait("read")
            except BaseException:
                self._restore(parts)
                raise
        if len(parts) == 1:
            return parts[0]
        return _EMPTY.join(parts)

    # The _take* helpers finish all bookkeeping before resuming the protocol,
    # because resume_reading() may feed more data into us synchronously.

    def _take(self, n: int) -> bytes:
        """Remove and return up to `n` (> 0) bytes; the buffer must not be empty."""
        buffer = self._buffer
        chunk = buffer[0]
        offset = self._offset
        end = offset + n
        if end < len(chunk):
            self._offset = end
            data = chunk[offset:end]
        else:
            buffer.popleft()
            self._offset = 0
            data = chunk[offset:] if offset else chunk
            need = n - len(data)
            if need > 0 and buffer:
                parts = [data]
                while buffer:
                    chunk = buffer[0]
                    if len(chunk) > need:
                        parts.append(chunk[:need])
                        self._offset = need
                        break
                    buffer.popleft()
                    parts.append(chunk)
                    need -= len(chunk)
                    if not need:
                        break
                data = _EMPTY.join(parts)
        self._size -= len(data)
        if self._paused:
            self._maybe_resume()
        return data

    def _take_chunk(self) -> bytes:
        """Remove and return the rest of the first buffered block."""
        data = self._buffer.popleft()
        offset = self._offset
        if offset:
            data = data[offset:]
            self._offset = 0
        self._size -= len(data)
        if self._paused:
            self._maybe_resume()
        return data

    def _take_all(self) -> bytes:
        """Remove and return every buffered byte; the buffer must not be empty."""
        parts: list[bytes] = []
        self._drain_into(parts)
        # A body that arrived in one block goes out without a copy.
        return parts[0] if len(parts) == 1 else _EMPTY.join(parts)

    def _drain_into(self, parts: list[bytes]) -> None:
        """Move every buffered block onto `parts`, uncopied; the buffer must not be empty."""
        buffer = self._buffer
        offset = self._offset
        if offset:
            parts.append(buffer.popleft()[offset:])
            self._offset = 0
        parts.extend(buffer)
        buffer.clear()
        self._size = 0
        if self._paused:
            self._maybe_resume()

    def _restore(self, parts: list[bytes]) -> None:
        """Put taken bytes back in front, as if they had never been read."""
        if not parts:
            return
        buffer = self._buffer
        offset = self._offset
        if offset:
            buffer[0] = buffer[0][offset:]
            self._offset = 0
        buffer.extendleft(reversed(parts))
        size = self._size + sum(map(len, parts))
        self._size = size
        if size > self._high_water and not self._paused:
            self._paused = True
            self._protocol.pause_reading()

    def _maybe_resume(self) -> None:
        size = self._size
        # `not size` keeps a zero limit from pausing forever.
        if size < self._low_water or not size:
            self._paused = False
            self._protocol.resume_reading()


class EmptyStreamReader(StreamReader):
    """A stream that is at EOF from the start: the body of bodiless responses."""

    __slots__ = ()

    def __init__(self) -> None:
        # Never fed, so it never pauses and needs no real protocol.
        super().__init__(cast(BaseProtocol, None), 0)
        self._eof = True

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__}>"

    def exception(self) -> BaseException | None:
        return None

    def set_exception(
        self, exc: BaseException, exc_cause: BaseException = EXC_CAUSE_SENTINEL
    ) -> None:
        pass

    def on_eof(self, callback: Callable[[], None]) -> None:
        _run_eof_callback(callback)

    def feed_eof(self) -> None:
        pass

    def is_eof(self) -> bool:
        return True

    def at_eof(self) -> bool:
        return True

    async def wait_eof(self) -> None:
        return

    def feed_data(self, data: bytes) -> None:
        pass

    def unread_data(self, data: bytes) -> None:
        # The instance is shared (EMPTY_PAYLOAD), so it must stay empty.
        warnings.warn(_UNREAD_DEPRECATED, DeprecationWarning, stacklevel=2)

    async def readline(self, *, max_line_length: int | None = None) -> bytes:
        return _EMPTY

    async def readuntil(self, separator: bytes = b"\n", *, max_size: int | None = None) -> bytes:
        if not separator:
            raise ValueError("Separator should be at least one-byte string")
        return _EMPTY

    async def read(self, n: int = -1) -> bytes:
        return _EMPTY

    async def readany(self) -> bytes:
        return _EMPTY

    async def readchunk(self) -> tuple[bytes, bool]:
        return (_EMPTY, False)

    async def readexactly(self, n: int) -> bytes:
        raise asyncio.IncompleteReadError(_EMPTY, n)

    def read_nowait(self, n: int = -1) -> bytes:
        return _EMPTY


EMPTY_PAYLOAD: Final = EmptyStreamReader()

"""Upload progress of one request: `UploadTracker` (aiohttp 3.14.4's API).

Counters only: the request writes and calls the underscore hooks; nothing here writes
bytes or owns a connection.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from .client_exceptions import UploadAbortedError

__all__ = (
    "UploadTracker",
    "add_bytes",
    "bind",
    "finish",
    "freeze",
    "start_attempt",
    "writing",
)

_NOT_SENT = "The request body was not fully sent"


class _Transport(Protocol):
    def get_write_buffer_size(self) -> int: ...

    def is_closing(self) -> bool: ...


class _BodyCounter(Protocol):
    """The streaming writer of the current attempt: the body bytes it has handed on."""

    def flushed(self, buffered: int) -> int:
        """Body bytes handed on, less those among the `buffered` bytes still queued."""
        ...


class UploadTracker:
    """Watches the body of one request go out.

    Create it inside a running event loop, pass it as `upload_tracker=` to one request
    and read `bytes_written` (body bytes the kernel has taken in the current attempt),
    `bytes_total` (the body's size when known: an airhttp addition), `attempts`
    (attempts started, redirect hops and retries included) and
    `upload_complete` (a future: None once the final attempt's body was fully sent,
    UploadAbortedError when it was not). A tracker serves one request only.
    No __slots__: aiohttp's takes attributes of the caller's.
    """

    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.attempts = 0
        self.bytes_total: int | None = None
        self.upload_complete: asyncio.Future[None] = loop.create_future()
        self._bound = False
        self._sent = 0
        self._seen = 0
        self._counter: _BodyCounter | None = None
        self._transport: _Transport | None = None

    @property
    def bytes_written(self) -> int:
        """Body bytes of the current attempt that left our buffers for the kernel."""
        transport = self._transport
        if transport is None:
            return self._sent
        if transport.is_closing():
            # Its buffer may have been thrown away: what we last saw flushed is all we know.
            return self._seen
        buffered = transport.get_write_buffer_size()
        counter = self._counter
        seen = max(0, self._sent - buffered) if counter is None else counter.flushed(buffered)
        # Never backwards, even when a compressor's output lags its input.
        if seen > self._seen:
            self._seen = seen
        return self._seen

    def __repr__(self) -> str:
        state = "done" if self.upload_complete.done() else "pending"
        return (
            f"<UploadTracker attempts={self.attempts} bytes_written={self.bytes_written} {state}>"
        )


# --- what the request calls: functions here, so the class keeps only the public API --------


def bind(tracker: UploadTracker) -> None:
    """Tie `tracker` to the request about to start; a second request is refused."""
    if tracker._bound:
        raise RuntimeError("UploadTracker is already bound to a request")
    tracker._bound = True


def start_attempt(tracker: UploadTracker) -> None:
    """A new attempt (a redirect hop, a retry): count it and start from 0 bytes."""
    freeze(tracker)
    tracker.attempts += 1
    tracker._sent = 0
    tracker._seen = 0
    tracker.bytes_total = None


def writing(
    tracker: UploadTracker,
    transport: _Transport,
    counter: _BodyCounter | None,
    total: int | None,
) -> None:
    """The attempt writes `total` body bytes (None: unknown) on `transport`.

    A streamed body reports what it handed on through `counter`.
    """
    tracker._transport = transport
    tracker._counter = counter
    tracker.bytes_total = total


def add_bytes(tracker: UploadTracker, size: int) -> None:
    """Body bytes handed to the transport at once (a body written with the head)."""
    tracker._sent += size


def freeze(tracker: UploadTracker) -> None:
    """Keep what the kernel took so far: the connection may be closed after this."""
    if tracker._transport is None and tracker._counter is None:
        return
    tracker._sent = tracker.bytes_written
    tracker._counter = None
    tracker._transport = None


def finish(tracker: UploadTracker, sent: bool, error: BaseException | None = None) -> None:
    """The request is over: settle upload_complete (once) by how the last body went.

    None when it was all sent; else `error`, what made the upload fail (the body's own
    exception, a write error), or UploadAbortedError for a body cut short.
    """
    freeze(tracker)
    future = tracker.upload_complete
    if future.done():
        return
    if sent:
        future.set_result(None)
        return
    future.set_exception(error if error is not None else UploadAbortedError(_NOT_SENT))
    # Seen as retrieved: nobody has to await a failed upload to keep the loop's log quiet.
    future.exception()

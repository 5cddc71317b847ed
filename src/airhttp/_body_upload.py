"""Writing one attempt's request body: whole with the head, or streamed by a task.

Owns the rules of the upload (Content-Length clipping, 100-continue, failures closing
the connection, upload progress); building the head is ClientRequest's job.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final

from . import hdrs, payload
from ._upload_tracker import UploadTracker, freeze
from .client_exceptions import ClientConnectionError, ClientOSError
from .http_writer import StreamWriter, serialize_headers

if TYPE_CHECKING:
    from multidict import CIMultiDict
    from yarl import URL

    from ._interfaces import TraceHooks
    from ._pool import Connection
    from .client_proto import ResponseHandler

__all__ = (
    "SPENT",
    "BodyUpload",
    "body_total",
    "UploadCallback",
    "close_in_background",
    "content_length",
    "never_reuse",
    "trace_whole_body",
    "wait_drained",
    "when_whole_body_sent",
    "write_stream_body",
    "write_whole",
)

# Bodies up to this size go out in the same write as the head; larger ones are
# written separately so the head join never copies a big body.
_COALESCE_LIMIT: Final = 16384
# What the request calls once an upload ended: (body fully sent?, what made it fail).
UploadCallback = Callable[[bool, "BaseException | None"], None]
# Drain waits for uploads whose outcome somebody asked for, kept until they end.
_WAITING: Final[set[asyncio.Task[bool]]] = set()
# Non-seekable file payloads that have been written once: their data is gone.
SPENT: Final[weakref.WeakSet[payload.Payload]] = weakref.WeakSet()
# Background close() tasks (body assignment, uploads that outlived their request),
# kept referenced so none is lost half-way.
_CLOSING: Final[set[asyncio.Task[None]]] = set()


def close_in_background(body: payload.Payload) -> None:
    """Close `body` (its file) in a task of its own, kept referenced until it ends."""
    task = asyncio.ensure_future(body.close())
    _CLOSING.add(task)
    task.add_done_callback(_CLOSING.discard)


def never_reuse(conn: Connection) -> None:
    """Close `conn` when released: the server may read what follows as this message."""
    protocol = conn.protocol
    if protocol is not None:
        conn.add_callback(protocol.close)


def write_whole(
    transport: asyncio.Transport,
    conn: Connection,
    status_line: str,
    headers: CIMultiDict[str],
    body: payload.BytesPayload,
) -> tuple[bytes | bytearray | memoryview, int]:
    """Write head and an in-memory body in as few writes as possible.

    Returns the body bytes sent and the size of the head.
    """
    data: bytes | bytearray | memoryview = body.buffer
    size = body.size or 0
    declared = headers.get(hdrs.CONTENT_LENGTH)
    if declared is None:
        # Someone removed it after the body was set: the body still needs its framing.
        headers[hdrs.CONTENT_LENGTH] = str(size)
    elif declared != str(size):
        length = content_length(headers)
        assert length is not None
        if length < size:
            # As aiohttp does: the announced length wins, the rest is not sent.
            data = data[:length]
            size = length
        elif length > size:
            never_reuse(conn)
    head = serialize_headers(status_line, headers)
    if not size:
        transport.write(head)
    elif size <= _COALESCE_LIMIT:
        transport.write(head + data)
    else:
        transport.write(head)
        transport.write(data)
    return data, len(head)


def write_stream_body(
    transport: asyncio.Transport, body: payload.Payload | bytes
) -> bytes | bytearray | memoryview | None:
    """Write an in-memory body onto an HTTP/2 stream's transport and end the stream.

    None for no body at all: the header block ended the stream already.
    """
    if body.__class__ is bytes:
        return None
    data: bytes | bytearray | memoryview = body.buffer  # type: ignore[union-attr]
    if data:
        transport.write(data)
    transport.write_eof()
    return data


def body_total(
    body: payload.Payload | bytes, length: int | None, compress: str | None
) -> int | None:
    """The body bytes a streamed upload will write, when known in advance.

    Compressed or not, these are the caller's bytes, as `bytes_written` counts them.
    """
    if length is not None and not compress:
        return length
    return body.size if isinstance(body, payload.Payload) else len(body)


async def trace_whole_body(
    traces: Sequence[TraceHooks],
    method: str,
    url: URL,
    headers: CIMultiDict[str],
    data: bytes | bytearray | memoryview | None,
) -> None:
    """Fire on_request_headers_sent, then on_request_chunk_sent for a body sent whole."""
    for trace in traces:
        await trace.send_request_headers(method, url, headers)
    if data is None:
        return
    chunk = bytes(data)
    for trace in traces:
        await trace.send_request_chunk_sent(method, url, chunk)


def content_length(headers: CIMultiDict[str]) -> int | None:
    """The Content-Length the head announces, as a number."""
    declared = headers.get(hdrs.CONTENT_LENGTH)
    if declared is None:
        return None
    try:
        return int(declared)
    except ValueError:
        raise ValueError(f"Invalid Content-Length header: {declared!r}") from None


class BodyUpload:
    """The body of one attempt, streamed by a task after the head.

    `sent` turns True once the whole body (and the chunked terminator) was handed on;
    `error` holds what made it fail (None when it was cancelled or is still running).
    """

    __slots__ = (
        "_body",
        "_conn",
        "_length",
        "_tracker",
        "_url",
        "_waiter",
        "error",
        "sent",
        "writer",
    )

    def __init__(
        self,
        writer: StreamWriter,
        conn: Connection,
        body: payload.Payload | bytes,
        url: URL,
        waiter: asyncio.Future[bool] | None,
        length: int | None,
        tracker: UploadTracker | None,
    ) -> None:
        self.writer = writer
        self.sent = False
        self.error: BaseException | None = None
        self._conn: Connection | None = conn
        self._body: payload.Payload | bytes = body
        self._url = url
        self._waiter = waiter
        self._length = length
        self._tracker = tracker

    def when_done(self, task: asyncio.Task[None] | None, callback: UploadCallback) -> None:
        """Call `callback(sent, error)` now if `task` (running this upload) ended, else then."""
        if task is None or task.done():
            callback(self.sent, self.error)
        else:
            task.add_done_callback(lambda _: callback(self.sent, self.error))

    def sent_size(self) -> int:
        """Bytes of head and body written so far."""
        return self.writer.output_size

    async def run(self) -> None:
        """Send the body (after 100 Continue when asked); failures close the connection."""
        conn = self._conn
        assert conn is not None, "an upload runs once"
        # The response keeps this object: it should not keep the body or connection alive.
        body, self._body, self._conn = self._body, b"", None
        protocol = conn.protocol
        writer = self.writer
        try:
            waiter = self._waiter
            if waiter is not None:
                writer.send_headers()
                await writer.drain()
                if not await waiter:
                    writer.set_eof()
                    return
            if isinstance(body, payload.Payload):
                if isinstance(body, payload.IOBasePayload) and not body.rewindable:
                    SPENT.add(body)
                await body.write_with_length(writer, self._length)
            await writer.write_eof()
            self.sent = True
            if self._length is not None and writer.length:
                # The body ended before the announced Content-Length.
                never_reuse(conn)
        except OSError as exc:
            self._freeze()
            if exc.errno is None and isinstance(exc, asyncio.TimeoutError):
                self.error = exc
            else:
                err = ClientOSError(exc.errno, f"Can not write request body for {self._url}")
                err.__cause__ = exc
                self.error = err
            if protocol is not None:
                protocol.fail(self.error)
        except asyncio.CancelledError:
            self._freeze()
            if protocol is not None and protocol.lost_error is not None:
                # Cancelled because the connection died under it: a write error, as
                # aiohttp reports it, not a caller's abort.
                self.error = ClientOSError(None, f"Can not write request body for {self._url}")
            # Stopped before the body's end: the server would read whatever comes next on
            # this connection as the rest of the body, so it is closed even if already
            # handed back to the pool.
            if not conn.closed:
                conn.close()
            elif protocol is not None:
                protocol.close()
            raise
        except Exception as exc:
            self._freeze()
            # As aiohttp: whatever the body's own code raised reaches the caller as a
            # ClientError, with the original as its cause.
            failed = ClientConnectionError(
                f"Failed to send bytes into the underlying connection {conn!r}: {exc!r}"
            )
            failed.__cause__ = exc
            self.error = failed
            if protocol is not None:
                protocol.fail(failed)

    def _freeze(self) -> None:
        # Before the connection closes, while its buffer still tells what was not sent.
        if self._tracker is not None:
            freeze(self._tracker)


async def wait_drained(protocol: ResponseHandler) -> bool:
    """True once `protocol`'s full transport takes data again; False if it is lost first."""
    try:
        await protocol.wait_for_drain()
    except Exception:  # whatever the connection died of: the body did not all go out
        return False
    return protocol.upload_went_out


def when_whole_body_sent(sent: ResponseHandler | bool, callback: UploadCallback) -> None:
    """Call `callback(sent, None)` for a body written whole, now or once drained.

    `sent` is True (written), False (nothing could be sent), or the protocol whose
    transport was full right after the write: the body counts as sent once it takes more
    data, as a streamed one does after its last drain; a connection lost before that is a
    failure.
    """
    if sent is True or sent is False:
        callback(sent, None)
        return
    if not sent.writing_paused:
        callback(sent.upload_went_out, None)
        return
    drained = asyncio.ensure_future(wait_drained(sent))
    _WAITING.add(drained)
    drained.add_done_callback(_WAITING.discard)
    drained.add_done_callback(lambda task: callback(task.result(), None))

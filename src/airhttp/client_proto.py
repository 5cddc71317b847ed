"""The asyncio protocol of one client connection: bytes in, responses out.

Feeds the sans-IO parser from the transport, resolves one future per response,
enforces the read timeout and tells the pool whether the connection can be reused.
It never builds requests and never decides about pooling itself.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Final

from .base_protocol import BaseProtocol
from .client_exceptions import (
    ClientOSError,
    ClientPayloadError,
    ServerDisconnectedError,
    SocketTimeoutError,
)
from .compression_utils import BodyDecompressor, make_decompressor
from .http_exceptions import BadHttpMessage, HttpProcessingError
from .http_parser import (
    CONNECTION_CLOSED,
    NEED_DATA,
    PAUSED,
    EndOfMessage,
    RawResponseMessage,
    ResponseParser,
)
from .streams import StreamReader

__all__ = ("ResponseHandler",)

# One receive buffer per connection, reused for every read: a BufferedProtocol
# avoids asyncio allocating a fresh 256 KiB buffer per read, which glibc may serve
# with mmap/munmap on every call (measured at ~14 µs per small request).
_READ_BUFFER_SIZE: Final = 2**16
_EMPTY: Final = b""


class _BodyDecoder:
    """Pulls decompressed output in bounded steps, pausing while the reader is full."""

    __slots__ = ("_decompressor", "_ended", "_pending", "_protocol", "_step")

    def __init__(self, protocol: ResponseHandler, encoding: str, step: int) -> None:
        self._decompressor: BodyDecompressor = make_decompressor(encoding)
        self._pending: deque[bytes] = deque()
        self._protocol = protocol
        self._step = step
        self._ended = False

    def feed(self, data: bytes) -> None:
        if data:
            self._pending.append(data)
        self.pump()

    def end(self) -> None:
        self._ended = True
        self.pump()

    def pump(self) -> None:
        """Expand pending input until it is all out or the reader asks us to stop."""
        protocol = self._protocol
        payload = protocol._payload
        if payload is None:
            return
        dec = self._decompressor
        pending = self._pending
        step = self._step
        try:
            while not protocol._reading_paused:
                if dec.needs_input:
                    if not pending:
                        break
                    out = dec.decompress(pending.popleft(), step)
                else:
                    out = dec.decompress(_EMPTY, step)
                if out:
                    payload.feed_data(out)
            if self._ended and not pending and dec.needs_input and not protocol._reading_paused:
                tail = dec.flush()
                if tail:
                    payload.feed_data(tail)
                self._ended = False
                protocol._decoded_body_complete()
        except HttpProcessingError as exc:
            protocol._die(exc, exc)


class ResponseHandler(BaseProtocol):
    """Parses the responses of one connection and hands them to the waiting request."""

    __slots__ = (
        "_auto_decompress",
        "_body",
        "_body_withheld",
        "_closed",
        "_complete",
        "_continue_waiter",
        "_decoder",
        "_eof",
        "_exception",
        "_head_waiter",
        "_last_read",
        "_message",
        "_on_complete",
        "_parser",
        "_parts",
        "_payload",
        "_read_buffer",
        "_read_bufsize",
        "_read_handle",
        "_sock_read",
        "_upgrade_tail",
        "_upgraded",
        "_view",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self._parser = ResponseParser()
        self._read_buffer = bytearray(_READ_BUFFER_SIZE)
        self._view = memoryview(self._read_buffer)
        self._head_waiter: asyncio.Future[RawResponseMessage] | None = None
        self._continue_waiter: asyncio.Future[bool] | None = None
        self._body_withheld = False
        self._message: RawResponseMessage | None = None
        self._payload: StreamReader | None = None
        self._parts: list[bytes] = []
        self._body: bytes | None = None
        self._complete = True
        self._on_complete: Callable[[], None] | None = None
        self._decoder: _BodyDecoder | None = None
        self._read_bufsize = 2**16
        self._auto_decompress = True
        self._upgraded = False
        self._upgrade_tail = _EMPTY
        self._eof = False
        self._exception: BaseException | None = None
        self._sock_read: float | None = None
        self._read_handle: asyncio.TimerHandle | None = None
        self._last_read = 0.0
        self._closed: asyncio.Future[None] = loop.create_future()

    # --- state the pool asks about ---------------------------------------------------

    @property
    def closed(self) -> asyncio.Future[None]:
        """Resolved once the transport is gone."""
        return self._closed

    @property
    def upgraded(self) -> bool:
        return self._upgraded

    @property
    def should_close(self) -> bool:
        """True when this connection must not go back to the pool."""
        message = self._message
        transport = self.transport
        return (
            transport is None
            or self._eof
            or self._upgraded
            or self._exception is not None
            or not self._complete
            or (message is not None and message.should_close)
            or self._parser.buffered > 0
            or self._body_withheld
            # Request bytes still unsent after the response ended: the server answered
            # without reading them, and the next request would queue behind them.
            or transport.get_write_buffer_size() > 0
        )

    def is_connected(self) -> bool:
        transport = self.transport
        return transport is not None and not self._eof and not transport.is_closing()

    def close(self) -> None:
        self._cancel_read_timer()
        transport = self.transport
        if transport is not None:
            transport.close()
            self.transport = None

    def abort(self) -> None:
        self._cancel_read_timer()
        transport = self.transport
        if transport is not None:
            transport.abort()
            self.transport = None

    # --- one exchange ----------------------------------------------------------------

    def expect_response(
        self,
        method: str,
        *,
        read_until_eof: bool = True,
        read_bufsize: int = 2**16,
        auto_decompress: bool = True,
        sock_read: float | None = None,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        continue_waiter: asyncio.Future[bool] | None = None,
    ) -> asyncio.Future[RawResponseMessage]:
        """Prepare for the response to a request about to be written."""
        parser = self._parser
        parser.max_line_size = max_line_size
        parser.max_field_size = max_field_size
        parser.max_headers = max_headers
        parser.start_response(method, read_until_eof=read_until_eof)
        waiter: asyncio.Future[RawResponseMessage] = self._loop.create_future()
        self._head_waiter = waiter
        self._continue_waiter = continue_waiter
        self._body_withheld = False
        self._message = None
        self._payload = None
        self._body = None
        self._decoder = None
        self._on_complete = None
        self._complete = False
        self._read_bufsize = read_bufsize
        self._auto_decompress = auto_decompress
        if self._exception is not None or self.transport is None:
            exc = self._exception or ServerDisconnectedError()
            waiter.set_exception(exc)
            return waiter
        self._sock_read = sock_read
        if sock_read is not None:
            self._last_read = self._loop.time()
            self._read_handle = self._loop.call_at(
                self._last_read + sock_read, self._on_read_timeout
            )
        return waiter

    def take_body(self) -> bytes | None:
        """The whole body if it arrived before anyone asked for a stream, else None."""
        body = self._body
        self._body = None
        return body

    @property
    def body_complete(self) -> bool:
        return self._complete

    def payload(self) -> StreamReader:
        """The stream the current body is fed into, made on first use."""
        payload = self._payload
        if payload is None:
            payload = self._make_payload()
        return payload

    def on_complete(self, callback: Callable[[], None] | None) -> None:
        """Call `callback` once the current message has been read to its end."""
        self._on_complete = callback

    def fail(self, exc: BaseException) -> None:
        """Fail whatever the current exchange is waiting for and drop the connection."""
        self._die(exc, None)

    def upgrade_tail(self) -> bytes:
        """Bytes that arrived after a 101/CONNECT answer; they belong to the new protocol."""
        tail = self._upgrade_tail
        self._upgrade_tail = _EMPTY
        return tail

    # --- the transport's side ------------------------------------------------------------

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._view

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(bytes(self._view[:nbytes]))

    def data_received(self, data: bytes) -> None:
        if self._sock_read is not None:
            self._last_read = self._loop.time()
        if self._upgraded:
            self._upgrade_tail += data
            return
        parser = self._parser
        parser.feed_data(data)
        try:
            self._process_events(parser)
        except HttpProcessingError as exc:
            self._die(exc, exc)
            return
        if self._complete and parser.buffered:
            # Bytes that answer no request (RFC 9112 9.3: a client must not pipeline
            # here): the next request would read them as its response.
            self._die(BadHttpMessage("Data received on an idle connection"), None)
            return
        if not self._complete and self._message is not None and self._payload is None:
            # The body did not arrive whole: from now on it streams with flow control.
            self._make_payload()

    def eof_received(self) -> bool:
        self._eof = True
        if self._upgraded:
            return False
        parser = self._parser
        parser.feed_eof()
        try:
            self._process_events(parser)
        except HttpProcessingError as exc:
            self._die(exc, exc)
        return False

    def connection_lost(self, exc: BaseException | None) -> None:
        self._cancel_read_timer()
        super().connection_lost(exc)
        self._eof = True
        if not self._upgraded and not self._complete:
            parser = self._parser
            parser.feed_eof()
            try:
                self._process_events(parser)
            except HttpProcessingError as perr:
                self._die(perr, perr)
            decoder = self._decoder
            # All compressed input arrived: the paused decoder finishes it when read.
            body_received = decoder is not None and decoder._ended
            if not self._complete and not body_received:
                if exc is not None and isinstance(exc, OSError):
                    err: BaseException = ClientOSError(*exc.args)
                else:
                    err = ServerDisconnectedError()
                self._fail_current(err, exc)
        if not self._closed.done():
            self._closed.set_result(None)

    # --- internals ---------------------------------------------------------------------

    def _process_events(self, parser: ResponseParser) -> None:
        next_event = parser.next_event
        while True:
            event = next_event()
            if event is NEED_DATA or event is CONNECTION_CLOSED:
                return
            event_type = type(event)
            if event_type is bytes:
                assert isinstance(event, bytes)
                if self._payload is None:
                    self._parts.append(event)
                elif self._decoder is not None:
                    self._decoder.feed(event)
                else:
                    self._payload.feed_data(event)
            elif event_type is RawResponseMessage:
                assert isinstance(event, RawResponseMessage)
                self._on_head(event)
            elif event_type is EndOfMessage:
                self._on_end_of_message()
            elif event is PAUSED:
                self._upgraded = True
                self._upgrade_tail = parser.trailing_data
                self._cancel_read_timer()
                return

    def _on_head(self, message: RawResponseMessage) -> None:
        code = message.code
        if code < 200 and code != 101:
            # RFC 9110 15.2: interim responses come before the final one.
            if code == 100:
                cont = self._continue_waiter
                if cont is not None and not cont.done():
                    cont.set_result(True)
            return
        self._withhold_body()
        self._message = message
        if message.compression is not None and self._auto_decompress:
            self._decoder = _BodyDecoder(self, message.compression, self._read_bufsize)
            self._make_payload()
        # The waiter stays set until the next exchange: ClientResponse.start() may come
        # to it after the head has already arrived.
        waiter = self._head_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(message)

    def _on_end_of_message(self) -> None:
        payload = self._payload
        if payload is None:
            parts = self._parts
            if not parts:
                self._body = _EMPTY
            elif len(parts) == 1:
                self._body = parts[0]
                parts.clear()
            else:
                self._body = _EMPTY.join(parts)
                parts.clear()
            self._message_complete()
        elif self._decoder is not None:
            self._decoder.end()
        else:
            payload.feed_eof()
            self._message_complete()

    def _decoded_body_complete(self) -> None:
        payload = self._payload
        if payload is not None:
            payload.feed_eof()
        self._message_complete()

    def _message_complete(self) -> None:
        self._complete = True
        self._cancel_read_timer()
        callback = self._on_complete
        if callback is not None:
            self._on_complete = None
            callback()

    def _make_payload(self) -> StreamReader:
        payload = StreamReader(self, self._read_bufsize, loop=self._loop)
        self._payload = payload
        parts = self._parts
        body = self._body
        if body is not None:
            self._body = None
            if body:
                payload.feed_data(body)
            payload.feed_eof()
        elif parts:
            decoder = self._decoder
            for part in parts:
                if decoder is not None:
                    decoder.feed(part)
                else:
                    payload.feed_data(part)
            parts.clear()
        return payload

    def resume_reading(self) -> None:
        if self._reading_paused and self._sock_read is not None:
            # The peer gets a whole sock_read window from now: we were the slow side.
            self._last_read = self._loop.time()
        super().resume_reading()
        decoder = self._decoder
        if decoder is not None and not self._complete:
            decoder.pump()

    def _die(self, exc: BaseException, cause: BaseException | None) -> None:
        """The connection is dead: remember why, close it, and tell the current exchange."""
        self._exception = exc
        self.close()
        self._fail_current(exc, cause)

    def _withhold_body(self) -> None:
        """No 100 Continue came first: the request body must not be sent (RFC 9110 10.1.1).

        The server may still expect that body, so the connection is never reused.
        """
        cont = self._continue_waiter
        if cont is not None and not cont.done():
            cont.set_result(False)
            self._body_withheld = True

    def _fail_current(self, exc: BaseException, cause: BaseException | None) -> None:
        self._withhold_body()
        waiter = self._head_waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
            return
        if self._complete or self._message is None:
            return
        if isinstance(exc, (HttpProcessingError, ServerDisconnectedError)):
            err: BaseException = ClientPayloadError(f"Response payload is not completed: {exc!r}")
        else:
            err = exc
        err.__cause__ = cause
        payload = self.payload()
        if payload.exception() is None:
            # A reader that already failed (e.g. released mid-body) keeps its first error.
            payload.set_exception(err)
        self._message_complete()

    def _cancel_read_timer(self) -> None:
        handle = self._read_handle
        if handle is not None:
            self._read_handle = None
            handle.cancel()

    def _on_read_timeout(self) -> None:
        self._read_handle = None
        sock_read = self._sock_read
        if sock_read is None or self._complete:
            return
        due = self._last_read + sock_read
        now = self._loop.time()
        if self._reading_paused or now < due:
            # Time spent paused by a full reader does not count as waiting on the peer.
            if self._reading_paused:
                due = now + sock_read
            self._read_handle = self._loop.call_at(due, self._on_read_timeout)
            return
        self._die(SocketTimeoutError("Timeout on reading data from socket"), None)

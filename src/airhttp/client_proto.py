"""The asyncio protocol of one client connection: bytes in, responses out.

Feeds the sans-IO parser from the transport, resolves one future per response,
enforces the read timeout and tells the pool whether the connection can be reused.
It never builds requests and never decides about pooling itself.
"""

from __future__ import annotations

import asyncio
import enum
import threading
from collections.abc import Callable
from typing import Final

from ._body_pump import BodyDecoder
from ._interfaces import Multiplexer, UpgradeSink
from ._settings import DEFAULT_SETTINGS, RequestSettings
from .base_protocol import BaseProtocol
from .client_exceptions import (
    ClientOSError,
    ClientPayloadError,
    ServerDisconnectedError,
    SocketTimeoutError,
)
from .http_exceptions import BadHttpMessage, ContentEncodingError, HttpProcessingError
from .http_parser import (
    CONNECTION_CLOSED,
    NEED_DATA,
    PAUSED,
    EndOfMessage,
    RawResponseMessage,
    ResponseParser,
)
from .streams import StreamReader

__all__ = ("ConnectionState", "ResponseHandler", "StreamHandler")

# One receive buffer per thread for every read of every connection: asyncio would allocate
# 256 KiB per read, which glibc may mmap/munmap each time (~14 µs per small request). Safe:
# buffer_updated() copies the bytes out before the next read; per thread, as threads with
# loops read at once. 256 KiB reads take a quarter of the loop steps of 64 KiB ones.
_READ_BUFFER_SIZE: Final = 2**18
_buffers = threading.local()
_NO_VIEW: Final = memoryview(b"")


def _read_view() -> memoryview:
    """This thread's receive buffer."""
    view: memoryview | None = getattr(_buffers, "view", None)
    if view is None:
        view = _buffers.view = memoryview(bytearray(_READ_BUFFER_SIZE))
    return view


_EMPTY: Final = b""


class ConnectionState(enum.Enum):
    """Where a connection is in its life; the pool and the response check it, not flags."""

    IDLE = "idle"  # no exchange pending: it may be lent (if still connected)
    AWAITING_HEAD = "awaiting head"  # a request was armed; no final head yet
    RECEIVING_BODY = "receiving body"  # the final head arrived; the body has not ended
    UPGRADED = "upgraded"  # after 101 or a CONNECT tunnel: bytes belong to another protocol
    CLOSED = "closed"  # the connection is gone or failed; nothing more will arrive


_IDLE: Final = ConnectionState.IDLE
_AWAITING_HEAD: Final = ConnectionState.AWAITING_HEAD
_RECEIVING_BODY: Final = ConnectionState.RECEIVING_BODY
_UPGRADED: Final = ConnectionState.UPGRADED
_CLOSED: Final = ConnectionState.CLOSED


class ResponseHandler(BaseProtocol):
    """Parses the responses of one connection and hands them to the waiting request."""

    # False: one exchange at a time over the transport (HTTP/1.1); StreamHandler is True.
    multiplexed = False

    __slots__ = (
        "_auto_decompress",
        "_body",
        "_body_withheld",
        "_closed",
        "_continue_waiter",
        "_decoder",
        "_eof",
        "_exception",
        "_head_pending",
        "_head_waiter",
        "_last_read",
        "_message",
        "_on_complete",
        "_parser",
        "_parts",
        "_payload",
        "_read_bufsize",
        "_read_handle",
        "_sink",
        "_sock_read",
        "_state",
        "_upgrade_tail",
        "_upload",
        "_view",
        "multiplexer",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self._state = _IDLE
        self._parser = ResponseParser()
        self._view = _NO_VIEW  # get_buffer() takes the reading thread's buffer
        self._head_waiter: asyncio.Future[RawResponseMessage] | None = None
        # The final head has been parsed but is handed out only once the read it came
        # in is parsed too (see _on_head).
        self._head_pending = False
        self._continue_waiter: asyncio.Future[bool] | None = None
        self._body_withheld = False
        self._message: RawResponseMessage | None = None
        self._payload: StreamReader | None = None
        self._parts: list[bytes] = []
        self._body: bytes | None = None
        self._on_complete: Callable[[], None] | None = None
        self._decoder: BodyDecoder | None = None
        self._read_bufsize = 2**16
        self._auto_decompress = True
        self._upgrade_tail = _EMPTY
        self._sink: UpgradeSink | None = None
        self._eof = False
        self._exception: BaseException | None = None
        self._sock_read: float | None = None
        self._read_handle: asyncio.TimerHandle | None = None
        # The request body's writer while sock_read waits for it to finish.
        self._upload: asyncio.Future[None] | None = None
        self._last_read = 0.0
        self._closed: asyncio.Future[None] = loop.create_future()
        # The HTTP/2 connection that took this transport over (see hold_for_handover).
        self.multiplexer: Multiplexer | None = None

    # --- state the pool and the response ask about -----------------------------------

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def closed(self) -> asyncio.Future[None]:
        """Resolved once the transport is gone."""
        return self._closed

    @property
    def upgraded(self) -> bool:
        return self._state is _UPGRADED

    @property
    def upload_went_out(self) -> bool:
        """Whether what the request wrote reached the connection: it was not lost first."""
        return self.transport is not None

    @property
    def should_close(self) -> bool:
        """True when this connection must not go back to the pool."""
        message = self._message
        transport = self.transport
        return (
            self._state is not _IDLE
            or transport is None
            or self._eof
            or self._exception is not None
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
        self._drop_transport(abort=False)
        self._fail_closed_body()

    def abort(self) -> None:
        self._drop_transport(abort=True)
        self._fail_closed_body()

    def _fail_closed_body(self) -> None:
        # Closed on our side (the pool or the session closing) mid-body: aiohttp's reader
        # then fails with this plain RuntimeError, not with a payload error.
        if self._state is _RECEIVING_BODY:
            self._fail_current(RuntimeError("Connection closed."), None)

    def _drop_transport(self, *, abort: bool) -> None:
        self._cancel_read_timer()
        transport = self.transport
        if transport is not None:
            if self.multiplexer is not None:
                self.multiplexer.goodbye()  # an abort too: the write is tried at once
            if abort:
                transport.abort()
            else:
                transport.close()
            self.transport = None
        if self._state is _IDLE:
            self._state = _CLOSED

    # --- one exchange ----------------------------------------------------------------

    def expect_response(
        self,
        method: str,
        settings: RequestSettings = DEFAULT_SETTINGS,
        continue_waiter: asyncio.Future[bool] | None = None,
    ) -> asyncio.Future[RawResponseMessage]:
        """Arm the parser for the answer to a request about to be written."""
        self._parser.start_response(method, settings)
        waiter: asyncio.Future[RawResponseMessage] = self._loop.create_future()
        self._head_waiter = waiter
        self._continue_waiter = continue_waiter
        self._body_withheld = False
        self._message = None
        self._payload = None
        self._body = None
        self._decoder = None
        self._on_complete = None
        self._read_bufsize = settings.read_bufsize
        self._auto_decompress = settings.auto_decompress
        self._upload = None
        self._head_pending = False
        if self._exception is not None or self.transport is None:
            self._state = _CLOSED
            waiter.set_exception(self._exception or ServerDisconnectedError())
            return waiter
        self._state = _AWAITING_HEAD
        sock_read = self._sock_read = settings.timeout.sock_read
        if sock_read is not None:
            self._last_read = self._loop.time()
            self._read_handle = self._loop.call_at(
                self._last_read + sock_read, self._on_read_timeout
            )
        return waiter

    def read_timeout_after(self, upload: asyncio.Future[None]) -> None:
        """Start sock_read only once `upload`, the request body's writer, is done.

        As aiohttp does: a slow upload is not a slow server. An in-memory body is
        written at once, so its exchange keeps the timer armed by expect_response.
        """
        if self._sock_read is None or upload.done():
            return
        self._cancel_read_timer()
        self._upload = upload
        upload.add_done_callback(self._on_upload_done)

    def _on_upload_done(self, upload: asyncio.Future[None]) -> None:
        if upload is not self._upload:
            return  # a later exchange owns the timer now
        self._upload = None
        sock_read = self._sock_read
        state = self._state
        if sock_read is None or (state is not _AWAITING_HEAD and state is not _RECEIVING_BODY):
            return
        self._last_read = now = self._loop.time()
        self._read_handle = self._loop.call_at(now + sock_read, self._on_read_timeout)

    @property
    def read_bufsize(self) -> int:
        """The current exchange's read_bufsize: its body's stream limits derive from it."""
        return self._read_bufsize

    def response_head(self) -> asyncio.Future[RawResponseMessage]:
        """The future of the armed exchange's final head (it may have resolved already)."""
        waiter = self._head_waiter
        if waiter is None:
            raise RuntimeError("The connection is not expecting a response")
        return waiter

    def abandon_response(self) -> None:
        """The attempt failed: nobody will read how its head ended (a no-op when start()
        already awaited it). Without this, a head waiter failed later, as the connection
        closes, is reported on the loop as "Future exception was never retrieved"."""
        waiter = self._head_waiter
        if waiter is not None:
            if not waiter.done():
                waiter.cancel()
            elif not waiter.cancelled():
                waiter.exception()  # marks the exception as retrieved

    def take_body(self) -> bytes | None:
        """The whole body if it arrived before anyone asked for a stream, else None."""
        body = self._body
        self._body = None
        return body

    @property
    def body_complete(self) -> bool:
        """True once the current body has ended (or failed): nothing more will be fed."""
        state = self._state
        return state is not _RECEIVING_BODY and state is not _AWAITING_HEAD

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

    def hold_for_handover(self) -> None:
        """Keep every byte that arrives until attach_sink() or take_back() decides whose
        they are: a TLS connection that offered h2 learns only after the handshake."""
        self._state = _UPGRADED

    def take_back(self) -> None:
        """HTTP/1.1 after all: back to idle; bytes nobody asked for kill the connection."""
        self._state = _IDLE
        if self._upgrade_tail:
            self._upgrade_tail = _EMPTY
            self._die(BadHttpMessage("Data received on an idle connection"), None)
        elif self._reading_paused:
            self.resume_reading()

    def hand_over(self, multiplexer: Multiplexer) -> None:
        """Give the held connection to an HTTP/2 connection: it takes every byte."""
        self.multiplexer = multiplexer
        self.attach_sink(multiplexer)

    def attach_sink(self, sink: UpgradeSink) -> None:
        """Hand every byte after the 101 answer to `sink`, the bytes already here first."""
        if self._state is not _UPGRADED:
            raise RuntimeError("The connection has not been upgraded")
        self._sink = sink
        tail = self.upgrade_tail()
        if self._reading_paused:
            # Paused only to bound the tail; from here the sink decides.
            self.resume_reading()
        if tail:
            sink.feed_data(tail)
        if self.transport is None:
            self._sink = None
            sink.connection_lost(self._exception)

    # --- the transport's side ------------------------------------------------------------

    def get_buffer(self, sizehint: int) -> memoryview:
        # The buffer of the thread reading now, not of the one that made this protocol.
        view = self._view = _read_view()
        return view

    def buffer_updated(self, nbytes: int) -> None:
        if self.multiplexer is not None:  # it copies only what it keeps (see feed_view)
            self.multiplexer.feed_view(self._view[:nbytes])
            return
        data = bytes(self._view[:nbytes])  # copied first: the buffer is the thread's
        if self._pause_due:
            self.pause_due_now()  # a second read within one loop step (uvloop, TLS)
        self.data_received(data)

    def data_received(self, data: bytes) -> None:
        if self._sock_read is not None:
            self._last_read = self._loop.time()
        state = self._state
        if state is _UPGRADED:
            sink = self._sink
            if sink is not None:
                sink.feed_data(data)
                return
            self._upgrade_tail += data
            if len(self._upgrade_tail) > self._read_bufsize:
                # Nobody has taken the connection over yet: stop reading until someone does.
                self.pause_reading()
            return
        parser = self._parser
        parser.feed_data(data)
        try:
            self._process_events(parser)
        except HttpProcessingError as exc:
            self._die(exc, exc)
            return
        if self._head_pending:
            self._release_head()
        state = self._state
        if state is _IDLE and parser.buffered:
            # Bytes that answer no request (RFC 9112 9.3: a client must not pipeline
            # here): the next request would read them as its response.
            self._die(BadHttpMessage("Data received on an idle connection"), None)
        elif state is _RECEIVING_BODY and self._payload is None:
            # The body did not arrive whole: from now on it streams with flow control.
            self._make_payload()

    def eof_received(self) -> bool:
        self._eof = True
        if self._state is _UPGRADED:
            return False
        parser = self._parser
        parser.feed_eof()
        try:
            self._process_events(parser)
        except HttpProcessingError as exc:
            self._die(exc, exc)
        if self._head_pending:
            self._release_head()
        return False

    def connection_lost(self, exc: BaseException | None) -> None:
        self._cancel_read_timer()
        super().connection_lost(exc)
        self._eof = True
        if self._state is _AWAITING_HEAD or self._state is _RECEIVING_BODY:
            self._end_on_close(exc)
        if self._state is not _RECEIVING_BODY and self._state is not _UPGRADED:
            # A compressed body that fully arrived is still expanded as it is read; an
            # upgraded connection's last bytes still go to whoever attaches to it.
            self._state = _CLOSED
        if not self._closed.done():
            self._closed.set_result(None)
        sink = self._sink
        if sink is not None:
            self._sink = None
            sink.connection_lost(exc)

    def resume_reading(self) -> None:
        if self._reading_paused and self._sock_read is not None:
            # The peer gets a whole sock_read window from now: we were the slow side.
            self._last_read = self._loop.time()
        super().resume_reading()
        if self._decoder is not None and self._state is _RECEIVING_BODY:
            self._pump()

    # --- internals ---------------------------------------------------------------------

    def _end_on_close(self, exc: BaseException | None) -> None:
        """The peer closed mid-exchange: a body framed by the close ends, else it failed."""
        parser = self._parser
        parser.feed_eof()
        try:
            self._process_events(parser)
        except HttpProcessingError as perr:
            self._die(perr, perr)
        if self._head_pending:
            self._release_head()
        self._fail_unanswered(exc)

    def _fail_unanswered(self, exc: BaseException | None) -> None:
        """The connection (or stream) ended mid-exchange: unless the whole body is in (a
        compressed one still expands as it is read), the exchange failed."""
        state = self._state
        if state is not _AWAITING_HEAD and state is not _RECEIVING_BODY:
            return
        decoder = self._decoder
        if decoder is not None and decoder.input_ended:
            return
        if isinstance(exc, OSError):
            err: BaseException = ClientOSError(*exc.args)
        else:
            err = ServerDisconnectedError()
        self._fail_current(err, exc)

    def _process_events(self, parser: ResponseParser) -> None:
        next_event = parser.next_event
        while True:
            event = next_event()
            if event is NEED_DATA or event is CONNECTION_CLOSED:
                return
            event_type = type(event)
            if event_type is bytes:
                assert isinstance(event, bytes)
                self._take_body(event)
            elif event_type is RawResponseMessage:
                assert isinstance(event, RawResponseMessage)
                self._on_head(event)
            elif event_type is EndOfMessage:
                self._on_end_of_message()
            elif event is PAUSED:
                self._state = _UPGRADED
                self._upgrade_tail = parser.trailing_data
                self._cancel_read_timer()
                return

    def _take_body(self, data: bytes) -> None:
        """Body bytes: kept whole until a stream is asked for, else fed (decoded or not)."""
        if self._payload is None:
            self._parts.append(data)
        elif self._decoder is not None:
            self._decoder.feed(data)
            self._pump()
        else:
            self._payload.feed_data(data)

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
        self._state = _RECEIVING_BODY
        if message.compression is not None and self._auto_decompress:
            payload = self._make_payload()
            self._decoder = BodyDecoder(message.compression, self._read_bufsize, payload, self)
        # Handed out once the rest of this read is parsed: aiohttp parses a whole read
        # before it gives out the head, so a broken body in the same read fails the
        # head itself (ClientResponseError 400) rather than the body.
        self._head_pending = True

    def _release_head(self) -> None:
        self._head_pending = False
        # The waiter stays set until the next exchange: ClientResponse.start() may come
        # to it after the head has already arrived.
        waiter = self._head_waiter
        message = self._message
        if waiter is not None and not waiter.done() and message is not None:
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
            self._decoder.input_ended = True
            self._pump()
        else:
            payload.feed_eof()
            self._message_complete()

    def _pump(self) -> None:
        """Let the decoder expand what it holds; end the body once it is all out."""
        decoder = self._decoder
        assert decoder is not None
        try:
            done = decoder.pump()
        except HttpProcessingError as exc:
            # aiohttp reports content it cannot decode from the body, even in the head's read.
            if self._head_pending:
                self._release_head()
            self._die(exc, exc)
            return
        if done:
            decoder.input_ended = False
            payload = self._payload
            if payload is not None:
                payload.feed_eof()
            self._message_complete()

    def _message_complete(self) -> None:
        self._state = _IDLE if self.transport is not None else _CLOSED
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
            for part in parts:
                payload.feed_data(part)
            parts.clear()
        return payload

    def _die(self, exc: BaseException, cause: BaseException | None) -> None:
        """The connection is dead: remember why, close it, and tell the current exchange."""
        self._exception = exc
        self._drop_transport(abort=False)
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
            self._state = _CLOSED
            return
        if self._state is not _RECEIVING_BODY:
            return
        if isinstance(exc, ContentEncodingError):
            # As aiohttp words it: the decoding error's own text, not "not completed".
            err: BaseException = ClientPayloadError(str(exc))
        elif isinstance(exc, (HttpProcessingError, ServerDisconnectedError)):
            err = ClientPayloadError(f"Response payload is not completed: {exc!r}")
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
        state = self._state
        if sock_read is None or (state is not _AWAITING_HEAD and state is not _RECEIVING_BODY):
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


class StreamHandler(ResponseHandler):
    """The exchange of one HTTP/2 stream, with a connection's head, body and timeout rules.

    The HTTP/2 connection feeds it decoded events (deliver_*) instead of bytes; its transport
    is the stream's (writes become DATA frames, pausing holds back window updates, closing
    resets the stream). The pool frees it with its exchange (`released`), never pools it.
    """

    __slots__ = ("_sent_all", "limits")
    multiplexed = True

    def __init__(self, loop: asyncio.AbstractEventLoop, transport: asyncio.Transport) -> None:
        super().__init__(loop)
        self.transport = transport
        # The current exchange's (max_field_size, max_headers), for its header blocks.
        self.limits = (DEFAULT_SETTINGS.max_field_size, DEFAULT_SETTINGS.max_headers)
        self._sent_all = False  # set on release: the upload ended before it

    def expect_response(
        self,
        method: str,
        settings: RequestSettings = DEFAULT_SETTINGS,
        continue_waiter: asyncio.Future[bool] | None = None,
    ) -> asyncio.Future[RawResponseMessage]:
        self.limits = (settings.max_field_size, settings.max_headers)
        return super().expect_response(method, settings, continue_waiter)

    def deliver_head(self, message: RawResponseMessage) -> None:
        """A header block: an interim head (1xx) or the final one, handed out at end_of_read."""
        if self._sock_read is not None:
            self._last_read = self._loop.time()
        if self._state is _AWAITING_HEAD:
            self._on_head(message)

    def deliver_data(self, data: bytes) -> None:
        if self._sock_read is not None:
            self._last_read = self._loop.time()
        if self._state is _RECEIVING_BODY and data:
            self._take_body(data)

    def deliver_end(self) -> None:
        """The server ended the stream (after trailers, if any)."""
        state = self._state
        if state is _RECEIVING_BODY:
            self._on_end_of_message()
        elif state is _AWAITING_HEAD:
            self._die(BadHttpMessage("Stream ended without a final response head"), None)

    def end_of_read(self) -> None:
        """What one read brought is all delivered: hand out the head, stream the rest."""
        if self._head_pending:
            self._release_head()
        if self._state is _RECEIVING_BODY and self._payload is None:
            self._make_payload()

    def deliver_error(self, exc: BaseException) -> None:
        """The stream failed (reset, malformed head or trailers): fail its exchange."""
        self._die(exc, exc if isinstance(exc, HttpProcessingError) else None)

    @property
    def upload_went_out(self) -> bool:
        # A released stream has no transport: its upload went out if it ended first.
        transport = self.transport
        return self._sent_all if transport is None else not transport.is_closing()

    def released(self, sent_all: bool) -> None:
        """The pool took the stream back; `sent_all`: the request's body had all gone out.

        Unlinked from its transport and body reader (they point back at it), the handler
        is freed at once instead of by the cycle collector.
        """
        self._sent_all = sent_all
        self._cancel_read_timer()
        self._state = _CLOSED
        self.transport = None
        self._payload = None
        self._decoder = None

    def connection_lost(self, exc: BaseException | None) -> None:
        """The stream ends unanswered: the connection is gone, or a GOAWAY left it unprocessed."""
        self._cancel_read_timer()
        BaseProtocol.connection_lost(self, exc)
        self._eof = True
        self._fail_unanswered(exc)
        if self._state is not _RECEIVING_BODY:
            self._state = _CLOSED
        if not self._closed.done():
            self._closed.set_result(None)

    def pause_reading(self) -> None:
        # Told to the stream at once: pausing a stream only holds back window updates.
        if not self._reading_paused:
            self._reading_paused = True
            transport = self.transport
            if transport is not None:
                transport.pause_reading()

    def resume_reading(self) -> None:
        if self._reading_paused:
            self._reading_paused = False
            if self._sock_read is not None:
                self._last_read = self._loop.time()
            transport = self.transport
            if transport is not None:
                transport.resume_reading()
        if self._decoder is not None and self._state is _RECEIVING_BODY:
            self._pump()

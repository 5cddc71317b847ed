"""One HTTP/2 connection (RFC 9113) on the `h2` library: many streams over one transport.

Takes over a connected `ResponseHandler` (its bytes come to `feed_data`), lends streams
to the pool (each a `client_proto.StreamHandler` whose transport is a `_Stream`), turns
the events of its `_h2_state.ClientState` into the streams' and their writes into frames,
within both peers' flow control windows. Imported only by a connector asked for HTTP/2:
the `http2` extra.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import Any, Final

import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
import hyperframe.exceptions

from ._h2_head import RawHeaders, ResponseHeads, trailer_fields
from ._h2_state import BadBodyLength, ClientState, FrameTooLarge
from .client_exceptions import ClientConnectionResetError, ServerDisconnectedError
from .client_proto import ResponseHandler, StreamHandler
from .http_exceptions import BadHttpMessage, ContentLengthError, HttpProcessingError

__all__ = ("Http2Connection",)

# A stream's unsent body bytes above which its writer waits (as a transport's high water).
_SEND_HIGH_WATER: Final = 2**16
# Stream ids are 31 bits; near the end, no new streams (a new connection takes over).
_LAST_STREAM_ID: Final = 2**31 - 1025

_CANCEL: Final = h2.errors.ErrorCodes.CANCEL
_CLOSED: Final = h2.connection.ConnectionState.CLOSED
_PROTOCOL_ERROR: Final = h2.errors.ErrorCodes.PROTOCOL_ERROR


def _reset_error(stream_id: int, code: int) -> ServerDisconnectedError:
    try:
        name = h2.errors.ErrorCodes(code).name
    except ValueError:
        name = f"error code {code}"
    return ServerDisconnectedError(f"HTTP/2 stream {stream_id} reset by the server ({name})")


class _Stream(asyncio.Transport):
    """The transport of one stream, as its StreamHandler and the request's writer see it."""

    __slots__ = (
        "_conn",
        "closing",
        "end_asked",
        "ended_in",
        "ended_out",
        "handler",
        "held",
        "out",
        "out_size",
        "paused_in",
        "stream_id",
    )

    def __init__(self, conn: Http2Connection, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._conn = conn
        self.stream_id = 0  # given when the head is sent: ids must rise in sending order
        self.out: deque[memoryview] = deque()
        self.out_size = 0
        self.end_asked = False
        self.ended_out = False
        self.ended_in = False
        self.closing = False
        self.paused_in = False
        self.held = 0  # received bytes not acknowledged while the reader is full
        self.handler = StreamHandler(loop, self)

    # What ClientRequest adds to a transport's API: the head as one header block.
    def send_head(self, fields: RawHeaders, end_stream: bool) -> None:
        self._conn.send_head(self, fields, end_stream)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.closing:
            raise ClientConnectionResetError("Cannot write to closing transport")
        if data:
            # A copy (the caller may reuse its buffer), sliced into frames without more.
            self._conn.send_body(self, memoryview(bytes(data)))

    def writelines(self, list_of_data: Any) -> None:
        self.write(b"".join(list_of_data))

    def write_eof(self) -> None:
        self.end_asked = True
        self._conn.pump(self)

    def can_write_eof(self) -> bool:
        return True

    def get_write_buffer_size(self) -> int:
        return self.out_size

    def is_closing(self) -> bool:
        # Closed after its upload ended, the stream threw nothing away (upload trackers).
        return self.closing and not self.ended_out

    def close(self) -> None:
        self._conn.close_stream(self)

    def abort(self) -> None:
        self._conn.close_stream(self)

    def pause_reading(self) -> None:
        self.paused_in = True

    def resume_reading(self) -> None:
        self.paused_in = False
        self._conn.acknowledge(self)

    def is_reading(self) -> bool:
        return not self.paused_in

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._conn.extra_info(name, default)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self.handler


class Http2Connection:
    """The HTTP/2 state of one connection and the streams lent on it."""

    __slots__ = (
        "_flush_due",
        "_goaway",
        "_h2",
        "_heads",
        "_lent",
        "_loop",
        "_protocol",
        "_ready",
        "_streams",
        "_waiting_drain",
        "idle_since",
        "on_room",
    )

    def __init__(self, protocol: ResponseHandler, loop: asyncio.AbstractEventLoop) -> None:
        self._protocol = protocol
        self._loop = loop
        self._h2 = ClientState(self._sent_streams)
        self._h2.open()
        self._streams: dict[int, _Stream] = {}  # by id, once their head went out
        self._lent: dict[StreamHandler, _Stream] = {}
        self._goaway = False
        self._flush_due = False
        self._waiting_drain = False
        self._heads = ResponseHeads()
        self.idle_since = loop.time()
        self.on_room: Callable[[], None] | None = None
        # Resolved by the server's first SETTINGS: its stream cap is known from then on.
        self._ready: asyncio.Future[None] = loop.create_future()
        protocol.hand_over(self)
        self._flush()

    def _sent_streams(self) -> int:
        return len(self._streams)

    async def ready(self) -> None:
        """Return once the server's SETTINGS arrived; raise if the connection failed first."""
        await self._ready

    # --- what the pool asks (the _interfaces.Multiplexer protocol) -------------------------

    @property
    def active_streams(self) -> int:
        return len(self._lent)

    @property
    def usable(self) -> bool:
        return (
            not self._goaway
            and self._protocol.transport is not None
            and self._h2.highest_outbound_stream_id < _LAST_STREAM_ID
        )

    def can_open_stream(self) -> bool:
        cap = self._h2.remote_settings.max_concurrent_streams
        return len(self._lent) < cap and self.usable

    def open_stream(self) -> StreamHandler:
        stream = _Stream(self, self._loop)
        self._lent[stream.handler] = stream
        return stream.handler

    def release_stream(self, handler: Any) -> None:
        stream = self._lent.pop(handler, None)
        if stream is None:
            return
        self.close_stream(stream)
        if stream.held and self._protocol.transport is not None:
            self._acknowledge_held(stream)
            self._schedule_flush()
        self._streams.pop(stream.stream_id, None)
        stream.handler.released(stream.ended_out)
        if not self._lent:
            self.idle_since = self._loop.time()
            if self._goaway:
                self._protocol.close()

    def goodbye(self) -> None:
        """The connection closes on our side: tell the server why (RFC 9113 6.8: NO_ERROR),
        unless a GOAWAY of ours went out already."""
        if self._h2.state_machine.state is not _CLOSED and self._protocol.transport is not None:
            self._h2.close_connection()
            self._flush()

    # --- what the streams ask -----------------------------------------------------------

    def extra_info(self, name: str, default: Any) -> Any:
        transport = self._protocol.transport
        return default if transport is None else transport.get_extra_info(name, default)

    def send_head(self, stream: _Stream, fields: RawHeaders, end_stream: bool) -> None:
        if stream.closing or stream.stream_id:
            raise ClientConnectionResetError("Cannot write to closing transport")
        if not self.usable:
            # Going away (or gone): the request was not sent; it may go on a new connection.
            raise ServerDisconnectedError("HTTP/2 connection is going away")
        conn = self._h2
        try:
            stream_id = conn.send_request(fields, end_stream)
        except h2.exceptions.ProtocolError as exc:  # e.g. the server lowered its stream cap
            raise ServerDisconnectedError(f"HTTP/2 stream refused: {exc!r}") from exc
        stream.stream_id = stream_id
        stream.end_asked = stream.ended_out = end_stream
        self._streams[stream_id] = stream
        self._schedule_flush()

    def send_body(self, stream: _Stream, data: memoryview) -> None:
        stream.out.append(data)
        stream.out_size += len(data)
        self.pump(stream)
        if stream.out_size > _SEND_HIGH_WATER:
            stream.handler.pause_writing()

    def pump(self, stream: _Stream) -> None:
        """Send what `stream` holds, as far as the flow control windows and the socket let."""
        if stream.closing or not stream.stream_id:
            return
        conn = self._h2
        stream_id = stream.stream_id
        out = stream.out
        while out and not self._protocol.writing_paused:
            window = min(conn.local_flow_control_window(stream_id), conn.max_outbound_frame_size)
            if window <= 0:
                break
            chunk = out.popleft()
            if len(chunk) > window:
                out.appendleft(chunk[window:])
                chunk = chunk[:window]
            stream.out_size -= len(chunk)
            try:
                conn.send_data(stream_id, chunk)
            except h2.exceptions.StreamClosedError:
                # Reset in the read being handled: its event, still to come, tells why.
                out.clear()
                stream.out_size = 0
                if stream.handler.writing_paused:
                    stream.handler.resume_writing()
                return
        if not out and stream.end_asked and not stream.ended_out:
            stream.ended_out = True
            with contextlib.suppress(h2.exceptions.StreamClosedError):
                conn.end_stream(stream_id)
        if out and self._protocol.writing_paused:
            self._wait_for_socket()
        if stream.out_size <= _SEND_HIGH_WATER // 4 and stream.handler.writing_paused:
            stream.handler.resume_writing()
        self._schedule_flush()

    def close_stream(self, stream: _Stream) -> None:
        """Stop the stream: reset it unless both sides ended it (or the server reset it)."""
        if stream.closing:
            return
        self._stop_upload(stream)
        stream_id = stream.stream_id
        ended = stream.ended_in and stream.ended_out
        if stream_id and not ended and self._protocol.transport is not None:
            self._reset(stream_id, _CANCEL)

    def _stop_upload(self, stream: _Stream) -> None:
        """Nothing more goes out on `stream`: drop what waits, let a waiting writer fail."""
        stream.closing = True
        stream.out.clear()
        stream.out_size = 0
        handler = stream.handler
        if handler.writing_paused:
            handler.resume_writing()

    def acknowledge(self, stream: _Stream) -> None:
        """The reader took data again: what it held back may come now."""
        if stream.held and self._protocol.transport is not None:
            self._acknowledge_held(stream)
            self._schedule_flush()

    def _acknowledge_held(self, stream: _Stream) -> None:
        # Also for a stream that ended or was reset: the connection's window counts it.
        held, stream.held = stream.held, 0
        self._h2.acknowledge_received_data(held, stream.stream_id)

    # --- the socket's side (the _interfaces.UpgradeSink protocol) --------------------------

    def feed_data(self, data: bytes) -> None:
        self.feed_view(memoryview(data))

    def feed_view(self, data: memoryview) -> None:
        """The bytes of one read; nothing keeps a view of them past this call."""
        try:
            events = self._h2.receive(data)
        except (
            h2.exceptions.ProtocolError,
            hyperframe.exceptions.HyperframeError,
            FrameTooLarge,
        ) as exc:
            self._fail(exc)
            return
        touched: list[_Stream] = []
        for event in events:
            handler = _HANDLERS.get(type(event))
            if handler is not None:
                stream = handler(self, event)
                if stream is not None:
                    touched.append(stream)
        for stream in touched:
            stream.handler.end_of_read()
            if stream.held and (not stream.paused_in or stream.closing):
                self._acknowledge_held(stream)
        self._flush()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._goaway = True
        self._not_ready(exc or ConnectionResetError("Connection lost"))
        for stream in list(self._lent.values()):
            stream.closing = True
            stream.handler.connection_lost(exc)

    # --- events ---------------------------------------------------------------------------

    def _stream(self, stream_id: int) -> _Stream | None:
        stream = self._streams.get(stream_id)
        return None if stream is None or stream.closing else stream

    def _on_head(self, event: Any) -> _Stream | None:
        stream = self._stream(event.stream_id)
        if stream is None:
            return None
        handler = stream.handler
        max_field_size, max_headers = handler.limits
        try:
            message = self._heads.head(event.headers, max_field_size, max_headers)
        except HttpProcessingError as exc:
            self._refuse(stream, exc)
            return None
        handler.deliver_head(message)
        return stream

    def _on_trailers(self, event: h2.events.TrailersReceived) -> _Stream | None:
        stream = self._stream(event.stream_id)
        if stream is None:
            return None
        max_field_size, max_headers = stream.handler.limits
        try:
            trailer_fields(event.headers, max_field_size=max_field_size, max_headers=max_headers)
        except HttpProcessingError as exc:
            self._refuse(stream, exc)
            return None
        return stream

    def _on_data(self, event: h2.events.DataReceived) -> _Stream | None:
        stream_id = event.stream_id
        size = event.flow_controlled_length or 0
        stream = self._stream(stream_id)
        if stream is None:
            if size:  # a stream we stopped: the connection's window still counts it
                self._h2.acknowledge_received_data(size, stream_id)
            return None
        # Acknowledged once per read (feed_data), unless the reader is full by then.
        stream.held += size
        stream.handler.deliver_data(event.data or b"")
        return stream

    def _on_end(self, event: h2.events.StreamEnded) -> _Stream | None:
        stream = self._stream(event.stream_id)
        if stream is None:
            return None
        stream.ended_in = True
        stream.handler.deliver_end()
        return stream

    def _on_reset(self, event: h2.events.StreamReset) -> _Stream | None:
        stream = self._stream(event.stream_id)
        if stream is None:
            return None
        self._stop_upload(stream)
        if not stream.ended_in:
            # After a complete response the reset only stops the upload (RFC 9113 8.1:
            # NO_ERROR asks exactly that); the response stands.
            stream.handler.deliver_error(_reset_error(event.stream_id, event.error_code or 0))
        return stream

    def _on_bad_length(self, event: BadBodyLength) -> _Stream | None:
        stream = self._stream(event.stream_id)
        if stream is None:
            return None
        stream.closing = True  # h2 reset it already
        stream.handler.deliver_error(ContentLengthError(event.message))
        return stream

    def _on_window(self, event: h2.events.WindowUpdated) -> None:
        if event.stream_id:
            stream = self._stream(event.stream_id)
            if stream is not None:
                self.pump(stream)
        else:
            self._pump_all()

    def _on_settings(self, event: h2.events.RemoteSettingsChanged) -> None:
        if not self._ready.done():
            self._ready.set_result(None)
        changed = event.changed_settings
        if h2.settings.SettingCodes.INITIAL_WINDOW_SIZE in changed:
            self._pump_all()
        if h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS in changed and self.on_room:
            self.on_room()  # requests queued for a stream may go now

    def _on_goaway(self, event: h2.events.ConnectionTerminated) -> None:
        """Streams above the last one the server processes fail as retryable; the rest end."""
        self._goaway = True
        last = event.last_stream_id or 0
        for stream_id, stream in list(self._streams.items()):
            if stream_id > last and not stream.closing:
                stream.closing = True
                stream.handler.connection_lost(None)
        self._not_ready(ServerDisconnectedError("HTTP/2 connection refused"))
        if not self._lent:
            self._protocol.close()

    # --- internals ----------------------------------------------------------------------

    def _refuse(self, stream: _Stream, exc: HttpProcessingError) -> None:
        """A malformed response on one stream (RFC 9113 8.1.1): reset it and fail it."""
        stream.closing = True
        self._reset(stream.stream_id, _PROTOCOL_ERROR)
        stream.handler.deliver_error(exc)

    def _reset(self, stream_id: int, code: h2.errors.ErrorCodes) -> None:
        # h2 takes a whole read before we see its events: the stream may have ended in
        # that read already, and then there is nothing left to reset.
        with contextlib.suppress(h2.exceptions.StreamClosedError):
            self._h2.reset_stream(stream_id, code)
        self._schedule_flush()

    def _fail(self, exc: Exception) -> None:
        """The server broke HTTP/2: a GOAWAY says why, every stream fails, the socket closes."""
        self._goaway = True
        # h2 sent its GOAWAY already for what it found in a header block's run (its own
        # receive_data); not for the frames we cut.
        if self._h2.state_machine.state is not _CLOSED:
            self._h2.close_connection(getattr(exc, "error_code", _PROTOCOL_ERROR))
        self._flush()
        error = BadHttpMessage(f"HTTP/2 protocol error: {exc}")
        self._not_ready(error)
        for stream in list(self._lent.values()):
            if not stream.closing:
                stream.closing = True
                stream.handler.deliver_error(error)
        self._protocol.close()

    def _not_ready(self, exc: BaseException) -> None:
        """The connection failed before the server's SETTINGS: ready() raises `exc`."""
        ready = self._ready
        if not ready.done():
            ready.set_exception(exc)
            ready.exception()  # retrieved: nobody may be waiting on it any more

    def _pump_all(self) -> None:
        for stream in list(self._streams.values()):
            if stream.out or (stream.end_asked and not stream.ended_out):
                self.pump(stream)

    def _wait_for_socket(self) -> None:
        if self._waiting_drain:
            return
        self._waiting_drain = True
        task = self._loop.create_task(self._protocol.wait_for_drain())
        task.add_done_callback(self._socket_drained)

    def _socket_drained(self, task: asyncio.Task[None]) -> None:
        self._waiting_drain = False
        if not task.cancelled() and task.exception() is None:
            self._pump_all()

    def _schedule_flush(self) -> None:
        if not self._flush_due:
            self._flush_due = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_due = False
        data = self._h2.data_to_send()
        transport = self._protocol.transport
        if data and transport is not None:
            transport.write(data)


_HANDLERS: Final[dict[type, Any]] = {
    h2.events.ResponseReceived: Http2Connection._on_head,
    h2.events.InformationalResponseReceived: Http2Connection._on_head,
    h2.events.TrailersReceived: Http2Connection._on_trailers,
    h2.events.DataReceived: Http2Connection._on_data,
    h2.events.StreamEnded: Http2Connection._on_end,
    h2.events.StreamReset: Http2Connection._on_reset,
    h2.events.WindowUpdated: Http2Connection._on_window,
    h2.events.RemoteSettingsChanged: Http2Connection._on_settings,
    h2.events.ConnectionTerminated: Http2Connection._on_goaway,
    BadBodyLength: Http2Connection._on_bad_length,
}

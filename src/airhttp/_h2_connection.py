"""One HTTP/2 connection (RFC 9113) on the `h2` library: many streams over one transport.

Takes over a connected `ResponseHandler` (its bytes come to `feed_data`), lends streams
to the pool (each a `client_proto.StreamHandler` whose transport is a `_Stream`), turns
frames into the streams' events and their writes into frames, within both peers' flow
control windows. Imported only by a connector asked for HTTP/2: the `http2` extra.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import Any, Final

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
import h2.stream
import hyperframe.exceptions
import hyperframe.frame

from ._h2_frames import FrameSplitter, FrameTooLarge, header_frames
from ._h2_head import RawHeaders, ResponseHeads, trailer_fields
from ._h2_hpack import CachingDecoder, CachingEncoder
from .client_exceptions import ClientConnectionResetError, ServerDisconnectedError
from .client_proto import ResponseHandler, StreamHandler
from .http_exceptions import BadHttpMessage, ContentLengthError, HttpProcessingError

__all__ = ("Http2Connection",)

# Receive windows: the connection's is large (one slow stream need not stall the others:
# each stream's own window bounds it), a stream's lets a download run without waiting for
# window updates on a fast network; a reader that stops reading holds back the updates,
# so a stream buffers at most its window beyond the reader's limit.
_CONNECTION_WINDOW: Final = 2**24
_STREAM_WINDOW: Final = 2**20
# Frames the server may send us (RFC 9113 6.5.2: 16 KiB to 16 MiB); larger frames mean
# fewer of them to decode on a download.
_MAX_FRAME: Final = 2**18
# The decoded header list h2 accepts at all; requests' own max_field_size and max_headers
# judge each block below this.
_MAX_HEADER_LIST: Final = 2**21
# A stream's unsent body bytes above which its writer waits (as a transport's high water).
_SEND_HIGH_WATER: Final = 2**16
# Stream ids are 31 bits; near the end, no new streams (a new connection takes over).
_LAST_STREAM_ID: Final = 2**31 - 1025

_CONFIG: Final = h2.config.H2Configuration(
    client_side=True,
    header_encoding=None,
    # Headers are checked by _h2_head (RFC 9113 8.2), once, with the request's limits.
    validate_outbound_headers=False,
    normalize_outbound_headers=False,
    validate_inbound_headers=False,
    normalize_inbound_headers=False,
)
_parse_frame_header: Final = hyperframe.frame.Frame.parse_frame_header
_DataFrame: Final = hyperframe.frame.DataFrame
_DATA: Final = 0x0
# How often h2 may walk its streams to count them (see _ClientState.open_outbound_streams).
_RECOUNT: Final = 64
_CANCEL: Final = h2.errors.ErrorCodes.CANCEL
_SEND_HEADERS: Final = h2.connection.ConnectionInputs.SEND_HEADERS
_STREAM_SEND_HEADERS: Final = h2.stream.StreamInputs.SEND_HEADERS
_STREAM_SEND_END: Final = h2.stream.StreamInputs.SEND_END_STREAM
_CLIENT_IDS: Final = h2.connection.AllowedStreamIDs.ODD
_PROTOCOL_ERROR: Final = h2.errors.ErrorCodes.PROTOCOL_ERROR


class _ClientState(h2.connection.H2Connection):
    """h2's connection, except that a GOAWAY leaves the streams it spares running.

    h2 closes its whole state machine on GOAWAY, so frames of the streams at or below the
    last stream id would raise ProtocolError (python-hyper/h2#1199); RFC 9113 6.8 lets
    them finish. Http2Connection itself stops opening streams and fails the others.
    """

    def __init__(self, config: h2.config.H2Configuration, sent: Callable[[], int]) -> None:
        super().__init__(config=config)
        self._sent = sent
        self._until_recount = 0

    @property
    def open_outbound_streams(self) -> int:
        """What h2 checks the server's stream cap against, before each new stream.

        h2 finds it by walking every stream it holds (and forgets closed ones on the way):
        with many in flight that walk was the biggest cost of a request. Between walks,
        every _RECOUNT new streams, the count is Http2Connection's streams sent and not
        yet released: never below h2's, and within the cap Http2Connection keeps.
        """
        self._until_recount -= 1
        if self._until_recount <= 0:
            self._until_recount = _RECOUNT
            return max(super().open_outbound_streams, self._sent())
        return self._sent()

    def send_request(self, fields: RawHeaders, end_stream: bool) -> int:
        """What send_headers does for a request on the next stream; returns its id.

        h2's way builds, validates (off for us: _h2_head checked the fields), encodes and
        serialises frame objects; this writes the header block's frames directly and
        leaves h2 the same stream and state as send_headers would (the last lines of
        test_h2_client_state check that).
        """
        cap = self.remote_settings.max_concurrent_streams
        if self.open_outbound_streams + 1 > cap:
            raise h2.exceptions.TooManyStreamsError(f"Max outbound streams is {cap}")
        stream_id = self.get_next_available_stream_id()
        self.state_machine.process_input(_SEND_HEADERS)
        stream = self._begin_new_stream(stream_id, _CLIENT_IDS)
        machine = stream.state_machine
        machine.process_input(_STREAM_SEND_HEADERS)
        if end_stream:
            machine.process_input(_STREAM_SEND_END)
        stream.request_method = fields[0][1]  # :method, for a HEAD response's length
        block = self.encoder.encode(fields)
        self._data_to_send += header_frames(
            stream_id, block, end_stream, self.max_outbound_frame_size
        )
        return stream_id

    def receive_data_frame(self, frame: Any) -> list[Any]:
        """What h2's receive_data does for one parsed DATA frame, without its trace line:
        that formats every frame received, and for DATA it hex-encodes the whole payload
        (half of a download's time). h2 handles every error of a DATA frame inside
        _receive_data_frame."""
        try:
            frames, events = self._receive_data_frame(frame)
        except h2.exceptions.InvalidBodyLengthError as exc:
            # A stream error (RFC 9113 8.1.1), not the connection's, as h2 would make it.
            with contextlib.suppress(h2.exceptions.StreamClosedError):
                self.reset_stream(frame.stream_id, _PROTOCOL_ERROR)
            self.acknowledge_received_data(frame.flow_controlled_length, frame.stream_id)
            return [_BadBodyLength(frame.stream_id, str(exc))]
        self._prepare_for_sending(frames)
        return events

    def receive_frame(self, frame: Any) -> list[Any]:
        """What h2's receive_data does for one whole parsed frame (its frame buffer, which
        also joins CONTINUATION frames, is left out: the caller cuts frames)."""
        return self._receive_frame(frame)

    def _receive_frame(self, frame: Any) -> list[Any]:
        if frame.__class__ is hyperframe.frame.DataFrame:
            return self.receive_data_frame(frame)
        events: list[Any] = super()._receive_frame(frame)
        return events

    def _receive_goaway_frame(self, frame: Any) -> tuple[list[Any], list[Any]]:
        event = h2.events.ConnectionTerminated()
        try:
            event.error_code = h2.errors.ErrorCodes(frame.error_code)
        except ValueError:
            event.error_code = frame.error_code
        event.last_stream_id = frame.last_stream_id
        event.additional_data = frame.additional_data or None
        return [], [event]


class _BadBodyLength:
    """Our event: a stream's DATA disagree with its Content-Length (h2 raised)."""

    __slots__ = ("message", "stream_id")

    def __init__(self, stream_id: int, message: str) -> None:
        self.stream_id = stream_id
        self.message = message


# The two flag sets an unpadded DATA frame can have: shared, since h2 only reads them.
_DATA_FLAGS: Final = (
    hyperframe.frame.DataFrame(1).flags,
    hyperframe.frame.DataFrame(1, flags=("END_STREAM",)).flags,
)
_PADDED: Final = 0x8


def _parse_frame(header: memoryview, body: memoryview) -> Any:
    """hyperframe's frame of `header` and `body`; its errors as h2's frame buffer has them
    (a frame of the wrong size is FRAME_SIZE_ERROR, bad content PROTOCOL_ERROR)."""
    try:
        frame, _ = _parse_frame_header(header)
        frame.parse_body(body)
    except hyperframe.exceptions.InvalidFrameError as exc:
        raise h2.exceptions.FrameDataMissingError(f"Invalid frame: {exc}") from exc
    except hyperframe.exceptions.HyperframeError as exc:
        raise h2.exceptions.ProtocolError(f"Invalid frame: {exc}") from exc
    return frame


def _data_frame(header: memoryview, body: memoryview) -> Any:
    """The DATA frame of `header` and `body`, as hyperframe would parse it.

    An unpadded frame on a stream is built directly: hyperframe's parse costs half the
    time h2 then spends on the frame. Padded frames and stream 0 take hyperframe's way
    (and its checks).
    """
    flags = header[4]
    stream_id = int.from_bytes(header[5:9], "big") & 0x7FFFFFFF
    if flags & _PADDED or not stream_id:
        return _parse_frame(header, body)
    frame = _DataFrame.__new__(_DataFrame)
    frame.stream_id = stream_id
    frame.flags = _DATA_FLAGS[flags & 0x1]
    frame.body_len = len(body)
    frame.pad_length = 0
    frame.data = body.tobytes()
    return frame


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
        return self.closing

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
        "_frames",
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
    )

    def __init__(self, protocol: ResponseHandler, loop: asyncio.AbstractEventLoop) -> None:
        self._protocol = protocol
        self._loop = loop
        self._h2 = conn = _ClientState(_CONFIG, self._sent_streams)
        conn.local_settings = h2.settings.Settings(
            client=True,
            initial_values={
                h2.settings.SettingCodes.ENABLE_PUSH: 0,
                h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: _STREAM_WINDOW,
                h2.settings.SettingCodes.MAX_FRAME_SIZE: _MAX_FRAME,
                h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: _MAX_HEADER_LIST,
            },
        )
        conn.encoder = CachingEncoder()
        # The limits are applied at once, not only once the server acknowledged them: h2
        # applies an acknowledgement only from its next read, and frames of the new size
        # may share a read with it.
        conn.decoder = CachingDecoder(_MAX_HEADER_LIST)
        conn.max_inbound_frame_size = _MAX_FRAME
        conn.initiate_connection()
        conn.increment_flow_control_window(_CONNECTION_WINDOW - 65535)
        self._streams: dict[int, _Stream] = {}  # by id, once their head went out
        self._lent: dict[StreamHandler, _Stream] = {}
        self._goaway = False
        self._flush_due = False
        self._waiting_drain = False
        self._frames = FrameSplitter()
        self._heads = ResponseHeads()
        self.idle_since = loop.time()
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
        stream.handler.released()
        if not self._lent:
            self.idle_since = self._loop.time()
            if self._goaway:
                self._protocol.close()

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
            events = self._receive(data)
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

    def _receive(self, data: memoryview) -> list[Any]:
        """h2's events for `data`: DATA frames through h2's DATA handler, the rest as bytes."""
        conn = self._h2
        events: list[Any] = []
        for segment in self._frames.feed(data, conn.max_inbound_frame_size):
            if isinstance(segment, bytes):
                events += conn.receive_data(segment)
            else:
                header, body = segment
                if header[3] == _DATA:
                    events += conn.receive_data_frame(_data_frame(header, body))
                else:
                    events += conn.receive_frame(_parse_frame(header, body))
        return events

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

    def _on_bad_length(self, event: _BadBodyLength) -> _Stream | None:
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
        if h2.settings.SettingCodes.INITIAL_WINDOW_SIZE in event.changed_settings:
            self._pump_all()

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
        # h2 sent its GOAWAY already for what it found itself; not for the frames we cut.
        with contextlib.suppress(h2.exceptions.ProtocolError):
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
    _BadBodyLength: Http2Connection._on_bad_length,
}

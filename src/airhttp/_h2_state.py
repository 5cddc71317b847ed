"""The client's HTTP/2 state machine (RFC 9113), sans-IO: `h2`'s, with a faster hot path.

`ClientState` is h2's connection with our settings and coders. Bytes in (`receive`),
h2's events out; requests in (`send_request`), bytes to send out (`data_to_send`). It
changes what h2 does in these places, compared with h2's own in
tests/test_h2_client_state.py (and, for the last, tests/test_http2_faults_streams.py):

- frames are cut by `_h2_frames.FrameSplitter` and handed to h2's frame handlers one
  by one (h2's frame buffer copies its input twice and traces every frame, hex-encoding
  DATA payloads: half a download's time);
- an unpadded DATA frame on an open stream goes to h2's stream without a frame object,
  and a request's header block goes out as bytes written directly (h2 builds, checks and
  serialises frame objects: a third of a request);
- a GOAWAY leaves the streams it spares running (h2 closes its whole state machine,
  python-hyper/h2#1199; RFC 9113 6.8 lets them finish);
- a Content-Length that is not a number fails its stream, not the connection.

Imported only with the `http2` extra. No sockets, no asyncio.
"""

from __future__ import annotations

import contextlib
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
from ._h2_head import RawHeaders
from ._h2_hpack import CachingDecoder, CachingEncoder

__all__ = ("CONFIG", "BadBodyLength", "ClientState", "FrameTooLarge")

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

CONFIG: Final = h2.config.H2Configuration(
    client_side=True,
    header_encoding=None,
    # Headers are checked by _h2_head (RFC 9113 8.2), once, with the request's limits.
    validate_outbound_headers=False,
    normalize_outbound_headers=False,
    validate_inbound_headers=False,
    normalize_inbound_headers=False,
)
_parse_frame_header: Final = hyperframe.frame.Frame.parse_frame_header
_DATA: Final = 0x0
_END_STREAM: Final = 0x1
_PADDED: Final = 0x8
# How often h2 may walk its streams to count them (see ClientState.open_outbound_streams).
_RECOUNT: Final = 64
_PROTOCOL_ERROR: Final = h2.errors.ErrorCodes.PROTOCOL_ERROR
_CLIENT_OPEN: Final = h2.connection.ConnectionState.CLIENT_OPEN
_SEND_HEADERS: Final = h2.connection.ConnectionInputs.SEND_HEADERS
_STREAM_SEND_HEADERS: Final = h2.stream.StreamInputs.SEND_HEADERS
_STREAM_SEND_END: Final = h2.stream.StreamInputs.SEND_END_STREAM
# Stream states in which h2 takes DATA as DataReceived (else it resets or fails).
_RECEIVING: Final = frozenset({h2.stream.StreamState.OPEN, h2.stream.StreamState.HALF_CLOSED_LOCAL})
_CLIENT_IDS: Final = h2.connection.AllowedStreamIDs.ODD
_DataReceived: Final = h2.events.DataReceived


class BadBodyLength:
    """Our event: a stream's DATA disagree with its Content-Length (h2 raised)."""

    __slots__ = ("message", "stream_id")

    def __init__(self, stream_id: int, message: str) -> None:
        self.stream_id = stream_id
        self.message = message


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


class ClientState(h2.connection.H2Connection):
    """h2's client connection, changed as the module says.

    `sent` counts the streams the caller has open (see open_outbound_streams).
    """

    def __init__(self, sent: Callable[[], int], config: h2.config.H2Configuration = CONFIG) -> None:
        super().__init__(config=config)
        self._sent = sent
        self._until_recount = 0
        self._frames = FrameSplitter()

    def open(self) -> None:
        """Our settings and coders, and the connection preface with them."""
        self.local_settings = h2.settings.Settings(
            client=True,
            initial_values={
                h2.settings.SettingCodes.ENABLE_PUSH: 0,
                h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: _STREAM_WINDOW,
                h2.settings.SettingCodes.MAX_FRAME_SIZE: _MAX_FRAME,
                h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: _MAX_HEADER_LIST,
            },
        )
        self.encoder = CachingEncoder()
        # The limits are applied at once, not only once the server acknowledged them: h2
        # applies an acknowledgement only from its next read, and frames of the new size
        # may share a read with it.
        self.decoder = CachingDecoder(_MAX_HEADER_LIST)
        self.max_inbound_frame_size = _MAX_FRAME
        self.initiate_connection()
        self.increment_flow_control_window(_CONNECTION_WINDOW - 65535)

    @property
    def open_outbound_streams(self) -> int:
        """What h2 checks the server's stream cap against, before each new stream.

        h2 finds it by walking every stream it holds (and forgets closed ones on the way):
        with many in flight that walk was the biggest cost of a request. Between walks,
        every _RECOUNT new streams, the count is the caller's open streams: never below
        h2's, and within the cap the caller keeps.
        """
        self._until_recount -= 1
        if self._until_recount <= 0:
            self._until_recount = _RECOUNT
            return max(super().open_outbound_streams, self._sent())
        return self._sent()

    # --- out ----------------------------------------------------------------------------

    def send_request(self, fields: RawHeaders, end_stream: bool) -> int:
        """What send_headers does for a request on the next stream; returns its id.

        The header block's frames are written directly (checked by _h2_head already),
        leaving h2 the same stream and state as send_headers would. `fields` are
        _h2_head.request_fields': :method first.
        """
        cap = self.remote_settings.max_concurrent_streams
        open_now = self.open_outbound_streams
        if open_now + 1 > cap:
            raise h2.exceptions.TooManyStreamsError(
                f"Max outbound streams is {cap}, {open_now} open"
            )
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

    # --- in -----------------------------------------------------------------------------

    def receive(self, data: memoryview) -> list[Any]:
        """h2's events for the bytes of one read; nothing keeps a view of `data`.

        Raises h2's ProtocolError (or hyperframe's errors, or FrameTooLarge) when the
        server broke the protocol: the connection is done for.
        """
        events: list[Any] = []
        for segment in self._frames.feed(data, self.max_inbound_frame_size):
            if isinstance(segment, bytes):  # a header block carried on by CONTINUATION
                events += self.receive_data(segment)
            else:
                header, body = segment
                if header[3] == _DATA:
                    events += self._receive_data(header, body)
                else:
                    events += self._receive_frame(_parse_frame(header, body))
        return events

    def _receive_data(self, header: memoryview, body: memoryview) -> list[Any]:
        """One DATA frame: an unpadded one on an open stream without h2's connection.

        That skips a frame object, state machine steps that change nothing (the
        connection's while it is open, the stream's unless the frame ends it) and the
        trace lines. Anything else (padding, stream 0, a closed or unknown stream, no
        final head yet, a closing connection) takes h2's whole way.
        """
        flags = header[4]
        stream_id = int.from_bytes(header[5:9], "big") & 0x7FFFFFFF
        stream = self.streams.get(stream_id)
        if (
            flags & _PADDED
            or stream is None
            or self.state_machine.state is not _CLIENT_OPEN
            or stream.state_machine.state not in _RECEIVING
            or not stream.state_machine.headers_received  # h2 refuses DATA before a head
        ):
            return self._receive_data_frame_events(_parse_frame(header, body))
        data = body.tobytes()
        size = len(data)
        self._inbound_flow_control_window_manager.window_consumed(size)
        try:
            if flags & _END_STREAM:
                _, events = stream.receive_data(data, True, size)
                return events
            # Not the stream's last, after its head: h2's stream machine stays where it is
            # (OPEN or HALF_CLOSED_LOCAL) and only counts the bytes, against the stream's
            # window and its Content-Length, as these lines do.
            stream._inbound_window_manager.window_consumed(size)
            stream._track_content_length(size, False)
        except h2.exceptions.InvalidBodyLengthError as exc:
            return self._bad_body_length(stream_id, size, exc)
        event = _DataReceived(stream_id=stream_id)
        event.data = data
        event.flow_controlled_length = size
        return [event]

    def _receive_data_frame_events(self, frame: Any) -> list[Any]:
        try:
            frames, events = self._receive_data_frame(frame)
        except h2.exceptions.InvalidBodyLengthError as exc:
            return self._bad_body_length(frame.stream_id, frame.flow_controlled_length, exc)
        self._prepare_for_sending(frames)
        return events

    def _bad_body_length(self, stream_id: int, size: int, exc: Exception) -> list[Any]:
        # A stream error (RFC 9113 8.1.1), not the connection's, as h2 would make it.
        with contextlib.suppress(h2.exceptions.StreamClosedError):
            self.reset_stream(stream_id, _PROTOCOL_ERROR)
        self.acknowledge_received_data(size, stream_id)
        return [BadBodyLength(stream_id, str(exc))]

    def _receive_frame(self, frame: Any) -> list[Any]:
        # Also the way of frames that h2's own buffer cut (a header block's run): DATA
        # without the trace line.
        if frame.__class__ is hyperframe.frame.DataFrame:
            return self._receive_data_frame_events(frame)
        events: list[Any] = super()._receive_frame(frame)
        return events

    def _receive_headers_frame(self, frame: Any) -> tuple[list[Any], list[Any]]:
        """h2's, except that a Content-Length that is not a number is its stream's error.

        h2 refuses it for the whole connection, after the stream took the block; RFC
        9113 8.1.1 makes it a malformed response, one stream's error. The block goes on
        as the head it is, for the caller's checks to refuse on that stream alone.
        """
        try:
            return super()._receive_headers_frame(frame)
        except h2.exceptions.ProtocolError:
            decoder = self.decoder
            fields = decoder.last if isinstance(decoder, CachingDecoder) else None
            if (
                fields is None
                or frame.stream_id not in self.streams
                or not any(n == b"content-length" and not v.isdigit() for n, v in fields)
            ):
                raise
        event = h2.events.ResponseReceived(stream_id=frame.stream_id)
        event.headers = fields
        return [], [event]

    def _receive_goaway_frame(self, frame: Any) -> tuple[list[Any], list[Any]]:
        event = h2.events.ConnectionTerminated()
        try:
            event.error_code = h2.errors.ErrorCodes(frame.error_code)
        except ValueError:
            event.error_code = frame.error_code
        event.last_stream_id = frame.last_stream_id
        event.additional_data = frame.additional_data or None
        return [], [event]

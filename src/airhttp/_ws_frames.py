"""Sans-IO WebSocket framing (RFC 6455): server frames in, messages out; client frames built.

Owns no sockets, tasks or timers: the WebSocket connection layer moves the bytes.
"""

from __future__ import annotations

import codecs
import struct
from collections import deque
from typing import Final

from ._ws_deflate import PerMessageDeflate
from .http_websocket import WebSocketError, WSCloseCode, WSMessage, WSMsgType

__all__ = (
    "DEFAULT_MAX_MSG_SIZE",
    "MAX_CLOSE_REASON",
    "MAX_CONTROL_PAYLOAD",
    "NO_STATUS_CODE",
    "WebSocketReader",
    "apply_mask",
    "build_compressed_frame",
    "build_frame",
    "close_payload",
)

# aiohttp's ws_connect() default, kept so limits behave the same after a port.
DEFAULT_MAX_MSG_SIZE: Final[int] = 4 * 1024 * 1024
# RFC 6455 section 5.5: control frames carry at most 125 payload bytes.
MAX_CONTROL_PAYLOAD: Final[int] = 125
# RFC 6455 section 5.5.1: two bytes of status code leave 123 for the reason.
MAX_CLOSE_REASON: Final[int] = MAX_CONTROL_PAYLOAD - 2
# aiohttp reports a CLOSE frame without a status code as code 0; kept for parity.
NO_STATUS_CODE: Final[int] = 0

_FIN: Final[int] = 0x80
_RSV1: Final[int] = 0x40
_RSV2_RSV3: Final[int] = 0x30
_RSV_ALL: Final[int] = 0x70
_OPCODE: Final[int] = 0x0F
_MASKED: Final[int] = 0x80
_LEN7: Final[int] = 0x7F
# RFC 6455 section 5.2: payload length markers for the 16- and 64-bit forms.
_LEN16_MARK: Final[int] = 126
_LEN64_MARK: Final[int] = 127

# The first header byte of a complete, unfragmented, uncompressed data frame.
_FIN_TEXT: Final[int] = 0x81
_FIN_BINARY: Final[int] = 0x82
_TEXT: Final = WSMsgType.TEXT
_BINARY: Final = WSMsgType.BINARY

_OP_CONTINUATION: Final[int] = 0x0
_OP_TEXT: Final[int] = 0x1
_OP_BINARY: Final[int] = 0x2
_OP_CLOSE: Final[int] = 0x8
_OP_PING: Final[int] = 0x9
_OP_PONG: Final[int] = 0xA
_DATA_OPCODES: Final = frozenset((_OP_CONTINUATION, _OP_TEXT, _OP_BINARY))
_CONTROL_OPCODES: Final = frozenset((_OP_CLOSE, _OP_PING, _OP_PONG))
_CONTROL_TYPES: Final = {
    _OP_CLOSE: WSMsgType.CLOSE,
    _OP_PING: WSMsgType.PING,
    _OP_PONG: WSMsgType.PONG,
}

# RFC 6455 section 7.4.1 plus the IANA registry (1012-1014); 1004-1006 and 1015 must
# never appear on the wire, and 3000-4999 (section 7.4.2) belong to libraries and apps.
_WIRE_CLOSE_CODES: Final = frozenset(WSCloseCode) - {WSCloseCode.ABNORMAL_CLOSURE}
_APP_CLOSE_CODES: Final = range(3000, 5000)

_PACK_HEAD7: Final = struct.Struct("!BB").pack
_PACK_HEAD16: Final = struct.Struct("!BBH").pack
_PACK_HEAD64: Final = struct.Struct("!BBQ").pack
_PACK_CODE: Final = struct.Struct("!H").pack
_UNPACK_CODE: Final = struct.Struct("!H").unpack_from

_Utf8Decoder: Final = codecs.getincrementaldecoder("utf-8")


def _protocol_error(message: str) -> WebSocketError:
    return WebSocketError(WSCloseCode.PROTOCOL_ERROR, message)


def _invalid_text() -> WebSocketError:
    return WebSocketError(WSCloseCode.INVALID_TEXT, "Invalid UTF-8 text message")


def _is_valid_close_code(code: int) -> bool:
    return code in _WIRE_CLOSE_CODES or code in _APP_CLOSE_CODES


class WebSocketReader:
    """Client-side frame parser: feed server bytes, take out complete messages.

    `feed_data` parses eagerly and raises `WebSocketError` (its `code` is the close
    code to answer with) at the first violation; messages completed before that point
    stay available from `next_message`. Once it has raised, the reader is dead and
    every further `feed_data` raises the same error.

    permessage-deflate (RFC 7692) is on when `deflate` (the negotiated state) is given:
    RSV1 on the first frame of a TEXT or BINARY message marks it compressed, and its
    payload is inflated as it arrives, `max_msg_size` capping the inflated size as well as
    the wire size. Without `deflate`, RSV1 is rejected like RSV2/RSV3.
    """

    __slots__ = (
        "_buf",
        "_control",
        "_decode_text",
        "_decoder",
        "_deflate",
        "_error",
        "_fin",
        "_in_frame",
        "_inflater",
        "_max_msg_size",
        "_messages",
        "_msg_binary",
        "_msg_size",
        "_msg_text",
        "_msg_type",
        "_opcode",
        "_remaining",
        "_text_invalid",
    )

    def __init__(
        self,
        *,
        max_msg_size: int = DEFAULT_MAX_MSG_SIZE,
        deflate: PerMessageDeflate | None = None,
        decode_text: bool = True,
    ) -> None:
        if max_msg_size < 0:
            raise ValueError(f"max_msg_size must be >= 0 (0 = no limit), not {max_msg_size}")
        self._max_msg_size = max_msg_size
        self._deflate = deflate
        # False: TEXT messages are handed over as their (validated) UTF-8 bytes.
        self._decode_text = decode_text
        self._buf = bytearray()
        self._messages: deque[WSMessage] = deque()
        self._error: WebSocketError | None = None
        # The frame being read: header parsed, `_remaining` payload bytes still to come.
        self._in_frame = False
        self._fin = False
        self._opcode = 0
        self._remaining = 0
        self._control = bytearray()
        # The data message being assembled, possibly across fragments.
        self._msg_type: WSMsgType | None = None
        self._msg_size = 0
        self._msg_binary = bytearray()
        self._msg_text: list[str] = []
        self._decoder = _Utf8Decoder("strict")
        # `_deflate` while the message being assembled is compressed, else None.
        self._inflater: PerMessageDeflate | None = None
        # A compressed text message's invalid UTF-8, failed at the message's end.
        self._text_invalid = False

    @property
    def exception(self) -> WebSocketError | None:
        """The error that killed this reader, or None while it is healthy."""
        return self._error

    def feed_data(self, data: bytes) -> None:
        """Parse `data`; complete messages become available from `next_message`."""
        if self._error is not None:
            raise self._error
        if not self._buf and not self._in_frame and self._msg_type is None:
            # Between messages with nothing buffered: whole small frames are read straight
            # out of `data`; whatever the fast path does not take goes the general way.
            if type(data) is not bytes:
                data = bytes(data)
            used = self._take_whole_frames(data)
            if used == len(data):
                return
            data = data[used:]
        self._buf += data
        try:
            self._parse()
        except WebSocketError as exc:
            self._error = exc
            # Nothing after a violation can be trusted; drop it and any partial message.
            self._buf.clear()
            self._msg_binary.clear()
            self._msg_text.clear()
            raise

    def _take_whole_frames(self, data: bytes) -> int:
        """Read complete unfragmented plain TEXT/BINARY frames at the start of `data`.

        Returns how many bytes were used. Anything unusual (a control frame, a fragment,
        RSV bits, a mask, a 64-bit length, a frame cut short, bad UTF-8, a size over the
        limit) stops it, and the general parser takes over from there and reports it.
        """
        size = len(data)
        limit = self._max_msg_size
        decode_text = self._decode_text
        append = self._messages.append
        new = tuple.__new__
        pos = 0
        while size - pos >= 2:
            first = data[pos]
            length = data[pos + 1]
            if first != _FIN_TEXT and first != _FIN_BINARY:
                break
            start = pos + 2
            if length == _LEN16_MARK:
                start = pos + 4
                if size < start:
                    break
                length = (data[pos + 2] << 8) | data[pos + 3]
            elif length > _LEN16_MARK:
                break  # masked, or a 64-bit length
            end = start + length
            if end > size or (limit and length > limit):
                break
            # tuple.__new__ skips the NamedTuple's Python-level __new__: one call per message.
            if first == _FIN_TEXT:
                try:
                    text = data[start:end].decode("utf-8")
                except UnicodeDecodeError:
                    break
                append(new(WSMessage, (_TEXT, text if decode_text else data[start:end], "")))
            else:
                append(new(WSMessage, (_BINARY, data[start:end], "")))
            pos = end
        return pos

    def next_message(self) -> WSMessage | None:
        """The oldest complete message, or None when more data is needed."""
        if self._messages:
            return self._messages.popleft()
        return None

    def _parse(self) -> None:
        buf = self._buf
        pos = 0
        end = len(buf)
        try:
            while True:
                if not self._in_frame:
                    pos = self._parse_header(buf, pos)
                    if not self._in_frame:
                        return
                    if self._remaining == 0:
                        self._finish_frame()
                        continue
                take = min(self._remaining, end - pos)
                if take == 0:
                    return
                # Payload is consumed as it arrives so a large frame is copied once, not
                # re-sliced on every feed, and text is validated before the frame ends.
                self._consume_payload(bytes(buf[pos : pos + take]))
                pos += take
                self._remaining -= take
                if self._remaining == 0:
                    self._finish_frame()
        finally:
            del buf[:pos]

    def _parse_header(self, buf: bytearray, pos: int) -> int:
        """Read one frame header at `pos`; return the payload start, or `pos` if short."""
        avail = len(buf) - pos
        if avail < 2:
            return pos
        first = buf[pos]
        second = buf[pos + 1]
        fin = bool(first & _FIN)
        opcode = first & _OPCODE
        length = second & _LEN7
        # Everything decidable from the first two bytes is checked before waiting for
        # the rest, so a bad frame fails fast instead of stalling on a bogus length.
        if first & _RSV_ALL:
            self._check_reserved_bits(first, opcode)
        if second & _MASKED:
            # RFC 6455 section 5.1: a client must close if a server frame is masked.
            raise _protocol_error("Received masked frame from server")
        if opcode in _CONTROL_OPCODES:
            # RFC 6455 section 5.5: control frames are never fragmented and stay small.
            if not fin:
                raise _protocol_error("Received fragmented control frame")
            if length > MAX_CONTROL_PAYLOAD:
                raise _protocol_error("Control frame payload cannot be larger than 125 bytes")
        elif opcode == _OP_CONTINUATION:
            # RFC 6455 section 5.4: a continuation only makes sense after an unfinished start.
            if self._msg_type is None:
                raise _protocol_error("Continuation frame without a message to continue")
        elif opcode in _DATA_OPCODES:
            # RFC 6455 section 5.4: fragments of one message may not interleave with another.
            if self._msg_type is not None:
                raise _protocol_error("New data frame while a fragmented message is unfinished")
        else:
            # RFC 6455 section 5.2: reserved opcodes 0x3-0x7 and 0xB-0xF.
            raise _protocol_error(f"Received frame with unknown opcode {opcode:#x}")

        if length == _LEN16_MARK:
            if avail < 4:
                return pos
            length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
            header_len = 4
        elif length == _LEN64_MARK:
            if avail < 10:
                return pos
            length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
            # RFC 6455 section 5.2: the most significant bit of a 64-bit length must be 0.
            if length >> 63:
                raise _protocol_error("Frame length has its most significant bit set")
            header_len = 10
        else:
            header_len = 2

        if opcode not in _CONTROL_OPCODES:
            # Checked on the declared length, so an oversized message is refused before
            # any of its payload is buffered (control frames are bounded by 125 above).
            limit = self._max_msg_size
            if limit and self._msg_size + length > limit:
                raise WebSocketError(
                    WSCloseCode.MESSAGE_TOO_BIG,
                    f"Message size {self._msg_size + length} exceeds limit {limit}",
                )
            if opcode != _OP_CONTINUATION:
                self._msg_type = WSMsgType.TEXT if opcode == _OP_TEXT else WSMsgType.BINARY
            self._msg_size += length

        self._in_frame = True
        self._fin = fin
        self._opcode = opcode
        self._remaining = length
        return pos + header_len

    def _check_reserved_bits(self, first: int, opcode: int) -> None:
        """The slow path for a header with RSV bits: permessage-deflate's RSV1 or an error."""
        deflate = self._deflate
        # RFC 6455 section 5.2: nonzero RSV bits need a negotiated extension defining them.
        if deflate is None or first & _RSV2_RSV3:
            raise _protocol_error("Received frame with reserved bits set")
        # RFC 7692 section 6: RSV1 belongs on the first frame of a data message only.
        if opcode != _OP_TEXT and opcode != _OP_BINARY:
            raise _protocol_error("Received RSV1 on a control or continuation frame")
        # Set here, off the uncompressed path, though the header may still be incomplete:
        # no payload is read before it is, and the checks after this one either fail the
        # connection or make this frame the start of the next message.
        self._inflater = deflate

    def _consume_payload(self, chunk: bytes) -> None:
        if self._opcode in _CONTROL_OPCODES:
            self._control += chunk
        elif self._inflater is not None:
            self._consume_inflated(self._inflater.decompress_chunk(chunk, self._max_msg_size))
        elif self._msg_type is WSMsgType.TEXT:
            # RFC 6455 section 8.1: invalid UTF-8 fails the connection; the incremental
            # decoder keeps a character split across chunks or fragments pending.
            try:
                self._msg_text.append(self._decoder.decode(chunk))
            except UnicodeDecodeError:
                raise _invalid_text() from None
        else:
            self._msg_binary += chunk

    def _consume_inflated(self, data: bytes) -> None:
        # The text/binary steps of `_consume_payload`, repeated so that its uncompressed
        # path stays free of an extra call. Inflating as frames arrive bounds even a
        # fragmented compression bomb by max_msg_size.
        if self._msg_type is WSMsgType.TEXT:
            if self._text_invalid:
                return
            try:
                self._msg_text.append(self._decoder.decode(data))
            except UnicodeDecodeError:
                # Failed at the message's end, so that a deflate or size error later in it
                # comes first however its frames were cut, as when aiohttp inflates it whole.
                self._text_invalid = True
        else:
            self._msg_binary += data

    def _finish_frame(self) -> None:
        self._in_frame = False
        if self._opcode in _CONTROL_OPCODES:
            payload = bytes(self._control)
            self._control.clear()
            self._messages.append(self._control_message(self._opcode, payload))
            return
        if not self._fin:
            return
        inflater = self._inflater
        if inflater is not None:
            self._inflater = None
            self._consume_inflated(inflater.decompress_end(self._max_msg_size))
            if self._text_invalid:
                raise _invalid_text()
        if self._msg_type is WSMsgType.TEXT:
            try:
                tail = self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise _invalid_text() from None
            text = "".join(self._msg_text) + tail
            self._msg_text.clear()
            self._decoder.reset()
            if not self._decode_text:
                self._messages.append(WSMessage(WSMsgType.TEXT, text.encode("utf-8"), ""))
            else:
                self._messages.append(WSMessage(WSMsgType.TEXT, text, ""))
        else:
            data = bytes(self._msg_binary)
            self._msg_binary.clear()
            self._messages.append(WSMessage(WSMsgType.BINARY, data, ""))
        self._msg_type = None
        self._msg_size = 0

    @staticmethod
    def _control_message(opcode: int, payload: bytes) -> WSMessage:
        if opcode != _OP_CLOSE:
            return WSMessage(_CONTROL_TYPES[opcode], payload, "")
        # RFC 6455 section 5.5.1: an empty body means no status; otherwise two bytes of
        # code come first, so a lone byte is malformed.
        if not payload:
            return WSMessage(WSMsgType.CLOSE, NO_STATUS_CODE, "")
        if len(payload) == 1:
            raise _protocol_error("Close frame payload of 1 byte has no room for a status code")
        (code,) = _UNPACK_CODE(payload)
        # RFC 6455 section 7.4: reserved, local-only and unassigned codes are errors.
        if not _is_valid_close_code(code):
            raise _protocol_error(f"Invalid close code {code}")
        try:
            reason = payload[2:].decode("utf-8")
        except UnicodeDecodeError:
            # RFC 6455 section 5.5.1: the reason is UTF-8 like any text.
            raise _invalid_text() from None
        return WSMessage(WSMsgType.CLOSE, code, reason)


def apply_mask(payload: bytes, mask_key: bytes) -> bytes:
    """XOR `payload` with the 4-byte `mask_key` repeated (RFC 6455 section 5.3).

    Masking is its own inverse. The whole buffer goes through one big-integer XOR,
    which runs in C; a per-byte Python loop would dominate the cost of sending.
    """
    if len(mask_key) != 4:
        raise ValueError(f"mask_key must be 4 bytes, not {len(mask_key)}")
    size = len(payload)
    if not size:
        return b""
    whole, rest = divmod(size, 4)
    key = mask_key * whole + mask_key[:rest]
    # Little-endian conversions are 15-25% faster than big-endian ones for 8 KiB-1 MiB
    # payloads (timeit); XOR is bytewise, so the byte order does not change the result.
    value = int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")
    return value.to_bytes(size, "little")


def build_frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv1: bool = False,
    mask_key: bytes | None,
) -> bytes:
    """Encode one frame; `mask_key` (4 bytes) masks it as a client must, None leaves it bare.

    The caller supplies the key (`_ws_writer` draws them from os.urandom) so output is
    deterministic under test. `rsv1` marks the first frame of a compressed message
    (permessage-deflate); `build_compressed_frame` sets it for a whole message.
    """
    if opcode in _CONTROL_OPCODES:
        # RFC 6455 section 5.5: refuse to emit what a conforming peer must reject.
        if not fin:
            raise ValueError("Control frames cannot be fragmented")
        if len(payload) > MAX_CONTROL_PAYLOAD:
            raise ValueError("Control frame payload cannot be larger than 125 bytes")
    elif opcode not in _DATA_OPCODES:
        raise ValueError(f"Unknown opcode {opcode:#x}")
    first = (_FIN if fin else 0) | (_RSV1 if rsv1 else 0) | opcode
    mask_bit = _MASKED if mask_key is not None else 0
    size = len(payload)
    # RFC 6455 section 5.2: the shortest length form that fits, as the RFC requires.
    if size < _LEN16_MARK:
        header = _PACK_HEAD7(first, mask_bit | size)
    elif size < 1 << 16:
        header = _PACK_HEAD16(first, mask_bit | _LEN16_MARK, size)
    else:
        header = _PACK_HEAD64(first, mask_bit | _LEN64_MARK, size)
    if mask_key is None:
        return header + payload
    return header + mask_key + apply_mask(payload, mask_key)


def build_compressed_frame(
    opcode: int,
    payload: bytes,
    deflate: PerMessageDeflate,
    *,
    mask_key: bytes | None,
    wbits: int | None = None,
) -> bytes:
    """Compress one whole TEXT or BINARY message (`payload` already encoded) into one frame.

    RFC 7692 section 6: the compressed message goes out with RSV1 set. `wbits` (9..15)
    compresses this message alone with its own window (`PerMessageDeflate.compress_once`,
    aiohttp's per-message `compress=`). Messages must be built in the order they are
    sent: with context takeover each continues the previous one's window. A message sent
    uncompressed (plain `build_frame`) does not touch that window and may go in between.
    """
    if opcode != _OP_TEXT and opcode != _OP_BINARY:
        raise ValueError(f"Only TEXT and BINARY messages are compressed, not opcode {opcode:#x}")
    if wbits is None:
        compressed = deflate.compress(payload)
    else:
        compressed = deflate.compress_once(payload, wbits)
    return build_frame(opcode, compressed, rsv1=True, mask_key=mask_key)


def close_payload(code: int, reason: str = "") -> bytes:
    """The body of a CLOSE frame: 2-byte status code then UTF-8 reason (RFC 6455 section 5.5.1)."""
    if not 0 <= code <= 0xFFFF:
        raise ValueError(f"Close code {code} does not fit in 16 bits")
    encoded = reason.encode("utf-8")
    if len(encoded) > MAX_CLOSE_REASON:
        raise ValueError(f"Close reason is {len(encoded)} bytes; at most 123 fit")
    return _PACK_CODE(code) + encoded

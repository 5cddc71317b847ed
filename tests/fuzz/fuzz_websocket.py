"""Fuzz target: server WebSocket frames through airhttp._ws_frames.WebSocketReader.

The settings (see tests/fuzz/_fdp.py) pick max_msg_size, decode_text, permessage-deflate
(with the server's window bits and context takeover), up to 8 cut points and a mode:
"raw" feeds the data as the bytes the server sent; "messages" turns it into messages
(text, binary, ping, pong, close; data messages fragmented, with pings between the
fragments and compressed when deflate is on) framed by airhttp's own frame writer.

WebSocketError (its close code is what the client answers) is the one documented error.
A bug is any of:
- another exception from feed_data() or next_message();
- the bytes fed whole and as pieces giving other messages, or another error or close code;
- after an error, feed_data() not raising the same error again, or `exception` not it;
- a message breaking its type's contract: TEXT not valid UTF-8 (str, or bytes with
  decode_text=False), a data message over max_msg_size, a control payload over 125
  bytes, a CLOSE code that may not be sent on the wire or a reason over 123 bytes;
- in "messages" mode, the messages read back differing from the ones framed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from airhttp._ws_deflate import DeflateParams, PerMessageDeflate
from airhttp._ws_frames import (
    MAX_CLOSE_REASON,
    MAX_CONTROL_PAYLOAD,
    NO_STATUS_CODE,
    WebSocketReader,
    build_frame,
    close_payload,
)
from airhttp.http_websocket import WebSocketError, WSCloseCode, WSMsgType

from . import _fdp, _known

_LIMITS = (0, 1, 16, 125, 1000, 4 * 1024 * 1024)
_CLOSE_CODES = (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014)


class ReaderBug(AssertionError):
    """The reader broke its contract on this input (see the module docstring)."""


@dataclass
class Settings:
    max_msg_size: int
    decode_text: bool
    deflate: DeflateParams | None

    def reader(self) -> WebSocketReader:
        inflater = None if self.deflate is None else PerMessageDeflate(self.deflate)
        return WebSocketReader(
            max_msg_size=self.max_msg_size, deflate=inflater, decode_text=self.decode_text
        )


def read_settings(fdp: _fdp.Provider) -> Settings:
    limit = _LIMITS[fdp.ConsumeIntInRange(0, len(_LIMITS) - 1)]
    decode_text = _fdp.flag(fdp)
    deflate = None
    if _fdp.flag(fdp):
        deflate = DeflateParams(
            server_max_window_bits=fdp.ConsumeIntInRange(8, 15),
            server_no_context_takeover=_fdp.flag(fdp),
        )
    return Settings(limit, decode_text, deflate)


def _check_message(msg: Any, settings: Settings) -> tuple[Any, ...]:
    kind, data, extra = msg
    limit = settings.max_msg_size
    if kind is WSMsgType.TEXT:
        text = data if settings.decode_text else bytes(data).decode("utf-8")
        if not isinstance(text, str) or (limit and len(text.encode("utf-8")) > limit):
            raise ReaderBug(f"bad TEXT message {msg!r}")
        # A str from decode_text must encode back: no lone surrogates.
        text.encode("utf-8")
    elif kind is WSMsgType.BINARY:
        if type(data) is not bytes or (limit and len(data) > limit):
            raise ReaderBug(f"bad BINARY message {msg!r}")
    elif kind in (WSMsgType.PING, WSMsgType.PONG):
        if type(data) is not bytes or len(data) > MAX_CONTROL_PAYLOAD:
            raise ReaderBug(f"bad control message {msg!r}")
    elif kind is WSMsgType.CLOSE:
        allowed = data == NO_STATUS_CODE or data in _CLOSE_CODES or 3000 <= data < 5000
        if not allowed or len(extra.encode("utf-8")) > MAX_CLOSE_REASON:
            raise ReaderBug(f"bad CLOSE message {msg!r}")
    else:
        raise ReaderBug(f"unexpected message type {msg!r}")
    return (kind, data, extra)


def read_all(settings: Settings, pieces: Sequence[bytes]) -> tuple[list[Any], Any]:
    """Feed `pieces` to a fresh reader; the messages read and (class, code) of any error."""
    reader = settings.reader()
    messages: list[Any] = []
    error: WebSocketError | None = None
    for piece in pieces:
        try:
            reader.feed_data(piece)
        except WebSocketError as exc:
            error = exc
        while (msg := reader.next_message()) is not None:
            messages.append(_check_message(msg, settings))
        if error is not None:
            break
    if error is None:
        return messages, None
    if reader.exception is not error:
        raise ReaderBug(f"exception is {reader.exception!r}, not the error raised {error!r}")
    try:
        reader.feed_data(b"\x81\x00")
    except WebSocketError as again:
        if again is not error:
            raise ReaderBug(f"a dead reader raised {again!r}, not {error!r}") from again
    else:
        raise ReaderBug("a dead reader accepted more data")
    if not isinstance(error.code, int) or error.code not in set(WSCloseCode):
        raise ReaderBug(f"error with close code {error.code!r}")
    return messages, (type(error), error.code)


# --- "messages" mode: frames built from the data ---------------------------------------------


def _fragments(payload: bytes, size: int) -> list[bytes]:
    return [payload[i : i + size] for i in range(0, len(payload), size)] or [b""]


def frame_messages(chunks: Sequence[bytes], settings: Settings) -> tuple[bytes, list[Any]]:
    """Frames for one message per chunk, and the messages a reader must give back."""
    sender = None
    if settings.deflate is not None:
        # What the server compresses with: its window and takeover, as negotiated.
        sender = PerMessageDeflate(
            DeflateParams(
                client_max_window_bits=max(settings.deflate.server_max_window_bits, 9),
                client_no_context_takeover=settings.deflate.server_no_context_takeover,
            )
        )
    wire: list[bytes] = []
    expected: list[Any] = []
    for chunk in chunks:
        if not chunk:
            continue
        kind, body = chunk[0], chunk[1:]
        choice = kind % 5
        if choice == 2:
            wire.append(build_frame(0x9, body[:MAX_CONTROL_PAYLOAD], mask_key=None))
            expected.append((WSMsgType.PING, body[:MAX_CONTROL_PAYLOAD], ""))
            continue
        if choice == 3:
            code = _CLOSE_CODES[kind % len(_CLOSE_CODES)]
            reason = body[:MAX_CLOSE_REASON].decode("ascii", "replace").replace("\ufffd", "?")
            wire.append(build_frame(0x8, close_payload(code, reason), mask_key=None))
            expected.append((WSMsgType.CLOSE, code, reason))
            continue
        text = choice in (0, 4)
        if text:
            data = body.decode("utf-8", "replace").encode("utf-8")
            expected.append((WSMsgType.TEXT, data.decode() if settings.decode_text else data, ""))
        else:
            data = body
            expected.append((WSMsgType.BINARY, data, ""))
        compressed = sender is not None and kind & 0x20
        wire_payload = sender.compress(data) if compressed and sender is not None else data
        pieces = _fragments(wire_payload, (kind >> 6) * 7 + 1 if kind & 0x10 else 1 << 20)
        for index, piece in enumerate(pieces):
            opcode = (0x1 if text else 0x2) if index == 0 else 0x0
            last = index == len(pieces) - 1
            wire.append(
                build_frame(
                    opcode, piece, fin=last, rsv1=bool(compressed) and index == 0, mask_key=None
                )
            )
            if not last and kind & 0x08:
                wire.append(build_frame(0xA, b"between", mask_key=None))
                expected.insert(len(expected) - 1, (WSMsgType.PONG, b"between", ""))
    return b"".join(wire), expected


def _known_close_code(whole: tuple[Any, Any], parts: tuple[Any, Any], deflate: bool) -> bool:
    """Known bug 5 (tests/fuzz/_known.py): 1002, 1007 or 1009 for compressed text."""
    codes = {whole[1] and whole[1][1], parts[1] and parts[1][1]}
    known = len(codes) == 2 and codes <= {1002, 1007, 1009}
    return _known.lenient() and deflate and whole[0] == parts[0] and known


def one_input(data: bytes) -> None:
    fdp = _fdp.provider(data)
    settings = read_settings(fdp)
    framed = _fdp.flag(fdp)
    cuts = _fdp.consume_cuts(fdp, 8)
    payload = _fdp.take_rest(fdp)
    expected = None
    if framed:
        settings.max_msg_size = 0
        payload, expected = frame_messages(_fdp.split(payload, cuts), settings)
    whole = read_all(settings, [payload])
    parts = read_all(settings, _fdp.split(payload, cuts))
    if whole != parts and not _known_close_code(whole, parts, settings.deflate is not None):
        raise ReaderBug(f"split input read differently:\n  whole: {whole!r}\n  split: {parts!r}")
    if expected is not None and whole != (expected, None):
        raise ReaderBug(f"framed messages read back as {whole!r}, sent {expected!r}")


def seed(
    payload: bytes,
    *,
    limit: int = 5,
    decode_text: bool = True,
    deflate: tuple[int, bool] | None = None,
    framed: bool = False,
    cuts: tuple[int, ...] = (),
) -> bytes:
    """The input that makes `one_input` read `payload` with these settings."""
    writer = _fdp.SeedWriter().int_in_range(0, len(_LIMITS) - 1, limit).flag(decode_text)
    writer.flag(deflate is not None)
    if deflate is not None:
        writer.int_in_range(8, 15, deflate[0]).flag(deflate[1])
    writer.flag(framed).cuts(cuts, 8)
    return writer.build(payload)


def main() -> None:
    from ._harness import run

    run(one_input)


if __name__ == "__main__":
    main()

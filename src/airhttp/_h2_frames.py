"""Cutting a server's HTTP/2 byte stream into whole frames (RFC 9113 4.1), sans-IO.

The HTTP/2 connection hands whole frames to h2's frame handler itself (DATA frames to its
DATA handler): h2's own frame buffer copies its whole input twice more and parses frame by
frame anyway. This module only finds the frame boundaries: bytes in, segments out; no
`h2` import, no sockets.
"""

from __future__ import annotations

from typing import Final

__all__ = ("FrameSplitter", "FrameTooLarge", "Segment", "header_frames")

_HEADER: Final = 9
_DATA: Final = 0x0
_HEADER_BLOCK_FRAMES: Final = frozenset({0x1, 0x5, 0x9})  # HEADERS, PUSH_PROMISE, CONTINUATION
_END_HEADERS: Final = 0x4
_END_STREAM: Final = 0x1
_HEADERS: Final = 0x1
_CONTINUATION: Final = 0x9
# One frame as (its 9-byte header, its body), or the frames of a header block that
# CONTINUATION frames carry on, as bytes for h2 to join.
Segment = bytes | tuple[memoryview, memoryview]


class FrameTooLarge(Exception):
    """A frame header announces more than SETTINGS_MAX_FRAME_SIZE allows (RFC 9113 4.2).

    Refused as soon as the header is in: waiting for such a frame (an HTTP/1.1 answer read
    as a frame header announces megabytes) would hang the connection.
    """

    error_code = 0x6  # FRAME_SIZE_ERROR

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"Frame of {length} bytes, more than the {limit} allowed")


class FrameSplitter:
    """Finds whole frames; a frame cut by a read waits for its rest.

    Every frame comes out on its own, except those of a header block carried on by
    CONTINUATION frames (from a HEADERS or PUSH_PROMISE without END_HEADERS to the
    CONTINUATION with it, and whatever comes between: h2 joins them, or refuses what does
    not belong). A frame longer than `max_frame` raises FrameTooLarge.
    """

    __slots__ = ("_in_header_block", "_pending")

    def __init__(self) -> None:
        self._pending: bytearray | None = None
        self._in_header_block = False

    def feed(self, data: bytes | memoryview, max_frame: int) -> list[Segment]:
        """The segments `data` completes, in order. A DATA segment may be a view of
        `data`: used up before `data` changes (the caller's receive buffer)."""
        out: list[Segment] = []
        view = memoryview(data)
        pending = self._pending
        if pending is not None:
            if len(pending) < _HEADER:
                take = _HEADER - len(pending)
                pending += view[:take]
                view = view[take:]
            if len(pending) >= _HEADER:
                length = pending[0] << 16 | pending[1] << 8 | pending[2]
                if length > max_frame:
                    raise FrameTooLarge(length, max_frame)
                total = _HEADER + length
                take = total - len(pending)
                pending += view[:take]
                view = view[take:]
                if len(pending) == total:
                    # Never grown again: the segments may keep views of it.
                    self._pending = None
                    self._split(memoryview(pending), max_frame, out)
            if self._pending is not None:
                return out
        used = self._split(view, max_frame, out)
        if used < len(view):
            self._pending = bytearray(view[used:])
        return out

    def _split(self, view: memoryview, max_frame: int, out: list[Segment]) -> int:
        """Append the whole frames at the start of `view`; return how many bytes they took."""
        end = len(view)
        pos = start = 0  # `start`: where a header block's run of frames begins
        while end - pos >= _HEADER:  # each header is judged before its frame is whole
            length = view[pos] << 16 | view[pos + 1] << 8 | view[pos + 2]
            if length > max_frame:
                raise FrameTooLarge(length, max_frame)
            kind = view[pos + 3]
            after = pos + _HEADER + length
            if after > end:
                break
            in_block = self._in_header_block
            if kind in _HEADER_BLOCK_FRAMES:
                self._in_header_block = not view[pos + 4] & _END_HEADERS
            if not (in_block or self._in_header_block):
                if start < pos:
                    out.append(bytes(view[start:pos]))
                out.append((view[pos : pos + _HEADER], view[pos + _HEADER : after]))
                start = after
            pos = after
        if start < pos:
            out.append(bytes(view[start:pos]))
        return pos


def header_frames(stream_id: int, block: bytes, end_stream: bool, max_frame: int) -> bytes:
    """The frames carrying header block `block` on `stream_id` (RFC 9113 6.2, 6.10).

    One HEADERS frame when the block fits `max_frame`, else HEADERS and CONTINUATION
    frames; no padding, no priority. END_STREAM goes on the HEADERS frame, END_HEADERS
    on the last one.
    """
    sid = stream_id.to_bytes(4, "big")
    flags = _END_STREAM if end_stream else 0
    if len(block) <= max_frame:
        return len(block).to_bytes(3, "big") + bytes((_HEADERS, flags | _END_HEADERS)) + sid + block
    out = []
    kind = _HEADERS
    for start in range(0, len(block), max_frame):
        piece = block[start : start + max_frame]
        if start + max_frame >= len(block):
            flags |= _END_HEADERS
        out.append(len(piece).to_bytes(3, "big") + bytes((kind, flags)) + sid + piece)
        kind, flags = _CONTINUATION, 0
    return b"".join(out)

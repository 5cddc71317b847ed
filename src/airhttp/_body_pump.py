"""A compressed response body expanded into its reader in bounded steps (no sockets).

The protocol feeds it the body as it arrives; `pump` expands as much as the reader
takes, so a small compressed body cannot swell into unbounded memory.
"""

from __future__ import annotations

from collections import deque
from typing import Final

from .base_protocol import BaseProtocol
from .compression_utils import BodyDecompressor, make_decompressor
from .streams import StreamReader

__all__ = ("BodyDecoder",)

_EMPTY: Final = b""


class BodyDecoder:
    """Expands a compressed body into its stream in bounded steps, stopping while it is full.

    It only decodes: what a finished body or a broken one means for the connection is
    the protocol's decision (`pump` reports the one and raises the other).
    """

    __slots__ = ("_decompressor", "_flow", "_pending", "_sink", "_step", "input_ended")

    def __init__(self, encoding: str, step: int, sink: StreamReader, flow: BaseProtocol) -> None:
        self._decompressor: BodyDecompressor = make_decompressor(encoding)
        self._pending: deque[bytes] = deque()
        self._sink = sink
        self._flow = flow
        self._step = step
        # Every compressed byte has arrived; what remains is to expand it.
        self.input_ended = False

    def feed(self, data: bytes) -> None:
        if data:
            self._sink.count_raw_bytes(len(data))
            self._pending.append(data)

    def pump(self) -> bool:
        """Expand pending input until it is all out or the reader is full.

        True once the whole body is decoded; raises HttpProcessingError for bad input.
        """
        dec = self._decompressor
        pending = self._pending
        sink = self._sink
        flow = self._flow
        step = self._step
        while not flow.reading_paused:
            if dec.needs_input:
                if not pending:
                    break
                out = dec.decompress(pending.popleft(), step)
            else:
                out = dec.decompress(_EMPTY, step)
            if out:
                sink.feed_data(out)
        if self.input_ended and not pending and dec.needs_input and not flow.reading_paused:
            tail = dec.flush()
            if tail:
                sink.feed_data(tail)
            return True
        return False

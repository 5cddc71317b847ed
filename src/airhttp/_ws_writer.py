"""Writes a client's WebSocket frames to its transport: masking, compression, drain.

The frames themselves come from the sans-IO `_ws_frames.build_frame`; this module
only picks mask keys, compresses data messages when permessage-deflate was agreed,
and waits for the transport when its buffer is full.
"""

from __future__ import annotations

import os
from typing import Final

from ._ws_deflate import PerMessageDeflate
from ._ws_frames import build_frame
from .base_protocol import BaseProtocol
from .client_exceptions import ClientConnectionResetError

__all__ = ("WebSocketWriter",)

# Mask keys (RFC 6455 section 5.3: unpredictable, from a strong source) are drawn from
# the OS in batches: one getrandom() call per 256 frames instead of one per frame.
_KEYS_PER_BATCH: Final = 256
# Opcodes from CLOSE (0x8) up are control frames: never compressed (RFC 7692 section 6).
_OP_CLOSE: Final = 0x8


class WebSocketWriter:
    """Frames, masks and writes messages for one client WebSocket connection."""

    __slots__ = ("_closing", "_deflate", "_key_pos", "_keys", "_protocol")

    def __init__(self, protocol: BaseProtocol, *, deflate: PerMessageDeflate | None = None) -> None:
        self._protocol = protocol
        self._deflate = deflate
        self._keys = b""
        self._key_pos = 0
        self._closing = False

    def _mask_key(self) -> bytes:
        pos = self._key_pos
        if pos == len(self._keys):
            self._keys = os.urandom(4 * _KEYS_PER_BATCH)
            pos = 0
        self._key_pos = pos + 4
        return self._keys[pos : pos + 4]

    def write_frame(self, payload: bytes, opcode: int, compress: int | None = None) -> None:
        """Put one whole message on the wire now (no waiting for the buffer to drain).

        `compress` (window bits) compresses this message on its own, without the
        connection's context; None or 0 uses the connection's setting, as aiohttp
        does. Nothing is compressed unless the server agreed to permessage-deflate.
        """
        transport = self._protocol.transport
        if self._closing or transport is None or transport.is_closing():
            raise ClientConnectionResetError("Cannot write to closing transport")
        deflate = self._deflate
        rsv1 = False
        if deflate is not None and opcode < _OP_CLOSE:
            if compress:
                payload = deflate.compress_once(payload, compress)
            else:
                payload = deflate.compress(payload)
            rsv1 = True
        transport.write(build_frame(opcode, payload, rsv1=rsv1, mask_key=self._mask_key()))
        if opcode == _OP_CLOSE:
            # RFC 6455 section 5.5.1: nothing may follow our CLOSE frame.
            self._closing = True

    async def send_frame(self, payload: bytes, opcode: int, compress: int | None = None) -> None:
        """Write one message, then wait while the transport's buffer is over its limit."""
        self.write_frame(payload, opcode, compress)
        if self._protocol.writing_paused:
            await self.drain()

    async def drain(self) -> None:
        """Wait for the transport's buffer to fall below its limit, as a send does."""
        try:
            await self._protocol.wait_for_drain()
        except ConnectionResetError:
            raise ClientConnectionResetError("Cannot write to closing transport") from None

"""WebSocket message types, close codes and errors shared by the client's WebSocket API.

Plain value types (RFC 6455 opcodes and status codes); no framing or I/O here yet.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import IntEnum
from typing import Any, Final, NamedTuple

__all__ = (
    "WS_CLOSED_MESSAGE",
    "WS_CLOSING_MESSAGE",
    "WS_KEY",
    "WSCloseCode",
    "WSHandshakeError",
    "WSMessage",
    "WSMessageDecodeText",
    "WSMessageNoDecodeText",
    "WSMessageTextBytes",
    "WSMsgType",
    "WebSocketError",
)

# RFC 6455 section 1.3: appended to Sec-WebSocket-Key before hashing the accept value.
WS_KEY: Final[bytes] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WSCloseCode(IntEnum):
    """Close status codes (RFC 6455 section 7.4.1 and the IANA registry)."""

    OK = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    ABNORMAL_CLOSURE = 1006
    INVALID_TEXT = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014


class WSMsgType(IntEnum):
    """Message kinds: the RFC 6455 section 5.2 opcodes plus local connection states."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    PING = 0x9
    PONG = 0xA
    CLOSE = 0x8
    # Not opcodes: states reported by receive() once the connection winds down.
    CLOSING = 0x100
    CLOSED = 0x101
    ERROR = 0x102

    # Lower-case aliases kept for code written against very old aiohttp releases.
    text = TEXT
    binary = BINARY
    ping = PING
    pong = PONG
    close = CLOSE
    closing = CLOSING
    closed = CLOSED
    error = ERROR


class WSMessage(NamedTuple):
    """One received WebSocket message: its type, payload and extra (e.g. close reason)."""

    type: WSMsgType
    # str for TEXT, bytes for BINARY, int close code for CLOSE, exception for ERROR.
    data: Any
    extra: str | None

    def json(self, *, loads: Callable[[Any], Any] = json.loads) -> Any:
        """Decode the payload as JSON."""
        return loads(self.data)


class WSMessageTextBytes(NamedTuple):
    """aiohttp 3.14's type for a TEXT message kept as UTF-8 bytes (`decode_text=False`)."""

    type: WSMsgType
    data: Any
    extra: str | None

    def json(self, *, loads: Callable[[Any], Any] = json.loads) -> Any:
        """Decode the payload as JSON."""
        return loads(self.data)


# What receive() returns with decode_text=True, and with decode_text=False (typing aids).
WSMessageDecodeText = WSMessage
WSMessageNoDecodeText = WSMessage | WSMessageTextBytes

WS_CLOSED_MESSAGE: Final = WSMessage(WSMsgType.CLOSED, None, None)
WS_CLOSING_MESSAGE: Final = WSMessage(WSMsgType.CLOSING, None, None)


class WebSocketError(Exception):
    """The WebSocket peer broke the protocol; `code` is the close code to answer with."""

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        super().__init__(code, message)

    def __str__(self) -> str:
        return str(self.args[1])


class WSHandshakeError(Exception):
    """The WebSocket opening handshake failed."""

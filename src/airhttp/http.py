"""The HTTP/1.1 wire layer gathered under one name, as aiohttp's `http` module.

Re-exports plus two values (`RESPONSES`, `SERVER_SOFTWARE`); parsing, writing and
WebSocket framing live in their own modules.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from http import HTTPStatus
from typing import Final

from ._httpversion import HttpVersion, HttpVersion10, HttpVersion11
from ._version import __version__
from ._ws_deflate import ws_ext_gen, ws_ext_parse
from ._ws_frames import WebSocketReader
from ._ws_writer import WebSocketWriter
from .http_exceptions import HttpProcessingError
from .http_parser import RawResponseMessage, ResponseParser
from .http_websocket import (
    WS_CLOSED_MESSAGE,
    WS_CLOSING_MESSAGE,
    WS_KEY,
    WebSocketError,
    WSCloseCode,
    WSMessage,
    WSMessageDecodeText,
    WSMessageNoDecodeText,
    WSMessageTextBytes,
    WSMsgType,
)
from .http_writer import StreamWriter

__all__ = (
    "RESPONSES",
    "SERVER_SOFTWARE",
    "WS_CLOSED_MESSAGE",
    "WS_CLOSING_MESSAGE",
    "WS_KEY",
    "HttpProcessingError",
    "HttpVersion",
    "HttpVersion10",
    "HttpVersion11",
    "RawResponseMessage",
    "ResponseParser",
    "StreamWriter",
    "WSCloseCode",
    "WSMessage",
    "WSMessageDecodeText",
    "WSMessageNoDecodeText",
    "WSMessageTextBytes",
    "WSMsgType",
    "WebSocketError",
    "WebSocketReader",
    "WebSocketWriter",
    "ws_ext_gen",
    "ws_ext_parse",
)

# The aiohttp release whose client API airhttp follows.
_AIOHTTP_API_VERSION: Final = "3.13.3"

# The default User-Agent. It names aiohttp too, so servers and libraries (aiogram builds
# its own User-Agent from this) that look for "aiohttp" treat airhttp the same way.
SERVER_SOFTWARE: Final = (
    f"Python/{sys.version_info[0]}.{sys.version_info[1]} "
    f"aiohttp/{_AIOHTTP_API_VERSION} airhttp/{__version__}"
)

# Reason phrase and description of every status code Python knows.
RESPONSES: Final[Mapping[int, tuple[str, str]]] = {
    status: (status.phrase, status.description) for status in HTTPStatus
}

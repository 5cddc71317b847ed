"""The HTTP/1.1 wire layer gathered under one name, as aiohttp's `http` module.

Only re-exports; parsing, writing and WebSocket framing live in their own modules.
"""

from ._httpversion import HttpVersion, HttpVersion10, HttpVersion11
from .http_exceptions import HttpProcessingError
from .http_parser import RawResponseMessage, ResponseParser
from .http_websocket import WS_KEY, WebSocketError, WSCloseCode, WSMessage, WSMsgType
from .http_writer import StreamWriter

__all__ = (
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
    "WSMsgType",
    "WebSocketError",
)

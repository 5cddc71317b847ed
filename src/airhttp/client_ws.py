"""The client side of a WebSocket connection and its timeouts.

Only the public shapes exist so far: the frame reader/writer and the upgrade in
`ClientSession.ws_connect` arrive with the WebSocket issue. No I/O happens here yet.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any, Final

from .http_websocket import WSCloseCode, WSMessage, WSMsgType

__all__ = ("ClientWSTimeout", "ClientWebSocketResponse")

_NOT_YET: Final = "WebSocket support is not implemented yet"


@dataclasses.dataclass(frozen=True)
class ClientWSTimeout:
    """Timeouts for receiving a message and for the closing handshake."""

    ws_receive: float | None = None
    ws_close: float | None = None


class ClientWebSocketResponse:
    """A client WebSocket; `ClientSession.ws_connect` will return it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(_NOT_YET)

    @property
    def closed(self) -> bool:
        raise NotImplementedError(_NOT_YET)

    @property
    def protocol(self) -> str | None:
        raise NotImplementedError(_NOT_YET)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        raise NotImplementedError(_NOT_YET)

    def exception(self) -> BaseException | None:
        raise NotImplementedError(_NOT_YET)

    async def ping(self, message: bytes = b"") -> None:
        raise NotImplementedError(_NOT_YET)

    async def pong(self, message: bytes = b"") -> None:
        raise NotImplementedError(_NOT_YET)

    async def send_frame(
        self, message: bytes, opcode: WSMsgType, compress: int | None = None
    ) -> None:
        raise NotImplementedError(_NOT_YET)

    async def send_str(self, data: str, compress: int | None = None) -> None:
        raise NotImplementedError(_NOT_YET)

    async def send_bytes(self, data: bytes, compress: int | None = None) -> None:
        raise NotImplementedError(_NOT_YET)

    async def send_json(
        self,
        data: Any,
        compress: int | None = None,
        *,
        dumps: Callable[[Any], str] = json.dumps,
    ) -> None:
        raise NotImplementedError(_NOT_YET)

    async def send_json_bytes(
        self,
        data: Any,
        compress: int | None = None,
        *,
        dumps: Callable[[Any], bytes],
    ) -> None:
        raise NotImplementedError(_NOT_YET)

    async def close(self, *, code: int = WSCloseCode.OK, message: bytes = b"") -> bool:
        raise NotImplementedError(_NOT_YET)

    async def receive(self, timeout: float | None = None) -> WSMessage:
        raise NotImplementedError(_NOT_YET)

    async def receive_str(self, *, timeout: float | None = None) -> str:
        raise NotImplementedError(_NOT_YET)

    async def receive_bytes(self, *, timeout: float | None = None) -> bytes:
        raise NotImplementedError(_NOT_YET)

    async def receive_json(
        self, *, loads: Callable[[str], Any] = json.loads, timeout: float | None = None
    ) -> Any:
        raise NotImplementedError(_NOT_YET)

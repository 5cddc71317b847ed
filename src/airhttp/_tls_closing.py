"""TLS connections the pool closed, while they wait for the peer's close_notify.

With `enable_cleanup_closed`, a peer that never answers would keep the socket open
forever: each such transport is aborted after a grace period. No pooling here.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from .client_proto import ResponseHandler

__all__ = ("ClosingTLS",)

# How long a closed TLS transport may wait for the peer's close_notify.
_GRACE: Final = 2.0


class ClosingTLS:
    """Closes protocols; aborts the TLS ones still open `_GRACE` seconds later."""

    __slots__ = ("_closing", "_handle", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._closing: list[tuple[ResponseHandler, asyncio.Transport]] = []
        self._handle: asyncio.TimerHandle | None = None

    def close(self, proto: ResponseHandler) -> None:
        transport = proto.transport
        proto.close()
        if (
            transport is not None
            and transport.get_extra_info("sslcontext") is not None
            and not proto.closed.done()
        ):
            self._closing.append((proto, transport))
            if self._handle is None:
                self._handle = self._loop.call_later(_GRACE, self.abort_all)

    def abort_all(self) -> None:
        """Abort every transport still waiting, now."""
        self.cancel()
        closing, self._closing = self._closing, []
        for proto, transport in closing:
            if not proto.closed.done():
                transport.abort()

    def cancel(self) -> None:
        """Stop the timer (the transports stay as they are)."""
        handle = self._handle
        if handle is not None:
            self._handle = None
            handle.cancel()

"""The events ResponseParser hands out: the response head, end of message and sentinels.

Plain data holders with no parsing, no parser state and no I/O.
"""

from __future__ import annotations

from typing import Final

from multidict import CIMultiDictProxy

from ._head_syntax import ENCODING, ERRORS
from ._httpversion import HttpVersion

__all__ = (
    "CONNECTION_CLOSED",
    "END_NO_TRAILERS",
    "NEED_DATA",
    "PAUSED",
    "EndOfMessage",
    "Event",
    "RawResponseMessage",
    "Sentinel",
)


class Sentinel:
    """A named marker event; compare with `is`."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


NEED_DATA: Final = Sentinel("NEED_DATA")
PAUSED: Final = Sentinel("PAUSED")
CONNECTION_CLOSED: Final = Sentinel("CONNECTION_CLOSED")


class RawResponseMessage:
    """The head of one response: status line, fields and the framing decided from them."""

    __slots__ = (
        "_raw_headers",
        "chunked",
        "code",
        "compression",
        "content_length",
        "headers",
        "reason",
        "should_close",
        "upgrade",
        "version",
    )

    def __init__(
        self,
        version: HttpVersion,
        code: int,
        reason: str,
        headers: CIMultiDictProxy[str],
        should_close: bool,
        compression: str | None,
        upgrade: bool,
        chunked: bool,
        content_length: int | None,
    ) -> None:
        self.version = version
        self.code = code
        self.reason = reason
        self.headers = headers
        self.should_close = should_close
        self.compression = compression
        self.upgrade = upgrade
        self.chunked = chunked
        self.content_length = content_length
        self._raw_headers: tuple[tuple[bytes, bytes], ...] | None = None

    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        # Built on demand: most callers never look at raw bytes, so the head parse skips it.
        raw = self._raw_headers
        if raw is None:
            raw = self._raw_headers = tuple(
                (name.encode(ENCODING, ERRORS), value.encode(ENCODING, ERRORS))
                for name, value in self.headers.items()
            )
        return raw

    def __repr__(self) -> str:
        return (
            f"<RawResponseMessage version={self.version} code={self.code} "
            f"reason={self.reason!r} should_close={self.should_close} "
            f"chunked={self.chunked} content_length={self.content_length} "
            f"compression={self.compression!r} upgrade={self.upgrade} "
            f"headers={self.headers!r}>"
        )


class EndOfMessage:
    """The body of the current response is complete; `trailers` holds any trailer fields."""

    __slots__ = ("trailers",)

    def __init__(self, trailers: CIMultiDictProxy[str] | None = None) -> None:
        self.trailers = trailers

    def __repr__(self) -> str:
        return f"<EndOfMessage trailers={self.trailers!r}>"


Event = RawResponseMessage | bytes | EndOfMessage | Sentinel

# One shared instance for the trailer-less case saves an allocation per response.
END_NO_TRAILERS: Final = EndOfMessage(None)

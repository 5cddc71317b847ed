"""Errors raised while reading or writing HTTP/1.x messages.

The parser raises these when the peer breaks the protocol; the client layer maps
them to the public client exceptions. Nothing here knows about sockets.
"""

from __future__ import annotations

from multidict import CIMultiDict, CIMultiDictProxy

__all__ = (
    "BadHttpMessage",
    "BadHttpMethod",
    "BadStatusLine",
    "ContentEncodingError",
    "ContentLengthError",
    "DecompressSizeError",
    "HttpBadRequest",
    "HttpProcessingError",
    "InvalidHeader",
    "InvalidURLError",
    "LineTooLong",
    "PayloadEncodingError",
    "TransferEncodingError",
)

_Headers = CIMultiDict[str] | CIMultiDictProxy[str]


class HttpProcessingError(Exception):
    """An HTTP message could not be processed; `code` is the matching status."""

    code = 0
    message = ""
    headers: _Headers | None = None

    def __init__(
        self,
        *,
        code: int | None = None,
        message: str = "",
        headers: _Headers | None = None,
    ) -> None:
        if code is not None:
            self.code = code
        self.headers = headers
        self.message = message

    def __str__(self) -> str:
        msg = self.message.replace("\n", "\n  ")
        return f"{self.code}, message:\n  {msg}"

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__}: {self.code}, message={self.message!r}>"


class BadHttpMessage(HttpProcessingError):
    """The peer sent a message that violates HTTP/1.1 framing or syntax."""

    code = 400
    message = "Bad Request"

    def __init__(self, message: str, *, headers: _Headers | None = None) -> None:
        super().__init__(message=message, headers=headers)
        self.args = (message,)


class HttpBadRequest(BadHttpMessage):
    code = 400
    message = "Bad Request"


class PayloadEncodingError(BadHttpMessage):
    """The body's framing or encoding is broken."""


class ContentEncodingError(PayloadEncodingError):
    """The body could not be decompressed."""


class DecompressSizeError(PayloadEncodingError):
    """Kept for code that names it; aiohttp deprecates it and airhttp never raises it."""


class TransferEncodingError(PayloadEncodingError):
    """Chunked transfer coding is malformed or ended too soon."""


class ContentLengthError(PayloadEncodingError):
    """The body ended before Content-Length bytes arrived."""


class LineTooLong(BadHttpMessage):
    """A status line, header line or chunk line passed its size limit."""

    def __init__(
        self,
        line: str | bytes | bytearray,
        limit: int | str = "Unknown",
        actual_size: int | str = "Unknown",
    ) -> None:
        super().__init__(f"Got more than {limit} bytes when reading: {line!r}.")
        self.args = (line, limit, actual_size)


class InvalidHeader(BadHttpMessage):
    """A header field name or value is not valid."""

    def __init__(self, hdr: bytes | str) -> None:
        hdr_s = hdr.decode(errors="backslashreplace") if isinstance(hdr, bytes) else hdr
        super().__init__(f"Invalid HTTP header: {hdr!r}")
        self.hdr = hdr_s
        self.args = (hdr,)


class BadStatusLine(BadHttpMessage):
    """The status line is malformed."""

    def __init__(self, line: str = "", error: str | None = None) -> None:
        if not isinstance(line, str):
            line = repr(line)
        super().__init__(error or f"Bad status line {line!r}")
        self.args = (line,)
        self.line = line


class BadHttpMethod(BadStatusLine):
    """The request method is malformed."""

    def __init__(self, line: str = "", error: str | None = None) -> None:
        super().__init__(line, error or f"Bad HTTP method in status line {line!r}")


class InvalidURLError(BadHttpMessage):
    """A request target is malformed."""

"""The HTTP version value shared by the parser and the writer.

A plain value type; no parsing or I/O here.
"""

from __future__ import annotations

from typing import Final, NamedTuple

__all__ = ("HttpVersion", "HttpVersion10", "HttpVersion11")


class HttpVersion(NamedTuple):
    major: int
    minor: int


HttpVersion10: Final = HttpVersion(1, 0)
HttpVersion11: Final = HttpVersion(1, 1)

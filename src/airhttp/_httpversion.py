"""The HTTP version value shared by the parser and the writer.

A plain value type; no parsing or I/O here.
"""

from __future__ import annotations

from typing import Final, NamedTuple

__all__ = ("HttpVersion", "HttpVersion10", "HttpVersion11", "parse_version")


class HttpVersion(NamedTuple):
    major: int
    minor: int


HttpVersion10: Final = HttpVersion(1, 0)
HttpVersion11: Final = HttpVersion(1, 1)


def parse_version(version: str) -> HttpVersion:
    """The version a "1.1"-style string names; ValueError for anything else."""
    major, dot, minor = version.partition(".")
    try:
        if not dot:
            raise ValueError(version)
        return HttpVersion(int(major), int(minor))
    except ValueError:
        raise ValueError(f"Can not parse http version number: {version}") from None

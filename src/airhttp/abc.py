"""Abstract interfaces users implement to plug into the client.

Resolvers, cookie jars and stream writers are defined here as contracts only:
no default behaviour, no I/O.
"""

from __future__ import annotations

import socket
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sized
from http.cookies import BaseCookie, Morsel
from typing import Any, TypedDict

from multidict import CIMultiDict
from yarl import URL

__all__ = (
    "AbstractCookieJar",
    "AbstractResolver",
    "AbstractStreamWriter",
    "ClearCookiePredicate",
    "ResolveResult",
)


_EMPTY_URL = URL()


class ResolveResult(TypedDict):
    """One address a resolver found for a host."""

    hostname: str
    host: str
    port: int
    family: int
    proto: int
    flags: int


class AbstractResolver(ABC):
    """Turns a host name into addresses to connect to."""

    @abstractmethod
    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Return the addresses of `host`, best first."""

    @abstractmethod
    async def close(self) -> None:
        """Release whatever the resolver holds."""


ClearCookiePredicate = Callable[["Morsel[str]"], bool]


class AbstractCookieJar(Sized, Iterable["Morsel[str]"]):
    """Stores cookies from responses and picks the ones to send with requests."""

    def __init__(self, *, loop: Any = None) -> None:
        # `loop` is accepted for compatibility and ignored.
        pass

    @property
    @abstractmethod
    def quote_cookie(self) -> bool:
        """Whether cookie values are quoted when they are sent."""

    @abstractmethod
    def clear(self, predicate: ClearCookiePredicate | None = None) -> None:
        """Remove every cookie, or those `predicate` returns True for."""

    @abstractmethod
    def clear_domain(self, domain: str) -> None:
        """Remove the cookies of `domain` and its subdomains."""

    @abstractmethod
    def update_cookies(self, cookies: Any, response_url: URL = _EMPTY_URL) -> None:
        """Store cookies received from `response_url`."""

    def update_cookies_from_headers(self, headers: Iterable[str], response_url: URL) -> None:
        """Store the cookies of raw Set-Cookie header values."""
        cookies: BaseCookie[str] = BaseCookie()
        for header in headers:
            try:
                cookies.load(header)
            except Exception:
                continue
        if cookies:
            self.update_cookies(cookies, response_url)

    @abstractmethod
    def filter_cookies(self, request_url: URL) -> BaseCookie[str]:
        """Return the cookies to send with a request to `request_url`."""


class AbstractStreamWriter(ABC):
    """Writes the bytes of one HTTP message to a transport."""

    buffer_size: int = 0
    output_size: int = 0
    length: int | None = 0

    @abstractmethod
    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        """Write a chunk of the body."""

    @abstractmethod
    async def write_eof(self, chunk: bytes = b"") -> None:
        """Write the last chunk and end the message."""

    @abstractmethod
    async def drain(self) -> None:
        """Wait until the transport accepts more data."""

    @abstractmethod
    def enable_compression(self, encoding: str = "deflate", strategy: int | None = None) -> None:
        """Compress the body with `encoding`."""

    @abstractmethod
    def enable_chunking(self) -> None:
        """Send the body with chunked transfer coding."""

    @abstractmethod
    async def write_headers(self, status_line: str, headers: CIMultiDict[str]) -> None:
        """Write the start line and the headers."""

    def send_headers(self) -> None:
        """Flush headers buffered by `write_headers` (no-op by default)."""

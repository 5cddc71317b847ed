"""What the security tests share: a recording server, a resolver by port, TLS for test names.

Test scaffolding only, no assertions of its own: every server listens on 127.0.0.1, and
one resolver per client library (aiohttp, airhttp) sends made-up names to those servers,
so that two origins can differ in exactly one of scheme, host or port.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import aiohttp
import aiohttp.abc
from yarl import URL

import airhttp.abc

from .conftest import read_request
from .tcp_support import LoopbackServer, tls_material

Answer = Callable[[bytes], bytes]

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def ok(_request: bytes) -> bytes:
    return OK


def request_target(raw: bytes) -> URL:
    """The path and query of a raw request head, as a relative URL."""
    return URL(raw.split(b" ", 2)[1].decode("latin-1"))


def header_values(raw: bytes, name: str) -> list[str]:
    """Every value of header `name` in the head of a raw HTTP message, in order."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    wanted = name.lower().encode("latin-1")
    values = []
    for line in head.split(b"\r\n")[1:]:
        field, _, value = line.partition(b":")
        if field.lower() == wanted:
            values.append(value.strip().decode("latin-1"))
    return values


def redirects_or_sets_cookies(raw: bytes) -> bytes:
    """`/go?to=X` answers 302 to X; `/set?c=..` answers 200 with one Set-Cookie per `c`."""
    target = request_target(raw)
    if target.path == "/go":
        location = target.query["to"].encode("latin-1")
        return b"HTTP/1.1 302 Found\r\nLocation: " + location + b"\r\nContent-Length: 0\r\n\r\n"
    if target.path == "/set":
        lines = b"".join(b"Set-Cookie: " + c.encode() + b"\r\n" for c in target.query.getall("c"))
        return b"HTTP/1.1 200 OK\r\n" + lines + b"Content-Length: 2\r\n\r\nok"
    return OK


class RecordingServer(LoopbackServer):
    """Keeps every request (head and Content-Length body) as received; `answer` replies.

    With an SSL context it speaks TLS. Connections are kept alive until the client leaves.
    """

    def __init__(self, answer: Answer = ok, ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__()
        self.answer = answer
        self._ssl = ssl_context
        self.scheme = "https" if ssl_context is not None else "http"
        self.requests: list[bytes] = []
        self.connections = 0

    async def start(self) -> URL:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self._ssl)
        port = self._server.sockets[0].getsockname()[1]
        return URL.build(scheme=self.scheme, host="127.0.0.1", port=port)

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                raw = await read_request(reader)
                self.requests.append(raw)
                writer.write(self.answer(raw))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()


# --- made-up names that lead to the loopback servers ------------------------------------


class _Routes:
    """(name, port) -> the 127.0.0.1 port that plays it; an unknown pair is a KeyError."""

    def __init__(self, routes: dict[tuple[str, int], int]) -> None:
        self.routes = routes

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[Any]:
        real = self.routes[(host, port)]
        entry = {"hostname": host, "host": "127.0.0.1", "port": real, "family": socket.AF_INET}
        return [{**entry, "proto": 0, "flags": socket.AI_NUMERICHOST}]

    async def close(self) -> None:
        pass


class AirRoutes(_Routes, airhttp.abc.AbstractResolver):
    """The resolver for airhttp sessions."""


class AioRoutes(_Routes, aiohttp.abc.AbstractResolver):
    """The same resolver for aiohttp sessions (the oracle)."""


def routed_session(lib: ModuleType, routes: dict[tuple[str, int], int], **kwargs: Any) -> Any:
    """A ClientSession of `lib` whose connector resolves names through `routes`."""
    resolver = (AioRoutes if lib is aiohttp else AirRoutes)(routes)
    return lib.ClientSession(connector=lib.TCPConnector(resolver=resolver), **kwargs)


# --- TLS for the made-up names -----------------------------------------------------------


@dataclass(frozen=True)
class SiteTLS:
    """A server context whose certificate names a.test and b.test, and a client trusting it."""

    server: ssl.SSLContext
    client: ssl.SSLContext


@functools.lru_cache(maxsize=1)
def site_tls() -> SiteTLS:
    material = tls_material()
    leaf = material.ca.issue_cert("a.test", "b.test")
    return SiteTLS(material.server_context(leaf), material.client_context())

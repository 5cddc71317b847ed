"""One adapter per client library, each doing a workload's operation the way a user would.

Imported only inside a bench/client.py process; a library is imported when its mode is
opened, never at import time, so a missing library only skips its own mode.

Given the TLS server's CA file, every client trusts it through an ssl.SSLContext of its
own: the HTTP/1.1 clients offer only http/1.1 by ALPN, airhttp-h2 lets airhttp offer h2.
"""

from __future__ import annotations

import os
import ssl
from typing import Any, Protocol

# The pool must hold every concurrent connection, or a client pays for reconnects instead.
POOL_SIZE = 100
CHUNK = 65536


class Unavailable(Exception):
    """The mode's library is missing, or cannot run this workload."""


class CheckedReply:
    """What a check looks at: the response's fields, its decoded body, its HTTP version."""

    __slots__ = ("body", "headers", "version")

    def __init__(
        self, headers: dict[str, str], body: bytes, version: tuple[int, int] | None = None
    ) -> None:
        self.headers = headers
        self.body = body
        self.version = version


def tls_context(ca_file: str | None, alpn: list[str] | None) -> ssl.SSLContext | None:
    """A context that trusts the bench's CA (None without one), offering `alpn` if given."""
    if ca_file is None:
        return None
    context = ssl.create_default_context(cafile=ca_file)
    if alpn is not None:
        context.set_alpn_protocols(alpn)
    return context


class BenchClient(Protocol):
    library: str
    detail: str

    async def get(self, url: str) -> bytes: ...
    async def download(self, url: str) -> int: ...
    async def upload(self, url: str, data: bytes) -> bytes: ...
    async def post_json(self, url: str, document: object) -> object: ...
    async def cold_get(self, url: str) -> bytes: ...
    async def ws_echo(self, url: str, text: str) -> str: ...
    async def inspect(self, url: str) -> CheckedReply: ...
    async def close(self) -> None: ...


def python_parsers_in_use() -> bool:
    """Whether aiohttp (already imported) runs its pure-Python HTTP parser and frame reader."""
    import aiohttp.http_parser
    from aiohttp._websocket import reader

    return (
        aiohttp.http_parser.HttpResponseParser is aiohttp.http_parser.HttpResponseParserPy
        and reader.WebSocketReader.__module__.endswith("reader_py")
    )


class SessionClient:
    """airhttp or aiohttp: both speak the same client API, so one adapter drives both."""

    def __init__(self, module: Any, library: str, detail: str, connector: Any = None) -> None:
        self._module = module
        self._session: Any = module.ClientSession(connector=connector)
        self._socket: Any = None
        self.library = library
        self.detail = detail

    async def get(self, url: str) -> bytes:
        async with self._session.get(url) as resp:
            body: bytes = await resp.read()
            return body

    async def download(self, url: str) -> int:
        size = 0
        async with self._session.get(url) as resp:
            async for chunk in resp.content.iter_chunked(CHUNK):
                size += len(chunk)
        return size

    async def upload(self, url: str, data: bytes) -> bytes:
        async with self._session.post(url, data=data) as resp:
            body: bytes = await resp.read()
            return body

    async def post_json(self, url: str, document: object) -> object:
        async with self._session.post(url, json=document) as resp:
            return await resp.json()

    async def cold_get(self, url: str) -> bytes:
        async with self._module.ClientSession() as session, session.get(url) as resp:
            body: bytes = await resp.read()
            return body

    async def ws_echo(self, url: str, text: str) -> str:
        if self._socket is None:
            self._socket = await self._session.ws_connect(url)
        await self._socket.send_str(text)
        message = await self._socket.receive()
        return str(message.data)

    async def inspect(self, url: str) -> CheckedReply:
        async with self._session.get(url) as resp:
            version = (resp.version.major, resp.version.minor)
            return CheckedReply(dict(resp.headers), await resp.read(), version)

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        await self._session.close()


class HttpxClient:
    def __init__(self, context: ssl.SSLContext | None) -> None:
        import httpx

        self._httpx = httpx
        self._limits = httpx.Limits(max_connections=POOL_SIZE, max_keepalive_connections=POOL_SIZE)
        # http2 stays False (its default): httpx speaks HTTP/1.1 only, as in every workload.
        self._client = httpx.AsyncClient(limits=self._limits, verify=context or True)
        self.library = f"httpx {httpx.__version__}"
        self.detail = "http/1.1"

    async def get(self, url: str) -> bytes:
        return (await self._client.get(url)).content

    async def download(self, url: str) -> int:
        size = 0
        async with self._client.stream("GET", url) as resp:
            async for chunk in resp.aiter_bytes(CHUNK):
                size += len(chunk)
        return size

    async def upload(self, url: str, data: bytes) -> bytes:
        return (await self._client.post(url, content=data)).content

    async def post_json(self, url: str, document: object) -> object:
        return (await self._client.post(url, json=document)).json()

    async def cold_get(self, url: str) -> bytes:
        async with self._httpx.AsyncClient(limits=self._limits) as client:
            return (await client.get(url)).content

    async def ws_echo(self, url: str, text: str) -> str:
        raise Unavailable("httpx has no WebSocket client")

    async def inspect(self, url: str) -> CheckedReply:
        resp = await self._client.get(url)
        major, _, minor = resp.http_version.removeprefix("HTTP/").partition(".")
        return CheckedReply(dict(resp.headers), resp.content, (int(major), int(minor or 0)))

    async def close(self) -> None:
        await self._client.aclose()


def open_airhttp(ca_file: str | None, http2: bool) -> BenchClient:
    try:
        import airhttp
    except ImportError as exc:
        raise Unavailable(f"airhttp is not installed ({exc})") from None
    library = f"airhttp {airhttp.__version__}"
    if not http2:
        context = tls_context(ca_file, ["http/1.1"])
        connector = None if context is None else airhttp.TCPConnector(ssl=context)
        return SessionClient(airhttp, library, "pure Python", connector)
    try:
        # The connector makes the context offer h2 and http/1.1: that is its job, not ours.
        connector = airhttp.TCPConnector(
            http2=True, ssl=tls_context(ca_file, None) or True, limit=POOL_SIZE
        )
    except ImportError as exc:
        raise Unavailable(f"airhttp's HTTP/2 needs h2 ({exc})") from None
    return SessionClient(airhttp, library, "pure Python, HTTP/2", connector)


def open_aiohttp(pure_python: bool, ca_file: str | None) -> BenchClient:
    # run.py sets AIOHTTP_NO_EXTENSIONS for aiohttp-py only; this double-checks the result.
    if pure_python != (os.environ.get("AIOHTTP_NO_EXTENSIONS") == "1"):
        raise Unavailable("AIOHTTP_NO_EXTENSIONS does not match the mode")
    try:
        import aiohttp
    except ImportError as exc:
        raise Unavailable(f"aiohttp is not installed ({exc})") from None
    python_only = python_parsers_in_use()
    if pure_python and not python_only:
        raise Unavailable("AIOHTTP_NO_EXTENSIONS=1 did not switch to the Python parsers")
    detail = "pure Python parsers" if python_only else "C extensions"
    context = tls_context(ca_file, ["http/1.1"])
    # The same pool as ClientSession()'s own (limit 100), trusting the bench's CA.
    connector = None if context is None else aiohttp.TCPConnector(ssl=context)
    return SessionClient(aiohttp, f"aiohttp {aiohttp.__version__}", detail, connector)


def open_httpx(ca_file: str | None) -> BenchClient:
    try:
        return HttpxClient(tls_context(ca_file, ["http/1.1"]))
    except ImportError as exc:
        raise Unavailable(f"httpx is not installed ({exc})") from None


def open_client(mode: str, ca_file: str | None = None) -> BenchClient:
    """The adapter for `mode`, trusting `ca_file` for https://; call it inside the loop."""
    if mode in ("airhttp", "airhttp-h2"):
        return open_airhttp(ca_file, mode == "airhttp-h2")
    if mode in ("aiohttp", "aiohttp-py"):
        return open_aiohttp(mode == "aiohttp-py", ca_file)
    if mode == "httpx":
        return open_httpx(ca_file)
    if mode == "floor":
        from floor import FloorClient  # floor.py imports this module's types

        return FloorClient()
    raise ValueError(f"unknown mode {mode!r}")

"""One adapter per client library, each doing a workload's operation the way a user would.

Imported only inside a bench/client.py process; a library is imported when its mode is
opened, never at import time, so a missing library only skips its own mode.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

# The pool must hold every concurrent connection, or a client pays for reconnects instead.
POOL_SIZE = 100
CHUNK = 65536


class Unavailable(Exception):
    """The mode's library is missing, or cannot run this workload."""


class CheckedReply:
    """What a check looks at: the response's fields and its decoded body."""

    __slots__ = ("body", "headers")

    def __init__(self, headers: dict[str, str], body: bytes) -> None:
        self.headers = headers
        self.body = body


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

    def __init__(self, module: Any, library: str, detail: str) -> None:
        self._module = module
        self._session: Any = module.ClientSession()
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
            return CheckedReply(dict(resp.headers), await resp.read())

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        await self._session.close()


class HttpxClient:
    def __init__(self) -> None:
        import httpx

        self._httpx = httpx
        self._limits = httpx.Limits(max_connections=POOL_SIZE, max_keepalive_connections=POOL_SIZE)
        self._client = httpx.AsyncClient(limits=self._limits)
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
        return CheckedReply(dict(resp.headers), resp.content)

    async def close(self) -> None:
        await self._client.aclose()


def open_airhttp() -> BenchClient:
    try:
        import airhttp
    except ImportError as exc:
        raise Unavailable(f"airhttp is not installed ({exc})") from None
    return SessionClient(airhttp, f"airhttp {airhttp.__version__}", "pure Python")


def open_aiohttp(pure_python: bool) -> BenchClient:
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
    return SessionClient(aiohttp, f"aiohttp {aiohttp.__version__}", detail)


def open_httpx() -> BenchClient:
    try:
        return HttpxClient()
    except ImportError as exc:
        raise Unavailable(f"httpx is not installed ({exc})") from None


def open_client(mode: str) -> BenchClient:
    """The adapter for `mode`; call it inside the running event loop."""
    if mode == "airhttp":
        return open_airhttp()
    if mode in ("aiohttp", "aiohttp-py"):
        return open_aiohttp(mode == "aiohttp-py")
    if mode == "httpx":
        return open_httpx()
    if mode == "floor":
        from floor import FloorClient  # floor.py imports this module's types

        return FloorClient()
    raise ValueError(f"unknown mode {mode!r}")

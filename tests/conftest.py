"""Shared fixtures: real servers to talk to, and leak checks around every test."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from yarl import URL

from airhttp.streams import StreamReader

RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture(autouse=True)
async def _no_leaked_tasks() -> AsyncIterator[None]:
    """Every test must finish its tasks, close what it opened and leave nothing on the loop."""
    before = set(asyncio.all_tasks())
    loop = asyncio.get_running_loop()
    noise: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: noise.append(context))
    yield
    for _ in range(3):
        await asyncio.sleep(0)

    def pending() -> list[asyncio.Task[Any]]:
        return [
            t
            for t in asyncio.all_tasks()
            if t not in before
            and t is not asyncio.current_task()
            and not t.done()
            # asyncio's own accept-and-handshake task of a *test server* whose peer left.
            and t.get_coro().__qualname__ != "BaseSelectorEventLoop._accept_connection2"  # type: ignore[union-attr]
        ]

    leaked = pending()
    if leaked:
        # Tasks already cancelling (a server closing) get a moment to finish.
        await asyncio.wait(leaked, timeout=0.2)
        leaked = pending()
    for task in leaked:
        task.cancel()
    assert not leaked, f"tasks left running: {leaked}"
    # Unclosed sockets and transports in reference cycles warn (as errors) when collected.
    gc.collect()
    loop.set_exception_handler(None)
    # "Future exception was never retrieved", "Task was destroyed but it is pending", an
    # exception in a callback: each is an error nobody will see, so it fails the test.
    said = [f"{context.get('message')} {context.get('exception')!r}" for context in noise]
    assert not noise, "left on the loop: " + "; ".join(said)
    # What survived is reachable from outside this test (modules, caches, session-scoped
    # fixtures): frozen, the next test's collection scans only what that test made. That
    # keeps the per-test collection cost flat instead of growing with the suite.
    gc.freeze()


class WebServer:
    """An aiohttp.web application served on 127.0.0.1 for the duration of a test."""

    def __init__(self) -> None:
        self._runners: list[Any] = []

    async def start(self, app: Any, *, ssl_context: Any = None) -> URL:
        from aiohttp import web

        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
        await site.start()
        self._runners.append(runner)
        sock = site._server.sockets[0]  # type: ignore[union-attr]
        port = sock.getsockname()[1]
        scheme = "https" if ssl_context is not None else "http"
        return URL.build(scheme=scheme, host="127.0.0.1", port=port)

    async def close(self) -> None:
        for runner in self._runners:
            await runner.cleanup()


@pytest.fixture
async def web_server() -> AsyncIterator[WebServer]:
    server = WebServer()
    yield server
    await server.close()


class RawServer:
    """A plain asyncio server whose handler writes whatever bytes a test wants."""

    def __init__(self) -> None:
        self._servers: list[asyncio.Server] = []
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.connections = 0

    async def start(self, handler: RawHandler) -> URL:
        async def wrapped(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            self._writers.add(writer)
            task = asyncio.current_task()
            assert task is not None
            self._tasks.add(task)
            try:
                await handler(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            except asyncio.CancelledError:
                # Cancelled by close(): ended here, as a cancelled handler task makes
                # asyncio's stream server report a CancelledError on the loop (3.11).
                pass
            finally:
                self._writers.discard(writer)
                self._tasks.discard(task)
                writer.close()

        server = await asyncio.start_server(wrapped, "127.0.0.1", 0)
        self._servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return URL.build(scheme="http", host="127.0.0.1", port=port)

    async def close(self) -> None:
        for writer in list(self._writers):
            writer.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        for server in self._servers:
            server.close()
            await server.wait_closed()


@pytest.fixture
async def raw_server() -> AsyncIterator[RawServer]:
    server = RawServer()
    yield server
    await server.close()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """Read one request head plus a Content-Length body from a raw connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    return head + body


# --- WebSocket peers for the interop tests (servers in tests/ws_peers.py) ---------------


@pytest.fixture(params=("websockets", "aiohttp"))
async def peer(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """Each independent WebSocket server in turn: the `websockets` library, aiohttp.web."""
    from .ws_peers import make_peer

    server = make_peer(request.param)
    yield server
    await server.close()


@pytest.fixture
async def websockets_peer() -> AsyncIterator[Any]:
    from .ws_peers import WebsocketsPeer

    server = WebsocketsPeer()
    yield server
    await server.close()


@pytest.fixture
async def aiohttp_peer() -> AsyncIterator[Any]:
    from .ws_peers import AiohttpPeer

    server = AiohttpPeer()
    yield server
    await server.close()


@pytest.fixture
async def session() -> AsyncIterator[Any]:
    import airhttp

    async with airhttp.ClientSession() as client:
        yield client


@pytest.fixture
def made_readers(monkeypatch: pytest.MonkeyPatch) -> list[StreamReader]:
    """Every StreamReader client_proto creates while the test runs, in order."""
    # Imported here: test_leak_guard copies this file where tests/ is no package.
    from .proto_support import spy_readers

    return spy_readers(monkeypatch)

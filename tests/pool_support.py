"""Helpers for the pool tests: leak checks, recording connectors and small servers.

Only test scaffolding lives here; no assertions about behaviour beyond pool bookkeeping.
"""

from __future__ import annotations

import asyncio
import socket
from types import SimpleNamespace
from typing import Any

from aiohttp import web
from yarl import URL

from airhttp._pool import BaseConnector
from airhttp.client import ClientTimeout
from airhttp.client_proto import ResponseHandler
from airhttp.client_reqrep import ClientRequest
from airhttp.connector import TCPConnector
from airhttp.tracing import Trace, TraceConfig


def assert_pool_clean(connector: BaseConnector | None) -> None:
    """No slot is held, no waiter is queued: the pool has nothing left to give back."""
    assert connector is not None
    assert len(connector._acquired) == 0, connector._acquired
    assert not connector._acquired_per_host, connector._acquired_per_host
    assert not connector._waiters, connector._waiters


def idle_count(connector: BaseConnector) -> int:
    return sum(len(pool) for pool in connector._idle.values())


class CountingConnector(TCPConnector):
    """Counts and records every connection it opens (the subclassing hook)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.created: list[str] = []
        self.block: asyncio.Event | None = None

    async def _create_connection(
        self, req: ClientRequest, traces: list[Trace], timeout: ClientTimeout
    ) -> ResponseHandler:
        self.created.append(f"{req.url.host}:{req.url.port}")
        if self.block is not None:
            await self.block.wait()
        return await super()._create_connection(req, traces, timeout)


class RecordingConnector(TCPConnector):
    """Records the order in which requests queue and are served, and checks that a
    freed slot never stays unpromised while some waiter could use it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.arrived: list[tuple[str, int]] = []
        self.served: list[tuple[str, int]] = []
        self.left_behind: list[str] = []

    async def _wait_for_slot(self, key: Any, traces: list[Trace]) -> Any:
        ident = (key.host, len(self.arrived))
        self.arrived.append(ident)
        holder = await super()._wait_for_slot(key, traces)
        self.served.append(ident)
        return holder

    def _wake_next_waiter(self) -> None:
        super()._wake_next_waiter()
        for key, queue in self._waiters.items():
            pending = [w for w in queue if not w.done()]
            if pending and self._available_connections(key) > 0:
                self.left_behind.append(f"{key.host}: {len(pending)} waiting with a free slot")


def make_request(url: URL) -> ClientRequest:
    """A request object for driving connector.connect() directly."""
    return ClientRequest("GET", url, loop=asyncio.get_running_loop())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (bound once, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def event_trace() -> tuple[TraceConfig, list[str]]:
    """A TraceConfig that logs the connection signals in the order they fire."""
    events: list[str] = []
    config = TraceConfig()

    def record(name: str) -> Any:
        async def on_event(session: Any, ctx: SimpleNamespace, params: Any) -> None:
            events.append(name)

        return on_event

    config.on_connection_queued_start.append(record("queued_start"))
    config.on_connection_queued_end.append(record("queued_end"))
    config.on_connection_create_start.append(record("create_start"))
    config.on_connection_create_end.append(record("create_end"))
    config.on_connection_reuseconn.append(record("reuseconn"))
    return config, events


class HoldApp:
    """An aiohttp.web app whose /hold answers only when the test says so."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.in_flight = 0
        self.max_in_flight = 0
        self.peers: list[int] = []

    def app(self) -> web.Application:
        async def hello(request: web.Request) -> web.Response:
            self._note_peer(request)
            return web.Response(text="ok")

        async def hold(request: web.Request) -> web.Response:
            self._note_peer(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                await self.release.wait()
            finally:
                self.in_flight -= 1
            return web.Response(text="held")

        async def brief(request: web.Request) -> web.Response:
            self._note_peer(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                await asyncio.sleep(0.002)
            finally:
                self.in_flight -= 1
            return web.Response(text="brief")

        app = web.Application()
        app.router.add_get("/", hello)
        app.router.add_get("/hold", hold)
        app.router.add_get("/brief", brief)
        return app

    def _note_peer(self, request: web.Request) -> None:
        transport = request.transport
        assert transport is not None
        self.peers.append(transport.get_extra_info("peername")[1])


class MultiHostServer:
    """One aiohttp.web app listening on several loopback addresses (127.0.0.x)."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._runner: web.AppRunner | None = None

    async def start(self, hosts: list[str]) -> list[URL]:
        runner = web.AppRunner(
            self._app, handle_signals=False, access_log=None, shutdown_timeout=0.1
        )
        await runner.setup()
        self._runner = runner
        urls = []
        for host in hosts:
            site = web.TCPSite(runner, host, 0)
            await site.start()
            server = site._server
            assert isinstance(server, asyncio.Server)
            port = server.sockets[0].getsockname()[1]
            urls.append(URL.build(scheme="http", host=host, port=port))
        return urls

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


__all__ = (
    "CountingConnector",
    "HoldApp",
    "MultiHostServer",
    "RecordingConnector",
    "assert_pool_clean",
    "event_trace",
    "free_port",
    "idle_count",
    "make_request",
)

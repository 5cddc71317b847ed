"""SOCKS through pproxy, an independent proxy server run as a subprocess.

tests/test_socks_proxy.py covers the protocol's corners with our own server; this file
checks that the same client talks to someone else's implementation. (pproxy 2.7 answers
SOCKS4a with success and then drops the connection, and does not check SOCKS5
passwords, so neither is tried here.)
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from yarl import URL

import airhttp

from .conftest import WebServer
from .tcp_support import tls_material

pytest.importorskip("pproxy")


# pproxy switches to uvloop when it is installed (the bench extra brings it), and pproxy 2.7
# does not run on uvloop >= 0.22: run it on asyncio's own loop.
_WITHOUT_UVLOOP = (
    "import runpy, sys; sys.modules['uvloop'] = None; sys.argv[0] = 'pproxy'; "
    "runpy.run_module('pproxy', run_name='__main__')"
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PProxy:
    """The running pproxy: its URL, and the tunnels it logged (`-v`: one line each)."""

    def __init__(self, url: URL, log: Path) -> None:
        self.url = url
        self._log = log
        self._seen = 0

    def new_tunnels(self) -> list[str]:
        """The "proto client -> target" lines logged since the last call."""
        lines = [line for line in self._log.read_text().splitlines() if " -> " in line]
        fresh, self._seen = lines[self._seen :], len(lines)
        return [line.split(" ", 1)[0] + " -> " + line.rsplit(" ", 1)[1] for line in fresh]


@pytest.fixture(scope="module")
def pproxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PProxy]:
    """pproxy speaking SOCKS4 and SOCKS5 on a free loopback port, for this module."""
    port = _free_port()
    log = tmp_path_factory.mktemp("pproxy") / "log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-u",
                "-c",
                _WITHOUT_UVLOOP,
                "-v",
                "-l",
                f"socks4+socks5://127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("pproxy did not start")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield PProxy(URL.build(scheme="socks5", host="127.0.0.1", port=port), log)
    finally:
        process.terminate()
        process.wait(timeout=10)


async def _origin(web_server: WebServer, *, tls: bool = False) -> URL:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text=f"{request.method} {request.raw_path} {request.secure}")

    async def ws(request: web.Request) -> web.WebSocketResponse:
        socket_ = web.WebSocketResponse()
        await socket_.prepare(request)
        async for message in socket_:
            await socket_.send_str(message.data.upper())
        return socket_

    app = web.Application()
    app.router.add_get("/hello", hello)
    app.router.add_get("/ws", ws)
    context = tls_material().server_context() if tls else None
    return await web_server.start(app, ssl_context=context)


async def _settled(pproxy: PProxy) -> list[str]:
    await asyncio.sleep(0.05)  # pproxy flushes its log line as the tunnel opens
    return pproxy.new_tunnels()


@pytest.mark.parametrize("scheme", ["socks4", "socks5", "socks5h"])
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_plain_http_through_pproxy(
    web_server: WebServer, pproxy: PProxy, scheme: str, host: str
) -> None:
    origin = (await _origin(web_server)).with_host(host) / "hello"
    pproxy.new_tunnels()
    async with airhttp.ClientSession() as session:
        for _ in range(2):  # the second one rides the pooled tunnel
            async with session.get(origin, proxy=pproxy.url.with_scheme(scheme)) as resp:
                assert await resp.text() == "GET /hello False"
    # One tunnel for both; the name went to the proxy only with socks5h.
    target = host if scheme == "socks5h" else "127.0.0.1"
    wire = "socks4" if scheme == "socks4" else "socks5"
    assert await _settled(pproxy) == [f"{wire} -> {target}:{origin.port}"]


async def test_https_through_pproxy(web_server: WebServer, pproxy: PProxy) -> None:
    origin = (await _origin(web_server, tls=True)).with_host("localhost") / "hello"
    context = tls_material().client_context()
    pproxy.new_tunnels()
    async with airhttp.ClientSession() as session:
        proxy = pproxy.url.with_scheme("socks5h")
        async with session.get(origin, proxy=proxy, ssl=context) as r:
            assert await r.text() == "GET /hello True"
    assert await _settled(pproxy) == [f"socks5 -> localhost:{origin.port}"]


async def test_a_websocket_through_pproxy(web_server: WebServer, pproxy: PProxy) -> None:
    origin = (await _origin(web_server)).with_scheme("ws") / "ws"
    pproxy.new_tunnels()
    async with airhttp.ClientSession() as session:
        async with session.ws_connect(origin, proxy=pproxy.url) as ws:
            await ws.send_str("hello")
            assert await ws.receive_str() == "HELLO"
    assert await _settled(pproxy) == [f"socks5 -> 127.0.0.1:{origin.port}"]

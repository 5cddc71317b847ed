"""UnixConnector over a real Unix socket, and NamedPipeConnector off Windows."""

from __future__ import annotations

import errno
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import web

import airhttp
from airhttp.client_exceptions import UnixClientConnectorError
from airhttp.connector import NamedPipeConnector, UnixConnector

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets")


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    # Short on purpose: a Unix socket path is limited to about 100 bytes.
    with tempfile.TemporaryDirectory(prefix="air") as tmp:
        yield Path(tmp)


@pytest.fixture
async def unix_path(socket_dir: Path) -> AsyncIterator[str]:
    """A path where aiohttp.web answers GET / with the Host header and request count."""
    count = 0

    async def hello(request: web.Request) -> web.Response:
        nonlocal count
        count += 1
        return web.Response(text=f"{request.host} {count}")

    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    path = str(socket_dir / "web.sock")
    await web.UnixSite(runner, path).start()
    yield path
    await runner.cleanup()


async def test_request_goes_over_the_unix_socket(unix_path: str) -> None:
    connector = UnixConnector(path=unix_path)
    assert connector.path == unix_path
    async with airhttp.ClientSession(connector=connector) as session:
        async with session.get("http://any.host.example/") as resp:
            assert resp.status == 200
            assert await resp.text() == "any.host.example 1"


async def test_unix_connection_is_kept_alive_for_the_next_request(unix_path: str) -> None:
    connector = UnixConnector(unix_path)
    async with airhttp.ClientSession(connector=connector) as session:
        for expected in ("h 1", "h 2"):
            async with session.get("http://h/") as resp:
                assert await resp.text() == expected
        assert sum(len(pool) for pool in connector._idle.values()) == 1


async def test_https_url_over_a_unix_socket_is_sent_in_plain_text(unix_path: str) -> None:
    # As in aiohttp: the socket path decides where bytes go, no TLS is layered on.
    async with airhttp.ClientSession(connector=UnixConnector(unix_path)) as session:
        async with session.get("https://h/") as resp:
            assert resp.status == 200


async def test_missing_socket_path_raises_unix_connector_error(socket_dir: Path) -> None:
    path = str(socket_dir / "absent.sock")
    async with airhttp.ClientSession(connector=UnixConnector(path)) as session:
        with pytest.raises(UnixClientConnectorError) as info:
            await session.get("http://h:81/")
    err = info.value
    assert err.path == path
    assert (err.host, err.port, err.ssl) == ("h", 81, True)
    assert isinstance(err.os_error, FileNotFoundError)
    assert err.errno == errno.ENOENT
    assert (
        str(err) == f"Cannot connect to unix socket {path} ssl:default [No such file or directory]"
    )


async def test_socket_nobody_listens_on_raises_unix_connector_error(socket_dir: Path) -> None:
    path = str(socket_dir / "stale.sock")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(path)  # bound but never listening: connecting is refused
    async with airhttp.ClientSession(connector=UnixConnector(path)) as session:
        with pytest.raises(UnixClientConnectorError) as info:
            await session.get("http://h/")
    assert isinstance(info.value.os_error, ConnectionRefusedError)


async def test_named_pipe_connector_raises_a_clear_error_off_windows() -> None:
    with pytest.raises(RuntimeError, match="Named Pipes only available in proactor loop"):
        NamedPipeConnector(r"\\.\pipe\airhttp")

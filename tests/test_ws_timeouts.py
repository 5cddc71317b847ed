"""ws_connect's timeouts: ClientWSTimeout, the deprecated float forms and their warnings."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import warnings
from typing import Any

import pytest
from aiohttp import web

import airhttp
from airhttp.client_ws import DEFAULT_WS_CLIENT_TIMEOUT, ws_timeout_from

from .conftest import WebServer

FLOAT_TIMEOUT = (
    "parameter 'timeout' of type 'float' is deprecated, please use "
    "'timeout=ClientWSTimeout(ws_close=...)'"
)
FLOAT_RECEIVE = (
    "float parameter 'receive_timeout' is deprecated, please use parameter "
    "'timeout=ClientWSTimeout(ws_receive=...)'"
)


def test_client_ws_timeout_is_a_frozen_keyword_only_value() -> None:
    timeout = airhttp.ClientWSTimeout(ws_receive=1.0, ws_close=2.0)
    assert repr(airhttp.ClientWSTimeout()) == "ClientWSTimeout(ws_receive=None, ws_close=None)"
    assert timeout == airhttp.ClientWSTimeout(ws_receive=1.0, ws_close=2.0)
    assert hash(timeout) == hash(airhttp.ClientWSTimeout(ws_receive=1.0, ws_close=2.0))
    with pytest.raises(dataclasses.FrozenInstanceError):
        timeout.ws_close = 3.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        airhttp.ClientWSTimeout(1.0)  # type: ignore[misc]
    assert airhttp.ClientWSTimeout(ws_close=10.0) == DEFAULT_WS_CLIENT_TIMEOUT


def test_a_client_ws_timeout_is_taken_as_it_is_without_warning() -> None:
    given = airhttp.ClientWSTimeout(ws_receive=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ws_timeout_from(given, None) is given


@pytest.mark.parametrize(
    ("timeout", "expected"),
    [
        (5.0, airhttp.ClientWSTimeout(ws_close=5.0)),
        (3, airhttp.ClientWSTimeout(ws_close=3)),
        (None, airhttp.ClientWSTimeout(ws_close=None)),
        # Not a number of seconds: aiohttp keeps it and fails in close(); we warn the same
        # way and use the default.
        (airhttp.ClientTimeout(total=1), DEFAULT_WS_CLIENT_TIMEOUT),
    ],
)
def test_anything_else_as_timeout_warns_as_aiohttp_does(
    timeout: Any, expected: airhttp.ClientWSTimeout
) -> None:
    with pytest.warns(DeprecationWarning) as record:
        assert ws_timeout_from(timeout, None) == expected
    assert [str(w.message) for w in record] == [FLOAT_TIMEOUT]


def test_receive_timeout_warns_and_wins_over_the_timeout_value() -> None:
    given = airhttp.ClientWSTimeout(ws_receive=0.2)
    with pytest.warns(DeprecationWarning) as record:
        result = ws_timeout_from(given, 5.0)
    assert result == airhttp.ClientWSTimeout(ws_receive=5.0)
    assert [str(w.message) for w in record] == [FLOAT_RECEIVE]


async def silent_ws(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for _ in ws:
        pass
    return ws


async def ws_url(web_server: WebServer) -> str:
    app = web.Application()
    app.router.add_get("/ws", silent_ws)
    return str((await web_server.start(app)).with_path("/ws"))


async def test_the_warning_points_at_the_callers_line(web_server: WebServer) -> None:
    url = await ws_url(web_server)
    async with airhttp.ClientSession() as session:
        with pytest.warns(DeprecationWarning) as record:
            ws = await session.ws_connect(url, receive_timeout=0.05)
        await ws.close()
    assert record[0].filename == __file__


async def test_receive_timeout_makes_receive_time_out(web_server: WebServer) -> None:
    url = await ws_url(web_server)
    async with airhttp.ClientSession() as session:
        with pytest.warns(DeprecationWarning):
            ws = await session.ws_connect(url, receive_timeout=0.05)
        started = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await ws.receive()
        assert 0.04 < time.monotonic() - started < 1.0
        # The socket stays usable after a receive timeout.
        assert not ws.closed
        await ws.close()
        assert ws.close_code == 1000


async def test_ws_receive_timeout_and_a_per_call_override(web_server: WebServer) -> None:
    url = await ws_url(web_server)
    timeout = airhttp.ClientWSTimeout(ws_receive=5.0)
    async with airhttp.ClientSession() as session:
        async with session.ws_connect(url, timeout=timeout) as ws:
            started = time.monotonic()
            with pytest.raises(asyncio.TimeoutError):
                await ws.receive(timeout=0.05)
            assert time.monotonic() - started < 1.0

"""Shared pieces of the airhttp.testing tests: a connector that refuses to connect, the
session and router fixtures, and a real echo server for passthrough cases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from yarl import URL

import airhttp
from airhttp.testing import MockRouter

from .conftest import WebServer

API = "http://api.test"


class NoSocketConnector(airhttp.TCPConnector):
    """A connector that fails the test as soon as anything tries to open a connection."""

    async def connect(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a mocked request tried to open a connection")


@pytest.fixture
async def session() -> AsyncIterator[airhttp.ClientSession]:
    async with airhttp.ClientSession(connector=NoSocketConnector()) as session:
        yield session


@pytest.fixture
def router() -> Any:
    with MockRouter() as router:
        yield router


def _echo_app() -> web.Application:
    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        return web.json_response(
            {"method": request.method, "path": request.path_qs, "body": body.decode()}
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    return app


@pytest.fixture
async def real_server(web_server: WebServer) -> URL:
    return await web_server.start(_echo_app())

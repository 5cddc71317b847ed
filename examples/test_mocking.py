"""Testing your own code without a network, with the `airhttp_mock` pytest fixture.

    pytest examples/test_mocking.py
(needs pytest and pytest-asyncio; the fixture comes with airhttp.)
"""

from __future__ import annotations

import re

import pytest

import airhttp

pytestmark = pytest.mark.asyncio


async def latest_release(session: airhttp.ClientSession, project: str) -> str:
    """The code under test: asks a JSON API and picks one field."""
    url = f"https://pypi.example/pypi/{project}/json"
    async with session.get(url, raise_for_status=True) as resp:
        data = await resp.json()
    return str(data["info"]["version"])


async def test_latest_release(airhttp_mock) -> None:
    route = airhttp_mock.get(
        "https://pypi.example/pypi/airhttp/json", json={"info": {"version": "1.2.3"}}
    )
    async with airhttp.ClientSession() as session:
        assert await latest_release(session, "airhttp") == "1.2.3"
    route.assert_called_once()


async def test_a_server_error_reaches_the_caller(airhttp_mock) -> None:
    airhttp_mock.get(re.compile(r"https://pypi\.example/pypi/.*/json"), status=503)
    async with airhttp.ClientSession() as session:
        with pytest.raises(airhttp.ClientResponseError) as info:
            await latest_release(session, "anything")
    assert info.value.status == 503


async def test_retries_see_the_mocked_answers(airhttp_mock) -> None:
    url = "https://pypi.example/pypi/flaky/json"
    route = airhttp_mock.get(url, status=503).then(json={"info": {"version": "2.0"}})
    retry = airhttp.RetryMiddleware(backoff=0)
    async with airhttp.ClientSession(middlewares=(retry,)) as session:
        assert await latest_release(session, "flaky") == "2.0"
    assert route.call_count == 2

"""A request's own `cookies=` go out under the session jar's settings (checked against aiohttp)."""

from __future__ import annotations

import asyncio
from http.cookies import Morsel

import pytest
from yarl import URL

import airhttp

from .conftest import RawServer, read_request


class CookieRecorder:
    def __init__(self) -> None:
        self.lines: list[bytes] = []

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await read_request(reader)
        cookies = [line for line in head.split(b"\r\n") if line.lower().startswith(b"cookie:")]
        self.lines.extend(cookies)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")


async def sent(url: URL, jar: airhttp.CookieJar, cookies: dict[str, Morsel[str]]) -> None:
    async with airhttp.ClientSession(cookie_jar=jar) as session:
        async with session.get(url, cookies=cookies) as resp:
            await resp.read()


def morsel(name: str, value: str, **attributes: str | bool) -> Morsel[str]:
    made: Morsel[str] = Morsel()
    made.set(name, value, value)
    for key, attribute in attributes.items():
        made[key] = attribute
    return made


@pytest.mark.parametrize("treated_as_secure", [False, True])
async def test_a_secure_request_cookie_follows_the_jars_secure_origins(
    raw_server: RawServer, treated_as_secure: bool
) -> None:
    recorder = CookieRecorder()
    url = await raw_server.start(recorder)
    origins = [url.origin()] if treated_as_secure else None
    jar = airhttp.CookieJar(unsafe=True, treat_as_secure_origin=origins)
    await sent(url, jar, {"s": morsel("s", "1", secure=True), "p": morsel("p", "2")})
    assert recorder.lines == [b"Cookie: p=2; s=1" if treated_as_secure else b"Cookie: p=2"]


@pytest.mark.parametrize("unsafe", [False, True])
async def test_a_request_cookie_for_an_ip_domain_follows_the_jars_unsafe(
    raw_server: RawServer, unsafe: bool
) -> None:
    recorder = CookieRecorder()
    url = await raw_server.start(recorder)
    jar = airhttp.CookieJar(unsafe=unsafe)
    await sent(url, jar, {"ip": morsel("ip", "1", domain="127.0.0.1")})
    assert recorder.lines == ([b"Cookie: ip=1"] if unsafe else [])


async def test_every_request_cookie_goes_however_many(raw_server: RawServer) -> None:
    # A jar sends at most 150 cookies; a request's own cookies= all go, as in aiohttp.
    recorder = CookieRecorder()
    url = await raw_server.start(recorder)
    cookies = {f"c{i}": morsel(f"c{i}", str(i)) for i in range(200)}
    await sent(url, airhttp.CookieJar(), cookies)
    (line,) = recorder.lines
    assert line.count(b"=") == 200

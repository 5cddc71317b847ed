"""Cookies, airhttp against aiohttp: the same Set-Cookie lines to both, and what each does.

aiohttp (the oracle) and airhttp each run a session against one raw server that sends the
lines under test; what each jar stores, what `resp.cookies` shows, what goes back in Cookie,
and what is warned and logged must match. Where airhttp differs on purpose (aiohttp's
behaviour hurts users), a test pins both sides and says why; docs/migrating.md lists them.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Callable
from http.cookies import Morsel, SimpleCookie
from types import ModuleType
from typing import Any

import aiohttp
import pytest
from yarl import URL

import airhttp

from .conftest import RawServer, read_request
from .cookie_support import (
    LIBS,
    PROBE_HOSTS,
    PROBE_PATHS,
    LoopbackResolver,
    internal_records,
    jar_view,
    made_morsel,
    morsel_view,
    sent_coded,
)

# --- one server, two clients ---------------------------------------------------------------


class _AioLoopback(aiohttp.abc.AbstractResolver):
    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[Any]:
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        pass


def _session(lib: ModuleType, cookies: Any = None, **jar: Any) -> Any:
    """A session of `lib` whose every host name resolves to 127.0.0.1."""
    resolver = _AioLoopback() if lib is aiohttp else LoopbackResolver()
    return lib.ClientSession(
        connector=lib.TCPConnector(resolver=resolver),
        cookie_jar=lib.CookieJar(**jar),
        cookies=cookies,
    )


class _CookieServer:
    """Answers /set* with the Set-Cookie lines of the test; every answer echoes Cookie."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await read_request(reader)
            except asyncio.IncompleteReadError:
                return
            target = head.split(b" ", 2)[1]
            sent = b"-"
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.lower() == b"cookie":
                    sent = value.strip()
            out = [b"HTTP/1.1 200 OK", b"Content-Length: %d" % len(sent)]
            if target.startswith(b"/set") or b"/set" in target:
                # Both clients read header bytes as UTF-8 with surrogateescape.
                out += [b"Set-Cookie: " + v.encode("utf-8", "surrogateescape") for v in self.lines]
            writer.write(b"\r\n".join(out) + b"\r\n\r\n" + sent)
            await writer.drain()


@pytest.fixture
async def server(raw_server: RawServer) -> AsyncIterator[tuple[_CookieServer, int]]:
    cookies = _CookieServer()
    url = await raw_server.start(cookies.handle)
    assert url.port is not None
    yield cookies, url.port


def _url(port: int, host: str, path: str = "/") -> URL:
    return URL.build(scheme="http", host=host, port=port, encoded=True, path=path)


# --- what code can observe, normalised ------------------------------------------------------


async def _through_session(
    lib: ModuleType,
    port: int,
    server: _CookieServer,
    lines: list[str],
    setter: URL,
    caplog: pytest.LogCaptureFixture,
) -> dict[str, Any]:
    """Set `lines` from `setter`, then look at everything `lib` shows of them."""
    start = len(caplog.records)
    async with _session(lib) as session:
        server.lines = lines
        async with session.get(setter.with_port(port)) as resp:
            await resp.read()
            shown = [morsel_view(m) for m in resp.cookies.values()]
        server.lines = []
        observed: dict[str, Any] = {"resp.cookies": shown, "logs": internal_records(caplog, start)}
        observed.update(jar_view(session.cookie_jar))
        for host in PROBE_HOSTS:
            for path in PROBE_PATHS:
                async with session.get(_url(port, host, path)) as resp:
                    observed[f"Cookie to http://{host}{path}"] = await resp.text()
        https = [f"https://{host}{path}" for host in PROBE_HOSTS for path in PROBE_PATHS]
        observed["filter_cookies https"] = sent_coded(session.cookie_jar, https)
    return observed


def _assert_same(aio: dict[str, Any], air: dict[str, Any]) -> None:
    different = {key: (aio[key], air.get(key)) for key in aio if aio[key] != air.get(key)}
    assert not different


SCENARIOS: dict[str, tuple[str, list[str]]] = {
    "a missing ';' before Expires or Max-Age still applies it": (
        "http://example.com/set",
        [
            "c1=keep",
            "c3=cookie3; HttpOnly; Path=/ Expires=Tue, 1 Jan 1980 12:00:00 GMT; ",
            "c4=cookie4; HttpOnly; Path=/ Max-Age=0; ",
            "c5=v; Path=/ Max-Age=100",
            "c6=v; Expires=Wed, 21 Oct 2099 07:28:00 GMT Path=/a",
        ],
    ),
    "blank-separated attributes and junk tokens": (
        "http://example.com/set",
        ["a=1; Path=/a [x] Secure", "b=2; é HttpOnly; Path=/", 'c=3; "q" Secure; HttpOnly'],
    ),
    "huge and negative Max-Age are clamped": (
        "http://example.com/set",
        [
            "big=1; Max-Age=" + "9" * 40,
            "bigger=1; Max-Age=" + "9" * 5000,
            "neg=1; Max-Age=-" + "9" * 40,
        ],
    ),
    "quoted values and attribute values": (
        "http://example.com/set",
        ['q="x y"; Path="/a"', 'e="a\\"b"', 'w="x" "y"', 'o="open', 'p=1; Path="/a;b"; Secure'],
    ),
    "Domain attributes": (
        "http://sub.example.com/set",
        [
            "d=1; Domain=example.com",
            "p=1; Domain=.example.com",
            "x=1; Domain=other.com",
            "t=1; Domain=sub.example.com",
            "c=1; Domain=com",
            "e=1; Domain=example.com.",
        ],
    ),
    "Path attributes and the default path": (
        "http://example.com/a/b/set",
        [
            "r=1; Path=/",
            "a=1; Path=/a",
            "s=1; Path=/a/",
            "b=1; Path=/a/b",
            "rel=1; Path=rel",
            "d=1",
        ],
    ),
    "one name on several paths and domains": (
        "http://sub.example.com/a/set",
        ["n=root; Path=/", "n=deep; Path=/a", "n=dom; Domain=example.com; Path=/a", "m=1"],
    ),
    "invalid lines are dropped and logged": (
        "http://example.com/set",
        ["a b=1", "=x", "novalue", "ok=1", "ä=1", "t=x\ty", "u=é", "b=\udce4x"],
    ),
    "at most 50 cookies per response": (
        "http://example.com/set",
        [f"c{i}=1" for i in range(53)],
    ),
    "size limits of a pair and of an attribute": (
        "http://example.com/set",
        ["l=" + "v" * 4094, "m=" + "v" * 4095, "a=1; Comment=" + "c" * 1025 + "; Secure"],
    ),
    "dates aiohttp reads whole": (
        "http://example.com/set",
        [
            "a=1; Expires=Thursday, 01-Jan-70 00:00:01 GMT",
            "b=1; Expires=Tue Jan  1 12:00:00 2080",
            "c=1; expires=Thu, 01-Jan-1970 00:00:01 GMT",
            "d=1; Expires=Wed, 21 Oct 2099 07:28:00 +0000",
            "e=1; Expires=garbage",
            "f=1; Max-Age=100; Expires=garbage",
        ],
    ),
    "deleted and set again in one response": (
        "http://example.com/set",
        ["a=1", "b=1", "a=; Max-Age=0", "a=2", "gone=1", "gone=; Max-Age=0"],
    ),
    "other attributes": (
        "http://example.com/set",
        ["s=1; SameSite=Lax; Comment=hi; Version=1", "t=1; secure=no; HTTPONLY; samesite=strict"],
    ),
}


@pytest.mark.parametrize(("setter", "lines"), SCENARIOS.values(), ids=list(SCENARIOS))
async def test_the_same_set_cookie_lines_end_the_same_in_both_clients(
    server: tuple[_CookieServer, int],
    caplog: pytest.LogCaptureFixture,
    setter: str,
    lines: list[str],
) -> None:
    """aiohttp 3.14's jar, resp.cookies, Cookie header and logs for these lines."""
    cookie_server, port = server
    caplog.set_level(logging.DEBUG)
    aio = await _through_session(aiohttp, port, cookie_server, lines, URL(setter), caplog)
    air = await _through_session(airhttp, port, cookie_server, lines, URL(setter), caplog)
    _assert_same(aio, air)


async def test_the_users_missing_semicolon_case_is_dropped_as_expired(
    server: tuple[_CookieServer, int],
) -> None:
    """aiohttp drops `Path=/ Expires=<past>` (no ';' between) as an expired cookie."""
    cookie_server, port = server
    line = "c3=cookie3; HttpOnly; Path=/ Expires=Tue, 1 Jan 1980 12:00:00 GMT; "
    for lib in LIBS:
        async with _session(lib) as session:
            cookie_server.lines = [line, "c1=1"]
            async with session.get(_url(port, "example.com", "/set")) as resp:
                assert resp.cookies["c3"]["path"] == "/"
                assert resp.cookies["c3"]["expires"] == "Tue, 1 Jan 1980 12:00:00 GMT"
            assert [m.key for m in session.cookie_jar] == ["c1"], lib.__name__


# --- request cookies: Morsels per request and per session ---------------------------------


MORSELS: dict[str, Callable[[], Any]] = {
    "plain": lambda: {"a": made_morsel("a", "1")},
    "matching domain": lambda: {"a": made_morsel("a", "1", domain="example.com")},
    "other domain": lambda: {"a": made_morsel("a", "1", domain="other.com")},
    "secure over http": lambda: {"a": made_morsel("a", "1", secure=True)},
    "expired": lambda: {"a": made_morsel("a", "1", expires="Tue, 01 Jan 1980 12:00:00 GMT")},
    "max-age 0": lambda: {"a": made_morsel("a", "1", max_age="0")},
    "huge max-age": lambda: {"a": made_morsel("a", "1", max_age="9" * 40)},
    "coded value": lambda: {"a": made_morsel("a", "x y", '"x y"')},
    "key differs from the mapping's": lambda: {"b": made_morsel("a", "1")},
    "SimpleCookie": lambda: SimpleCookie("a=1; Domain=example.com"),
    "pairs and strings": lambda: [("a", made_morsel("a", "1", httponly=True)), ("b", 'v"q')],
}


@pytest.mark.parametrize("make", MORSELS.values(), ids=list(MORSELS))
async def test_morsels_as_request_and_session_cookies_go_out_as_in_aiohttp(
    server: tuple[_CookieServer, int], make: Callable[[], Any]
) -> None:
    """aiohttp's Cookie header for Morsels in cookies=, per request and per session."""
    _, port = server
    url = _url(port, "example.com", "/x/y")
    seen: dict[str, list[str]] = {}
    for lib in LIBS:
        async with _session(lib) as session:
            async with session.get(url, cookies=make()) as resp:
                per_request = await resp.text()
        async with _session(lib, cookies=make()) as session:
            async with session.get(url) as resp:
                per_session = await resp.text()
            kept = [morsel_view(m) for m in session.cookie_jar]
        seen[lib.__name__] = [per_request, per_session, repr(kept)]
    assert seen["airhttp"] == seen["aiohttp"]


async def test_a_path_scoped_morsel_is_sent_where_its_path_matches(
    server: tuple[_CookieServer, int],
) -> None:
    """Differs on purpose: aiohttp never sends a shared cookie whose Path is not "/"."""
    _, port = server
    for lib, expected in ((aiohttp, "-"), (airhttp, "a=1")):
        async with _session(lib) as session:
            morsel = made_morsel("a", "1", path="/x")
            async with session.get(_url(port, "h.com", "/x/y"), cookies={"a": morsel}) as resp:
                assert await resp.text() == expected, lib.__name__


async def test_a_morsel_without_a_name_is_not_sent(server: tuple[_CookieServer, int]) -> None:
    """Differs on purpose: aiohttp sends a Morsel() that has no key as "None=None"."""
    _, port = server
    for lib, expected in ((aiohttp, "None=None"), (airhttp, "-")):
        async with _session(lib) as session:
            async with session.get(_url(port, "h.com"), cookies={"a": Morsel()}) as resp:
                assert await resp.text() == expected, lib.__name__

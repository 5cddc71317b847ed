"""Cookies end to end: Set-Cookie stored by the session and sent back per RFC 6265.

A resolver that sends every name to 127.0.0.1 lets one aiohttp.web server play
example.com, sub.example.com and other.com, so domain rules run over real sockets.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator
from http.cookies import BaseCookie, Morsel, SimpleCookie
from typing import Any

import pytest
import trustme
from aiohttp import web
from yarl import URL

import airhttp
from airhttp.abc import AbstractCookieJar, ClearCookiePredicate

from .conftest import WebServer
from .cookie_support import LoopbackResolver


def _app() -> web.Application:
    async def set_cookies(request: web.Request) -> web.Response:
        resp = web.Response(text="set")
        for value in request.query.getall("c", []):
            resp.headers.add("Set-Cookie", value)
        return resp

    async def set_and_redirect(request: web.Request) -> web.Response:
        resp = web.Response(status=302, headers={"Location": request.query["to"]})
        for value in request.query.getall("c", []):
            resp.headers.add("Set-Cookie", value)
        return resp

    async def show(request: web.Request) -> web.Response:
        return web.Response(text=request.headers.get("Cookie", "-"))

    app = web.Application()
    app.router.add_get("/set", set_cookies)
    app.router.add_get("/dir/set", set_cookies)
    app.router.add_get("/set-and-redirect", set_and_redirect)
    app.router.add_get("/{tail:.*}", show)
    return app


@pytest.fixture
async def port(web_server: WebServer) -> int:
    url = await web_server.start(_app())
    assert url.port is not None
    return url.port


def _session(**jar_kwargs: Any) -> airhttp.ClientSession:
    return airhttp.ClientSession(
        connector=airhttp.TCPConnector(resolver=LoopbackResolver()),
        cookie_jar=airhttp.CookieJar(**jar_kwargs),
    )


class _Site:
    """Builds URLs on the one test server under whatever host name a test wants."""

    def __init__(self, port: int, scheme: str = "http") -> None:
        self.port = port
        self.scheme = scheme

    def __call__(self, host: str, path: str = "/", **query: str) -> URL:
        url = URL.build(scheme=self.scheme, host=host, port=self.port, path=path)
        return url.with_query(query) if query else url


@pytest.fixture
def site(port: int) -> _Site:
    return _Site(port)


async def _set(session: airhttp.ClientSession, url: URL, *cookies: str, **kwargs: Any) -> None:
    async with session.get(url.update_query([("c", c) for c in cookies]), **kwargs) as resp:
        assert resp.status == 200


async def _sent(session: airhttp.ClientSession, url: URL, **kwargs: Any) -> str:
    async with session.get(url, **kwargs) as resp:
        return await resp.text()


# --- storing and sending back ---------------------------------------------------------


async def test_set_cookie_is_stored_and_sent_back(site: _Site) -> None:
    async with _session() as session:
        await _set(session, site("example.com", "/set"), "a=1", "b=2")
        assert await _sent(session, site("example.com")) == "a=1; b=2"
        assert {c.key for c in session.cookie_jar} == {"a", "b"}


async def test_later_set_cookie_replaces_the_value(site: _Site) -> None:
    async with _session() as session:
        await _set(session, site("example.com", "/set"), "a=1")
        await _set(session, site("example.com", "/set"), "a=2")
        assert await _sent(session, site("example.com")) == "a=2"


async def test_response_cookies_show_only_that_responses_set_cookie(site: _Site) -> None:
    async with _session() as session:
        async with session.get(site("example.com", "/set", c="a=1")) as resp:
            assert set(resp.cookies) == {"a"}
        async with session.get(site("example.com", "/set", c="b=2")) as resp:
            assert set(resp.cookies) == {"b"}


# --- domain ----------------------------------------------------------------------------


async def test_host_only_cookie_goes_to_its_host_alone(site: _Site) -> None:
    async with _session() as session:
        await _set(session, site("example.com", "/set"), "a=1")
        assert await _sent(session, site("example.com")) == "a=1"
        assert await _sent(session, site("sub.example.com")) == "-"
        assert await _sent(session, site("other.com")) == "-"


@pytest.mark.parametrize(
    ("setter", "domain"),
    [("example.com", "example.com"), ("sub.example.com", ".example.com")],
)
async def test_domain_cookie_goes_to_the_domain_and_its_subdomains(
    site: _Site, setter: str, domain: str
) -> None:
    async with _session() as session:
        await _set(session, site(setter, "/set"), f"a=1; Domain={domain}")
        for host in ("example.com", "sub.example.com", "deep.sub.example.com"):
            assert await _sent(session, site(host)) == "a=1"
        for host in ("other.com", "notexample.com"):
            assert await _sent(session, site(host)) == "-"


async def test_cookie_for_a_domain_the_host_is_not_in_is_refused(site: _Site) -> None:
    async with _session() as session:
        await _set(session, site("example.com", "/set"), "a=1; Domain=other.com")
        await _set(session, site("sub.example.com", "/set"), "b=1; Domain=deep.sub.example.com")
        assert len(session.cookie_jar) == 0
        assert await _sent(session, site("other.com")) == "-"


async def test_ip_hosts_need_an_unsafe_jar(site: _Site) -> None:
    async with _session() as session:
        await _set(session, site("127.0.0.1", "/set"), "a=1")
        assert len(session.cookie_jar) == 0
        assert await _sent(session, site("127.0.0.1")) == "-"
    async with _session(unsafe=True) as session:
        await _set(session, site("127.0.0.1", "/set"), "a=1")
        assert await _sent(session, site("127.0.0.1")) == "a=1"
        assert await _sent(session, site("localhost")) == "-"


# --- path ------------------------------------------------------------------------------


async def test_path_cookie_goes_to_that_path_and_below(site: _Site) -> None:
    async with _session() as session:
        await _set(session, site("example.com", "/set"), "a=1; Path=/a")
        assert await _sent(session, site("example.com", "/a")) == "a=1"
        assert await _sent(session, site("example.com", "/a/b")) == "a=1"
        assert await _sent(session, site("example.com", "/ab")) == "-"
        assert await _sent(session, site("example.com", "/")) == "-"


async def test_default_path_is_the_directory_of_the_request(site: _Site) -> None:
    async with _session() as session:
        await _set(session, site("example.com", "/dir/set"), "a=1")
        assert await _sent(session, site("example.com", "/dir")) == "a=1"
        assert await _sent(session, site("example.com", "/dir/x")) == "a=1"
        assert await _sent(session, site("example.com", "/")) == "-"
        assert await _sent(session, site("example.com", "/dirx")) == "-"


# --- expiry ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "removal",
    ["a=; Max-Age=0", "a=; Max-Age=-1", "a=gone; Expires=Sun, 06 Nov 1994 08:49:37 GMT"],
)
async def test_max_age_and_past_expires_remove_a_stored_cookie(site: _Site, removal: str) -> None:
    async with _session() as session:
        await _set(session, site("example.com", "/set"), "a=1", "b=2")
        await _set(session, site("example.com", "/set"), removal)
        assert await _sent(session, site("example.com")) == "b=2"


async def test_future_expires_keeps_the_cookie(site: _Site) -> None:
    async with _session() as session:
        await _set(
            session, site("example.com", "/set"), "a=1; Expires=Fri, 01 Jan 2100 00:00:00 GMT"
        )
        assert await _sent(session, site("example.com")) == "a=1"


# --- Secure, HttpOnly, SameSite -------------------------------------------------------


async def test_http_only_and_same_site_cookies_are_still_sent_by_the_client(site: _Site) -> None:
    async with _session() as session:
        await _set(session, site("example.com", "/set"), "a=1; HttpOnly", "b=2; SameSite=Strict")
        assert await _sent(session, site("example.com")) == "a=1; b=2"


async def test_secure_cookie_is_not_sent_over_plain_http(site: _Site) -> None:
    async with _session() as session:
        await _set(session, site("example.com", "/set"), "a=1; Secure", "b=2")
        assert await _sent(session, site("example.com")) == "b=2"


async def test_treat_as_secure_origin_lets_secure_cookies_over_http(site: _Site) -> None:
    origin = str(site("example.com").origin())
    async with _session(treat_as_secure_origin=[origin]) as session:
        await _set(session, site("example.com", "/set"), "a=1; Secure")
        assert await _sent(session, site("example.com")) == "a=1"
        assert await _sent(session, site("sub.example.com")) == "-"


@pytest.fixture(scope="module")
def tls_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def tls_site(web_server: WebServer, tls_ca: trustme.CA) -> _Site:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca.issue_cert("example.com").configure_cert(server_context)
    url = await web_server.start(_app(), ssl_context=server_context)
    assert url.port is not None
    return _Site(url.port, "https")


async def test_secure_cookie_set_over_https_is_sent_over_https_only(
    tls_site: _Site, site: _Site, tls_ca: trustme.CA
) -> None:
    client_context = ssl.create_default_context()
    tls_ca.configure_trust(client_context)
    async with _session() as session:
        await _set(
            session, tls_site("example.com", "/set"), "a=1; Secure", "b=2", ssl=client_context
        )
        async with session.get(tls_site("example.com"), ssl=client_context) as resp:
            assert await resp.text() == "a=1; b=2"
        assert await _sent(session, site("example.com")) == "b=2"


# --- quoting ---------------------------------------------------------------------------


@pytest.mark.parametrize(("quote", "sent"), [(True, 'a="x,y"'), (False, "a=x,y")])
async def test_quote_cookie_decides_how_values_go_out(site: _Site, quote: bool, sent: str) -> None:
    async with _session(quote_cookie=quote) as session:
        await _set(session, site("example.com", "/set"), 'a="x,y"')
        assert await _sent(session, site("example.com")) == sent


# --- session and per-request cookies ---------------------------------------------------


async def test_session_cookies_are_sent_to_every_host(site: _Site) -> None:
    async with airhttp.ClientSession(
        connector=airhttp.TCPConnector(resolver=LoopbackResolver()), cookies={"s": "1"}
    ) as session:
        assert await _sent(session, site("example.com")) == "s=1"
        assert await _sent(session, site("other.com")) == "s=1"


async def test_request_cookies_are_sent_but_not_stored(site: _Site) -> None:
    async with _session() as session:
        await _set(session, site("example.com", "/set"), "jar=1", "both=jar")
        got = await _sent(session, site("example.com"), cookies={"req": "2", "both": "req"})
        assert sorted(got.split("; ")) == ["both=req", "jar=1", "req=2"]
        assert {c.key for c in session.cookie_jar} == {"jar", "both"}
        assert sorted((await _sent(session, site("example.com"))).split("; ")) == [
            "both=jar",
            "jar=1",
        ]


async def test_request_cookies_accept_morsels_and_pairs(site: _Site) -> None:
    morsel: Morsel[str] = Morsel()
    morsel.set("m", "v", "v")
    async with _session() as session:
        assert await _sent(session, site("example.com"), cookies=[("p", "1")]) == "p=1"
        assert await _sent(session, site("example.com"), cookies={"m": morsel}) == "m=v"


async def test_dummy_cookie_jar_stores_and_sends_nothing_of_its_own(site: _Site) -> None:
    async with airhttp.ClientSession(
        connector=airhttp.TCPConnector(resolver=LoopbackResolver()),
        cookie_jar=airhttp.DummyCookieJar(),
        cookies={"s": "1"},
    ) as session:
        await _set(session, site("example.com", "/set"), "a=1")
        assert len(session.cookie_jar) == 0
        assert await _sent(session, site("example.com")) == "-"
        assert await _sent(session, site("example.com"), cookies={"r": "1"}) == "r=1"


_NO_URL = URL()


class _FixedJar(AbstractCookieJar):
    """Ignores what servers set and always offers one cookie: proves the session asks it."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[URL] = []
        self.offered: list[tuple[str, URL]] = []

    @property
    def quote_cookie(self) -> bool:
        return True

    def clear(self, predicate: ClearCookiePredicate | None = None) -> None:
        pass

    def clear_domain(self, domain: str) -> None:
        pass

    def update_cookies(self, cookies: Any, response_url: URL = _NO_URL) -> None:
        for name in SimpleCookie(cookies) if isinstance(cookies, str) else dict(cookies):
            self.offered.append((name, response_url))

    def filter_cookies(self, request_url: URL) -> BaseCookie[str]:
        self.asked.append(request_url)
        cookie: SimpleCookie = SimpleCookie()
        cookie["fixed"] = "yes"
        return cookie

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[Morsel[str]]:
        return iter(())


async def test_the_jars_filter_cookies_decides_what_is_sent(site: _Site) -> None:
    jar = _FixedJar()
    async with airhttp.ClientSession(
        connector=airhttp.TCPConnector(resolver=LoopbackResolver()), cookie_jar=jar
    ) as session:
        assert await _sent(session, site("example.com", "/x")) == "fixed=yes"
        await _set(session, site("example.com", "/set"), "a=1")
    assert jar.asked[0] == site("example.com", "/x")
    assert [name for name, _ in jar.offered] == ["a"]
    assert jar.offered[0][1].host == "example.com"


# --- redirects -------------------------------------------------------------------------


async def test_cookie_set_on_a_redirect_is_stored_and_sent_to_the_target(site: _Site) -> None:
    async with _session() as session:
        start = site("example.com", "/set-and-redirect", c="hop=1", to="/show")
        assert await _sent(session, start) == "hop=1"
        assert await _sent(session, site("example.com")) == "hop=1"


async def test_jar_cookies_are_filtered_again_for_the_redirect_target(site: _Site) -> None:
    async with _session() as session:
        await _set(session, site("example.com", "/set"), "mine=1")
        start = site("example.com", "/set-and-redirect", to=str(site("other.com", "/show")))
        async with session.get(start) as resp:
            assert resp.url.host == "other.com"
            assert await resp.text() == "-"
        back = site("other.com", "/set-and-redirect", to=str(site("example.com", "/show")))
        assert await _sent(session, back) == "mine=1"


async def test_domain_cookie_follows_a_redirect_within_its_domain(site: _Site) -> None:
    async with _session() as session:
        await _set(session, site("example.com", "/set"), "d=1; Domain=example.com")
        start = site("other.com", "/set-and-redirect", to=str(site("sub.example.com", "/show")))
        assert await _sent(session, start) == "d=1"


@pytest.fixture
async def sessions() -> AsyncIterator[list[airhttp.ClientSession]]:
    made: list[airhttp.ClientSession] = []
    yield made
    for session in made:
        await session.close()


async def test_sessions_do_not_share_cookies(site: _Site, sessions: list[Any]) -> None:
    first, second = _session(), _session()
    sessions.extend([first, second])
    await _set(first, site("example.com", "/set"), "a=1")
    assert await _sent(first, site("example.com")) == "a=1"
    assert await _sent(second, site("example.com")) == "-"

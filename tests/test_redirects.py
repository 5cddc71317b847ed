"""Redirects: RFC 9110 method and body rules, limits, history, bad targets, and credentials.

Two origins on one machine: 127.0.0.1 and localhost share a port but are different
hosts; a second server gives a second port.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

import airhttp
from airhttp.client_reqrep import ClientResponse

from .conftest import RawServer, WebServer, read_request


def _basic(login: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


def _app() -> web.Application:
    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        return web.json_response(
            {
                "method": request.method,
                "path": request.raw_path,
                "headers": [[k, v] for k, v in request.headers.items()],
                "body": body.decode("latin-1"),
            }
        )

    async def redirect(request: web.Request) -> web.Response:
        await request.read()
        code = int(request.match_info["code"])
        return web.Response(
            status=code, headers={"Location": request.query.get("to", "/echo")}, text="moved"
        )

    async def chain(request: web.Request) -> web.Response:
        left = int(request.query["n"])
        target = "/echo" if left == 0 else f"/chain?n={left - 1}"
        return web.Response(status=302, headers={"Location": target}, text="x" * 1000)

    async def no_location(request: web.Request) -> web.Response:
        return web.Response(status=302, text="nowhere")

    async def uri_only(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"URI": "/echo"})

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_route("*", "/echo/{tail:.*}", echo)
    app.router.add_route("*", "/r/{code}", redirect)
    app.router.add_get("/chain", chain)
    app.router.add_get("/no-location", no_location)
    app.router.add_get("/uri-only", uri_only)
    return app


@pytest.fixture
async def base(web_server: WebServer) -> URL:
    return await web_server.start(_app())


@pytest.fixture
async def other_port(web_server: WebServer) -> URL:
    return await web_server.start(_app())


def _to(base: URL, code: int, target: URL | str) -> URL:
    return (base / "r" / str(code)).with_query(to=str(target))


async def _echo(resp: ClientResponse) -> dict[str, Any]:
    data: dict[str, Any] = await resp.json()
    data["headers"] = CIMultiDict((k, v) for k, v in data["headers"])
    return data


# --- method and body ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "method", "expected_method", "body_kept"),
    [
        (301, "POST", "GET", False),
        (302, "POST", "GET", False),
        (303, "POST", "GET", False),
        (303, "PUT", "GET", False),
        (303, "DELETE", "GET", False),
        (301, "PUT", "PUT", True),
        (302, "PATCH", "PATCH", True),
        (307, "POST", "POST", True),
        (307, "PUT", "PUT", True),
        (308, "POST", "POST", True),
        (308, "PATCH", "PATCH", True),
    ],
)
async def test_redirect_method_and_body_follow_rfc_9110(
    base: URL, code: int, method: str, expected_method: str, body_kept: bool
) -> None:
    async with airhttp.ClientSession() as session:
        async with session.request(
            method, base / "r" / str(code), data=b"payload", headers={"Content-Type": "x/y"}
        ) as resp:
            got = await _echo(resp)
    assert got["method"] == expected_method
    if body_kept:
        assert got["body"] == "payload"
        assert got["headers"]["Content-Type"] == "x/y"
        assert got["headers"]["Content-Length"] == "7"
    else:
        assert got["body"] == ""
        assert "Content-Type" not in got["headers"]
        assert got["headers"].get("Content-Length", "0") == "0"


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
async def test_head_stays_head_through_any_redirect(base: URL, code: int) -> None:
    async with airhttp.ClientSession() as session:
        async with session.head(base / "r" / str(code), allow_redirects=True) as resp:
            assert resp.status == 200
            assert resp.method == "HEAD"
            assert resp.url == base / "echo"


@pytest.mark.parametrize("code", [307, 308])
async def test_json_body_is_sent_again_after_307_and_308(base: URL, code: int) -> None:
    async with airhttp.ClientSession() as session:
        async with session.post(base / "r" / str(code), json={"a": [1, 2]}) as resp:
            got = await _echo(resp)
    assert got["method"] == "POST"
    assert got["body"] == '{"a": [1, 2]}'
    assert got["headers"]["Content-Type"] == "application/json"


async def test_params_apply_to_the_first_request_only(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        async with session.get(base / "r" / "302", params={"p": "1"}) as resp:
            assert (await _echo(resp))["path"] == "/echo"
            assert resp.history[0].url == (base / "r" / "302").with_query(p="1")


# --- history, limits, the connections behind them --------------------------------------


async def test_history_lists_the_redirect_responses_in_order(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        async with session.get(base.with_path("/chain").with_query(n=2)) as resp:
            assert resp.status == 200
            assert resp.url == base / "echo"
            assert isinstance(resp.history, tuple)
            assert [h.status for h in resp.history] == [302, 302, 302]
            assert [h.url.query_string for h in resp.history] == ["n=2", "n=1", "n=0"]
            assert all(h.closed for h in resp.history)
            assert all(h.history == () for h in resp.history)


async def test_allow_redirects_false_returns_the_redirect_itself(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        async with session.get(base / "r" / "301", allow_redirects=False) as resp:
            assert resp.status == 301
            assert resp.headers["Location"] == "/echo"
            assert resp.history == ()
            assert await resp.text() == "moved"


async def test_too_many_redirects_raises_with_the_history(base: URL) -> None:
    start = base.with_path("/chain").with_query(n=5)
    async with airhttp.ClientSession() as session:
        with pytest.raises(airhttp.TooManyRedirects) as info:
            await session.get(start, max_redirects=3)
    error = info.value
    assert isinstance(error, airhttp.ClientResponseError)
    assert error.request_info.url == start
    assert [h.url.query_string for h in error.history] == ["n=5", "n=4", "n=3"]
    assert all(h.closed for h in error.history)


async def test_max_redirects_counts_every_hop_followed(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        async with session.get(base.with_path("/chain").with_query(n=1), max_redirects=3) as resp:
            assert len(resp.history) == 2
        with pytest.raises(airhttp.TooManyRedirects):
            await session.get(base.with_path("/chain").with_query(n=2), max_redirects=3)


async def test_max_redirects_zero_means_no_limit_like_aiohttp(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        async with session.get(base.with_path("/chain").with_query(n=12), max_redirects=0) as resp:
            assert resp.status == 200
            assert len(resp.history) == 13


async def test_redirect_responses_give_their_connections_back(base: URL) -> None:
    connector = airhttp.TCPConnector(limit=1)
    async with airhttp.ClientSession(connector=connector) as session:
        async with session.get(base.with_path("/chain").with_query(n=5)) as resp:
            assert resp.status == 200
        for _ in range(3):
            with pytest.raises(airhttp.TooManyRedirects):
                await asyncio.wait_for(
                    session.get(base.with_path("/chain").with_query(n=5), max_redirects=2), 2
                )
        async with session.get(base / "echo") as resp:
            assert resp.status == 200
        assert len(connector._acquired) == 0


# --- where the redirect points ---------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "expected_path"),
    [
        ("/echo/abs-path", "/echo/abs-path"),
        ("../echo/up", "/echo/up"),
        ("../echo/x?y=2#frag", "/echo/x?y=2"),
    ],
)
async def test_relative_locations_resolve_against_the_current_url(
    base: URL, location: str, expected_path: str
) -> None:
    async with airhttp.ClientSession() as session:
        async with session.get(_to(base, 302, location)) as resp:
            assert (await _echo(resp))["path"] == expected_path


async def test_scheme_relative_location_keeps_the_scheme(base: URL, other_port: URL) -> None:
    location = f"//localhost:{other_port.port}/echo/net"
    async with airhttp.ClientSession() as session:
        async with session.get(_to(base, 302, location)) as resp:
            assert resp.url == _other_host(other_port) / "echo" / "net"


async def test_missing_location_returns_the_redirect_response(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        async with session.get(base / "no-location") as resp:
            assert resp.status == 302
            assert await resp.text() == "nowhere"
            # aiohttp lists the unfollowed response in its own history.
            assert [h.status for h in resp.history] == [302]


async def test_uri_header_is_followed_when_location_is_missing(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        async with session.get(base / "uri-only") as resp:
            assert resp.status == 200
            assert resp.url == base / "echo"


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("http://[bad", "does not look like a URL"),
        ("http:///no-host", "Invalid redirect URL origin"),
    ],
)
async def test_unusable_location_raises_invalid_url_redirect_error(
    base: URL, location: str, message: str
) -> None:
    async with airhttp.ClientSession() as session:
        with pytest.raises(airhttp.InvalidUrlRedirectClientError, match=message) as info:
            await session.get(_to(base, 302, location))
    assert isinstance(info.value, airhttp.InvalidUrlClientError)
    assert str(info.value.url) == location


@pytest.mark.parametrize("location", ["ftp://example.com/f", "mailto:someone@example.com"])
async def test_non_http_location_raises_non_http_url_redirect_error(
    base: URL, location: str
) -> None:
    async with airhttp.ClientSession() as session:
        with pytest.raises(airhttp.NonHttpUrlRedirectClientError) as info:
            await session.get(_to(base, 302, location))
    assert isinstance(info.value, airhttp.NonHttpUrlClientError)
    assert str(info.value) == location


async def _raw_redirector(raw_server: RawServer, location: bytes) -> URL:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await read_request(reader)
            target = head.split(b" ", 2)[1]
            if target == b"/start":
                writer.write(b"HTTP/1.1 302 Found\r\nLocation: " + location + b"\r\n")
                writer.write(b"Content-Length: 0\r\n\r\n")
            else:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(target))
                writer.write(target)
            await writer.drain()

    return await raw_server.start(handler)


@pytest.mark.parametrize(("requote", "seen"), [(True, "/e/~foo"), (False, "/e/%7Efoo")])
async def test_requote_redirect_url_decides_whether_location_is_requoted(
    raw_server: RawServer, requote: bool, seen: str
) -> None:
    url = await _raw_redirector(raw_server, b"/e/%7Efoo")
    async with airhttp.ClientSession(requote_redirect_url=requote) as session:
        async with session.get(url / "start") as resp:
            assert await resp.text() == seen


async def test_setting_requote_redirect_url_on_the_session_warns_and_applies(
    raw_server: RawServer,
) -> None:
    url = await _raw_redirector(raw_server, b"/e/%7Efoo")
    async with airhttp.ClientSession() as session:
        with pytest.warns(DeprecationWarning, match="requote_redirect_url modification"):
            session.requote_redirect_url = False
        assert session.requote_redirect_url is False
        async with session.get(url / "start") as resp:
            assert await resp.text() == "/e/%7Efoo"


# --- credentials and cookies stay with their origin ------------------------------------


def _other_host(base: URL) -> URL:
    return base.with_host("localhost")


@pytest.mark.parametrize("header", ["Authorization", "Cookie", "Proxy-Authorization"])
async def test_credential_headers_are_dropped_when_the_host_changes(base: URL, header: str) -> None:
    async with airhttp.ClientSession() as session:
        target = _other_host(base) / "echo"
        async with session.get(_to(base, 302, target), headers={header: "secret=1"}) as resp:
            assert resp.url.host == "localhost"
            assert header not in (await _echo(resp))["headers"]


@pytest.mark.parametrize("header", ["Authorization", "Cookie", "Proxy-Authorization"])
async def test_credential_headers_are_dropped_when_the_port_changes(
    base: URL, other_port: URL, header: str
) -> None:
    async with airhttp.ClientSession() as session:
        target = other_port / "echo"
        async with session.get(_to(base, 307, target), headers={header: "secret=1"}) as resp:
            assert resp.url.port == other_port.port
            assert header not in (await _echo(resp))["headers"]


async def test_credential_headers_stay_for_a_same_origin_redirect(base: URL) -> None:
    headers = {"Authorization": "Bearer t", "Cookie": "a=b", "Proxy-Authorization": "p"}
    async with airhttp.ClientSession() as session:
        async with session.get(_to(base, 302, base / "echo"), headers=headers) as resp:
            sent = (await _echo(resp))["headers"]
    assert sent["Authorization"] == "Bearer t"
    assert sent["Cookie"] == "a=b"
    assert sent["Proxy-Authorization"] == "p"


async def test_auth_argument_is_not_sent_to_another_origin(base: URL) -> None:
    auth = airhttp.BasicAuth("u", "p")
    async with airhttp.ClientSession() as session:
        async with session.get(_to(base, 302, "/echo"), auth=auth) as resp:
            assert (await _echo(resp))["headers"]["Authorization"] == _basic("u", "p")
        target = _other_host(base) / "echo"
        async with session.get(_to(base, 302, target), auth=auth) as resp:
            assert "Authorization" not in (await _echo(resp))["headers"]


async def test_url_credentials_are_not_sent_to_another_origin(base: URL) -> None:
    start = _to(base, 302, _other_host(base) / "echo").with_user("u").with_password("p")
    async with airhttp.ClientSession() as session, session.get(start) as resp:
        assert "Authorization" not in (await _echo(resp))["headers"]


async def test_session_auth_for_a_base_url_is_not_sent_to_another_origin(base: URL) -> None:
    async with airhttp.ClientSession(base, auth=airhttp.BasicAuth("s", "s")) as session:
        target = _other_host(base) / "echo"
        async with session.get(f"r/302?to={target}") as resp:
            assert resp.url.host == "localhost"
            assert "Authorization" not in (await _echo(resp))["headers"]


async def test_session_auth_without_base_url_goes_with_every_request_like_aiohttp(
    base: URL,
) -> None:
    async with airhttp.ClientSession(auth=airhttp.BasicAuth("s", "s")) as session:
        async with session.get(_to(base, 302, _other_host(base) / "echo")) as resp:
            assert (await _echo(resp))["headers"]["Authorization"] == _basic("s", "s")


async def test_credentials_in_a_location_replace_the_ones_in_use(base: URL) -> None:
    target = (base / "echo").with_user("z").with_password("w")
    async with airhttp.ClientSession() as session:
        async with session.get(_to(base, 302, target), auth=airhttp.BasicAuth("u")) as resp:
            assert (await _echo(resp))["headers"]["Authorization"] == _basic("z", "w")
            assert resp.url == base / "echo"
        start = _to(base, 302, target).with_user("x").with_password("y")
        async with session.get(start) as resp:
            assert (await _echo(resp))["headers"]["Authorization"] == _basic("z", "w")


async def test_request_cookies_are_not_sent_to_another_origin(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        async with session.get(_to(base, 302, "/echo"), cookies={"rc": "2"}) as resp:
            assert (await _echo(resp))["headers"]["Cookie"] == "rc=2"
        target = _other_host(base) / "echo"
        async with session.get(_to(base, 302, target), cookies={"rc": "2"}) as resp:
            assert "Cookie" not in (await _echo(resp))["headers"]


@pytest.mark.parametrize("code", [307, 308])
async def test_file_body_is_sent_again_after_307_and_308(base: URL, code: int) -> None:
    import io

    body = io.BytesIO(b"file contents " * 100)
    async with airhttp.ClientSession() as session:
        async with session.post(base / "r" / str(code), data=body) as resp:
            got = await _echo(resp)
    assert got["method"] == "POST"
    assert got["body"] == "file contents " * 100


async def test_consumed_generator_body_cannot_follow_307(base: URL) -> None:
    async def gen() -> Any:
        yield b"only "
        yield b"once"

    async with airhttp.ClientSession() as session:
        with pytest.raises(airhttp.ClientPayloadError, match="consumed request body"):
            await session.post(base / "r" / "307", data=gen())
        connector = session.connector
        assert connector is not None and not connector._acquired

"""ClientSession and the one-shot request(): arguments, defaults, lifecycle, limits.

Every request goes over a real socket to aiohttp.web (or a raw server for broken peers).
"""

from __future__ import annotations

import asyncio
import base64
import gc
import inspect
import ssl
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiohttp import web
from multidict import CIMultiDict, MultiDict
from yarl import URL

import airhttp
from airhttp.client_reqrep import ClientRequest, ClientResponse

from .conftest import RawServer, WebServer, read_request

Handler = Callable[[ClientRequest], Awaitable[ClientResponse]]


def _basic(login: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


async def _linger(request: web.Request, seconds: float) -> None:
    """Sleep, but stop as soon as the client hangs up so server teardown stays quick."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        transport = request.transport
        if transport is None or transport.is_closing():
            return
        await asyncio.sleep(0.01)


def _app() -> web.Application:
    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        return web.json_response(
            {
                "method": request.method,
                "path": request.raw_path,
                "headers": [[k, v] for k, v in request.headers.items()],
                "body": body.decode("latin-1"),
                "version": list(request.version),
            }
        )

    async def status(request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="status body")

    async def slow(request: web.Request) -> web.Response:
        await _linger(request, float(request.query.get("s", "1")))
        return web.Response(text="late")

    async def hold(request: web.Request) -> web.StreamResponse:
        # A body that never ends keeps the client's connection lent out.
        resp = web.StreamResponse()
        await resp.prepare(request)
        await resp.write(b"x")
        await _linger(request, 5)
        return resp

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query.get("to", "/echo"))

    async def gzipped(request: web.Request) -> web.Response:
        resp = web.Response(text="squeezed " * 100)
        resp.enable_compression(web.ContentCoding.gzip)
        return resp

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_route("*", "/echo/{tail:.*}", echo)
    app.router.add_get("/status/{code}", status)
    app.router.add_get("/slow", slow)
    app.router.add_get("/hold", hold)
    app.router.add_route("*", "/redirect", redirect)
    app.router.add_get("/gzip", gzipped)
    return app


@pytest.fixture
async def base(web_server: WebServer) -> URL:
    return await web_server.start(_app())


async def _echo(resp: ClientResponse) -> dict[str, Any]:
    data: dict[str, Any] = await resp.json()
    data["headers"] = CIMultiDict((k, v) for k, v in data["headers"])
    return data


# --- construction and lifecycle -------------------------------------------------------


def test_session_made_outside_a_running_loop_raises_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="no running event loop"):
        airhttp.ClientSession()


async def test_loop_argument_is_accepted_silently() -> None:
    loop = asyncio.get_running_loop()
    connector = airhttp.TCPConnector(loop=loop)
    jar = airhttp.CookieJar(loop=loop)
    session = airhttp.ClientSession(loop=loop, connector=connector, cookie_jar=jar)
    assert session.connector is connector
    assert session.cookie_jar is jar
    await session.close()


async def test_session_and_connector_on_different_loops_are_refused() -> None:
    other = asyncio.new_event_loop()
    try:
        connector = airhttp.TCPConnector(loop=other)
        with pytest.raises(RuntimeError, match="same event loop"):
            airhttp.ClientSession(connector=connector, loop=asyncio.get_running_loop())
        await connector.close()
    finally:
        other.close()


async def test_unclosed_session_warns_and_reports_to_the_loop() -> None:
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    old_handler = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        session = airhttp.ClientSession()
        connector = session.connector
        assert connector is not None
        with pytest.warns(ResourceWarning, match="Unclosed client session"):
            del session
            gc.collect()
    finally:
        loop.set_exception_handler(old_handler)
    assert len(reported) == 1
    assert reported[0]["message"] == "Unclosed client session"
    assert isinstance(reported[0]["client_session"], airhttp.ClientSession)
    reported.clear()
    await connector.close()


async def test_closed_and_detached_sessions_do_not_warn_when_collected() -> None:
    closed = airhttp.ClientSession()
    await closed.close()
    detached = airhttp.ClientSession()
    connector = detached.connector
    assert connector is not None
    detached.detach()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        del closed, detached
        gc.collect()
    await connector.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeout": 5}, "timeout parameter cannot be of <class 'int'> type"),
        (
            {"timeout": airhttp.ClientTimeout(), "read_timeout": 1},
            "read_timeout and timeout parameters conflict",
        ),
        (
            {"timeout": airhttp.ClientTimeout(), "conn_timeout": 1},
            "conn_timeout and timeout parameters conflict",
        ),
        ({"base_url": "http://example.com/api"}, "base_url must have a trailing '/'"),
        ({"base_url": URL("http://example.com/api")}, "base_url must have a trailing '/'"),
        ({"base_url": "/relative/"}, "URL should be absolute"),
    ],
)
async def test_refused_arguments_raise_and_leave_nothing_open(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        airhttp.ClientSession(**kwargs)
    # Nothing was opened, so collecting the half-built session must stay silent.
    gc.collect()


async def test_default_timeout_is_five_minutes_total_and_thirty_seconds_to_connect() -> None:
    async with airhttp.ClientSession() as session:
        assert session.timeout == airhttp.ClientTimeout(total=300, sock_connect=30)
    async with airhttp.ClientSession(timeout=None) as session:
        assert session.timeout == airhttp.ClientTimeout(total=300, sock_connect=30)


async def test_read_timeout_is_deprecated_and_becomes_the_total() -> None:
    with pytest.warns(DeprecationWarning, match="read_timeout is deprecated") as record:
        session = airhttp.ClientSession(read_timeout=7)
    assert record[0].filename == __file__
    assert session.timeout == airhttp.ClientTimeout(total=7, sock_connect=30)
    await session.close()


async def test_conn_timeout_is_deprecated_and_becomes_connect() -> None:
    with pytest.warns(DeprecationWarning, match="conn_timeout is deprecated"):
        session = airhttp.ClientSession(conn_timeout=3)
    assert session.timeout == airhttp.ClientTimeout(total=300, connect=3, sock_connect=30)
    await session.close()


async def test_ssl_shutdown_timeout_is_deprecated() -> None:
    with pytest.warns(DeprecationWarning, match="ssl_shutdown_timeout parameter is deprecated"):
        session = airhttp.ClientSession(ssl_shutdown_timeout=0)
    await session.close()
    connector = airhttp.TCPConnector()
    with pytest.warns(DeprecationWarning, match="ssl_shutdown_timeout parameter is deprecated"):
        session = airhttp.ClientSession(connector=connector, ssl_shutdown_timeout=0)
    await session.close()


async def test_properties_report_the_constructor_arguments() -> None:
    auth = airhttp.BasicAuth("u", "p")
    jar = airhttp.DummyCookieJar()
    timeout = airhttp.ClientTimeout(total=9)
    trace = airhttp.TraceConfig()

    async def check(resp: ClientResponse) -> None:
        pass

    async with airhttp.ClientSession(
        headers={"X-A": "1"},
        skip_auto_headers=["User-Agent"],
        auth=auth,
        json_serialize=repr,
        cookie_jar=jar,
        raise_for_status=check,
        timeout=timeout,
        auto_decompress=False,
        trust_env=True,
        requote_redirect_url=False,
        trace_configs=[trace],
        version=airhttp.HttpVersion10,
    ) as session:
        assert session.headers == CIMultiDict({"X-A": "1"})
        assert session.skip_auto_headers == frozenset({"User-Agent"})
        assert session.auth is auth
        assert session.json_serialize is repr
        assert session.cookie_jar is jar
        assert session.raise_for_status is check
        assert session.timeout is timeout
        assert session.auto_decompress is False
        assert session.trust_env is True
        assert session.requote_redirect_url is False
        assert session.trace_configs == [trace]
        assert session.version == airhttp.HttpVersion10
        assert session.connector_owner is True
        assert isinstance(session.connector, airhttp.TCPConnector)
        assert session.closed is False
    assert session.closed is True
    assert session.connector is None


async def test_loop_property_is_deprecated() -> None:
    async with airhttp.ClientSession() as session:
        with pytest.warns(DeprecationWarning, match="client.loop property is deprecated"):
            assert session.loop is asyncio.get_running_loop()


async def test_subclassing_the_session_is_discouraged() -> None:
    with pytest.warns(DeprecationWarning, match="Inheritance class Mine from ClientSession"):

        class Mine(airhttp.ClientSession):
            pass


async def test_connector_owner_false_leaves_the_connector_open() -> None:
    connector = airhttp.TCPConnector()
    session = airhttp.ClientSession(connector=connector, connector_owner=False)
    await session.close()
    assert session.closed
    assert not connector.closed
    await connector.close()


async def test_connector_is_closed_with_the_session_that_owns_it() -> None:
    connector = airhttp.TCPConnector()
    session = airhttp.ClientSession(connector=connector)
    await session.close()
    assert connector.closed


async def test_detach_closes_the_session_but_not_the_connector() -> None:
    session = airhttp.ClientSession()
    connector = session.connector
    assert connector is not None
    session.detach()
    assert session.closed
    assert session.connector is None
    assert not connector.closed
    await session.close()
    assert not connector.closed
    await connector.close()


async def test_close_twice_is_harmless() -> None:
    session = airhttp.ClientSession()
    await session.close()
    await session.close()
    assert session.closed


async def test_request_on_a_closed_session_raises_runtime_error(base: URL) -> None:
    session = airhttp.ClientSession()
    await session.close()
    with pytest.raises(RuntimeError, match="Session is closed"):
        await session.get(base / "echo")


# --- the verbs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "verb", ["get", "post", "put", "patch", "delete", "options", "head", "request"]
)
async def test_each_verb_is_awaitable_and_an_async_context_manager(base: URL, verb: str) -> None:
    async with airhttp.ClientSession() as session:
        if verb == "request":
            call: Callable[..., Any] = lambda url: session.request("PATCH", url)  # noqa: E731
            method = "PATCH"
        else:
            call = getattr(session, verb)
            method = verb.upper()
        resp = await call(base / "echo")
        assert resp.status == 200
        if method != "HEAD":
            assert (await resp.json())["method"] == method
        resp.release()
        async with call(base / "echo") as resp:
            assert resp.status == 200
            assert resp.method == method
        assert resp.closed


async def test_head_does_not_follow_redirects_by_default(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        async with session.head(base / "redirect") as resp:
            assert resp.status == 302
        async with session.head(base / "redirect", allow_redirects=True) as resp:
            assert resp.status == 200
            assert resp.method == "HEAD"


async def test_options_follows_redirects_by_default(base: URL) -> None:
    async with airhttp.ClientSession() as session, session.options(base / "redirect") as resp:
        assert resp.status == 200
        assert len(resp.history) == 1


async def test_data_and_json_together_are_refused(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        with pytest.raises(ValueError, match="data and json parameters can not be used"):
            await session.post(base / "echo", data=b"x", json={"a": 1})


async def test_json_is_encoded_with_the_session_serializer(base: URL) -> None:
    async with airhttp.ClientSession(json_serialize=lambda obj: "[custom]") as session:
        async with session.post(base / "echo", json={"a": 1}) as resp:
            got = await _echo(resp)
    assert got["body"] == "[custom]"
    assert got["headers"]["Content-Type"] == "application/json"


async def test_http_10_version_is_sent_on_the_request_line(base: URL) -> None:
    async with airhttp.ClientSession(version=airhttp.HttpVersion10) as session:
        async with session.get(base / "echo") as resp:
            assert (await _echo(resp))["version"] == [1, 0]


# --- URLs: base_url, params, invalid ones ----------------------------------------------


@pytest.mark.parametrize(
    ("base_path", "target", "expected"),
    [
        ("/echo/a/", "b", "/echo/a/b"),
        ("/echo/a/", "/echo/b", "/echo/b"),
        ("/echo/a/", "../b", "/echo/b"),
        ("/echo/a/", "b?q=1", "/echo/a/b?q=1"),
        ("/echo/a/?z=1", "b", "/echo/a/b"),
        ("/echo/a/", "", "/echo/a/"),
        ("/echo/a/", "?q=2", "/echo/a/?q=2"),
    ],
)
async def test_relative_urls_join_the_base_url_per_rfc_3986(
    base: URL, base_path: str, target: str, expected: str
) -> None:
    async with airhttp.ClientSession(str(base) + base_path) as session:
        async with session.get(target) as resp:
            assert (await _echo(resp))["path"] == expected
            assert resp.url == base.join(URL(expected))


async def test_absolute_url_overrides_the_base_url(base: URL) -> None:
    async with airhttp.ClientSession("http://unused.invalid/api/") as session:
        async with session.get(base / "echo" / "abs") as resp:
            assert (await _echo(resp))["path"] == "/echo/abs"


async def test_network_path_reference_takes_the_base_url_scheme(base: URL) -> None:
    async with airhttp.ClientSession("http://unused.invalid/api/") as session:
        async with session.get(f"//127.0.0.1:{base.port}/echo/net") as resp:
            assert resp.url == base / "echo" / "net"


async def test_base_url_given_as_yarl_url_joins_too(base: URL) -> None:
    async with airhttp.ClientSession(base / "echo" / "") as session:
        async with session.get("x") as resp:
            assert (await _echo(resp))["path"] == "/echo/x"


@pytest.mark.parametrize(
    ("url_query", "params", "expected"),
    [
        ("", {"a": "b c", "n": 1, "f": 1.5}, "a=b+c&n=1&f=1.5"),
        ("", MultiDict([("a", "1"), ("a", "2")]), "a=1&a=2"),
        ("", [("a", "1"), ("a", "2"), ("b", "3")], "a=1&a=2&b=3"),
        ("", {"a": [1, 2]}, "a=1&a=2"),
        ("?x=1", {"a": "b"}, "x=1&a=b"),
        ("?x=1", "a=b%20c&d=/+", "x=1&a=b%2520c&d=/+"),
        ("", "raw=%2F", "raw=%252F"),
    ],
)
async def test_params_are_added_to_the_query(
    base: URL, url_query: str, params: Any, expected: str
) -> None:
    async with airhttp.ClientSession() as session:
        async with session.get(str(base / "echo") + url_query, params=params) as resp:
            assert (await _echo(resp))["path"] == "/echo?" + expected


async def test_bool_params_are_rejected(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        with pytest.raises(TypeError, match="got True of type <class 'bool'>"):
            await session.get(base / "echo", params={"a": True})


@pytest.mark.parametrize("url", ["http://", "http:///x", "/x", "x", "", "http://[bad"])
async def test_invalid_urls_raise_invalid_url_client_error(url: str) -> None:
    async with airhttp.ClientSession() as session:
        with pytest.raises(airhttp.InvalidUrlClientError) as info:
            await session.get(url)
    assert isinstance(info.value, airhttp.InvalidURL)
    assert str(info.value.url) == url or url == "http:///x"


@pytest.mark.parametrize("url", ["ftp://example.com/x", "mailto:a@example.com", "file:///etc"])
async def test_non_http_urls_raise_non_http_url_client_error(url: str) -> None:
    async with airhttp.ClientSession() as session:
        with pytest.raises(airhttp.NonHttpUrlClientError) as info:
            await session.get(url)
    assert str(info.value) == url


async def test_scheme_less_network_path_without_base_url_goes_out_as_http(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        async with session.get(f"//127.0.0.1:{base.port}/echo") as resp:
            assert (await _echo(resp))["path"] == "/echo"


# --- headers --------------------------------------------------------------------------


async def test_request_headers_override_session_headers_by_name(base: URL) -> None:
    async with airhttp.ClientSession(headers={"X-A": "s", "X-B": "s"}) as session:
        async with session.get(base / "echo", headers={"x-a": "r"}) as resp:
            sent = (await _echo(resp))["headers"]
    assert sent.getall("X-A") == ["r"]
    assert sent.getall("X-B") == ["s"]


async def test_repeated_request_headers_are_all_sent(base: URL) -> None:
    async with airhttp.ClientSession(headers={"X-A": "s"}) as session:
        headers = [("X-C", "1"), ("X-C", "2"), ("X-A", "r1"), ("X-A", "r2")]
        async with session.get(base / "echo", headers=headers) as resp:
            sent = (await _echo(resp))["headers"]
    assert sent.getall("X-C") == ["1", "2"]
    assert sent.getall("X-A") == ["r1", "r2"]


async def test_multi_valued_session_headers_are_replaced_by_one_request_header(
    base: URL,
) -> None:
    async with airhttp.ClientSession(headers=[("X-A", "1"), ("X-A", "2")]) as session:
        async with session.get(base / "echo") as resp:
            assert (await _echo(resp))["headers"].getall("X-A") == ["1", "2"]
        async with session.get(base / "echo", headers={"X-A": "3"}) as resp:
            assert (await _echo(resp))["headers"].getall("X-A") == ["3"]


async def test_session_headers_are_a_copy_that_later_requests_follow(base: URL) -> None:
    given = {"Authorization": "Bearer one"}
    async with airhttp.ClientSession(headers=given) as session:
        given["Authorization"] = "Bearer ignored"
        session.headers["Authorization"] = "Bearer two"
        async with session.get(base / "echo") as resp:
            assert (await _echo(resp))["headers"]["Authorization"] == "Bearer two"


async def test_skip_auto_headers_of_session_and_request_combine(base: URL) -> None:
    async with airhttp.ClientSession(skip_auto_headers=["User-Agent"]) as session:
        async with session.get(base / "echo", skip_auto_headers=["Accept"]) as resp:
            sent = (await _echo(resp))["headers"]
    assert "User-Agent" not in sent
    assert "Accept" not in sent
    assert "Accept-Encoding" in sent


# --- auth -----------------------------------------------------------------------------


async def test_basic_auth_per_request_and_from_url_userinfo(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        async with session.get(base / "echo", auth=airhttp.BasicAuth("u", "p")) as resp:
            assert (await _echo(resp))["headers"]["Authorization"] == _basic("u", "p")
        with_userinfo = base.with_user("x").with_password("y") / "echo"
        async with session.get(with_userinfo) as resp:
            assert (await _echo(resp))["headers"]["Authorization"] == _basic("x", "y")
            assert resp.url == base / "echo"


async def test_session_auth_is_used_unless_the_request_brings_its_own(base: URL) -> None:
    async with airhttp.ClientSession(auth=airhttp.BasicAuth("s", "s")) as session:
        async with session.get(base / "echo") as resp:
            assert (await _echo(resp))["headers"]["Authorization"] == _basic("s", "s")
        async with session.get(base / "echo", auth=airhttp.BasicAuth("r", "q")) as resp:
            assert (await _echo(resp))["headers"]["Authorization"] == _basic("r", "q")
        with_userinfo = base.with_user("x").with_password("y") / "echo"
        async with session.get(with_userinfo) as resp:
            assert (await _echo(resp))["headers"]["Authorization"] == _basic("x", "y")


async def test_session_auth_with_base_url_is_only_sent_to_that_origin(base: URL) -> None:
    auth = airhttp.BasicAuth("s", "s")
    async with airhttp.ClientSession(base, auth=auth) as session:
        async with session.get("echo") as resp:
            assert (await _echo(resp))["headers"]["Authorization"] == _basic("s", "s")
        other_origin = base.with_host("localhost") / "echo"
        async with session.get(other_origin) as resp:
            assert "Authorization" not in (await _echo(resp))["headers"]


async def test_auth_with_url_credentials_is_refused(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        with pytest.raises(
            ValueError, match="Cannot combine AUTH argument with credentials encoded in URL"
        ):
            await session.get(
                base.with_user("x").with_password("y") / "echo", auth=airhttp.BasicAuth("u")
            )


@pytest.mark.parametrize("where", ["request", "session"])
async def test_auth_with_authorization_header_is_refused(base: URL, where: str) -> None:
    message = "Cannot combine AUTHORIZATION header with AUTH argument or credentials encoded in URL"
    headers = {"Authorization": "Bearer t"}
    auth = airhttp.BasicAuth("u", "p")
    session_kwargs: dict[str, Any] = {"headers": headers} if where == "session" else {}
    async with airhttp.ClientSession(**session_kwargs) as session:
        with pytest.raises(ValueError, match=message):
            if where == "session":
                await session.get(base / "echo", auth=auth)
            else:
                await session.get(base / "echo", auth=auth, headers=headers)
        with pytest.raises(ValueError, match=message):
            await session.get(base.with_user("x") / "echo", headers=headers)


@pytest.fixture
def netrc_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "netrc"
    path.write_text("machine 127.0.0.1 login nu password np\n")
    monkeypatch.setenv("NETRC", str(path))
    return path


@pytest.mark.usefixtures("netrc_file")
async def test_netrc_credentials_are_used_only_with_trust_env(base: URL) -> None:
    async with airhttp.ClientSession(trust_env=True) as session:
        async with session.get(base / "echo") as resp:
            assert (await _echo(resp))["headers"]["Authorization"] == _basic("nu", "np")
        async with session.get(base / "echo", auth=airhttp.BasicAuth("a", "b")) as resp:
            assert (await _echo(resp))["headers"]["Authorization"] == _basic("a", "b")
    async with airhttp.ClientSession() as session, session.get(base / "echo") as resp:
        assert "Authorization" not in (await _echo(resp))["headers"]


@pytest.mark.usefixtures("netrc_file")
async def test_session_auth_wins_over_netrc(base: URL) -> None:
    async with airhttp.ClientSession(trust_env=True, auth=airhttp.BasicAuth("s", "s")) as session:
        async with session.get(base / "echo") as resp:
            assert (await _echo(resp))["headers"]["Authorization"] == _basic("s", "s")


@pytest.mark.usefixtures("netrc_file")
async def test_netrc_serves_origins_the_base_url_session_auth_does_not_cover(base: URL) -> None:
    other = base.with_host("localhost")
    async with airhttp.ClientSession(
        other, trust_env=True, auth=airhttp.BasicAuth("s", "s")
    ) as session:
        async with session.get(base / "echo") as resp:
            assert (await _echo(resp))["headers"]["Authorization"] == _basic("nu", "np")


@pytest.mark.usefixtures("netrc_file")
async def test_netrc_credentials_conflict_with_an_authorization_header_like_aiohttp(
    base: URL,
) -> None:
    async with airhttp.ClientSession(trust_env=True) as session:
        with pytest.raises(ValueError, match="Cannot combine AUTHORIZATION header"):
            await session.get(base / "echo", headers={"Authorization": "Bearer t"})


async def test_netrc_without_an_entry_for_the_host_sends_no_auth(
    base: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "netrc"
    path.write_text("machine elsewhere.example login nu password np\n")
    monkeypatch.setenv("NETRC", str(path))
    async with airhttp.ClientSession(trust_env=True) as session:
        async with session.get(base / "echo") as resp:
            assert "Authorization" not in (await _echo(resp))["headers"]


# --- raise_for_status ---------------------------------------------------------------


async def test_raise_for_status_true_on_the_session_raises_for_errors(base: URL) -> None:
    async with airhttp.ClientSession(raise_for_status=True) as session:
        with pytest.raises(airhttp.ClientResponseError) as info:
            await session.get(base / "status" / "500")
        assert info.value.status == 500
        with pytest.raises(airhttp.ClientResponseError):
            async with session.get(base / "status" / "404"):
                pass
        async with session.get(base / "status" / "500", raise_for_status=False) as resp:
            assert resp.status == 500
        async with session.get(base / "status" / "302", allow_redirects=False) as resp:
            assert resp.status == 302


async def test_raise_for_status_per_request_overrides_a_false_session(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        async with session.get(base / "status" / "500") as resp:
            assert resp.status == 500
        with pytest.raises(airhttp.ClientResponseError):
            await session.get(base / "status" / "500", raise_for_status=True)


async def test_raise_for_status_callable_sees_the_response(base: URL) -> None:
    seen: list[int] = []

    async def check(resp: ClientResponse) -> None:
        seen.append(resp.status)
        if resp.status == 418:
            raise RuntimeError("teapot")

    async with airhttp.ClientSession(raise_for_status=check) as session:
        with pytest.raises(RuntimeError, match="teapot"):
            await session.get(base / "status" / "418")
        async with session.get(base / "status" / "200") as resp:
            assert resp.status == 200
        async with session.get(base / "status" / "418", raise_for_status=False) as resp:
            assert resp.status == 418
    assert seen == [418, 200]
    async with airhttp.ClientSession() as session:
        with pytest.raises(RuntimeError, match="teapot"):
            await session.get(base / "status" / "418", raise_for_status=check)


async def test_a_failing_raise_for_status_callable_frees_the_connection(base: URL) -> None:
    async def refuse(resp: ClientResponse) -> None:
        raise RuntimeError("no")

    connector = airhttp.TCPConnector(limit=1)
    async with airhttp.ClientSession(connector=connector) as session:
        for _ in range(3):
            with pytest.raises(RuntimeError):
                await asyncio.wait_for(session.get(base / "hold", raise_for_status=refuse), 2)
        async with session.get(base / "echo") as resp:
            assert resp.status == 200


# --- timeouts ------------------------------------------------------------------------


async def test_session_sock_read_timeout_raises_socket_timeout_error(base: URL) -> None:
    timeout = airhttp.ClientTimeout(sock_read=0.05)
    async with airhttp.ClientSession(timeout=timeout) as session:
        with pytest.raises(airhttp.SocketTimeoutError) as info:
            await session.get(base / "slow", params={"s": "0.5"})
    assert isinstance(info.value, airhttp.ServerTimeoutError)
    assert isinstance(info.value, asyncio.TimeoutError)


async def test_request_timeout_replaces_the_session_timeout(base: URL) -> None:
    async with airhttp.ClientSession(timeout=airhttp.ClientTimeout(sock_read=0.05)) as session:
        async with session.get(
            base / "slow", params={"s": "0.15"}, timeout=airhttp.ClientTimeout()
        ) as resp:
            assert await resp.text() == "late"
        with pytest.raises(asyncio.TimeoutError) as info:
            await session.get(
                base / "slow", params={"s": "0.5"}, timeout=airhttp.ClientTimeout(total=0.05)
            )
        assert not isinstance(info.value, airhttp.ClientError)


async def test_a_number_as_request_timeout_is_the_total(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(asyncio.TimeoutError):
                await session.get(base / "slow", params={"s": "0.5"}, timeout=0.05)


async def test_none_as_request_timeout_disables_the_session_timeout(base: URL) -> None:
    async with airhttp.ClientSession(timeout=airhttp.ClientTimeout(total=0.05)) as session:
        async with session.get(base / "slow", params={"s": "0.15"}, timeout=None) as resp:
            assert await resp.text() == "late"


async def test_connect_timeout_covers_waiting_for_a_free_connection(base: URL) -> None:
    connector = airhttp.TCPConnector(limit=1)
    async with airhttp.ClientSession(connector=connector) as session:
        holder = await session.get(base / "hold")
        try:
            with pytest.raises(airhttp.ConnectionTimeoutError) as info:
                await session.get(base / "echo", timeout=airhttp.ClientTimeout(connect=0.05))
            assert isinstance(info.value, asyncio.TimeoutError)
            assert isinstance(info.value, airhttp.ServerTimeoutError)
            assert str(base / "echo") in str(info.value)
        finally:
            holder.close()


async def test_total_timeout_while_waiting_for_a_connection_is_a_plain_timeout(
    base: URL,
) -> None:
    connector = airhttp.TCPConnector(limit=1)
    async with airhttp.ClientSession(connector=connector) as session:
        holder = await session.get(base / "hold")
        try:
            with pytest.raises(asyncio.TimeoutError) as info:
                await session.get(base / "echo", timeout=airhttp.ClientTimeout(total=0.05))
            assert not isinstance(info.value, airhttp.ClientError)
        finally:
            holder.close()
        async with session.get(base / "echo") as resp:
            assert resp.status == 200


async def test_total_timeout_in_a_slow_middleware_is_a_timeout(base: URL) -> None:
    async def dawdle(req: ClientRequest, handler: Handler) -> ClientResponse:
        await asyncio.sleep(0.5)
        return await handler(req)

    async with airhttp.ClientSession(timeout=airhttp.ClientTimeout(total=0.05)) as session:
        with pytest.raises(asyncio.TimeoutError):
            await session.get(base / "echo", middlewares=(dawdle,))


async def test_user_cancellation_is_not_turned_into_a_timeout(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        task = asyncio.ensure_future(session.get(base / "slow", params={"s": "1"}))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


# --- deprecated TLS arguments per request ------------------------------------------------


async def test_verify_ssl_per_request_is_deprecated(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        with pytest.warns(DeprecationWarning, match="verify_ssl is deprecated") as record:
            resp = await session.get(base / "echo", verify_ssl=False)
        assert resp.status == 200
        resp.release()
    assert record[0].filename == __file__


async def test_fingerprint_per_request_is_deprecated(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        with pytest.warns(DeprecationWarning, match="fingerprint is deprecated"):
            async with session.get(base / "echo", fingerprint=b"\0" * 32) as resp:
                assert resp.status == 200


async def test_ssl_context_per_request_is_deprecated_unless_none(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        with pytest.warns(DeprecationWarning, match="ssl_context is deprecated"):
            async with session.get(base / "echo", ssl_context=ssl.create_default_context()):
                pass
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            async with session.get(base / "echo", ssl_context=None) as resp:
                assert resp.status == 200


async def test_ssl_with_a_deprecated_tls_argument_is_refused(base: URL) -> None:
    async with airhttp.ClientSession() as session:
        with (
            pytest.warns(DeprecationWarning, match="verify_ssl is deprecated"),
            pytest.raises(ValueError, match="mutually exclusive"),
        ):
            await session.get(base / "echo", ssl=False, verify_ssl=False)


# --- TLS, server_hostname, response limits: passed through per request ------------------


@pytest.fixture(scope="module")
def tls_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def tls_base(web_server: WebServer, tls_ca: trustme.CA) -> URL:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca.issue_cert("localhost").configure_cert(server_context)
    return await web_server.start(_app(), ssl_context=server_context)


async def test_ssl_and_server_hostname_per_request(tls_base: URL, tls_ca: trustme.CA) -> None:
    client_context = ssl.create_default_context()
    tls_ca.configure_trust(client_context)
    async with airhttp.ClientSession() as session:
        # The certificate names "localhost", the URL an IP: only server_hostname fixes that.
        with pytest.raises(airhttp.ClientConnectorCertificateError):
            await session.get(tls_base / "echo", ssl=client_context)
        async with session.get(
            tls_base / "echo", ssl=client_context, server_hostname="localhost"
        ) as resp:
            assert resp.status == 200
        async with session.get(tls_base / "echo", ssl=False) as resp:
            assert resp.status == 200


async def test_auto_decompress_per_request_overrides_the_session(base: URL) -> None:
    async with airhttp.ClientSession(auto_decompress=False) as session:
        async with session.get(base / "gzip") as resp:
            assert (await resp.read())[:2] == b"\x1f\x8b"
        async with session.get(base / "gzip", auto_decompress=True) as resp:
            assert (await resp.text()).startswith("squeezed ")


async def test_read_bufsize_per_request_reaches_the_stream(base: URL) -> None:
    async with airhttp.ClientSession(read_bufsize=2**10) as session:
        async with session.get(base / "hold") as resp:
            assert resp.content.get_read_buffer_limits() == (2**10, 2**11)
            resp.close()
        async with session.get(base / "hold", read_bufsize=2**12) as resp:
            assert resp.content.get_read_buffer_limits() == (2**12, 2**13)
            resp.close()


def _fixed_reply(reply: bytes) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any]:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            writer.write(reply)
            await writer.drain()

    return handler


_LONG_HEADER: bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Long: " + b"a" * 100 + b"\r\n\r\n"
_LONG_STATUS: bytes = b"HTTP/1.1 200 " + b"O" * 100 + b"\r\nContent-Length: 0\r\n\r\n"
_MANY_HEADERS: bytes = (
    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
    + b"".join(b"X-%d: 1\r\n" % i for i in range(10))
    + b"\r\n"
)


@pytest.mark.parametrize(
    ("reply", "limit", "message"),
    [
        (_LONG_HEADER, {"max_field_size": 50}, "Got more than 50 bytes"),
        (_LONG_STATUS, {"max_line_size": 50}, "Got more than 50 bytes"),
        (_MANY_HEADERS, {"max_headers": 5}, "Too many headers"),
    ],
)
@pytest.mark.parametrize("where", ["session", "request"])
async def test_response_head_limits_raise_a_400_response_error(
    raw_server: RawServer, reply: bytes, limit: dict[str, Any], message: str, where: str
) -> None:
    url = await raw_server.start(_fixed_reply(reply))
    session_kwargs = limit if where == "session" else {}
    request_kwargs = limit if where == "request" else {}
    async with airhttp.ClientSession(**session_kwargs) as session:
        with pytest.raises(airhttp.ClientResponseError, match=message) as info:
            await session.get(url / "x", **request_kwargs)
        assert info.value.status == 400
        # A per-request limit also lifts a session one.
        roomy: dict[str, Any] = {name: 8190 for name in limit}
        async with session.get(url / "x", **roomy) as resp:
            assert resp.status == 200


async def test_read_until_eof_false_gives_an_empty_body_without_length(
    raw_server: RawServer,
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\n\r\nbody until close")
        await writer.drain()
        writer.close()

    url = await raw_server.start(handler)
    async with airhttp.ClientSession() as session:
        async with session.get(url / "x") as resp:
            assert await resp.read() == b"body until close"
        async with session.get(url / "x", read_until_eof=False) as resp:
            assert await resp.read() == b""


# --- middlewares ---------------------------------------------------------------------


def _recording(name: str, calls: list[str]) -> Callable[[ClientRequest, Handler], Any]:
    async def middleware(req: ClientRequest, handler: Handler) -> ClientResponse:
        calls.append(f"{name}>{req.method} {req.url.path}")
        resp = await handler(req)
        calls.append(f"{name}<{resp.status}")
        return resp

    return middleware


async def test_session_middlewares_wrap_each_request_in_order(base: URL) -> None:
    calls: list[str] = []
    middlewares = (_recording("a", calls), _recording("b", calls))
    async with airhttp.ClientSession(middlewares=middlewares) as session:
        async with session.get(base / "echo") as resp:
            assert resp.status == 200
    assert calls == ["a>GET /echo", "b>GET /echo", "b<200", "a<200"]


async def test_request_middlewares_replace_the_session_ones(base: URL) -> None:
    calls: list[str] = []
    async with airhttp.ClientSession(middlewares=(_recording("s", calls),)) as session:
        async with session.get(base / "echo", middlewares=(_recording("r", calls),)):
            pass
        assert calls == ["r>GET /echo", "r<200"]
        calls.clear()
        async with session.get(base / "echo", middlewares=()):
            pass
        assert calls == []
        async with session.get(base / "echo", middlewares=None):
            pass
        assert calls == ["s>GET /echo", "s<200"]


async def test_middlewares_run_again_for_each_redirect_hop(base: URL) -> None:
    calls: list[str] = []
    async with airhttp.ClientSession(middlewares=(_recording("m", calls),)) as session:
        async with session.get(base / "redirect") as resp:
            assert resp.status == 200
    assert calls == ["m>GET /redirect", "m<302", "m>GET /echo", "m<200"]


async def test_a_middleware_can_retry_with_a_new_body(base: URL) -> None:
    async def retry(req: ClientRequest, handler: Handler) -> ClientResponse:
        resp = await handler(req)
        if resp.status == 404:
            resp.release()
            await req.update_body(b"second")
            req.url = req.url.with_path("/echo")
            resp = await handler(req)
        return resp

    async with airhttp.ClientSession() as session:
        async with session.post(base / "missing", data=b"first", middlewares=(retry,)) as resp:
            got = await _echo(resp)
    assert got["body"] == "second"
    assert got["headers"]["Content-Length"] == "6"


async def test_a_middleware_sees_and_can_change_headers(base: URL) -> None:
    async def sign(req: ClientRequest, handler: Handler) -> ClientResponse:
        req.headers["X-Signed"] = req.method
        return await handler(req)

    async with airhttp.ClientSession(middlewares=(sign,)) as session:
        async with session.put(base / "echo", data=b"x") as resp:
            assert (await _echo(resp))["headers"]["X-Signed"] == "PUT"


# --- the one-shot request() ----------------------------------------------------------


async def test_one_shot_request_closes_the_session_and_connector_it_made(base: URL) -> None:
    manager = airhttp.request("POST", base / "echo", data=b"hi")
    async with manager as resp:
        assert (await _echo(resp))["body"] == "hi"
        session = manager._session
        connector = session.connector
        assert connector is not None
    assert session.closed
    assert connector.closed


async def test_one_shot_request_is_not_awaitable(base: URL) -> None:
    manager = airhttp.request("GET", base / "echo")
    assert not inspect.isawaitable(manager)
    async with manager as resp:
        assert resp.status == 200


async def test_one_shot_request_leaves_a_given_connector_open(base: URL) -> None:
    connector = airhttp.TCPConnector()
    async with airhttp.request("GET", base / "echo", connector=connector) as resp:
        assert resp.status == 200
    assert not connector.closed
    await connector.close()


async def test_one_shot_request_closes_its_session_when_the_request_fails(base: URL) -> None:
    manager = airhttp.request("GET", base / "status" / "500", raise_for_status=True)
    with pytest.raises(airhttp.ClientResponseError):
        async with manager:
            pass
    assert manager._session.closed


async def test_one_shot_request_passes_every_documented_argument(base: URL) -> None:
    async with airhttp.request(
        "POST",
        base / "echo",
        params={"p": "1"},
        data=b"payload",
        cookies={"c": "2"},
        headers={"X-A": "a"},
        skip_auto_headers=["User-Agent"],
        auth=airhttp.BasicAuth("u", "p"),
        allow_redirects=False,
        max_redirects=1,
        compress=None,
        chunked=None,
        expect100=False,
        raise_for_status=False,
        read_until_eof=True,
        proxy=None,
        proxy_auth=None,
        timeout=airhttp.ClientTimeout(total=5),
        ssl=True,
        server_hostname=None,
        proxy_headers=None,
        trace_request_ctx={"id": 1},
        read_bufsize=2**12,
        auto_decompress=True,
        max_line_size=4000,
        max_field_size=4000,
        max_headers=50,
        version=airhttp.HttpVersion10,
        connector=None,
    ) as resp:
        got = await _echo(resp)
    sent = got["headers"]
    assert got["path"] == "/echo?p=1"
    assert got["body"] == "payload"
    assert got["version"] == [1, 0]
    assert sent["X-A"] == "a"
    assert "User-Agent" not in sent
    assert sent["Authorization"] == _basic("u", "p")
    assert sent["Cookie"] == "c=2"


async def test_one_shot_request_accepts_a_loop_silently(base: URL) -> None:
    loop = asyncio.get_running_loop()
    async with airhttp.request("GET", base / "echo", loop=loop) as resp:
        assert resp.status == 200


# --- found in the issue-7 review: each fails on the code before its fix ----------------


async def test_a_middleware_chain_that_cannot_be_built_leaves_no_timer_behind(base: URL) -> None:
    async def middleware(req: ClientRequest, handler: Handler) -> ClientResponse:
        return await handler(req)

    timeout = airhttp.ClientTimeout(total=0.05)
    async with airhttp.ClientSession(timeout=timeout) as session:
        with pytest.raises(TypeError):
            # An iterator cannot be reversed: building the chain fails.
            await session.get(base / "echo", middlewares=iter([middleware]))  # type: ignore[arg-type]
        # A leaked total-timeout timer would cancel this task while it sleeps.
        await asyncio.sleep(0.15)


async def test_a_refused_request_is_traced_without_the_url_credentials(base: URL) -> None:
    seen: list[URL] = []

    async def on_exception(session: Any, ctx: Any, params: Any) -> None:
        seen.append(params.url)

    config = airhttp.TraceConfig()
    config.on_request_exception.append(on_exception)
    url = base.with_user("user").with_password("secret") / "echo"
    async with airhttp.ClientSession(trace_configs=[config]) as session:
        with pytest.raises(ValueError, match="Cannot combine AUTH argument"):
            await session.get(url, auth=airhttp.BasicAuth("other", "pw"))
    assert len(seen) == 1
    assert seen[0].user is None and seen[0].password is None
    assert "secret" not in str(seen[0])


async def test_a_connector_that_overrides_connect_sees_every_new_connection(base: URL) -> None:
    calls: list[str] = []

    class CountingConnector(airhttp.TCPConnector):
        async def connect(self, req: Any, traces: Any, timeout: Any) -> Any:
            calls.append(str(req.url))
            return await super().connect(req, traces, timeout)

    async with airhttp.ClientSession(connector=CountingConnector()) as session:
        for _ in range(2):
            async with session.get(base / "echo") as resp:
                await resp.read()
    # As in aiohttp, the first request opens a connection through connect(); the second
    # reuses the pooled one.
    assert calls == [str(base / "echo")]


async def test_a_redirect_to_an_unusable_location_gives_its_connection_back(
    raw_server: RawServer,
) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(
            # The body never ends, so only an explicit release gives the connection back.
            b"HTTP/1.1 302 Found\r\nLocation: http://[::1/x\r\nContent-Length: 99\r\n\r\nbody"
        )
        await writer.drain()
        await reader.read()
        writer.close()

    url = await raw_server.start(handle)
    connector = airhttp.TCPConnector()
    async with airhttp.ClientSession(connector=connector) as session:
        with pytest.raises(airhttp.InvalidUrlRedirectClientError):
            await session.get(url)
        assert not connector._acquired, "the redirect's connection is still lent"

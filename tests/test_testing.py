"""airhttp.testing: mocked answers over the real session and middleware chain.

Every test sends real ClientSession requests; the router answers innermost. Passthrough
and "after the router" cases go to a local aiohttp.web server; "no socket" cases use a
connector that fails any attempt to connect.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from yarl import URL

import airhttp
from airhttp.client_middleware_digest_auth import DigestAuthMiddleware
from airhttp.client_reqrep import ClientRequest, ClientResponse
from airhttp.testing import MockResponse, MockRouter, UnmatchedRequestError

from .mock_support import API, NoSocketConnector
from .mock_support import real_server as real_server
from .mock_support import router as router
from .mock_support import session as session

# --- matching --------------------------------------------------------------------------


async def test_exact_url_matches_whatever_the_query_order_and_params_argument(
    session: airhttp.ClientSession, router: MockRouter
) -> None:
    router.get(f"{API}/users?b=2&a=1", json=["first"])
    router.get(f"{API}/items", params={"page": "3"}, json=["second"])
    async with session.get(f"{API}/users", params={"a": "1", "b": "2"}) as resp:
        assert await resp.json() == ["first"]
    async with session.get(f"{API}/items?page=3") as resp:
        assert await resp.json() == ["second"]
    with pytest.raises(UnmatchedRequestError):
        await session.get(f"{API}/items?page=4")
    router.unmatched.clear()


async def test_regex_matches_from_the_start_of_the_url(
    session: airhttp.ClientSession, router: MockRouter
) -> None:
    route = router.get(re.compile(rf"{re.escape(API)}/users/\d+"), body="a user")
    async with session.get(f"{API}/users/42?full=1") as resp:
        assert await resp.text() == "a user"
    assert route.call_count == 1
    with pytest.raises(UnmatchedRequestError):
        await session.get(f"{API}/users/me")
    router.unmatched.clear()


async def test_predicate_sees_the_client_request(
    session: airhttp.ClientSession, router: MockRouter
) -> None:
    seen: list[ClientRequest] = []

    def is_admin(req: ClientRequest) -> bool:
        seen.append(req)
        return req.url.path.startswith("/admin")

    router.route("*", is_admin, status=403)
    async with session.delete(f"{API}/admin/users/1") as resp:
        assert resp.status == 403
        assert resp.reason == "Forbidden"
    assert seen[0].method == "DELETE"


async def test_method_header_and_body_matchers_pick_the_route(
    session: airhttp.ClientSession, router: MockRouter
) -> None:
    router.post(f"{API}/login", match_json={"user": "ann"}, body="ann")
    router.post(f"{API}/login", match_headers={"X-Key": "k"}, body="by key")
    router.post(f"{API}/login", match_body="raw", body="raw body")
    async with session.post(f"{API}/login", json={"user": "ann"}) as resp:
        assert await resp.text() == "ann"
    async with session.post(f"{API}/login", data=b"x", headers={"X-Key": "k"}) as resp:
        assert await resp.text() == "by key"
    async with session.post(f"{API}/login", data="raw") as resp:
        assert await resp.text() == "raw body"
    with pytest.raises(UnmatchedRequestError):
        await session.put(f"{API}/login", json={"user": "ann"})
    router.unmatched.clear()


async def test_match_query_subset_and_ignore_loosen_the_query_comparison(
    session: airhttp.ClientSession, router: MockRouter
) -> None:
    subset = router.get(f"{API}/token?grant=code", match_query="subset", body="subset")
    ignore = router.get(f"{API}/search", match_query="ignore", body="ignore")
    async with session.get(f"{API}/token", params={"code": "c1", "grant": "code"}) as resp:
        assert await resp.text() == "subset"
    async with session.get(f"{API}/search", params={"q": "tea", "page": "2"}) as resp:
        assert await resp.text() == "ignore"
    async with session.get(f"{API}/search") as resp:
        assert await resp.text() == "ignore"
    with pytest.raises(
        UnmatchedRequestError, match=r"GET .*/token\?grant=code with query='subset'"
    ):
        await session.get(f"{API}/token", params={"code": "c1"})
    router.unmatched.clear()
    assert (subset.call_count, ignore.call_count) == (1, 2)
    with pytest.raises(ValueError, match="match_query"):
        router.get(f"{API}/x", match_query="loose")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="match_query"):
        router.get(re.compile(".*"), match_query="ignore")


async def test_session_base_url_and_router_base_url_join_the_same_way(
    session: airhttp.ClientSession,
) -> None:
    with MockRouter(base_url=API) as router:
        router.get("/v1/ping", body="pong")
        async with airhttp.ClientSession(
            base_url=f"{API}/v1/", connector=NoSocketConnector()
        ) as based:
            async with based.get("ping") as resp:
                assert await resp.text() == "pong"


# --- what a route answers --------------------------------------------------------------


async def test_status_headers_and_bodies_come_back_as_given(
    session: airhttp.ClientSession, router: MockRouter
) -> None:
    router.get(f"{API}/text", body="é", content_type="text/plain; charset=latin-1")
    router.get(f"{API}/bytes", body=b"\x00\x01", headers={"X-Id": "7"}, status=299, reason="Odd")
    router.get(f"{API}/json", json={"a": [1, 2]}, headers=[("Link", "<a>"), ("Link", "<b>")])
    async with session.get(f"{API}/text") as resp:
        assert await resp.read() == b"\xe9"
        assert await resp.text() == "é"
        assert resp.charset == "latin-1"
    async with session.get(f"{API}/bytes") as resp:
        assert (resp.status, resp.reason, resp.headers["X-Id"]) == (299, "Odd", "7")
        assert resp.content_length == 2
        assert resp.content_type == "application/octet-stream"
        assert await resp.read() == b"\x00\x01"
    async with session.get(f"{API}/json") as resp:
        assert resp.content_type == "application/json"
        assert resp.headers.getall("Link") == ["<a>", "<b>"]
        assert (b"Link", b"<b>") in resp.raw_headers
        assert await resp.json() == {"a": [1, 2]}
        assert resp.connection is None
        assert resp.version == airhttp.HttpVersion11


async def test_head_and_204_answers_have_no_body(
    session: airhttp.ClientSession, router: MockRouter
) -> None:
    router.head(f"{API}/x", body="ignored", headers={"Content-Length": "7"})
    router.delete(f"{API}/x", status=204, body="ignored")
    async with session.head(f"{API}/x") as resp:
        assert resp.content_length == 7
        assert await resp.read() == b""
    async with session.delete(f"{API}/x") as resp:
        assert await resp.read() == b""
        assert "Content-Length" not in resp.headers


async def test_mocked_body_streams_like_a_real_one(
    session: airhttp.ClientSession, router: MockRouter
) -> None:
    router.get(f"{API}/lines", body=b"one\ntwo\nthree\n")
    async with session.get(f"{API}/lines") as resp:
        assert await resp.content.readline() == b"one\n"
        assert [chunk async for chunk in resp.content.iter_chunked(3)] == [
            b"two",
            b"\nth",
            b"ree",
            b"\n",
        ]
    async with session.get(f"{API}/lines") as resp:
        assert [line async for line in resp.content] == [b"one\n", b"two\n", b"three\n"]
    async with session.get(f"{API}/lines") as resp:
        pass
    with pytest.raises(airhttp.ClientConnectionError):
        await resp.read()


async def test_a_body_given_as_chunks_arrives_one_http_chunk_at_a_time(
    session: airhttp.ClientSession, router: MockRouter
) -> None:
    router.get(f"{API}/events", body=[b"data: 1\n\n", "data: é\n\n", b"data: 3\n\n"])
    for _ in range(2):  # a list of chunks serves every answer whole
        async with session.get(f"{API}/events") as resp:
            assert resp.headers["Transfer-Encoding"] == "chunked"
            assert "Content-Length" not in resp.headers
            assert [piece async for piece in resp.content.iter_chunks()] == [
                (b"data: 1\n\n", True),
                ("data: é\n\n".encode(), True),
                (b"data: 3\n\n", True),
            ]
    async with session.get(f"{API}/events") as resp:
        assert await resp.text() == "data: 1\n\ndata: é\n\ndata: 3\n\n"


async def test_an_async_iterable_body_streams_as_it_is_produced(
    session: airhttp.ClientSession, router: MockRouter
) -> None:
    second = asyncio.Event()

    async def produce() -> AsyncIterator[bytes]:
        yield b"head arrived, "
        await second.wait()
        yield b"then the rest"

    router.get(f"{API}/live", body=produce())
    async with session.get(f"{API}/live") as resp:
        assert resp.status == 200
        assert await resp.content.readany() == b"head arrived, "
        second.set()
        assert await resp.content.read() == b"then the rest"
    # A generator is used up by one answer: a callback makes a fresh one for each.
    router.get(f"{API}/again", callback=lambda req: MockResponse(body=produce()))
    for _ in range(2):
        async with session.get(f"{API}/again") as resp:
            assert await resp.read() == b"head arrived, then the rest"


async def test_an_iterable_body_that_raises_fails_the_read_and_release_stops_it(
    session: airhttp.ClientSession, router: MockRouter
) -> None:
    async def cut() -> AsyncIterator[bytes]:
        yield b"part"
        raise airhttp.ClientPayloadError("cut short")

    async def endless() -> AsyncIterator[bytes]:
        while True:
            yield b"x" * 65536
            await asyncio.sleep(0)

    router.get(f"{API}/cut", body=cut())
    router.get(f"{API}/endless", body=endless())
    async with session.get(f"{API}/cut") as resp:
        with pytest.raises(airhttp.ClientPayloadError, match="cut short"):
            await resp.read()
    async with session.get(f"{API}/endless") as resp:
        assert len(await resp.content.readexactly(200000)) == 200000
    # Released: the endless producer was stopped (the leak check would see its task).


async def test_exceptions_are_raised_as_given(
    session: airhttp.ClientSession, router: MockRouter
) -> None:
    error = airhttp.ClientPayloadError("cut short")
    router.get(f"{API}/down", exception=airhttp.ServerDisconnectedError())
    router.get(f"{API}/slow", exception=asyncio.TimeoutError)
    router.get(f"{API}/mine", exception=error)
    with pytest.raises(airhttp.ServerDisconnectedError):
        await session.get(f"{API}/down")
    with pytest.raises(asyncio.TimeoutError):
        await session.get(f"{API}/slow")
    with pytest.raises(airhttp.ClientPayloadError) as raised:
        await session.get(f"{API}/mine")
    assert raised.value is error
    assert router.calls.last.exception is error


async def test_a_delay_longer_than_the_total_timeout_times_out(
    session: airhttp.ClientSession, router: MockRouter
) -> None:
    router.get(f"{API}/slow", delay=5, body="late")
    with pytest.raises(asyncio.TimeoutError):
        await session.get(f"{API}/slow", timeout=airhttp.ClientTimeout(total=0.05))


@pytest.mark.parametrize("timeout", [airhttp.SocketTimeoutError, airhttp.ConnectionTimeoutError])
async def test_retry_middleware_retries_a_mocked_per_attempt_timeout(
    router: MockRouter, timeout: type[Exception]
) -> None:
    route = router.get(f"{API}/flaky", exception=timeout).then(body="ok")
    async with airhttp.ClientSession(
        connector=NoSocketConnector(), middlewares=(airhttp.RetryMiddleware(backoff=0),)
    ) as session:
        async with session.get(f"{API}/flaky") as resp:
            assert await resp.text() == "ok"
    assert route.call_count == 2
    assert isinstance(route.calls[0].exception, timeout)


async def test_retry_middleware_does_not_retry_a_mocked_total_timeout(router: MockRouter) -> None:
    route = router.get(f"{API}/slow", exception=asyncio.TimeoutError).then(body="never")
    async with airhttp.ClientSession(
        connector=NoSocketConnector(), middlewares=(airhttp.RetryMiddleware(backoff=0),)
    ) as session:
        with pytest.raises(asyncio.TimeoutError) as raised:
            await session.get(f"{API}/slow")
    assert type(raised.value) is asyncio.TimeoutError
    assert route.call_count == 1


async def test_sync_and_async_callbacks_get_the_request(
    session: airhttp.ClientSession, router: MockRouter
) -> None:
    def sync_echo(req: ClientRequest) -> MockResponse:
        return MockResponse(json={"q": req.url.query["q"]})

    async def async_echo(req: ClientRequest) -> MockResponse:
        await asyncio.sleep(0)
        assert isinstance(req.body, airhttp.payload.Payload)
        return MockResponse(status=201, body=await req.body.as_bytes())

    seen: list[str] = []
    router.get(f"{API}/sync", params={"q": "1"}, callback=sync_echo)
    router.post(f"{API}/async", callback=async_echo)
    router.get(f"{API}/observe", body="default", callback=lambda req: seen.append(req.method))
    async with session.get(f"{API}/sync?q=1") as resp:
        assert await resp.json() == {"q": "1"}
    async with session.post(f"{API}/async", data=b"echo me") as resp:
        assert (resp.status, await resp.read()) == (201, b"echo me")
    async with session.get(f"{API}/observe") as resp:
        assert await resp.text() == "default"
    assert seen == ["GET"]


async def test_a_callback_may_raise_and_must_return_a_mock_response(
    session: airhttp.ClientSession, router: MockRouter
) -> None:
    def refuse(req: ClientRequest) -> None:
        raise airhttp.ClientOSError("refused")

    router.get(f"{API}/raise", callback=refuse)
    router.get(f"{API}/wrong", callback=lambda req: 200)  # type: ignore[arg-type,return-value]
    with pytest.raises(airhttp.ClientOSError, match="refused"):
        await session.get(f"{API}/raise")
    with pytest.raises(TypeError, match="MockResponse or None"):
        await session.get(f"{API}/wrong")


async def test_chained_answers_and_repeat_counts(
    session: airhttp.ClientSession, router: MockRouter
) -> None:
    route = router.get(f"{API}/flaky", status=503, repeat=2).then(status=500).then(body="ok")
    router.get(f"{API}/twice", body="a", repeat=2)
    router.get(f"{API}/twice", body="b")
    statuses = []
    for _ in range(5):
        async with session.get(f"{API}/flaky") as resp:
            statuses.append(resp.status)
    assert statuses == [503, 503, 500, 200, 200]
    assert route.call_count == 5 and not route.exhausted
    bodies = []
    for _ in range(4):
        async with session.get(f"{API}/twice") as resp:
            bodies.append(await resp.text())
    assert bodies == ["a", "a", "b", "b"]


async def test_a_used_up_route_takes_no_more_requests(
    session: airhttp.ClientSession, router: MockRouter
) -> None:
    route = router.get(f"{API}/once", body="x", repeat=1)
    async with session.get(f"{API}/once"):
        pass
    assert route.exhausted
    with pytest.raises(UnmatchedRequestError, match=r"used up, 1 call"):
        await session.get(f"{API}/once")
    router.reset()
    assert not route.exhausted and route.call_count == 0 and not router.unmatched
    with pytest.raises(ValueError, match="repeat"):
        router.get(f"{API}/never", repeat=0)


async def test_a_custom_response_class_answers(router: MockRouter) -> None:
    class Tagged(ClientResponse):
        tag = "mine"

    router.get(f"{API}/x", body="y")
    async with airhttp.ClientSession(
        connector=NoSocketConnector(), response_class=Tagged
    ) as session:
        async with session.get(f"{API}/x") as resp:
            assert isinstance(resp, Tagged) and await resp.text() == "y"


# --- recorded calls --------------------------------------------------------------------


async def _chunks() -> AsyncIterator[bytes]:
    yield b"stream"
    await asyncio.sleep(0)
    yield b"ed"


async def test_calls_record_method_url_headers_and_every_kind_of_body(
    session: airhttp.ClientSession, router: MockRouter, tmp_path: Path
) -> None:
    route = router.route("*", re.compile(rf"{re.escape(API)}/"), status=202)
    form = airhttp.FormData()
    form.add_field("name", "ann")
    form.add_field("file", b"data", filename="a.bin")
    path = tmp_path / "upload.txt"
    path.write_bytes(b"from a file")
    await session.post(f"{API}/bytes", data=b"raw", headers={"X-Trace": "t1"})
    await session.put(f"{API}/json", json={"k": [1, 2]})
    await session.post(f"{API}/form", data={"a": "1", "b": "two words"})
    await session.post(f"{API}/multipart", data=form)
    await session.post(f"{API}/stream", data=_chunks())
    with path.open("rb") as file:
        await session.post(f"{API}/file", data=file)
    await session.get(f"{API}/query", params={"q": "x"})
    bytes_call, json_call, form_call, multipart_call, stream_call, file_call, query_call = (
        route.calls
    )
    assert bytes_call.method == "POST" and bytes_call.body == b"raw"
    assert bytes_call.headers["X-Trace"] == "t1"
    assert bytes_call.headers["Content-Length"] == "3"
    assert json_call.json() == {"k": [1, 2]}
    assert json_call.headers["Content-Type"] == "application/json"
    assert dict(form_call.form()) == {"a": "1", "b": "two words"}
    assert b'name="name"\r\n\r\nann\r\n' in multipart_call.body
    assert b'filename="a.bin"' in multipart_call.body
    assert stream_call.body == b"streamed"
    assert file_call.body == b"from a file"
    assert query_call.params == {"q": "x"} and query_call.body == b""
    assert router.calls == route.calls
    assert isinstance(query_call.request, ClientRequest)
    assert query_call.response is not None and query_call.response.status == 202


async def test_mock_style_assertions_name_the_difference(
    session: airhttp.ClientSession, router: MockRouter
) -> None:
    route = router.post(f"{API}/orders?x=1", status=201)
    await session.post(f"{API}/orders?x=1", json={"id": 1}, headers={"X-Key": "k"})
    await session.post(f"{API}/orders?x=1", data={"id": "2"})
    route.assert_called()
    route.assert_any_call(method="post", json={"id": 1}, headers={"x-key": "k"}, params={"x": "1"})
    route.assert_called_with(f"{API}/orders?x=1", data={"id": "2"})
    router.assert_any_call(re.compile(".*/orders"), body=b'{"id": 1}')
    with pytest.raises(AssertionError, match=r"expected once"):
        route.assert_called_once()
    with pytest.raises(AssertionError, match=r"json: expected \{\'id\': 3\}, got \{\'id\': 1\}"):
        route.assert_any_call(json={"id": 3})
    with pytest.raises(AssertionError, match=r"header X-Key: expected 'k', got none"):
        route.assert_called_with(headers={"X-Key": "k"})
    with pytest.raises(AssertionError, match=r"was called 2 times, expected never"):
        router.calls.assert_not_called()
    with pytest.raises(AssertionError, match=r"url: expected"):
        route.calls.assert_called_with(f"{API}/orders")
    router.get(f"{API}/unused").assert_not_called()
    with pytest.raises(AssertionError, match=r"routes never called:\n  GET .*/unused"):
        router.assert_all_called()


# --- unmatched requests and passthrough -------------------------------------------------


async def test_an_unmatched_request_fails_like_a_dead_server_and_names_the_routes(
    session: airhttp.ClientSession,
) -> None:
    router = MockRouter()
    router.get(f"{API}/known", name="known")
    with router:
        with pytest.raises(airhttp.ClientConnectionError) as raised:
            await session.post(f"{API}/unknown?x=1")
        router.unmatched.clear()
    message = str(raised.value)
    assert isinstance(raised.value, UnmatchedRequestError)
    assert "no route takes POST http://api.test/unknown?x=1" in message
    assert "'known': GET http://api.test/known (active, 0 calls)" in message
    assert router["known"].url == URL(f"{API}/known")
    with (
        MockRouter(assert_all_matched=False),
        pytest.raises(UnmatchedRequestError, match="no routes are"),
    ):
        await session.get(API)


async def test_a_swallowed_unmatched_error_still_fails_on_exit(
    session: airhttp.ClientSession,
) -> None:
    async def fetch_or_none() -> bytes | None:
        try:
            async with session.get(f"{API}/missing") as resp:
                return await resp.read()
        except airhttp.ClientError:
            return None

    with pytest.raises(AssertionError, match=r"requests no route took: GET .*/missing"):
        async with MockRouter():
            assert await fetch_or_none() is None


async def test_passthrough_sends_unmatched_and_marked_requests_to_the_network(
    real_server: URL,
) -> None:
    async with airhttp.ClientSession() as session:
        with MockRouter(passthrough=True) as router:
            router.get(f"{API}/mocked", body="mocked")
            real = router.post(real_server / "real", passthrough=True)
            async with session.get(f"{API}/mocked") as resp:
                assert await resp.text() == "mocked"
            async with session.get(real_server.with_path("/free").with_query(x=1)) as resp:
                assert (await resp.json())["path"] == "/free?x=1"
            async with session.post(real_server / "real", data=_chunks()) as resp:
                assert await resp.json() == {"method": "POST", "path": "/real", "body": "streamed"}
    assert real.calls.last.body == b"streamed"
    assert real.calls.last.response is not None and real.calls.last.response.status == 200
    assert [call.route for call in router.calls][1] is None


async def test_passthrough_of_an_unseekable_file_sends_what_was_recorded(
    real_server: URL,
) -> None:
    class Unseekable(io.BytesIO):
        def seekable(self) -> bool:
            return False

    async with airhttp.ClientSession() as session:
        with MockRouter(passthrough=True) as router:
            async with session.post(real_server / "f", data=Unseekable(b"once")) as resp:
                assert (await resp.json())["body"] == "once"
    assert router.calls.last.body == b"once"


async def test_a_mocked_url_opens_no_connection_a_passed_through_one_does(
    real_server: URL,
) -> None:
    created: list[object] = []

    async def on_create(session: Any, ctx: Any, params: Any) -> None:
        created.append(params)

    trace = airhttp.TraceConfig()
    trace.on_connection_create_end.append(on_create)
    async with airhttp.ClientSession(trace_configs=[trace]) as session:
        with MockRouter(passthrough=True) as router:
            router.get(real_server / "mocked", body="no socket")
            async with session.get(real_server / "mocked") as resp:
                assert await resp.text() == "no socket"
            assert created == []
            async with session.get(real_server / "other") as resp:
                await resp.read()
    assert len(created) == 1


# --- the session around the router ------------------------------------------------------


async def test_redirects_are_followed_through_mocked_answers(
    session: airhttp.ClientSession, router: MockRouter
) -> None:
    router.post(f"{API}/start", status=303, headers={"Location": "/middle"})
    router.get(f"{API}/middle", status=302, headers={"Location": "http://other.test/end"})
    router.get("http://other.test/end", body="arrived")
    async with session.post(f"{API}/start", data=b"form") as resp:
        assert await resp.text() == "arrived"
        assert resp.url == URL("http://other.test/end")
        assert [r.status for r in resp.history] == [303, 302]
    assert [call.method for call in router.calls] == ["POST", "GET", "GET"]
    async with session.post(f"{API}/start", allow_redirects=False) as resp:
        assert resp.status == 303


async def test_mocked_set_cookie_reaches_the_jar_and_the_next_request(
    session: airhttp.ClientSession, router: MockRouter
) -> None:
    router.post(f"{API}/login", headers={"Set-Cookie": "sid=abc; Path=/"}, repeat=1)
    me = router.get(f"{API}/me", body="me")
    async with session.post(f"{API}/login") as resp:
        assert resp.cookies["sid"].value == "abc"
    assert session.cookie_jar.filter_cookies(URL(API))["sid"].value == "abc"
    await session.get(f"{API}/me")
    me.assert_called_once_with(headers={"Cookie": "sid=abc"})


async def test_raise_for_status_applies_to_mocked_answers(router: MockRouter) -> None:
    router.get(f"{API}/missing", status=404, repeat=None)
    async with airhttp.ClientSession(
        connector=NoSocketConnector(), raise_for_status=True
    ) as session:
        with pytest.raises(airhttp.ClientResponseError) as raised:
            await session.get(f"{API}/missing")
        assert raised.value.status == 404
        async with session.get(f"{API}/missing", raise_for_status=False) as resp:
            assert resp.status == 404


async def test_the_sessions_middlewares_run_around_the_router(router: MockRouter) -> None:
    seen: list[int] = []

    async def retry_once(req: ClientRequest, handler: Any) -> ClientResponse:
        resp = await handler(req)
        seen.append(resp.status)
        if resp.status == 503:
            resp.release()
            resp = await handler(req)
            seen.append(resp.status)
        return resp

    router.get(f"{API}/flaky", status=503).then(body="ok")
    async with airhttp.ClientSession(
        connector=NoSocketConnector(), middlewares=(retry_once,)
    ) as session:
        async with session.get(f"{API}/flaky") as resp:
            assert await resp.text() == "ok"
        assert seen == [503, 200]
        async with session.get(f"{API}/flaky", middlewares=()) as resp:
            assert await resp.text() == "ok"
    assert seen == [503, 200]


async def test_digest_auth_answers_a_mocked_challenge(router: MockRouter) -> None:
    challenge = 'Digest realm="api", nonce="n1", qop="auth", algorithm=MD5'
    route = router.get(f"{API}/secret", status=401, headers={"WWW-Authenticate": challenge}).then(
        body="secret"
    )
    async with airhttp.ClientSession(
        connector=NoSocketConnector(), middlewares=(DigestAuthMiddleware("u", "p"),)
    ) as session:
        async with session.get(f"{API}/secret") as resp:
            assert await resp.text() == "secret"
    first, second = route.calls
    assert "Authorization" not in first.headers
    assert second.headers["Authorization"].startswith('Digest username="u", realm="api"')


async def test_tracing_reports_mocked_requests_start_and_end(router: MockRouter) -> None:
    events: list[tuple[str, Any]] = []

    async def on_start(session: Any, ctx: Any, params: Any) -> None:
        events.append(("start", params.url))

    async def on_end(session: Any, ctx: Any, params: Any) -> None:
        events.append(("end", params.response.status))

    trace = airhttp.TraceConfig()
    trace.on_request_start.append(on_start)
    trace.on_request_end.append(on_end)
    router.get(f"{API}/t", status=207)
    async with airhttp.ClientSession(
        connector=NoSocketConnector(), trace_configs=[trace]
    ) as session:
        async with session.get(f"{API}/t"):
            pass
    assert events == [("start", URL(f"{API}/t")), ("end", 207)]

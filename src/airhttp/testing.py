"""Mock HTTP in the tests of code that uses airhttp: routes, canned answers, recorded calls.

While a MockRouter is active, every ClientSession's requests pass through it, innermost
in the middleware chain; what it answers opens no connection. Also the pytest plugin
(the `airhttp_mock` fixture). The library itself never imports this module.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

from yarl import URL

from . import hdrs
from ._client_response import record_upload
from ._mock_calls import Call, CallAssertions, CallList
from ._mock_hook import ACTIVE
from ._mock_routes import (
    Chunks,
    MockResponse,
    QueryMatch,
    ResponseOptions,
    Route,
    RouteOptions,
    UrlPattern,
)
from .client_exceptions import ClientConnectionError
from .payload import IOBasePayload

if sys.version_info >= (3, 11):
    from typing import Unpack
elif TYPE_CHECKING:
    from typing_extensions import Unpack

if TYPE_CHECKING:
    from .client_reqrep import ClientHandlerType, ClientRequest, ClientResponse

__all__ = (
    "Call",
    "CallList",
    "Chunks",
    "MockResponse",
    "MockRouter",
    "QueryMatch",
    "ResponseOptions",
    "Route",
    "RouteOptions",
    "UnmatchedRequestError",
)

_F = TypeVar("_F", bound=Callable[..., Any])


async def _body_of(req: ClientRequest) -> bytes:
    """The whole request body, leaving it sendable (as_bytes keeps streamed chunks)."""
    body = req.body
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    return await body.as_bytes()


async def _send_on(req: ClientRequest, handler: ClientHandlerType, call: Call) -> ClientResponse:
    """Pass `req` to the next handler: an older router, or the network."""
    body = req.body
    if isinstance(body, IOBasePayload) and not body.rewindable:
        # Reading it for the call used the file up: send the bytes read instead.
        await req.update_body(call.body)
    try:
        response = await handler(req)
    except BaseException as exc:
        call.exception = exc
        raise
    call.response = response
    return response


def _store_cookies(req: ClientRequest, response: ClientResponse) -> None:
    # The attempt stores the cookies of a real answer; a mocked one never reaches it.
    set_cookies = response.headers.getall(hdrs.SET_COOKIE, ())
    session = req.session
    if set_cookies and session is not None:
        session.cookie_jar.update_cookies_from_headers(set_cookies, response.url)


class UnmatchedRequestError(ClientConnectionError):
    """An active MockRouter saw a request that no route takes (and passthrough is off).

    A connection error on purpose: code under test meets it where it would meet a
    server that is not there, and takes the error path it has for that.
    """


class MockRouter(CallAssertions):
    """Routes for mocked requests; active inside `with`/`async with`, or as a decorator.

    While active it answers the requests of every ClientSession (also those made before
    it started, and requests with their own `middlewares=`). A request no route takes
    raises UnmatchedRequestError, or goes on to the network with `passthrough=True`.
    Routers nest: the newest is asked first, and what it passes on reaches the older.

    On a clean exit it checks, when asked: `assert_all_called` (every route was called)
    and `assert_all_matched` (no request went unmatched, even if the code swallowed
    the error).
    """

    def __init__(
        self,
        *,
        base_url: str | URL | None = None,
        passthrough: bool = False,
        assert_all_called: bool = False,
        assert_all_matched: bool = True,
    ) -> None:
        self._base_url = None if base_url is None else URL(base_url)
        self.passthrough = passthrough
        self._assert_all_called = assert_all_called
        self._assert_all_matched = assert_all_matched
        self.routes: list[Route] = []
        # Every request the router saw, in order; `unmatched` the ones it refused.
        self.calls = CallList()
        self.unmatched = CallList()
        # Bound once: the same object goes into the active list and comes out again.
        self._middleware = self._handle
        self._active = False

    # --- registering routes ---------------------------------------------------------------

    def route(self, method: str, url: UrlPattern, **options: Unpack[RouteOptions]) -> Route:
        """Register a route for `method` ("*" for any) and `url`; see RouteOptions."""
        base = self._base_url
        if base is not None and isinstance(url, (str, URL)):
            relative = URL(url)
            if not (relative.absolute and relative.scheme):
                url = base.join(relative)
        route = Route(method, url, options)
        self.routes.append(route)
        return route

    def get(self, url: UrlPattern, **options: Unpack[RouteOptions]) -> Route:
        return self.route(hdrs.METH_GET, url, **options)

    def post(self, url: UrlPattern, **options: Unpack[RouteOptions]) -> Route:
        return self.route(hdrs.METH_POST, url, **options)

    def put(self, url: UrlPattern, **options: Unpack[RouteOptions]) -> Route:
        return self.route(hdrs.METH_PUT, url, **options)

    def patch(self, url: UrlPattern, **options: Unpack[RouteOptions]) -> Route:
        return self.route(hdrs.METH_PATCH, url, **options)

    def delete(self, url: UrlPattern, **options: Unpack[RouteOptions]) -> Route:
        return self.route(hdrs.METH_DELETE, url, **options)

    def head(self, url: UrlPattern, **options: Unpack[RouteOptions]) -> Route:
        return self.route(hdrs.METH_HEAD, url, **options)

    def options(self, url: UrlPattern, **options: Unpack[RouteOptions]) -> Route:
        return self.route(hdrs.METH_OPTIONS, url, **options)

    def __getitem__(self, name: str) -> Route:
        """The route registered with `name=`."""
        for route in self.routes:
            if route.name == name:
                return route
        raise KeyError(name)

    # --- answering ------------------------------------------------------------------------

    async def _handle(self, req: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        """The middleware: answer `req` from the first route that takes it."""
        body = await _body_of(req)
        route = next((route for route in self.routes if route.matches(req, body)), None)
        call = Call(req, body, route)
        if route is None:
            if not self.passthrough:
                self.unmatched.append(call)
                raise UnmatchedRequestError(self._unmatched_message(req))
            self.calls.append(call)
            return await _send_on(req, handler, call)
        self.calls.append(call)
        route.calls.append(call)
        if route.passthrough:
            return await _send_on(req, handler, call)
        # The route took the body whole before it answers, whatever the answer: the
        # upload tracker sees one attempt that sent it all.
        req.answered_in_memory(len(body))
        step = route.take()
        try:
            response = await step.answer(req)
        except BaseException as exc:
            call.exception = exc
            raise
        # output_size (deprecated): the body's bytes; no head was written anywhere.
        record_upload(response, None, len(body))
        call.response = response
        _store_cookies(req, response)
        return response

    def _unmatched_message(self, req: ClientRequest) -> str:
        if self.routes:
            listed = "\n".join(f"  {route!r}" for route in self.routes)
            routes = f"registered routes:\n{listed}"
        else:
            routes = "no routes are registered"
        return (
            f"airhttp.testing: no route takes {req.method} {req.url} "
            f"(register one, or use passthrough=True to send it to the network); {routes}"
        )

    # --- activation -----------------------------------------------------------------------

    @property
    def active(self) -> bool:
        return self._active

    def start(self) -> MockRouter:
        """Answer requests from now on (what `with` does on entry).

        Each activation starts afresh (`reset()`): no calls, every route's answers from
        the first. The routes stay registered, so one router serves many runs.
        """
        if self._active:
            raise RuntimeError("this MockRouter is already active")
        self.reset()
        ACTIVE.insert(0, self._middleware)
        self._active = True
        return self

    def stop(self) -> None:
        """Stop answering: requests go to the network again (or to an older router)."""
        if self._active:
            ACTIVE.remove(self._middleware)
            self._active = False

    def verify(self) -> None:
        """Raise AssertionError for what the router was asked to check on exit."""
        if self._assert_all_matched and self.unmatched:
            listed = ", ".join(f"{call.method} {call.url}" for call in self.unmatched)
            raise AssertionError(f"requests no route took: {listed}")
        if self._assert_all_called:
            self.assert_all_called()

    def assert_all_called(self) -> None:
        """Every registered route was called at least once."""
        uncalled = [route for route in self.routes if not route.called]
        if uncalled:
            listed = "\n".join(f"  {route.describe()}" for route in uncalled)
            raise AssertionError(f"routes never called:\n{listed}")

    def reset(self) -> None:
        """Forget every call, and start each route's answers over."""
        self.calls.clear()
        self.unmatched.clear()
        for route in self.routes:
            route.reset()

    def __enter__(self) -> MockRouter:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if exc_type is None:
            self.verify()

    async def __aenter__(self) -> MockRouter:
        return self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def __call__(self, func: _F) -> _F:
        """Decorate a function (sync or async): the router is active while it runs."""
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with self:
                    return await func(*args, **kwargs)

            return cast(_F, run_async)

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return cast(_F, run)

    # --- assertions over every call -------------------------------------------------------

    def _asserted_calls(self) -> list[Call]:
        return self.calls

    def _what(self) -> str:
        return "the router"

    def __repr__(self) -> str:
        state = "active" if self._active else "inactive"
        return f"<MockRouter {state}, {len(self.routes)} routes, {len(self.calls)} calls>"


# --- the pytest plugin (entry point "airhttp" in the pytest11 group) ----------------------

try:
    import pytest
except ImportError:  # without pytest only the fixture is missing
    pass
else:

    def pytest_configure(config: pytest.Config) -> None:
        config.addinivalue_line(
            "markers", "airhttp_mock(**options): MockRouter options for the airhttp_mock fixture"
        )

    @pytest.fixture
    def airhttp_mock(request: pytest.FixtureRequest) -> Iterator[MockRouter]:
        """A MockRouter active for one test, checked at its end (`verify`).

        `assert_all_called` is on unless `@pytest.mark.airhttp_mock(...)` says otherwise;
        the marker's keywords are the MockRouter's. A test that failed is not checked.
        """
        marker = request.node.get_closest_marker("airhttp_mock")
        options: dict[str, Any] = {"assert_all_called": True}
        if marker is not None:
            options.update(marker.kwargs)
        router = MockRouter(**options)
        # pytest counts a failed call phase before the teardown runs: a test that
        # failed already should not also fail for the routes it never got to.
        failed_before = request.session.testsfailed
        router.start()
        try:
            yield router
        finally:
            router.stop()
        if request.session.testsfailed == failed_before:
            router.verify()

"""One request across its redirect hops: its state, and the steps that need no session.

Following a redirect (RFC 9110 15.4), handing the final response over and cleaning up
after a failure. The session's own steps (credentials, cookies, building each
ClientRequest) stay in `client`; nothing here opens connections or writes bytes.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Final
from urllib.request import proxy_bypass

from multidict import CIMultiDict, istr
from yarl import URL

from . import hdrs
from ._attempt import send_attempt
from ._client_request import ClientRequest
from ._client_response import ClientResponse
from ._redirects import redirect_becomes_get, redirect_target, replayable_body
from ._request_timer import RequestTimer
from ._socks_proxy import env_socks_proxy
from ._upload_tracker import finish as finish_tracker
from ._ws_handshake import make_key
from .client_exceptions import TooManyRedirects
from .cookiejar import request_cookies
from .helpers import BasicAuth, basicauth_from_netrc, get_env_proxy_for_url, netrc_from_env
from .payload import JsonBytesPayload, JsonPayload, Payload, needs_close
from .tracing import Trace

if TYPE_CHECKING:
    import ssl

    from ._pool import BaseConnector
    from ._reqrep_types import Fingerprint
    from ._settings import RequestSettings
    from ._upload_tracker import UploadTracker
    from .abc import AbstractCookieJar

__all__ = (
    "NO_TRACES",
    "RequestState",
    "body_from",
    "cookies_for",
    "fail",
    "finish",
    "follow_redirect",
    "env_proxy",
    "netrc_auth",
)

NO_TRACES: Final[tuple[Trace, ...]] = ()


class RequestState:
    """One call of ClientSession._request, across its redirect hops.

    The first group of fields is fixed for the call; the second is what a redirect
    changes (method, URL, body, credentials, cookies) and the responses so far.
    """

    __slots__ = (
        "auth",
        "chunked",
        "compress",
        "connector",
        "cookie_jar",
        "cookies",
        "data",
        "expect100",
        "headers",
        "history",
        "method",
        "params",
        "proxy",
        "proxy_auth",
        "proxy_headers",
        "retry",
        "server_hostname",
        "settings",
        "skip_headers",
        "ssl",
        "timer",
        "traces",
        "upload_tracker",
        "url",
    )

    def __init__(
        self,
        connector: BaseConnector,
        cookie_jar: AbstractCookieJar,
        retry: bool,
        settings: RequestSettings,
        method: str,
        url: URL,
        params: Any,
        headers: CIMultiDict[str],
        data: Any,
        auth: BasicAuth | None,
        cookies: Any,
    ) -> None:
        self.connector = connector
        self.cookie_jar = cookie_jar
        self.retry = retry
        self.settings = settings
        self.method = method
        self.url = url
        self.params = params
        self.headers = headers
        self.data = data
        self.auth = auth
        self.cookies = cookies
        self.history: list[ClientResponse] = []
        self.traces: Sequence[Trace] = NO_TRACES
        self.timer: RequestTimer | None = None
        self.upload_tracker: UploadTracker | None = None

    # Declared for the type checker; _request sets them right after construction.
    chunked: bool | None
    compress: str | bool | None
    expect100: bool
    proxy: URL | None
    proxy_auth: BasicAuth | None
    proxy_headers: Any
    server_hostname: str | None
    skip_headers: Iterable[istr] | None
    ssl: ssl.SSLContext | bool | Fingerprint

    def attempt(self, req: ClientRequest) -> Awaitable[ClientResponse]:
        """Send one hop's request: the innermost handler of the middleware chain."""
        return send_attempt(
            req,
            self.connector,
            self.traces,
            self.settings,
            self.timer,
            cookie_jar=self.cookie_jar,
            retry=self.retry,
        )

    def target(self) -> URL:
        """The URL of the current hop with its query, as tracing reports it."""
        return self.url.update_query(self.params)


async def follow_redirect(
    state: RequestState,
    req: ClientRequest,
    resp: ClientResponse,
    max_redirects: int,
    requote: bool,
) -> bool:
    """Turn `state` into the hop `resp` redirects to (RFC 9110 15.4); False if none."""
    for trace in state.traces:
        await trace.send_request_redirect(state.method, state.target(), state.headers, resp)
    history = state.history
    history.append(resp)
    if max_redirects and len(history) >= max_redirects:
        resp.release()
        raise TooManyRedirects(history[0].request_info, tuple(history))
    headers = state.headers
    if redirect_becomes_get(resp.status, resp.method):
        state.method = hdrs.METH_GET
        state.data = None
        await req.close_body()
        if headers.get(hdrs.CONTENT_LENGTH):
            headers.pop(hdrs.CONTENT_LENGTH)
        headers.popall(hdrs.CONTENT_TYPE, None)
    elif state.data is not None:
        state.data = replayable_body(req.body, state.data)
    try:
        target = redirect_target(resp, state.url, requote)
    except BaseException:
        # A Location that cannot be followed: the redirect's connection goes back now.
        resp.release()
        raise
    if target is None:
        # No location to go to: this response is the answer.
        return False
    if state.url.origin() != target.origin():
        # Credentials stay with the origin they were given for.
        state.auth = None
        state.cookies = None
        headers.pop(hdrs.AUTHORIZATION, None)
        headers.pop(hdrs.COOKIE, None)
        headers.pop(hdrs.PROXY_AUTHORIZATION, None)
    state.url = target
    state.params = {}
    if hdrs.SEC_WEBSOCKET_KEY in headers:
        # A WebSocket upgrade sends a fresh key on every hop, as aiohttp does.
        headers[hdrs.SEC_WEBSOCKET_KEY] = make_key()
    resp.release()
    return True


def finish(
    state: RequestState,
    req: ClientRequest,
    resp: ClientResponse,
    raise_for_status: bool | Callable[[ClientResponse], Awaitable[None]],
) -> Awaitable[None] | None:
    """Hand the final response over: timer, raise_for_status, body, history, trace.

    Returns what is left to await (a callable raise_for_status, closing a file body,
    on_request_end), or None: the common response needs no extra coroutine.
    """
    tracker = state.upload_tracker
    if tracker is not None:
        req.when_uploaded(partial(finish_tracker, tracker))
    timer = state.timer
    if timer is not None:
        # From here the timer covers only reading the body on this connection; an
        # upgraded connection (101) has no body and lives as long as its user wants.
        connection = resp.connection
        if connection is not None and resp.status != 101:
            connection.add_callback(timer.cancel)
        else:
            timer.cancel()
    body = req.body
    if (
        callable(raise_for_status)
        or state.traces
        # bytes first: an ABC isinstance() check costs a Python-level call per request.
        or (type(body) is not bytes and isinstance(body, Payload) and needs_close(body))
    ):
        return _finish_awaiting(state, req, resp, raise_for_status)
    if raise_for_status:
        resp.raise_for_status()
    if state.history:
        resp.history = tuple(state.history)
    return None


async def _finish_awaiting(
    state: RequestState,
    req: ClientRequest,
    resp: ClientResponse,
    raise_for_status: bool | Callable[[ClientResponse], Awaitable[None]],
) -> None:
    if callable(raise_for_status):
        try:
            await raise_for_status(resp)
        except BaseException:
            resp.release()
            raise
    elif raise_for_status:
        resp.raise_for_status()
    body = req.body
    if isinstance(body, Payload) and needs_close(body):
        await req.close_body()
    resp.history = tuple(state.history)
    for trace in state.traces:
        await trace.send_request_end(state.method, state.target(), state.headers, resp)


async def fail(state: RequestState, req: ClientRequest | None, exc: BaseException) -> BaseException:
    """Clean up after `exc`; return what the caller sees (a timeout, for our cancel)."""
    tracker = state.upload_tracker
    if tracker is not None:
        if req is None:
            finish_tracker(tracker, False)
        else:
            req.when_uploaded(partial(finish_tracker, tracker))
    if req is not None:
        await req.close_body()
    raised = exc
    timer = state.timer
    if timer is not None:
        timer.cancel()
        if timer.fired and isinstance(exc, asyncio.CancelledError) and timer.take_back_cancel():
            # The total timeout cancelled us (while connecting, or in a middleware):
            # that is a timeout to the caller, not a cancel.
            raised = asyncio.TimeoutError()
    for trace in state.traces:
        await trace.send_request_exception(state.method, state.target(), state.headers, raised)
    return raised


def cookies_for(state: RequestState) -> Any:
    """The jar's cookies for the hop's URL, plus the request's own."""
    url = state.url
    jar = state.cookie_jar
    all_cookies = jar.filter_cookies(url)
    if state.cookies is not None:
        own_cookies = request_cookies(state.cookies, url, jar)
        if own_cookies:
            all_cookies.load(own_cookies)
    return all_cookies


def netrc_auth(url: URL) -> BasicAuth | None:
    """Credentials for the URL's host from .netrc ($NETRC, ~/.netrc), if any."""
    host = url.host
    if host is None:
        return None
    try:
        return basicauth_from_netrc(netrc_from_env(), host)
    except LookupError:
        return None


def env_proxy(url: URL) -> tuple[URL | None, BasicAuth | None]:
    """The environment's proxy for `url` (trust_env): *_PROXY by scheme, NO_PROXY, then
    a SOCKS ALL_PROXY for what has no variable of its own."""
    try:
        return get_env_proxy_for_url(url)
    except LookupError:
        if url.host is not None and proxy_bypass(url.host):
            return None, None
    found = env_socks_proxy()
    return (None, None) if found is None else found


def body_from(
    data: Any,
    json: Any,
    chunked: bool | None,
    dumps: Callable[[Any], str],
    dumps_bytes: Callable[[Any], bytes] | None,
) -> Any:
    """The request body: `data`, or `json` serialized; refuses both at once."""
    if data is not None and json is not None:
        raise ValueError("data and json parameters can not be used at the same time")
    if not isinstance(chunked, bool) and chunked is not None:
        # stacklevel 3: the caller of ClientSession._request, as from the session itself.
        warnings.warn("Chunk size is deprecated #1615", DeprecationWarning, stacklevel=3)
    if json is not None:
        if dumps_bytes is not None:
            # aiohttp 3.14: the bytes serializer wins when both are given.
            return JsonBytesPayload(json, dumps=dumps_bytes)
        return JsonPayload(json, dumps=dumps)
    return data

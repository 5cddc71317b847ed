"""ClientSession and the one-shot request(): user arguments in, responses out.

The session turns arguments into requests, runs them through middlewares, follows
redirects and keeps cookies. Wire work (connections, bytes) is below it.
"""

from __future__ import annotations

import asyncio
import json
import sys
import warnings
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from multidict import CIMultiDict, istr
from yarl import URL

from . import client_exceptions, hdrs
from ._client_request import ClientRequest
from ._client_response import ClientResponse
from ._httpversion import HttpVersion, HttpVersion11
from ._mock_hook import ACTIVE as ACTIVE_MOCKS
from ._pool import SSL_SHUTDOWN_DEPRECATED, BaseConnector
from ._redirects import REDIRECT_CODES
from ._reqrep_types import Fingerprint
from ._request_context import (
    _RequestContextManager,
    _RequestOptions,
    _SessionRequestContextManager,
    _WSRequestContextManager,
)
from ._request_state import (
    RequestState,
    body_from,
    cookies_for,
    env_proxy,
    fail,
    finish,
    follow_redirect,
    netrc_auth,
)
from ._request_timer import RequestTimer, SharedDeadlines
from ._settings import RequestSettings
from ._ssl_params import merge_ssl_params
from ._timeouts import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from ._timeouts import UNSET, ClientTimeout, request_timeout, session_timeout
from ._upload_tracker import UploadTracker
from ._upload_tracker import bind as bind_tracker
from ._upload_tracker import finish as finish_tracker
from ._ws_deflate import ws_ext_gen as ws_ext_gen
from ._ws_deflate import ws_ext_parse as ws_ext_parse
from ._ws_frames import WebSocketReader as WebSocketReader
from ._ws_handshake import make_key, request_headers
from ._ws_writer import WebSocketWriter as WebSocketWriter
from .abc import AbstractCookieJar
from .client_exceptions import *  # noqa: F403  (aiohttp.client re-exports every one)
from .client_exceptions import (
    InvalidUrlClientError,
    InvalidUrlRedirectClientError,
    NonHttpUrlClientError,
    TooManyRedirects,
)
from .client_middlewares import ClientMiddlewareType, build_client_middlewares
from .client_reqrep import RequestInfo
from .client_ws import (
    DEFAULT_WS_CLIENT_TIMEOUT,
    ClientWebSocketResponse,
    ClientWSTimeout,
    shutdown_all,
    upgrade,
    ws_timeout_from,
)
from .connector import HTTP_AND_EMPTY_SCHEMA_SET as HTTP_AND_EMPTY_SCHEMA_SET
from .connector import NamedPipeConnector, TCPConnector, UnixConnector
from .cookiejar import CookieJar
from .helpers import DEBUG as DEBUG
from .helpers import DEFAULT_CHUNK_SIZE as DEFAULT_CHUNK_SIZE
from .helpers import EMPTY_BODY_METHODS as EMPTY_BODY_METHODS
from .helpers import IDEMPOTENT_METHODS as IDEMPOTENT_METHODS
from .helpers import BasicAuth, strip_auth_from_url
from .helpers import TimeoutHandle as TimeoutHandle
from .helpers import basicauth_from_netrc as basicauth_from_netrc
from .helpers import get_env_proxy_for_url as get_env_proxy_for_url
from .helpers import netrc_from_env as netrc_from_env
from .helpers import sentinel as sentinel
from .http_websocket import WS_KEY as WS_KEY
from .http_websocket import WSHandshakeError as WSHandshakeError
from .tracing import Trace, TraceConfig
from .typedefs import JSONBytesEncoder as JSONBytesEncoder
from .typedefs import JSONEncoder as JSONEncoder
from .typedefs import LooseCookies as LooseCookies
from .typedefs import LooseHeaders as LooseHeaders
from .typedefs import Query as Query
from .typedefs import StrOrURL as StrOrURL

if sys.version_info >= (3, 11):
    from typing import Unpack
elif TYPE_CHECKING:
    from typing_extensions import Unpack

if TYPE_CHECKING:
    import ssl

__all__ = [
    "BaseConnector",
    "ClientRequest",
    "ClientResponse",
    "ClientSession",
    "ClientTimeout",
    "ClientWSTimeout",
    "ClientWebSocketResponse",
    "Fingerprint",
    "NamedPipeConnector",
    "RequestInfo",
    "TCPConnector",
    "TooManyRedirects",
    "UnixConnector",
    "UploadTracker",
    "request",
]
__all__ += client_exceptions.__all__

_HTTP_SCHEMES: Final = frozenset({"http", "https"})
_WS_SCHEMES: Final = frozenset({"ws", "wss"})
_ALL_SCHEMES: Final = _HTTP_SCHEMES | _WS_SCHEMES
_URL_CACHE_SIZE: Final = 256
# Refused inside a request URL string (leading and trailing whitespace is stripped first).
_CONTROLS: Final = frozenset("\r\n\x00")
_CONTROLS_IN_URL: Final = "carriage return, line feed or NUL character in the URL"
_SENTINEL: Final[Any] = UNSET


class ClientSession:
    """A pool of connections plus shared defaults: the way to make requests."""

    _connector: BaseConnector | None = None

    def __init__(
        self,
        base_url: str | URL | None = None,
        *,
        connector: BaseConnector | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        cookies: Any = None,
        headers: Any = None,
        proxy: str | URL | None = None,
        proxy_auth: BasicAuth | None = None,
        skip_auto_headers: Iterable[str] | None = None,
        auth: BasicAuth | None = None,
        json_serialize: Callable[[Any], str] = json.dumps,
        json_serialize_bytes: Callable[[Any], bytes] | None = None,
        request_class: type[ClientRequest] = ClientRequest,
        response_class: type[ClientResponse] = ClientResponse,
        ws_response_class: type[ClientWebSocketResponse] = ClientWebSocketResponse,
        version: HttpVersion = HttpVersion11,
        cookie_jar: AbstractCookieJar | None = None,
        connector_owner: bool = True,
        raise_for_status: bool | Callable[[ClientResponse], Awaitable[None]] = False,
        read_timeout: float | Any = _SENTINEL,
        conn_timeout: float | None = None,
        timeout: ClientTimeout | Any = _SENTINEL,
        auto_decompress: bool = True,
        trust_env: bool = False,
        requote_redirect_url: bool = True,
        trace_configs: list[TraceConfig] | None = None,
        read_bufsize: int = 2**16,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        fallback_charset_resolver: Callable[[ClientResponse, bytes], str] = (lambda r, b: "utf-8"),
        middlewares: Sequence[ClientMiddlewareType] = (),
        ssl_shutdown_timeout: float | Any | None = _SENTINEL,
    ) -> None:
        # Arguments are checked before a connector exists, so a refused session
        # leaves nothing open behind it (and no "Unclosed" warning at GC).
        self._connector = None
        self._set_base_url(base_url)
        self._settings = RequestSettings(
            timeout=session_timeout(timeout, read_timeout, conn_timeout),
            read_bufsize=read_bufsize, auto_decompress=auto_decompress,
            max_line_size=max_line_size, max_field_size=max_field_size, max_headers=max_headers,
        )  # fmt: skip
        if ssl_shutdown_timeout is not _SENTINEL:
            warnings.warn(SSL_SHUTDOWN_DEPRECATED, DeprecationWarning, stacklevel=2)
        loop, connector = self._bind_connector(loop, connector, ssl_shutdown_timeout)
        self._loop = loop
        self._cookie_jar = jar = cookie_jar if cookie_jar is not None else CookieJar(loop=loop)
        if cookies:
            jar.update_cookies(cookies)
        self._connector = connector
        self._connector_owner = connector_owner
        self._default_auth = auth
        self._version = version
        self._json_serialize = json_serialize
        self._json_serialize_bytes = json_serialize_bytes
        self._raise_for_status = raise_for_status
        self._trust_env = trust_env
        self._requote_redirect_url = requote_redirect_url
        self._default_headers: CIMultiDict[str] = CIMultiDict(headers) if headers else CIMultiDict()
        self._skip_auto_headers: frozenset[istr] = (
            frozenset(istr(i) for i in skip_auto_headers) if skip_auto_headers else frozenset()
        )
        self._request_class = request_class
        self._response_class = response_class
        self._ws_response_class = ws_response_class
        self._websockets: weakref.WeakSet[ClientWebSocketResponse] = weakref.WeakSet()
        self._trace_configs = trace_configs or []
        for trace_config in self._trace_configs:
            trace_config.freeze()
        # Asked by ClientResponse.get_encoding(); a plain attribute: every response reads it.
        self.fallback_charset_resolver = fallback_charset_resolver
        self._default_proxy = None if proxy is None else URL(proxy)
        self._default_proxy_auth = proxy_auth
        self._retry_connection = True
        self._middlewares = middlewares
        self._url_cache: dict[str, URL] = {}
        self._deadlines = SharedDeadlines(self._loop)

    def _set_base_url(self, base_url: str | URL | None) -> None:
        if base_url is None:
            self._base_url: URL | None = None
            self._base_url_origin: URL | None = None
            return
        base = base_url if isinstance(base_url, URL) else URL(base_url)
        self._base_url = base
        self._base_url_origin = base.origin()
        if not base.path.endswith("/"):
            raise ValueError("base_url must have a trailing '/'")

    @staticmethod
    def _bind_connector(
        loop: asyncio.AbstractEventLoop | None,
        connector: BaseConnector | None,
        ssl_shutdown_timeout: Any,
    ) -> tuple[asyncio.AbstractEventLoop, BaseConnector]:
        """The session's loop and connector: a given connector's loop, else the running one."""
        if loop is None:
            loop = connector.event_loop if connector is not None else asyncio.get_running_loop()
        elif connector is not None and connector.event_loop is not loop:
            raise RuntimeError("Session and connector has to use same event loop")
        if connector is None:
            if ssl_shutdown_timeout is _SENTINEL:
                connector = TCPConnector(loop=loop)
            else:
                connector = TCPConnector(loop=loop, ssl_shutdown_timeout=ssl_shutdown_timeout)
        return loop, connector

    def __init_subclass__(cls: type[ClientSession]) -> None:
        warnings.warn(
            f"Inheritance class {cls.__name__} from ClientSession is discouraged",
            DeprecationWarning,
            stacklevel=2,
        )

    def __del__(self, _warnings: Any = warnings) -> None:
        if not self.closed:
            _warnings.warn(f"Unclosed client session {self!r}", ResourceWarning, source=self)
            context = {"client_session": self, "message": "Unclosed client session"}
            if not self._loop.is_closed():
                self._loop.call_exception_handler(context)

    # --- the verbs -------------------------------------------------------------------

    def request(
        self, method: str, url: str | URL, **kwargs: Unpack[_RequestOptions]
    ) -> _RequestContextManager:
        """Perform an HTTP request; await it or use it as an async context manager."""
        return _RequestContextManager(self._request(method, url, **kwargs))

    def get(
        self, url: str | URL, *, allow_redirects: bool = True, **kwargs: Any
    ) -> _RequestContextManager:
        return _RequestContextManager(
            self._request(hdrs.METH_GET, url, allow_redirects=allow_redirects, **kwargs)
        )

    def options(
        self, url: str | URL, *, allow_redirects: bool = True, **kwargs: Any
    ) -> _RequestContextManager:
        return _RequestContextManager(
            self._request(hdrs.METH_OPTIONS, url, allow_redirects=allow_redirects, **kwargs)
        )

    def head(
        self, url: str | URL, *, allow_redirects: bool = False, **kwargs: Any
    ) -> _RequestContextManager:
        return _RequestContextManager(
            self._request(hdrs.METH_HEAD, url, allow_redirects=allow_redirects, **kwargs)
        )

    def post(self, url: str | URL, *, data: Any = None, **kwargs: Any) -> _RequestContextManager:
        return _RequestContextManager(self._request(hdrs.METH_POST, url, data=data, **kwargs))

    def put(self, url: str | URL, *, data: Any = None, **kwargs: Any) -> _RequestContextManager:
        return _RequestContextManager(self._request(hdrs.METH_PUT, url, data=data, **kwargs))

    def patch(self, url: str | URL, *, data: Any = None, **kwargs: Any) -> _RequestContextManager:
        return _RequestContextManager(self._request(hdrs.METH_PATCH, url, data=data, **kwargs))

    def delete(self, url: str | URL, **kwargs: Any) -> _RequestContextManager:
        return _RequestContextManager(self._request(hdrs.METH_DELETE, url, **kwargs))

    def ws_connect(
        self,
        url: str | URL,
        *,
        method: str = hdrs.METH_GET,
        protocols: Iterable[str] = (),
        timeout: ClientWSTimeout | float | Any = _SENTINEL,
        receive_timeout: float | None = None,
        autoclose: bool = True,
        autoping: bool = True,
        heartbeat: float | None = None,
        auth: BasicAuth | None = None,
        origin: str | None = None,
        params: Any = None,
        headers: Any = None,
        proxy: str | URL | None = None,
        proxy_auth: BasicAuth | None = None,
        ssl: ssl.SSLContext | bool | Fingerprint = True,
        verify_ssl: bool | None = None,
        fingerprint: bytes | None = None,
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        proxy_headers: Any = None,
        compress: int = 0,
        max_msg_size: int = 4 * 1024 * 1024,
        decode_text: bool = True,
    ) -> _WSRequestContextManager:
        """Open a WebSocket: await it, or `async with` it to close the socket at the end.

        The upgrade is an ordinary request of this session (cookies, auth, default
        headers, middlewares, redirects, proxies); `client_ws.upgrade` checks the answer.
        """
        if max_msg_size < 0:
            raise ValueError(f"max_msg_size must be >= 0 (0 = no limit), not {max_msg_size}")
        ws_timeout = ws_timeout_from(
            DEFAULT_WS_CLIENT_TIMEOUT if timeout is _SENTINEL else timeout, receive_timeout
        )
        protocols = tuple(protocols)
        key = make_key()
        real_headers = request_headers(
            CIMultiDict(headers) if headers else CIMultiDict(), key, protocols, origin, compress
        )
        request = self._request(
            method,
            url,
            params=params,
            headers=real_headers,
            read_until_eof=False,
            auth=auth,
            proxy=proxy,
            proxy_auth=proxy_auth,
            ssl=ssl,
            verify_ssl=verify_ssl,
            fingerprint=fingerprint,
            ssl_context=ssl_context,
            server_hostname=server_hostname,
            proxy_headers=proxy_headers,
        )
        return _WSRequestContextManager(
            upgrade(
                request,
                key=key,
                protocols=protocols,
                compress=compress,
                max_msg_size=max_msg_size,
                timeout=ws_timeout,
                autoclose=autoclose,
                autoping=autoping,
                heartbeat=heartbeat,
                decode_text=decode_text,
                response_class=self._ws_response_class,
                registry=self._websockets,
            )
        )

    # --- one request: a driver over its steps ----------------------------------------

    async def _request(
        self,
        method: str,
        str_or_url: str | URL,
        *,
        params: Any = None,
        data: Any = None,
        json: Any = None,
        cookies: Any = None,
        headers: Any = None,
        skip_auto_headers: Iterable[str] | None = None,
        auth: BasicAuth | None = None,
        allow_redirects: bool = True,
        max_redirects: int = 10,
        compress: str | bool | None = None,
        chunked: bool | None = None,
        expect100: bool = False,
        raise_for_status: bool | Callable[[ClientResponse], Awaitable[None]] | None = None,
        read_until_eof: bool = True,
        proxy: str | URL | None = None,
        proxy_auth: BasicAuth | None = None,
        timeout: ClientTimeout | Any = _SENTINEL,
        verify_ssl: bool | None = None,
        fingerprint: bytes | None = None,
        ssl_context: ssl.SSLContext | None = None,
        ssl: ssl.SSLContext | bool | Fingerprint = True,
        server_hostname: str | None = None,
        proxy_headers: Any = None,
        trace_request_ctx: Mapping[str, Any] | None = None,
        read_bufsize: int | None = None,
        auto_decompress: bool | None = None,
        max_line_size: int | None = None,
        max_field_size: int | None = None,
        max_headers: int | None = None,
        middlewares: Sequence[ClientMiddlewareType] | None = None,
        upload_tracker: UploadTracker | None = None,
    ) -> ClientResponse:
        """Send one request and follow its redirects: a driver over the steps below."""
        connector = self._connector
        if connector is None or connector.closed:
            raise RuntimeError("Session is closed")
        ssl = merge_ssl_params(ssl, verify_ssl, ssl_context, fingerprint)
        data = body_from(data, json, chunked, self._json_serialize, self._json_serialize_bytes)
        headers = self._prepare_headers(headers)
        url = self._resolve_url(str_or_url)
        settings = self._settings_for(
            timeout, read_until_eof, read_bufsize, auto_decompress, max_line_size, max_field_size,
            max_headers,
        )  # fmt: skip
        state = RequestState(
            connector, self._cookie_jar, self._retry_connection, settings,
            method, url, params or {}, headers, data, auth, cookies,
        )  # fmt: skip
        state.compress, state.chunked, state.expect100 = compress, chunked, expect100
        state.ssl, state.server_hostname, state.proxy_headers = ssl, server_hostname, proxy_headers
        state.skip_headers = self._skip_headers(skip_auto_headers)
        state.proxy, state.proxy_auth = self._proxy_for(proxy, proxy_auth)
        if upload_tracker is not None:
            bind_tracker(upload_tracker)
            state.upload_tracker = upload_tracker
        chain = self._middlewares if middlewares is None else middlewares
        if ACTIVE_MOCKS:  # airhttp.testing routers answer innermost, inside the user's
            chain = (*chain, *ACTIVE_MOCKS)
        send = build_client_middlewares(state.attempt, chain)  # state.attempt if chain is empty
        # From here on every way out cancels the timer (the traces' own, then fail()).
        state.timer = RequestTimer.start(self._loop, state.settings.timeout, self._deadlines)
        if self._trace_configs:
            await self._start_traces(state, trace_request_ctx)
        if raise_for_status is None:
            raise_for_status = self._raise_for_status
        return await self._send_following(
            state, send, allow_redirects, max_redirects, raise_for_status
        )

    async def _send_following(
        self,
        state: RequestState,
        send: Callable[[ClientRequest], Awaitable[ClientResponse]],
        allow_redirects: bool,
        max_redirects: int,
        raise_for_status: bool | Callable[[ClientResponse], Awaitable[None]],
    ) -> ClientResponse:
        """Send each hop through the middleware chain until the answer is final."""
        req: ClientRequest | None = None
        try:
            while True:
                req = self._build_request(state)
                resp = await send(req)
                if not (allow_redirects and resp.status in REDIRECT_CODES):
                    break
                if not await follow_redirect(
                    state, req, resp, max_redirects, self._requote_redirect_url
                ):
                    break
            rest = finish(state, req, resp, raise_for_status)
            if rest is not None:
                await rest
            return resp
        except BaseException as exc:
            raised = await fail(state, req, exc)
            if raised is exc:
                raise
            raise raised from exc

    def _settings_for(
        self,
        timeout: Any,
        read_until_eof: bool,
        read_bufsize: int | None,
        auto_decompress: bool | None,
        max_line_size: int | None,
        max_field_size: int | None,
        max_headers: int | None,
    ) -> RequestSettings:
        """The session's settings, or a copy with what this request overrides."""
        if (
            timeout is _SENTINEL
            and read_until_eof
            and read_bufsize is None
            and auto_decompress is None
            and max_line_size is None
            and max_field_size is None
            and max_headers is None
        ):
            return self._settings
        return self._settings.derive(
            timeout=request_timeout(timeout),
            read_until_eof=read_until_eof,
            read_bufsize=read_bufsize,
            auto_decompress=auto_decompress,
            max_line_size=max_line_size,
            max_field_size=max_field_size,
            max_headers=max_headers,
        )

    def _resolve_url(self, str_or_url: str | URL) -> URL:
        """The absolute URL to request: parsed (cached), joined to base_url, scheme checked."""
        if isinstance(str_or_url, URL):
            url = str_or_url
        else:
            # Parsing a URL string costs microseconds; sessions repeat the same few URLs.
            cache = self._url_cache
            url = cache.get(str_or_url)  # type: ignore[assignment]
            if url is None:
                if _CONTROLS.intersection(str_or_url.strip()):
                    # yarl would drop CR and LF and quote NUL: the request would go
                    # somewhere other than the string says, so it is refused instead.
                    raise InvalidUrlClientError(str_or_url, _CONTROLS_IN_URL)
                try:
                    url = URL(str_or_url)
                except ValueError as exc:
                    raise InvalidUrlClientError(str_or_url) from exc
                if len(cache) >= _URL_CACHE_SIZE:
                    cache.clear()
                cache[str_or_url] = url
        base = self._base_url
        if base is not None and not (url.absolute and url.scheme):
            # RFC 3986 5.2.2: relative references, "//host/path" ones included, take
            # what they lack (scheme, authority, path) from the base URL.
            try:
                url = base.join(url)
            except ValueError as exc:
                raise InvalidUrlClientError(str_or_url) from exc
        scheme = url.scheme
        if scheme not in _ALL_SCHEMES:
            if scheme:
                raise NonHttpUrlClientError(url)
            if not url.raw_host:
                raise InvalidUrlClientError(url)
            # A scheme-less "//host/path" with no base URL: sent as plain HTTP, as aiohttp does.
        return url

    def _prepare_headers(self, headers: Any) -> CIMultiDict[str]:
        """The session's headers, overridden by the request's (repeated names kept)."""
        default = self._default_headers
        if not headers:
            return CIMultiDict(default) if default else CIMultiDict()
        result = CIMultiDict(default)
        if not isinstance(headers, (CIMultiDict, Mapping)):
            headers = CIMultiDict(headers)
        added: set[str] = set()
        for key, value in headers.items():
            if key in added:
                result.add(key, value)
            else:
                result[key] = value
                added.add(key)
        return result

    def _skip_headers(self, skip_auto_headers: Iterable[str] | None) -> Iterable[istr] | None:
        if skip_auto_headers is not None:
            return {istr(i) for i in skip_auto_headers} | self._skip_auto_headers
        return self._skip_auto_headers or None

    def _proxy_for(
        self, proxy: str | URL | None, proxy_auth: BasicAuth | None
    ) -> tuple[URL | None, BasicAuth | None]:
        if proxy is None:
            proxy = self._default_proxy
        if proxy_auth is None:
            proxy_auth = self._default_proxy_auth
        return (None if proxy is None else URL(proxy)), proxy_auth

    async def _start_traces(self, state: RequestState, ctx: Mapping[str, Any] | None) -> None:
        """Make the request's tracers and fire on_request_start."""
        traces = state.traces = [
            Trace(self, config, config.trace_config_ctx(trace_request_ctx=ctx))
            for config in self._trace_configs
        ]
        try:
            for trace in traces:
                await trace.send_request_start(state.method, state.target(), state.headers)
        except BaseException:
            # The request never starts, so its timer must not outlive this call, and its
            # upload never happens.
            if state.timer is not None:
                state.timer.cancel()
            if state.upload_tracker is not None:
                finish_tracker(state.upload_tracker, False)
            raise

    def _authorize(self, state: RequestState) -> None:
        """Settle the hop's credentials: URL userinfo, request, session, then .netrc."""
        url, auth_from_url = strip_auth_from_url(state.url)
        # Stripped at once: a failure below is reported (traced) without the credentials.
        state.url = url
        redirected = bool(state.history)
        if not url.raw_host:
            raise (InvalidUrlRedirectClientError if redirected else InvalidUrlClientError)(url)
        auth = state.auth
        if auth_from_url is not None:
            # Credentials in a redirect's Location replace the ones in use; only on
            # the first request are both an error.
            if auth is not None and not redirected:
                raise ValueError("Cannot combine AUTH argument with credentials encoded in URL")
            auth = auth_from_url
        if auth is None:
            default_auth = self._default_auth
            if default_auth is not None and (
                self._base_url is None or self._base_url_origin == url.origin()
            ):
                auth = default_auth
            elif self._trust_env:
                # Last resort, after the request's and the session's own credentials.
                auth = netrc_auth(url)
        if auth is not None and hdrs.AUTHORIZATION in state.headers:
            raise ValueError(
                "Cannot combine AUTHORIZATION header with AUTH argument or "
                "credentials encoded in URL"
            )
        state.auth = auth

    def _build_request(self, state: RequestState) -> ClientRequest:
        """The ClientRequest of the current hop."""
        self._authorize(state)
        cookies = cookies_for(state)
        if state.proxy is None and self._trust_env:
            state.proxy, state.proxy_auth = env_proxy(state.url)
        req = self._request_class(
            state.method,
            state.url,
            params=state.params,
            headers=state.headers,
            skip_auto_headers=state.skip_headers,
            data=state.data,
            cookies=cookies,
            auth=state.auth,
            version=self._version,
            compress=state.compress,
            chunked=state.chunked,
            expect100=state.expect100,
            loop=self._loop,
            response_class=self._response_class,
            proxy=state.proxy,
            proxy_auth=state.proxy_auth,
            timer=state.timer,
            session=self,
            ssl=state.ssl,
            server_hostname=state.server_hostname,
            proxy_headers=state.proxy_headers,
            traces=state.traces,
            trust_env=self._trust_env,
        )
        if state.upload_tracker is not None:
            req.upload_tracker = state.upload_tracker
        return req

    # --- lifecycle and properties ----------------------------------------------------

    async def close(self) -> None:
        """Close the session and, if it owns it, the connector."""
        if not self.closed:
            # A CLOSE frame (1001, going away) for every WebSocket still open.
            shutdown_all(self._websockets)
            self._deadlines.close()
            if self._connector is not None and self._connector_owner:
                await self._connector.close()
            self._connector = None

    @property
    def closed(self) -> bool:
        return self._connector is None or self._connector.closed

    @property
    def connector(self) -> BaseConnector | None:
        return self._connector

    @property
    def cookie_jar(self) -> AbstractCookieJar:
        return self._cookie_jar

    @property
    def version(self) -> tuple[int, int]:
        return self._version

    @property
    def requote_redirect_url(self) -> bool:
        return self._requote_redirect_url

    @requote_redirect_url.setter
    def requote_redirect_url(self, val: bool) -> None:
        warnings.warn(
            "session.requote_redirect_url modification is deprecated #2778",
            DeprecationWarning,
            stacklevel=2,
        )
        self._requote_redirect_url = val

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        warnings.warn("client.loop property is deprecated", DeprecationWarning, stacklevel=2)
        return self._loop

    @property
    def timeout(self) -> ClientTimeout:
        return self._settings.timeout

    @property
    def headers(self) -> CIMultiDict[str]:
        return self._default_headers

    @property
    def skip_auto_headers(self) -> frozenset[istr]:
        return self._skip_auto_headers

    @property
    def auth(self) -> BasicAuth | None:
        return self._default_auth

    @property
    def json_serialize(self) -> Callable[[Any], str]:
        return self._json_serialize

    @property
    def connector_owner(self) -> bool:
        return self._connector_owner

    @property
    def raise_for_status(self) -> bool | Callable[[ClientResponse], Awaitable[None]]:
        return self._raise_for_status

    @property
    def auto_decompress(self) -> bool:
        return self._settings.auto_decompress

    @property
    def trust_env(self) -> bool:
        return self._trust_env

    @property
    def trace_configs(self) -> list[TraceConfig]:
        return self._trace_configs

    def detach(self) -> None:
        """Forget the connector without closing it."""
        self._connector = None

    async def __aenter__(self) -> ClientSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.close()


def request(
    method: str,
    url: str | URL,
    *,
    version: HttpVersion = HttpVersion11,
    connector: BaseConnector | None = None,
    loop: asyncio.AbstractEventLoop | None = None,
    cookie_jar: AbstractCookieJar | None = None,
    **kwargs: Unpack[_RequestOptions],
) -> _SessionRequestContextManager:
    """Make one request with a session of its own, closed when the response is done.

    `timeout` goes to that session, so it is checked as a session timeout is.
    """
    timeout = kwargs.pop("timeout", _SENTINEL)
    connector_owner = False
    if connector is None:
        connector_owner = True
        connector = TCPConnector(loop=loop, force_close=True)
    session = ClientSession(
        loop=loop,
        cookie_jar=cookie_jar,
        version=version,
        timeout=timeout,
        connector=connector,
        connector_owner=connector_owner,
    )
    return _SessionRequestContextManager(session.request(method, url, **kwargs), session)

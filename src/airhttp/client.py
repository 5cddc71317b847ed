"""ClientSession, the one-shot request() and the timeouts they share.

The session turns user arguments into requests, runs them through middlewares,
follows redirects and keeps cookies. Wire work is below it: connector, protocol.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import warnings
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TypeVar

from multidict import CIMultiDict, istr
from yarl import URL

from . import hdrs
from ._attempt import send_attempt
from ._client_request import ClientRequest
from ._client_response import ClientResponse
from ._httpversion import HttpVersion, HttpVersion11
from ._pool import _SSL_SHUTDOWN_DEPRECATED, BaseConnector
from ._redirects import REDIRECT_CODES, redirect_becomes_get, redirect_target, replayable_body
from ._reqrep_types import Fingerprint
from ._request_context import (
    _RequestContextManager,
    _RequestOptions,
    _SessionRequestContextManager,
)
from ._timeouts import DEFAULT_TIMEOUT, ClientTimeout, RequestTimer, uncancel_current_task
from .abc import AbstractCookieJar
from .client_exceptions import (
    InvalidUrlClientError,
    InvalidUrlRedirectClientError,
    NonHttpUrlClientError,
    TooManyRedirects,
)
from .client_middlewares import ClientMiddlewareType, build_client_middlewares
from .connector import TCPConnector, _merge_ssl_params
from .cookiejar import CookieJar
from .helpers import (
    BasicAuth,
    basicauth_from_netrc,
    calculate_timeout_when,
    get_env_proxy_for_url,
    netrc_from_env,
    strip_auth_from_url,
)
from .payload import JsonPayload, Payload
from .tracing import Trace, TraceConfig

if sys.version_info >= (3, 11):
    from typing import Unpack
elif TYPE_CHECKING:
    from typing_extensions import Unpack

if TYPE_CHECKING:
    import ssl

    from .client_ws import ClientWebSocketResponse

__all__ = ("ClientSession", "ClientTimeout", "request")

_RetType = TypeVar("_RetType", bound=ClientResponse)
_HTTP_SCHEMES: Final = frozenset({"http", "https"})
_WS_SCHEMES: Final = frozenset({"ws", "wss"})
_ALL_SCHEMES: Final = _HTTP_SCHEMES | _WS_SCHEMES
_URL_CACHE_SIZE: Final = 256
_SENTINEL: Final[Any] = object()
# RFC 9110 9.2.2: these may be retried after a failure without changing meaning.
_IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})


class ClientSession:
    """A pool of connections plus shared defaults: the way to make requests."""

    ATTRS: Final = frozenset(
        {
            "_base_url",
            "_source_traceback",
            "_connector",
            "_loop",
            "_cookie_jar",
            "_connector_owner",
            "_default_auth",
            "_version",
            "_json_serialize",
            "_requote_redirect_url",
            "_timeout",
            "_raise_for_status",
            "_auto_decompress",
            "_trust_env",
            "_default_headers",
            "_skip_auto_headers",
            "_request_class",
            "_response_class",
            "_ws_response_class",
            "_trace_configs",
            "_read_bufsize",
            "_max_line_size",
            "_max_field_size",
            "_max_headers",
            "_resolve_charset",
            "_default_proxy",
            "_default_proxy_auth",
            "_retry_connection",
            "_middlewares",
            "_url_cache",
            "_base_url_origin",
        }
    )

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
        request_class: type[ClientRequest] = ClientRequest,
        response_class: type[ClientResponse] = ClientResponse,
        ws_response_class: type[ClientWebSocketResponse] | None = None,
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
        if base_url is None:
            self._base_url: URL | None = None
            self._base_url_origin: URL | None = None
        else:
            base = base_url if isinstance(base_url, URL) else URL(base_url)
            self._base_url = base
            self._base_url_origin = base.origin()
            if not base.path.endswith("/"):
                raise ValueError("base_url must have a trailing '/'")
        self._timeout = self._resolve_session_timeout(timeout, read_timeout, conn_timeout)
        if ssl_shutdown_timeout is not _SENTINEL:
            warnings.warn(_SSL_SHUTDOWN_DEPRECATED, DeprecationWarning, stacklevel=2)
        if loop is None:
            loop = connector._loop if connector is not None else asyncio.get_running_loop()
        elif connector is not None and connector._loop is not loop:
            raise RuntimeError("Session and connector has to use same event loop")
        if connector is None:
            if ssl_shutdown_timeout is _SENTINEL:
                connector = TCPConnector(loop=loop)
            else:
                connector = TCPConnector(loop=loop, ssl_shutdown_timeout=ssl_shutdown_timeout)
        self._loop = loop
        self._cookie_jar: AbstractCookieJar = (
            cookie_jar if cookie_jar is not None else CookieJar(loop=loop)
        )
        if cookies:
            self._cookie_jar.update_cookies(cookies)
        self._connector = connector
        self._connector_owner = connector_owner
        self._default_auth = auth
        self._version = version
        self._json_serialize = json_serialize
        self._raise_for_status = raise_for_status
        self._auto_decompress = auto_decompress
        self._trust_env = trust_env
        self._requote_redirect_url = requote_redirect_url
        self._read_bufsize = read_bufsize
        self._max_line_size = max_line_size
        self._max_field_size = max_field_size
        self._max_headers = max_headers
        self._default_headers: CIMultiDict[str] = CIMultiDict(headers) if headers else CIMultiDict()
        self._skip_auto_headers: frozenset[istr] = (
            frozenset(istr(i) for i in skip_auto_headers) if skip_auto_headers else frozenset()
        )
        self._request_class = request_class
        self._response_class = response_class
        self._ws_response_class = ws_response_class
        self._trace_configs = trace_configs or []
        for trace_config in self._trace_configs:
            trace_config.freeze()
        self._resolve_charset = fallback_charset_resolver
        self._default_proxy = None if proxy is None else URL(proxy)
        self._default_proxy_auth = proxy_auth
        self._retry_connection = True
        self._middlewares = middlewares
        self._url_cache: dict[str, URL] = {}

    @staticmethod
    def _resolve_session_timeout(
        timeout: Any, read_timeout: Any, conn_timeout: Any
    ) -> ClientTimeout:
        """The session's ClientTimeout, folding in the pre-3.3 read/conn timeouts."""
        if timeout is _SENTINEL or timeout is None:
            result = DEFAULT_TIMEOUT
            # stacklevel 3: the warnings point at the code that built the session.
            if read_timeout is not _SENTINEL:
                warnings.warn(
                    "read_timeout is deprecated, use timeout argument instead",
                    DeprecationWarning,
                    stacklevel=3,
                )
                result = dataclasses.replace(result, total=read_timeout)
            if conn_timeout is not None:
                warnings.warn(
                    "conn_timeout is deprecated, use timeout argument instead",
                    DeprecationWarning,
                    stacklevel=3,
                )
                result = dataclasses.replace(result, connect=conn_timeout)
            return result
        if not isinstance(timeout, ClientTimeout):
            raise ValueError(
                f"timeout parameter cannot be of {type(timeout)} type, "
                "please use 'timeout=ClientTimeout(...)'"
            )
        if read_timeout is not _SENTINEL:
            raise ValueError(
                "read_timeout and timeout parameters conflict, please setup timeout.read"
            )
        if conn_timeout is not None:
            raise ValueError(
                "conn_timeout and timeout parameters conflict, please setup timeout.connect"
            )
        return timeout

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
        timeout: Any = _SENTINEL,
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
    ) -> Any:
        """Open a WebSocket connection (arrives with the WebSocket issue)."""
        raise NotImplementedError("WebSocket support is not implemented yet")

    # --- the request loop ------------------------------------------------------------

    def _build_url(self, str_or_url: str | URL) -> URL:
        if isinstance(str_or_url, URL):
            url = str_or_url
        else:
            # Parsing a URL string costs microseconds; sessions repeat the same few URLs.
            cache = self._url_cache
            url = cache.get(str_or_url)  # type: ignore[assignment]
            if url is None:
                url = URL(str_or_url)
                if len(cache) >= _URL_CACHE_SIZE:
                    cache.clear()
                cache[str_or_url] = url
        base = self._base_url
        if base is None or (url.absolute and url.scheme):
            return url
        # RFC 3986 5.2.2: relative references, "//host/path" ones included, take
        # what they lack (scheme, authority, path) from the base URL.
        return base.join(url)

    def _prepare_headers(self, headers: Any) -> CIMultiDict[str]:
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
    ) -> ClientResponse:
        if self.closed:
            raise RuntimeError("Session is closed")
        if (
            ssl is not True
            or verify_ssl is not None
            or ssl_context is not None
            or fingerprint is not None
        ):
            ssl = _merge_ssl_params(ssl, verify_ssl, ssl_context, fingerprint)
        if data is not None and json is not None:
            raise ValueError("data and json parameters can not be used at the same time")
        if json is not None:
            data = JsonPayload(json, dumps=self._json_serialize)
        if not isinstance(chunked, bool) and chunked is not None:
            warnings.warn("Chunk size is deprecated #1615", DeprecationWarning, stacklevel=2)

        history: list[ClientResponse] = []
        version = self._version
        params = params or {}
        redirects = 0
        headers = self._prepare_headers(headers)
        try:
            url = self._build_url(str_or_url)
        except ValueError as exc:
            raise InvalidUrlClientError(str_or_url) from exc
        scheme = url.scheme
        if scheme not in _ALL_SCHEMES:
            if scheme:
                raise NonHttpUrlClientError(url)
            if not url.raw_host:
                raise InvalidUrlClientError(url)
            # A scheme-less "//host/path" with no base URL: sent as plain HTTP, as aiohttp does.
        skip_headers: Iterable[istr] | None
        if skip_auto_headers is not None:
            skip_headers = {istr(i) for i in skip_auto_headers} | self._skip_auto_headers
        elif self._skip_auto_headers:
            skip_headers = self._skip_auto_headers
        else:
            skip_headers = None

        if proxy is None:
            proxy = self._default_proxy
        if proxy_auth is None:
            proxy_auth = self._default_proxy_auth
        proxy_url = None if proxy is None else URL(proxy)

        if timeout is _SENTINEL:
            real_timeout: ClientTimeout = self._timeout
        elif isinstance(timeout, ClientTimeout):
            real_timeout = timeout
        else:
            # The pre-3.3 form: a number (or None) is the total timeout and nothing else.
            real_timeout = ClientTimeout(total=timeout)
        loop = self._loop
        timer: RequestTimer | None = None
        if real_timeout.total is not None:
            when = calculate_timeout_when(
                loop.time(), real_timeout.total, real_timeout.ceil_threshold
            )
            timer = RequestTimer(loop, when)
        if read_bufsize is None:
            read_bufsize = self._read_bufsize
        if auto_decompress is None:
            auto_decompress = self._auto_decompress
        if max_line_size is None:
            max_line_size = self._max_line_size
        if max_field_size is None:
            max_field_size = self._max_field_size
        if max_headers is None:
            max_headers = self._max_headers

        traces = (
            [
                Trace(
                    self,
                    trace_config,
                    trace_config.trace_config_ctx(trace_request_ctx=trace_request_ctx),
                )
                for trace_config in self._trace_configs
            ]
            if self._trace_configs
            else []
        )
        for trace in traces:
            await trace.send_request_start(method, url.update_query(params), headers)

        connector = self._connector
        assert connector is not None
        req: ClientRequest | None = None
        try:
            while True:
                url, auth_from_url = strip_auth_from_url(url)
                if not url.raw_host:
                    err_cls = InvalidUrlRedirectClientError if redirects else InvalidUrlClientError
                    raise err_cls(url)
                if auth_from_url is not None:
                    # Credentials in a redirect's Location replace the ones in use;
                    # only on the first request are both an error.
                    if auth is not None and not redirects:
                        raise ValueError(
                            "Cannot combine AUTH argument with credentials encoded in URL"
                        )
                    auth = auth_from_url
                if auth is None:
                    default_auth = self._default_auth
                    if default_auth is not None and (
                        self._base_url is None or self._base_url_origin == url.origin()
                    ):
                        auth = default_auth
                    elif self._trust_env:
                        # Last resort, after the request's and the session's own credentials.
                        auth = self._netrc_auth(url)
                if auth is not None and hdrs.AUTHORIZATION in headers:
                    raise ValueError(
                        "Cannot combine AUTHORIZATION header with AUTH argument or "
                        "credentials encoded in URL"
                    )

                all_cookies = self._cookie_jar.filter_cookies(url)
                if cookies is not None:
                    tmp_cookie_jar = CookieJar(quote_cookie=self._cookie_jar.quote_cookie)
                    tmp_cookie_jar.update_cookies(cookies)
                    req_cookies = tmp_cookie_jar.filter_cookies(url)
                    if req_cookies:
                        all_cookies.load(req_cookies)

                if proxy_url is None and self._trust_env:
                    try:
                        proxy_url, proxy_auth = get_env_proxy_for_url(url)
                    except LookupError:
                        proxy_url = None

                req = self._request_class(
                    method,
                    url,
                    params=params,
                    headers=headers,
                    skip_auto_headers=skip_headers,
                    data=data,
                    cookies=all_cookies,
                    auth=auth,
                    version=version,
                    compress=compress,
                    chunked=chunked,
                    expect100=expect100,
                    loop=loop,
                    response_class=self._response_class,
                    proxy=proxy_url,
                    proxy_auth=proxy_auth,
                    timer=timer,
                    session=self,
                    ssl=ssl,
                    server_hostname=server_hostname,
                    proxy_headers=proxy_headers,
                    traces=traces,
                    trust_env=self.trust_env,
                )

                effective = self._middlewares if middlewares is None else middlewares
                if effective:

                    async def _connect_and_send(req: ClientRequest) -> ClientResponse:
                        return await send_attempt(
                            req,
                            connector,
                            traces,
                            real_timeout,
                            timer,
                            cookie_jar=self._cookie_jar,
                            retry=self._retry_connection,
                            read_until_eof=read_until_eof,
                            read_bufsize=read_bufsize,
                            auto_decompress=auto_decompress,
                            max_line_size=max_line_size,
                            max_field_size=max_field_size,
                            max_headers=max_headers,
                        )

                    handler = build_client_middlewares(_connect_and_send, effective)
                    resp = await handler(req)
                else:
                    # No middleware: call straight through, one coroutine layer fewer.
                    resp = await send_attempt(
                        req,
                        connector,
                        traces,
                        real_timeout,
                        timer,
                        cookie_jar=self._cookie_jar,
                        retry=self._retry_connection,
                        read_until_eof=read_until_eof,
                        read_bufsize=read_bufsize,
                        auto_decompress=auto_decompress,
                        max_line_size=max_line_size,
                        max_field_size=max_field_size,
                        max_headers=max_headers,
                    )

                if resp.status in REDIRECT_CODES and allow_redirects:
                    for trace in traces:
                        await trace.send_request_redirect(
                            method, url.update_query(params), headers, resp
                        )
                    redirects += 1
                    history.append(resp)
                    if max_redirects and redirects >= max_redirects:
                        resp.release()
                        raise TooManyRedirects(history[0].request_info, tuple(history))
                    if redirect_becomes_get(resp.status, resp.method):
                        method = hdrs.METH_GET
                        data = None
                        await req._close_body()
                        if headers.get(hdrs.CONTENT_LENGTH):
                            headers.pop(hdrs.CONTENT_LENGTH)
                        headers.popall(hdrs.CONTENT_TYPE, None)
                    elif data is not None:
                        data = replayable_body(req.body, data)
                    parsed_redirect_url = redirect_target(resp, url, self._requote_redirect_url)
                    if parsed_redirect_url is None:
                        # No location to go to: this response is the answer.
                        break
                    if url.origin() != parsed_redirect_url.origin():
                        # Credentials stay with the origin they were given for.
                        auth = None
                        cookies = None
                        headers.pop(hdrs.AUTHORIZATION, None)
                        headers.pop(hdrs.COOKIE, None)
                        headers.pop(hdrs.PROXY_AUTHORIZATION, None)
                    url = parsed_redirect_url
                    params = {}
                    resp.release()
                    continue
                break

            if timer is not None:
                # From here the timer covers only reading the body on this connection.
                if resp._connection is not None:
                    resp._connection.add_callback(timer.cancel)
                else:
                    timer.cancel()
            if raise_for_status is None:
                raise_for_status = self._raise_for_status
            if callable(raise_for_status):
                try:
                    await raise_for_status(resp)
                except BaseException:
                    resp.release()
                    raise
            elif raise_for_status:
                resp.raise_for_status()

            body = req._body
            if isinstance(body, Payload) and not body.autoclose:
                await req._close_body()
            resp._history = tuple(history)
            for trace in traces:
                await trace.send_request_end(method, url.update_query(params), headers, resp)
            return resp
        except BaseException as exc:
            if req is not None:
                await req._close_body()
            if timer is not None:
                timer.cancel()
                if timer.fired and isinstance(exc, asyncio.CancelledError):
                    # The total timeout cancelled us (while connecting, or in a
                    # middleware): that is a timeout to the caller, not a cancel.
                    uncancel_current_task()
                    timeout_exc = asyncio.TimeoutError()
                    for trace in traces:
                        await trace.send_request_exception(
                            method, url.update_query(params), headers, timeout_exc
                        )
                    raise timeout_exc from exc
            for trace in traces:
                await trace.send_request_exception(method, url.update_query(params), headers, exc)
            raise

    @staticmethod
    def _netrc_auth(url: URL) -> BasicAuth | None:
        host = url.host
        if host is None:
            return None
        try:
            return basicauth_from_netrc(netrc_from_env(), host)
        except LookupError:
            return None

    # --- lifecycle and properties ----------------------------------------------------

    async def close(self) -> None:
        """Close the session and, if it owns it, the connector."""
        if not self.closed:
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
        return self._timeout

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
        return self._auto_decompress

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
    cookie_jar: AbstractCookieJar | None = None,
    ssl: ssl.SSLContext | bool | Fingerprint = True,
    server_hostname: str | None = None,
    proxy_headers: Any = None,
    trace_request_ctx: Mapping[str, Any] | None = None,
    read_bufsize: int | None = None,
    auto_decompress: bool | None = None,
    max_line_size: int | None = None,
    max_field_size: int | None = None,
    max_headers: int | None = None,
    version: HttpVersion = HttpVersion11,
    connector: BaseConnector | None = None,
    loop: asyncio.AbstractEventLoop | None = None,
) -> _SessionRequestContextManager:
    """Make one request with a session of its own, closed when the response is done."""
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
    return _SessionRequestContextManager(
        session._request(
            method,
            url,
            params=params,
            data=data,
            json=json,
            cookies=cookies,
            headers=headers,
            skip_auto_headers=skip_auto_headers,
            auth=auth,
            allow_redirects=allow_redirects,
            max_redirects=max_redirects,
            compress=compress,
            chunked=chunked,
            expect100=expect100,
            raise_for_status=raise_for_status,
            read_until_eof=read_until_eof,
            proxy=proxy,
            proxy_auth=proxy_auth,
            ssl=ssl,
            server_hostname=server_hostname,
            proxy_headers=proxy_headers,
            trace_request_ctx=trace_request_ctx,
            read_bufsize=read_bufsize,
            auto_decompress=auto_decompress,
            max_line_size=max_line_size,
            max_field_size=max_field_size,
            max_headers=max_headers,
        ),
        session,
    )

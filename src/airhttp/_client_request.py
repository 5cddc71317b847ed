"""ClientRequest: one HTTP request, built from the user's arguments and written out.

Builds the head and body and writes them to a lent connection; reading the
answer is ClientResponse's job and choosing the connection is the connector's.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Iterable, Mapping
from http.cookies import Morsel, SimpleCookie
from typing import TYPE_CHECKING, Any, Final

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict
from yarl import URL

from . import hdrs, payload
from ._client_response import ClientResponse
from ._httpversion import HttpVersion, HttpVersion10, HttpVersion11
from ._reqrep_types import ConnectionKey, Fingerprint, RequestInfo
from .client_exceptions import ClientConnectionError, ClientOSError, InvalidURL
from .compression_utils import HAS_BROTLI, HAS_ZSTD
from .formdata import FormData
from .helpers import BasicAuth, basicauth_from_netrc, netrc_from_env
from .http_writer import StreamWriter, serialize_headers

if TYPE_CHECKING:
    import ssl

    from .client import ClientSession
    from .connector import Connection
    from .tracing import Trace

__all__ = ("ClientRequest",)

_DEFAULT_PORTS: Final = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_SSL_SCHEMES: Final = frozenset({"https", "wss"})
_TOKEN_CHARS: Final = frozenset(
    "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
# Bodies up to this size go out in the same write as the head; larger ones are
# written separately so the head join never copies a big body.
_COALESCE_LIMIT: Final = 16384


def _default_accept_encoding() -> str:
    encodings = ["gzip", "deflate"]
    if HAS_BROTLI:
        encodings.append("br")
    if HAS_ZSTD:
        encodings.append("zstd")
    return ", ".join(encodings)


def _user_agent() -> str:
    from . import __version__

    return f"Python/{sys.version_info[0]}.{sys.version_info[1]} airhttp/{__version__}"


class ClientRequest:
    """An HTTP request about to be sent; the session makes one per attempt."""

    GET_METHODS: Final = {hdrs.METH_GET, hdrs.METH_HEAD, hdrs.METH_OPTIONS, hdrs.METH_TRACE}
    POST_METHODS: Final = {hdrs.METH_PATCH, hdrs.METH_POST, hdrs.METH_PUT}
    ALL_METHODS: Final = GET_METHODS.union(POST_METHODS).union({hdrs.METH_DELETE})

    DEFAULT_HEADERS: Final = {
        hdrs.ACCEPT: "*/*",
        hdrs.ACCEPT_ENCODING: _default_accept_encoding(),
    }

    body: payload.Payload | bytes = b""
    auth: BasicAuth | None = None
    response: ClientResponse | None = None
    _writer_task: asyncio.Task[None] | None = None
    _continue: asyncio.Future[bool] | None = None
    _skip_auto_headers: CIMultiDict[None] | None = None

    def __init__(
        self,
        method: str,
        url: URL,
        *,
        params: Any = None,
        headers: Any = None,
        skip_auto_headers: Iterable[str] | None = None,
        data: Any = None,
        cookies: Any = None,
        auth: BasicAuth | None = None,
        version: HttpVersion = HttpVersion11,
        compress: str | bool | None = None,
        chunked: bool | None = None,
        expect100: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
        response_class: type[ClientResponse] | None = None,
        proxy: URL | None = None,
        proxy_auth: BasicAuth | None = None,
        timer: Any = None,
        session: ClientSession | None = None,
        ssl: ssl.SSLContext | bool | Fingerprint = True,
        proxy_headers: Any = None,
        traces: list[Trace] | None = None,
        trust_env: bool = False,
        server_hostname: str | None = None,
    ) -> None:
        if loop is None:
            loop = asyncio.get_running_loop()
        if params:
            url = url.extend_query(params)
        self.original_url = url
        self.url = url.with_fragment(None) if url.raw_fragment else url
        method = method.upper()
        if method not in self.ALL_METHODS and not _TOKEN_CHARS.issuperset(method):
            raise ValueError(f"Method cannot contain non-token characters {method!r}")
        self.method = method
        self.loop = loop
        self.length: int | None = None
        self.response_class: type[ClientResponse] = response_class or ClientResponse
        self._timer = timer
        self._session = session
        self._ssl = ssl
        self.server_hostname = server_hostname
        self._traces = traces if traces is not None else []
        self.chunked = chunked
        self.compress: str | None = None
        self.version = version
        self.proxy: URL | None = None
        self.proxy_auth: BasicAuth | None = None
        self.proxy_headers: CIMultiDict[str] | None = None

        self._update_host(self.url)
        self._update_headers(headers)
        self._update_auto_headers(skip_auto_headers)
        if cookies:
            self.update_cookies(cookies)
        self._update_content_encoding(data, compress)
        self._update_auth(auth, trust_env)
        if proxy is not None:
            self.update_proxy(proxy, proxy_auth, proxy_headers)
        self._update_body_from_data(data)
        if data is not None or method not in self.GET_METHODS:
            self._update_transfer_encoding()
        self._update_expect_continue(expect100)
        self._connection_key: ConnectionKey | None = None

    # --- read-only views ---------------------------------------------------------------

    @property
    def ssl(self) -> ssl.SSLContext | bool | Fingerprint:
        return self._ssl

    @property
    def session(self) -> ClientSession | None:
        return self._session

    @property
    def host(self) -> str:
        host = self.url.raw_host
        assert host is not None
        return host

    @property
    def port(self) -> int | None:
        return self.url.port

    @property
    def skip_auto_headers(self) -> CIMultiDict[None]:
        return self._skip_auto_headers or CIMultiDict()

    def is_ssl(self) -> bool:
        return self.url.scheme in _SSL_SCHEMES

    @property
    def connection_key(self) -> ConnectionKey:
        key = self._connection_key
        if key is None:
            proxy_headers = self.proxy_headers
            key = self._connection_key = ConnectionKey(
                self.url.raw_host or "",
                self.url.port,
                self.url.scheme in _SSL_SCHEMES,
                self._ssl,
                self.proxy,
                self.proxy_auth,
                hash(tuple(proxy_headers.items())) if proxy_headers else None,
                self.server_hostname,
            )
        return key

    @property
    def request_info(self) -> RequestInfo:
        return RequestInfo(self.url, self.method, CIMultiDictProxy(self.headers), self.original_url)

    # --- building ----------------------------------------------------------------------

    def _update_host(self, url: URL) -> None:
        if not url.raw_host:
            raise InvalidURL(url)
        # RFC 9110 11.2: credentials in the URL become Basic auth, never part of the target.
        if url.raw_user or url.raw_password:
            self.auth = BasicAuth(url.user or "", url.password or "")

    def _update_headers(self, headers: Any) -> None:
        self.headers: CIMultiDict[str] = CIMultiDict()
        # The Host header comes first (RFC 9110 7.2 recommends it).
        self.headers[hdrs.HOST] = self.url.host_port_subcomponent or ""
        if not headers:
            return
        if isinstance(headers, (dict, MultiDict, CIMultiDict, CIMultiDictProxy)):
            items: Iterable[tuple[str, str]] = headers.items()
        else:
            items = headers
        for key, value in items:
            if key.lower() == "host":
                self.headers[key] = value
            else:
                self.headers.add(key, value)

    def _update_auto_headers(self, skip_auto_headers: Iterable[str] | None) -> None:
        headers = self.headers
        if skip_auto_headers is not None:
            skip = CIMultiDict((hdr, None) for hdr in sorted(skip_auto_headers))
            self._skip_auto_headers = skip
            for hdr, val in self.DEFAULT_HEADERS.items():
                if hdr not in headers and hdr not in skip:
                    headers[hdr] = val
            if hdrs.USER_AGENT not in headers and hdrs.USER_AGENT not in skip:
                headers[hdrs.USER_AGENT] = _USER_AGENT
            # The Host header was auto-generated by _update_headers.
            if (
                hdrs.HOST in skip
                and hdrs.HOST in headers
                and headers[hdrs.HOST] == (self.url.host_port_subcomponent or "")
            ):
                del headers[hdrs.HOST]
            return
        for hdr, val in self.DEFAULT_HEADERS.items():
            if hdr not in headers:
                headers[hdr] = val
        if hdrs.USER_AGENT not in headers:
            headers[hdrs.USER_AGENT] = _USER_AGENT

    def update_cookies(self, cookies: Any) -> None:
        """Add `cookies` to the Cookie header."""
        if not cookies:
            return
        c: SimpleCookie = SimpleCookie()
        if hdrs.COOKIE in self.headers:
            c.load(self.headers.get(hdrs.COOKIE, ""))
            del self.headers[hdrs.COOKIE]
        if isinstance(cookies, Mapping):
            iter_cookies: Iterable[tuple[str, Any]] = cookies.items()
        else:
            iter_cookies = cookies
        for name, value in iter_cookies:
            if isinstance(value, Morsel):
                mrsl_val = value.get(value.key, Morsel())
                mrsl_val.set(value.key, value.value, value.coded_value)
                c[name] = mrsl_val
            else:
                c[name] = value
        self.headers[hdrs.COOKIE] = c.output(header="", sep=";").strip()

    def _update_content_encoding(self, data: Any, compress: str | bool | None) -> None:
        if not data:
            return
        if self.headers.get(hdrs.CONTENT_ENCODING):
            if compress:
                raise ValueError("compress can not be set if Content-Encoding header is set")
        elif compress:
            self.compress = compress if isinstance(compress, str) else "deflate"
            self.headers[hdrs.CONTENT_ENCODING] = self.compress
            self.chunked = True

    def _update_auth(self, auth: BasicAuth | None, trust_env: bool = False) -> None:
        if auth is None:
            auth = self.auth
        if auth is None and trust_env and self.url.host is not None:
            netrc_obj = netrc_from_env()
            with contextlib.suppress(LookupError):
                auth = basicauth_from_netrc(netrc_obj, self.url.host)
        if auth is None:
            return
        if not isinstance(auth, BasicAuth):
            raise TypeError("BasicAuth() tuple is required instead")
        self.auth = auth
        self.headers[hdrs.AUTHORIZATION] = auth.encode()

    def update_proxy(
        self, proxy: URL | None, proxy_auth: BasicAuth | None, proxy_headers: Any
    ) -> None:
        """Send this request through `proxy`."""
        self.proxy = proxy
        if proxy is None:
            self.proxy_auth = None
            self.proxy_headers = None
            return
        if proxy_auth and not isinstance(proxy_auth, BasicAuth):
            raise ValueError("proxy_auth must be None or BasicAuth() tuple")
        self.proxy_auth = proxy_auth
        if proxy_headers is not None and not isinstance(proxy_headers, CIMultiDict):
            proxy_headers = CIMultiDict(proxy_headers)
        self.proxy_headers = proxy_headers
        self._connection_key = None

    def _update_body_from_data(self, body: Any) -> None:
        if body is None:
            return
        if isinstance(body, FormData):
            body = body()
        try:
            body = payload.PAYLOAD_REGISTRY.get(body, disposition=None)
        except payload.LookupError:
            body = FormData(body)()
        self.body = body
        skip = self._skip_auto_headers
        if not self.chunked and hdrs.CONTENT_LENGTH not in self.headers:
            size = body.size
            if size is not None:
                self.headers[hdrs.CONTENT_LENGTH] = str(size)
            else:
                self.chunked = True
        for key, value in body.headers.items():
            if key in self.headers or (skip is not None and key in skip):
                continue
            self.headers[key] = value

    def update_body(self, body: Any) -> None:
        """Replace the body (for middlewares and retries); headers follow the new body."""
        old = self.body
        if isinstance(old, payload.Payload):
            asyncio.ensure_future(old.close()) if not old.consumed else None
        self.body = b""
        self.headers.popall(hdrs.CONTENT_LENGTH, None)
        self._update_body_from_data(body)
        if body is not None or self.method not in self.GET_METHODS:
            self._update_transfer_encoding()

    def _update_transfer_encoding(self) -> None:
        te = self.headers.get(hdrs.TRANSFER_ENCODING, "").lower()
        if "chunked" in te:
            if self.chunked:
                raise ValueError(
                    'chunked can not be set if "Transfer-Encoding: chunked" header is set'
                )
        elif self.chunked:
            if hdrs.CONTENT_LENGTH in self.headers:
                raise ValueError("chunked can not be set if Content-Length header is set")
            self.headers[hdrs.TRANSFER_ENCODING] = "chunked"
        elif hdrs.CONTENT_LENGTH not in self.headers:
            size = self.body.size if isinstance(self.body, payload.Payload) else len(self.body)
            self.headers[hdrs.CONTENT_LENGTH] = str(size or 0)

    def _update_expect_continue(self, expect: bool = False) -> None:
        if expect:
            self.headers[hdrs.EXPECT] = "100-continue"
        elif self.headers.get(hdrs.EXPECT, "").lower() == "100-continue":
            expect = True
        if expect:
            self._continue = self.loop.create_future()

    def keep_alive(self) -> bool:
        """Whether the request asks the server to keep the connection open."""
        connection = self.headers.get(hdrs.CONNECTION)
        if self.version < HttpVersion10:
            return False
        if self.version == HttpVersion10:
            return connection is not None and connection.lower() == "keep-alive"
        return connection is None or connection.lower() != "close"

    # --- sending -----------------------------------------------------------------------

    def _target(self) -> str:
        url = self.url
        if self.method == hdrs.METH_CONNECT:
            return f"{url.host_subcomponent}:{url.port}"
        if self.proxy is not None and not self.is_ssl():
            return str(url)
        return url.raw_path_qs or "/"

    async def send(self, conn: Connection) -> ClientResponse:
        """Write the request to `conn` and return the response that will answer it."""
        protocol = conn.protocol
        if protocol is None:
            raise ClientConnectionError("Connection closed")
        headers = self.headers
        version = self.version
        status_line = f"{self.method} {self._target()} HTTP/{version[0]}.{version[1]}"
        head = serialize_headers(status_line, headers)
        body = self.body
        traces = self._traces
        response = self.response_class(
            self.method,
            self.original_url,
            writer=None,
            continue100=self._continue,
            timer=self._timer,
            request_info=self.request_info,
            traces=traces,
            loop=self.loop,
            session=self._session,
        )
        self.response = response
        transport = protocol.transport
        if transport is None or transport.is_closing():
            raise ClientOSError(
                "Cannot write to closing transport"
            )  # the pool never lends such a connection; a race with the peer closing
        if (
            not self.chunked
            and self._continue is None
            and (type(body) is bytes or type(body) is payload.BytesPayload)
        ):
            data = body if type(body) is bytes else body._value  # type: ignore[union-attr]
            if not data:
                transport.write(head)
            elif len(data) <= _COALESCE_LIMIT:
                transport.write(head + bytes(data))
            else:
                transport.write(head)
                transport.write(data)
            for trace in traces:
                await trace.send_request_headers(self.method, self.original_url, headers)
            return response
        writer = StreamWriter(
            protocol,
            self.loop,
            on_chunk_sent=self._on_chunk_request_sent if traces else None,
            on_headers_sent=self._on_headers_request_sent if traces else None,
        )
        if self.compress:
            writer.enable_compression(self.compress)
        if self.chunked:
            writer.enable_chunking()
        await writer.write_headers(status_line, headers)
        task = self.loop.create_task(self._write_body(writer, conn))
        self._writer_task = task
        response._set_writer(task)
        return response

    async def _write_body(self, writer: StreamWriter, conn: Connection) -> None:
        """Send the body (after 100 Continue when asked); failures close the connection."""
        protocol = conn.protocol
        try:
            if self._continue is not None:
                writer.send_headers()
                await writer.drain()
                await self._continue
            body = self.body
            if isinstance(body, payload.Payload):
                content_length = None if self.chunked else body.size
                await body.write_with_length(writer, content_length)
            elif body:
                await writer.write(body)
            await writer.write_eof()
        except OSError as exc:
            if protocol is not None:
                if exc.errno is None and isinstance(exc, asyncio.TimeoutError):
                    protocol.fail(exc)
                else:
                    err = ClientOSError(exc.errno, f"Can not write request body for {self.url}")
                    err.__cause__ = exc
                    protocol.fail(err)
        except asyncio.CancelledError:
            if not conn.closed:
                conn.close()
            raise
        except Exception as exc:
            if protocol is not None:
                protocol.fail(exc)
        finally:
            self._writer_task = None

    async def close(self) -> None:
        task = self._writer_task
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(task)

    def terminate(self) -> None:
        task = self._writer_task
        if task is not None:
            if not self.loop.is_closed():
                task.cancel()
            self._writer_task = None

    async def _on_chunk_request_sent(self, chunk: bytes | bytearray | memoryview) -> None:
        for trace in self._traces:
            await trace.send_request_chunk_sent(self.method, self.original_url, bytes(chunk))

    async def _on_headers_request_sent(self, headers: CIMultiDict[str]) -> None:
        for trace in self._traces:
            await trace.send_request_headers(self.method, self.original_url, headers)

    def __repr__(self) -> str:
        return f"<ClientRequest({self.method} {self.url})>"


_USER_AGENT: Final = _user_agent()

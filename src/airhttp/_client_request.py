"""ClientRequest: one HTTP request, built from the user's arguments and written out.

Builds the head and body and writes them to a lent connection; reading the
answer is ClientResponse's job and choosing the connection is the connector's.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import Iterable, Mapping, Sequence
from http.cookies import Morsel, SimpleCookie
from typing import TYPE_CHECKING, Any, Final, cast

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict
from yarl import URL

from . import hdrs, payload
from ._body_upload import (
    SPENT,
    BodyUpload,
    UploadCallback,
    body_total,
    close_in_background,
    content_length,
    never_reuse,
    trace_whole_body,
    when_whole_body_sent,
    write_stream_body,
    write_whole,
)
from ._client_response import ClientResponse, record_upload
from ._cookie_parsing import preserve_morsel_with_coded_value
from ._h2_head import HttpVersion20, request_fields
from ._httpversion import HttpVersion, HttpVersion10, HttpVersion11, parse_version
from ._proxy import prepare_proxied_headers
from ._reqrep_types import ConnectionKey, Fingerprint, RequestInfo
from ._socks_proxy import is_socks
from ._upload_tracker import UploadTracker, add_bytes, start_attempt, writing
from .client_exceptions import (
    ClientConnectionError,
    ClientOSError,
    ClientPayloadError,
    InvalidURL,
)
from .compression_utils import HAS_BROTLI, HAS_ZSTD
from .formdata import FormData
from .helpers import BasicAuth, basicauth_from_netrc, netrc_from_env
from .http import SERVER_SOFTWARE
from .http_writer import Http2BodyWriter, StreamWriter, serialize_headers

if TYPE_CHECKING:
    import ssl

    from ._interfaces import SessionLike, StreamChannel, TraceHooks
    from ._pool import Connection
    from .client_proto import ResponseHandler

__all__ = ("ClientRequest",)

_SSL_SCHEMES: Final = frozenset({"https", "wss"})
_TOKEN_CHARS: Final = frozenset(
    "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
# The encodings StreamWriter can produce. aiohttp labels any other `compress` value
# as asked but sends deflate data under it; refusing up front is the honest answer.
_COMPRESSIONS: Final = frozenset({"deflate", "gzip"})
# Payloads that hold their whole body as bytes in `_value` and write exactly that:
# they go out with the head in one transport.write, with no writer task.
_WHOLE_BODY_TYPES: Final = frozenset(
    {
        payload.BytesPayload,
        payload.StringPayload,
        payload.StringIOPayload,
        payload.JsonPayload,
        payload.JsonBytesPayload,
    }
)
_PLAIN_BODY_TYPES: Final = frozenset({bytes, bytearray, memoryview, str})
# Up to this size a body written whole cannot fill an idle transport (its high-water mark
# is 64 KiB): no need to look whether writing paused.
_SMALL_BODY: Final = 65536
_CONSUMED_BODY: Final = (
    "Cannot send a request body that has already been consumed: an async iterable "
    "or a non-seekable stream can be read only once. Use bytes or a seekable "
    "file-like object."
)


def _default_accept_encoding() -> str:
    encodings = ["gzip", "deflate"]
    if HAS_BROTLI:
        encodings.append("br")
    if HAS_ZSTD:
        encodings.append("zstd")
    return ", ".join(encodings)


def _discard_unsent(data: Any) -> None:
    """Close the files a refused request's `data` holds (a file, a payload, a form)."""
    if isinstance(data, io.IOBase):
        data.close()
        return
    if isinstance(data, FormData):
        try:
            data = data()
        except Exception:
            return  # a form that cannot be built has no payload to close
    if isinstance(data, payload.Payload) and payload.needs_close(data):
        close_in_background(data)


class ClientRequest:
    """An HTTP request about to be sent; the session makes one per attempt.

    No __slots__: middlewares and `request_class` subclasses attach attributes to
    requests, as aiohttp lets them.
    """

    GET_METHODS: Final = {hdrs.METH_GET, hdrs.METH_HEAD, hdrs.METH_OPTIONS, hdrs.METH_TRACE}
    POST_METHODS: Final = {hdrs.METH_PATCH, hdrs.METH_POST, hdrs.METH_PUT}
    ALL_METHODS: Final = GET_METHODS.union(POST_METHODS).union({hdrs.METH_DELETE})

    DEFAULT_HEADERS: Final[Mapping[str, str]] = {
        hdrs.ACCEPT: "*/*",
        hdrs.ACCEPT_ENCODING: _default_accept_encoding(),
    }

    # Class-level defaults: the common request never stores these per instance.
    _body: payload.Payload | bytes = b""
    auth: BasicAuth | None = None
    response: ClientResponse | None = None
    _writer_task: asyncio.Task[None] | None = None
    _continue: asyncio.Future[bool] | None = None
    _skip_auto_headers: CIMultiDict[None] | None = None
    _auto_chunked = False  # chunked framing chosen only because the body's size is unknown
    _needs_content_type = False  # POST/PUT/PATCH without a body: octet-stream when sent
    # "Connection: upgrade" was asked for: the connection never goes back to the pool.
    _upgrade = False
    # How the last attempt's body went out: its streamed upload; True once written whole;
    # the protocol whose transport was full after a whole body; False if nothing was sent.
    _sent: BodyUpload | ResponseHandler | bool = False
    # The upload_tracker= of the request (aiohttp 3.14.4), set by the session.
    upload_tracker: UploadTracker | None = None

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
        version: HttpVersion | str = HttpVersion11,
        compress: str | bool | None = None,
        chunked: bool | None = None,
        expect100: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
        response_class: type[ClientResponse] | None = None,
        proxy: URL | None = None,
        proxy_auth: BasicAuth | None = None,
        timer: Any = None,
        session: SessionLike | None = None,
        ssl: ssl.SSLContext | bool | Fingerprint = True,
        proxy_headers: Any = None,
        traces: Sequence[TraceHooks] | None = None,
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
            bad = next(char for char in method if char not in _TOKEN_CHARS)
            raise ValueError(
                f"Method cannot contain non-token characters {method!r} (found at least {bad!r})"
            )
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
        if version.__class__ is str:
            version = parse_version(version)
        self.version: HttpVersion = version  # type: ignore[assignment]
        self.proxy: URL | None = None
        self.proxy_auth: BasicAuth | None = None
        self.proxy_headers: CIMultiDict[str] | None = None
        self._connection_key: ConnectionKey | None = None

        self.update_host(self.url)
        self.update_headers(headers)
        self.update_auto_headers(skip_auto_headers)
        if cookies:
            self.update_cookies(cookies)
        self.update_content_encoding(data, compress)
        self.update_auth(auth, trust_env)
        if proxy is not None:
            self.update_proxy(proxy, proxy_auth, proxy_headers)
        self.update_body_from_data(data)
        if data is not None or method not in self.GET_METHODS:
            self.update_transfer_encoding()
            if data is None and method in self.POST_METHODS:
                self._needs_content_type = True
        self.update_expect_continue(expect100)

    # --- read-only views ---------------------------------------------------------------

    @property
    def body(self) -> payload.Payload | bytes:
        """The body payload, or b"" without one. Replace it with `update_body()`."""
        return self._body

    @body.setter
    def body(self, value: Any) -> None:
        # aiohttp allows direct assignment; headers follow and a replaced file is closed.
        old = self._body
        self._replace_body(value)
        if old is not self._body and isinstance(old, payload.Payload) and not old.autoclose:
            close_in_background(old)

    @property
    def is_upgrade(self) -> bool:
        """Whether the request asks to switch protocols ("Connection: upgrade")."""
        return self._upgrade

    @property
    def body_spent(self) -> bool:
        """Whether the body was read by an attempt and cannot be sent again."""
        body = self._body
        return body.__class__ is not bytes and (body.consumed or body in SPENT)  # type: ignore[union-attr]

    @property
    def ssl(self) -> ssl.SSLContext | bool | Fingerprint:
        return self._ssl

    @property
    def session(self) -> Any:
        """The ClientSession that made this request (None for one built by hand).

        Typed Any: ClientSession lives above this module, and middleware code calls its
        request methods, which a narrower Protocol would not offer.
        """
        return self._session

    @property
    def traces(self) -> Sequence[TraceHooks]:
        """The tracers of this request's call, one per TraceConfig: what middlewares fire."""
        return self._traces

    def time_left(self) -> float | None:
        """Seconds left of the call's `total` timeout (None: it has none); for middlewares."""
        return None if self._timer is None else float(self._timer.remaining())

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
            url = self.url
            # tuple.__new__ skips the NamedTuple's Python-level __new__ (one call per request).
            key = self._connection_key = tuple.__new__(
                ConnectionKey,
                (
                    url.raw_host or "",
                    url.port,
                    url.scheme in _SSL_SCHEMES,
                    self._ssl,
                    self.proxy,
                    self.proxy_auth,
                    hash(tuple(proxy_headers.items())) if proxy_headers else None,
                    self.server_hostname,
                ),
            )
        return key

    @property
    def request_info(self) -> RequestInfo:
        # Built without RequestInfo.__new__'s defaulting: one Python call less per request.
        headers = CIMultiDictProxy(self.headers)
        return tuple.__new__(RequestInfo, (self.url, self.method, headers, self.original_url))

    # --- building ----------------------------------------------------------------------

    def update_host(self, url: URL) -> None:
        """Check that `url` names a host; take Basic credentials from its userinfo."""
        if not url.raw_host:
            raise InvalidURL(url)
        # RFC 9110 11.2: credentials in the URL become Basic auth, never part of the target.
        if url.raw_user or url.raw_password:
            self.auth = BasicAuth(url.user or "", url.password or "")

    def update_version(self, version: HttpVersion | str) -> None:
        """Set the HTTP version from a tuple or a "1.1"-style string."""
        self.version = parse_version(version) if isinstance(version, str) else version

    def update_headers(self, headers: Any) -> None:
        """Start the headers with Host, then the caller's (repeated names kept)."""
        self.headers: CIMultiDict[str] = CIMultiDict()
        # RFC 9110 7.2: Host first. RFC 9112 3.2: every HTTP/1.1 request carries it,
        # so (as in aiohttp) skip_auto_headers cannot remove it; a caller's value replaces it.
        self.headers[hdrs.HOST] = self.url.host_port_subcomponent or ""
        if not headers:
            return
        if type(headers) is CIMultiDict and hdrs.HOST not in headers:
            # What the session passes: one bulk copy instead of a per-item loop.
            self.headers.extend(headers)
        else:
            if isinstance(headers, (dict, MultiDict, CIMultiDict, CIMultiDictProxy)):
                items: Iterable[tuple[str, str]] = headers.items()
            else:
                items = headers
            for key, value in items:
                if key.lower() == "host":
                    self.headers[key] = value
                else:
                    self.headers.add(key, value)
        connection = self.headers.get(hdrs.CONNECTION)
        if connection is not None and "upgrade" in connection.lower():
            self._upgrade = True

    def update_auto_headers(self, skip_auto_headers: Iterable[str] | None) -> None:
        """Add Accept, Accept-Encoding and User-Agent unless given or skipped."""
        headers = self.headers
        skip: Iterable[str] = ()
        if skip_auto_headers is not None:
            skip = self._skip_auto_headers = CIMultiDict(
                (h, None) for h in sorted(skip_auto_headers)
            )
        elif len(headers) == 1 and self.DEFAULT_HEADERS == _STOCK_DEFAULT_HEADERS:
            # Only Host so far (no request or session headers) and the stock defaults:
            # one bulk add instead of a lookup and a store per header.
            headers.extend(_STOCK_AUTO_HEADERS)
            return
        for hdr, val in (*self.DEFAULT_HEADERS.items(), (hdrs.USER_AGENT, _USER_AGENT)):
            if hdr not in headers and hdr not in skip:
                headers[hdr] = val

    def update_cookies(self, cookies: Any) -> None:
        """Add `cookies` to the Cookie header."""
        if not cookies:
            return
        c: SimpleCookie = SimpleCookie()
        if hdrs.COOKIE in self.headers:
            c.load(self.headers.get(hdrs.COOKIE, ""))
            del self.headers[hdrs.COOKIE]
        items = cookies.items() if isinstance(cookies, Mapping) else cookies
        for name, value in items:
            if isinstance(value, Morsel):
                # Keeps the coded value, and names Morsel.set() refuses ("Version", "a(b").
                value = preserve_morsel_with_coded_value(value)
            c[name] = value
        self.headers[hdrs.COOKIE] = c.output(header="", sep=";").strip()

    def update_content_encoding(self, data: Any, compress: str | bool | None = None) -> None:
        """Compress the body when asked; refuse when the caller already encoded it."""
        if not data:
            return
        if self.headers.get(hdrs.CONTENT_ENCODING):
            if compress:
                raise ValueError("compress can not be set if Content-Encoding header is set")
        elif compress:
            encoding = compress.lower() if isinstance(compress, str) else "deflate"
            if encoding not in _COMPRESSIONS:
                # aiohttp would send this request and then close the body's files; we
                # refuse it, so we close them here rather than leave them to the GC.
                _discard_unsent(data)
                raise ValueError(
                    f"compress={compress!r} is not supported: use 'deflate' or 'gzip', "
                    "or send pre-compressed data with a Content-Encoding header"
                )
            self.compress = encoding
            self.headers[hdrs.CONTENT_ENCODING] = encoding
            self.chunked = True

    def update_auth(self, auth: BasicAuth | None, trust_env: bool = False) -> None:
        """Set the Authorization header from `auth`, the URL or (with trust_env) .netrc."""
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

    def update_body_from_data(self, body: Any) -> None:
        """Wrap `body` in a payload; add its Content-Length (if known) and type headers."""
        if body is None:
            return
        if isinstance(body, FormData):
            body = body()
        try:
            if body.__class__ in _PLAIN_BODY_TYPES:
                # Only file payloads read `disposition`; leaving it out saves ~0.2 us (timeit).
                body = payload.PAYLOAD_REGISTRY.get(body)
            else:
                body = payload.PAYLOAD_REGISTRY.get(body, disposition=None)
        except payload.LookupError:
            body = FormData(body)()
        self._body = body
        headers = self.headers
        if not self.chunked and hdrs.CONTENT_LENGTH not in headers:
            size = body.size
            if size is not None:
                headers[hdrs.CONTENT_LENGTH] = str(size)
            else:
                self.chunked = True
                self._auto_chunked = True
        skip = self._skip_auto_headers
        if body.__class__ in _WHOLE_BODY_TYPES and not body.headers_built:
            # Only a Content-Type to add: not building the payload's header dict saves
            # ~0.3 us per POST (timeit).
            if hdrs.CONTENT_TYPE not in headers and (skip is None or hdrs.CONTENT_TYPE not in skip):
                headers[hdrs.CONTENT_TYPE] = body.content_type
            return
        for key, value in body.headers.items():
            if key in headers or (skip is not None and key in skip):
                continue
            headers[key] = value

    def update_transfer_encoding(self) -> None:
        """Check the caller's framing headers against `chunked`, then frame the body."""
        headers = self.headers
        user_chunked = self.chunked and not self._auto_chunked
        if user_chunked and "chunked" in headers.get(hdrs.TRANSFER_ENCODING, "").lower():
            raise ValueError('chunked can not be set if "Transfer-Encoding: chunked" header is set')
        if user_chunked and hdrs.CONTENT_LENGTH in headers:
            raise ValueError("chunked can not be set if Content-Length header is set")
        self._frame_body()

    def _frame_body(self) -> None:
        headers = self.headers
        te = headers.get(hdrs.TRANSFER_ENCODING)
        if te is not None and "chunked" in te.lower():
            # The caller asked for chunked coding by header: frame the body that way, and
            # never with a Content-Length beside it (RFC 9112 6.1: a sender MUST NOT).
            self.chunked = True
            headers.popall(hdrs.CONTENT_LENGTH, None)
        elif self.chunked:
            headers[hdrs.TRANSFER_ENCODING] = "chunked"
        elif hdrs.CONTENT_LENGTH not in headers:
            body = self._body
            size = body.size if isinstance(body, payload.Payload) else len(body)
            headers[hdrs.CONTENT_LENGTH] = str(size or 0)

    def update_expect_continue(self, expect: bool = False) -> None:
        """Ask for 100 Continue before the body (also when the caller set Expect)."""
        if expect:
            self.headers[hdrs.EXPECT] = "100-continue"
        elif self.headers.get(hdrs.EXPECT, "").lower() == "100-continue":
            expect = True
        if expect:
            self._continue = self.loop.create_future()

    def next_continue_waiter(self) -> asyncio.Future[bool] | None:
        """The 100 Continue waiter of the exchange about to start, None without Expect.

        Sent before (a retry, or a middleware sending again): each exchange waits for
        its own 100 Continue, so a spent waiter is replaced.
        """
        waiter = self._continue
        if waiter is not None and waiter.done():
            waiter = self._continue = self.loop.create_future()
        return waiter

    async def update_body(self, body: Any) -> None:
        """Replace the body (middlewares); close the old payload; headers follow.

        Content-Length, chunked framing and the headers the old body brought
        (its Content-Type) are recomputed; headers the caller set are kept.
        """
        old = self._body
        self._replace_body(body)
        if old is not self._body and isinstance(old, payload.Payload):
            await old.close()

    def _replace_body(self, body: Any) -> None:
        headers = self.headers
        old = self._body
        if isinstance(old, payload.Payload):
            for key, value in old.headers.items():
                if headers.get(key) == value:
                    headers.popall(key)
        headers.popall(hdrs.CONTENT_LENGTH, None)
        if self._auto_chunked:
            self._auto_chunked = False
            self.chunked = None
            if headers.get(hdrs.TRANSFER_ENCODING) == "chunked":
                del headers[hdrs.TRANSFER_ENCODING]
        self._body = b""
        self.update_body_from_data(body)
        method = self.method
        self._needs_content_type = body is None and method in self.POST_METHODS
        if body is not None or method not in self.GET_METHODS:
            self._frame_body()

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
        if self.proxy is not None and not self.is_ssl() and not is_socks(self.proxy):
            return str(url)
        return url.raw_path_qs or "/"

    def _add_late_headers(self, conn: Connection, version: HttpVersion) -> None:
        """Headers that depend on the connection: what aiohttp adds at send time."""
        headers = self.headers
        if self._needs_content_type:
            skip = self._skip_auto_headers
            if hdrs.CONTENT_TYPE not in headers and (skip is None or hdrs.CONTENT_TYPE not in skip):
                headers[hdrs.CONTENT_TYPE] = "application/octet-stream"
        if hdrs.CONNECTION in headers:
            return
        # RFC 9112 9.3: 1.1 connections persist unless "close"; 1.0 ones only with
        # "keep-alive". Say so when the connector's choice differs from the default.
        force_close = conn.force_close
        if version == HttpVersion11:
            if force_close:
                headers[hdrs.CONNECTION] = "close"
        elif version == HttpVersion10 and not force_close:
            headers[hdrs.CONNECTION] = "keep-alive"

    async def send(self, conn: Connection) -> ClientResponse:
        """Write the request to `conn` and return the response that will answer it."""
        protocol = conn.protocol
        if protocol is None:
            raise ClientConnectionError("Connection closed")
        transport = protocol.transport
        if transport is None or transport.is_closing():
            # The pool never lends such a connection; this is a race with the peer closing.
            raise ClientOSError("Cannot write to closing transport")
        body = self._body
        body_type = body.__class__
        streamed = self._continue is not None or (
            body_type is not bytes and body_type not in _WHOLE_BODY_TYPES
        )
        if protocol.multiplexed:
            # HTTP/2: one header block (ending the stream when there is no body), then
            # the body as DATA frames.
            status_line = ""
            cast("StreamChannel", transport).send_head(
                self._stream_head(conn), not streamed and body_type is bytes
            )
        else:
            status_line = self._status_line(conn)
            streamed = streamed or bool(self.chunked)
            if self._upgrade:
                # After a 101 the connection belongs to the new protocol; after a refusal
                # its state is unknown. Either way it is closed when released, never pooled.
                never_reuse(conn)
        writer: asyncio.Task[None] | None = None
        output_size = 0
        if streamed:
            writer = await self._start_writer(conn, protocol, status_line)
        else:
            sent: bytes | bytearray | memoryview | None = None
            if protocol.multiplexed:
                sent = write_stream_body(transport, body)
                output_size = 0 if sent is None else len(sent)
            elif body_type is bytes:
                head = serialize_headers(status_line, self.headers)
                transport.write(head)
                output_size = len(head)
            else:
                sent, head_size = write_whole(transport, conn, status_line, self.headers, body)  # type: ignore[arg-type]
                output_size = head_size + len(sent)
            size = 0 if sent is None else len(sent)
            self._sent = protocol if size > _SMALL_BODY and protocol.writing_paused else True
            tracker = self.upload_tracker
            if tracker is not None:
                writing(tracker, transport, None, size)
                add_bytes(tracker, size)
            if self._traces:
                await trace_whole_body(self._traces, self.method, self.url, self.headers, sent)
        response = self.response = self.response_class(
            self.method,
            self.original_url,
            writer=writer,
            continue100=self._continue,
            timer=self._timer,
            request_info=self.request_info,
            traces=self._traces,
            loop=self.loop,
            session=self._session,
        )
        upload = self._sent
        record_upload(response, upload if isinstance(upload, BodyUpload) else None, output_size)
        return response

    def _stream_head(self, conn: Connection) -> list[tuple[bytes, bytes]]:
        """The header block of an HTTP/2 request (RFC 9113 8.3.1)."""
        if self._needs_content_type:
            self._add_late_headers(conn, HttpVersion20)
        url = self.url
        return request_fields(
            self.method, url.scheme, url.raw_authority, self._target(), self.headers
        )

    def _status_line(self, conn: Connection) -> str:
        """The request line; adds the headers that depend on the connection or proxy."""
        method = self.method
        version = self.version
        if version is HttpVersion11 and not self._needs_content_type and not conn.force_close:
            http = "HTTP/1.1"
        else:
            self._add_late_headers(conn, version)
            http = f"HTTP/{version[0]}.{version[1]}"
        # Through a SOCKS tunnel only the origin reads the request: origin form, and
        # nothing for the proxy (its credentials went in the SOCKS handshake).
        http_proxy = self.proxy is not None and not is_socks(self.proxy)
        if not http_proxy and method != hdrs.METH_CONNECT:
            target = self.url.raw_path_qs or "/"
        else:
            target = self._target()
            if http_proxy:
                prepare_proxied_headers(self)
        return f"{method} {target} {http}"

    async def _start_writer(
        self, conn: Connection, protocol: ResponseHandler, status_line: str
    ) -> asyncio.Task[None] | None:
        """Write the head and start the task that streams the body; None if unsendable."""
        body = self._body
        body_type = body.__class__
        self._sent = False
        if self.body_spent:
            # Nothing is written; the error reaches the caller the way the response's
            # own failures do, through the head the session is about to wait for.
            protocol.fail(ClientPayloadError(_CONSUMED_BODY))
            return None
        traces = self._traces
        writer = (Http2BodyWriter if protocol.multiplexed else StreamWriter)(
            protocol,
            self.loop,
            on_chunk_sent=self._on_chunk_request_sent if traces else None,
            on_headers_sent=self._on_headers_request_sent if traces else None,
        )
        if self.compress:
            writer.enable_compression(self.compress)
        length: int | None = None
        if self.chunked:
            writer.enable_chunking()
        elif body_type is not bytes:
            length = writer.length = content_length(self.headers)
        await writer.write_headers(status_line, self.headers)
        tracker = self.upload_tracker
        upload = self._sent = BodyUpload(
            writer, conn, body, self.url, self._continue, length, tracker
        )
        if tracker is not None and protocol.transport is not None:
            writing(tracker, protocol.transport, writer, body_total(body, length, self.compress))
        task = self.loop.create_task(upload.run())
        task.add_done_callback(self._upload_ended)
        self._writer_task = task
        protocol.read_timeout_after(task)
        return task

    def _upload_ended(self, task: asyncio.Task[None]) -> None:
        if self._writer_task is task:
            self._writer_task = None

    # --- how the upload went ------------------------------------------------------------

    def answered_in_memory(self, size: int) -> None:
        """The body counts as sent whole (`size` bytes) in one attempt: for mock answers."""
        self._sent = True
        tracker = self.upload_tracker
        if tracker is not None:
            start_attempt(tracker)
            add_bytes(tracker, size)
            tracker.bytes_total = size

    def when_uploaded(self, callback: UploadCallback) -> None:
        """Call `callback(body fully sent?, its error)` once the last attempt's upload ended."""
        sent = self._sent
        if isinstance(sent, BodyUpload):
            sent.when_done(self._writer_task, callback)
        else:
            when_whole_body_sent(sent, callback)

    async def close(self) -> None:
        """Wait for the body upload to finish."""
        task = self._writer_task
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(task)

    def terminate(self) -> None:
        """Stop the body upload now."""
        task = self._writer_task
        if task is not None:
            if not self.loop.is_closed():
                task.cancel()
            self._writer_task = None

    async def close_body(self) -> None:
        """Close what the body holds (an open file) once no attempt will send it again.

        The session calls this after the last hop of a request; a body still being
        uploaded is closed when its upload ends.
        """
        body = self._body
        if isinstance(body, bytes) or not payload.needs_close(body):
            return
        task = self._writer_task
        if task is not None and not task.done():
            task.add_done_callback(lambda _: close_in_background(body))
            return
        await body.close()

    async def _on_chunk_request_sent(self, chunk: bytes | bytearray | memoryview) -> None:
        data = bytes(chunk)
        for trace in self._traces:
            await trace.send_request_chunk_sent(self.method, self.url, data)

    async def _on_headers_request_sent(self, headers: CIMultiDict[str]) -> None:
        for trace in self._traces:
            await trace.send_request_headers(self.method, self.url, headers)

    def __repr__(self) -> str:
        return f"<ClientRequest({self.method} {self.url})>"


# http.SERVER_SOFTWARE names aiohttp as well, for servers that look for it.
_USER_AGENT: Final = SERVER_SOFTWARE
# What update_auto_headers adds to a request with only Host, unless a subclass or a caller
# changed DEFAULT_HEADERS (then it takes the header-by-header path).
_STOCK_DEFAULT_HEADERS: Final = dict(ClientRequest.DEFAULT_HEADERS)
_STOCK_AUTO_HEADERS: Final = (*_STOCK_DEFAULT_HEADERS.items(), (hdrs.USER_AGENT, _USER_AGENT))

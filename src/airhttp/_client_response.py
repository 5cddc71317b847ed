"""ClientResponse: the answer to one request, its head and its body.

Waits for the head from the connection's protocol, then serves the body either
from the bytes that arrived whole or from a stream. It never writes to the wire.
"""

from __future__ import annotations

import asyncio
import codecs
import functools
import json
import re
import sys
import traceback
import warnings
import weakref
from collections.abc import Callable, Iterable, Sequence
from email.message import Message
from email.policy import HTTP
from functools import partial
from http.cookies import SimpleCookie
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, Final

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy
from yarl import URL

from . import hdrs
from ._cookie_parsing import response_cookies
from ._httpversion import HttpVersion
from ._mime import content_disposition_filename, parse_content_disposition
from ._reqrep_types import ContentDisposition, RequestInfo
from .client_exceptions import ClientConnectionError, ClientResponseError, ContentTypeError
from .helpers import HeadersMixin
from .http_exceptions import HttpProcessingError
from .streams import EMPTY_PAYLOAD, StreamReader

if TYPE_CHECKING:
    from ._interfaces import SentUpload, SessionLike, TraceHooks
    from ._pool import Connection
    from .http_parser import RawResponseMessage

__all__ = ("ClientResponse", "fill_canned", "record_upload")

_EMPTY_HEADERS: Final[CIMultiDictProxy[str]] = CIMultiDictProxy(CIMultiDict())
# RFC 9110 8.3: without a usable Content-Type a recipient may assume octet-stream.
_OCTET_STREAM: Final = "application/octet-stream"
# RFC 8259 8.1 (and RFC 9083 for RDAP): these bodies are UTF-8 whatever else is said.
_UTF8_TYPES: Final = frozenset({"application/json", "application/rdap+json"})
# RFC 6839 3.1: a "+json" structured syntax suffix marks JSON too.
_JSON_TYPE_RE: Final = re.compile(r"application/(?:[\w.+-]+?\+)?json")
# aiohttp 3.14.4's deprecation text for the upload counters of a response.
_USE_TRACKER: Final = "ClientResponse.{} is deprecated, use aiohttp.UploadTracker instead"
# RFC 9110 6.4.1: answers to HEAD, 1xx, 204 and 304 never carry content.
_NO_CONTENT_STATUSES: Final = frozenset({204, 304})


class _NoFlowControl:
    """Flow-control target for a stream made from a body already in memory."""

    __slots__ = ()

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


_NO_FLOW_CONTROL: Final = _NoFlowControl()


def _default_charset_resolver(response: ClientResponse, body: bytes) -> str:
    return "utf-8"


def _connection_closed() -> ClientConnectionError:
    return ClientConnectionError("Connection closed")


# --- Content-Type ------------------------------------------------------------------------

# Values made only of these characters parse the same with a split as with the email
# package; anything else (quotes, comments, RFC 2231 "*", odd bytes) takes the slow path.
_PLAIN_CONTENT_TYPE_CHARS: Final = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&+-.^_`|~/;= \t"
)
_BLANKS: Final = " \t"


def _parse_plain_content_type(raw: str) -> tuple[str, str | None] | None:
    """`type/subtype; name=value` made of tokens only; None for anything less plain."""
    if not _PLAIN_CONTENT_TYPE_CHARS.issuperset(raw):
        return None
    main, _, params = raw.partition(";")
    mimetype = main.strip(_BLANKS).lower()
    kind, _, subtype = mimetype.partition("/")
    if not kind or not subtype or "/" in subtype or " " in mimetype or "\t" in mimetype:
        return None
    if "/" in params:
        return None  # the email package ends a parameter's value at a "/"
    charset: str | None = None
    for param in params.split(";"):
        param = param.strip(_BLANKS)
        if not param:
            continue
        name, eq, value = param.partition("=")
        name = name.rstrip(_BLANKS)
        value = value.lstrip(_BLANKS)
        if not eq or not name or not value or "=" in value:
            return None
        if " " in name or "\t" in name or " " in value or "\t" in value:
            return None
        if charset is None and name.lower() == "charset":
            charset = value
    return mimetype, charset


def _parse_content_type_slowly(raw: str) -> tuple[str, str | None]:
    # aiohttp reads Content-Type with the stdlib email parser (HTTP policy); odd values
    # go through the same parser so that they come out the same way.
    message = Message(policy=HTTP)
    try:
        message["content-type"] = raw
        header: Any = message["content-type"]
        mimetype = str(header).partition(";")[0].strip().lower()
        charset = header.params.get("charset")
    except Exception:
        return _OCTET_STREAM, None
    if mimetype.count("/") != 1:
        mimetype = _OCTET_STREAM
    return mimetype, charset


@functools.lru_cache(maxsize=64)
def _parse_content_type(raw: str) -> tuple[str, str | None]:
    """The media type (lower case) and charset parameter of a Content-Type value."""
    parsed = _parse_plain_content_type(raw)
    if parsed is None:
        parsed = _parse_content_type_slowly(raw)
    return parsed


# --- Link (RFC 8288) ---------------------------------------------------------------------

# Links are split only at a comma that starts another "<...>", so commas inside a
# target or a quoted parameter survive; this is the split aiohttp makes.
_LINK_SPLIT_RE: Final = re.compile(r",(?=\s*<)")
_LINK_RE: Final = re.compile(r"\s*<(.*)>(.*)")
_LINK_PARAM_RE: Final = re.compile(r"""\s*([^\s=]+)\s*=\s*(?:(["'])(.*?)\2|(\S*))\s*""")


def _parse_links(headers: Iterable[str], base: URL) -> MultiDictProxy[MultiDictProxy[str | URL]]:
    links: MultiDict[MultiDictProxy[str | URL]] = MultiDict()
    for header in headers:
        for link in _LINK_SPLIT_RE.split(header):
            match = _LINK_RE.match(link)
            if match is None:
                continue
            target, params = match.groups()
            link_data: MultiDict[str | URL] = MultiDict()
            for param in params.split(";"):
                param_match = _LINK_PARAM_RE.fullmatch(param)
                if param_match is None:
                    continue
                key, _, quoted, bare = param_match.groups()
                link_data.add(key, bare if quoted is None else quoted)
            rel = link_data.get("rel", target)
            link_data.add("url", base.join(URL(target)))
            links.add(str(rel), MultiDictProxy(link_data))
    return MultiDictProxy(links)


# --- the response ------------------------------------------------------------------------


class ClientResponse(HeadersMixin):
    """A response: status and headers once `start()` returns, then the body.

    No ``__slots__``: aiohttp's class takes arbitrary attributes and subclasses rely on
    that. Defaults live on the class so that ``__init__`` only sets what differs. A
    HeadersMixin as in aiohttp (isinstance checks), with its own faster header views.
    """

    version: HttpVersion | None = None
    status: int = None  # type: ignore[assignment]
    reason: str | None = None
    _headers: CIMultiDictProxy[str] = _EMPTY_HEADERS
    _message: RawResponseMessage | None = None
    _connection: Connection | None = None
    _content: StreamReader | None = None
    # The whole body as the protocol handed it over, not yet asked for by the user.
    _arrived: bytes | None = None
    # The body once read() returned it; text(), json() and get_encoding() use it.
    _body: bytes | None = None
    _writer: asyncio.Task[None] | None = None
    _cookies: SimpleCookie | None = None
    _links: MultiDictProxy[MultiDictProxy[str | URL]] | None = None
    _content_disposition: ContentDisposition | None = None
    _history: tuple[ClientResponse, ...] = ()
    _source_traceback: traceback.StackSummary | None = None
    _closed = True
    _released = False
    _in_context = False
    # The limits of the stream made from a body that arrived whole (read_bufsize).
    _read_bufsize = 2**16
    # How the request's body went out, set by the request: a streamed upload, or the size
    # of head and body written at once.
    _upload: SentUpload | None = None
    _upload_size = 0
    _upload_complete: asyncio.Future[None] | None = None

    def __init__(
        self,
        method: str,
        url: URL,
        *,
        writer: asyncio.Task[None] | None,
        continue100: asyncio.Future[bool] | None,
        timer: Any,
        request_info: RequestInfo,
        traces: Sequence[TraceHooks],
        loop: asyncio.AbstractEventLoop,
        session: SessionLike | None,
        **kwargs: Any,
    ) -> None:
        self.method = method
        self._real_url = url
        self._url = url.with_fragment(None) if url.raw_fragment else url
        if writer is not None:
            self._writer = writer
        self._continue = continue100
        self._request_info = request_info
        self._timer = timer
        self._traces = traces
        self._loop = loop
        self._session = session
        if session is None:
            self._resolve_charset: Callable[[ClientResponse, bytes], str] = (
                _default_charset_resolver
            )
        else:
            self._resolve_charset = session.fallback_charset_resolver
        if loop.get_debug():
            self._source_traceback = traceback.extract_stack(sys._getframe(1))

    # --- head ----------------------------------------------------------------------------

    @property
    def url(self) -> URL:
        return self._url

    @property
    def url_obj(self) -> URL:
        warnings.warn("Deprecated, use .url #1654", DeprecationWarning, stacklevel=2)
        return self._url

    @property
    def real_url(self) -> URL:
        """The URL as requested, fragment included."""
        return self._real_url

    @property
    def host(self) -> str:
        host = self._url.host
        assert host is not None
        return host

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        return self._headers

    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        message = self._message
        return () if message is None else message.raw_headers

    @property
    def request_info(self) -> RequestInfo:
        return self._request_info

    @property
    def output_size(self) -> int:
        """Bytes of head and body written for this response's request (deprecated)."""
        warnings.warn(_USE_TRACKER.format("output_size"), DeprecationWarning, stacklevel=2)
        upload = self._upload
        return self._upload_size if upload is None else upload.sent_size()

    @property
    def upload_complete(self) -> asyncio.Future[None]:
        """Done (with None, as in aiohttp, whatever happened) once the upload task ended.

        Deprecated: `UploadTracker.upload_complete` tells a sent body from a failed one.
        """
        warnings.warn(_USE_TRACKER.format("upload_complete"), DeprecationWarning, stacklevel=2)
        future = self._upload_complete
        if future is None:
            future = self._upload_complete = self._loop.create_future()
            task = self._writer
            if task is None or task.done():
                future.set_result(None)
            else:
                task.add_done_callback(partial(_resolve, future))
        return future

    @property
    def history(self) -> tuple[ClientResponse, ...]:
        """The redirect responses that led here, oldest first."""
        return self._history

    @history.setter
    def history(self, history: tuple[ClientResponse, ...]) -> None:
        # The session sets it once the last hop is known.
        self._history = history

    @property
    def connection(self) -> Connection | None:
        return self._connection

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def ok(self) -> bool:
        """True for a status below 400."""
        return self.status < 400

    @property
    def content_type(self) -> str:
        """The media type, lower case; application/octet-stream when absent or invalid."""
        raw = self._headers.get(hdrs.CONTENT_TYPE)
        if raw is None:
            return _OCTET_STREAM
        return _parse_content_type(raw)[0]

    @property
    def charset(self) -> str | None:
        """The charset parameter of Content-Type as sent, or None."""
        raw = self._headers.get(hdrs.CONTENT_TYPE)
        if raw is None:
            return None
        return _parse_content_type(raw)[1]

    @property
    def content_length(self) -> int | None:
        raw = self._headers.get(hdrs.CONTENT_LENGTH)
        return None if raw is None else int(raw)

    @property
    def content_disposition(self) -> ContentDisposition | None:
        disposition = self._content_disposition
        if disposition is None:
            raw = self._headers.get(hdrs.CONTENT_DISPOSITION)
            if raw is None:
                return None
            disposition_type, params = parse_content_disposition(raw)
            disposition = self._content_disposition = ContentDisposition(
                disposition_type, MappingProxyType(params), content_disposition_filename(params)
            )
        return disposition

    @property
    def cookies(self) -> SimpleCookie:
        """The Set-Cookie fields as a SimpleCookie (the last cookie of a name wins)."""
        cookies = self._cookies
        if cookies is None:
            cookies = self._cookies = response_cookies(self._headers.getall(hdrs.SET_COOKIE, ()))
        return cookies

    @cookies.setter
    def cookies(self, cookies: SimpleCookie) -> None:
        self._cookies = cookies

    @property
    def links(self) -> MultiDictProxy[MultiDictProxy[str | URL]]:
        """RFC 8288 Link fields, keyed by rel (or target); targets joined to the URL."""
        links = self._links
        if links is None:
            links = self._links = _parse_links(self._headers.getall(hdrs.LINK, ()), self._url)
        return links

    def __repr__(self) -> str:
        # Kept ASCII like aiohttp's, so that logging one never fails on encoding.
        url = str(self._url).encode("ascii", "backslashreplace").decode("ascii")
        reason = (
            self.reason.encode("ascii", "backslashreplace").decode("ascii") if self.reason else None
        )
        return f"<ClientResponse({url}) [{self.status} {reason}]>\n{self._headers!r}\n"

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self, connection: Connection) -> ClientResponse:
        """Wait for the response head on `connection`."""
        self._closed = False
        self._connection = connection
        protocol = connection.protocol
        assert protocol is not None
        try:
            message = await protocol.response_head()
        except HttpProcessingError as exc:
            raise ClientResponseError(
                self._request_info,
                self._history,
                status=exc.code,
                message=exc.message,
                headers=exc.headers,
            ) from exc
        self._message = message
        self.version = message.version
        self.status = message.code
        self.reason = message.reason
        self._headers = message.headers
        if message.upgrade:
            return self
        if protocol.body_complete:
            body = protocol.take_body()
            if body is not None:
                self._arrived = body
                read_bufsize = protocol.read_bufsize
                if read_bufsize != 2**16:
                    self._read_bufsize = read_bufsize
            else:
                self._content = protocol.payload()
            self._response_eof()
        else:
            self._content = protocol.payload()
            # Held weakly: a response dropped half-read must stay collectable, or its
            # connection (kept alive by the transport) would hold a pool slot forever.
            protocol.on_complete(_weak_callback(self))
        return self

    def _response_eof(self) -> None:
        """The body has been read off the wire: the connection can go back to the pool."""
        if self._closed:
            return
        writer = self._writer
        if writer is not None and not writer.done():
            # Never hand out a connection whose request body is still being written.
            writer.add_done_callback(lambda _: self._response_eof())
            return
        self._closed = True
        self._release_connection()

    def _release_connection(self) -> None:
        connection = self._connection
        if connection is not None:
            self._connection = None
            connection.release()

    @property
    def content(self) -> StreamReader:
        """The body as a stream; made from the whole body when it arrived at once."""
        content = self._content
        if content is None:
            content = self._content = self._stream_from_memory()
        return content

    @content.setter
    def content(self, value: StreamReader) -> None:
        self._content = value

    def _stream_from_memory(self) -> StreamReader:
        status = self.status
        if (
            self.method == hdrs.METH_HEAD
            or status in _NO_CONTENT_STATUSES
            or (status is not None and status < 200)
        ):
            return EMPTY_PAYLOAD
        stream = StreamReader(_NO_FLOW_CONTROL, self._read_bufsize, loop=self._loop)  # type: ignore[arg-type]
        body = self._arrived
        if body is not None:
            # From now on the stream is the body: read() drains it like any other.
            self._arrived = None
            if self._body is None:
                stream.feed_data(body)
            else:
                # read() already handed it out: the stream shows it as read, as aiohttp's.
                stream.total_bytes = len(body)
        stream.feed_eof()
        if self._released:
            stream.set_exception(_connection_closed())
        return stream

    async def read(self) -> bytes:
        """Read the whole body; raises ClientConnectionError once the response is released."""
        if self._released:
            raise _connection_closed()
        body = self._body
        if body is not None:
            return body
        body = self._arrived
        if body is None:
            if self.status is None:
                raise RuntimeError("Response is not started")
            try:
                body = await self.content.read()
            except BaseException:
                self.close()
                raise
        self._body = body
        traces = self._traces
        if traces:
            for trace in traces:
                await trace.send_response_chunk_received(self.method, self._url, body)
        return body

    def get_encoding(self) -> str:
        """The body's charset: from Content-Type, else JSON's utf-8, else the resolver's."""
        raw = self._headers.get(hdrs.CONTENT_TYPE)
        if raw is None:
            mimetype, charset = _OCTET_STREAM, None
        else:
            mimetype, charset = _parse_content_type(raw)
        if charset:
            try:
                return codecs.lookup(charset).name
            except (LookupError, ValueError):
                pass
        if mimetype in _UTF8_TYPES:
            return "utf-8"
        body = self._body
        if body is None:
            raise RuntimeError("Cannot compute fallback encoding of a not yet read body")
        return self._resolve_charset(self, body)

    async def text(self, encoding: str | None = None, errors: str = "strict") -> str:
        """Read the body and decode it."""
        body = self._body
        if body is None:
            body = await self.read()
        if encoding is None:
            encoding = self.get_encoding()
        return body.decode(encoding, errors)

    async def json(
        self,
        *,
        encoding: str | None = None,
        loads: Callable[[str], Any] = json.loads,
        content_type: str | None = "application/json",
    ) -> Any:
        """Read the body and decode it as JSON; None for an empty or blank body."""
        body = self._body
        if body is None:
            body = await self.read()
        if content_type:
            ctype = self._headers.get(hdrs.CONTENT_TYPE, "").lower()
            if content_type == "application/json":
                expected = _JSON_TYPE_RE.match(ctype) is not None
            else:
                expected = content_type in ctype
            if not expected:
                raise ContentTypeError(
                    self._request_info,
                    self._history,
                    status=self.status,
                    message=f"Attempt to decode JSON with unexpected mimetype: {ctype}",
                    headers=self._headers,
                )
        stripped = body.strip()
        if not stripped:
            return None
        if encoding is None:
            encoding = self.get_encoding()
        return loads(stripped.decode(encoding))

    def raise_for_status(self) -> None:
        """Raise ClientResponseError for a status of 400 or more."""
        if self.status >= 400:
            if not self._in_context:
                # Outside "async with" nobody else would give the connection back.
                self.release()
            raise ClientResponseError(
                self._request_info,
                self._history,
                status=self.status,
                message=self.reason or "",
                headers=self._headers,
            )

    def _mark_released(self) -> None:
        self._released = True
        content = self._content
        if content is not None:
            # Wake a pending reader now; later reads fail the same way.
            content.set_exception(_connection_closed())
            if not self._closed:
                # The protocol may still fail the old stream with its own error.
                self._content = self._stream_from_memory()

    def release(self) -> Any:
        """Give the connection back: to the pool if the body was read, else close it."""
        if not self._released:
            self._mark_released()
        self._closed = True
        writer = self._writer
        if writer is not None:
            upload_unfinished = not writer.done()
            self._cleanup_writer()
            if upload_unfinished and self._connection is not None:
                # A half-written request leaves the connection unusable: never pool it.
                connection, self._connection = self._connection, None
                connection.close()
                return _NOOP
        if self._connection is not None:
            self._release_connection()
        return _NOOP

    def close(self) -> None:
        """Close the connection without reading the rest of the body."""
        if not self._released:
            self._mark_released()
        if self._closed and self._connection is None:
            return
        self._closed = True
        if self._loop.is_closed():
            return
        self._cleanup_writer()
        connection = self._connection
        if connection is not None:
            self._connection = None
            connection.close()

    def _cleanup_writer(self) -> None:
        writer = self._writer
        if writer is not None and not writer.done():
            writer.cancel()
        self._writer = None
        self._session = None

    async def wait_for_close(self) -> None:
        """Wait until the request body is written, then release."""
        writer = self._writer
        if writer is not None and not writer.done():
            # wait() neither cancels the upload when we are cancelled nor mistakes the
            # upload's own cancellation for ours.
            await asyncio.wait((writer,))
        self.release()

    async def __aenter__(self) -> ClientResponse:
        self._in_context = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self._in_context = False
        # release() cancels an unfinished upload, so there is nothing left to wait for.
        self.release()

    def __del__(self, _warnings: Any = warnings) -> None:
        if self._closed:
            return
        connection = self._connection
        loop = self._loop
        if connection is None or loop.is_closed():
            return
        self._connection = None
        # The body was not read to its end, so the pool closes this connection.
        connection.release()
        self._cleanup_writer()
        if loop.get_debug():
            _warnings.warn(f"Unclosed response {self!r}", ResourceWarning, source=self)
            context: dict[str, Any] = {"client_response": self, "message": "Unclosed response"}
            if self._source_traceback is not None:
                context["source_traceback"] = self._source_traceback
            loop.call_exception_handler(context)


class _Noop:
    """What release() returns: awaiting it does nothing, as with aiohttp's."""

    __slots__ = ()

    def __await__(self) -> Any:
        return iter(())


_NOOP: Final = _Noop()


def _weak_callback(response: ClientResponse) -> Callable[[], None]:
    """`response._response_eof`, without keeping the response alive."""
    ref = weakref.ref(response)

    def response_eof() -> None:
        alive = ref()
        if alive is not None:
            alive._response_eof()

    return response_eof


def _resolve(future: asyncio.Future[None], _task: object) -> None:
    if not future.done():
        future.set_result(None)


def record_upload(response: ClientResponse, upload: SentUpload | None, size: int) -> None:
    """How the request's body went out: a streamed upload, or `size` bytes written at once."""
    if upload is not None:
        response._upload = upload
    else:
        response._upload_size = size


def fill_canned(
    response: ClientResponse,
    status: int,
    reason: str,
    headers: CIMultiDictProxy[str],
    body: bytes,
    version: HttpVersion,
) -> None:
    """Make a constructed `response` answer with this head and body, arrived whole.

    For test doubles (`airhttp.testing`): there is no connection, so nothing is left
    to read off a wire or to release. The body is dropped where HTTP allows none.
    """
    # Here, not at the top: the name is taken there by the type-only import of http_parser.
    from ._http_events import RawResponseMessage

    response._message = RawResponseMessage(
        version, status, reason, headers, False, None, False, False, len(body)
    )
    response.version = version
    response.status = status
    response.reason = reason
    response._headers = headers
    # RFC 9110 6.4.1: no content for HEAD, 1xx, 204 and 304, whatever was given.
    if body and not (
        response.method == hdrs.METH_HEAD or status in _NO_CONTENT_STATUSES or status < 200
    ):
        response._arrived = body

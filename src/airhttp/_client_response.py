"""ClientResponse: the answer to one request, its head and its body.

Waits for the head from the connection's protocol, then serves the body either
from the bytes that arrived whole or from a stream. It never writes to the wire.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
from collections.abc import Callable
from http.cookies import SimpleCookie
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, Final

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy
from yarl import URL

from . import hdrs
from ._httpversion import HttpVersion
from ._mime import parse_mimetype
from ._reqrep_types import ContentDisposition, RequestInfo
from .client_exceptions import ClientResponseError, ContentTypeError
from .http_exceptions import HttpProcessingError
from .streams import StreamReader

if TYPE_CHECKING:
    from .client import ClientSession
    from .connector import Connection
    from .http_parser import RawResponseMessage
    from .tracing import Trace

__all__ = ("ClientResponse",)

_EMPTY_HEADERS: Final[CIMultiDictProxy[str]] = CIMultiDictProxy(CIMultiDict())


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


def _is_json_type(mimetype: str) -> bool:
    # RFC 6839 3.1: "+json" structured syntax suffixes are JSON too.
    mime = parse_mimetype(mimetype)
    return mime.type == "application" and (mime.subtype == "json" or mime.suffix == "json")


class ClientResponse:
    """A response: status and headers once `start()` returns, then the body."""

    version: HttpVersion | None = None
    status: int = None  # type: ignore[assignment]
    reason: str | None = None
    _headers: CIMultiDictProxy[str] = _EMPTY_HEADERS
    _message: RawResponseMessage | None = None
    _connection: Connection | None = None
    _content: StreamReader | None = None
    _body: bytes | None = None
    _writer: asyncio.Task[None] | None = None
    _cookies: SimpleCookie | None = None
    _closed = True
    _released = False
    _in_context = False

    def __init__(
        self,
        method: str,
        url: URL,
        *,
        writer: asyncio.Task[None] | None,
        continue100: asyncio.Future[bool] | None,
        timer: Any,
        request_info: RequestInfo,
        traces: list[Trace],
        loop: asyncio.AbstractEventLoop,
        session: ClientSession | None,
        **kwargs: Any,
    ) -> None:
        self.method = method
        self._real_url = url
        self._url = url.with_fragment(None) if url.raw_fragment else url
        if writer is not None:
            self._set_writer(writer)
        self._continue = continue100
        self._request_info = request_info
        self._timer = timer
        self._history: tuple[ClientResponse, ...] = ()
        self._traces = traces
        self._loop = loop
        self._session = session
        if session is None:
            self._resolve_charset: Callable[[ClientResponse, bytes], str] = (
                _default_charset_resolver
            )
        else:
            self._resolve_charset = session._resolve_charset

    def _set_writer(self, writer: asyncio.Task[None]) -> None:
        self._writer = writer

    # --- head ----------------------------------------------------------------------------

    @property
    def url(self) -> URL:
        return self._url

    @property
    def real_url(self) -> URL:
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
    def history(self) -> tuple[ClientResponse, ...]:
        return self._history

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
        raw = self._headers.get(hdrs.CONTENT_TYPE)
        if not raw:
            # RFC 9110 8.3: a recipient may assume application/octet-stream.
            return "application/octet-stream"
        mime = parse_mimetype(raw)
        return f"{mime.type}/{mime.subtype}"

    @property
    def charset(self) -> str | None:
        raw = self._headers.get(hdrs.CONTENT_TYPE)
        if not raw:
            return None
        return parse_mimetype(raw).parameters.get("charset")

    @property
    def content_length(self) -> int | None:
        raw = self._headers.get(hdrs.CONTENT_LENGTH)
        return None if raw is None else int(raw)

    @property
    def content_disposition(self) -> ContentDisposition | None:
        raw = self._headers.get(hdrs.CONTENT_DISPOSITION)
        if raw is None:
            return None
        from .multipart import content_disposition_filename, parse_content_disposition

        disposition_type, params = parse_content_disposition(raw)
        params_proxy = MappingProxyType(params)
        return ContentDisposition(
            disposition_type, params_proxy, content_disposition_filename(params)
        )

    @property
    def cookies(self) -> SimpleCookie:
        cookies = self._cookies
        if cookies is None:
            cookies = SimpleCookie()
            for header in self._headers.getall(hdrs.SET_COOKIE, ()):
                with contextlib.suppress(Exception):
                    cookies.load(header)
            self._cookies = cookies
        return cookies

    @cookies.setter
    def cookies(self, cookies: SimpleCookie) -> None:
        self._cookies = cookies

    @property
    def links(self) -> MultiDictProxy[MultiDictProxy[str | URL]]:
        links: MultiDict[MultiDictProxy[str | URL]] = MultiDict()
        for header in self._headers.getall(hdrs.LINK, ()):
            for link in _split_links(header):
                url_part, _, params_part = link.partition(">")
                url = url_part.strip().lstrip("<")
                link_data: MultiDict[str | URL] = MultiDict()
                for param in params_part.split(";"):
                    key, sep, value = param.partition("=")
                    key = key.strip()
                    if not sep or not key:
                        continue
                    link_data.add(key, value.strip().strip('"'))
                rel = str(link_data.get("rel", url))
                link_data.add("url", self._url.join(URL(url)))
                links.add(rel, MultiDictProxy(link_data))
        return MultiDictProxy(links)

    def __repr__(self) -> str:
        return f"<ClientResponse({self._url}) [{self.status} {self.reason}]>\n{self._headers!s}\n"

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self, connection: Connection) -> ClientResponse:
        """Wait for the response head on `connection`."""
        self._closed = False
        self._connection = connection
        protocol = connection.protocol
        assert protocol is not None
        waiter = protocol._head_waiter
        if waiter is None:
            raise RuntimeError("The connection is not expecting a response")
        try:
            message = await waiter
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
                self._body_arrived(body)
            else:
                self._content = protocol.payload()
            self._response_eof()
        else:
            self._content = protocol.payload()
            protocol.on_complete(self._response_eof)
        return self

    def _body_arrived(self, body: bytes) -> None:
        self._body = body
        self._content = None

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
            content = StreamReader(_NO_FLOW_CONTROL, 2**16, loop=self._loop)  # type: ignore[arg-type]
            body = self._body
            if body:
                content.feed_data(body)
            content.feed_eof()
            self._body = None
            self._content = content
        return content

    @content.setter
    def content(self, value: StreamReader) -> None:
        self._content = value

    async def read(self) -> bytes:
        """Read the whole body."""
        body = self._body
        if body is None:
            content = self._content
            if content is None:
                if self.status is None:
                    raise RuntimeError("Response is not started")
                body = b""
            else:
                try:
                    body = await content.read()
                except BaseException:
                    self.close()
                    raise
                for trace in self._traces:
                    await trace.send_response_chunk_received(self.method, self._url, body)
            self._body = body
        elif self._traces:
            for trace in self._traces:
                await trace.send_response_chunk_received(self.method, self._url, body)
        return body

    def get_encoding(self) -> str:
        """The body's charset: from Content-Type, else JSON's utf-8, else the resolver's."""
        ctype = self._headers.get(hdrs.CONTENT_TYPE, "").lower()
        mimetype = parse_mimetype(ctype)
        encoding = mimetype.parameters.get("charset")
        if encoding:
            with contextlib.suppress(LookupError, ValueError):
                return codecs.lookup(encoding).name
        if mimetype.type == "application" and (
            mimetype.subtype == "json" or mimetype.subtype == "rdap"
        ):
            # RFC 8259 8.1: JSON exchanged between systems is UTF-8.
            return "utf-8"
        if self._body is None:
            raise RuntimeError("Cannot compute fallback encoding of a not yet read body")
        return self._resolve_charset(self, self._body)

    async def text(self, encoding: str | None = None, errors: str = "strict") -> str:
        """Read the body and decode it."""
        body = await self.read()
        if encoding is None:
            encoding = self.get_encoding()
        return body.decode(encoding, errors=errors)

    async def json(
        self,
        *,
        encoding: str | None = None,
        loads: Callable[[str], Any] = json.loads,
        content_type: str | None = "application/json",
    ) -> Any:
        """Read the body and decode it as JSON."""
        body = await self.read()
        if content_type:
            ctype = self._headers.get(hdrs.CONTENT_TYPE, "").lower()
            if not _expected_content_type(ctype, content_type):
                raise ContentTypeError(
                    self._request_info,
                    self._history,
                    status=self.status,
                    message=(f"Attempt to decode JSON with unexpected mimetype: {ctype}"),
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
                self.release()
            raise ClientResponseError(
                self._request_info,
                self._history,
                status=self.status,
                message=self.reason or "",
                headers=self._headers,
            )

    def release(self) -> Any:
        """Give the connection back: to the pool if the body was read, else close it."""
        self._released = True
        self._closed = True
        self._cleanup_writer()
        self._release_connection()
        return _noop()

    def close(self) -> None:
        """Close the connection without reading the rest of the body."""
        self._released = True
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
        if writer is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await writer
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
        self.release()
        await self.wait_for_close()


class _Noop:
    __slots__ = ()

    def __await__(self) -> Any:
        return iter(())


def _noop() -> _Noop:
    return _NOOP


_NOOP: Final = _Noop()


def _expected_content_type(response_type: str, expected: str) -> bool:
    if expected == "application/json":
        return _is_json_type(response_type)
    return expected in response_type


def _split_links(header: str) -> list[str]:
    """Split a Link header on the commas between links, not those inside <> or quotes."""
    parts: list[str] = []
    depth_angle = False
    in_quotes = False
    start = 0
    for i, ch in enumerate(header):
        if ch == '"' and not depth_angle:
            in_quotes = not in_quotes
        elif ch == "<" and not in_quotes:
            depth_angle = True
        elif ch == ">" and not in_quotes:
            depth_angle = False
        elif ch == "," and not depth_angle and not in_quotes:
            parts.append(header[start:i])
            start = i + 1
    parts.append(header[start:])
    return [p for p in (part.strip() for part in parts) if p]

"""Routes of airhttp.testing: which requests a route takes, and what it answers them.

A route answers with a ClientResponse built in memory (`fill_canned`); it opens no
connection and knows no session or router (`airhttp.testing` drives it).
"""

from __future__ import annotations

import asyncio
import codecs
import inspect
import json as jsonlib
import re
import sys
from collections import Counter
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final, Literal, TypedDict, Union

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from . import hdrs
from ._client_response import fill_canned
from ._futures import EXC_CAUSE_SENTINEL
from ._httpversion import HttpVersion, HttpVersion11
from ._mock_calls import UNSET, Call, CallAssertions, CallList, url_key
from .streams import StreamReader
from .typedefs import Query

if sys.version_info >= (3, 11):
    from typing import Unpack
elif TYPE_CHECKING:
    from typing_extensions import Unpack

if TYPE_CHECKING:
    from ._client_request import ClientRequest
    from ._client_response import ClientResponse

__all__ = (
    "Chunks",
    "MockResponse",
    "QueryMatch",
    "ResponseOptions",
    "Route",
    "RouteOptions",
    "UrlPattern",
)

# What a route's `url` may be: the URL itself, a regex matched from the URL's start, or
# a predicate over the request.
UrlPattern = Union[str, URL, "re.Pattern[str]", Callable[["ClientRequest"], bool]]
# A route callback's result: a MockResponse to send instead, or None for the route's own.
_Answer = Union["MockResponse", None]
Callback = Callable[["ClientRequest"], _Answer | Awaitable[_Answer]]
# A body given in pieces: each piece reaches the reader as one HTTP chunk (str as UTF-8).
Chunks = Iterable[bytes | str] | AsyncIterable[bytes | str]
# How a str or URL route compares the query: all of it, only its own parameters, or not.
QueryMatch = Literal["exact", "subset", "ignore"]
_QUERY_MATCHES: Final = ("exact", "subset", "ignore")

_CHARSET_RE: Final = re.compile(r";\s*charset\s*=\s*\"?([^\s;\"]+)", re.IGNORECASE)
# RFC 9110 6.4.1 and 8.6: these answers carry no content, so no Content-Length either.
_BODILESS: Final = frozenset({204, 304})
_WHOLE_BODIES: Final = (bytes, bytearray, memoryview, str)
# Bytes a body given in pieces buffers for its reader before its producer waits.
_CHUNKS_LIMIT: Final = 2**16


class _ChunkedBody(StreamReader):
    """The stream of a body given in pieces, fed by a task as the pieces come.

    The task waits while the reader's buffer is full, and stops when the stream is failed
    (the response released or closed). An error of the producer reaches the reader.
    """

    __slots__ = ("_feeder", "_room")

    def __init__(self, chunks: Chunks, loop: asyncio.AbstractEventLoop) -> None:
        # Its own flow control: pause_reading/resume_reading below.
        super().__init__(self, _CHUNKS_LIMIT, loop=loop)  # type: ignore[arg-type]
        self._room = asyncio.Event()
        self._room.set()
        self._feeder = loop.create_task(self._feed(chunks))

    async def _feed(self, chunks: Chunks) -> None:
        try:
            if isinstance(chunks, AsyncIterable):
                async for chunk in chunks:
                    await self._put(chunk)
            else:
                for chunk in chunks:
                    await self._put(chunk)
        except Exception as exc:
            StreamReader.set_exception(self, exc)
        else:
            self.feed_eof()

    async def _put(self, chunk: bytes | str) -> None:
        await self._room.wait()
        self.begin_http_chunk_receiving()
        self.feed_data(chunk.encode() if isinstance(chunk, str) else chunk)
        self.end_http_chunk_receiving()

    def pause_reading(self) -> None:
        self._room.clear()

    def resume_reading(self) -> None:
        self._room.set()

    def set_exception(
        self, exc: BaseException, exc_cause: BaseException = EXC_CAUSE_SENTINEL
    ) -> None:
        super().set_exception(exc, exc_cause)
        self._feeder.cancel()


@dataclass(frozen=True)
class MockResponse:
    """What a mocked request gets: a head and body, or an exception raised instead.

    `json` is serialized (Content-Type application/json); a str `body` is encoded with
    the charset of `content_type` (text/plain; charset=utf-8 when none is given). A
    `body` given as an iterable or async iterable of pieces (Chunks) is streamed to the
    reader after the head, chunked. `exception` (an instance, or a class to instantiate)
    is raised from the request.
    """

    status: int = 200
    reason: str | None = None
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None
    body: bytes | str | Chunks | None = None
    json: Any = UNSET
    content_type: str | None = None
    exception: BaseException | type[BaseException] | None = None
    version: HttpVersion = HttpVersion11

    def _chunks(self) -> Chunks | None:
        """The pieces of a body given in pieces; None for a body given whole."""
        body = self.body
        if self.json is not UNSET or body is None or isinstance(body, _WHOLE_BODIES):
            return None
        return body

    def head_and_body(self) -> tuple[CIMultiDict[str], bytes]:
        """The response's headers (Content-Type and the framing added) and body bytes.

        A body given in pieces has no bytes here: it is framed chunked and streamed.
        """
        headers: CIMultiDict[str] = CIMultiDict(self.headers or ())
        content_type = self.content_type
        if content_type is None:
            content_type = headers.get(hdrs.CONTENT_TYPE)
        if self.json is not UNSET:
            body = jsonlib.dumps(self.json).encode("utf-8")
            content_type = content_type or "application/json"
        elif isinstance(self.body, str):
            content_type = content_type or "text/plain; charset=utf-8"
            found = _CHARSET_RE.search(content_type)
            body = self.body.encode(codecs.lookup(found.group(1)).name if found else "utf-8")
        elif isinstance(self.body, (bytes, bytearray, memoryview)):
            body = bytes(self.body)
        else:
            body = b""
        if content_type is not None:
            headers[hdrs.CONTENT_TYPE] = content_type
        status = self.status
        if (
            hdrs.CONTENT_LENGTH not in headers
            and hdrs.TRANSFER_ENCODING not in headers
            and status >= 200
            and status not in _BODILESS
        ):
            if self._chunks() is None:
                headers[hdrs.CONTENT_LENGTH] = str(len(body))
            else:
                headers[hdrs.TRANSFER_ENCODING] = "chunked"
        return headers, body

    def build(self, req: ClientRequest) -> ClientResponse:
        """The response `req` gets, made the way ClientRequest.send makes one."""
        exception = self.exception
        if exception is not None:
            raise exception() if isinstance(exception, type) else exception
        headers, body = self.head_and_body()
        reason = self.reason
        if reason is None:
            try:
                reason = HTTPStatus(self.status).phrase
            except ValueError:
                reason = ""
        response = req.response_class(
            req.method,
            req.original_url,
            writer=None,
            continue100=None,
            timer=None,
            request_info=req.request_info,
            traces=(),
            loop=req.loop,
            session=req.session,
        )
        status = self.status
        fill_canned(response, status, reason, CIMultiDictProxy(headers), body, self.version)
        chunks = self._chunks()
        if (
            chunks is not None
            and req.method != hdrs.METH_HEAD
            and status >= 200
            and status not in _BODILESS
        ):
            response.content = _ChunkedBody(chunks, req.loop)
        req.response = response
        return response


class ResponseOptions(TypedDict, total=False):
    """The keyword arguments of one answer (`Route.then`, and the registering methods)."""

    status: int
    reason: str | None
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None
    # bytes, str, or pieces streamed one HTTP chunk each (a list serves every answer whole;
    # a generator is used up by the first).
    body: bytes | str | Chunks | None
    json: Any
    content_type: str | None
    exception: BaseException | type[BaseException] | None
    version: HttpVersion
    # Called with the ClientRequest (sync or async); returns a MockResponse to send
    # instead of this one, None to send this one, or raises.
    callback: Callback | None
    # Seconds to wait before answering: the request's timeouts apply meanwhile.
    delay: float
    # How many requests this answer serves; None: once if another answer follows it,
    # every time if it is the last.
    repeat: int | None


class RouteOptions(ResponseOptions, total=False):
    """Keyword arguments of the registering methods: what to match, then the first answer."""

    params: Query
    # "exact" (the default): the request's query is the route's, order aside; "subset":
    # the route's parameters are among the request's; "ignore": any query.
    match_query: QueryMatch
    match_headers: Mapping[str, str] | None
    match_json: Any
    match_body: bytes | str | None
    # Send what this route takes on to the network (or to an older router).
    passthrough: bool
    name: str | None


_STEP_KEYS: Final = ("callback", "delay", "repeat")


class _Step:
    """One answer of a route and how often it is given."""

    __slots__ = ("callback", "delay", "repeat", "response")

    def __init__(self, options: ResponseOptions) -> None:
        spec = {key: value for key, value in options.items() if key not in _STEP_KEYS}
        self.response = MockResponse(**spec)  # type: ignore[arg-type]
        self.callback = options.get("callback")
        self.delay = options.get("delay", 0.0)
        repeat = options.get("repeat")
        if repeat is not None and repeat < 1:
            raise ValueError(f"repeat must be at least 1, not {repeat}")
        self.repeat = repeat

    async def answer(self, req: ClientRequest) -> ClientResponse:
        if self.delay:
            await asyncio.sleep(self.delay)
        response = self.response
        callback = self.callback
        if callback is not None:
            result = callback(req)
            if inspect.isawaitable(result):
                result = await result
            if result is not None:
                if not isinstance(result, MockResponse):
                    raise TypeError(
                        f"a route callback returns a MockResponse or None, not {result!r}"
                    )
                response = result
        return response.build(req)


class Route(CallAssertions):
    """Requests of one method and URL pattern (and optional header and body matchers).

    Answers are given in order, each `repeat` times; a route whose answers are all used
    up takes no more requests, so a later route (or the unmatched rule) gets them.
    """

    def __init__(self, method: str, url: UrlPattern, options: RouteOptions) -> None:
        self.method = method.upper()
        options = dict(options)  # type: ignore[assignment]
        self.name: str | None = options.pop("name", None)
        self.passthrough: bool = options.pop("passthrough", False)
        params = options.pop("params", None)
        match_query = self._match_query = options.pop("match_query", "exact")
        if match_query not in _QUERY_MATCHES:
            raise ValueError(f"match_query is one of {_QUERY_MATCHES}, not {match_query!r}")
        self._query: Counter[tuple[str, str]] = Counter()
        if isinstance(url, (str, URL)):
            url = URL(url)
            if params:
                url = url.extend_query(params)
            self._query.update(url.query.items())
            compared = url if match_query == "exact" else url.with_query(None)
            self._url_key: tuple[Any, ...] | None = url_key(compared)
        elif params or match_query != "exact":
            raise TypeError(
                "params= and match_query= go with a str or URL route, not a regex or predicate"
            )
        else:
            self._url_key = None
        self.url = url
        self._match_headers = options.pop("match_headers", None)
        self._match_json = options.pop("match_json", UNSET)
        match_body = options.pop("match_body", None)
        self._match_body = match_body.encode() if isinstance(match_body, str) else match_body
        self._steps: list[_Step] = [] if self.passthrough else [_Step(options)]
        self._index = 0
        self._used = 0
        self.calls = CallList()

    # --- answers -------------------------------------------------------------------------

    def then(self, **options: Unpack[ResponseOptions]) -> Route:
        """Add the answer given once the ones before it are used up (see ResponseOptions)."""
        if self.passthrough:
            raise TypeError("a passthrough route sends requests on; it has no answers")
        self._steps.append(_Step(options))
        return self

    def _current(self) -> _Step | None:
        steps = self._steps
        while self._index < len(steps):
            step = steps[self._index]
            limit = step.repeat
            if limit is None and self._index < len(steps) - 1:
                limit = 1
            if limit is None or self._used < limit:
                return step
            self._index += 1
            self._used = 0
        return None

    @property
    def exhausted(self) -> bool:
        """All answers are used up (never for a passthrough route)."""
        return not self.passthrough and self._current() is None

    def take(self) -> _Step:
        """The answer for the request just matched (counted as given)."""
        step = self._current()
        assert step is not None, "take() follows a successful matches()"
        self._used += 1
        return step

    def reset(self) -> None:
        """Forget the calls and start the answers over."""
        self.calls.clear()
        self._index = self._used = 0

    # --- matching ------------------------------------------------------------------------

    def matches(self, req: ClientRequest, body: bytes) -> bool:
        """Whether this route takes `req`, whose body is `body`."""
        if self.method != hdrs.METH_ANY and self.method != req.method:
            return False
        if self.exhausted:
            return False
        url = self.url
        if self._url_key is not None:
            if not self._url_matches(req.url):
                return False
        elif isinstance(url, re.Pattern):
            if url.match(str(req.url)) is None:
                return False
        elif not url(req):  # type: ignore[operator]
            return False
        return self._body_and_headers_match(req, body)

    def _url_matches(self, url: URL) -> bool:
        match_query = self._match_query
        if match_query == "exact":
            return url_key(url) == self._url_key
        if url_key(url.with_query(None)) != self._url_key:
            return False
        # Counted: a parameter the route repeats must be repeated in the request too.
        return match_query == "ignore" or not self._query - Counter(url.query.items())

    def _body_and_headers_match(self, req: ClientRequest, body: bytes) -> bool:
        if self._match_headers:
            for name, value in self._match_headers.items():
                if value not in req.headers.getall(name, ()):
                    return False
        if self._match_body is not None and body != self._match_body:
            return False
        if self._match_json is not UNSET:
            try:
                if jsonlib.loads(body) != self._match_json:
                    return False
            except ValueError:
                return False
        return True

    # --- what it says about itself ---------------------------------------------------------

    @property
    def called(self) -> bool:
        return bool(self.calls)

    @property
    def call_count(self) -> int:
        return len(self.calls)

    def _asserted_calls(self) -> list[Call]:
        return self.calls

    def _what(self) -> str:
        return f"route {self.describe()}"

    def describe(self) -> str:
        url = self.url
        if isinstance(url, re.Pattern):
            shown = f"regex {url.pattern!r}"
        elif isinstance(url, URL):
            shown = str(url)
        else:
            shown = f"predicate {getattr(url, '__qualname__', url)!r}"
        extra = [
            f"{label}={value!r}"
            for label, value in (
                ("query", None if self._match_query == "exact" else self._match_query),
                ("headers", self._match_headers),
                ("body", self._match_body),
                ("json", None if self._match_json is UNSET else self._match_json),
            )
            if value is not None
        ]
        name = f"{self.name!r}: " if self.name else ""
        return f"{name}{self.method} {shown}" + (f" with {', '.join(extra)}" if extra else "")

    def __repr__(self) -> str:
        if self.passthrough:
            state = "passthrough"
        else:
            state = "used up" if self.exhausted else "active"
        count = self.call_count
        calls = "1 call" if count == 1 else f"{count} calls"
        return f"<Route {self.describe()} ({state}, {calls})>"

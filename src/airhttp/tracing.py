"""Client tracing: user-registered signals and the per-request object that fires them.

The session and connector call `Trace.send_*`; this module never inspects requests itself.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
from multidict import CIMultiDict
from yarl import URL

from ._client_response import ClientResponse
from ._signal import Signal

if TYPE_CHECKING:
    from ._interfaces import SessionLike

__all__ = (
    "ClientResponse",
    "Trace",
    "TraceConfig",
    "TraceConnectionCreateEndParams",
    "TraceConnectionCreateStartParams",
    "TraceConnectionQueuedEndParams",
    "TraceConnectionQueuedStartParams",
    "TraceConnectionReuseconnParams",
    "TraceDnsCacheHitParams",
    "TraceDnsCacheMissParams",
    "TraceDnsResolveHostEndParams",
    "TraceDnsResolveHostStartParams",
    "TraceRequestChunkSentParams",
    "TraceRequestEndParams",
    "TraceRequestExceptionParams",
    "TraceRequestHeadersSentParams",
    "TraceRequestRedirectParams",
    "TraceRequestRetryParams",
    "TraceRequestStartParams",
    "TraceResponseChunkReceivedParams",
)

_ParamsT = TypeVar("_ParamsT")

# What a receiver looks like: `await cb(session, trace_config_ctx, params)`. The session
# is typed Any: its class (client.py) is above this module, and receivers annotated
# with ClientSession must still type-check (a Protocol here would reject them).
_TraceSignal = Signal[[Any, SimpleNamespace, _ParamsT]]


@attrs.frozen(slots=True)
class TraceRequestStartParams:
    """Parameters sent to `on_request_start`."""

    method: str
    url: URL
    headers: CIMultiDict[str]


@attrs.frozen(slots=True)
class TraceRequestChunkSentParams:
    """Parameters sent to `on_request_chunk_sent`."""

    method: str
    url: URL
    chunk: bytes


@attrs.frozen(slots=True)
class TraceResponseChunkReceivedParams:
    """Parameters sent to `on_response_chunk_received`."""

    method: str
    url: URL
    chunk: bytes


@attrs.frozen(slots=True)
class TraceRequestEndParams:
    """Parameters sent to `on_request_end`."""

    method: str
    url: URL
    headers: CIMultiDict[str]
    response: ClientResponse


@attrs.frozen(slots=True)
class TraceRequestExceptionParams:
    """Parameters sent to `on_request_exception`."""

    method: str
    url: URL
    headers: CIMultiDict[str]
    exception: BaseException


@attrs.frozen(slots=True)
class TraceRequestRedirectParams:
    """Parameters sent to `on_request_redirect`."""

    method: str
    url: URL
    headers: CIMultiDict[str]
    response: ClientResponse


@attrs.frozen(slots=True)
class TraceRequestRetryParams:
    """Parameters sent to `on_request_retry` (airhttp's own; aiohttp has no retries).

    `attempt` is the attempt about to start (2 for the first retry), after `delay`
    seconds; `response` or `exception` is what the previous attempt ended with.
    """

    method: str
    url: URL
    headers: CIMultiDict[str]
    attempt: int
    delay: float
    response: ClientResponse | None
    exception: BaseException | None


@attrs.frozen(slots=True)
class TraceRequestHeadersSentParams:
    """Parameters sent to `on_request_headers_sent`."""

    method: str
    url: URL
    headers: CIMultiDict[str]


@attrs.frozen(slots=True)
class TraceConnectionQueuedStartParams:
    """Parameters sent to `on_connection_queued_start`."""


@attrs.frozen(slots=True)
class TraceConnectionQueuedEndParams:
    """Parameters sent to `on_connection_queued_end`."""


@attrs.frozen(slots=True)
class TraceConnectionCreateStartParams:
    """Parameters sent to `on_connection_create_start`."""


@attrs.frozen(slots=True)
class TraceConnectionCreateEndParams:
    """Parameters sent to `on_connection_create_end`."""


@attrs.frozen(slots=True)
class TraceConnectionReuseconnParams:
    """Parameters sent to `on_connection_reuseconn`."""


@attrs.frozen(slots=True)
class TraceDnsResolveHostStartParams:
    """Parameters sent to `on_dns_resolvehost_start`."""

    host: str


@attrs.frozen(slots=True)
class TraceDnsResolveHostEndParams:
    """Parameters sent to `on_dns_resolvehost_end`."""

    host: str


@attrs.frozen(slots=True)
class TraceDnsCacheHitParams:
    """Parameters sent to `on_dns_cache_hit`."""

    host: str


@attrs.frozen(slots=True)
class TraceDnsCacheMissParams:
    """Parameters sent to `on_dns_cache_miss`."""

    host: str


# The field-less params carry nothing per event, so one shared instance serves them all.
_QUEUED_START: TraceConnectionQueuedStartParams = TraceConnectionQueuedStartParams()
_QUEUED_END: TraceConnectionQueuedEndParams = TraceConnectionQueuedEndParams()
_CREATE_START: TraceConnectionCreateStartParams = TraceConnectionCreateStartParams()
_CREATE_END: TraceConnectionCreateEndParams = TraceConnectionCreateEndParams()
_REUSECONN: TraceConnectionReuseconnParams = TraceConnectionReuseconnParams()


class TraceConfig:
    """The signals one tracer listens to, plus the factory of its per-request context."""

    def __init__(
        self, trace_config_ctx_factory: Callable[..., SimpleNamespace] = SimpleNamespace
    ) -> None:
        self._on_request_start: _TraceSignal[TraceRequestStartParams] = Signal(self)
        self._on_request_chunk_sent: _TraceSignal[TraceRequestChunkSentParams] = Signal(self)
        self._on_response_chunk_received: _TraceSignal[TraceResponseChunkReceivedParams] = Signal(
            self
        )
        self._on_request_end: _TraceSignal[TraceRequestEndParams] = Signal(self)
        self._on_request_exception: _TraceSignal[TraceRequestExceptionParams] = Signal(self)
        self._on_request_redirect: _TraceSignal[TraceRequestRedirectParams] = Signal(self)
        self._on_request_headers_sent: _TraceSignal[TraceRequestHeadersSentParams] = Signal(self)
        self._on_request_retry: _TraceSignal[TraceRequestRetryParams] = Signal(self)
        self._on_connection_queued_start: _TraceSignal[TraceConnectionQueuedStartParams] = Signal(
            self
        )
        self._on_connection_queued_end: _TraceSignal[TraceConnectionQueuedEndParams] = Signal(self)
        self._on_connection_create_start: _TraceSignal[TraceConnectionCreateStartParams] = Signal(
            self
        )
        self._on_connection_create_end: _TraceSignal[TraceConnectionCreateEndParams] = Signal(self)
        self._on_connection_reuseconn: _TraceSignal[TraceConnectionReuseconnParams] = Signal(self)
        self._on_dns_resolvehost_start: _TraceSignal[TraceDnsResolveHostStartParams] = Signal(self)
        self._on_dns_resolvehost_end: _TraceSignal[TraceDnsResolveHostEndParams] = Signal(self)
        self._on_dns_cache_hit: _TraceSignal[TraceDnsCacheHitParams] = Signal(self)
        self._on_dns_cache_miss: _TraceSignal[TraceDnsCacheMissParams] = Signal(self)
        self._trace_config_ctx_factory = trace_config_ctx_factory

    def trace_config_ctx(self, trace_request_ctx: Any = None) -> SimpleNamespace:
        """Make the context object shared by every signal of one request."""
        return self._trace_config_ctx_factory(trace_request_ctx=trace_request_ctx)

    def freeze(self) -> None:
        """Fix the receivers of every signal; the session calls this when it starts."""
        for signal in self._signals():
            signal.freeze()

    def _signals(self) -> tuple[Signal[Any], ...]:
        return (
            self._on_request_start,
            self._on_request_chunk_sent,
            self._on_response_chunk_received,
            self._on_request_end,
            self._on_request_exception,
            self._on_request_redirect,
            self._on_request_headers_sent,
            self._on_request_retry,
            self._on_connection_queued_start,
            self._on_connection_queued_end,
            self._on_connection_create_start,
            self._on_connection_create_end,
            self._on_connection_reuseconn,
            self._on_dns_resolvehost_start,
            self._on_dns_resolvehost_end,
            self._on_dns_cache_hit,
            self._on_dns_cache_miss,
        )

    @property
    def on_request_start(self) -> _TraceSignal[TraceRequestStartParams]:
        return self._on_request_start

    @property
    def on_request_chunk_sent(self) -> _TraceSignal[TraceRequestChunkSentParams]:
        return self._on_request_chunk_sent

    @property
    def on_response_chunk_received(self) -> _TraceSignal[TraceResponseChunkReceivedParams]:
        return self._on_response_chunk_received

    @property
    def on_request_end(self) -> _TraceSignal[TraceRequestEndParams]:
        return self._on_request_end

    @property
    def on_request_exception(self) -> _TraceSignal[TraceRequestExceptionParams]:
        return self._on_request_exception

    @property
    def on_request_redirect(self) -> _TraceSignal[TraceRequestRedirectParams]:
        return self._on_request_redirect

    @property
    def on_request_headers_sent(self) -> _TraceSignal[TraceRequestHeadersSentParams]:
        return self._on_request_headers_sent

    @property
    def on_request_retry(self) -> _TraceSignal[TraceRequestRetryParams]:
        """Fired by `RetryMiddleware` before it waits to send a request again."""
        return self._on_request_retry

    @property
    def on_connection_queued_start(self) -> _TraceSignal[TraceConnectionQueuedStartParams]:
        return self._on_connection_queued_start

    @property
    def on_connection_queued_end(self) -> _TraceSignal[TraceConnectionQueuedEndParams]:
        return self._on_connection_queued_end

    @property
    def on_connection_create_start(self) -> _TraceSignal[TraceConnectionCreateStartParams]:
        return self._on_connection_create_start

    @property
    def on_connection_create_end(self) -> _TraceSignal[TraceConnectionCreateEndParams]:
        return self._on_connection_create_end

    @property
    def on_connection_reuseconn(self) -> _TraceSignal[TraceConnectionReuseconnParams]:
        return self._on_connection_reuseconn

    @property
    def on_dns_resolvehost_start(self) -> _TraceSignal[TraceDnsResolveHostStartParams]:
        return self._on_dns_resolvehost_start

    @property
    def on_dns_resolvehost_end(self) -> _TraceSignal[TraceDnsResolveHostEndParams]:
        return self._on_dns_resolvehost_end

    @property
    def on_dns_cache_hit(self) -> _TraceSignal[TraceDnsCacheHitParams]:
        return self._on_dns_cache_hit

    @property
    def on_dns_cache_miss(self) -> _TraceSignal[TraceDnsCacheMissParams]:
        return self._on_dns_cache_miss


class Trace:
    """Fires one TraceConfig's signals for one request, with that request's context.

    Each `send_*` skips building its params object when nobody listens, since the
    session calls these on every request and chunk whenever any tracer is installed.
    """

    __slots__ = ("_session", "_trace_config", "_trace_config_ctx")

    def __init__(
        self,
        session: SessionLike,
        trace_config: TraceConfig,
        trace_config_ctx: SimpleNamespace,
    ) -> None:
        self._session = session
        self._trace_config = trace_config
        self._trace_config_ctx = trace_config_ctx

    async def send_request_start(self, method: str, url: URL, headers: CIMultiDict[str]) -> None:
        signal = self._trace_config._on_request_start
        if signal:
            await signal.send(
                self._session,
                self._trace_config_ctx,
                TraceRequestStartParams(method, url, headers),
            )

    async def send_request_chunk_sent(self, method: str, url: URL, chunk: bytes) -> None:
        signal = self._trace_config._on_request_chunk_sent
        if signal:
            await signal.send(
                self._session,
                self._trace_config_ctx,
                TraceRequestChunkSentParams(method, url, chunk),
            )

    async def send_response_chunk_received(self, method: str, url: URL, chunk: bytes) -> None:
        signal = self._trace_config._on_response_chunk_received
        if signal:
            await signal.send(
                self._session,
                self._trace_config_ctx,
                TraceResponseChunkReceivedParams(method, url, chunk),
            )

    async def send_request_end(
        self,
        method: str,
        url: URL,
        headers: CIMultiDict[str],
        response: ClientResponse,
    ) -> None:
        signal = self._trace_config._on_request_end
        if signal:
            await signal.send(
                self._session,
                self._trace_config_ctx,
                TraceRequestEndParams(method, url, headers, response),
            )

    async def send_request_exception(
        self,
        method: str,
        url: URL,
        headers: CIMultiDict[str],
        exception: BaseException,
    ) -> None:
        signal = self._trace_config._on_request_exception
        if signal:
            await signal.send(
                self._session,
                self._trace_config_ctx,
                TraceRequestExceptionParams(method, url, headers, exception),
            )

    async def send_request_redirect(
        self,
        method: str,
        url: URL,
        headers: CIMultiDict[str],
        response: ClientResponse,
    ) -> None:
        signal = self._trace_config._on_request_redirect
        if signal:
            await signal.send(
                self._session,
                self._trace_config_ctx,
                TraceRequestRedirectParams(method, url, headers, response),
            )

    async def send_request_headers(self, method: str, url: URL, headers: CIMultiDict[str]) -> None:
        """Fire `on_request_headers_sent` (aiohttp names the sender without `_sent`)."""
        signal = self._trace_config._on_request_headers_sent
        if signal:
            await signal.send(
                self._session,
                self._trace_config_ctx,
                TraceRequestHeadersSentParams(method, url, headers),
            )

    async def send_request_retry(
        self,
        method: str,
        url: URL,
        headers: CIMultiDict[str],
        attempt: int,
        delay: float,
        response: ClientResponse | None,
        exception: BaseException | None,
    ) -> None:
        signal = self._trace_config._on_request_retry
        if signal:
            await signal.send(
                self._session,
                self._trace_config_ctx,
                TraceRequestRetryParams(method, url, headers, attempt, delay, response, exception),
            )

    async def send_connection_queued_start(self) -> None:
        signal = self._trace_config._on_connection_queued_start
        if signal:
            await signal.send(self._session, self._trace_config_ctx, _QUEUED_START)

    async def send_connection_queued_end(self) -> None:
        signal = self._trace_config._on_connection_queued_end
        if signal:
            await signal.send(self._session, self._trace_config_ctx, _QUEUED_END)

    async def send_connection_create_start(self) -> None:
        signal = self._trace_config._on_connection_create_start
        if signal:
            await signal.send(self._session, self._trace_config_ctx, _CREATE_START)

    async def send_connection_create_end(self) -> None:
        signal = self._trace_config._on_connection_create_end
        if signal:
            await signal.send(self._session, self._trace_config_ctx, _CREATE_END)

    async def send_connection_reuseconn(self) -> None:
        signal = self._trace_config._on_connection_reuseconn
        if signal:
            await signal.send(self._session, self._trace_config_ctx, _REUSECONN)

    async def send_dns_resolvehost_start(self, host: str) -> None:
        signal = self._trace_config._on_dns_resolvehost_start
        if signal:
            await signal.send(
                self._session, self._trace_config_ctx, TraceDnsResolveHostStartParams(host)
            )

    async def send_dns_resolvehost_end(self, host: str) -> None:
        signal = self._trace_config._on_dns_resolvehost_end
        if signal:
            await signal.send(
                self._session, self._trace_config_ctx, TraceDnsResolveHostEndParams(host)
            )

    async def send_dns_cache_hit(self, host: str) -> None:
        signal = self._trace_config._on_dns_cache_hit
        if signal:
            await signal.send(self._session, self._trace_config_ctx, TraceDnsCacheHitParams(host))

    async def send_dns_cache_miss(self, host: str) -> None:
        signal = self._trace_config._on_dns_cache_miss
        if signal:
            await signal.send(self._session, self._trace_config_ctx, TraceDnsCacheMissParams(host))

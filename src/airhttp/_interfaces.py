"""The types that cross layers, as small Protocols: what a lower layer asks of a higher one.

The connector sees a request, the exceptions see a response, the pool and the protocol
see the tracer only through these; no implementation and no state here. They let every
import (type-only ones included) point down the layers of docs/architecture.md.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from ._reqrep_types import ConnectionKey, Fingerprint, RequestInfo
from .helpers import BasicAuth
from .streams import StreamReader

__all__ = (
    "OutgoingRequest",
    "ReceivedResponse",
    "SentUpload",
    "SessionLike",
    "TraceHooks",
    "UpgradeSink",
)


class OutgoingRequest(Protocol):
    """A ClientRequest as the pool, the connectors and the proxy code see it."""

    # Read-only members: an implementation may hold them as attributes or properties.
    @property
    def url(self) -> URL: ...

    @property
    def headers(self) -> CIMultiDict[str]: ...

    @property
    def proxy(self) -> URL | None: ...

    @property
    def proxy_auth(self) -> BasicAuth | None: ...

    @property
    def proxy_headers(self) -> CIMultiDict[str] | None: ...

    @property
    def server_hostname(self) -> str | None: ...

    @property
    def DEFAULT_HEADERS(self) -> Mapping[str, str]: ...

    @property
    def ssl(self) -> ssl.SSLContext | bool | Fingerprint: ...

    @property
    def port(self) -> int | None: ...

    @property
    def connection_key(self) -> ConnectionKey: ...

    @property
    def is_upgrade(self) -> bool: ...  # asks to switch protocols: never an HTTP/2 stream

    def is_ssl(self) -> bool: ...


class ReceivedResponse(Protocol):
    """A ClientResponse as the exceptions (`history`) and multipart readers see it."""

    @property
    def method(self) -> str: ...

    @property
    def status(self) -> int: ...

    @property
    def reason(self) -> str | None: ...

    @property
    def url(self) -> URL: ...

    @property
    def real_url(self) -> URL: ...

    @property
    def headers(self) -> CIMultiDictProxy[str]: ...

    @property
    def request_info(self) -> RequestInfo: ...

    @property
    def content(self) -> StreamReader: ...

    def release(self) -> Any: ...


class SessionLike(Protocol):
    """The ClientSession that made a request, as its request and response use it."""

    @property
    def fallback_charset_resolver(self) -> Callable[[Any, bytes], str]: ...

    async def close(self) -> None: ...


class TraceHooks(Protocol):
    """A request's tracer (tracing.Trace), as the layers below the session fire it."""

    async def send_request_headers(
        self, method: str, url: URL, headers: CIMultiDict[str]
    ) -> None: ...

    async def send_request_chunk_sent(self, method: str, url: URL, chunk: bytes) -> None: ...

    async def send_response_chunk_received(self, method: str, url: URL, chunk: bytes) -> None: ...

    async def send_connection_queued_start(self) -> None: ...

    async def send_connection_queued_end(self) -> None: ...

    async def send_connection_create_start(self) -> None: ...

    async def send_connection_create_end(self) -> None: ...

    async def send_connection_reuseconn(self) -> None: ...

    async def send_dns_resolvehost_start(self, host: str) -> None: ...

    async def send_dns_resolvehost_end(self, host: str) -> None: ...

    async def send_dns_cache_hit(self, host: str) -> None: ...

    async def send_dns_cache_miss(self, host: str) -> None: ...


class UpgradeSink(Protocol):
    """Who takes a connection's bytes after a 101 answer (the WebSocket client)."""

    def feed_data(self, data: bytes) -> None: ...

    def connection_lost(self, exc: BaseException | None) -> None: ...


class Multiplexer(UpgradeSink, Protocol):
    """An HTTP/2 connection as the pool sees it: streams to lend over one transport,
    taking over the connection's bytes (as an UpgradeSink does, and as views of reads).

    `open_stream` returns a `client_proto.StreamHandler` (typed loosely here: this
    module sits below the protocol).
    """

    @property
    def active_streams(self) -> int: ...

    @property
    def usable(self) -> bool: ...  # connected and not going away (it may be full)

    @property
    def idle_since(self) -> float: ...  # loop time its last stream ended

    # Called (set by the pool) when the server lets more streams be open at once.
    on_room: Callable[[], None] | None

    def can_open_stream(self) -> bool: ...  # usable and under the server's stream cap

    def open_stream(self) -> Any: ...

    def release_stream(self, stream: Any) -> None: ...  # resets it if unfinished

    def goodbye(self) -> None: ...  # a GOAWAY, as the connection is closed on our side

    # The bytes of one read, in the connection's receive buffer: valid during the call only.
    def feed_view(self, data: memoryview) -> None: ...


class StreamChannel(Protocol):
    """The transport of an HTTP/2 stream as the request writing to it sees it."""

    def send_head(self, fields: list[tuple[bytes, bytes]], end_stream: bool) -> None: ...


class SentUpload(Protocol):
    """A streamed request body, as the response it led to reports on it."""

    def sent_size(self) -> int: ...

"""The connection pool: lending, returning and expiring pooled connections.

BaseConnector owns limits, FIFO waiters and keep-alive expiry; opening new
connections is left to subclasses in `connector`. No DNS, TLS or sockets here.
"""

from __future__ import annotations

import asyncio
import functools
import warnings
from collections import OrderedDict, defaultdict, deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

from ._reqrep_types import ConnectionKey
from .client_exceptions import ClientConnectionError
from .client_proto import ResponseHandler

if TYPE_CHECKING:
    from .client import ClientTimeout
    from .client_reqrep import ClientRequest
    from .tracing import Trace

__all__ = ("BaseConnector", "Connection")


class _Sentinel:
    def __repr__(self) -> str:
        return "<default>"


_SENTINEL: Final[Any] = _Sentinel()
_DEFAULT_KEEPALIVE: Final = 15.0
_SSL_SHUTDOWN_DEPRECATED: Final = (
    "The ssl_shutdown_timeout parameter is deprecated and will be removed in aiohttp 4.0"
)


class Connection:
    """A pooled connection lent to one request; give it back with release()."""

    __slots__ = ("__weakref__", "_callbacks", "_connector", "_key", "_loop", "_protocol")

    def __init__(
        self,
        connector: BaseConnector,
        key: ConnectionKey,
        protocol: ResponseHandler,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._connector = connector
        self._key = key
        self._protocol: ResponseHandler | None = protocol
        self._loop = loop
        self._callbacks: list[Callable[[], None]] = []

    def __repr__(self) -> str:
        return f"Connection<{self._key}>"

    def __del__(self, _warnings: Any = warnings) -> None:
        protocol = self._protocol
        if protocol is not None:
            _warnings.warn(f"Unclosed connection {self!r}", ResourceWarning, source=self)
            if self._loop.is_closed():
                return
            self._connector._release(self._key, protocol, should_close=True)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    @property
    def transport(self) -> asyncio.Transport | None:
        if self._protocol is None:
            return None
        return self._protocol.transport

    @property
    def protocol(self) -> ResponseHandler | None:
        return self._protocol

    @property
    def closed(self) -> bool:
        return self._protocol is None or not self._protocol.is_connected()

    def add_callback(self, callback: Callable[[], None]) -> None:
        """Run `callback` when the connection is released or closed."""
        self._callbacks.append(callback)

    def _notify_release(self) -> None:
        callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            try:
                cb()
            except Exception:
                pass

    def close(self) -> None:
        """Close the connection instead of returning it to the pool."""
        self._notify_release()
        protocol = self._protocol
        if protocol is not None:
            self._protocol = None
            self._connector._release(self._key, protocol, should_close=True)

    def release(self) -> None:
        """Return the connection to the pool (or close it if it cannot be reused)."""
        self._notify_release()
        protocol = self._protocol
        if protocol is not None:
            self._protocol = None
            self._connector._release(self._key, protocol, should_close=protocol.should_close)


class _SlotHolder:
    """Stands in the acquired set for a connection that is still being opened."""

    __slots__ = ()

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


class BaseConnector:
    """Pools connections per ConnectionKey with overall and per-host limits."""

    # Schemes this connector can serve; the session checks a request's URL against it.
    allowed_protocol_schema_set: frozenset[str] = frozenset(
        {"", "tcp", "http", "https", "ws", "wss"}
    )

    def __init__(
        self,
        *,
        keepalive_timeout: float | Any | None = _SENTINEL,
        force_close: bool = False,
        limit: int = 100,
        limit_per_host: int = 0,
        enable_cleanup_closed: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
        timeout_ceil_threshold: float = 5,
    ) -> None:
        if force_close:
            if keepalive_timeout is not None and keepalive_timeout is not _SENTINEL:
                raise ValueError("keepalive_timeout cannot be set if force_close is True")
        elif keepalive_timeout is _SENTINEL:
            keepalive_timeout = _DEFAULT_KEEPALIVE
        self._loop = loop or asyncio.get_running_loop()
        self._closed = False
        self._force_close = force_close
        self._keepalive_timeout: float | None = (
            None if keepalive_timeout is _SENTINEL else keepalive_timeout
        )
        self._limit = limit
        self._limit_per_host = limit_per_host
        self._enable_cleanup_closed = enable_cleanup_closed
        self._timeout_ceil_threshold = timeout_ceil_threshold
        self._idle: dict[ConnectionKey, deque[tuple[ResponseHandler, float]]] = {}
        self._acquired: set[Any] = set()
        self._acquired_per_host: defaultdict[ConnectionKey, set[Any]] = defaultdict(set)
        self._waiters: defaultdict[ConnectionKey, OrderedDict[asyncio.Future[None], None]] = (
            defaultdict(OrderedDict)
        )
        self._cleanup_handle: asyncio.TimerHandle | None = None
        self._factory: Callable[[], ResponseHandler] = functools.partial(
            ResponseHandler, self._loop
        )

    def __del__(self, _warnings: Any = warnings) -> None:
        if self._closed or not self._idle:
            return
        conns = [repr(p) for pool in self._idle.values() for p, _ in pool]
        self._close_now()
        _warnings.warn(f"Unclosed connector {self!r}", ResourceWarning, source=self)
        context = {"connector": self, "connections": conns, "message": "Unclosed connector"}
        if not self._loop.is_closed():
            self._loop.call_exception_handler(context)

    async def __aenter__(self) -> BaseConnector:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- documented properties ---------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def force_close(self) -> bool:
        return self._force_close

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def limit_per_host(self) -> int:
        return self._limit_per_host

    # --- closing -----------------------------------------------------------------------

    def close(self, *, abort_ssl: bool = False) -> Awaitable[None]:
        """Close every pooled and lent connection; await the result to wait for them."""
        protocols = self._close_now(abort=abort_ssl)
        return self._wait_closed(protocols)

    async def _wait_closed(self, protocols: list[ResponseHandler]) -> None:
        waiters = [p.closed for p in protocols if not p.closed.done()]
        if waiters:
            await asyncio.wait(waiters, timeout=1.0)

    def _close_now(self, abort: bool = False) -> list[ResponseHandler]:
        if self._closed:
            return []
        self._closed = True
        if self._cleanup_handle is not None:
            self._cleanup_handle.cancel()
            self._cleanup_handle = None
        protocols: list[ResponseHandler] = []
        for pool in self._idle.values():
            for proto, _ in pool:
                protocols.append(proto)
        for proto in self._acquired:
            if isinstance(proto, ResponseHandler):
                protocols.append(proto)
        for proto in protocols:
            if abort:
                proto.abort()
            else:
                proto.close()
        for waiters in self._waiters.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.cancel()
        self._idle.clear()
        self._acquired.clear()
        self._acquired_per_host.clear()
        self._waiters.clear()
        return protocols

    # --- acquiring -------------------------------------------------------------------

    def _available_connections(self, key: ConnectionKey) -> int:
        """How many more connections may be opened for `key` right now (>= 1 is yes)."""
        total_remain = 1
        if self._limit:
            total_remain = self._limit - len(self._acquired)
            if total_remain <= 0:
                return total_remain
        if self._limit_per_host:
            per_host = self._acquired_per_host.get(key)
            if per_host is not None:
                return self._limit_per_host - len(per_host)
        return total_remain

    def _get_pooled(self, key: ConnectionKey) -> Connection | None:
        """Take an idle connection for `key` synchronously, or None."""
        pool = self._idle.get(key)
        if not pool:
            return None
        now = self._loop.time()
        keepalive = self._keepalive_timeout
        while pool:
            proto, released_at = pool.pop()
            if proto.is_connected() and (keepalive is None or now - released_at <= keepalive):
                self._acquired.add(proto)
                if self._limit_per_host:
                    self._acquired_per_host[key].add(proto)
                if not pool:
                    del self._idle[key]
                return Connection(self, key, proto, self._loop)
            proto.close()
        del self._idle[key]
        return None

    async def connect(
        self, req: ClientRequest, traces: list[Trace], timeout: ClientTimeout
    ) -> Connection:
        """Lend a connection for `req`: pooled if one is idle, else a new one."""
        key = req.connection_key
        conn = self._get_pooled(key)
        if conn is not None:
            for trace in traces:
                await trace.send_connection_reuseconn()
            return conn
        if self._available_connections(key) <= 0 or self._waiters.get(key):
            await self._wait_for_available_connection(key, traces)
            conn = self._get_pooled(key)
            if conn is not None:
                for trace in traces:
                    await trace.send_connection_reuseconn()
                return conn
        holder = _SlotHolder()
        self._acquire_slot(key, holder)
        try:
            for trace in traces:
                await trace.send_connection_create_start()
            proto = await self._create_connection(req, traces, timeout)
            if self._closed:
                proto.close()
                raise ClientConnectionError("Connector is closed.")
        except BaseException:
            self._release_slot(key, holder)
            raise
        self._release_slot(key, holder, wake=False)
        self._acquire_slot(key, proto)
        for trace in traces:
            await trace.send_connection_create_end()
        return Connection(self, key, proto, self._loop)

    def _acquire_slot(self, key: ConnectionKey, item: Any) -> None:
        self._acquired.add(item)
        if self._limit_per_host:
            self._acquired_per_host[key].add(item)

    def _release_slot(self, key: ConnectionKey, item: Any, wake: bool = True) -> None:
        self._acquired.discard(item)
        if self._limit_per_host:
            per_host = self._acquired_per_host.get(key)
            if per_host is not None:
                per_host.discard(item)
                if not per_host:
                    del self._acquired_per_host[key]
        if wake:
            self._wake_next_waiter()

    async def _wait_for_available_connection(self, key: ConnectionKey, traces: list[Trace]) -> None:
        """Queue FIFO behind earlier waiters until a slot or an idle connection is free."""
        first = True
        while True:
            waiter: asyncio.Future[None] = self._loop.create_future()
            queue = self._waiters[key]
            queue[waiter] = None
            if first:
                for trace in traces:
                    await trace.send_connection_queued_start()
            try:
                await waiter
            except BaseException:
                queue.pop(waiter, None)
                if not queue:
                    self._waiters.pop(key, None)
                # A wake-up we received but cannot use goes to the next in line.
                if waiter.done() and not waiter.cancelled():
                    self._wake_next_waiter()
                raise
            queue.pop(waiter, None)
            if not queue:
                self._waiters.pop(key, None)
            if self._available_connections(key) > 0 or self._idle.get(key):
                break
            first = False
        for trace in traces:
            await trace.send_connection_queued_end()

    def _wake_next_waiter(self) -> None:
        """Give a freed slot to the oldest waiter of a host that may use it."""
        if not self._waiters:
            return
        for key, queue in self._waiters.items():
            if self._available_connections(key) <= 0 and not self._idle.get(key):
                continue
            for waiter in queue:
                if not waiter.done():
                    waiter.set_result(None)
                    return

    # --- releasing ---------------------------------------------------------------------

    def _release(
        self, key: ConnectionKey, protocol: ResponseHandler, *, should_close: bool
    ) -> None:
        if self._closed:
            protocol.close()
            return
        self._release_slot(key, protocol, wake=False)
        if should_close or self._force_close or protocol.should_close:
            protocol.close()
        else:
            pool = self._idle.get(key)
            if pool is None:
                pool = self._idle[key] = deque()
            pool.append((protocol, self._loop.time()))
            if self._cleanup_handle is None and self._keepalive_timeout:
                self._cleanup_handle = self._loop.call_at(
                    self._loop.time() + self._keepalive_timeout, self._cleanup
                )
        self._wake_next_waiter()

    def _cleanup(self) -> None:
        """Close idle connections whose keep-alive time has passed; one timer per connector."""
        self._cleanup_handle = None
        keepalive = self._keepalive_timeout
        if self._closed or not keepalive:
            return
        now = self._loop.time()
        next_due: float | None = None
        for key in list(self._idle):
            pool = self._idle[key]
            while pool:
                proto, released_at = pool[0]
                due = released_at + keepalive
                if due <= now or not proto.is_connected():
                    pool.popleft()
                    proto.close()
                    continue
                if next_due is None or due < next_due:
                    next_due = due
                break
            if not pool:
                del self._idle[key]
        if next_due is not None:
            self._cleanup_handle = self._loop.call_at(next_due, self._cleanup)

    async def _create_connection(
        self, req: ClientRequest, traces: list[Trace], timeout: ClientTimeout
    ) -> ResponseHandler:
        """Open a new connection for `req`; subclasses implement this."""
        raise NotImplementedError()

"""The connection pool: lending, returning and expiring pooled connections.

BaseConnector owns limits, FIFO waiters and keep-alive expiry; opening new
connections is left to subclasses in `connector`. No DNS, TLS or sockets here.
"""

from __future__ import annotations

import asyncio
import functools
import math
import warnings
import weakref
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar

from ._reqrep_types import ConnectionKey
from ._tls_closing import ClosingTLS
from ._turns import Turns
from .client_exceptions import ClientConnectionError
from .client_proto import ResponseHandler

if TYPE_CHECKING:
    from ._interfaces import OutgoingRequest, TraceHooks
    from ._timeouts import ClientTimeout

__all__ = (
    "SENTINEL",
    "SSL_SHUTDOWN_DEPRECATED",
    "BaseConnector",
    "Connection",
    "StreamConnection",
)

_ConnectorT = TypeVar("_ConnectorT", bound="BaseConnector")


class _Sentinel:
    def __repr__(self) -> str:
        return "<default>"


SENTINEL: Final[Any] = _Sentinel()
_DEFAULT_KEEPALIVE: Final = 15.0
SSL_SHUTDOWN_DEPRECATED: Final = (
    "The ssl_shutdown_timeout parameter is deprecated and will be removed in aiohttp 4.0"
)
_CONNECTOR_CLOSED: Final = "Connector is closed."
# Origins remembered as answering HTTP/1.1 to an h2 offer, at most (then forgotten).
_HTTP11_ONLY_KEPT: Final = 1024


class Connection:
    """A pooled connection lent to one request; give it back with release()."""

    __slots__ = (
        "__weakref__",
        "_callbacks",
        "_connector",
        "_key",
        "_loop",
        "_protocol",
        "force_close",
    )

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
        self._callbacks: list[Callable[[], None]] | None = None
        # True when the connector closes this connection after one response (a plain
        # attribute: the request reads it on every send).
        self.force_close: bool = connector._force_close

    def __repr__(self) -> str:
        return f"Connection<{self._key}>"

    def __del__(self, _warnings: Any = warnings) -> None:
        protocol = self._protocol
        if protocol is None:
            return
        _warnings.warn(f"Unclosed connection {self!r}", ResourceWarning, source=self)
        loop = self._loop
        if loop.is_closed():
            return
        self._drop(protocol)
        loop.call_exception_handler({"client_connection": self, "message": "Unclosed connection"})

    def _drop(self, protocol: ResponseHandler) -> None:
        self._connector._release(self._key, protocol, should_close=True)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        warnings.warn("connector.loop property is deprecated", DeprecationWarning, stacklevel=2)
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
        """Run `callback` once, when the connection is released or closed."""
        if self._callbacks is None:
            self._callbacks = [callback]
        else:
            self._callbacks.append(callback)

    def _notify_release(self) -> None:
        callbacks = self._callbacks
        if callbacks is None:
            return
        self._callbacks = None
        for cb in callbacks:
            try:
                cb()
            except Exception:
                # A failing callback must not stop the connection from going back.
                pass

    def close(self) -> None:
        """Close the connection instead of returning it to the pool."""
        self._notify_release()
        protocol = self._protocol
        if protocol is not None:
            self._protocol = None
            self._drop(protocol)

    def release(self) -> None:
        """Return the connection to the pool (or close it if it cannot be reused)."""
        self._notify_release()
        protocol = self._protocol
        if protocol is not None:
            self._protocol = None
            self._connector._release(self._key, protocol)


class StreamConnection(Connection):
    """One stream of a shared HTTP/2 connection, lent to one request.

    `protocol` is the stream's handler; closing it resets the stream only, and
    releasing frees the stream for the next request on the same connection.
    """

    __slots__ = ("_shared",)

    def __init__(
        self,
        connector: BaseConnector,
        key: ConnectionKey,
        stream: ResponseHandler,
        shared: ResponseHandler,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        super().__init__(connector, key, stream, loop)
        self._shared = shared

    def __repr__(self) -> str:
        return f"StreamConnection<{self._key}>"

    def release(self) -> None:
        """Free the stream for the next request on its connection."""
        self._notify_release()
        stream = self._protocol
        if stream is not None:
            self._protocol = None
            self._connector._release_stream(self._key, self._shared, stream)

    def _drop(self, protocol: ResponseHandler) -> None:
        """Reset the stream (unless it ended) and free it; the connection goes on."""
        protocol.close()
        self._connector._release_stream(self._key, self._shared, protocol)


class _SlotHolder:
    """Holds a slot in the acquired set for a connection not lent yet."""

    __slots__ = ()


_Acquired = ResponseHandler | _SlotHolder
# Waiters of one host in arrival order, each with its arrival number.
_WaitQueue = OrderedDict["asyncio.Future[_SlotHolder]", int]


# Timers hold the connector weakly, so that a forgotten connector can still be
# collected (and warn) while its keep-alive timer is pending.
def _run_cleanup(ref: weakref.ref[BaseConnector]) -> None:
    connector = ref()
    if connector is not None:
        connector._cleanup()


class BaseConnector:
    """Pools connections per ConnectionKey with overall and per-host limits.

    Every lent, opening or promised connection holds a slot in `_acquired` (and in
    `_acquired_per_host` when `limit_per_host` is set); idle connections hold none.
    A request that finds no free slot queues; a freed slot is promised at once to the
    oldest waiter that may use it, so no later request can take it first.
    """

    # Schemes this connector can serve; the session checks a request's URL against it.
    allowed_protocol_schema_set: frozenset[str] = frozenset(
        {"", "tcp", "http", "https", "ws", "wss"}
    )
    # True until __init__ succeeds, so __del__ of a half-built connector does nothing.
    _closed: bool = True

    def __init__(
        self,
        *,
        keepalive_timeout: float | Any | None = SENTINEL,
        force_close: bool = False,
        limit: int = 100,
        limit_per_host: int = 0,
        enable_cleanup_closed: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
        timeout_ceil_threshold: float = 5,
    ) -> None:
        if force_close:
            if keepalive_timeout is not None and keepalive_timeout is not SENTINEL:
                raise ValueError("keepalive_timeout cannot be set if force_close is True")
            keepalive_timeout = None
        elif keepalive_timeout is SENTINEL:
            keepalive_timeout = _DEFAULT_KEEPALIVE
        self._loop = loop or asyncio.get_running_loop()
        self._closed = False
        self._force_close = force_close
        self._keepalive_timeout: float | None = keepalive_timeout
        # A zero keep-alive means a connection is never reused, so it is not pooled.
        self._reuse = not force_close and keepalive_timeout != 0
        self._limit = limit
        self._limit_per_host = limit_per_host
        self._timeout_ceil_threshold = timeout_ceil_threshold
        self._idle: dict[ConnectionKey, deque[tuple[ResponseHandler, float]]] = {}
        self._acquired: set[_Acquired] = set()
        self._acquired_per_host: dict[ConnectionKey, set[_Acquired]] = {}
        self._waiters: dict[ConnectionKey, _WaitQueue] = {}
        # Arrival numbers order waiters of different hosts against each other.
        self._waiter_seq = 0
        self._weakself = weakref.ref(self)
        self._cleanup_handle: asyncio.TimerHandle | None = None
        self._closing_tls = ClosingTLS(self._loop) if enable_cleanup_closed else None
        self._factory: Callable[[], ResponseHandler] = functools.partial(
            ResponseHandler, self._loop
        )
        # HTTP/2: connections whose streams are lent (each holds a slot while any stream
        # is lent), requests queued for a stream, and connections being opened that may
        # turn out to be HTTP/2 (the same origin's other requests wait for them).
        self._shared: dict[ConnectionKey, list[ResponseHandler]] = {}
        self._stream_turns = Turns(self._loop)
        self._opening: dict[ConnectionKey, asyncio.Future[bool]] = {}
        self._http11_only: set[ConnectionKey] = set()

    def __del__(self, _warnings: Any = warnings) -> None:
        if self._closed or not any(self._idle.values()):
            return
        if self._cleanup_handle is not None:
            self._cleanup_handle.cancel()
        if self._closing_tls is not None:
            self._closing_tls.cancel()
        conns = [repr(p) for pool in self._idle.values() for p, _ in pool]
        loop_alive = not self._loop.is_closed()
        if loop_alive:
            self._close_now()
        _warnings.warn(f"Unclosed connector {self!r}", ResourceWarning, source=self)
        if loop_alive:
            context = {"connector": self, "connections": conns, "message": "Unclosed connector"}
            self._loop.call_exception_handler(context)

    async def __aenter__(self: _ConnectorT) -> _ConnectorT:
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
    def event_loop(self) -> asyncio.AbstractEventLoop:
        """The loop this connector's connections live on (a session must share it)."""
        return self._loop

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
        protocols = [proto for pool in self._idle.values() for proto, _ in pool]
        protocols.extend(p for p in self._acquired if isinstance(p, ResponseHandler))
        protocols.extend(
            p for shared in self._shared.values() for p in shared if p not in protocols
        )
        self._shared.clear()
        self._stream_turns.wake_all()
        for opening in self._opening.values():
            if not opening.done():
                opening.set_result(False)
        for proto in protocols:
            if abort:
                proto.abort()
            else:
                proto.close()
        if self._closing_tls is not None:
            self._closing_tls.abort_all()
        for queue in self._waiters.values():
            for waiter in queue:
                if not waiter.done():
                    waiter.set_exception(ClientConnectionError(_CONNECTOR_CLOSED))
        self._idle.clear()
        self._acquired.clear()
        self._acquired_per_host.clear()
        self._waiters.clear()
        return protocols

    def _close_protocol(self, proto: ResponseHandler) -> None:
        if self._closing_tls is None:
            proto.close()
        else:
            self._closing_tls.close(proto)

    # --- acquiring -------------------------------------------------------------------

    def _available_connections(self, key: ConnectionKey) -> int:
        """How many more connections may be lent for `key` right now (>= 1 is yes)."""
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

    def take_idle(self, key: ConnectionKey, streams: bool = True) -> Connection | None:
        """Lend an idle connection for `key` synchronously, or None.

        None also when every slot is taken: then the caller must queue in connect_new().
        With `streams` (not for an upgrade), a stream of a shared HTTP/2 connection too.
        """
        if self._shared and streams:
            conn = self._take_stream(key, queued=False)
            if conn is not None:
                return conn
        pool = self._idle.get(key)
        if not pool:
            return None
        limit = self._limit
        if limit and len(self._acquired) >= limit:
            return None
        limit_per_host = self._limit_per_host
        if limit_per_host:
            per_host = self._acquired_per_host.get(key)
            if per_host is not None and len(per_host) >= limit_per_host:
                return None
        keepalive = self._keepalive_timeout
        oldest = -math.inf if keepalive is None else self._loop.time() - keepalive
        while pool:
            # Newest first: it is the least likely to have been closed by the server.
            proto, released_at = pool.pop()
            if released_at >= oldest and proto.is_connected():
                # An emptied pool stays in the dict: the release that usually follows
                # appends to it instead of rebuilding it (ConnectionKey hashing is
                # slow; saves ~25% of a get+release pair). _cleanup drops empty pools.
                self._acquired.add(proto)
                if limit_per_host:
                    per_host = self._acquired_per_host.get(key)
                    if per_host is None:
                        self._acquired_per_host[key] = {proto}
                    else:
                        per_host.add(proto)
                return Connection(self, key, proto, self._loop)
            self._close_protocol(proto)
        return None

    async def connect(
        self, req: OutgoingRequest, traces: Sequence[TraceHooks], timeout: ClientTimeout
    ) -> Connection:
        """Lend a connection for `req`: pooled if one is idle, else a new one."""
        conn = self.take_idle(req.connection_key, not req.is_upgrade)
        if conn is None:
            return await self.connect_new(req, traces, timeout)
        if traces:
            await self.trace_reuse(conn, traces)
        return conn

    async def connect_new(
        self, req: OutgoingRequest, traces: Sequence[TraceHooks], timeout: ClientTimeout
    ) -> Connection:
        """Lend a connection for `req` once `take_idle` found none: wait for a slot, then
        take an idle one that came back meanwhile or open a new one."""
        key = req.connection_key
        if self._closed:
            raise ClientConnectionError(_CONNECTOR_CLOSED)
        streams = not req.is_upgrade
        if not streams or key in self._http11_only or not self._may_multiplex(req):
            return await self._lend_new(key, req, traces, timeout, streams)
        conn, lead = await self._wait_for_stream(key)
        if conn is not None:
            return conn
        if self._closed:
            raise ClientConnectionError(_CONNECTOR_CLOSED)
        if not lead:
            return await self._lend_new(key, req, traces, timeout, streams)
        # The origin's other requests wait for this one. True tells them it failed or
        # chose HTTP/1.1 (each then opens its own); cancelled, the next of them leads.
        opening = self._opening[key] = self._loop.create_future()
        scatter = False
        try:
            conn = await self._lend_new(key, req, traces, timeout, streams)
            scatter = not isinstance(conn, StreamConnection)
        except Exception:
            scatter = True
            raise
        finally:
            del self._opening[key]
            if not opening.done():
                opening.set_result(scatter)
            self._stream_turns.wake(key, everyone=True)
        if not isinstance(conn, StreamConnection):
            # The server chose HTTP/1.1: its requests need not wait for one another.
            if len(self._http11_only) >= _HTTP11_ONLY_KEPT:
                self._http11_only.clear()
            self._http11_only.add(key)
        return conn

    async def _lend_new(
        self,
        key: ConnectionKey,
        req: OutgoingRequest,
        traces: Sequence[TraceHooks],
        timeout: ClientTimeout,
        streams: bool = True,
    ) -> Connection:
        if self._available_connections(key) > 0:
            holder = _SlotHolder()
            self._acquire_slot(key, holder)
            return await self._open(key, holder, req, traces, timeout)
        holder = await self._wait_for_slot(key, traces)
        if self._closed:
            raise ClientConnectionError(_CONNECTOR_CLOSED)
        # Swapping the promised slot for an idle connection is synchronous:
        # nobody can take the slot in between.
        self._release_slot(key, holder, wake=False)
        # A slot won after a wait may go to a stream of a shared connection that has
        # room, ahead of requests queued for one: better than a second connection.
        conn = self._take_stream(key, queued=True) if streams and self._shared else None
        if conn is None:
            conn = self.take_idle(key, streams)
        if conn is None:
            self._acquire_slot(key, holder)
            return await self._open(key, holder, req, traces, timeout)
        if traces:
            await self.trace_reuse(conn, traces)
        return conn

    async def trace_reuse(self, conn: Connection, traces: Sequence[TraceHooks]) -> None:
        """Fire on_connection_reuseconn; a callback that fails or is cancelled gives it back."""
        try:
            for trace in traces:
                await trace.send_connection_reuseconn()
        except BaseException:
            conn.release()
            raise

    async def _open(
        self,
        key: ConnectionKey,
        holder: _SlotHolder,
        req: OutgoingRequest,
        traces: Sequence[TraceHooks],
        timeout: ClientTimeout,
    ) -> Connection:
        """Open a connection in the slot `holder` keeps; the slot is freed on failure."""
        try:
            for trace in traces:
                await trace.send_connection_create_start()
            proto = await self._create_connection(req, traces, timeout)
        except BaseException:
            self._release_slot(key, holder)
            raise
        if self._closed:
            proto.close()
            raise ClientConnectionError(_CONNECTOR_CLOSED)
        self._acquired.discard(holder)
        self._acquired.add(proto)
        if self._limit_per_host:
            per_host = self._acquired_per_host[key]
            per_host.discard(holder)
            per_host.add(proto)
        mux = proto.multiplexer
        if mux is None:
            conn = Connection(self, key, proto, self._loop)
        else:
            self._shared.setdefault(key, []).append(proto)
            mux.on_room = functools.partial(self._stream_turns.wake, key, True)
            conn = StreamConnection(self, key, mux.open_stream(), proto, self._loop)
        if traces:
            try:
                for trace in traces:
                    await trace.send_connection_create_end()
            except BaseException:
                conn.close()
                raise
        return conn

    def _acquire_slot(self, key: ConnectionKey, item: _Acquired) -> None:
        self._acquired.add(item)
        if self._limit_per_host:
            per_host = self._acquired_per_host.get(key)
            if per_host is None:
                self._acquired_per_host[key] = {item}
            else:
                per_host.add(item)

    def _release_slot(self, key: ConnectionKey, item: _Acquired, wake: bool = True) -> None:
        self._acquired.discard(item)
        if self._limit_per_host:
            per_host = self._acquired_per_host.get(key)
            if per_host is not None:
                per_host.discard(item)
                if not per_host:
                    del self._acquired_per_host[key]
        if wake and self._waiters:
            self._wake_next_waiter()

    async def _wait_for_slot(self, key: ConnectionKey, traces: Sequence[TraceHooks]) -> _SlotHolder:
        """Queue behind earlier waiters until a slot is promised to this request."""
        waiter: asyncio.Future[_SlotHolder] = self._loop.create_future()
        queue = self._waiters.get(key)
        if queue is None:
            queue = self._waiters[key] = OrderedDict()
        self._waiter_seq += 1
        queue[waiter] = self._waiter_seq
        try:
            for trace in traces:
                await trace.send_connection_queued_start()
            holder = await waiter
            for trace in traces:
                await trace.send_connection_queued_end()
        except BaseException:
            self._drop_waiter(key, waiter)
            raise
        return holder

    def _drop_waiter(self, key: ConnectionKey, waiter: asyncio.Future[_SlotHolder]) -> None:
        """Forget a waiter that gives up; a slot already promised to it goes to the next."""
        if not waiter.done():
            waiter.cancel()
        elif not waiter.cancelled() and waiter.exception() is None:
            self._release_slot(key, waiter.result())
            return
        queue = self._waiters.get(key)
        if queue is not None:
            queue.pop(waiter, None)
            if not queue:
                del self._waiters[key]

    def _wake_next_waiter(self) -> None:
        """Promise free slots to the oldest waiters that may use them, oldest first."""
        waiters = self._waiters
        while waiters:
            chosen_key: ConnectionKey | None = None
            chosen: asyncio.Future[_SlotHolder] | None = None
            chosen_seq = 0
            for key, queue in waiters.items():
                if self._available_connections(key) <= 0:
                    continue
                for waiter, seq in queue.items():
                    # Cancelled waiters stay queued until their task runs; skip them.
                    if not waiter.done():
                        if chosen is None or seq < chosen_seq:
                            chosen_key, chosen, chosen_seq = key, waiter, seq
                        break
            if chosen is None or chosen_key is None:
                return
            queue = waiters[chosen_key]
            del queue[chosen]
            if not queue:
                del waiters[chosen_key]
            holder = _SlotHolder()
            self._acquire_slot(chosen_key, holder)
            chosen.set_result(holder)

    # --- releasing ---------------------------------------------------------------------

    def _release(
        self, key: ConnectionKey, protocol: ResponseHandler, *, should_close: bool = False
    ) -> None:
        if self._closed:
            protocol.close()
            return
        self._acquired.discard(protocol)
        if self._limit_per_host:
            per_host = self._acquired_per_host.get(key)
            if per_host is not None:
                per_host.discard(protocol)
                if not per_host:
                    del self._acquired_per_host[key]
        if should_close or not self._reuse or protocol.should_close:
            self._close_protocol(protocol)
        else:
            now = self._loop.time()
            pool = self._idle.get(key)
            if pool is None:
                self._idle[key] = deque(((protocol, now),))
            else:
                pool.append((protocol, now))
            keepalive = self._keepalive_timeout
            if self._cleanup_handle is None and keepalive is not None:
                self._schedule_cleanup(now + keepalive)
        if self._waiters:
            self._wake_next_waiter()

    def _schedule_cleanup(self, when: float) -> None:
        keepalive = self._keepalive_timeout
        if keepalive is not None and keepalive >= self._timeout_ceil_threshold:
            # Long timeouts are rounded up so that expiries share fewer timer wake-ups.
            when = math.ceil(when)
        self._cleanup_handle = self._loop.call_at(when, _run_cleanup, self._weakself)

    def _cleanup(self) -> None:
        """Close idle connections that expired or that the server closed."""
        self._cleanup_handle = None
        keepalive = self._keepalive_timeout
        if self._closed or keepalive is None:
            return
        oldest = self._loop.time() - keepalive
        next_due: float | None = None
        idle = self._idle
        for key in list(idle):
            kept: deque[tuple[ResponseHandler, float]] = deque()
            for proto, released_at in idle[key]:
                if released_at <= oldest or not proto.is_connected():
                    self._close_protocol(proto)
                else:
                    kept.append((proto, released_at))
            if kept:
                idle[key] = kept
                # Pools are kept in release order, so the first one expires first.
                due = kept[0][1] + keepalive
                if next_due is None or due < next_due:
                    next_due = due
            else:
                del idle[key]
        for key in list(self._shared):
            for proto in list(self._shared[key]):
                mux = proto.multiplexer
                assert mux is not None
                if mux.active_streams:
                    continue
                if mux.idle_since <= oldest or not mux.usable:
                    self._drop_shared(key, proto)
                elif next_due is None or mux.idle_since + keepalive < next_due:
                    next_due = mux.idle_since + keepalive
        if next_due is not None:
            self._schedule_cleanup(next_due)

    async def _create_connection(
        self, req: OutgoingRequest, traces: Sequence[TraceHooks], timeout: ClientTimeout
    ) -> ResponseHandler:
        """Open a new connection for `req`; subclasses implement this."""
        raise NotImplementedError()

    # --- HTTP/2: streams of shared connections ----------------------------------------

    def _may_multiplex(self, req: OutgoingRequest) -> bool:
        """Whether a new connection for `req` may turn out to be HTTP/2 (subclasses say)."""
        return False

    def _take_stream(self, key: ConnectionKey, *, queued: bool) -> Connection | None:
        """Lend a stream of a shared connection for `key` with one free, or None.

        A request that did not queue yields to those queued first (FIFO).
        """
        shared = self._shared.get(key)
        if not shared or (not queued and self._stream_turns.waiting(key)):
            return None
        for proto in list(shared):
            mux = proto.multiplexer
            assert mux is not None
            if not mux.can_open_stream():
                if not mux.usable and not mux.active_streams:
                    self._drop_shared(key, proto)
                continue
            if not mux.active_streams:
                if self._available_connections(key) <= 0:
                    continue  # an idle one needs a slot; one in use may still have room
                self._acquire_slot(key, proto)
            return StreamConnection(self, key, mux.open_stream(), proto, self._loop)
        return None

    async def _wait_for_stream(self, key: ConnectionKey) -> tuple[Connection | None, bool]:
        """A stream for `key` once one is free; else (None, lead): the caller opens a
        connection, one the origin's other requests wait for when `lead` is True (not
        after an opening that failed or chose HTTP/1.1: then each opens its own)."""
        queued = scattered = False
        while True:
            conn = self._take_stream(key, queued=queued)
            if conn is not None or self._closed:
                return conn, False
            opening = self._opening.get(key)
            if opening is not None:
                if await asyncio.shield(opening):
                    scattered = True
                continue
            # A connection that has no stream lent and can open none (a server allowing
            # none) is no reason to wait.
            muxes = [p.multiplexer for p in self._shared.get(key, ()) if p.multiplexer]
            usable = [m for m in muxes if m.usable and (m.active_streams or m.can_open_stream())]
            if not usable:
                return None, not scattered
            if any(mux.can_open_stream() for mux in usable) and (
                queued or not self._stream_turns.waiting(key)
            ):
                return None, False  # a stream is free; only the pool's limits hold it back
            await self._stream_turns.wait(key)
            queued = True

    def _release_stream(
        self, key: ConnectionKey, proto: ResponseHandler, stream: ResponseHandler
    ) -> None:
        """A lent stream came back: free it; the connection's slot too if it was the last."""
        mux = proto.multiplexer
        assert mux is not None
        mux.release_stream(stream)
        self._stream_turns.wake(key)
        if not mux.active_streams and not self._closed:
            self._release_slot(key, proto)  # wakes requests waiting for a slot
            if not mux.usable or not self._reuse:
                self._drop_shared(key, proto)
            elif self._cleanup_handle is None and self._keepalive_timeout is not None:
                self._schedule_cleanup(mux.idle_since + self._keepalive_timeout)

    def _drop_shared(self, key: ConnectionKey, proto: ResponseHandler) -> None:
        shared = self._shared.get(key)
        if shared is not None and proto in shared:
            shared.remove(proto)
            if not shared:
                del self._shared[key]
        self._close_protocol(proto)
        self._stream_turns.wake(key, everyone=True)

"""Connectors: open TCP, TLS and Unix-socket connections for the pool, directly or via proxies.

TCPConnector resolves names (with a cache), races addresses with happy eyeballs, wraps
TLS and tunnels through HTTP proxies; the pool lives in `_pool`, what is said to a proxy
in `_proxy`. No request building or parsing here.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import socket
import ssl
import sys
import warnings
from collections.abc import Awaitable, Coroutine, Iterator, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, NamedTuple, TypeVar

import aiohappyeyeballs
from aiohappyeyeballs import AddrInfoType, SocketFactoryType
from yarl import URL

from ._pool import SENTINEL, SSL_SHUTDOWN_DEPRECATED, BaseConnector, Connection
from ._proxy import open_tunnel, proxy_connection_key
from ._reqrep_types import Fingerprint
from ._ssl_params import merge_ssl_params
from .abc import AbstractResolver, ResolveResult
from .client_exceptions import (
    ClientConnectionError,
    ClientConnectorCertificateError,
    ClientConnectorDNSError,
    ClientConnectorError,
    ClientConnectorSSLError,
    ClientHttpProxyError,
    ClientProxyConnectionError,
    ConnectionTimeoutError,
    InvalidUrlClientError,
    ServerFingerprintMismatch,
    UnixClientConnectorError,
    cert_errors,
    ssl_errors,
)
from .client_proto import ResponseHandler
from .compression_utils import Buffer
from .helpers import (
    ceil_timeout,
    client_logger,
    is_canonical_ipv4_address,
    is_ip_address,
    noop,
    sentinel,
    set_exception,
    set_result,
)
from .resolver import DefaultResolver

if TYPE_CHECKING:
    from ._interfaces import OutgoingRequest, TraceHooks
    from ._reqrep_types import ConnectionKey
    from ._timeouts import ClientTimeout

__all__ = (
    "EMPTY_SCHEMA_SET",
    "HIGH_LEVEL_SCHEMA_SET",
    "HTTP_AND_EMPTY_SCHEMA_SET",
    "HTTP_SCHEMA_SET",
    "WS_SCHEMA_SET",
    "AddrInfoType",
    "BaseConnector",
    "Buffer",
    "ClientConnectionError",
    "ClientHttpProxyError",
    "Connection",
    "InvalidUrlClientError",
    "NamedPipeConnector",
    "SocketFactoryType",
    "TCPConnector",
    "UnixConnector",
    "ceil_timeout",
    "cert_errors",
    "client_logger",
    "is_canonical_ipv4_address",
    "is_ip_address",
    "noop",
    "sentinel",
    "set_exception",
    "set_result",
    "ssl_errors",
)

# URL schemes by what handles them ("" is a relative URL's); aiohttp's names.
EMPTY_SCHEMA_SET: Final = frozenset({""})
HTTP_SCHEMA_SET: Final = frozenset({"http", "https"})
WS_SCHEMA_SET: Final = frozenset({"ws", "wss"})
HTTP_AND_EMPTY_SCHEMA_SET: Final = HTTP_SCHEMA_SET | EMPTY_SCHEMA_SET
HIGH_LEVEL_SCHEMA_SET: Final = HTTP_AND_EMPTY_SCHEMA_SET | WS_SCHEMA_SET

_T = TypeVar("_T")

# asyncio only accepts a TLS shutdown grace period from 3.11 on.
_HAS_SSL_SHUTDOWN_TIMEOUT: Final = sys.version_info >= (3, 11)
# asyncio can start TLS over a TLS transport (an https target via an https proxy)
# from 3.11 on; before, start_tls refuses such a transport.
_HAS_TLS_IN_TLS: Final = sys.version_info >= (3, 11)
_NO_TLS_IN_TLS: Final = "An https target through an https proxy needs Python 3.11 or newer"

# --- TLS -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=2)
def _make_ssl_context(verified: bool) -> ssl.SSLContext:
    """The connector's default contexts, built once per process (loading CAs is slow)."""
    if verified:
        context = ssl.create_default_context()
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.options |= ssl.OP_NO_COMPRESSION
    context.set_alpn_protocols(("http/1.1",))
    return context


def _tls_name(host: str) -> str:
    """The name a certificate must carry for `host`."""
    # A trailing dot is legal in DNS but never in a certificate name.
    return host.rstrip(".")


class _Endpoint(NamedTuple):
    """Where a new connection is dialled (the target, or the proxy in front of it)."""

    key: ConnectionKey  # named by the errors raised while connecting
    host: str
    port: int
    sslcontext: ssl.SSLContext | None
    server_hostname: str | None
    fingerprint: Fingerprint | None
    refused: type[ClientConnectorError]  # raised when no socket can be opened


@contextlib.contextmanager
def _tls_errors(endpoint: _Endpoint) -> Iterator[None]:
    """Map what a TLS handshake raises to the connector errors naming `endpoint`."""
    try:
        yield
    except ssl.CertificateError as exc:
        raise ClientConnectorCertificateError(endpoint.key, exc) from exc
    except ssl.SSLError as exc:
        raise ClientConnectorSSLError(endpoint.key, exc) from exc
    except OSError as exc:
        if _is_timeout(exc):
            raise
        raise endpoint.refused(endpoint.key, exc) from exc


# --- DNS cache ---------------------------------------------------------------------------


class _CacheEntry:
    __slots__ = ("addrs", "expires", "turn")

    def __init__(self, addrs: list[ResolveResult], expires: float) -> None:
        self.addrs = addrs
        self.expires = expires
        # The first answer is used as resolved; later hits start one address further on.
        self.turn = 1


class _DNSCache:
    """Resolved addresses per (host, port), each valid for `ttl` seconds (None: forever).

    Hits hand the addresses out round-robin so that repeated connections spread over
    every address of a host. The oldest entry is dropped beyond `max_size`.
    """

    __slots__ = ("_entries", "_max_size", "_ttl")

    def __init__(self, ttl: float | None, max_size: int) -> None:
        self._entries: dict[tuple[str, int], _CacheEntry] = {}
        self._ttl = ttl
        self._max_size = max_size

    def next_addrs(self, key: tuple[str, int], now: float) -> list[ResolveResult] | None:
        """The cached addresses of `key` in this turn's order, or None if absent or stale."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._ttl is not None and now >= entry.expires:
            del self._entries[key]
            return None
        addrs = entry.addrs
        count = len(addrs)
        if count == 1:
            return addrs
        start = entry.turn % count
        entry.turn = start + 1
        return addrs[start:] + addrs[:start] if start else addrs

    def add(self, key: tuple[str, int], addrs: list[ResolveResult], now: float) -> None:
        entries = self._entries
        entries.pop(key, None)
        ttl = self._ttl
        entries[key] = _CacheEntry(addrs, now + ttl if ttl is not None else math.inf)
        if self._max_size and len(entries) > self._max_size:
            del entries[next(iter(entries))]

    def remove(self, key: tuple[str, int]) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    def __iter__(self) -> Iterator[tuple[str, int]]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def snapshot(self) -> MappingProxyType[tuple[str, int], list[ResolveResult]]:
        return MappingProxyType({key: entry.addrs for key, entry in self._entries.items()})


def _literal_ip_family(host: str) -> int | None:
    """AF_INET/AF_INET6 when `host` is an IP literal, else None."""
    # Names almost never end in a digit or contain ':'; checking first spares them
    # the cost of two failing inet_pton calls.
    if ":" in host:
        family = socket.AF_INET6
    elif host[-1:].isdigit():
        family = socket.AF_INET
    else:
        return None
    try:
        socket.inet_pton(family, host)
    except (OSError, ValueError):
        return None
    return family


def _addr_infos(hosts: list[ResolveResult]) -> list[AddrInfoType]:
    """Resolver results as the getaddrinfo-style tuples aiohappyeyeballs takes."""
    infos: list[AddrInfoType] = []
    for hinfo in hosts:
        family = hinfo["family"]
        address: tuple[Any, ...] = (
            (hinfo["host"], hinfo["port"], 0, 0)
            if family == socket.AF_INET6
            else (hinfo["host"], hinfo["port"])
        )
        infos.append(
            (family, socket.SOCK_STREAM, hinfo["proto"] or socket.IPPROTO_TCP, "", address)
        )
    return infos


def _local_addr_infos(local_addr: tuple[str, int] | None) -> list[AddrInfoType] | None:
    if local_addr is None:
        return None
    host, port = local_addr
    if ":" in host:
        return [(socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (host, port, 0, 0))]
    return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (host, port))]


def _is_timeout(exc: OSError) -> bool:
    """An asyncio timeout, as opposed to a kernel ETIMEDOUT (which carries an errno)."""
    return exc.errno is None and isinstance(exc, asyncio.TimeoutError)


async def _within(
    loop: asyncio.AbstractEventLoop,
    step: Coroutine[Any, Any, _T],
    delay: float | None,
    ceil_threshold: float,
    message: str,
) -> _T:
    """Await `step`, raising ConnectionTimeoutError after `delay` seconds.

    None or a delay <= 0 means no limit, as in aiohttp.
    """
    if delay is None or delay <= 0:
        return await step
    if delay > ceil_threshold:
        # Long timeouts end on a whole second so that many of them share a loop wakeup.
        now = loop.time()
        delay = math.ceil(now + delay) - now
    try:
        return await asyncio.wait_for(step, delay)
    except asyncio.TimeoutError as exc:
        if isinstance(exc, OSError) and not _is_timeout(exc):
            raise
        raise ConnectionTimeoutError(message) from exc


# --- TCP -------------------------------------------------------------------------------


class TCPConnector(BaseConnector):
    """Connects over TCP (and TLS), resolving names with a cached resolver."""

    allowed_protocol_schema_set = frozenset({"", "tcp", "http", "https", "ws", "wss"})

    def __init__(
        self,
        *,
        ssl: ssl.SSLContext | bool | Fingerprint = True,
        verify_ssl: bool = True,
        fingerprint: bytes | None = None,
        use_dns_cache: bool = True,
        ttl_dns_cache: int | None = 10,
        dns_cache_max_size: int = 1000,
        family: socket.AddressFamily = socket.AddressFamily.AF_UNSPEC,
        ssl_context: ssl.SSLContext | None = None,
        local_addr: tuple[str, int] | None = None,
        resolver: AbstractResolver | None = None,
        keepalive_timeout: float | Any | None = SENTINEL,
        force_close: bool = False,
        limit: int = 100,
        limit_per_host: int = 0,
        enable_cleanup_closed: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
        timeout_ceil_threshold: float = 5,
        happy_eyeballs_delay: float | None = 0.25,
        interleave: int | None = None,
        socket_factory: SocketFactoryType | None = None,
        ssl_shutdown_timeout: float | Any | None = SENTINEL,
    ) -> None:
        super().__init__(
            keepalive_timeout=keepalive_timeout,
            force_close=force_close,
            limit=limit,
            limit_per_host=limit_per_host,
            enable_cleanup_closed=enable_cleanup_closed,
            loop=loop,
            timeout_ceil_threshold=timeout_ceil_threshold,
        )
        self._ssl = merge_ssl_params(
            ssl, None if verify_ssl else verify_ssl, ssl_context, fingerprint
        )
        self._resolver: AbstractResolver = resolver if resolver is not None else DefaultResolver()
        self._resolver_owner = resolver is None
        self._use_dns_cache = use_dns_cache
        self._cached_hosts = _DNSCache(ttl_dns_cache, dns_cache_max_size)
        # In-flight lookups per (host, port): concurrent requests await the same task.
        self._resolving: dict[tuple[str, int], asyncio.Task[list[ResolveResult]]] = {}
        self._family = family
        self._local_addr_infos = _local_addr_infos(local_addr)
        self._happy_eyeballs_delay = happy_eyeballs_delay
        self._interleave = interleave
        self._socket_factory = socket_factory
        # Open TLS connections, so that close() can shut them down or abort them.
        self._tls_protocols: set[ResponseHandler] = set()
        self._ssl_shutdown_timeout: float | None = 0
        if ssl_shutdown_timeout is not SENTINEL:
            warnings.warn(SSL_SHUTDOWN_DEPRECATED, DeprecationWarning, stacklevel=2)
            if not _HAS_SSL_SHUTDOWN_TIMEOUT and ssl_shutdown_timeout:
                warnings.warn(
                    "ssl_shutdown_timeout is ignored on Python < 3.11; only 0 is supported",
                    RuntimeWarning,
                    stacklevel=2,
                )
            self._ssl_shutdown_timeout = ssl_shutdown_timeout

    # --- documented properties ---------------------------------------------------------

    @property
    def family(self) -> int:
        """The address family used for connecting (AF_UNSPEC: any)."""
        return self._family

    @property
    def use_dns_cache(self) -> bool:
        """Whether resolved addresses are cached."""
        return self._use_dns_cache

    @property
    def dns_cache(self) -> bool:
        """Whether resolved addresses are cached (the documented name)."""
        return self._use_dns_cache

    @property
    def cached_hosts(self) -> MappingProxyType[tuple[str, int], list[ResolveResult]]:
        """A read-only copy of the cached addresses, per (host, port)."""
        return self._cached_hosts.snapshot()

    def clear_dns_cache(self, host: str | None = None, port: int | None = None) -> None:
        """Forget the cached addresses of (host, port), or every cached address."""
        if host is not None and port is not None:
            self._cached_hosts.remove((host, port))
        elif host is not None or port is not None:
            raise ValueError("either both host and port or none of them are allowed")
        else:
            self._cached_hosts.clear()

    # --- closing -------------------------------------------------------------------------

    def close(self, *, abort_ssl: bool = False) -> Awaitable[None]:
        """Close every connection; TLS ones get `ssl_shutdown_timeout` to say goodbye."""
        lookups = [task for task in self._resolving.values() if not task.done()]
        for task in lookups:
            task.cancel()
        self._resolving.clear()
        grace = self._ssl_shutdown_timeout
        tls_transports: list[tuple[ResponseHandler, asyncio.Transport]] = []
        for proto in self._tls_protocols:
            transport = proto.transport
            if transport is None:
                continue
            if abort_ssl or grace == 0:
                proto.abort()
            else:
                tls_transports.append((proto, transport))
        self._tls_protocols.clear()
        pool_closed = super().close()
        return self._finish_close(pool_closed, lookups, tls_transports, grace)

    async def _finish_close(
        self,
        pool_closed: Awaitable[None],
        lookups: list[asyncio.Task[list[ResolveResult]]],
        tls_transports: list[tuple[ResponseHandler, asyncio.Transport]],
        grace: float | None,
    ) -> None:
        await pool_closed
        if lookups:
            await asyncio.gather(*lookups, return_exceptions=True)
        if tls_transports and grace:
            pending = [proto.closed for proto, _ in tls_transports if not proto.closed.done()]
            if pending:
                await asyncio.wait(pending, timeout=grace)
            for proto, transport in tls_transports:
                if not proto.closed.done():
                    transport.abort()
        if self._resolver_owner:
            await self._resolver.close()

    # --- name resolution -----------------------------------------------------------------

    async def _resolve_host(
        self, host: str, port: int, traces: Sequence[TraceHooks]
    ) -> list[ResolveResult]:
        family = _literal_ip_family(host)
        if family is not None:
            return [
                ResolveResult(hostname=host, host=host, port=port, family=family, proto=0, flags=0)
            ]
        if not self._use_dns_cache:
            return await self._resolve_traced(host, port, traces)
        key = (host, port)
        cached = self._cached_hosts.next_addrs(key, self._loop.time())
        if cached is not None:
            for trace in traces:
                await trace.send_dns_cache_hit(host)
            return cached
        # Look up and register synchronously: any await before the task is in
        # `_resolving` would let a concurrent request start a second lookup.
        lookup = self._resolving.get(key)
        if lookup is None:
            lookup = self._loop.create_task(self._lookup(key, host, port, traces))
            self._resolving[key] = lookup
            lookup.add_done_callback(functools.partial(self._lookup_done, key))
        else:
            # Joining a lookup already under way counts as a hit, as in aiohttp.
            for trace in traces:
                await trace.send_dns_cache_hit(host)
        # Shielded so that a cancelled request leaves the shared lookup running for
        # the other requests waiting on it.
        return await asyncio.shield(lookup)

    async def _lookup(
        self, key: tuple[str, int], host: str, port: int, traces: Sequence[TraceHooks]
    ) -> list[ResolveResult]:
        for trace in traces:
            await trace.send_dns_cache_miss(host)
        addrs = await self._resolve_traced(host, port, traces)
        if addrs:
            self._cached_hosts.add(key, addrs, self._loop.time())
        return addrs

    def _lookup_done(self, key: tuple[str, int], task: asyncio.Task[list[ResolveResult]]) -> None:
        if self._resolving.get(key) is task:
            del self._resolving[key]
        if not task.cancelled():
            # Mark a failure as seen: when every waiter was cancelled nobody else will.
            task.exception()

    async def _resolve_traced(
        self, host: str, port: int, traces: Sequence[TraceHooks]
    ) -> list[ResolveResult]:
        for trace in traces:
            await trace.send_dns_resolvehost_start(host)
        addrs = await self._resolver.resolve(host, port, family=self._family)
        for trace in traces:
            await trace.send_dns_resolvehost_end(host)
        return addrs

    # --- connecting ------------------------------------------------------------------

    def _ssl_context_for(self, req: OutgoingRequest) -> ssl.SSLContext | None:
        if not req.is_ssl():
            return None
        sslp = req.ssl
        if sslp is True:
            sslp = self._ssl
        if isinstance(sslp, ssl.SSLContext):
            return sslp
        if sslp is False or isinstance(sslp, Fingerprint):
            return _make_ssl_context(False)
        return _make_ssl_context(True)

    def _fingerprint_for(self, req: OutgoingRequest) -> Fingerprint | None:
        sslp = req.ssl
        if isinstance(sslp, Fingerprint):
            return sslp
        if sslp is True and isinstance(self._ssl, Fingerprint):
            return self._ssl
        return None

    def _target_endpoint(self, req: OutgoingRequest) -> _Endpoint:
        host = req.url.raw_host
        assert host is not None
        port = req.port
        assert port is not None
        sslcontext = self._ssl_context_for(req)
        return _Endpoint(
            req.connection_key,
            host,
            port,
            sslcontext,
            _tls_name(req.server_hostname or host) if sslcontext is not None else None,
            self._fingerprint_for(req),
            ClientConnectorError,
        )

    def _proxy_endpoint(self, req: OutgoingRequest, proxy: URL) -> _Endpoint:
        key = proxy_connection_key(proxy)
        port = key.port
        assert port is not None
        sslcontext: ssl.SSLContext | None = None
        if key.is_ssl:
            sslp = req.ssl
            if sslp is True:
                sslp = self._ssl
            if isinstance(sslp, ssl.SSLContext):
                # As in aiohttp: one context must trust both the proxy and the target.
                sslcontext = sslp
            else:
                # A pinned fingerprint names the target's certificate; the proxy's
                # is verified as usual.
                sslcontext = _make_ssl_context(sslp is not False)
        server_hostname = _tls_name(key.host) if sslcontext is not None else None
        return _Endpoint(
            key, key.host, port, sslcontext, server_hostname, None, ClientProxyConnectionError
        )

    async def _create_connection(
        self, req: OutgoingRequest, traces: Sequence[TraceHooks], timeout: ClientTimeout
    ) -> ResponseHandler:
        proxy = req.proxy
        if proxy is None:
            return await self._connect_endpoint(self._target_endpoint(req), req, traces, timeout)
        return await self._connect_via_proxy(req, proxy, traces, timeout)

    async def _connect_endpoint(
        self,
        endpoint: _Endpoint,
        req: OutgoingRequest,
        traces: Sequence[TraceHooks],
        timeout: ClientTimeout,
    ) -> ResponseHandler:
        """Resolve `endpoint`, connect to it (within sock_connect) and wrap TLS if asked."""
        host = endpoint.host
        try:
            hosts = await self._resolve_host(host, endpoint.port, traces)
        except OSError as exc:
            if _is_timeout(exc):
                raise
            raise ClientConnectorDNSError(endpoint.key, exc) from exc
        if not hosts:
            raise ClientConnectorDNSError(
                endpoint.key, OSError(None, f"DNS lookup of {host} found nothing")
            )
        return await _within(
            self._loop,
            self._dial(endpoint, _addr_infos(hosts)),
            timeout.sock_connect,
            self._timeout_ceil_threshold,
            f"Connection timeout to host {req.url}",
        )

    async def _dial(self, endpoint: _Endpoint, addr_infos: list[AddrInfoType]) -> ResponseHandler:
        """Connect a socket (happy eyeballs over `addr_infos`), then wrap it in TLS."""
        try:
            sock = await aiohappyeyeballs.start_connection(
                addr_infos,
                local_addr_infos=self._local_addr_infos,
                happy_eyeballs_delay=self._happy_eyeballs_delay,
                interleave=self._interleave,
                loop=self._loop,
                socket_factory=self._socket_factory,
            )
        except OSError as exc:
            if _is_timeout(exc):
                raise
            raise endpoint.refused(endpoint.key, exc) from exc
        sslcontext = endpoint.sslcontext
        if sslcontext is None:
            try:
                _, proto = await self._loop.create_connection(self._factory, sock=sock)
            except OSError as exc:
                sock.close()
                raise endpoint.refused(endpoint.key, exc) from exc
            return proto
        with _tls_errors(endpoint):
            _, proto = await self._loop.create_connection(
                self._factory,
                sock=sock,
                ssl=sslcontext,
                server_hostname=endpoint.server_hostname,
                **self._tls_extra(),
            )
        self._check_pin(endpoint, proto)
        self._track_tls(proto)
        return proto

    async def _connect_via_proxy(
        self, req: OutgoingRequest, proxy: URL, traces: Sequence[TraceHooks], timeout: ClientTimeout
    ) -> ResponseHandler:
        """Connect to `proxy`; for a TLS target, tunnel through it with CONNECT, then TLS.

        A plain-HTTP target needs no more: the request goes to the proxy in absolute
        form over this connection (see `_proxy.prepare_proxied_headers`).
        """
        endpoint = self._proxy_endpoint(req, proxy)
        tunnelled = req.is_ssl()
        if tunnelled and endpoint.sslcontext is not None and not _HAS_TLS_IN_TLS:
            raise ClientConnectorError(req.connection_key, OSError(None, _NO_TLS_IN_TLS))
        protocol = await self._connect_endpoint(endpoint, req, traces, timeout)
        if not tunnelled:
            return protocol
        try:
            await open_tunnel(protocol, req, timeout)
            return await _within(
                self._loop,
                self._start_tls_in_tunnel(req, protocol),
                timeout.sock_connect,
                self._timeout_ceil_threshold,
                f"Connection timeout to host {req.url}",
            )
        except BaseException:
            protocol.close()
            raise

    async def _start_tls_in_tunnel(
        self, req: OutgoingRequest, tunnel: ResponseHandler
    ) -> ResponseHandler:
        """Start TLS with the target over the transport `tunnel` opened through the proxy.

        The TLS layer gets a fresh protocol, so no state of the CONNECT exchange survives
        into the first real response.
        """
        endpoint = self._target_endpoint(req)
        sslcontext = endpoint.sslcontext
        assert sslcontext is not None
        transport = tunnel.transport
        if transport is None or transport.is_closing():
            raise ClientConnectorError(endpoint.key, ConnectionResetError())
        proto = self._factory()
        with _tls_errors(endpoint):
            tls_transport = await self._loop.start_tls(
                transport,
                proto,
                sslcontext,
                server_hostname=endpoint.server_hostname,
                **self._tls_extra(),
            )
        if tls_transport is None:
            raise ClientConnectorError(endpoint.key, ConnectionResetError())
        # start_tls does not announce the new transport to the protocol on top of it.
        proto.connection_made(tls_transport)
        # The socket belongs to the TLS transport now; the CONNECT protocol is done.
        tunnel.transport = None
        self._tls_protocols.discard(tunnel)
        self._check_pin(endpoint, proto)
        self._track_tls(proto)
        return proto

    def _tls_extra(self) -> dict[str, Any]:
        grace = self._ssl_shutdown_timeout
        if _HAS_SSL_SHUTDOWN_TIMEOUT and grace:
            return {"ssl_shutdown_timeout": grace}
        return {}

    @staticmethod
    def _check_pin(endpoint: _Endpoint, proto: ResponseHandler) -> None:
        fingerprint = endpoint.fingerprint
        if fingerprint is None:
            return
        transport = proto.transport
        assert transport is not None
        sslobj = transport.get_extra_info("ssl_object")
        got = fingerprint.digest(sslobj.getpeercert(binary_form=True))
        if got != fingerprint.fingerprint:
            proto.abort()
            host, port, *_ = transport.get_extra_info("peername")
            raise ServerFingerprintMismatch(fingerprint.fingerprint, got, host, port)

    def _track_tls(self, proto: ResponseHandler) -> None:
        self._tls_protocols.add(proto)
        proto.closed.add_done_callback(lambda _: self._tls_protocols.discard(proto))


# --- Unix sockets and named pipes -------------------------------------------------------


class UnixConnector(BaseConnector):
    """Connects to a server listening on a Unix domain socket (any URL host goes there)."""

    allowed_protocol_schema_set = frozenset({"", "tcp", "http", "https", "ws", "wss", "unix"})

    def __init__(
        self,
        path: str,
        force_close: bool = False,
        keepalive_timeout: float | Any | None = SENTINEL,
        limit: int = 100,
        limit_per_host: int = 0,
        loop: asyncio.AbstractEventLoop | None = None,
        conn_timeout: float | None = None,
    ) -> None:
        super().__init__(
            force_close=force_close,
            keepalive_timeout=keepalive_timeout,
            limit=limit,
            limit_per_host=limit_per_host,
            loop=loop,
        )
        self._path = path
        self._conn_timeout = conn_timeout

    @property
    def path(self) -> str:
        """The path of the Unix socket."""
        return self._path

    async def _create_connection(
        self, req: OutgoingRequest, traces: Sequence[TraceHooks], timeout: ClientTimeout
    ) -> ResponseHandler:
        delay = timeout.sock_connect if timeout.sock_connect is not None else self._conn_timeout
        return await _within(
            self._loop,
            self._dial_unix(req),
            delay,
            self._timeout_ceil_threshold,
            f"Connection timeout to unix socket {self._path}",
        )

    async def _dial_unix(self, req: OutgoingRequest) -> ResponseHandler:
        try:
            _, proto = await self._loop.create_unix_connection(self._factory, self._path)
        except OSError as exc:
            if _is_timeout(exc):
                raise
            raise UnixClientConnectorError(self._path, req.connection_key, exc) from exc
        return proto


class NamedPipeConnector(BaseConnector):
    """Connects over a Windows named pipe; needs the proactor event loop."""

    allowed_protocol_schema_set = frozenset({"", "tcp", "http", "https", "ws", "wss", "npipe"})

    def __init__(
        self,
        path: str,
        force_close: bool = False,
        keepalive_timeout: float | Any | None = SENTINEL,
        limit: int = 100,
        limit_per_host: int = 0,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(
            force_close=force_close,
            keepalive_timeout=keepalive_timeout,
            limit=limit,
            limit_per_host=limit_per_host,
            loop=loop,
        )
        proactor = getattr(asyncio, "ProactorEventLoop", None)
        if proactor is None or not isinstance(self._loop, proactor):
            # Marked closed so that the half-built connector does not warn when collected.
            self._closed = True
            raise RuntimeError("Named Pipes only available in proactor loop under windows")
        self._path = path

    @property
    def path(self) -> str:
        """The path of the named pipe."""
        return self._path

    async def _create_connection(
        self, req: OutgoingRequest, traces: Sequence[TraceHooks], timeout: ClientTimeout
    ) -> ResponseHandler:  # pragma: no cover - Windows only
        return await _within(
            self._loop,
            self._dial_pipe(req),
            timeout.sock_connect,
            self._timeout_ceil_threshold,
            f"Connection timeout to named pipe {self._path}",
        )

    async def _dial_pipe(self, req: OutgoingRequest) -> ResponseHandler:  # pragma: no cover
        try:
            _, proto = await self._loop.create_pipe_connection(  # type: ignore[attr-defined]
                self._factory, self._path
            )
        except OSError as exc:
            raise ClientConnectorError(req.connection_key, exc) from exc
        return proto  # type: ignore[no-any-return]

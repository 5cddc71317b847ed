"""Connectors: open TCP, TLS and Unix-socket connections for the pool, directly or via proxies.

TCPConnector resolves names (cached, see `_dns_cache`), races addresses with happy
eyeballs, wraps TLS (contexts, pins and errors in `_tls`) and tunnels through HTTP proxies;
the pool lives in `_pool`, what is said to a proxy in `_proxy`. No request building or
parsing here.
"""

from __future__ import annotations

import asyncio
import math
import socket
import ssl
import warnings
from collections.abc import Awaitable, Coroutine, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, TypeVar

import aiohappyeyeballs
from aiohappyeyeballs import AddrInfoType, SocketFactoryType
from yarl import URL

from ._dns_cache import DNSCache, HostResolver, addr_infos, local_addr_infos
from ._pool import SENTINEL, SSL_SHUTDOWN_DEPRECATED, BaseConnector, Connection
from ._proxy import open_tunnel, proxy_connection_key
from ._reqrep_types import ConnectionKey, Fingerprint
from ._socks_proxy import is_socks, run_handshake, socks_target
from ._ssl_params import merge_ssl_params
from ._tls import (
    H2_ALPN,
    HAS_SSL_SHUTDOWN_TIMEOUT,
    HAS_TLS_IN_TLS,
    NO_TLS_IN_TLS,
    Endpoint,
    VerifiedContext,
    check_pin,
    is_timeout,
    make_ssl_context,
    tls_errors,
    tls_name,
)
from ._wait_within import wait_within
from .abc import AbstractResolver, ResolveResult
from .client_exceptions import (
    ClientConnectionError,
    ClientConnectorDNSError,
    ClientConnectorError,
    ClientHttpProxyError,
    ClientProxyConnectionError,
    ClientSocksProxyError,
    ConnectionTimeoutError,
    InvalidURL,
    InvalidUrlClientError,
    UnixClientConnectorError,
    cert_errors,
    ssl_errors,
)

# Raised in `_tls` now; aiohttp's connector module offers them, so this one still does.
from .client_exceptions import (
    ClientConnectorCertificateError as ClientConnectorCertificateError,
)
from .client_exceptions import ClientConnectorSSLError as ClientConnectorSSLError
from .client_exceptions import ServerFingerprintMismatch as ServerFingerprintMismatch
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
        return await wait_within(step, delay)
    except asyncio.TimeoutError as exc:
        if isinstance(exc, OSError) and not is_timeout(exc):
            raise
        raise ConnectionTimeoutError(message) from exc


_H2_NOT_WANTED: Final = (
    "The server chose HTTP/2 (ALPN h2) on a connection that needs HTTP/1.1: the ssl "
    "context offers h2 (an http2=True connector sets that on a context it is given); "
    "WebSockets and connectors without http2 need a context that offers only http/1.1"
)


def _load_h2() -> Any:
    """The HTTP/2 connection module; it needs the `h2` package (the http2 extra)."""
    try:
        from . import _h2_connection
    except ImportError as exc:
        raise ImportError("http2=True needs the h2 package: pip install 'airhttp[http2]'") from exc
    return _h2_connection


# --- TCP -------------------------------------------------------------------------------

# The port a socks:// URL without one means (RFC 1928 section 3).
_SOCKS_PORT: Final = 1080
# SOCKS5 replies that may be about the one address asked for: network or host unreachable,
# connection refused. Another address of the origin may still work.
_TRY_NEXT_ADDRESS: Final = frozenset({0x03, 0x04, 0x05})


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
        os_trust_store: bool = False,
        http2: bool = False,
        http2_prior_knowledge: bool = False,
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
        # What `ssl=True` verifies with: our default context, or the OS trust store.
        self._verified = VerifiedContext(os_trust_store)
        self._resolver: AbstractResolver = resolver if resolver is not None else DefaultResolver()
        self._resolver_owner = resolver is None
        self._use_dns_cache = use_dns_cache
        self._cached_hosts = DNSCache(ttl_dns_cache, dns_cache_max_size)
        self._hosts = HostResolver(
            self._resolver, self._cached_hosts if use_dns_cache else None, family, self._loop
        )
        self._family = family
        self._local_addr_infos = local_addr_infos(local_addr)
        self._happy_eyeballs_delay = happy_eyeballs_delay
        self._interleave = interleave
        self._socket_factory = socket_factory
        # HTTP/2 (the http2 extra): offered by ALPN on https; h2c on http only when asked.
        self._http2 = http2 or http2_prior_knowledge
        self._h2c = http2_prior_knowledge
        self._h2: Any = _load_h2() if self._http2 else None
        # Open TLS connections, so that close() can shut them down or abort them.
        self._tls_protocols: set[ResponseHandler] = set()
        self._ssl_shutdown_timeout: float | None = 0
        if ssl_shutdown_timeout is not SENTINEL:
            warnings.warn(SSL_SHUTDOWN_DEPRECATED, DeprecationWarning, stacklevel=2)
            if not HAS_SSL_SHUTDOWN_TIMEOUT and ssl_shutdown_timeout:
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

    # The documented name of the same switch.
    dns_cache = use_dns_cache

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
        lookups = self._hosts.cancel()
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
        """The addresses to dial for (host, port); a method because aiohttp code patches it."""
        return await self._hosts.resolve(host, port, traces)

    # --- connecting ------------------------------------------------------------------

    def _ssl_context_for(self, req: OutgoingRequest, http2: bool) -> ssl.SSLContext | None:
        """The context for `req`'s TLS; with `http2`, one that offers h2 as well."""
        if not req.is_ssl():
            return None
        sslp = req.ssl
        if sslp is True:
            sslp = self._ssl
        if isinstance(sslp, ssl.SSLContext):
            if http2:
                # Documented: a context given to an http2 connector is made to offer h2.
                sslp.set_alpn_protocols(H2_ALPN)
            return sslp
        if sslp is False or isinstance(sslp, Fingerprint):
            return make_ssl_context(False, http2)
        return self._verified.get(http2)

    def _may_multiplex(self, req: OutgoingRequest) -> bool:
        if not self._http2 or req.is_upgrade:
            return False
        if req.is_ssl():
            return True
        # h2c by prior knowledge, straight to the origin (never to a plain HTTP proxy).
        return self._h2c and (req.proxy is None or is_socks(req.proxy))

    def _fingerprint_for(self, req: OutgoingRequest) -> Fingerprint | None:
        sslp = req.ssl
        if isinstance(sslp, Fingerprint):
            return sslp
        if sslp is True and isinstance(self._ssl, Fingerprint):
            return self._ssl
        return None

    def _target_endpoint(self, req: OutgoingRequest) -> Endpoint:
        host = req.url.raw_host
        assert host is not None
        port = req.port
        assert port is not None
        http2 = self._may_multiplex(req)
        sslcontext = self._ssl_context_for(req, http2)
        return Endpoint(
            req.connection_key,
            host,
            port,
            sslcontext,
            tls_name(req.server_hostname or host) if sslcontext is not None else None,
            self._fingerprint_for(req),
            ClientConnectorError,
            http2,
        )

    def _proxy_endpoint(self, req: OutgoingRequest, proxy: URL) -> Endpoint:
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
                sslcontext = make_ssl_context(False) if sslp is False else self._verified.get()
        server_hostname = tls_name(key.host) if sslcontext is not None else None
        return Endpoint(
            key, key.host, port, sslcontext, server_hostname, None, ClientProxyConnectionError
        )

    async def _create_connection(
        self, req: OutgoingRequest, traces: Sequence[TraceHooks], timeout: ClientTimeout
    ) -> ResponseHandler:
        proxy = req.proxy
        if proxy is None:
            return await self._connect_endpoint(self._target_endpoint(req), req, traces, timeout)
        if is_socks(proxy):
            return await self._connect_via_socks(req, proxy, traces, timeout)
        return await self._connect_via_proxy(req, proxy, traces, timeout)

    async def _connect_endpoint(
        self,
        endpoint: Endpoint,
        req: OutgoingRequest,
        traces: Sequence[TraceHooks],
        timeout: ClientTimeout,
    ) -> ResponseHandler:
        """Resolve `endpoint`, connect to it (within sock_connect) and wrap TLS if asked."""
        hosts = await self._addresses(endpoint.key, endpoint.host, endpoint.port, traces)
        return await _within(
            self._loop,
            self._dial(endpoint, addr_infos(hosts)),
            timeout.sock_connect,
            self._timeout_ceil_threshold,
            f"Connection timeout to host {req.url}",
        )

    async def _addresses(
        self, key: ConnectionKey, host: str, port: int, traces: Sequence[TraceHooks]
    ) -> list[ResolveResult]:
        """The addresses of (host, port); ClientConnectorDNSError naming `key` if none."""
        try:
            hosts = await self._resolve_host(host, port, traces)
        except OSError as exc:
            if is_timeout(exc):
                raise
            raise ClientConnectorDNSError(key, exc) from exc
        if not hosts:
            raise ClientConnectorDNSError(key, OSError(None, f"DNS lookup of {host} found nothing"))
        return hosts

    async def _dial(self, endpoint: Endpoint, addr_infos: list[AddrInfoType]) -> ResponseHandler:
        """Connect a socket (happy eyeballs over `addr_infos`), then wrap it in TLS."""
        return await self._wrap(endpoint, await self._open_socket(endpoint, addr_infos))

    async def _open_socket(
        self, endpoint: Endpoint, addr_infos: list[AddrInfoType]
    ) -> socket.socket:
        """A socket connected to one of `addr_infos` (happy eyeballs)."""
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
            if is_timeout(exc):
                raise
            raise endpoint.refused(endpoint.key, exc) from exc
        return sock

    async def _wrap(self, endpoint: Endpoint, sock: socket.socket) -> ResponseHandler:
        """The protocol over connected `sock`, after a TLS handshake when `endpoint` asks."""
        sslcontext = endpoint.sslcontext
        factory = self._held_protocol if endpoint.http2 else self._factory
        if sslcontext is None:
            try:
                _, proto = await self._loop.create_connection(factory, sock=sock)
            except OSError as exc:
                sock.close()
                raise endpoint.refused(endpoint.key, exc) from exc
        else:
            with tls_errors(endpoint):
                _, proto = await self._loop.create_connection(
                    factory,
                    sock=sock,
                    ssl=sslcontext,
                    server_hostname=endpoint.server_hostname,
                    **self._tls_extra(),
                )
            check_pin(endpoint, proto)
            self._track_tls(proto)
        await self._choose_protocol(endpoint, proto)
        return proto

    def _held_protocol(self) -> ResponseHandler:
        """A protocol that keeps what arrives until _choose_protocol decides who reads it."""
        proto = self._factory()
        proto.hold_for_handover()
        return proto

    async def _choose_protocol(self, endpoint: Endpoint, proto: ResponseHandler) -> None:
        """Speak HTTP/2 if ALPN chose h2 (or h2c was asked for), else go on with HTTP/1.1.

        An HTTP/2 connection is lent once the server's SETTINGS arrived: its stream cap
        is known then.
        """
        transport = proto.transport
        ssl_object = None if transport is None else transport.get_extra_info("ssl_object")
        chosen = None if ssl_object is None else ssl_object.selected_alpn_protocol()
        if not endpoint.http2:
            if chosen == "h2":
                # A context of the caller's that offers h2, on a connection that must
                # speak HTTP/1.1 (a connector without http2, or a WebSocket upgrade).
                proto.close()
                raise ClientConnectorError(endpoint.key, OSError(None, _H2_NOT_WANTED))
            return
        if ssl_object is not None and chosen != "h2":
            proto.take_back()
            return
        try:
            await self._h2.Http2Connection(proto, self._loop).ready()
        except BaseException as exc:
            proto.close()
            if isinstance(exc, (asyncio.CancelledError, ClientConnectionError)):
                raise
            raise ClientConnectorError(
                endpoint.key, OSError(None, f"HTTP/2 connection failed: {exc!r}")
            ) from exc

    async def _connect_via_proxy(
        self, req: OutgoingRequest, proxy: URL, traces: Sequence[TraceHooks], timeout: ClientTimeout
    ) -> ResponseHandler:
        """Connect to `proxy`; for a TLS target, tunnel through it with CONNECT, then TLS.

        A plain-HTTP target needs no more: the request goes to the proxy in absolute
        form over this connection (see `_proxy.prepare_proxied_headers`).
        """
        endpoint = self._proxy_endpoint(req, proxy)
        tunnelled = req.is_ssl()
        if tunnelled and endpoint.sslcontext is not None and not HAS_TLS_IN_TLS:
            raise ClientConnectorError(req.connection_key, OSError(None, NO_TLS_IN_TLS))
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

    async def _connect_via_socks(
        self, req: OutgoingRequest, proxy: URL, traces: Sequence[TraceHooks], timeout: ClientTimeout
    ) -> ResponseHandler:
        """Dial the SOCKS proxy, have it open a tunnel to the origin, then TLS if https.

        With socks4:// and socks5:// we resolve the origin's name and offer its addresses
        in turn while the proxy cannot reach one; with socks4a:// and socks5h:// the proxy
        resolves it. After the DNS lookups, the rest runs within sock_connect.
        """
        target = socks_target(proxy, req.proxy_auth)
        # Errors name the origin, never the proxy's credentials (their args reach logs).
        bare_proxy = proxy.with_user(None)
        origin = self._target_endpoint(req)
        origin = origin._replace(key=origin.key._replace(proxy=bare_proxy, proxy_auth=None))
        proxy_host = proxy.raw_host
        if not proxy_host:
            raise InvalidURL(bare_proxy)
        if target.remote_dns:
            hosts = [origin.host]
        else:
            hosts = await self._socks_addresses(origin, target.version == 4, traces)
        key = ConnectionKey(proxy_host, proxy.port or _SOCKS_PORT, False, True, None, None, None)
        proxy_addresses = addr_infos(await self._addresses(key, proxy_host, key.port or 0, traces))
        dial_proxy = origin._replace(key=key, refused=ClientProxyConnectionError)

        async def dial() -> ResponseHandler:
            for index, host in enumerate(hosts):
                try:
                    handshake = target.handshake(host, origin.port)
                except ValueError as exc:  # what the protocol cannot carry
                    raise ClientSocksProxyError(origin.key, bare_proxy, str(exc)) from exc
                sock = await self._open_socket(dial_proxy, proxy_addresses)
                try:
                    await run_handshake(self._loop, sock, handshake, origin.key, bare_proxy)
                except ClientSocksProxyError as exc:
                    sock.close()
                    if exc.reply in _TRY_NEXT_ADDRESS and index + 1 < len(hosts):
                        continue
                    raise
                except BaseException:
                    sock.close()
                    raise
                return await self._wrap(origin, sock)
            raise AssertionError("unreachable: the last address raises")

        return await _within(
            self._loop,
            dial(),
            timeout.sock_connect,
            self._timeout_ceil_threshold,
            f"Connection timeout to host {req.url}",
        )

    async def _socks_addresses(
        self, origin: Endpoint, ipv4_only: bool, traces: Sequence[TraceHooks]
    ) -> list[str]:
        """The origin's addresses we hand the proxy (socks4://, socks5://), in dial order."""
        found = await self._addresses(origin.key, origin.host, origin.port, traces)
        hosts = [r["host"] for r in found if not ipv4_only or r["family"] == socket.AF_INET]
        if not hosts:
            raise ClientConnectorDNSError(
                origin.key,
                OSError(None, f"SOCKS4 needs an IPv4 address and {origin.host} has none"),
            )
        return list(dict.fromkeys(hosts))  # in the resolver's order, each once

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
        proto = self._held_protocol() if endpoint.http2 else self._factory()
        with tls_errors(endpoint):
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
        check_pin(endpoint, proto)
        self._track_tls(proto)
        await self._choose_protocol(endpoint, proto)
        return proto

    def _tls_extra(self) -> dict[str, Any]:
        grace = self._ssl_shutdown_timeout
        if HAS_SSL_SHUTDOWN_TIMEOUT and grace:
            return {"ssl_shutdown_timeout": grace}
        return {}

    def _track_tls(self, proto: ResponseHandler) -> None:
        self._tls_protocols.add(proto)
        proto.closed.add_done_callback(lambda _: self._tls_protocols.discard(proto))


# --- Unix sockets and named pipes -------------------------------------------------------


class _PathConnector(BaseConnector):
    """What the Unix-socket and named-pipe connectors share: one path every URL goes to."""

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
        self._path = path

    @property
    def path(self) -> str:
        """The path of the Unix socket or named pipe."""
        return self._path


class UnixConnector(_PathConnector):
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
        super().__init__(path, force_close, keepalive_timeout, limit, limit_per_host, loop)
        self._conn_timeout = conn_timeout

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
            if is_timeout(exc):
                raise
            raise UnixClientConnectorError(self._path, req.connection_key, exc) from exc
        return proto


class NamedPipeConnector(_PathConnector):
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
        super().__init__(path, force_close, keepalive_timeout, limit, limit_per_host, loop)
        proactor = getattr(asyncio, "ProactorEventLoop", None)
        if proactor is None or not isinstance(self._loop, proactor):
            # Marked closed so that the half-built connector does not warn when collected.
            self._closed = True
            raise RuntimeError("Named Pipes only available in proactor loop under windows")

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

"""Connectors: open TCP, TLS and Unix-socket connections for the pool.

TCPConnector resolves names (with a cache), races addresses with happy eyeballs and
wraps TLS; the pool itself lives in `_pool`. No request building or parsing here.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import ssl
import sys
import warnings
from collections.abc import Awaitable, Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import aiohappyeyeballs
from aiohappyeyeballs import AddrInfoType, SocketFactoryType

from ._pool import _SENTINEL, _SSL_SHUTDOWN_DEPRECATED, BaseConnector, Connection
from ._reqrep_types import Fingerprint
from .abc import AbstractResolver, ResolveResult
from .client_exceptions import (
    ClientConnectorCertificateError,
    ClientConnectorDNSError,
    ClientConnectorError,
    ClientConnectorSSLError,
    ConnectionTimeoutError,
    ServerFingerprintMismatch,
    UnixClientConnectorError,
)
from .client_proto import ResponseHandler
from .resolver import DefaultResolver

if TYPE_CHECKING:
    from .client import ClientTimeout
    from .client_reqrep import ClientRequest
    from .tracing import Trace

__all__ = (
    "AddrInfoType",
    "BaseConnector",
    "Connection",
    "NamedPipeConnector",
    "SocketFactoryType",
    "TCPConnector",
    "UnixConnector",
)


# --- TLS -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=2)
def _make_ssl_context(verified: bool) -> ssl.SSLContext:
    """The connector's default contexts, built once per process (they are costly)."""
    if verified:
        context = ssl.create_default_context()
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.options |= ssl.OP_NO_COMPRESSION
        context.set_default_verify_paths()
    context.set_alpn_protocols(("http/1.1",))
    return context


def _merge_ssl_params(
    ssl_param: ssl.SSLContext | bool | Fingerprint,
    verify_ssl: bool | None,
    ssl_context: ssl.SSLContext | None,
    fingerprint: bytes | None,
) -> ssl.SSLContext | bool | Fingerprint:
    """Fold the deprecated verify_ssl / ssl_context / fingerprint into `ssl`."""
    if ssl_param is None:
        ssl_param = True
    if verify_ssl is not None and not verify_ssl:
        warnings.warn("verify_ssl is deprecated, use ssl=False instead", DeprecationWarning, 3)
        if ssl_param is not True:
            raise ValueError(
                "verify_ssl, ssl_context, fingerprint and ssl parameters are mutually exclusive"
            )
        ssl_param = False
    if ssl_context is not None:
        warnings.warn("ssl_context is deprecated, use ssl=context instead", DeprecationWarning, 3)
        if ssl_param is not True:
            raise ValueError(
                "verify_ssl, ssl_context, fingerprint and ssl parameters are mutually exclusive"
            )
        ssl_param = ssl_context
    if fingerprint is not None:
        warnings.warn(
            "fingerprint is deprecated, use ssl=Fingerprint(fingerprint) instead",
            DeprecationWarning,
            3,
        )
        if ssl_param is not True:
            raise ValueError(
                "verify_ssl, ssl_context, fingerprint and ssl parameters are mutually exclusive"
            )
        ssl_param = Fingerprint(fingerprint)
    if not isinstance(ssl_param, (bool, Fingerprint, ssl.SSLContext)):
        raise TypeError(
            f"ssl should be SSLContext, Fingerprint, or bool, got {ssl_param!r} instead."
        )
    return ssl_param


# --- DNS cache ---------------------------------------------------------------------------


class _DNSCache:
    """Resolved addresses per (host, port), each entry valid for `ttl` seconds."""

    __slots__ = ("_entries", "_ttl")

    def __init__(self, ttl: float | None) -> None:
        self._entries: dict[tuple[str, int], tuple[list[ResolveResult], float]] = {}
        self._ttl = ttl

    def get(self, key: tuple[str, int], now: float) -> list[ResolveResult] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        addrs, expires = entry
        if self._ttl is not None and now >= expires:
            del self._entries[key]
            return None
        return addrs

    def add(self, key: tuple[str, int], addrs: list[ResolveResult], now: float) -> None:
        expires = now + self._ttl if self._ttl is not None else 0.0
        self._entries[key] = (addrs, expires)

    def remove(self, key: tuple[str, int]) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    def __iter__(self) -> Iterator[tuple[str, int]]:
        return iter(self._entries)

    def addresses(self) -> Mapping[tuple[str, int], list[ResolveResult]]:
        return MappingProxyType({k: v[0] for k, v in self._entries.items()})


def _ip_address_family(host: str) -> int | None:
    """AF_INET/AF_INET6 when `host` is a literal address, else None."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
        except (OSError, ValueError):
            continue
        return family
    return None


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
        family: socket.AddressFamily = socket.AddressFamily.AF_UNSPEC,
        ssl_context: ssl.SSLContext | None = None,
        local_addr: tuple[str, int] | None = None,
        resolver: AbstractResolver | None = None,
        keepalive_timeout: float | Any | None = _SENTINEL,
        force_close: bool = False,
        limit: int = 100,
        limit_per_host: int = 0,
        enable_cleanup_closed: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
        timeout_ceil_threshold: float = 5,
        happy_eyeballs_delay: float | None = 0.25,
        interleave: int | None = None,
        socket_factory: SocketFactoryType | None = None,
        ssl_shutdown_timeout: float | Any | None = _SENTINEL,
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
        self._ssl = _merge_ssl_params(
            ssl, None if verify_ssl else verify_ssl, ssl_context, fingerprint
        )
        self._resolver: AbstractResolver = resolver or DefaultResolver()
        self._resolver_owner = resolver is None
        self._use_dns_cache = use_dns_cache
        self._cached_hosts = _DNSCache(ttl_dns_cache)
        self._resolving: dict[tuple[str, int], asyncio.Future[list[ResolveResult]]] = {}
        self._family = family
        self._local_addr_infos: list[AddrInfoType] | None = (
            None
            if local_addr is None
            else [
                (
                    socket.AF_INET6 if ":" in local_addr[0] else socket.AF_INET,
                    socket.SOCK_STREAM,
                    socket.IPPROTO_TCP,
                    "",
                    local_addr,
                )
            ]
        )
        self._happy_eyeballs_delay = happy_eyeballs_delay
        self._interleave = interleave
        self._socket_factory = socket_factory
        if ssl_shutdown_timeout is not _SENTINEL:
            warnings.warn(
                _SSL_SHUTDOWN_DEPRECATED,
                DeprecationWarning,
                stacklevel=2,
            )
            if sys.version_info < (3, 11) and ssl_shutdown_timeout:
                warnings.warn(
                    "ssl_shutdown_timeout is ignored on Python < 3.11; only 0 is supported",
                    RuntimeWarning,
                    stacklevel=2,
                )
            self._ssl_shutdown_timeout: float | None = ssl_shutdown_timeout
        else:
            self._ssl_shutdown_timeout = 0

    def close(self, *, abort_ssl: bool = False) -> Awaitable[None]:
        for fut in self._resolving.values():
            if not fut.done():
                fut.cancel()
        self._resolving.clear()
        waiter = super().close(abort_ssl=abort_ssl or self._ssl_shutdown_timeout == 0)
        if self._resolver_owner:
            return self._close_with_resolver(waiter)
        return waiter

    async def _close_with_resolver(self, waiter: Awaitable[None]) -> None:
        await waiter
        await self._resolver.close()

    @property
    def family(self) -> int:
        """The address family used for connecting (AF_UNSPEC: any)."""
        return self._family

    @property
    def use_dns_cache(self) -> bool:
        return self._use_dns_cache

    @property
    def dns_cache(self) -> bool:
        """Whether resolved addresses are cached."""
        return self._use_dns_cache

    @property
    def cached_hosts(self) -> Mapping[tuple[str, int], list[ResolveResult]]:
        """The resolved addresses currently cached, per (host, port)."""
        return self._cached_hosts.addresses()

    def clear_dns_cache(self, host: str | None = None, port: int | None = None) -> None:
        """Forget cached addresses of (host, port), or all of them."""
        if host is not None and port is not None:
            self._cached_hosts.remove((host, port))
        elif host is not None or port is not None:
            raise ValueError("either both host and port or none of them are allowed")
        else:
            self._cached_hosts.clear()

    # --- name resolution -------------------------------------------------------------

    async def _resolve_host(self, host: str, port: int, traces: list[Trace]) -> list[ResolveResult]:
        family = _ip_address_family(host)
        if family is not None:
            return [
                ResolveResult(hostname=host, host=host, port=port, family=family, proto=0, flags=0)
            ]
        if not self._use_dns_cache:
            return await self._resolve_traced(host, port, traces)
        key = (host, port)
        cached = self._cached_hosts.get(key, self._loop.time())
        if cached is not None:
            for trace in traces:
                await trace.send_dns_cache_hit(host)
            return cached
        for trace in traces:
            await trace.send_dns_cache_miss(host)
        pending = self._resolving.get(key)
        if pending is not None:
            # Concurrent requests for one uncached host share a single lookup.
            return await asyncio.shield(pending)
        future: asyncio.Future[list[ResolveResult]] = self._loop.create_future()
        self._resolving[key] = future
        try:
            addrs = await self._resolve_traced(host, port, traces)
        except BaseException as exc:
            if not future.done():
                if isinstance(exc, asyncio.CancelledError):
                    future.cancel()
                else:
                    future.set_exception(exc)
                    future.exception()  # retrieved here; sharers re-raise it
            raise
        finally:
            if self._resolving.get(key) is future:
                del self._resolving[key]
        self._cached_hosts.add(key, addrs, self._loop.time())
        if not future.done():
            future.set_result(addrs)
        return addrs

    async def _resolve_traced(
        self, host: str, port: int, traces: list[Trace]
    ) -> list[ResolveResult]:
        for trace in traces:
            await trace.send_dns_resolvehost_start(host)
        addrs = await self._resolver.resolve(host, port, family=self._family)
        for trace in traces:
            await trace.send_dns_resolvehost_end(host)
        return addrs

    # --- connecting ------------------------------------------------------------------

    def _ssl_context_for(self, req: ClientRequest) -> ssl.SSLContext | None:
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

    def _fingerprint_for(self, req: ClientRequest) -> Fingerprint | None:
        sslp = req.ssl
        if isinstance(sslp, Fingerprint):
            return sslp
        if sslp is True and isinstance(self._ssl, Fingerprint):
            return self._ssl
        return None

    async def _create_connection(
        self, req: ClientRequest, traces: list[Trace], timeout: ClientTimeout
    ) -> ResponseHandler:
        key = req.connection_key
        host = req.url.raw_host
        assert host is not None
        port = req.port
        assert port is not None
        try:
            hosts = await self._resolve_host(host, port, traces)
        except OSError as exc:
            if exc.errno is None and isinstance(exc, asyncio.TimeoutError):
                raise
            raise ClientConnectorDNSError(key, exc) from exc
        sslcontext = self._ssl_context_for(req)
        fingerprint = self._fingerprint_for(req)
        server_hostname: str | None = None
        if sslcontext is not None:
            server_hostname = (req.server_hostname or host).rstrip(".")
        addr_infos = _addr_infos(hosts)
        try:
            sock = await self._open_socket(addr_infos, timeout, req)
        except OSError as exc:
            if isinstance(exc, asyncio.TimeoutError):
                raise
            raise ClientConnectorError(key, exc) from exc
        try:
            _, proto = await self._loop.create_connection(
                self._factory,
                sock=sock,
                ssl=sslcontext,
                server_hostname=server_hostname,
                ssl_handshake_timeout=timeout.total if sslcontext else None,
            )
        except ssl.CertificateError as exc:
            raise ClientConnectorCertificateError(key, exc) from exc
        except ssl.SSLError as exc:
            raise ClientConnectorSSLError(key, exc) from exc
        except OSError as exc:
            if isinstance(exc, asyncio.TimeoutError):
                raise
            raise ClientConnectorError(key, exc) from exc
        if fingerprint is not None and proto.transport is not None:
            try:
                fingerprint.check(proto.transport)
            except ServerFingerprintMismatch:
                proto.close()
                raise
        return proto

    async def _open_socket(
        self, addr_infos: list[AddrInfoType], timeout: ClientTimeout, req: ClientRequest
    ) -> socket.socket:
        connecting = aiohappyeyeballs.start_connection(
            addr_infos,
            local_addr_infos=self._local_addr_infos,
            happy_eyeballs_delay=self._happy_eyeballs_delay,
            interleave=self._interleave,
            loop=self._loop,
            socket_factory=self._socket_factory,
        )
        if timeout.sock_connect is None:
            return await connecting
        try:
            return await asyncio.wait_for(connecting, timeout.sock_connect)
        except asyncio.TimeoutError as exc:
            raise ConnectionTimeoutError(f"Connection timeout to host {req.url}") from exc


def _addr_infos(hosts: list[ResolveResult]) -> list[AddrInfoType]:
    infos: list[AddrInfoType] = []
    for hinfo in hosts:
        host = hinfo["host"]
        port = hinfo["port"]
        address: tuple[Any, ...] = (
            (host, port, 0, 0) if hinfo["family"] == socket.AF_INET6 else (host, port)
        )
        infos.append(
            (hinfo["family"], socket.SOCK_STREAM, hinfo["proto"] or socket.IPPROTO_TCP, "", address)
        )
    return infos


class UnixConnector(BaseConnector):
    """Connects to a server listening on a Unix domain socket."""

    allowed_protocol_schema_set = frozenset({"", "tcp", "http", "https", "ws", "wss", "unix"})

    def __init__(
        self,
        path: str,
        force_close: bool = False,
        keepalive_timeout: float | Any | None = _SENTINEL,
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

    @property
    def path(self) -> str:
        """The path of the Unix socket."""
        return self._path

    async def _create_connection(
        self, req: ClientRequest, traces: list[Trace], timeout: ClientTimeout
    ) -> ResponseHandler:
        try:
            connecting = self._loop.create_unix_connection(self._factory, self._path)
            if timeout.sock_connect is None:
                _, proto = await connecting
            else:
                _, proto = await asyncio.wait_for(connecting, timeout.sock_connect)
        except asyncio.TimeoutError as exc:
            raise ConnectionTimeoutError(f"Connection timeout to unix socket {self._path}") from exc
        except OSError as exc:
            raise UnixClientConnectorError(self._path, req.connection_key, exc) from exc
        return proto


class NamedPipeConnector(BaseConnector):
    """Connects over a Windows named pipe (needs the proactor event loop)."""

    allowed_protocol_schema_set = frozenset({"", "tcp", "http", "https", "ws", "wss", "npipe"})

    def __init__(
        self,
        path: str,
        force_close: bool = False,
        keepalive_timeout: float | Any | None = _SENTINEL,
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
            self._closed = True
            raise RuntimeError("Named Pipes only available in proactor loop under windows")
        self._path = path

    @property
    def path(self) -> str:
        """The path of the named pipe."""
        return self._path

    async def _create_connection(
        self, req: ClientRequest, traces: list[Trace], timeout: ClientTimeout
    ) -> ResponseHandler:  # pragma: no cover - Windows only
        try:
            connecting = self._loop.create_pipe_connection(  # type: ignore[attr-defined]
                self._factory, self._path
            )
            _, proto = await asyncio.wait_for(connecting, timeout.sock_connect)
        except asyncio.TimeoutError as exc:
            raise ConnectionTimeoutError(f"Connection timeout to named pipe {self._path}") from exc
        except OSError as exc:
            raise ClientConnectorError(req.connection_key, exc) from exc
        return proto  # type: ignore[no-any-return]

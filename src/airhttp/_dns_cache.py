"""Name resolution for TCPConnector: IP literals, the TTL cache, shared lookups, address tuples.

No sockets or TLS here; the resolver (`resolver.py`) does the lookups, the connector dials.
"""

from __future__ import annotations

import asyncio
import functools
import math
import socket
from collections.abc import Iterator, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from aiohappyeyeballs import AddrInfoType

from .abc import AbstractResolver, ResolveResult

if TYPE_CHECKING:
    from ._interfaces import TraceHooks

__all__ = ("DNSCache", "HostResolver", "addr_infos", "literal_ip_family", "local_addr_infos")


class _CacheEntry:
    __slots__ = ("addrs", "expires", "turn")

    def __init__(self, addrs: list[ResolveResult], expires: float) -> None:
        self.addrs = addrs
        self.expires = expires
        # The first answer is used as resolved; later hits start one address further on.
        self.turn = 1


class DNSCache:
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


class HostResolver:
    """Resolves (host, port) for one connector: IP literals at once, else through `cache`
    (None: no caching), with one lookup in flight per name however many requests wait.

    Fires the DNS trace signals as aiohttp does. A lookup outlives a cancelled waiter
    (the others still need it); `cancel()` stops them all when the connector closes.
    """

    __slots__ = ("_cache", "_family", "_loop", "_resolver", "_resolving")

    def __init__(
        self,
        resolver: AbstractResolver,
        cache: DNSCache | None,
        family: socket.AddressFamily,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._resolver = resolver
        self._cache = cache
        self._family = family
        self._loop = loop
        # In-flight lookups per (host, port): concurrent requests await the same task.
        self._resolving: dict[tuple[str, int], asyncio.Task[list[ResolveResult]]] = {}

    async def resolve(
        self, host: str, port: int, traces: Sequence[TraceHooks]
    ) -> list[ResolveResult]:
        family = literal_ip_family(host)
        if family is not None:
            return [
                ResolveResult(hostname=host, host=host, port=port, family=family, proto=0, flags=0)
            ]
        cache = self._cache
        if cache is None:
            return await self._resolve_traced(host, port, traces)
        key = (host, port)
        cached = cache.next_addrs(key, self._loop.time())
        if cached is not None:
            for trace in traces:
                await trace.send_dns_cache_hit(host)
            return cached
        # Look up and register synchronously: any await before the task is in
        # `_resolving` would let a concurrent request start a second lookup.
        lookup = self._resolving.get(key)
        if lookup is None:
            lookup = self._loop.create_task(self._lookup(cache, key, host, port, traces))
            self._resolving[key] = lookup
            lookup.add_done_callback(functools.partial(self._lookup_done, key))
        else:
            # Joining a lookup already under way counts as a hit, as in aiohttp.
            for trace in traces:
                await trace.send_dns_cache_hit(host)
        # Shielded so that a cancelled request leaves the shared lookup running for
        # the other requests waiting on it.
        return await asyncio.shield(lookup)

    def cancel(self) -> list[asyncio.Task[list[ResolveResult]]]:
        """Cancel every lookup in flight; returns them, to be awaited."""
        lookups = [task for task in self._resolving.values() if not task.done()]
        for task in lookups:
            task.cancel()
        self._resolving.clear()
        return lookups

    async def _lookup(
        self,
        cache: DNSCache,
        key: tuple[str, int],
        host: str,
        port: int,
        traces: Sequence[TraceHooks],
    ) -> list[ResolveResult]:
        for trace in traces:
            await trace.send_dns_cache_miss(host)
        addrs = await self._resolve_traced(host, port, traces)
        if addrs:
            cache.add(key, addrs, self._loop.time())
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


def literal_ip_family(host: str) -> int | None:
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


def addr_infos(hosts: list[ResolveResult]) -> list[AddrInfoType]:
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


def local_addr_infos(local_addr: tuple[str, int] | None) -> list[AddrInfoType] | None:
    """`local_addr` (a connector argument) as the tuples aiohappyeyeballs binds to."""
    if local_addr is None:
        return None
    host, port = local_addr
    if ":" in host:
        return [(socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (host, port, 0, 0))]
    return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (host, port))]

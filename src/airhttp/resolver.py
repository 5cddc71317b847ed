"""Name resolution: host name in, addresses to connect to out.

ThreadedResolver runs getaddrinfo in the executor; AsyncResolver uses aiodns when
it is installed. Caching and de-duplication of lookups live in the connector.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any, Final

from .abc import AbstractResolver, ResolveResult

__all__ = ("AsyncResolver", "DefaultResolver", "ThreadedResolver", "aiodns_default")

# Whether DefaultResolver is the aiodns one; it is not (getaddrinfo in a thread is).
aiodns_default: Final = False

_NUMERIC_SOCKET_FLAGS: Final = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
_NAME_SOCKET_FLAGS: Final = socket.NI_NUMERICHOST | socket.NI_NUMERICSERV
_AI_ADDRCONFIG: Final = getattr(socket, "AI_ADDRCONFIG", 0)

try:
    import aiodns

    _HAS_AIODNS = hasattr(aiodns.DNSResolver, "getaddrinfo")
except ImportError:  # pragma: no cover - depends on the optional extra
    aiodns = None
    _HAS_AIODNS = False


def _result(hostname: str, family: int, proto: int, address: tuple[Any, ...]) -> ResolveResult:
    host, port = address[0], address[1]
    return ResolveResult(
        hostname=hostname,
        host=host,
        port=port,
        family=family,
        proto=proto,
        flags=_NUMERIC_SOCKET_FLAGS,
    )


class ThreadedResolver(AbstractResolver):
    """Resolves with the system's getaddrinfo, run in the loop's executor."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        loop = self._loop or asyncio.get_running_loop()
        infos = await loop.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, family=family, flags=_AI_ADDRCONFIG
        )
        hosts: list[ResolveResult] = []
        for family_, _type, proto, _canon, address in infos:
            if family_ == socket.AF_INET6:
                if len(address) < 3:
                    # IPv6 is not supported by the Python build: skip the entry.
                    continue
                if address[3]:
                    # A link-local address needs its scope id to be usable.
                    resolved_host, _port = await loop.getnameinfo(address, _NAME_SOCKET_FLAGS)
                    address = (resolved_host, port)
            hosts.append(_result(host, family_, proto, address))
        if not hosts:
            raise OSError(None, "DNS lookup failed")
        return hosts

    async def close(self) -> None:
        pass


class AsyncResolver(AbstractResolver):
    """Resolves with aiodns (c-ares); needs the `aiodns` extra."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop | None = None, *args: Any, **kwargs: Any
    ) -> None:
        if aiodns is None or not _HAS_AIODNS:
            raise RuntimeError("Resolver requires aiodns library")
        if loop is not None:
            kwargs["loop"] = loop
        self._resolver = aiodns.DNSResolver(*args, **kwargs)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            resp = await self._resolver.getaddrinfo(
                host, port=port, type=socket.SOCK_STREAM, family=family, flags=_AI_ADDRCONFIG
            )
        except aiodns.error.DNSError as exc:
            msg = exc.args[1] if len(exc.args) >= 2 else "DNS lookup failed"
            raise OSError(None, msg) from exc
        hosts: list[ResolveResult] = []
        for node in resp.nodes:
            address: tuple[Any, ...] = node.addr
            family_ = node.family
            if family_ == socket.AF_INET6 and len(address) > 3 and address[3]:
                result = await self._resolver.getnameinfo(
                    (address[0].decode("ascii"), *address[1:]), _NAME_SOCKET_FLAGS
                )
                resolved_host = result.node
            else:
                resolved_host = address[0].decode("ascii")
            hosts.append(_result(host, family_, 0, (resolved_host, address[1])))
        if not hosts:
            raise OSError(None, "DNS lookup failed")
        return hosts

    async def close(self) -> None:
        cancel = getattr(self._resolver, "cancel", None)
        if cancel is not None:
            cancel()


DefaultResolver = ThreadedResolver

"""Resolvers: ThreadedResolver on the real system resolver, AsyncResolver's aiodns glue."""

from __future__ import annotations

import asyncio
import socket
from types import SimpleNamespace
from typing import Any

import pytest

import airhttp
from airhttp import resolver as resolver_module
from airhttp.abc import AbstractResolver
from airhttp.connector import TCPConnector
from airhttp.resolver import AsyncResolver, DefaultResolver, ThreadedResolver

from .conftest import WebServer
from .tcp_support import ok_app

_NUMERIC = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV


def _fake_getaddrinfo(result: Any) -> Any:
    async def getaddrinfo(*args: Any, **kwargs: Any) -> Any:
        if isinstance(result, BaseException):
            raise result
        return result

    return getaddrinfo


# --- ThreadedResolver ---------------------------------------------------------------------


async def test_threaded_resolver_finds_localhost_in_the_hosts_file() -> None:
    found = await ThreadedResolver().resolve("localhost", 8080, family=socket.AF_INET)
    assert found
    assert found[0] == {
        "hostname": "localhost",
        "host": "127.0.0.1",
        "port": 8080,
        "family": socket.AF_INET,
        "proto": socket.IPPROTO_TCP,
        "flags": _NUMERIC,
    }


async def test_threaded_resolver_lets_getaddrinfo_errors_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop = asyncio.get_running_loop()
    failure = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    monkeypatch.setattr(loop, "getaddrinfo", _fake_getaddrinfo(failure))
    with pytest.raises(socket.gaierror) as info:
        await ThreadedResolver().resolve("nowhere.test", 80)
    assert info.value is failure


async def test_threaded_resolver_raises_when_nothing_is_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "getaddrinfo", _fake_getaddrinfo([]))
    with pytest.raises(OSError, match="DNS lookup failed"):
        await ThreadedResolver().resolve("nowhere.test", 80)


async def test_threaded_resolver_keeps_the_scope_of_a_link_local_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop = asyncio.get_running_loop()
    scope = socket.if_nameindex()[0]
    infos = [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("fe80::1", 80, 0, scope[0]))]
    monkeypatch.setattr(loop, "getaddrinfo", _fake_getaddrinfo(infos))
    (found,) = await ThreadedResolver().resolve("link.test", 80, family=socket.AF_INET6)
    assert found["host"] == f"fe80::1%{scope[1]}"
    assert (found["port"], found["family"]) == (80, socket.AF_INET6)


async def test_threaded_resolver_uses_the_loop_it_was_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop = asyncio.get_running_loop()
    infos = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.9", 80))]
    monkeypatch.setattr(loop, "getaddrinfo", _fake_getaddrinfo(infos))
    (found,) = await ThreadedResolver(loop=loop).resolve("nine.test", 80)
    assert found["host"] == "127.0.0.9"


def test_default_resolver_is_the_threaded_resolver() -> None:
    assert DefaultResolver is ThreadedResolver


async def test_connector_reaches_localhost_through_the_default_resolver(
    web_server: WebServer,
) -> None:
    url = (await web_server.start(ok_app())).with_host("localhost")
    connector = TCPConnector(family=socket.AF_INET)
    async with airhttp.ClientSession(connector=connector) as session:
        async with session.get(url) as resp:
            assert await resp.text() == "ok"
    assert ("localhost", url.port) in connector.cached_hosts


def test_a_resolver_must_implement_resolve_and_close() -> None:
    class Incomplete(AbstractResolver):
        async def resolve(
            self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
        ) -> list[Any]:
            return []

    with pytest.raises(TypeError):
        Incomplete()  # type: ignore[abstract]


# --- AsyncResolver ------------------------------------------------------------------------


@pytest.mark.skipif(resolver_module._HAS_AIODNS, reason="aiodns is installed")
def test_async_resolver_without_aiodns_raises_runtime_error() -> None:
    with pytest.raises(RuntimeError, match=r"^Resolver requires aiodns library$"):
        AsyncResolver()


class _FakeDNSError(Exception):
    pass


class _FakeDNSResolver:
    """Stands in for aiodns.DNSResolver with canned getaddrinfo answers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.init = (args, kwargs)
        self.answer: Any = None
        self.cancelled = False
        self.asked: list[tuple[str, dict[str, Any]]] = []

    async def getaddrinfo(self, host: str, **kwargs: Any) -> Any:
        self.asked.append((host, kwargs))
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer

    async def getnameinfo(self, sockaddr: tuple[Any, ...], flags: int) -> Any:
        return SimpleNamespace(node=f"{sockaddr[0]}%eth9", service=str(sockaddr[1]))

    def cancel(self) -> None:
        self.cancelled = True


@pytest.fixture
def fake_aiodns(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = SimpleNamespace(
        DNSResolver=_FakeDNSResolver, error=SimpleNamespace(DNSError=_FakeDNSError)
    )
    monkeypatch.setattr(resolver_module, "aiodns", fake)
    monkeypatch.setattr(resolver_module, "_HAS_AIODNS", True)


def _node(family: int, addr: tuple[Any, ...]) -> SimpleNamespace:
    return SimpleNamespace(family=family, addr=addr)


@pytest.mark.usefixtures("fake_aiodns")
async def test_async_resolver_turns_aiodns_nodes_into_results() -> None:
    resolver = AsyncResolver(None, ["127.0.0.53"], timeout=2)
    backend = resolver._resolver
    assert backend.init == ((["127.0.0.53"],), {"timeout": 2})
    backend.answer = SimpleNamespace(
        nodes=[
            _node(socket.AF_INET, (b"127.0.0.1", 443)),
            _node(socket.AF_INET6, (b"::1", 443, 0, 0)),
            _node(socket.AF_INET6, (b"fe80::1", 443, 0, 3)),
        ]
    )
    found = await resolver.resolve("example.test", 443, family=socket.AF_UNSPEC)
    assert [(r["host"], r["port"], r["family"]) for r in found] == [
        ("127.0.0.1", 443, socket.AF_INET),
        ("::1", 443, socket.AF_INET6),
        ("fe80::1%eth9", 443, socket.AF_INET6),
    ]
    assert all(r["hostname"] == "example.test" and r["flags"] == _NUMERIC for r in found)
    host, kwargs = backend.asked[0]
    assert host == "example.test"
    assert kwargs["port"] == 443 and kwargs["family"] == socket.AF_UNSPEC


@pytest.mark.usefixtures("fake_aiodns")
async def test_async_resolver_maps_a_dns_error_to_os_error() -> None:
    resolver = AsyncResolver()
    resolver._resolver.answer = _FakeDNSError(4, "Domain name not found")
    with pytest.raises(OSError, match="Domain name not found"):
        await resolver.resolve("nowhere.test", 80)


@pytest.mark.usefixtures("fake_aiodns")
async def test_async_resolver_with_no_answer_raises_os_error() -> None:
    resolver = AsyncResolver()
    resolver._resolver.answer = SimpleNamespace(nodes=[])
    with pytest.raises(OSError, match="DNS lookup failed"):
        await resolver.resolve("empty.test", 80)


@pytest.mark.usefixtures("fake_aiodns")
async def test_async_resolver_close_cancels_pending_queries() -> None:
    resolver = AsyncResolver()
    await resolver.close()
    assert resolver._resolver.cancelled is True


@pytest.mark.usefixtures("fake_aiodns")
async def test_async_resolver_passes_an_explicit_loop_to_aiodns() -> None:
    loop = asyncio.get_running_loop()
    resolver = AsyncResolver(loop)
    assert resolver._resolver.init == ((), {"loop": loop})

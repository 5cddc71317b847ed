"""TCPConnector over real loopback sockets: parameters, addresses, DNS cache, timeouts."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import math
import socket
import ssl
import sys
import warnings
from collections.abc import AsyncIterator
from types import MappingProxyType
from typing import Any

import pytest
from yarl import URL

import airhttp
from airhttp import ClientTimeout
from airhttp.client_exceptions import (
    ClientConnectorDNSError,
    ClientConnectorError,
    ConnectionTimeoutError,
)
from airhttp.connector import TCPConnector
from airhttp.resolver import DefaultResolver

from .conftest import WebServer
from .tcp_support import (
    FakeResolver,
    dns_trace_config,
    ipv6_loopback_available,
    ok_app,
    refused_port,
    serve,
    stalled_listener,
)

needs_ipv6 = pytest.mark.skipif(not ipv6_loopback_available(), reason="no IPv6 loopback")


async def _get_text(session: airhttp.ClientSession, url: URL | str, **kwargs: Any) -> str:
    async with session.get(url, **kwargs) as resp:
        assert resp.status == 200
        return await resp.text()


def _recording_factory(seen: list[str]) -> Any:
    def factory(addr_info: Any) -> socket.socket:
        family, type_, proto, _, address = addr_info
        seen.append(address[0])
        return socket.socket(family, type_, proto)

    return factory


@contextlib.asynccontextmanager
async def _connector(**kwargs: Any) -> AsyncIterator[TCPConnector]:
    conn = TCPConnector(**kwargs)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def base_url(web_server: WebServer) -> URL:
    return await web_server.start(ok_app())


# --- constructor arguments and their warnings ------------------------------------------


async def test_defaults_verify_tls_and_cache_dns() -> None:
    async with _connector() as conn:
        assert conn._ssl is True
        assert conn.use_dns_cache is True
        assert conn.dns_cache is True
        assert conn.family == socket.AF_UNSPEC
        assert isinstance(conn._resolver, DefaultResolver)
        assert isinstance(conn.cached_hosts, MappingProxyType)
        assert dict(conn.cached_hosts) == {}


async def test_family_property_reports_the_family_given() -> None:
    async with _connector(family=socket.AF_INET6) as conn:
        assert conn.family == socket.AF_INET6


async def test_verify_ssl_false_warns_deprecation_and_turns_verification_off() -> None:
    with pytest.warns(DeprecationWarning, match=r"^verify_ssl is deprecated, use ssl=False") as rec:
        conn = TCPConnector(verify_ssl=False)
    assert rec[0].filename == __file__
    assert conn._ssl is False
    await conn.close()


async def test_verify_ssl_true_is_the_default_and_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        conn = TCPConnector(verify_ssl=True)
    assert conn._ssl is True
    await conn.close()


async def test_ssl_context_argument_warns_deprecation_and_becomes_ssl() -> None:
    context = ssl.create_default_context()
    with pytest.warns(DeprecationWarning, match=r"^ssl_context is deprecated, use ssl=context"):
        conn = TCPConnector(ssl_context=context)
    assert conn._ssl is context
    await conn.close()


async def test_fingerprint_argument_warns_deprecation_and_becomes_a_fingerprint() -> None:
    digest = bytes(range(32))
    with pytest.warns(DeprecationWarning, match=r"^fingerprint is deprecated, use ssl=Fingerprint"):
        conn = TCPConnector(fingerprint=digest)
    assert conn._ssl == airhttp.Fingerprint(digest)
    await conn.close()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"ssl": False, "verify_ssl": False},
        {"ssl": "context", "ssl_context": "context"},
        {"ssl": False, "fingerprint": bytes(32)},
        {"verify_ssl": False, "ssl_context": "context"},
        {"ssl_context": "context", "fingerprint": bytes(32)},
    ],
)
async def test_deprecated_ssl_arguments_combined_with_another_raise_value_error(
    kwargs: dict[str, Any],
) -> None:
    context = ssl.create_default_context()
    kwargs = {k: context if v == "context" else v for k, v in kwargs.items()}
    with (
        pytest.warns(DeprecationWarning),
        pytest.raises(ValueError, match=r"^verify_ssl, ssl_context, fingerprint and ssl param"),
    ):
        TCPConnector(**kwargs)


@pytest.mark.parametrize("bad", ["yes", 1, object()])
async def test_ssl_of_another_type_raises_type_error(bad: Any) -> None:
    with pytest.raises(TypeError, match=r"^ssl should be SSLContext, bool, Fingerprint or None"):
        TCPConnector(ssl=bad)


async def test_ssl_none_means_default_verification() -> None:
    async with _connector(ssl=None) as conn:
        assert conn._ssl is True


@pytest.mark.parametrize("value", [0, 0.5, None])
async def test_ssl_shutdown_timeout_warns_deprecation_and_is_kept(value: float | None) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        conn = TCPConnector(ssl_shutdown_timeout=value)
    messages = [(w.category, str(w.message)) for w in caught]
    assert any(
        cat is DeprecationWarning and "ssl_shutdown_timeout parameter is deprecated" in msg
        for cat, msg in messages
    )
    # Before 3.11 asyncio cannot shut TLS down gracefully: a non-zero value also warns.
    graceful_unsupported = sys.version_info < (3, 11) and bool(value)
    assert any(cat is RuntimeWarning for cat, _ in messages) == graceful_unsupported
    assert conn._ssl_shutdown_timeout == value
    await conn.close()


async def test_ssl_shutdown_timeout_defaults_to_zero_without_warning() -> None:
    async with _connector() as conn:
        assert conn._ssl_shutdown_timeout == 0


@pytest.mark.parametrize("args", [("example.test", None), (None, 80)])
async def test_clear_dns_cache_with_only_host_or_only_port_raises(args: tuple[Any, Any]) -> None:
    async with _connector() as conn:
        with pytest.raises(ValueError, match="either both host and port or none"):
            conn.clear_dns_cache(*args)


# --- per-request TLS arguments -------------------------------------------------------------


async def test_per_request_verify_ssl_warns_when_the_request_runs(base_url: URL) -> None:
    async with airhttp.ClientSession() as session:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            pending = session.get(base_url, verify_ssl=False)
        with pytest.warns(DeprecationWarning, match=r"^verify_ssl is deprecated, use ssl=False"):
            async with pending as resp:
                assert resp.status == 200


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ssl_context": ssl.create_default_context()}, "^ssl_context is deprecated"),
        ({"fingerprint": bytes(32)}, "^fingerprint is deprecated"),
    ],
)
async def test_per_request_deprecated_tls_arguments_warn(
    base_url: URL, kwargs: dict[str, Any], message: str
) -> None:
    async with airhttp.ClientSession() as session:
        with pytest.warns(DeprecationWarning, match=message):
            assert await _get_text(session, base_url, **kwargs) == "ok"


async def test_per_request_verify_ssl_with_ssl_raises_value_error(base_url: URL) -> None:
    async with airhttp.ClientSession() as session:
        with (
            pytest.warns(DeprecationWarning),
            pytest.raises(ValueError, match="mutually exclusive"),
        ):
            await session.get(base_url, ssl=False, verify_ssl=False)


async def test_per_request_sha1_fingerprint_is_refused(base_url: URL) -> None:
    async with airhttp.ClientSession() as session:
        with (
            pytest.warns(DeprecationWarning),
            pytest.raises(ValueError, match="md5 and sha1 are insecure and not supported"),
        ):
            await session.get(base_url, fingerprint=bytes(20))


# --- addresses ---------------------------------------------------------------------------


async def test_ipv4_loopback_literal_connects_without_the_resolver(base_url: URL) -> None:
    resolver = FakeResolver({})
    async with airhttp.ClientSession(connector=TCPConnector(resolver=resolver)) as session:
        assert await _get_text(session, base_url) == "ok"
    assert sum(resolver.calls.values()) == 0


@needs_ipv6
async def test_ipv6_loopback_literal_connects() -> None:
    async with serve("::1") as port, airhttp.ClientSession() as session:
        text = await _get_text(session, f"http://[::1]:{port}/peer")
    assert text.split()[0] == "::1"


@needs_ipv6
async def test_name_resolving_to_ipv6_loopback_connects() -> None:
    resolver = FakeResolver({"six.test": ["::1"]})
    async with serve("::1") as port:
        async with airhttp.ClientSession(connector=TCPConnector(resolver=resolver)) as session:
            assert await _get_text(session, f"http://six.test:{port}/") == "ok"


async def test_family_is_passed_to_the_resolver(base_url: URL) -> None:
    resolver = FakeResolver({"example.test": ["127.0.0.1"]})
    connector = TCPConnector(resolver=resolver, family=socket.AF_INET)
    async with airhttp.ClientSession(connector=connector) as session:
        await _get_text(session, base_url.with_host("example.test"))
    assert resolver.families == [socket.AF_INET]


async def test_first_address_refusing_falls_back_to_the_next(base_url: URL) -> None:
    # The server listens on 127.0.0.1 only, so 127.0.0.2 on the same port refuses.
    resolver = FakeResolver({"multi.test": ["127.0.0.2", "127.0.0.1"]})
    seen: list[str] = []
    connector = TCPConnector(resolver=resolver, socket_factory=_recording_factory(seen))
    async with airhttp.ClientSession(connector=connector) as session:
        assert await _get_text(session, base_url.with_host("multi.test")) == "ok"
    assert seen == ["127.0.0.2", "127.0.0.1"]


async def test_happy_eyeballs_starts_the_next_address_while_the_first_hangs(
    base_url: URL,
) -> None:
    assert base_url.port is not None
    with stalled_listener() as stalled:
        resolver = FakeResolver(
            {"slow.test": [("127.0.0.1", stalled), ("127.0.0.1", base_url.port)]}
        )
        connector = TCPConnector(resolver=resolver, happy_eyeballs_delay=0.05)
        async with airhttp.ClientSession(connector=connector) as session:
            assert await _get_text(session, "http://slow.test:1/") == "ok"


async def test_without_happy_eyeballs_a_hanging_first_address_blocks(base_url: URL) -> None:
    assert base_url.port is not None
    with stalled_listener() as stalled:
        resolver = FakeResolver(
            {"slow.test": [("127.0.0.1", stalled), ("127.0.0.1", base_url.port)]}
        )
        connector = TCPConnector(resolver=resolver, happy_eyeballs_delay=None)
        timeout = ClientTimeout(sock_connect=0.2)
        async with airhttp.ClientSession(connector=connector, timeout=timeout) as session:
            with pytest.raises(ConnectionTimeoutError):
                await session.get("http://slow.test:1/")


@needs_ipv6
@pytest.mark.parametrize(
    ("interleave", "expected"),
    [(None, ["::1", "::1", "127.0.0.1"]), (1, ["::1", "127.0.0.1"])],
)
async def test_interleave_alternates_address_families(
    base_url: URL, interleave: int | None, expected: list[str]
) -> None:
    assert base_url.port is not None
    resolver = FakeResolver(
        {
            "mixed.test": [
                ("::1", refused_port("::1")),
                ("::1", refused_port("::1")),
                ("127.0.0.1", base_url.port),
            ]
        }
    )
    seen: list[str] = []
    connector = TCPConnector(
        resolver=resolver,
        happy_eyeballs_delay=None,
        interleave=interleave,
        socket_factory=_recording_factory(seen),
    )
    async with airhttp.ClientSession(connector=connector) as session:
        assert await _get_text(session, "http://mixed.test:1/") == "ok"
    assert seen == expected


async def test_refused_connection_error_carries_host_port_ssl_and_os_error() -> None:
    port = refused_port()
    async with airhttp.ClientSession() as session:
        with pytest.raises(ClientConnectorError) as info:
            await session.get(f"http://127.0.0.1:{port}/")
    err = info.value
    assert type(err) is ClientConnectorError
    assert (err.host, err.port, err.ssl) == ("127.0.0.1", port, True)
    assert isinstance(err.os_error, ConnectionRefusedError)
    assert err.errno == errno.ECONNREFUSED
    assert str(err).startswith(f"Cannot connect to host 127.0.0.1:{port} ssl:default [")


async def test_every_address_refusing_raises_for_the_host_name() -> None:
    port = refused_port()
    resolver = FakeResolver({"dead.test": ["127.0.0.2", "127.0.0.3"]})
    async with airhttp.ClientSession(connector=TCPConnector(resolver=resolver)) as session:
        with pytest.raises(ClientConnectorError) as info:
            await session.get(f"https://dead.test:{port}/", ssl=False)
    err = info.value
    assert (err.host, err.port, err.ssl) == ("dead.test", port, False)
    assert isinstance(err.os_error, OSError)
    assert err.os_error.errno == errno.ECONNREFUSED
    assert "127.0.0.3" in str(err.os_error)


async def test_local_addr_binds_the_source_address(base_url: URL) -> None:
    connector = TCPConnector(local_addr=("127.0.0.2", 0))
    async with airhttp.ClientSession(connector=connector) as session:
        text = await _get_text(session, base_url / "peer")
    assert text.split()[0] == "127.0.0.2"


async def test_local_addr_binds_the_source_port(base_url: URL) -> None:
    port = refused_port()
    connector = TCPConnector(local_addr=("127.0.0.1", port))
    async with airhttp.ClientSession(connector=connector) as session:
        text = await _get_text(session, base_url / "peer")
    assert text == f"127.0.0.1 {port}"


async def test_socket_factory_makes_the_socket_used(base_url: URL) -> None:
    port = refused_port()
    calls: list[Any] = []

    def factory(addr_info: Any) -> socket.socket:
        calls.append(addr_info)
        family, type_, proto, _, _ = addr_info
        sock = socket.socket(family, type_, proto)
        # A source port only this socket has, so the server can tell it was used.
        sock.bind(("127.0.0.1", port))
        return sock

    async with airhttp.ClientSession(connector=TCPConnector(socket_factory=factory)) as session:
        text = await _get_text(session, base_url / "peer")
    assert text == f"127.0.0.1 {port}"
    assert calls == [
        (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", base_url.port))
    ]


# --- timeouts ----------------------------------------------------------------------------


async def test_sock_connect_timeout_raises_connection_timeout_error() -> None:
    with stalled_listener() as port:
        timeout = ClientTimeout(sock_connect=0.1)
        async with airhttp.ClientSession(timeout=timeout) as session:
            with pytest.raises(ConnectionTimeoutError, match="Connection timeout to host"):
                await session.get(f"http://127.0.0.1:{port}/")


async def test_zero_sock_connect_means_no_limit() -> None:
    with stalled_listener() as port:
        async with airhttp.ClientSession() as session:
            task = asyncio.create_task(
                session.get(f"http://127.0.0.1:{port}/", timeout=ClientTimeout(sock_connect=0))
            )
            await asyncio.sleep(0.1)
            assert not task.done()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task


async def test_connect_timeout_covers_a_slow_lookup() -> None:
    resolver = FakeResolver({"slow.test": ["127.0.0.1"]}, delay=5)
    connector = TCPConnector(resolver=resolver)
    async with airhttp.ClientSession(connector=connector) as session:
        with pytest.raises(ConnectionTimeoutError):
            await session.get("http://slow.test:1/", timeout=ClientTimeout(connect=0.1))


async def test_sock_connect_timeout_does_not_cover_the_lookup(base_url: URL) -> None:
    resolver = FakeResolver({"slow.test": ["127.0.0.1"]}, delay=0.2)
    connector = TCPConnector(resolver=resolver)
    timeout = ClientTimeout(sock_connect=0.05)
    async with airhttp.ClientSession(connector=connector, timeout=timeout) as session:
        assert await _get_text(session, base_url.with_host("slow.test")) == "ok"


async def test_sock_connect_above_the_ceil_threshold_ends_on_a_whole_second() -> None:
    loop = asyncio.get_running_loop()
    with stalled_listener() as port:
        connector = TCPConnector(timeout_ceil_threshold=0.01)
        timeout = ClientTimeout(sock_connect=0.05)
        async with airhttp.ClientSession(connector=connector, timeout=timeout) as session:
            started = loop.time()
            with pytest.raises(ConnectionTimeoutError):
                await session.get(f"http://127.0.0.1:{port}/")
            ended = loop.time()
    assert ended - started >= 0.05
    assert math.ceil(started + 0.05) <= ended < math.ceil(started + 0.05) + 0.2


# --- DNS cache ---------------------------------------------------------------------------


async def test_cache_hit_within_ttl_resolves_once(base_url: URL) -> None:
    resolver = FakeResolver({"example.test": ["127.0.0.1"]})
    connector = TCPConnector(resolver=resolver, force_close=True)
    url = base_url.with_host("example.test")
    async with airhttp.ClientSession(connector=connector) as session:
        for _ in range(3):
            await _get_text(session, url)
        assert resolver.calls["example.test"] == 1
        assert url.port is not None
        cached = connector.cached_hosts[("example.test", url.port)]
        assert [entry["host"] for entry in cached] == ["127.0.0.1"]


async def test_entry_older_than_ttl_is_resolved_again(base_url: URL) -> None:
    resolver = FakeResolver({"example.test": ["127.0.0.1"]})
    connector = TCPConnector(resolver=resolver, force_close=True, ttl_dns_cache=0.1)  # type: ignore[arg-type]
    url = base_url.with_host("example.test")
    async with airhttp.ClientSession(connector=connector) as session:
        await _get_text(session, url)
        await _get_text(session, url)
        assert resolver.calls["example.test"] == 1
        await asyncio.sleep(0.15)
        await _get_text(session, url)
        assert resolver.calls["example.test"] == 2


async def test_without_dns_cache_every_connection_resolves(base_url: URL) -> None:
    resolver = FakeResolver({"example.test": ["127.0.0.1"]})
    connector = TCPConnector(resolver=resolver, force_close=True, use_dns_cache=False)
    assert connector.use_dns_cache is False
    url = base_url.with_host("example.test")
    async with airhttp.ClientSession(connector=connector) as session:
        for _ in range(3):
            await _get_text(session, url)
    assert resolver.calls["example.test"] == 3
    assert dict(connector.cached_hosts) == {}


async def test_clear_dns_cache_forgets_one_entry_or_all(base_url: URL) -> None:
    resolver = FakeResolver({"a.test": ["127.0.0.1"], "b.test": ["127.0.0.1"]})
    connector = TCPConnector(resolver=resolver, force_close=True)
    port = base_url.port
    assert port is not None
    async with airhttp.ClientSession(connector=connector) as session:
        await _get_text(session, base_url.with_host("a.test"))
        await _get_text(session, base_url.with_host("b.test"))
        assert set(connector.cached_hosts) == {("a.test", port), ("b.test", port)}
        connector.clear_dns_cache("a.test", port)
        assert set(connector.cached_hosts) == {("b.test", port)}
        await _get_text(session, base_url.with_host("a.test"))
        assert resolver.calls["a.test"] == 2
        connector.clear_dns_cache()
        assert dict(connector.cached_hosts) == {}


async def test_cache_holds_at_most_dns_cache_max_size_entries(base_url: URL) -> None:
    resolver = FakeResolver({"a.test": ["127.0.0.1"], "b.test": ["127.0.0.1"]})
    connector = TCPConnector(resolver=resolver, force_close=True, dns_cache_max_size=1)
    async with airhttp.ClientSession(connector=connector) as session:
        await _get_text(session, base_url.with_host("a.test"))
        await _get_text(session, base_url.with_host("b.test"))
        assert set(connector.cached_hosts) == {("b.test", base_url.port)}


async def test_cache_hits_rotate_through_the_addresses(base_url: URL) -> None:
    # Only 127.0.0.1 answers; the others refuse and fall back, but each hit must
    # start from the next address.
    resolver = FakeResolver({"rr.test": ["127.0.0.1", "127.0.0.2", "127.0.0.3"]})
    seen: list[str] = []
    connector = TCPConnector(
        resolver=resolver, force_close=True, socket_factory=_recording_factory(seen)
    )
    firsts: list[str] = []
    async with airhttp.ClientSession(connector=connector) as session:
        for _ in range(4):
            seen.clear()
            await _get_text(session, base_url.with_host("rr.test"))
            firsts.append(seen[0])
    assert firsts == ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.1"]
    assert resolver.calls["rr.test"] == 1


async def test_concurrent_requests_for_one_uncached_host_share_one_lookup(base_url: URL) -> None:
    resolver = FakeResolver({"example.test": ["127.0.0.1"]})
    resolver.gate = asyncio.Event()
    url = base_url.with_host("example.test")
    async with airhttp.ClientSession(connector=TCPConnector(resolver=resolver)) as session:
        tasks = [asyncio.create_task(_get_text(session, url)) for _ in range(100)]
        for _ in range(5):
            await asyncio.sleep(0)
        resolver.gate.set()
        assert await asyncio.gather(*tasks) == ["ok"] * 100
    assert resolver.calls["example.test"] == 1


async def test_failed_lookup_raises_dns_error_and_is_not_cached() -> None:
    failure = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    resolver = FakeResolver({"nowhere.test": failure})
    async with airhttp.ClientSession(connector=TCPConnector(resolver=resolver)) as session:
        for attempt in (1, 2):
            with pytest.raises(ClientConnectorDNSError) as info:
                await session.get("http://nowhere.test:8080/")
            assert resolver.calls["nowhere.test"] == attempt
        assert dict(session.connector.cached_hosts) == {}  # type: ignore[union-attr]
    err = info.value
    assert (err.host, err.port, err.ssl) == ("nowhere.test", 8080, True)
    assert err.os_error is failure
    assert str(err) == (
        "Cannot connect to host nowhere.test:8080 ssl:default [Name or service not known]"
    )


async def test_a_failed_shared_lookup_fails_every_sharer_once() -> None:
    resolver = FakeResolver({"nowhere.test": OSError(errno.EHOSTUNREACH, "unreachable")})
    resolver.gate = asyncio.Event()
    async with airhttp.ClientSession(connector=TCPConnector(resolver=resolver)) as session:
        tasks = [asyncio.create_task(session.get("http://nowhere.test/")) for _ in range(10)]
        await asyncio.sleep(0.01)
        resolver.gate.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, ClientConnectorDNSError) for r in results)
    assert resolver.calls["nowhere.test"] == 1


async def test_empty_lookup_result_raises_dns_error() -> None:
    resolver = FakeResolver({"empty.test": []})
    async with airhttp.ClientSession(connector=TCPConnector(resolver=resolver)) as session:
        with pytest.raises(ClientConnectorDNSError) as info:
            await session.get("http://empty.test/")
    assert info.value.host == "empty.test"


@pytest.mark.parametrize("cancelled", [0, 1])
async def test_cancelling_one_sharer_leaves_the_others_resolving(
    base_url: URL, cancelled: int
) -> None:
    resolver = FakeResolver({"example.test": ["127.0.0.1"]})
    resolver.gate = asyncio.Event()
    url = base_url.with_host("example.test")
    async with airhttp.ClientSession(connector=TCPConnector(resolver=resolver)) as session:
        tasks = [asyncio.create_task(_get_text(session, url)) for _ in range(3)]
        await asyncio.sleep(0.01)
        tasks[cancelled].cancel()
        resolver.gate.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[cancelled], asyncio.CancelledError)
    assert [r for i, r in enumerate(results) if i != cancelled] == ["ok", "ok"]
    assert resolver.calls["example.test"] == 1


async def test_a_lookup_whose_waiters_all_left_still_fills_the_cache(base_url: URL) -> None:
    resolver = FakeResolver({"example.test": ["127.0.0.1"]})
    resolver.gate = asyncio.Event()
    url = base_url.with_host("example.test")
    async with airhttp.ClientSession(connector=TCPConnector(resolver=resolver)) as session:
        task = asyncio.create_task(session.get(url))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        resolver.gate.set()
        assert await _get_text(session, url) == "ok"
    assert resolver.calls["example.test"] == 1


async def test_closing_the_connector_cancels_a_pending_lookup() -> None:
    resolver = FakeResolver({"example.test": ["127.0.0.1"]})
    resolver.gate = asyncio.Event()
    session = airhttp.ClientSession(connector=TCPConnector(resolver=resolver))
    task = asyncio.create_task(session.get("http://example.test/"))
    await asyncio.sleep(0.01)
    await session.close()
    with pytest.raises((asyncio.CancelledError, airhttp.ClientError)):
        await task


async def test_closing_the_connector_leaves_a_given_resolver_open() -> None:
    resolver = FakeResolver({})
    conn = TCPConnector(resolver=resolver)
    await conn.close()
    assert resolver.closed is False


# --- DNS tracing -------------------------------------------------------------------------


async def test_dns_signals_fire_for_miss_then_hit(base_url: URL) -> None:
    events: list[tuple[Any, str, str]] = []
    resolver = FakeResolver({"example.test": ["127.0.0.1"]})
    connector = TCPConnector(resolver=resolver, force_close=True)
    url = base_url.with_host("example.test")
    async with airhttp.ClientSession(
        connector=connector, trace_configs=[dns_trace_config(events)]
    ) as session:
        await _get_text(session, url, trace_request_ctx=1)
        await _get_text(session, url, trace_request_ctx=2)
        await _get_text(session, base_url, trace_request_ctx=3)
    assert events == [
        (1, "dns_cache_miss", "example.test"),
        (1, "dns_resolvehost_start", "example.test"),
        (1, "dns_resolvehost_end", "example.test"),
        (2, "dns_cache_hit", "example.test"),
    ]


async def test_dns_signals_without_cache_are_resolve_start_and_end_only(base_url: URL) -> None:
    events: list[tuple[Any, str, str]] = []
    resolver = FakeResolver({"example.test": ["127.0.0.1"]})
    connector = TCPConnector(resolver=resolver, force_close=True, use_dns_cache=False)
    async with airhttp.ClientSession(
        connector=connector, trace_configs=[dns_trace_config(events)]
    ) as session:
        await _get_text(session, base_url.with_host("example.test"), trace_request_ctx=1)
        await _get_text(session, base_url.with_host("example.test"), trace_request_ctx=2)
    assert events == [
        (1, "dns_resolvehost_start", "example.test"),
        (1, "dns_resolvehost_end", "example.test"),
        (2, "dns_resolvehost_start", "example.test"),
        (2, "dns_resolvehost_end", "example.test"),
    ]


async def test_a_request_joining_a_lookup_under_way_is_traced_as_a_hit(base_url: URL) -> None:
    events: list[tuple[Any, str, str]] = []
    resolver = FakeResolver({"example.test": ["127.0.0.1"]})
    resolver.gate = asyncio.Event()
    url = base_url.with_host("example.test")
    async with airhttp.ClientSession(
        connector=TCPConnector(resolver=resolver), trace_configs=[dns_trace_config(events)]
    ) as session:
        first = asyncio.create_task(_get_text(session, url, trace_request_ctx=1))
        await asyncio.sleep(0.01)
        second = asyncio.create_task(_get_text(session, url, trace_request_ctx=2))
        await asyncio.sleep(0.01)
        resolver.gate.set()
        await asyncio.gather(first, second)
    assert sorted(events) == [
        (1, "dns_cache_miss", "example.test"),
        (1, "dns_resolvehost_end", "example.test"),
        (1, "dns_resolvehost_start", "example.test"),
        (2, "dns_cache_hit", "example.test"),
    ]

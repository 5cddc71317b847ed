"""The suite's own SOCKS proxy (tests/socks_server.py), driven with raw bytes over real sockets.

No airhttp code here: the proxy and `airhttp._socks` are checked against each other
elsewhere, so this file checks the proxy against the RFC byte layouts by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import pytest
from yarl import URL

from .socks_server import SocksServer
from .tcp_support import ipv6_loopback_available, refused_port

WAIT = 2.0  # seconds: a generous bound for loopback answers, never reached when all is well


class EchoServer:
    """Echoes every byte back; `farewell` is sent and the connection closed instead."""

    def __init__(self, host: str = "127.0.0.1", farewell: bytes | None = None) -> None:
        self.host = host
        self.port = 0
        self.farewell = farewell
        self.peers: list[tuple[str, int]] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[object]] = set()

    async def __aenter__(self) -> EchoServer:
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.peers.append(writer.get_extra_info("peername")[:2])
        try:
            if self.farewell is not None:
                writer.write(self.farewell)
            else:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass  # cancelled by __aexit__; re-raised, asyncio's stream server logs it (3.11)
        finally:
            self._tasks.discard(task)
            writer.close()


@pytest.fixture
async def echo() -> AsyncIterator[EchoServer]:
    async with EchoServer() as server:
        yield server


@contextlib.asynccontextmanager
async def dial(
    proxy: SocksServer,
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
    try:
        yield reader, writer
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def read(reader: asyncio.StreamReader, size: int) -> bytes:
    return await asyncio.wait_for(reader.readexactly(size), WAIT)


async def read_to_eof(reader: asyncio.StreamReader) -> bytes:
    """Everything until the proxy closes (fails the test if it does not, within WAIT)."""
    return await asyncio.wait_for(reader.read(), WAIT)


def port_bytes(port: int) -> bytes:
    return port.to_bytes(2, "big")


async def assert_echoes(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    for message in (b"ping", b"x" * 100_000):
        writer.write(message)
        assert await read(reader, len(message)) == message


LOOPBACK4 = b"\x7f\x00\x00\x01"


# --- SOCKS4 and 4a -------------------------------------------------------------------------


async def test_socks4_connects_to_an_ipv4_target_and_relays(echo: EchoServer) -> None:
    async with SocksServer() as proxy, dial(proxy) as (reader, writer):
        writer.write(b"\x04\x01" + port_bytes(echo.port) + LOOPBACK4 + b"alice\x00")
        reply = await read(reader, 8)
        assert reply[:2] == b"\x00\x5a"
        assert reply[4:] == LOOPBACK4
        await assert_echoes(reader, writer)
        (record,) = proxy.records
        assert (record.version, record.command, record.atyp) == (4, 1, None)
        assert (record.address_type, record.host, record.port) == ("ipv4", "127.0.0.1", echo.port)
        assert record.username == "alice"
        assert not record.proxy_resolved
        assert record.connected_to == ("127.0.0.1", echo.port)
        assert record.reply == 0x5A


async def test_socks4a_name_is_resolved_by_the_proxy(echo: EchoServer) -> None:
    async with SocksServer(hosts={"echo.test": "127.0.0.1"}) as proxy, dial(proxy) as (r, w):
        w.write(b"\x04\x01" + port_bytes(echo.port) + b"\x00\x00\x00\x07\x00echo.test\x00")
        assert (await read(r, 8))[:2] == b"\x00\x5a"
        await assert_echoes(r, w)
        (record,) = proxy.records
        assert (record.address_type, record.host) == ("domain", "echo.test")
        assert record.username is None
        assert record.proxy_resolved
        assert record.connected_to == ("127.0.0.1", echo.port)


async def test_socks4_required_user_id_mismatch_is_refused_with_0x5d(echo: EchoServer) -> None:
    async with SocksServer(username="alice") as proxy, dial(proxy) as (reader, writer):
        writer.write(b"\x04\x01" + port_bytes(echo.port) + LOOPBACK4 + b"mallory\x00")
        assert await read_to_eof(reader) == b"\x00\x5d" + bytes(6)
        assert proxy.records[0].username == "mallory"
        assert echo.peers == []


async def test_socks4_unreachable_target_is_refused_with_0x5b() -> None:
    async with SocksServer() as proxy, dial(proxy) as (reader, writer):
        writer.write(b"\x04\x01" + port_bytes(refused_port()) + LOOPBACK4 + b"\x00")
        assert await read_to_eof(reader) == b"\x00\x5b" + bytes(6)
        assert proxy.records[0].reply == 0x5B


async def test_socks4_refuse_knob_sends_the_code_as_is(echo: EchoServer) -> None:
    async with SocksServer(refuse=0x5C) as proxy, dial(proxy) as (reader, writer):
        writer.write(b"\x04\x01" + port_bytes(echo.port) + LOOPBACK4 + b"\x00")
        assert await read_to_eof(reader) == b"\x00\x5c" + bytes(6)
        assert echo.peers == []


# --- SOCKS5 ------------------------------------------------------------------------------


def socks5_ipv4_request(port: int) -> bytes:
    return b"\x05\x01\x00\x01" + LOOPBACK4 + port_bytes(port)


async def test_socks5_without_auth_connects_to_an_ipv4_target(echo: EchoServer) -> None:
    async with SocksServer() as proxy, dial(proxy) as (reader, writer):
        writer.write(b"\x05\x01\x00")
        assert await read(reader, 2) == b"\x05\x00"
        writer.write(socks5_ipv4_request(echo.port))
        reply = await read(reader, 10)
        assert reply[:4] == b"\x05\x00\x00\x01"
        assert reply[4:8] == LOOPBACK4
        await assert_echoes(reader, writer)
        (record,) = proxy.records
        assert (record.version, record.methods, record.method) == (5, b"\x00", 0x00)
        assert (record.atyp, record.address_type, record.host) == (1, "ipv4", "127.0.0.1")
        assert record.username is None and record.password is None
        assert record.reply == 0x00


async def test_socks5_ipv6_target() -> None:
    if not ipv6_loopback_available():
        pytest.skip("no IPv6 loopback on this host")
    async with EchoServer("::1") as echo6, SocksServer() as proxy, dial(proxy) as (r, w):
        w.write(b"\x05\x01\x00")
        assert await read(r, 2) == b"\x05\x00"
        w.write(
            b"\x05\x01\x00\x04" + socket.inet_pton(socket.AF_INET6, "::1") + port_bytes(echo6.port)
        )
        reply = await read(r, 22)
        assert reply[:4] == b"\x05\x00\x00\x04"
        await assert_echoes(r, w)
        (record,) = proxy.records
        assert (record.atyp, record.address_type, record.host) == (4, "ipv6", "::1")
        assert record.connected_to == ("::1", echo6.port)


async def test_socks5h_name_is_resolved_by_the_proxy(echo: EchoServer) -> None:
    async with SocksServer(hosts={"echo.test": "127.0.0.1"}) as proxy, dial(proxy) as (r, w):
        w.write(b"\x05\x01\x00" + b"\x05\x01\x00\x03\x09echo.test" + port_bytes(echo.port))
        assert await read(r, 2) == b"\x05\x00"
        assert (await read(r, 10))[:8] == b"\x05\x00\x00\x01" + LOOPBACK4
        await assert_echoes(r, w)
        (record,) = proxy.records
        assert (record.atyp, record.address_type, record.host) == (3, "domain", "echo.test")
        assert record.proxy_resolved
        assert record.connected_to == ("127.0.0.1", echo.port)


async def test_socks5_unresolvable_name_is_refused_with_host_unreachable() -> None:
    async with SocksServer(hosts={"gone.test": None}) as proxy, dial(proxy) as (r, w):
        w.write(b"\x05\x01\x00" + b"\x05\x01\x00\x03\x09gone.test\x00\x50")
        assert await read_to_eof(r) == b"\x05\x00" + b"\x05\x04\x00\x01" + bytes(6)
        assert proxy.records[0].reply == 0x04


async def test_socks5_refused_target_is_refused_with_connection_refused() -> None:
    async with SocksServer() as proxy, dial(proxy) as (reader, writer):
        writer.write(b"\x05\x01\x00" + socks5_ipv4_request(refused_port()))
        assert await read_to_eof(reader) == b"\x05\x00" + b"\x05\x05\x00\x01" + bytes(6)


@pytest.mark.parametrize("code", range(0x01, 0x0A))
async def test_socks5_refuse_knob_answers_each_code(echo: EchoServer, code: int) -> None:
    async with SocksServer(refuse=code) as proxy, dial(proxy) as (reader, writer):
        writer.write(b"\x05\x01\x00" + socks5_ipv4_request(echo.port))
        assert await read_to_eof(reader) == b"\x05\x00" + bytes((5, code, 0, 1)) + bytes(6)
        assert proxy.records[0].reply == code
        assert echo.peers == []


async def test_socks5_bind_command_is_not_supported(echo: EchoServer) -> None:
    async with SocksServer() as proxy, dial(proxy) as (reader, writer):
        writer.write(b"\x05\x01\x00" + b"\x05\x02\x00\x01" + LOOPBACK4 + port_bytes(echo.port))
        assert (await read_to_eof(reader))[2:4] == b"\x05\x07"
        assert proxy.records[0].command == 0x02


async def test_socks5_unknown_address_type_is_not_supported() -> None:
    async with SocksServer() as proxy, dial(proxy) as (reader, writer):
        writer.write(b"\x05\x01\x00" + b"\x05\x01\x00\x02")
        assert (await read_to_eof(reader))[2:4] == b"\x05\x08"
        assert proxy.records[0].atyp == 0x02


# --- SOCKS5 username/password (RFC 1929) ---------------------------------------------------


async def test_socks5_required_credentials_are_checked(echo: EchoServer) -> None:
    async with SocksServer(username="alice", password="secret") as proxy, dial(proxy) as (r, w):
        w.write(b"\x05\x02\x00\x02")
        assert await read(r, 2) == b"\x05\x02"
        w.write(b"\x01\x05alice\x06secret")
        assert await read(r, 2) == b"\x01\x00"
        w.write(socks5_ipv4_request(echo.port))
        assert (await read(r, 10))[:2] == b"\x05\x00"
        await assert_echoes(r, w)
        (record,) = proxy.records
        assert (record.methods, record.method) == (b"\x00\x02", 0x02)
        assert (record.username, record.password) == ("alice", "secret")


async def test_socks5_required_credentials_without_the_method_offered_get_0xff() -> None:
    async with SocksServer(username="alice", password="secret") as proxy, dial(proxy) as (r, w):
        w.write(b"\x05\x01\x00")
        assert await read_to_eof(r) == b"\x05\xff"
        assert proxy.records[0].method == 0xFF


async def test_socks5_without_known_credentials_refuses_a_userpass_only_offer() -> None:
    async with SocksServer() as proxy, dial(proxy) as (reader, writer):
        writer.write(b"\x05\x01\x02")
        assert await read_to_eof(reader) == b"\x05\xff"


@pytest.mark.parametrize(
    ("offer", "chosen"), [(b"\x01\x00", 0x00), (b"\x02\x00\x02", 0x02), (b"\x01\x01", 0xFF)]
)
async def test_socks5_optional_credentials_accept_no_auth_too(offer: bytes, chosen: int) -> None:
    server = SocksServer(username="alice", password="secret", auth_required=False)
    async with server as proxy, dial(proxy) as (reader, writer):
        writer.write(b"\x05" + offer)
        assert await read(reader, 2) == bytes((0x05, chosen))
        assert proxy.records[0].method == chosen


@pytest.mark.parametrize(
    ("knobs", "sent"),
    [
        ({}, b"\x01\x05alice\x05wrong"),
        ({}, b"\x01\x03bob\x06secret"),
        ({"reject_credentials": True}, b"\x01\x05alice\x06secret"),
    ],
)
async def test_socks5_rejected_credentials_get_status_1_and_a_close(
    echo: EchoServer, knobs: dict[str, bool], sent: bytes
) -> None:
    server = SocksServer(username="alice", password="secret", **knobs)
    async with server as proxy, dial(proxy) as (reader, writer):
        writer.write(b"\x05\x02\x00\x02")
        assert await read(reader, 2) == b"\x05\x02"
        writer.write(sent)
        assert await read_to_eof(reader) == b"\x01\x01"
        assert proxy.records[0].username == sent[2 : 2 + sent[1]].decode()
        assert proxy.records[0].reply is None
        assert echo.peers == []


# --- fault knobs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "client", "before"),
    [
        ("method", b"\x05\x01\x00", b""),
        ("auth", b"\x05\x01\x02\x01\x05alice\x06secret", b"\x05\x02"),
        ("reply", b"\x05\x01\x00" + socks5_ipv4_request(9), b"\x05\x00"),
        ("reply", b"\x04\x01\x00\x09" + LOOPBACK4 + b"\x00", b""),
    ],
)
async def test_raw_reply_replaces_the_message_of_its_stage(
    stage: str, client: bytes, before: bytes
) -> None:
    server = SocksServer(
        username="alice", password="secret", auth_required=False, raw_reply=b"\x05\x00\xee"
    )
    server.raw_reply_stage = stage  # type: ignore[assignment]
    async with server as proxy, dial(proxy) as (reader, writer):
        writer.write(client)
        assert await read_to_eof(reader) == before + b"\x05\x00\xee"


@pytest.mark.parametrize("count", [0, 1, 2, 3, 10])
async def test_close_after_cuts_the_handshake_short(echo: EchoServer, count: int) -> None:
    async with SocksServer(close_after=count) as proxy, dial(proxy) as (reader, writer):
        writer.write(b"\x05\x01\x00" + socks5_ipv4_request(echo.port))
        data = await read_to_eof(reader)
        assert len(data) == count
        assert data == (b"\x05\x00" + b"\x05\x00\x00\x01" + LOOPBACK4)[:count]


async def test_close_after_applies_to_socks4_too(echo: EchoServer) -> None:
    async with SocksServer(close_after=3) as proxy, dial(proxy) as (reader, writer):
        writer.write(b"\x04\x01" + port_bytes(echo.port) + LOOPBACK4 + b"\x00")
        data = await read_to_eof(reader)
        assert len(data) == 3
        assert data[:2] == b"\x00\x5a"
        assert proxy.records[0].version == 4


@pytest.mark.parametrize("count", [0, 2, 5])
async def test_stall_after_keeps_the_connection_open_and_silent(
    echo: EchoServer, count: int
) -> None:
    async with SocksServer(stall_after=count) as proxy, dial(proxy) as (reader, writer):
        writer.write(b"\x05\x01\x00" + socks5_ipv4_request(echo.port))
        if count:
            assert len(await read(reader, count)) == count
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(reader.read(1), 0.1)
        writer.write(b"ignored")  # still read (and dropped) while stalled
        await writer.drain()
        assert not reader.at_eof()


async def test_stalled_connection_ends_when_the_client_leaves(echo: EchoServer) -> None:
    async with SocksServer(stall_after=0) as proxy:
        async with dial(proxy) as (_, writer):
            writer.write(b"\x05\x01\x00")
            await asyncio.sleep(0.01)
        for _ in range(100):
            if not proxy.open_connections:
                break
            await asyncio.sleep(0.01)
        assert proxy.open_connections == 0


async def test_close_after_reply_closes_once_granted(echo: EchoServer) -> None:
    async with SocksServer(close_after_reply=True) as proxy, dial(proxy) as (reader, writer):
        writer.write(b"\x05\x01\x00" + socks5_ipv4_request(echo.port))
        data = await read_to_eof(reader)
        assert data[:4] == b"\x05\x00\x05\x00"
        assert len(data) == 12
        assert proxy.records[0].connected_to == ("127.0.0.1", echo.port)


# --- relaying and lifetime ---------------------------------------------------------------


async def test_target_closing_ends_the_tunnel() -> None:
    async with EchoServer(farewell=b"bye") as target, SocksServer() as proxy:
        async with dial(proxy) as (reader, writer):
            writer.write(b"\x05\x01\x00" + socks5_ipv4_request(target.port))
            data = await read_to_eof(reader)
            assert data[:4] == b"\x05\x00\x05\x00"
            assert data[12:] == b"bye"


async def test_client_half_close_reaches_the_target(echo: EchoServer) -> None:
    async with SocksServer() as proxy, dial(proxy) as (reader, writer):
        writer.write(b"\x05\x01\x00" + socks5_ipv4_request(echo.port) + b"last words")
        writer.write_eof()
        data = await read_to_eof(reader)
        assert data[:4] == b"\x05\x00\x05\x00"
        assert data[12:] == b"last words"


async def test_each_connection_is_recorded_in_order(echo: EchoServer) -> None:
    hosts = {"a.test": "127.0.0.1"}
    async with SocksServer(hosts=hosts) as proxy:
        for request in (
            b"\x04\x01" + port_bytes(echo.port) + LOOPBACK4 + b"\x00",
            b"\x05\x01\x00\x05\x01\x00\x03\x06a.test" + port_bytes(echo.port),
        ):
            async with dial(proxy) as (reader, writer):
                writer.write(request)
                await read(reader, 8)
        assert proxy.connections == 2
        assert [(r.version, r.host) for r in proxy.records] == [(4, "127.0.0.1"), (5, "a.test")]


async def test_exit_closes_open_tunnels(echo: EchoServer) -> None:
    async with SocksServer() as proxy:
        reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
        writer.write(b"\x05\x01\x00" + socks5_ipv4_request(echo.port))
        await read(reader, 12)
        assert proxy.open_connections == 1
    try:
        assert await read_to_eof(reader) == b""
        assert proxy.open_connections == 0
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def test_an_unknown_version_byte_is_closed_at_once() -> None:
    async with SocksServer() as proxy, dial(proxy) as (reader, writer):
        writer.write(b"GET / HTTP/1.1\r\n\r\n")
        assert await read_to_eof(reader) == b""
        assert proxy.records == []


def test_url_carries_scheme_host_port_and_credentials() -> None:
    proxy = SocksServer()
    proxy.port = 1080
    assert proxy.url() == URL("socks5://127.0.0.1:1080")
    assert proxy.url("socks4a") == URL("socks4a://127.0.0.1:1080")
    assert proxy.url("socks5h", user="alice", password="s3cret") == URL(
        "socks5h://alice:s3cret@127.0.0.1:1080"
    )

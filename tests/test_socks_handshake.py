"""The sans-IO SOCKS client handshake (`airhttp._socks`), byte by byte.

Every scheme (SOCKS4, 4a, 5 without and with username/password, 5h) against IPv4, IPv6 and
name targets; replies fed whole, split at every offset, byte by byte and with tunnel bytes
behind them; every reply code; malformed replies; Hypothesis over arbitrary proxy bytes;
then each scheme over loopback against the suite's own proxy (tests/socks_server.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airhttp._socks import (
    MAX_REPLY_BYTES,
    SOCKS_SCHEMES,
    SocksAuthError,
    SocksError,
    SocksHandshake,
    SocksProtocolError,
    SocksRefused,
)

from .socks_server import SocksServer
from .tcp_support import LoopbackServer, pipe

IPV6 = "2001:db8::1"
IPV6_PACKED = bytes.fromhex("20010db8000000000000000000000001")
GREETING_NO_AUTH = b"\x05\x01\x00"
GREETING_WITH_AUTH = b"\x05\x02\x00\x02"
ALICE_SECRET = b"\x01\x05alice\x06secret"
# A SOCKS5 success reply bound to 10.0.0.1:1080, and SOCKS4's bound to 127.0.0.1:8080.
REPLY5 = b"\x05\x00\x00\x01\x0a\x00\x00\x01\x04\x38"
REPLY4 = b"\x00\x5a\x1f\x90\x7f\x00\x00\x01"
TUNNEL = b"HTTP/1.1 200 OK\r\n\r\n"


@dataclass(frozen=True)
class Case:
    """One handshake: how to make it, what the client must write and what the proxy answers."""

    make: Callable[[], SocksHandshake]
    sent: bytes
    replies: bytes
    bound: tuple[str, int]


def socks4(host: str, **kw: object) -> Callable[[], SocksHandshake]:
    return lambda: SocksHandshake(4, host, 80, **kw)  # type: ignore[arg-type]


def socks5(host: str, **kw: object) -> Callable[[], SocksHandshake]:
    return lambda: SocksHandshake(5, host, 443, **kw)  # type: ignore[arg-type]


CASES: dict[str, Case] = {
    "socks4-ipv4": Case(
        socks4("192.0.2.10", remote_dns=False),
        b"\x04\x01\x00\x50\xc0\x00\x02\x0a\x00",
        REPLY4,
        ("127.0.0.1", 8080),
    ),
    "socks4-ipv4-userid": Case(
        socks4("192.0.2.10", remote_dns=False, username="alice", password="not sent"),
        b"\x04\x01\x00\x50\xc0\x00\x02\x0aalice\x00",
        REPLY4,
        ("127.0.0.1", 8080),
    ),
    "socks4a-domain": Case(
        socks4("example.com", remote_dns=True, username="alice"),
        b"\x04\x01\x00\x50\x00\x00\x00\x01alice\x00example.com\x00",
        REPLY4,
        ("127.0.0.1", 8080),
    ),
    "socks4a-domain-no-userid": Case(
        socks4("example.com", remote_dns=True),
        b"\x04\x01\x00\x50\x00\x00\x00\x01\x00example.com\x00",
        REPLY4,
        ("127.0.0.1", 8080),
    ),
    "socks4a-ipv4-literal-is-plain-socks4": Case(
        socks4("192.0.2.10", remote_dns=True),
        b"\x04\x01\x00\x50\xc0\x00\x02\x0a\x00",
        REPLY4,
        ("127.0.0.1", 8080),
    ),
    "socks5-ipv4": Case(
        socks5("192.0.2.10", remote_dns=False),
        GREETING_NO_AUTH + b"\x05\x01\x00\x01\xc0\x00\x02\x0a\x01\xbb",
        b"\x05\x00" + REPLY5,
        ("10.0.0.1", 1080),
    ),
    "socks5-ipv6": Case(
        socks5(IPV6, remote_dns=False),
        GREETING_NO_AUTH + b"\x05\x01\x00\x04" + IPV6_PACKED + b"\x01\xbb",
        b"\x05\x00" + REPLY5,
        ("10.0.0.1", 1080),
    ),
    "socks5-userpass-ipv4": Case(
        socks5("192.0.2.10", remote_dns=False, username="alice", password="secret"),
        GREETING_WITH_AUTH + ALICE_SECRET + b"\x05\x01\x00\x01\xc0\x00\x02\x0a\x01\xbb",
        b"\x05\x02" + b"\x01\x00" + REPLY5,
        ("10.0.0.1", 1080),
    ),
    "socks5-userpass-ipv6-bytes-credentials": Case(
        socks5(IPV6, remote_dns=False, username=b"alice", password=b"secret"),
        GREETING_WITH_AUTH + ALICE_SECRET + b"\x05\x01\x00\x04" + IPV6_PACKED + b"\x01\xbb",
        b"\x05\x02" + b"\x01\x00" + REPLY5,
        ("10.0.0.1", 1080),
    ),
    "socks5-credentials-but-proxy-picks-no-auth": Case(
        socks5("192.0.2.10", remote_dns=False, username="alice", password="secret"),
        GREETING_WITH_AUTH + b"\x05\x01\x00\x01\xc0\x00\x02\x0a\x01\xbb",
        b"\x05\x00" + REPLY5,
        ("10.0.0.1", 1080),
    ),
    "socks5h-domain": Case(
        socks5("example.com", remote_dns=True),
        GREETING_NO_AUTH + b"\x05\x01\x00\x03\x0bexample.com\x01\xbb",
        b"\x05\x00" + REPLY5,
        ("10.0.0.1", 1080),
    ),
    "socks5h-domain-userpass": Case(
        socks5("example.com", remote_dns=True, username="alice", password="secret"),
        GREETING_WITH_AUTH + ALICE_SECRET + b"\x05\x01\x00\x03\x0bexample.com\x01\xbb",
        b"\x05\x02\x01\x00" + REPLY5,
        ("10.0.0.1", 1080),
    ),
    "socks5h-ipv4-literal-is-an-address": Case(
        socks5("192.0.2.10", remote_dns=True),
        GREETING_NO_AUTH + b"\x05\x01\x00\x01\xc0\x00\x02\x0a\x01\xbb",
        b"\x05\x00" + REPLY5,
        ("10.0.0.1", 1080),
    ),
    "socks5h-ipv6-literal-is-an-address": Case(
        socks5(IPV6, remote_dns=True),
        GREETING_NO_AUTH + b"\x05\x01\x00\x04" + IPV6_PACKED + b"\x01\xbb",
        b"\x05\x00" + REPLY5,
        ("10.0.0.1", 1080),
    ),
    "socks5-bound-to-a-name": Case(
        socks5("192.0.2.10", remote_dns=False),
        GREETING_NO_AUTH + b"\x05\x01\x00\x01\xc0\x00\x02\x0a\x01\xbb",
        b"\x05\x00" + b"\x05\x00\x00\x03\x0dproxy.example\x00\x50",
        ("proxy.example", 80),
    ),
    "socks5-bound-to-ipv6": Case(
        socks5("192.0.2.10", remote_dns=False),
        GREETING_NO_AUTH + b"\x05\x01\x00\x01\xc0\x00\x02\x0a\x01\xbb",
        b"\x05\x00" + b"\x05\x00\x00\x04" + IPV6_PACKED + b"\xff\xff",
        (IPV6, 65535),
    ),
}


def chunkings(data: bytes) -> Iterator[list[bytes]]:
    """`data` whole, split in two at every offset, and byte by byte."""
    yield [data]
    for offset in range(1, len(data)):
        yield [data[:offset], data[offset:]]
    yield [data[i : i + 1] for i in range(len(data))]


def run(handshake: SocksHandshake, chunks: Sequence[bytes]) -> tuple[bytes, bytes]:
    """Feed `chunks` as a connector would; returns (all bytes written, tunnel bytes)."""
    sent = handshake.data_to_send()
    tunnel = b""
    for chunk in chunks:
        if handshake.done:
            tunnel += chunk
            continue
        handshake.receive_data(chunk)
        sent += handshake.data_to_send()
        if handshake.done:
            tunnel += handshake.leftover
    return sent, tunnel


def refused(make: Callable[[], SocksHandshake], replies: bytes) -> SocksError:
    handshake = make()
    handshake.data_to_send()
    with pytest.raises(SocksError) as info:
        handshake.receive_data(replies)
    return info.value


# --- whole exchanges -----------------------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
def test_handshake_completes_however_the_replies_are_split(name: str) -> None:
    case = CASES[name]
    for chunks in chunkings(case.replies):
        handshake = case.make()
        sent, tunnel = run(handshake, chunks)
        assert sent == case.sent
        assert handshake.done
        assert handshake.bound_address == case.bound
        assert tunnel == b""
        assert handshake.data_to_send() == b""


@pytest.mark.parametrize("name", CASES)
def test_bytes_after_the_final_reply_are_kept_as_leftover(name: str) -> None:
    case = CASES[name]
    for chunks in chunkings(case.replies + TUNNEL):
        handshake = case.make()
        sent, tunnel = run(handshake, chunks)
        assert sent == case.sent
        assert handshake.done
        assert tunnel == TUNNEL


def test_reply_and_tunnel_bytes_in_one_chunk_leave_all_tunnel_bytes_in_leftover() -> None:
    handshake = CASES["socks5h-domain"].make()
    handshake.data_to_send()
    handshake.receive_data(b"\x05\x00" + REPLY5 + TUNNEL)
    assert handshake.done
    assert handshake.leftover == TUNNEL


def test_socks5_waits_for_each_answer_before_sending_the_next_message() -> None:
    handshake = SocksHandshake(
        5, "example.com", 443, remote_dns=True, username="alice", password="secret"
    )
    assert handshake.data_to_send() == GREETING_WITH_AUTH
    assert handshake.data_to_send() == b""
    handshake.receive_data(b"\x05")
    assert handshake.data_to_send() == b""
    handshake.receive_data(b"\x02")
    assert handshake.data_to_send() == ALICE_SECRET
    handshake.receive_data(b"\x01\x00")
    assert handshake.data_to_send() == b"\x05\x01\x00\x03\x0bexample.com\x01\xbb"
    assert not handshake.done
    assert handshake.bound_address is None
    handshake.receive_data(REPLY5[:-1])
    assert not handshake.done
    handshake.receive_data(REPLY5[-1:])
    assert handshake.done
    assert handshake.leftover == b""


def test_socks4_sends_its_request_at_once() -> None:
    handshake = SocksHandshake(4, "192.0.2.10", 80, remote_dns=False)
    assert handshake.data_to_send() == b"\x04\x01\x00\x50\xc0\x00\x02\x0a\x00"
    assert handshake.data_to_send() == b""
    assert not handshake.done


def test_port_is_sent_big_endian() -> None:
    handshake = SocksHandshake(5, "192.0.2.10", 0x1234, remote_dns=False)
    handshake.data_to_send()
    handshake.receive_data(b"\x05\x00")
    assert handshake.data_to_send()[-2:] == b"\x12\x34"


def test_socks_schemes_map_to_version_and_who_resolves() -> None:
    assert dict(SOCKS_SCHEMES) == {
        "socks4": (4, False),
        "socks4a": (4, True),
        "socks5": (5, False),
        "socks5h": (5, True),
    }


# --- refusals ------------------------------------------------------------------------------

SOCKS5_WORDS = {
    0x01: "general SOCKS server failure",
    0x02: "connection not allowed by ruleset",
    0x03: "network unreachable",
    0x04: "host unreachable",
    0x05: "connection refused",
    0x06: "TTL expired",
    0x07: "command not supported",
    0x08: "address type not supported",
    0x09: "unknown reply code",
    0x80: "unknown reply code",
    0xFF: "unknown reply code",
}


@pytest.mark.parametrize("code", SOCKS5_WORDS)
def test_socks5_failure_reply_raises_refused_naming_the_code(code: int) -> None:
    reply = bytes((0x05, code)) + REPLY5[2:]
    for chunks in chunkings(b"\x05\x00" + reply):
        handshake = socks5("192.0.2.10", remote_dns=False)()
        with pytest.raises(SocksRefused) as info:
            run(handshake, chunks)
        assert info.value.reply == code
        assert info.value.version == 5
        words = SOCKS5_WORDS[code]
        assert str(info.value) == (f"SOCKS5 proxy refused the connection: {words} (0x{code:02X})")


def test_socks5_refusal_is_raised_without_waiting_for_the_bound_address() -> None:
    error = refused(socks5("192.0.2.10", remote_dns=False), b"\x05\x00\x05\x04")
    assert isinstance(error, SocksRefused)
    assert str(error) == "SOCKS5 proxy refused the connection: host unreachable (0x04)"


SOCKS4_WORDS = {
    0x5B: "request rejected or failed",
    0x5C: "request rejected because the proxy cannot connect to identd on the client",
    0x5D: "request rejected because identd reports a different user id",
    0x00: "unknown reply code",
    0x5E: "unknown reply code",
}


@pytest.mark.parametrize("code", SOCKS4_WORDS)
def test_socks4_failure_reply_raises_refused_naming_the_code(code: int) -> None:
    for chunks in chunkings(bytes((0x00, code)) + REPLY4[2:]):
        handshake = socks4("example.com", remote_dns=True)()
        with pytest.raises(SocksRefused) as info:
            run(handshake, chunks)
        assert info.value.reply == code
        assert info.value.version == 4
        words = SOCKS4_WORDS[code]
        assert str(info.value) == f"SOCKS4 proxy refused the connection: {words} (0x{code:02X})"


def test_no_acceptable_method_is_an_auth_error() -> None:
    error = refused(socks5("192.0.2.10", remote_dns=False), b"\x05\xff")
    assert type(error) is SocksAuthError
    assert "none of the offered authentication methods" in str(error)
    assert "may require a username and password" in str(error)


def test_no_acceptable_method_with_credentials_offered_is_an_auth_error() -> None:
    make = socks5("192.0.2.10", remote_dns=False, username="alice", password="secret")
    error = refused(make, b"\x05\xff")
    assert type(error) is SocksAuthError
    assert "may require" not in str(error)


@pytest.mark.parametrize("status", [0x01, 0x02, 0xFF])
def test_rejected_username_and_password_is_an_auth_error(status: int) -> None:
    make = socks5("192.0.2.10", remote_dns=False, username="alice", password="wrong")
    error = refused(make, b"\x05\x02" + bytes((0x01, status)))
    assert type(error) is SocksAuthError
    assert str(error) == (
        f"SOCKS5 proxy rejected the username and password (status 0x{status:02X})"
    )


# --- malformed replies ---------------------------------------------------------------------

V5 = socks5("192.0.2.10", remote_dns=False)
V5_AUTH = socks5("192.0.2.10", remote_dns=False, username="alice", password="secret")
V4 = socks4("192.0.2.10", remote_dns=False)

MALFORMED: dict[str, tuple[Callable[[], SocksHandshake], bytes, str]] = {
    "method-selection-version-4": (V5, b"\x04\x00", "method selection with version 0x04"),
    "an-http-proxy-answers": (V5, b"HTTP/1.1 400 Bad Request\r\n", "version 0x48"),
    "method-gssapi-not-offered": (V5, b"\x05\x01", "method 0x01, which was not offered"),
    "method-userpass-not-offered": (V5, b"\x05\x02", "method 0x02, which was not offered"),
    "method-unassigned": (V5_AUTH, b"\x05\x80", "method 0x80, which was not offered"),
    "auth-status-version-5": (V5_AUTH, b"\x05\x02\x05\x00", "status with version 0x05"),
    "reply-version-4": (V5, b"\x05\x00\x04\x00\x00\x01", "reply with version 0x04"),
    "reply-reserved-octet": (V5, b"\x05\x00\x05\x00\x01\x01", "non-zero reserved octet 0x01"),
    "reply-atyp-2": (V5, b"\x05\x00\x05\x00\x00\x02", "unknown address type 0x02"),
    "reply-atyp-0": (V5, b"\x05\x00\x05\x00\x00\x00", "unknown address type 0x00"),
    "reply-atyp-ff": (V5, b"\x05\x00\x05\x00\x00\xff", "unknown address type 0xFF"),
    "socks4-reply-version-4": (V4, b"\x04\x5a\x00\x00\x00\x00\x00\x00", "version 0x04"),
    "socks4-answered-by-socks5": (V4, b"\x05\xff", "reply with version 0x05"),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_reply_is_a_protocol_error_however_split(name: str) -> None:
    make, replies, words = MALFORMED[name]
    for chunks in chunkings(replies):
        with pytest.raises(SocksProtocolError, match=words):
            run(make(), chunks)


def test_malformed_reply_fails_at_the_first_bad_octet() -> None:
    handshake = V5()
    handshake.data_to_send()
    handshake.receive_data(b"\x05\x00\x05\x00")
    with pytest.raises(SocksProtocolError, match="reserved octet"):
        handshake.receive_data(b"\x01")


def test_handshake_is_dead_after_an_error() -> None:
    handshake = V5()
    handshake.data_to_send()
    with pytest.raises(SocksRefused) as first:
        handshake.receive_data(b"\x05\x00\x05\x02")
    assert handshake.data_to_send() == b""
    with pytest.raises(SocksRefused) as again:
        handshake.receive_data(REPLY5)
    assert again.value is first.value
    assert not handshake.done
    assert handshake.bound_address is None


def test_auth_error_leaves_nothing_more_to_send() -> None:
    handshake = V5_AUTH()
    handshake.data_to_send()
    with pytest.raises(SocksAuthError):
        handshake.receive_data(b"\x05\x02\x01\x01")
    assert handshake.data_to_send() == b""
    with pytest.raises(SocksAuthError):
        handshake.receive_data(b"")


# --- the proxy closing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "received", "waiting"),
    [
        (V5, b"", "waiting for the method selection, 0 byte(s) of it received"),
        (V5, b"\x05", "waiting for the method selection, 1 byte(s) of it received"),
        (V5_AUTH, b"\x05\x02\x01", "waiting for the username/password status, 1 byte(s)"),
        (V5, b"\x05\x00\x05\x00\x00\x03\x05ab", "waiting for the CONNECT reply, 7 byte(s)"),
        (V4, b"\x00\x5a\x00", "waiting for the CONNECT reply, 3 byte(s) of it received"),
    ],
)
def test_connection_closed_before_done_gives_a_protocol_error(
    make: Callable[[], SocksHandshake], received: bytes, waiting: str
) -> None:
    handshake = make()
    handshake.data_to_send()
    handshake.receive_data(received)
    error = handshake.connection_closed()
    assert type(error) is SocksProtocolError
    assert "proxy closed the connection during the handshake" in str(error)
    assert waiting in str(error)
    with pytest.raises(SocksProtocolError) as info:
        handshake.receive_data(b"\x00")
    assert info.value is error


def test_connection_closed_after_an_error_keeps_the_first_error() -> None:
    handshake = V5()
    handshake.data_to_send()
    with pytest.raises(SocksRefused) as first:
        handshake.receive_data(b"\x05\x00\x05\x01")
    closed = handshake.connection_closed()
    assert type(closed) is SocksProtocolError
    assert str(closed) == "SOCKS5 proxy closed the connection after the handshake failed"
    with pytest.raises(SocksRefused) as again:
        handshake.receive_data(b"")
    assert again.value is first.value


def test_connection_closed_after_done_is_a_caller_bug() -> None:
    handshake = V4()
    handshake.receive_data(REPLY4)
    with pytest.raises(RuntimeError):
        handshake.connection_closed()


def test_feeding_after_done_is_a_caller_bug() -> None:
    handshake = V4()
    handshake.receive_data(REPLY4 + b"tunnel")
    with pytest.raises(RuntimeError, match="belong to the tunnel"):
        handshake.receive_data(b"more")
    assert handshake.leftover == b"tunnel"


def test_errors_never_show_the_credentials() -> None:
    make = socks5("192.0.2.10", remote_dns=False, username="alice", password="s3cr3t")
    texts = [str(refused(make, b"\x05\x02\x01\x01")), str(refused(make, b"\x05\xff"))]
    texts.append(str(refused(make, b"\x05\x02\x01\x00\x05\x03")))
    with pytest.raises(ValueError) as info:
        SocksHandshake(5, "192.0.2.10", 1, remote_dns=False, username="alice", password="s" * 300)
    texts.append(str(info.value))
    assert not [text for text in texts if "s3cr3t" in text or "alice" in text or "sss" in text]


# --- arguments refused up front ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"username": "a" * 256, "password": "p"}, "username must be 1 to 255 octets"),
        ({"username": "a", "password": "p" * 256}, "password must be 0 to 255 octets"),
        ({"username": "é" * 128, "password": "p"}, "not 256"),
        ({"username": "", "password": "p"}, "username must be 1 to 255"),
        ({"password": "secret"}, "password needs a username"),
    ],
)
def test_socks5_credentials_outside_rfc1929_limits_are_refused(
    kwargs: dict[str, str], words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        SocksHandshake(5, "192.0.2.10", 443, remote_dns=False, **kwargs)  # type: ignore[arg-type]


def test_socks5_credentials_of_255_octets_are_accepted() -> None:
    password = "é" * 127 + "p"  # 255 octets in UTF-8
    handshake = SocksHandshake(
        5, "192.0.2.10", 443, remote_dns=False, username="u" * 255, password=password
    )
    handshake.data_to_send()
    handshake.receive_data(b"\x05\x02")
    auth = handshake.data_to_send()
    assert auth[:2] == b"\x01\xff"
    assert auth[257] == 255
    assert auth[258:].decode("utf-8") == password


@pytest.mark.parametrize(
    ("version", "host", "remote_dns", "words"),
    [
        (4, "example.com", False, "SOCKS4 needs an IPv4 address"),
        (4, IPV6, False, "cannot carry an IPv6 address"),
        (4, IPV6, True, "cannot carry an IPv6 address"),
        (5, "example.com", False, "SOCKS5 needs an IP address"),
        (5, "bücher.example", True, "must be ASCII"),
        (4, "bücher.example", True, "must be ASCII"),
        (5, "a" * 256, True, "1 to 255 octets"),
        (5, "", True, "1 to 255 octets"),
        (4, "", True, "1 to 255 octets"),
        (4, "a\x00b", True, "without NUL"),
    ],
)
def test_targets_the_scheme_cannot_carry_are_refused(
    version: int, host: str, remote_dns: bool, words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        SocksHandshake(version, host, 80, remote_dns=remote_dns)  # type: ignore[arg-type]


def test_a_name_of_255_octets_is_accepted() -> None:
    handshake = SocksHandshake(5, "a" * 255, 443, remote_dns=True)
    handshake.data_to_send()
    handshake.receive_data(b"\x05\x00")
    assert handshake.data_to_send()[3:5] == b"\x03\xff"


def test_socks4_user_id_with_nul_is_refused() -> None:
    with pytest.raises(ValueError, match="NUL"):
        SocksHandshake(4, "192.0.2.10", 80, remote_dns=False, username="a\x00b")


@pytest.mark.parametrize("port", [-1, 65536])
def test_port_out_of_range_is_refused(port: int) -> None:
    with pytest.raises(ValueError, match="port"):
        SocksHandshake(5, "192.0.2.10", port, remote_dns=False)


def test_unknown_version_is_refused() -> None:
    with pytest.raises(ValueError, match="4 or 5"):
        SocksHandshake(6, "192.0.2.10", 80, remote_dns=False)  # type: ignore[arg-type]


# --- bounded input, arbitrary proxies --------------------------------------------------------

CONFIGS: dict[str, Callable[[], SocksHandshake]] = {
    "socks4": V4,
    "socks4a": socks4("example.com", remote_dns=True, username="alice"),
    "socks5": V5,
    "socks5-auth": V5_AUTH,
    "socks5h": socks5("example.com", remote_dns=True),
}


def outcome(make: Callable[[], SocksHandshake], chunks: Sequence[bytes]) -> object:
    """What feeding `chunks` leads to: the error's type and text, or done's details, or waiting."""
    handshake = make()
    try:
        _, tunnel = run(handshake, chunks)
    except SocksError as exc:
        return (type(exc), str(exc))
    if handshake.done:
        return ("done", handshake.bound_address, tunnel)
    return "waiting"


def test_the_longest_possible_reply_completes_exactly_at_the_maximum() -> None:
    longest = b"\x05\x02" + b"\x01\x00" + b"\x05\x00\x00\x03\xff" + b"n" * 255 + b"\x00\x50"
    assert len(longest) == MAX_REPLY_BYTES[5]
    assert outcome(V5_AUTH, [longest[:-1]]) == "waiting"
    assert outcome(V5_AUTH, [longest]) == ("done", ("n" * 255, 80), b"")
    assert outcome(V4, [REPLY4[:-1]]) == "waiting"
    assert len(REPLY4) == MAX_REPLY_BYTES[4]


@pytest.mark.parametrize("name", CONFIGS)
def test_the_maximum_reply_size_of_any_repeated_octet_ends_the_handshake(name: str) -> None:
    make = CONFIGS[name]
    size = MAX_REPLY_BYTES[make().version]
    for value in range(256):
        assert outcome(make, [bytes((value,)) * size]) != "waiting", value


@st.composite
def chunked(draw: st.DrawFn, data: bytes) -> list[bytes]:
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(data) - 1)), max_size=8)))
    bounds = [0, *(c for c in cuts if c < len(data)), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@st.composite
def plausible_replies(draw: st.DrawFn, version: int = 5) -> bytes:
    """A valid answer sequence (SOCKS5: either auth path, any ATYP), perhaps one octet off."""
    if version == 4:
        data = bytearray(b"\x00\x5a" + draw(st.binary(min_size=6, max_size=6)))
    else:
        auth = draw(st.booleans())
        atyp = draw(st.sampled_from([1, 3, 4]))
        address = {1: b"\x0a\x00\x00\x01", 4: IPV6_PACKED}.get(atyp) or (
            bytes((n := draw(st.integers(0, 255)),)) + b"x" * n
        )
        data = bytearray((b"\x05\x02\x01\x00" if auth else b"\x05\x00") + bytes((5, 0, 0, atyp)))
        data += address + b"\x04\x38"
    data += draw(st.binary(max_size=8))
    if draw(st.booleans()):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), name=st.sampled_from(sorted(CONFIGS)))
def test_arbitrary_proxy_bytes_end_in_done_or_a_socks_error(data: st.DataObject, name: str) -> None:
    make = CONFIGS[name]
    version = make().version
    limit = MAX_REPLY_BYTES[version]
    replies = data.draw(st.one_of(st.binary(max_size=limit + 16), plausible_replies(version)))
    whole = outcome(make, [replies])  # anything but SocksError propagates and fails the test
    assert outcome(make, data.draw(chunked(replies))) == whole
    assert outcome(make, [replies[i : i + 1] for i in range(len(replies))]) == whole
    if len(replies) >= limit:
        assert whole != "waiting"


@settings(max_examples=100, deadline=None)
@given(replies=plausible_replies(), cut=st.integers(0, 400))
def test_a_truncated_reply_waits_then_closing_is_a_protocol_error(replies: bytes, cut: int) -> None:
    handshake = V5_AUTH()
    handshake.data_to_send()
    try:
        handshake.receive_data(replies[:cut])
    except SocksError:
        return
    if handshake.done:
        return
    assert isinstance(handshake.connection_closed(), SocksProtocolError)


# --- against the suite's own proxy (tests/socks_server.py), over loopback sockets ------------


class Echo(LoopbackServer):
    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await pipe(reader, writer)


@pytest.fixture
async def echo_port() -> AsyncIterator[int]:
    server = Echo()
    url = await server.start()
    yield url.port or 0
    await server.close()


async def through(proxy: SocksServer, handshake: SocksHandshake) -> bytes:
    """Drive `handshake` over a real connection to `proxy`, as the connector will; echo once."""
    reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
    try:
        writer.write(handshake.data_to_send())
        while not handshake.done:
            data = await asyncio.wait_for(reader.read(65536), 2.0)
            if not data:
                raise handshake.connection_closed()
            handshake.receive_data(data)
            writer.write(handshake.data_to_send())
        writer.write(b"through the tunnel")
        return handshake.leftover + await asyncio.wait_for(reader.readexactly(18), 2.0)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


@pytest.mark.parametrize(
    ("scheme", "host", "address_type"),
    [
        ("socks4", "127.0.0.1", "ipv4"),
        ("socks4a", "echo.test", "domain"),
        ("socks5", "127.0.0.1", "ipv4"),
        ("socks5h", "echo.test", "domain"),
        ("socks5h", "127.0.0.1", "ipv4"),
    ],
)
@pytest.mark.parametrize("auth", [False, True])
async def test_each_scheme_tunnels_through_the_suite_proxy(
    echo_port: int, scheme: str, host: str, address_type: str, auth: bool
) -> None:
    version, remote_dns = SOCKS_SCHEMES[scheme]
    credentials = {"username": "alice", "password": "secret"} if auth else {}
    server = SocksServer(hosts={"echo.test": "127.0.0.1"}, **credentials)
    async with server as proxy:
        handshake = SocksHandshake(version, host, echo_port, remote_dns=remote_dns, **credentials)
        assert await through(proxy, handshake) == b"through the tunnel"
        (record,) = proxy.records
    assert (record.version, record.address_type, record.host) == (version, address_type, host)
    assert record.port == echo_port
    assert record.connected_to == ("127.0.0.1", echo_port)
    assert record.username == ("alice" if auth else None)
    assert record.password == ("secret" if auth and version == 5 else None)
    assert handshake.bound_address is not None


async def test_ipv6_target_goes_as_atyp_4_to_the_suite_proxy() -> None:
    async with SocksServer(refuse=0x04) as proxy:
        with pytest.raises(SocksRefused, match="host unreachable"):
            await through(proxy, SocksHandshake(5, "::1", 9, remote_dns=False))
        assert (proxy.records[0].atyp, proxy.records[0].host) == (4, "::1")


@pytest.mark.parametrize(
    ("knobs", "error", "words"),
    [
        ({"refuse": 0x02}, SocksRefused, "connection not allowed by ruleset"),
        ({"username": "alice", "password": "other"}, SocksAuthError, "rejected the username"),
        ({"username": "bob", "password": "x", "auth_required": True}, SocksAuthError, "status"),
        ({"close_after": 3}, SocksProtocolError, "closed the connection during the handshake"),
        ({"raw_reply": b"\x05\x00\x01\x01"}, SocksProtocolError, "reserved octet"),
        ({"raw_reply": b"\x05\x00\x00"}, SocksProtocolError, "3 byte\\(s\\) of it received"),
    ],
)
async def test_suite_proxy_faults_become_socks_errors(
    echo_port: int, knobs: dict[str, Any], error: type[SocksError], words: str
) -> None:
    async with SocksServer(**knobs) as proxy:
        handshake = SocksHandshake(
            5, "127.0.0.1", echo_port, remote_dns=False, username="alice", password="secret"
        )
        with pytest.raises(error, match=words):
            await through(proxy, handshake)


@pytest.mark.parametrize("password", ["", None])
def test_an_empty_socks5_password_goes_as_plen_zero_like_curl(password: str | None) -> None:
    handshake = SocksHandshake(
        5, "192.0.2.10", 80, remote_dns=False, username="alice", password=password
    )
    assert handshake.data_to_send() == b"\x05\x02\x00\x02"
    handshake.receive_data(b"\x05\x02")
    assert handshake.data_to_send() == b"\x01\x05alice\x00"

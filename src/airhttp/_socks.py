"""The client side of a SOCKS4, SOCKS4a or SOCKS5 CONNECT handshake, as bytes in and bytes out.

`SocksHandshake` writes the client's messages and judges the proxy's replies, raising a
`SocksError` that says what went wrong. No sockets, no asyncio, no name resolution and no
IDNA here: the connector dials the proxy, resolves the target when the client should, and
moves the bytes. Only CONNECT: BIND and UDP ASSOCIATE are not offered.

Sources: RFC 1928 (SOCKS5), RFC 1929 (SOCKS5 username/password), "SOCKS: A protocol for
TCP proxy across firewalls" (SOCKS4) and "SOCKS 4A: A Simple Extension to SOCKS 4
Protocol" (SOCKS4a), both by Ying-Da Lee.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal

__all__ = (
    "MAX_REPLY_BYTES",
    "SOCKS_SCHEMES",
    "SocksAuthError",
    "SocksError",
    "SocksHandshake",
    "SocksProtocolError",
    "SocksRefused",
)

SocksVersion = Literal[4, 5]

# URL scheme -> (protocol version, does the proxy resolve the name).
SOCKS_SCHEMES: Final[Mapping[str, tuple[SocksVersion, bool]]] = MappingProxyType(
    {
        "socks4": (4, False),
        "socks4a": (4, True),
        "socks5": (5, False),
        "socks5h": (5, True),
    }
)

_CONNECT: Final = 0x01  # RFC 1928 section 4 and SOCKS4: CMD/CD "CONNECT X'01'"

# SOCKS4: the reply's VN "should be 0"; CD 90 means "request granted".
_SOCKS4_REPLY_VERSION: Final = 0x00
_SOCKS4_GRANTED: Final = 0x5A
_SOCKS4_REPLY_SIZE: Final = 8  # VN CD DSTPORT(2) DSTIP(4)
_SOCKS4_REPLIES: Final[Mapping[int, str]] = MappingProxyType(
    {
        0x5B: "request rejected or failed",
        0x5C: "request rejected because the proxy cannot connect to identd on the client",
        0x5D: "request rejected because identd reports a different user id",
    }
)

# RFC 1928 section 3: the method numbers; X'FF' is "NO ACCEPTABLE METHODS".
_SOCKS5: Final = 0x05
_NO_AUTH: Final = 0x00
_USERNAME_PASSWORD: Final = 0x02
_NO_ACCEPTABLE: Final = 0xFF
# RFC 1929 section 2: the sub-negotiation's own version, X'01'; STATUS X'00' is success.
_RFC1929_VERSION: Final = 0x01
_FIELD_MAX: Final = 255  # RFC 1929 section 2, RFC 1928 section 5: one length octet

# RFC 1928 section 5: ATYP.
_ATYP_IPV4: Final = 0x01
_ATYP_DOMAIN: Final = 0x03
_ATYP_IPV6: Final = 0x04
_ADDRESS_SIZES: Final[Mapping[int, int]] = MappingProxyType({_ATYP_IPV4: 4, _ATYP_IPV6: 16})
# RFC 1928 section 6: VER REP RSV ATYP, then at most 1 + 255 octets of name and 2 of port.
_SOCKS5_REPLY_MAX: Final = 4 + 1 + _FIELD_MAX + 2
_SOCKS5_REPLIES: Final[Mapping[int, str]] = MappingProxyType(
    {
        0x01: "general SOCKS server failure",
        0x02: "connection not allowed by ruleset",
        0x03: "network unreachable",
        0x04: "host unreachable",
        0x05: "connection refused",
        0x06: "TTL expired",
        0x07: "command not supported",
        0x08: "address type not supported",
    }
)

# The most bytes a proxy can send before the handshake must be done or failed: the
# method selection (2), the username/password status (2) and the longest reply.
MAX_REPLY_BYTES: Final[Mapping[int, int]] = MappingProxyType(
    {4: _SOCKS4_REPLY_SIZE, 5: 2 + 2 + _SOCKS5_REPLY_MAX}
)


class SocksError(Exception):
    """The SOCKS handshake failed; the connection to the proxy is of no further use."""


class SocksProtocolError(SocksError):
    """The proxy's bytes break the protocol (or its stream ended before the handshake did)."""


class SocksAuthError(SocksError):
    """The proxy accepts none of our methods, or refused the username and password."""


class SocksRefused(SocksError):
    """The proxy answered the CONNECT with a failure reply; `reply` is its code."""

    def __init__(self, version: SocksVersion, reply: int) -> None:
        table = _SOCKS4_REPLIES if version == 4 else _SOCKS5_REPLIES
        words = table.get(reply, "unknown reply code")
        super().__init__(f"SOCKS{version} proxy refused the connection: {words} (0x{reply:02X})")
        self.version: SocksVersion = version
        self.reply = reply


class _Stage(enum.Enum):
    METHOD = "the method selection"  # RFC 1928 section 3
    AUTH = "the username/password status"  # RFC 1929 section 2
    REPLY = "the CONNECT reply"  # RFC 1928 section 6 / SOCKS4 reply
    DONE = "the tunnel"
    FAILED = "nothing"


class SocksHandshake:
    """One CONNECT through a SOCKS proxy, sans-IO in the h11 style.

    Write `data_to_send()` to the proxy, feed everything it answers to `receive_data()`
    (split anywhere) until `done`; then `leftover` holds bytes that followed the final
    reply and belong to the tunnel. A `SocksError` kills the handshake: feeding more
    raises it again. When the proxy's stream ends before `done`, raise the error that
    `connection_closed()` returns.

    `host` is an IP literal (IPv6 without brackets) or, with `remote_dns`, an ASCII name
    (IDNA already applied) that the proxy resolves: SOCKS4a for version 4, ATYP 3 for 5.
    An IP literal is sent as an address even with `remote_dns`. SOCKS4 sends `username`
    as its user id and ignores `password`; SOCKS5 offers username/password (RFC 1929)
    besides no authentication when `username` is given. `str` credentials go as UTF-8;
    no message or error of this class ever contains them.
    """

    __slots__ = (
        "_buffer",
        "_credentials",
        "_error",
        "_outgoing",
        "_request",
        "_stage",
        "bound_address",
        "leftover",
        "version",
    )

    def __init__(
        self,
        version: SocksVersion,
        host: str,
        port: int,
        *,
        remote_dns: bool,
        username: str | bytes | None = None,
        password: str | bytes | None = None,
    ) -> None:
        if not 0 <= port <= 0xFFFF:
            raise ValueError(f"port out of range: {port}")
        self.version: SocksVersion = version
        self.bound_address: tuple[str, int] | None = None
        self.leftover = b""
        self._buffer = bytearray()
        self._error: SocksError | None = None
        self._credentials = b""
        if version == 4:
            self._request = _socks4_request(host, port, remote_dns, username)
            self._outgoing = bytearray(self._request)
            self._stage = _Stage.REPLY
        elif version == 5:
            methods = bytes((_NO_AUTH,))
            if username is not None:
                self._credentials = _rfc1929_request(username, password)
                methods += bytes((_USERNAME_PASSWORD,))
            elif password is not None:
                raise ValueError("a SOCKS5 password needs a username")
            self._request = _socks5_request(host, port, remote_dns)
            # RFC 1928 section 3: VER NMETHODS METHODS.
            self._outgoing = bytearray((_SOCKS5, len(methods))) + methods
            self._stage = _Stage.METHOD
        else:
            raise ValueError(f"SOCKS version must be 4 or 5, not {version!r}")

    @property
    def done(self) -> bool:
        """True once the proxy granted the CONNECT: the stream is now the tunnel."""
        return self._stage is _Stage.DONE

    def data_to_send(self) -> bytes:
        """The bytes to write to the proxy now (empty while waiting for its answer)."""
        data = bytes(self._outgoing)
        self._outgoing.clear()
        return data

    def receive_data(self, data: bytes) -> None:
        """Take the next bytes from the proxy; raises `SocksError` if they fail the handshake."""
        if self._error is not None:
            # The same error again, without the tracebacks of earlier raises piling up.
            raise self._error.with_traceback(None)
        if self._stage is _Stage.DONE:
            raise RuntimeError("the SOCKS handshake is done: further bytes belong to the tunnel")
        self._buffer += data
        try:
            while self._step():
                pass
        except SocksError as exc:
            self._fail(exc)
            raise
        if self.done:
            self.leftover = bytes(self._buffer)
            self._buffer.clear()

    def connection_closed(self) -> SocksProtocolError:
        """The error for a stream that ended before `done` (the caller raises it)."""
        if self._stage is _Stage.DONE:
            raise RuntimeError("the SOCKS handshake is done: its end is the tunnel's")
        if self._error is not None:
            return SocksProtocolError(
                f"SOCKS{self.version} proxy closed the connection after the handshake failed"
            )
        error = SocksProtocolError(
            f"SOCKS{self.version} proxy closed the connection during the handshake "
            f"(waiting for {self._stage.value}, {len(self._buffer)} byte(s) of it received)"
        )
        self._fail(error)
        return error

    def _fail(self, error: SocksError) -> None:
        self._error = error
        self._stage = _Stage.FAILED
        self._outgoing.clear()
        self._buffer.clear()

    def _step(self) -> bool:
        """Run the reader of the current stage: True if it finished one message."""
        stage = self._stage
        if stage is _Stage.REPLY:
            return self._read_socks5_reply() if self.version == 5 else self._read_socks4_reply()
        if stage is _Stage.METHOD:
            return self._read_method()
        if stage is _Stage.AUTH:
            return self._read_auth_status()
        return False

    # Each reader checks every octet as soon as it is in, so a bad reply fails at the same
    # octet however the bytes were split, and no reader waits for more than it can use.

    def _read_method(self) -> bool:
        """RFC 1928 section 3: VER METHOD, the proxy's pick among the methods we offered."""
        buf = self._buffer
        if buf and buf[0] != _SOCKS5:
            raise self._bad_version(buf[0], _SOCKS5, "method selection")
        if len(buf) < 2:
            return False
        method = buf[1]
        del buf[:2]
        if method == _NO_ACCEPTABLE:
            raise SocksAuthError(
                "SOCKS5 proxy accepts none of the offered authentication methods"
                + ("" if self._credentials else " (it may require a username and password)")
            )
        if method == _USERNAME_PASSWORD and self._credentials:
            self._outgoing += self._credentials
            self._stage = _Stage.AUTH
        elif method == _NO_AUTH:
            self._outgoing += self._request
            self._stage = _Stage.REPLY
        else:
            raise SocksProtocolError(
                f"SOCKS5 proxy chose authentication method 0x{method:02X}, which was not offered"
            )
        return True

    def _read_auth_status(self) -> bool:
        """RFC 1929 section 2: VER STATUS; any STATUS but X'00' is a failure."""
        buf = self._buffer
        if buf and buf[0] != _RFC1929_VERSION:
            raise self._bad_version(buf[0], _RFC1929_VERSION, "username/password status")
        if len(buf) < 2:
            return False
        status = buf[1]
        del buf[:2]
        if status != 0x00:
            raise SocksAuthError(
                f"SOCKS5 proxy rejected the username and password (status 0x{status:02X})"
            )
        self._outgoing += self._request
        self._stage = _Stage.REPLY
        return True

    def _read_socks5_reply(self) -> bool:
        """RFC 1928 section 6: VER REP RSV ATYP BND.ADDR BND.PORT."""
        buf = self._buffer
        size = len(buf)
        if size >= 1 and buf[0] != _SOCKS5:
            raise self._bad_version(buf[0], _SOCKS5, "reply")
        if size >= 2 and buf[1] != 0x00:
            # Section 6: the proxy "MUST terminate the TCP connection shortly after" a failure
            # reply, so the rest of it (the address) is not waited for.
            raise SocksRefused(5, buf[1])
        if size >= 3 and buf[2] != 0x00:
            raise SocksProtocolError(f"SOCKS5 reply has a non-zero reserved octet 0x{buf[2]:02X}")
        if size < 4:
            return False
        atyp = buf[3]
        if atyp == _ATYP_DOMAIN:
            if size < 5:
                return False
            start, end = 5, 5 + buf[4]
        elif atyp in _ADDRESS_SIZES:
            start, end = 4, 4 + _ADDRESS_SIZES[atyp]
        else:
            raise SocksProtocolError(f"SOCKS5 reply has an unknown address type 0x{atyp:02X}")
        if size < end + 2:
            return False
        raw = bytes(buf[start:end])
        # The bound address is only informative for CONNECT: a name is never refused for it.
        if atyp == _ATYP_DOMAIN:
            host = raw.decode("ascii", "replace")
        else:
            host = str(ipaddress.ip_address(raw))
        self.bound_address = (host, int.from_bytes(buf[end : end + 2], "big"))
        del buf[: end + 2]
        self._stage = _Stage.DONE
        return True

    def _read_socks4_reply(self) -> bool:
        """SOCKS4: VN CD DSTPORT DSTIP; VN is 0 and CD 90 grants the request."""
        buf = self._buffer
        if buf and buf[0] != _SOCKS4_REPLY_VERSION:
            raise self._bad_version(buf[0], _SOCKS4_REPLY_VERSION, "reply")
        if len(buf) >= 2 and buf[1] != _SOCKS4_GRANTED:
            raise SocksRefused(4, buf[1])
        if len(buf) < _SOCKS4_REPLY_SIZE:
            return False
        port = int.from_bytes(buf[2:4], "big")
        self.bound_address = (str(ipaddress.IPv4Address(bytes(buf[4:8]))), port)
        del buf[:_SOCKS4_REPLY_SIZE]
        self._stage = _Stage.DONE
        return True

    def _bad_version(self, got: int, expected: int, what: str) -> SocksProtocolError:
        return SocksProtocolError(
            f"SOCKS{self.version} proxy sent a {what} with version 0x{got:02X}, "
            f"expected 0x{expected:02X} (is it a SOCKS{self.version} proxy?)"
        )


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _name_bytes(host: str) -> bytes:
    """A target name as sent to a proxy that resolves it: ASCII, 1 to 255 octets, no NUL."""
    if not host.isascii():
        raise ValueError(f"the SOCKS target name must be ASCII (apply IDNA first): {host!r}")
    name = host.encode("ascii")
    if not 1 <= len(name) <= _FIELD_MAX or b"\x00" in name:
        raise ValueError(f"the SOCKS target name must be 1 to 255 octets without NUL: {host!r}")
    return name


def _credential_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def _socks4_request(host: str, port: int, remote_dns: bool, username: str | bytes | None) -> bytes:
    """SOCKS4: VN CD DSTPORT DSTIP USERID NULL, and for SOCKS4a the name and a NULL."""
    userid = b"" if username is None else _credential_bytes(username)
    if b"\x00" in userid:
        raise ValueError("a SOCKS4 user id cannot contain NUL")
    head = bytes((4, _CONNECT)) + port.to_bytes(2, "big")
    address = _ip_literal(host)
    if isinstance(address, ipaddress.IPv4Address):
        return head + address.packed + userid + b"\x00"
    if address is not None:
        raise ValueError(f"SOCKS4 cannot carry an IPv6 address: {host!r}")
    if not remote_dns:
        raise ValueError(f"SOCKS4 needs an IPv4 address (resolve {host!r} first, or use 4a)")
    # SOCKS4a: DSTIP 0.0.0.x with x nonzero, the name after the user id's NULL.
    return head + b"\x00\x00\x00\x01" + userid + b"\x00" + _name_bytes(host) + b"\x00"


def _rfc1929_request(username: str | bytes, password: str | bytes | None) -> bytes:
    """RFC 1929 section 2: VER ULEN UNAME PLEN PASSWD.

    The RFC gives each field 1 to 255 octets; an empty password goes as PLEN 0, as curl
    sends it, so that `socks5://user@proxy` works with proxies that check names only.
    """
    fields = [_credential_bytes(username), _credential_bytes(b"" if password is None else password)]
    message = bytearray((_RFC1929_VERSION,))
    for label, field, least in zip(("username", "password"), fields, (1, 0), strict=True):
        if not least <= len(field) <= _FIELD_MAX:
            raise ValueError(
                f"a SOCKS5 {label} must be {least} to 255 octets (RFC 1929), not {len(field)}"
            )
        message.append(len(field))
        message += field
    return bytes(message)


def _socks5_request(host: str, port: int, remote_dns: bool) -> bytes:
    """RFC 1928 section 4: VER CMD RSV ATYP DST.ADDR DST.PORT, addressed per section 5."""
    address = _ip_literal(host)
    if isinstance(address, ipaddress.IPv4Address):
        target = bytes((_ATYP_IPV4,)) + address.packed
    elif address is not None:
        target = bytes((_ATYP_IPV6,)) + address.packed
    elif remote_dns:
        name = _name_bytes(host)
        target = bytes((_ATYP_DOMAIN, len(name))) + name
    else:
        raise ValueError(f"SOCKS5 needs an IP address (resolve {host!r} first, or use socks5h)")
    return bytes((_SOCKS5, _CONNECT, 0x00)) + target + port.to_bytes(2, "big")

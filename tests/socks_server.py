"""A SOCKS4, SOCKS4a and SOCKS5 proxy for the tests: CONNECT only, on 127.0.0.1, with fault knobs.

Test scaffolding, written from RFC 1928/1929 and the SOCKS4/4a notes apart from
`airhttp._socks` (neither uses the other, so each checks the other). It listens on loopback
and dials only what clients ask for: names in `hosts` first, then the system resolver.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

from yarl import URL

__all__ = ("SocksRecord", "SocksServer", "Stage")

# The proxy's messages, in the order it sends them: SOCKS5's method selection (RFC 1928
# section 3), RFC 1929's status, and the CONNECT reply of either version.
Stage = Literal["method", "auth", "reply"]
# Builds one CONNECT reply from the code and the proxy's bound address (None: unbound).
ReplyBuilder = Callable[[int, tuple[str, int] | None], bytes]

SOCKS4_GRANTED = 0x5A
SOCKS4_REJECTED = 0x5B
SOCKS4_USER_MISMATCH = 0x5D
NO_AUTH, USERNAME_PASSWORD, NO_ACCEPTABLE = 0x00, 0x02, 0xFF
REP_SUCCEEDED, REP_FAILURE, REP_NETWORK_UNREACHABLE = 0x00, 0x01, 0x03
REP_HOST_UNREACHABLE, REP_CONNECTION_REFUSED = 0x04, 0x05
REP_COMMAND_NOT_SUPPORTED, REP_ADDRESS_TYPE_NOT_SUPPORTED = 0x07, 0x08


@dataclass
class SocksRecord:
    """One client's handshake as the proxy saw it, filled in as the bytes arrive."""

    version: int  # 4 or 5
    methods: bytes | None = None  # SOCKS5: the methods offered
    method: int | None = None  # SOCKS5: the method chosen (0xFF: none)
    command: int | None = None
    atyp: int | None = None  # SOCKS5 ATYP as sent (1, 3, 4); None for SOCKS4
    address_type: str | None = None  # "ipv4", "ipv6" or "domain" (SOCKS4a's name too)
    host: str | None = None  # the target as sent: an IP literal or a name
    port: int | None = None
    username: str | None = None  # RFC 1929 UNAME, or the SOCKS4 user id (None if empty)
    password: str | None = None  # RFC 1929 PASSWD
    connected_to: tuple[str, int] | None = None  # the address the proxy dialled
    reply: int | None = None  # the reply code sent for the CONNECT (None: none sent)

    @property
    def proxy_resolved(self) -> bool:
        """True when the client sent a name (4a, 5h), so the proxy did the lookup."""
        return self.address_type == "domain"


class _Hangup(Exception):
    """The handshake ends here: close the client's connection."""


class _Stall(Exception):
    """The handshake stalls here: read and drop whatever comes, answer nothing."""


class SocksServer:
    """`async with SocksServer(...) as proxy:` listens on `proxy.host`:`proxy.port`.

    Knobs (plain attributes, read per connection):
    - `username`/`password`: credentials the proxy knows; with them SOCKS5 asks for RFC
      1929 (`auth_required`) or also accepts no authentication; SOCKS4 checks the user id
      when required (reply 0x5D on a mismatch). `reject_credentials` fails every attempt.
    - `refuse`: answer every CONNECT with this reply code (as is, for either version).
    - `raw_reply`, `raw_reply_stage`: send these bytes instead of the proper message at
      that stage, then close.
    - `close_after` / `stall_after`: once the proxy has sent that many handshake bytes in
      all (0: none), close the connection, or stop answering and keep it open.
    - `close_after_reply`: close right after a successful reply, before relaying.
    - `hosts`: name -> address the proxy uses instead of resolving (None: unresolvable).
    """

    host = "127.0.0.1"

    def __init__(
        self,
        *,
        username: str | None = None,
        password: str | None = None,
        auth_required: bool = True,
        reject_credentials: bool = False,
        refuse: int | None = None,
        raw_reply: bytes | None = None,
        raw_reply_stage: Stage = "reply",
        close_after: int | None = None,
        stall_after: int | None = None,
        close_after_reply: bool = False,
        hosts: Mapping[str, str | None] | None = None,
    ) -> None:
        self.username = username
        self.password = password
        self.auth_required = auth_required
        self.reject_credentials = reject_credentials
        self.refuse = refuse
        self.raw_reply = raw_reply
        self.raw_reply_stage: Stage = raw_reply_stage
        self.close_after = close_after
        self.stall_after = stall_after
        self.close_after_reply = close_after_reply
        self.hosts: Mapping[str, str | None] = hosts or {}
        self.port = 0
        self.connections = 0
        self.records: list[SocksRecord] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    def url(
        self, scheme: str = "socks5", *, user: str | None = None, password: str | None = None
    ) -> URL:
        """This proxy's URL, e.g. socks5h://user:password@127.0.0.1:port."""
        return URL.build(
            scheme=scheme, host=self.host, port=self.port, user=user, password=password
        )

    @property
    def open_connections(self) -> int:
        """Client connections still in their handshake or relaying."""
        return len(self._tasks)

    async def __aenter__(self) -> SocksServer:
        self._server = await asyncio.start_server(self._handle, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop listening, end every handshake and relay, close every socket."""
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for writer in list(self._writers):
            writer.close()
        if self._server is not None:
            await self._server.wait_closed()

    # --- one connection ------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        self.connections += 1
        budget = _Budget(writer, self.close_after, self.stall_after)
        try:
            version = (await reader.readexactly(1))[0]
            if version == 4:
                await self._serve_socks4(reader, budget)
            elif version == 5:
                await self._serve_socks5(reader, budget)
        except _Stall:
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                while await reader.read(65536):
                    pass
        except (_Hangup, ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass  # close() ends it; re-raised, asyncio's stream server logs it (3.11)
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            writer.close()

    async def _serve_socks4(self, reader: asyncio.StreamReader, budget: _Budget) -> None:
        """SOCKS4: VN CD DSTPORT DSTIP USERID NULL; 4a adds the name and a NULL."""
        record = SocksRecord(version=4)
        self.records.append(record)
        head = await reader.readexactly(7)
        record.command = head[0]
        record.port = int.from_bytes(head[1:3], "big")
        userid = (await reader.readuntil(b"\x00"))[:-1]
        record.username = userid.decode("utf-8", "replace") or None
        if head[3:6] == b"\x00\x00\x00" and head[6] != 0:
            # SOCKS4a: DSTIP 0.0.0.x (x nonzero) means a name follows the user id.
            record.host = (await reader.readuntil(b"\x00"))[:-1].decode("utf-8", "replace")
            record.address_type = "domain"
        else:
            record.host = socket.inet_ntop(socket.AF_INET, head[3:7])
            record.address_type = "ipv4"
        await self._raw_or_nothing(budget, "reply")
        code = self._socks4_verdict(record)
        if code is not None:
            await self._send_reply(budget, record, _socks4_reply(code, None))
            raise _Hangup
        await self._connect_and_relay(reader, budget, record, _socks4_reply)

    def _socks4_verdict(self, record: SocksRecord) -> int | None:
        if record.command != 0x01:
            return SOCKS4_REJECTED
        if self.reject_credentials or (
            self.username is not None and self.auth_required and record.username != self.username
        ):
            return SOCKS4_USER_MISMATCH
        return self.refuse

    async def _serve_socks5(self, reader: asyncio.StreamReader, budget: _Budget) -> None:
        """RFC 1928: the method selection, then RFC 1929 if chosen, then the request."""
        record = SocksRecord(version=5)
        self.records.append(record)
        count = (await reader.readexactly(1))[0]
        record.methods = await reader.readexactly(count)
        await self._raw_or_nothing(budget, "method")
        record.method = self._choose_method(record.methods)
        await budget.send(bytes((0x05, record.method)))
        if record.method == NO_ACCEPTABLE:
            raise _Hangup  # section 3: "the client MUST close the connection"
        if record.method == USERNAME_PASSWORD:
            await self._check_credentials(reader, budget, record)
        head = await reader.readexactly(4)  # VER CMD RSV ATYP
        if head[0] != 0x05:
            raise _Hangup
        record.command, record.atyp = head[1], head[3]
        if not await self._read_socks5_address(reader, record):
            await self._send_reply(budget, record, _socks5_reply(REP_ADDRESS_TYPE_NOT_SUPPORTED))
            raise _Hangup
        await self._raw_or_nothing(budget, "reply")
        code = REP_COMMAND_NOT_SUPPORTED if record.command != 0x01 else self.refuse
        if code is not None:
            await self._send_reply(budget, record, _socks5_reply(code))
            raise _Hangup
        await self._connect_and_relay(reader, budget, record, _socks5_reply)

    def _choose_method(self, offered: bytes) -> int:
        if self.username is not None and USERNAME_PASSWORD in offered:
            return USERNAME_PASSWORD
        if (self.username is None or not self.auth_required) and NO_AUTH in offered:
            return NO_AUTH
        return NO_ACCEPTABLE

    async def _check_credentials(
        self, reader: asyncio.StreamReader, budget: _Budget, record: SocksRecord
    ) -> None:
        """RFC 1929 section 2: VER ULEN UNAME PLEN PASSWD, answered by VER STATUS."""
        if (await reader.readexactly(1))[0] != 0x01:
            raise _Hangup
        uname = await reader.readexactly((await reader.readexactly(1))[0])
        passwd = await reader.readexactly((await reader.readexactly(1))[0])
        record.username = uname.decode("utf-8", "replace")
        record.password = passwd.decode("utf-8", "replace")
        await self._raw_or_nothing(budget, "auth")
        ok = not self.reject_credentials and (record.username, record.password) == (
            self.username,
            self.password,
        )
        await budget.send(b"\x01\x00" if ok else b"\x01\x01")
        if not ok:
            raise _Hangup  # section 2: on failure the server "MUST close the connection"

    async def _read_socks5_address(self, reader: asyncio.StreamReader, record: SocksRecord) -> bool:
        """RFC 1928 section 5: DST.ADDR by ATYP, then DST.PORT; False for an unknown ATYP."""
        if record.atyp == 0x01:
            record.host = socket.inet_ntop(socket.AF_INET, await reader.readexactly(4))
            record.address_type = "ipv4"
        elif record.atyp == 0x04:
            record.host = socket.inet_ntop(socket.AF_INET6, await reader.readexactly(16))
            record.address_type = "ipv6"
        elif record.atyp == 0x03:
            name = await reader.readexactly((await reader.readexactly(1))[0])
            record.host = name.decode("utf-8", "replace")
            record.address_type = "domain"
        else:
            return False
        record.port = int.from_bytes(await reader.readexactly(2), "big")
        return True

    async def _raw_or_nothing(self, budget: _Budget, stage: Stage) -> None:
        """With `raw_reply` set for `stage`: send it instead of the proper message, then close."""
        if self.raw_reply is not None and self.raw_reply_stage == stage:
            await budget.send(self.raw_reply)
            raise _Hangup

    async def _send_reply(self, budget: _Budget, record: SocksRecord, reply: bytes) -> None:
        record.reply = reply[1]
        await budget.send(reply)

    async def _connect_and_relay(
        self,
        reader: asyncio.StreamReader,
        budget: _Budget,
        record: SocksRecord,
        reply_for: ReplyBuilder,
    ) -> None:
        """Dial the target; answer its outcome; relay both ways until both directions end."""
        assert record.host is not None and record.port is not None
        v4 = record.version == 4
        target = self.hosts.get(record.host, record.host)
        try:
            if target is None:
                raise socket.gaierror(socket.EAI_NONAME, "unresolvable by the test's hosts")
            target_reader, target_writer = await asyncio.open_connection(target, record.port)
        except OSError as exc:
            code = SOCKS4_REJECTED if v4 else _socks5_code_for(exc)
            await self._send_reply(budget, record, reply_for(code, None))
            raise _Hangup from None
        self._writers.add(target_writer)
        try:
            record.connected_to = target_writer.get_extra_info("peername")[:2]
            bound = target_writer.get_extra_info("sockname")[:2]
            await self._send_reply(
                budget, record, reply_for(SOCKS4_GRANTED if v4 else REP_SUCCEEDED, bound)
            )
            if self.close_after_reply:
                raise _Hangup
            await asyncio.gather(_copy(reader, target_writer), _copy(target_reader, budget.writer))
        finally:
            self._writers.discard(target_writer)
            target_writer.close()


class _Budget:
    """The proxy's handshake output, cut short by `close_after` or `stall_after` bytes."""

    def __init__(
        self, writer: asyncio.StreamWriter, close_after: int | None, stall_after: int | None
    ) -> None:
        self.writer = writer
        self._close_after = close_after
        self._stall_after = stall_after
        self._sent = 0

    async def send(self, data: bytes) -> None:
        for limit, stop in ((self._close_after, _Hangup), (self._stall_after, _Stall)):
            if limit is not None and self._sent + len(data) > limit:
                await self._write(data[: max(0, limit - self._sent)])
                raise stop
        await self._write(data)

    async def _write(self, data: bytes) -> None:
        self._sent += len(data)
        if data:
            self.writer.write(data)
            await self.writer.drain()


def _socks4_reply(code: int, bound: tuple[str, int] | None) -> bytes:
    """SOCKS4: VN (0) CD DSTPORT DSTIP; the address only for a granted IPv4 bind."""
    if bound is None or ":" in bound[0]:
        return bytes((0x00, code)) + bytes(6)
    port = bound[1].to_bytes(2, "big")
    return bytes((0x00, code)) + port + socket.inet_pton(socket.AF_INET, bound[0])


def _socks5_reply(code: int, bound: tuple[str, int] | None = None) -> bytes:
    """RFC 1928 section 6: VER REP RSV ATYP BND.ADDR BND.PORT (0.0.0.0:0 when unbound)."""
    host, port = bound or ("0.0.0.0", 0)
    if ":" in host:
        address = b"\x04" + socket.inet_pton(socket.AF_INET6, host)
    else:
        address = b"\x01" + socket.inet_pton(socket.AF_INET, host)
    return bytes((0x05, code, 0x00)) + address + port.to_bytes(2, "big")


def _socks5_code_for(exc: OSError) -> int:
    if isinstance(exc, socket.gaierror):
        return REP_HOST_UNREACHABLE
    if isinstance(exc, ConnectionRefusedError):
        return REP_CONNECTION_REFUSED
    return REP_NETWORK_UNREACHABLE if exc.errno == errno.ENETUNREACH else REP_FAILURE


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """One direction of the relay; its end is passed on as a half-close."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.close()

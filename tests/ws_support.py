"""The server side of a WebSocket, spoken by hand for the client tests: handshake and frames.

Test scaffolding only: written from RFC 6455 without airhttp's own framing code, so a
bug there cannot hide itself; every server listens on loopback. The last section runs a
scenario with airhttp's client and with aiohttp's, for the tests that use it as the oracle.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import struct
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from yarl import URL

from .conftest import RawServer

# RFC 6455 section 1.3: the GUID a server appends to the key before hashing it.
GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

CONT: Final = 0x0
TEXT: Final = 0x1
BINARY: Final = 0x2
CLOSE: Final = 0x8
PING: Final = 0x9
PONG: Final = 0xA

# How long a test server waits for the client before it gives up on a step.
PATIENCE: Final = 1.0

# The error airhttp (and aiohttp) give once the transport is gone: on a send, or as
# exception() after the server dropped TCP.
CANNOT_WRITE: Final = "Cannot write to closing transport"


def accept_for(key: str) -> str:
    """The Sec-WebSocket-Accept answer to `key` (RFC 6455 section 4.2.2, step 5.4)."""
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + GUID).digest()).decode("ascii")


def reference_mask(payload: bytes, key: bytes) -> bytes:
    """RFC 6455 section 5.3 read literally: octet i XOR key octet i mod 4."""
    return bytes(octet ^ key[i % 4] for i, octet in enumerate(payload))


def server_frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    length_bits: int | None = None,
    mask_key: bytes | None = None,
    declared_length: int | None = None,
) -> bytes:
    """One frame as a server sends it (RFC 6455 section 5.2): unmasked unless a test asks.

    `length_bits` forces the 7/16/64-bit length form (non-minimal forms included);
    `declared_length` lies about the payload size.
    """
    size = len(payload) if declared_length is None else declared_length
    if length_bits is None:
        length_bits = 7 if size <= 125 else 16 if size <= 0xFFFF else 64
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    mask_bit = 0x80 if mask_key is not None else 0
    if length_bits == 7:
        head = bytes((first, mask_bit | size))
    elif length_bits == 16:
        head = bytes((first, mask_bit | 126)) + struct.pack("!H", size)
    else:
        head = bytes((first, mask_bit | 127)) + struct.pack("!Q", size)
    if mask_key is None:
        return head + payload
    return head + mask_key + reference_mask(payload, mask_key)


def close_body(code: int, reason: bytes = b"") -> bytes:
    """A CLOSE frame's payload: the code in two octets, then the reason."""
    return struct.pack("!H", code) + reason


def close_frame(code: int | None = None, reason: bytes = b"") -> bytes:
    """A server CLOSE frame; code None gives the empty body (no status code)."""
    return server_frame(CLOSE, b"" if code is None else close_body(code, reason))


@dataclass(frozen=True)
class ClientFrame:
    """One frame the client wrote, unmasked."""

    fin: bool
    rsv: int
    opcode: int
    masked: bool
    mask_key: bytes
    payload: bytes

    @property
    def close_code(self) -> int | None:
        if self.opcode != CLOSE or len(self.payload) < 2:
            return None
        return int(struct.unpack("!H", self.payload[:2])[0])


def wire(frames: list[ClientFrame]) -> list[tuple[int, bytes]]:
    """What the client sent, as (opcode, payload), after checking each frame is well formed."""
    for frame in frames:
        assert frame.fin and frame.rsv == 0 and frame.masked and len(frame.mask_key) == 4, frame
    return [(frame.opcode, frame.payload) for frame in frames]


@dataclass(frozen=True)
class UpgradeRequest:
    """The client's upgrade request as received: the request line and headers in order."""

    raw: bytes
    request_line: str
    headers: list[tuple[str, str]]

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    @property
    def names(self) -> list[str]:
        return [key for key, _ in self.headers]

    @property
    def key(self) -> str:
        value = self.header("Sec-WebSocket-Key")
        assert value is not None, self.raw
        return value


def parse_request(raw: bytes) -> UpgradeRequest:
    lines = raw.decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name, value.strip()))
    return UpgradeRequest(raw, lines[0], headers)


_COMPUTE: Final[Any] = object()


def handshake_response(
    key: str,
    *,
    status: str = "101 Switching Protocols",
    upgrade: str | None = "websocket",
    connection: str | None = "Upgrade",
    accept: str | None = _COMPUTE,
    extra: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
) -> bytes:
    """A handshake answer; None for upgrade, connection or accept leaves that header out."""
    lines = [f"HTTP/1.1 {status}"]
    if upgrade is not None:
        lines.append(f"Upgrade: {upgrade}")
    if connection is not None:
        lines.append(f"Connection: {connection}")
    if accept is _COMPUTE:
        accept = accept_for(key)
    if accept is not None:
        lines.append(f"Sec-WebSocket-Accept: {accept}")
    lines += [f"{name}: {value}" for name, value in extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Peer:
    """The server end of one connection: reads the client's bytes into its own buffer."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._buf = bytearray()
        self.eof = False
        self.requests: list[UpgradeRequest] = []

    async def _fill(self, timeout: float) -> bool:
        """Read more bytes; False at EOF. Raises TimeoutError when nothing comes."""
        if self.eof:
            return False
        try:
            data = await asyncio.wait_for(self.reader.read(65536), timeout)
        except ConnectionError:
            data = b""
        if not data:
            self.eof = True
            return False
        self._buf += data
        return True

    async def read_request(self, timeout: float = PATIENCE) -> UpgradeRequest | None:
        """The next request head, or None if the client hangs up first."""
        while b"\r\n\r\n" not in self._buf:
            if not await self._fill(timeout):
                return None
        end = self._buf.index(b"\r\n\r\n") + 4
        raw = bytes(self._buf[:end])
        del self._buf[:end]
        request = parse_request(raw)
        self.requests.append(request)
        return request

    async def handshake(self, **answer: Any) -> UpgradeRequest:
        request = await self.read_request()
        assert request is not None, "the client hung up before its upgrade request"
        self.send(handshake_response(request.key, **answer))
        return request

    def send(self, *chunks: bytes) -> None:
        for chunk in chunks:
            self.writer.write(chunk)

    def _parse_frame(self) -> ClientFrame | None:
        buf = self._buf
        if len(buf) < 2:
            return None
        first, second = buf[0], buf[1]
        size = second & 0x7F
        pos = 2
        if size == 126:
            if len(buf) < 4:
                return None
            (size,) = struct.unpack("!H", buf[2:4])
            pos = 4
        elif size == 127:
            if len(buf) < 10:
                return None
            (size,) = struct.unpack("!Q", buf[2:10])
            pos = 10
        masked = bool(second & 0x80)
        mask_key = b""
        if masked:
            if len(buf) < pos + 4:
                return None
            mask_key = bytes(buf[pos : pos + 4])
            pos += 4
        if len(buf) < pos + size:
            return None
        payload = bytes(buf[pos : pos + size])
        if masked:
            payload = reference_mask(payload, mask_key)
        del buf[: pos + size]
        return ClientFrame(
            fin=bool(first & 0x80),
            rsv=(first >> 4) & 0x7,
            opcode=first & 0x0F,
            masked=masked,
            mask_key=mask_key,
            payload=payload,
        )

    async def frame(self, timeout: float = PATIENCE) -> ClientFrame:
        """The client's next frame; AssertionError at EOF, TimeoutError if none comes."""
        while True:
            parsed = self._parse_frame()
            if parsed is not None:
                return parsed
            if not await self._fill(timeout):
                raise AssertionError(f"EOF while waiting for a frame: {bytes(self._buf)!r}")

    async def frames_until_eof(self, timeout: float = PATIENCE) -> list[ClientFrame]:
        """Every frame until the client closes TCP; AssertionError if it does not do so."""
        frames = []
        while True:
            parsed = self._parse_frame()
            if parsed is not None:
                frames.append(parsed)
                continue
            try:
                more = await self._fill(timeout)
            except asyncio.TimeoutError:
                raise AssertionError(f"client kept TCP open; frames so far: {frames}") from None
            if not more:
                assert not self._buf, f"stray bytes before EOF: {bytes(self._buf)!r}"
                return frames

    async def silent_for(self, seconds: float) -> bool:
        """True if the client sends nothing (and keeps TCP open) for `seconds`."""
        if self._buf:
            return False
        try:
            await self._fill(seconds)
        except asyncio.TimeoutError:
            return True
        return False

    async def eof_within(self, timeout: float = PATIENCE) -> bool:
        """True if the client closes TCP within `timeout`, whatever it sends first."""
        try:
            while await self._fill(timeout):
                pass
        except asyncio.TimeoutError:
            return False
        return True

    async def echo_close(self) -> list[ClientFrame]:
        """Answer the client's CLOSE with the same code; return what came up to EOF."""
        frames = []
        while True:
            frame = await self.frame()
            frames.append(frame)
            if frame.opcode == CLOSE:
                break
        self.send(server_frame(CLOSE, frame.payload[:2]))
        return frames + await self.frames_until_eof()


Script = Callable[[Peer], Awaitable[Any]]


async def hold_until_eof(peer: Peer) -> list[ClientFrame]:
    """A server that answers nothing: every frame until the client hangs up."""
    return await peer.frames_until_eof()


async def echo_close(peer: Peer) -> list[ClientFrame]:
    """A server that answers the client's CLOSE: every frame up to EOF."""
    return await peer.echo_close()


async def hang_up(peer: Peer) -> None:
    """A server that drops TCP right after the handshake."""


def sends(
    *chunks: bytes, after: asyncio.Event | None = None, then: Script = hold_until_eof
) -> Script:
    """A server that sends `chunks` (once `after` is set, if given), then runs `then`."""

    async def script(peer: Peer) -> Any:
        if after is not None:
            await after.wait()
        peer.send(*chunks)
        return await then(peer)

    return script


class ScriptedServer:
    """Runs a script per connection, after the handshake unless told otherwise."""

    def __init__(self, script: Script, handshake: bool, answer: dict[str, Any]) -> None:
        self._script = script
        self._handshake = handshake
        self._answer = answer
        self._results: dict[int, asyncio.Future[Any]] = {}
        self.peers: list[Peer] = []
        self.url = URL()

    def _future(self, index: int) -> asyncio.Future[Any]:
        future = self._results.get(index)
        if future is None:
            future = self._results[index] = asyncio.get_running_loop().create_future()
        return future

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = Peer(reader, writer)
        index = len(self.peers)
        self.peers.append(peer)
        future = self._future(index)
        try:
            if self._handshake:
                await peer.handshake(**self._answer)
            result = await self._script(peer)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:  # handed to the test, which re-raises it
            future.set_exception(exc)
        else:
            future.set_result(result)

    async def result(self, index: int = 0, timeout: float = 2.0) -> Any:
        """What the script returned for connection `index` (re-raising its failure)."""
        return await asyncio.wait_for(asyncio.shield(self._future(index)), timeout)


async def serve(
    raw_server: RawServer,
    script: Script,
    *,
    handshake: bool = True,
    path: str = "/ws",
    **answer: Any,
) -> ScriptedServer:
    """Start `script` as a WebSocket server; `answer` goes to `handshake_response`."""
    server = ScriptedServer(script, handshake, answer)
    base = await raw_server.start(server.handle)
    server.url = base.with_path(path)
    return server


# --- aiohttp's client as the oracle ----------------------------------------------------

Scenario = Callable[[Any, RawServer], Awaitable[Any]]


async def run_both(raw_server: RawServer, scenario: Scenario) -> tuple[Any, Any]:
    """The scenario's observables with airhttp, then with aiohttp (the reference)."""
    import aiohttp

    import airhttp

    ours = await scenario(airhttp, raw_server)
    theirs = await scenario(aiohttp, raw_server)
    return ours, theirs


def observe_message(msg: Any) -> tuple[Any, ...]:
    data = msg.data
    if isinstance(data, BaseException):
        data = (type(data).__name__, getattr(data, "code", None), str(data))
    return (int(msg.type), data, msg.extra)


def observe_state(ws: Any) -> tuple[Any, ...]:
    code = ws.close_code
    return (ws.closed, None if code is None else int(code))


def observe_error(exc: BaseException | None) -> tuple[str, str] | None:
    return None if exc is None else (type(exc).__name__, str(exc))

"""Scaffolding for tests/test_faults_ws_tls.py and tests/test_faults_tls.py.

Misbehaving peers on loopback: TCP resets, a TLS server driven over memory BIOs (so a
test decides when, and whether, close_notify goes out), and compressed payloads (HTTP
bodies, permessage-deflate messages) that inflate to hundreds of MiB, built in
milliseconds. Nothing here leaves the host.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import ssl
import struct
import zlib
from collections.abc import Awaitable, Callable
from typing import Any, Final

from .tcp_support import LoopbackServer

MIB: Final = 1 << 20

# --- TCP ----------------------------------------------------------------------------------


def reset(writer: asyncio.StreamWriter) -> None:
    """End the connection with a TCP RST instead of a FIN (SO_LINGER with a zero timeout)."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


# --- TLS over memory BIOs -------------------------------------------------------------------


class TLSConn:
    """The server end of one TLS connection, spoken over memory BIOs on a plain socket.

    Unlike an asyncio SSL transport, it never sends close_notify on its own: `fin` ends
    the TCP stream bare, `close_notify` shuts TLS down politely first.
    """

    def __init__(
        self, context: ssl.SSLContext, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        self._reader = reader
        self._writer = writer
        self._plain = bytearray()

    async def _flush(self) -> None:
        pending = self._outgoing.read()
        if pending:
            self._writer.write(pending)
            await self._writer.drain()

    async def _exchange(self) -> None:
        """Send what TLS produced, then feed it the client's next bytes (or EOF)."""
        await self._flush()
        try:
            data = await self._reader.read(65536)
        except ConnectionError:
            data = b""
        if data:
            self._incoming.write(data)
        else:
            self._incoming.write_eof()

    async def handshake(self) -> None:
        while True:
            try:
                self._tls.do_handshake()
            except ssl.SSLWantReadError:
                await self._exchange()
            else:
                await self._flush()
                return

    async def read_head(self) -> bytes:
        """The client's request head (a GET: no body follows)."""
        while b"\r\n\r\n" not in self._plain:
            try:
                self._plain += self._tls.read(65536)
            except ssl.SSLWantReadError:
                await self._exchange()
        end = self._plain.index(b"\r\n\r\n") + 4
        head = bytes(self._plain[:end])
        del self._plain[:end]
        return head

    async def send(self, data: bytes) -> None:
        self._tls.write(data)
        await self._flush()

    def fin(self) -> None:
        """Close TCP without close_notify."""
        self._writer.close()

    async def close_notify(self) -> None:
        """Send close_notify, then close TCP (without waiting for the client's answer)."""
        try:
            self._tls.unwrap()
        except ssl.SSLWantReadError:
            pass
        await self._flush()
        self._writer.close()


# Called with the connection and its index (0 for the first one the server accepted).
TLSScript = Callable[[TLSConn, int], Awaitable[None]]


class TLSPeer(LoopbackServer):
    """Runs `script` on every connection from the first byte: the script does the handshake."""

    scheme = "https"

    def __init__(self, context: ssl.SSLContext, script: TLSScript) -> None:
        super().__init__()
        self._context = context
        self._script = script
        self.connections = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index = self.connections
        self.connections += 1
        conn = TLSConn(self._context, reader, writer)
        try:
            await self._script(conn, index)
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()


def response(body: bytes, *, length: int | None = None, close: bool = False) -> bytes:
    """A 200 answer whose Content-Length is `length` (the body's own size unless given)."""
    size = len(body) if length is None else length
    connection = b"Connection: close\r\n" if close else b""
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (size, connection, body)


# --- compression bombs ------------------------------------------------------------------------

BOMB_SIZE: Final = 256 * MIB


def _flate_bomb(wbits: int) -> bytes:
    """256 MiB of zeros as gzip (wbits 31) or zlib (15), in about 1.1 MB, built in ms.

    Each MiB is compressed on its own after a full flush, so one compressed MiB can be
    repeated; the trailer (CRC-32 and size, or Adler-32) is written for the whole.
    """
    zeros = bytes(MIB)
    compressor = zlib.compressobj(1, zlib.DEFLATED, wbits)
    first = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    last_block = b"\x03\x00"  # an empty final block, as zlib ends a flushed stream
    count = BOMB_SIZE // MIB
    if wbits == 31:
        crc = 0
        for _ in range(count):
            crc = zlib.crc32(zeros, crc)
        trailer = struct.pack("<II", crc, BOMB_SIZE & 0xFFFFFFFF)
    else:
        adler = 1
        for _ in range(count):
            adler = zlib.adler32(zeros, adler)
        trailer = struct.pack(">I", adler)
    return first + again * (count - 1) + last_block + trailer


@functools.cache
def bomb(coding: str) -> bytes:
    """A body in `coding` that inflates to BOMB_SIZE zero bytes."""
    if coding in ("gzip", "deflate"):
        return _flate_bomb(31 if coding == "gzip" else 15)
    zeros = bytes(MIB)
    count = BOMB_SIZE // MIB
    if coding == "br":
        import brotli

        brotli_compressor: Any = brotli.Compressor(quality=1)
        parts = [brotli_compressor.process(zeros) for _ in range(count)]
        return b"".join(parts) + bytes(brotli_compressor.finish())
    assert coding == "zstd"
    from backports import zstd

    zstd_compressor: Any = zstd.ZstdCompressor(level=1)
    parts = [zstd_compressor.compress(zeros) for _ in range(count)]
    return b"".join(parts) + bytes(zstd_compressor.flush())


def deflated_message(size: int) -> bytes:
    """`size` zero bytes (whole MiB) as one permessage-deflate payload (RFC 7692 7.2.1).

    Built like `_flate_bomb`: one MiB compressed after a full flush, repeated; the
    message ends with that flush's 00 00 ff ff, which the sender leaves out.
    """
    assert size % MIB == 0
    compressor = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)
    one_mib = compressor.compress(bytes(MIB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert one_mib.endswith(b"\x00\x00\xff\xff")
    return (one_mib * (size // MIB))[:-4]

"""Tests for airhttp.http_writer: head serialisation, body framing, compression, flow control."""

from __future__ import annotations

import array
import asyncio
import gzip
import socket
import zlib
from typing import Any

import pytest
from multidict import CIMultiDict

from airhttp.base_protocol import BaseProtocol
from airhttp.client_exceptions import ClientConnectionResetError
from airhttp.http_writer import HttpVersion11, StreamWriter, serialize_headers

HEAD = "POST /upload HTTP/1.1"


class FakeTransport:
    """Records what is written; can pretend to be closing."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closing = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def writelines(self, parts: Any) -> None:
        self.writes.append(b"".join(bytes(p) for p in parts))

    def is_closing(self) -> bool:
        return self.closing

    @property
    def data(self) -> bytes:
        return b"".join(self.writes)


def make_writer(**kwargs: Any) -> tuple[StreamWriter, FakeTransport, BaseProtocol]:
    loop = asyncio.get_running_loop()
    protocol = BaseProtocol(loop)
    transport = FakeTransport()
    protocol.transport = transport  # type: ignore[assignment]
    return StreamWriter(protocol, loop, **kwargs), transport, protocol


def dechunk(data: bytes) -> bytes:
    """Undo chunked framing, insisting on exactly one terminating zero-size chunk."""
    out: list[bytes] = []
    while True:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            assert data == b"\r\n"
            return b"".join(out)
        assert size > 0
        out.append(data[:size])
        assert data[size : size + 2] == b"\r\n"
        data = data[size + 2 :]


# --- serialize_headers --------------------------------------------------------------------


def test_head_is_start_line_then_header_lines_then_blank_line() -> None:
    headers = CIMultiDict([("Host", "example.com"), ("X-Dup", "1"), ("X-Dup", "2")])
    assert serialize_headers("GET / HTTP/1.1", headers) == (
        b"GET / HTTP/1.1\r\nHost: example.com\r\nX-Dup: 1\r\nX-Dup: 2\r\n\r\n"
    )


def test_head_without_headers_is_start_line_and_blank_line() -> None:
    assert serialize_headers("GET / HTTP/1.1", {}) == b"GET / HTTP/1.1\r\n\r\n"


def test_head_is_utf8_encoded_and_keeps_tabs_and_non_ascii() -> None:
    head = serialize_headers("GET /caf\u00e9 HTTP/1.1", {"X-Name": "Jos\u00e9\tM\u00fcller\x85"})
    assert head == "GET /caf\u00e9 HTTP/1.1\r\nX-Name: Jos\u00e9\tM\u00fcller\x85\r\n\r\n".encode()


@pytest.mark.parametrize("char", ["\r", "\n", "\r\n", "\x00"])
@pytest.mark.parametrize("where", ["status line", "header name", "value of header"])
def test_cr_lf_and_nul_are_refused_everywhere_in_the_head(char: str, where: str) -> None:
    status, name, value = "GET / HTTP/1.1", "X-Test", "ok"
    if where == "status line":
        status = f"GET /a{char}b HTTP/1.1"
    elif where == "header name":
        name = f"X-{char}Test"
    else:
        value = f"o{char}k"
    with pytest.raises(ValueError, match=f"detected in HTTP {where}") as info:
        serialize_headers(status, CIMultiDict([("Host", "h"), (name, value)]))
    assert "injection" in str(info.value)
    if char != "\x00":
        assert str(info.value).startswith("Newline or carriage return character")


@pytest.mark.parametrize("char", ["\x01", "\x0b", "\x1f", "\x7f"])
def test_other_control_characters_are_refused_like_aiohttp(char: str) -> None:
    with pytest.raises(ValueError, match="Forbidden control character"):
        serialize_headers("GET / HTTP/1.1", {"X-Test": f"a{char}b"})


def test_non_str_header_value_is_a_type_error_like_aiohttp() -> None:
    with pytest.raises(TypeError):
        serialize_headers("GET / HTTP/1.1", {"Content-Length": 5})  # type: ignore[dict-item]


def test_injected_header_line_is_refused_even_when_it_looks_well_formed() -> None:
    with pytest.raises(ValueError, match="value of header 'X-A'"):
        serialize_headers("GET / HTTP/1.1", {"X-A": "1\r\nX-Injected: yes"})


def test_version_names_are_reexported() -> None:
    assert HttpVersion11 == (1, 1)


# --- head and body ------------------------------------------------------------------------


async def test_head_is_held_back_and_sent_with_the_first_body_chunk() -> None:
    writer, transport, _ = make_writer()
    await writer.write_headers(HEAD, CIMultiDict(Host="h"))
    assert transport.writes == []
    await writer.write(b"body")
    assert transport.writes == [b"POST /upload HTTP/1.1\r\nHost: h\r\n\r\nbody"]
    assert writer.output_size == len(transport.writes[0])


async def test_send_headers_flushes_the_head_once() -> None:
    writer, transport, _ = make_writer()
    await writer.write_headers(HEAD, CIMultiDict(Host="h"))
    writer.send_headers()
    writer.send_headers()
    await writer.write(b"x")
    assert transport.writes == [b"POST /upload HTTP/1.1\r\nHost: h\r\n\r\n", b"x"]


async def test_head_alone_goes_out_on_write_eof() -> None:
    writer, transport, _ = make_writer()
    await writer.write_headers("GET / HTTP/1.1", CIMultiDict(Host="h"))
    await writer.write_eof()
    assert transport.writes == [b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"]


async def test_empty_write_sends_the_held_back_head_but_no_body() -> None:
    writer, transport, _ = make_writer()
    writer.enable_chunking()
    await writer.write_headers("GET / HTTP/1.1", CIMultiDict(Host="h"))
    await writer.write(b"")
    assert transport.writes == [b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"]


async def test_head_with_forbidden_character_is_not_buffered() -> None:
    writer, transport, _ = make_writer()
    with pytest.raises(ValueError):
        await writer.write_headers(HEAD, CIMultiDict({"X": "a\nb"}))
    await writer.write_eof(b"x")
    assert transport.writes == [b"x"]


# --- chunked framing ----------------------------------------------------------------------


async def test_chunked_body_frames_each_chunk_and_ends_with_a_zero_chunk() -> None:
    writer, transport, _ = make_writer()
    writer.enable_chunking()
    await writer.write_headers(HEAD, CIMultiDict(Host="h"))
    await writer.write(b"abc")
    await writer.write(b"")
    await writer.write(b"x" * 255)
    await writer.write_eof(b"fg")
    head = b"POST /upload HTTP/1.1\r\nHost: h\r\n\r\n"
    assert transport.writes == [
        head + b"3\r\nabc\r\n",
        b"ff\r\n" + b"x" * 255 + b"\r\n",
        b"2\r\nfg\r\n0\r\n\r\n",
    ]


async def test_chunked_body_without_data_is_just_the_terminator() -> None:
    writer, transport, _ = make_writer()
    writer.enable_chunking()
    await writer.write_eof()
    assert transport.writes == [b"0\r\n\r\n"]


async def test_large_chunk_is_framed_correctly_through_writelines() -> None:
    writer, transport, _ = make_writer()
    writer.enable_chunking()
    await writer.write_headers(HEAD, CIMultiDict(Host="h"))
    big = bytes(range(256)) * 300
    await writer.write(big, drain=False)
    await writer.write_eof(big)
    head, _, body = transport.data.partition(b"\r\n\r\n")
    assert head == b"POST /upload HTTP/1.1\r\nHost: h"
    assert dechunk(body) == big + big
    assert writer.output_size == len(transport.data)


async def test_memoryview_of_wider_items_counts_bytes_not_items() -> None:
    writer, transport, _ = make_writer()
    writer.enable_chunking()
    items = memoryview(array.array("i", [1, 2, 3]))
    await writer.write(items)
    await writer.write_eof(memoryview(array.array("h", [4])))
    assert dechunk(transport.data) == items.tobytes() + array.array("h", [4]).tobytes()


# --- Content-Length -----------------------------------------------------------------------


async def test_bytes_past_the_announced_length_are_dropped() -> None:
    writer, transport, _ = make_writer()
    writer.length = 5
    await writer.write(b"hello world")
    await writer.write(b"more")
    await writer.write_eof(b"x")
    assert transport.data == b"hello"
    assert writer.length == 0


async def test_length_counts_down_while_it_is_not_reached() -> None:
    writer, transport, _ = make_writer()
    writer.length = 10
    await writer.write(b"abc")
    assert writer.length == 7
    await writer.write_eof(b"defg")
    assert writer.length == 3
    assert transport.data == b"abcdefg"


async def test_head_stays_held_back_when_the_length_is_already_used_up() -> None:
    writer, transport, _ = make_writer()
    await writer.write_headers(HEAD, CIMultiDict(Host="h"))
    writer.length = 0
    await writer.write(b"abc")
    assert transport.writes == []


# --- end of message -----------------------------------------------------------------------


async def test_write_eof_writes_only_once() -> None:
    writer, transport, _ = make_writer()
    writer.enable_chunking()
    await writer.write_eof(b"a")
    await writer.write_eof(b"b")
    assert transport.writes == [b"1\r\na\r\n0\r\n\r\n"]


async def test_set_eof_makes_write_eof_a_no_op() -> None:
    writer, transport, _ = make_writer()
    writer.enable_chunking()
    writer.set_eof()
    await writer.write_eof(b"y")
    assert transport.writes == []


# --- compression --------------------------------------------------------------------------


@pytest.mark.parametrize(("encoding", "wbits"), [("deflate", 15), ("gzip", 31)])
async def test_compressed_chunked_body_decodes_to_what_was_written(
    encoding: str, wbits: int
) -> None:
    writer, transport, _ = make_writer()
    writer.enable_compression(encoding)
    writer.enable_chunking()
    await writer.write_headers(HEAD, CIMultiDict(Host="h"))
    pieces = [b"abc" * 10, b"", b"z" * 10_000, bytes(range(256)) * 40]
    for piece in pieces:
        await writer.write(piece)
    await writer.write_eof(b"tail")
    _, _, body = transport.data.partition(b"\r\n\r\n")
    assert zlib.decompress(dechunk(body), wbits) == b"".join(pieces) + b"tail"


async def test_compressed_body_without_chunking_is_the_plain_stream() -> None:
    writer, transport, _ = make_writer()
    writer.enable_compression("gzip")
    await writer.write(b"hello " * 100)
    await writer.write_eof()
    assert gzip.decompress(transport.data) == b"hello " * 100


async def test_compression_honours_the_strategy() -> None:
    writer, transport, _ = make_writer()
    writer.enable_compression("deflate", strategy=zlib.Z_HUFFMAN_ONLY)
    data = b"abcabcabc" * 1000
    await writer.write_eof(data)
    assert zlib.decompress(transport.data) == data
    assert len(transport.data) > len(zlib.compress(data))


def test_unsupported_compression_is_refused() -> None:
    loop = asyncio.new_event_loop()
    try:
        writer = StreamWriter(BaseProtocol(loop), loop)
        with pytest.raises(ValueError, match="br"):
            writer.enable_compression("br")
    finally:
        loop.close()


# --- callbacks ----------------------------------------------------------------------------


async def test_tracing_callbacks_see_the_headers_and_every_uncompressed_chunk() -> None:
    seen: list[Any] = []

    async def on_chunk(chunk: Any) -> None:
        seen.append(("chunk", bytes(chunk)))

    async def on_headers(headers: Any) -> None:
        seen.append(("headers", dict(headers)))

    writer, _, _ = make_writer(on_chunk_sent=on_chunk, on_headers_sent=on_headers)
    writer.enable_compression("gzip")
    await writer.write_headers(HEAD, CIMultiDict(Host="h"))
    await writer.write(b"one")
    await writer.write(b"")
    await writer.write_eof(b"two")
    assert seen == [
        ("headers", {"Host": "h"}),
        ("chunk", b"one"),
        ("chunk", b""),
        ("chunk", b"two"),
    ]


# --- closed transports --------------------------------------------------------------------


async def test_writing_to_a_closing_transport_raises_connection_reset() -> None:
    writer, transport, _ = make_writer()
    transport.closing = True
    with pytest.raises(ClientConnectionResetError, match="Cannot write to closing transport"):
        await writer.write(b"abc")
    assert transport.writes == []


async def test_writing_after_the_connection_is_lost_raises_connection_reset() -> None:
    writer, _, protocol = make_writer()
    await writer.write_headers(HEAD, CIMultiDict(Host="h"))
    protocol.connection_lost(None)
    with pytest.raises(ClientConnectionResetError):
        writer.send_headers()
    assert writer.transport is None
    assert writer.protocol is protocol


async def test_write_eof_with_nothing_to_send_ignores_a_closing_transport() -> None:
    writer, transport, _ = make_writer()
    transport.closing = True
    await writer.write_eof()
    assert transport.writes == []


# --- flow control -------------------------------------------------------------------------


async def test_write_waits_for_drain_once_the_buffer_passes_the_limit() -> None:
    writer, transport, protocol = make_writer()
    protocol.pause_writing()
    await writer.write(b"a" * 100, LIMIT=1000)
    assert writer.buffer_size == 100
    task = asyncio.create_task(writer.write(b"b" * 1000, LIMIT=1000))
    await asyncio.sleep(0.01)
    assert not task.done()
    assert len(transport.data) == 1100
    protocol.resume_writing()
    await asyncio.wait_for(task, 1)
    assert writer.buffer_size == 0
    assert writer.output_size == 1100


async def test_write_eof_waits_until_the_transport_resumes_writing() -> None:
    writer, transport, protocol = make_writer()
    writer.enable_chunking()
    protocol.pause_writing()
    task = asyncio.create_task(writer.write_eof(b"end"))
    await asyncio.sleep(0.01)
    assert not task.done()
    assert transport.data == b"3\r\nend\r\n0\r\n\r\n"
    protocol.resume_writing()
    await asyncio.wait_for(task, 1)


async def test_write_with_drain_false_never_waits() -> None:
    writer, _, protocol = make_writer()
    protocol.pause_writing()
    await asyncio.wait_for(writer.write(b"a" * 200_000, drain=False), 1)
    assert writer.buffer_size == 200_000


async def test_drain_does_nothing_once_the_connection_is_gone() -> None:
    writer, _, protocol = make_writer()
    protocol.pause_writing()
    protocol.connection_lost(None)
    await asyncio.wait_for(writer.drain(), 1)


async def test_drain_blocks_while_the_peer_does_not_read_over_a_real_socket() -> None:
    loop = asyncio.get_running_loop()
    ours, theirs = socket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    theirs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    transport, protocol = await loop.create_connection(lambda: BaseProtocol(loop), sock=ours)
    reader, peer = await asyncio.open_connection(sock=theirs)
    task: asyncio.Task[None] | None = None
    try:
        transport.set_write_buffer_limits(high=16384)
        writer = StreamWriter(protocol, loop)
        writer.enable_chunking()
        chunk = b"x" * 65536

        async def send() -> None:
            for _ in range(16):
                await writer.write(chunk, LIMIT=16384)
            await writer.write_eof()

        task = asyncio.create_task(send())
        await asyncio.sleep(0.05)
        assert not task.done()
        assert protocol.writing_paused
        expected = 16 * (len(b"10000\r\n") + len(chunk) + 2) + len(b"0\r\n\r\n")
        received = await asyncio.wait_for(reader.readexactly(expected), 2)
        await asyncio.wait_for(task, 2)
        assert dechunk(received) == chunk * 16
        assert writer.output_size == len(received)
    finally:
        if task is not None and not task.done():
            task.cancel()
        transport.close()
        peer.close()
        await peer.wait_closed()

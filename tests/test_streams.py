"""Tests for airhttp.streams: StreamReader, EmptyStreamReader, DataQueue and friends."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airhttp.base_protocol import BaseProtocol
from airhttp.http_exceptions import LineTooLong
from airhttp.streams import (
    EMPTY_PAYLOAD,
    DataQueue,
    EmptyStreamReader,
    EofStream,
    FlowControlDataQueue,
    StreamReader,
)


class FakeProtocol(BaseProtocol):
    """Counts pause/resume calls; `on_resume` runs inside resume_reading()."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.pauses = 0
        self.resumes = 0
        self.on_resume: Callable[[], None] | None = None

    def pause_reading(self) -> None:
        self.pauses += 1

    def resume_reading(self) -> None:
        self.resumes += 1
        if self.on_resume is not None:
            self.on_resume()


@pytest.fixture
async def protocol() -> FakeProtocol:
    return FakeProtocol(asyncio.get_running_loop())


def make_reader(protocol: FakeProtocol, limit: int = 2**16) -> StreamReader:
    return StreamReader(protocol, limit, loop=asyncio.get_running_loop())


async def settle() -> None:
    """Let tasks started by the test run up to their next await."""
    for _ in range(3):
        await asyncio.sleep(0)


# --- read() ---------------------------------------------------------------------------


async def test_read_all_of_a_single_block_returns_that_block_without_copying(
    protocol: FakeProtocol,
) -> None:
    reader = make_reader(protocol)
    body = b"x" * 1000
    reader.feed_data(body)
    reader.feed_eof()
    assert await reader.read() is body
    assert reader.at_eof()


async def test_read_all_joins_every_block_fed_before_eof(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    for part in (b"ab", b"cd", b"ef"):
        reader.feed_data(part)
    reader.feed_eof()
    assert await reader.read() == b"abcdef"
    assert await reader.read() == b""


async def test_read_all_waits_for_eof(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    task = asyncio.ensure_future(reader.read())
    reader.feed_data(b"ab")
    await settle()
    assert not task.done()
    reader.feed_data(b"cd")
    reader.feed_eof()
    assert await task == b"abcd"


async def test_read_with_negative_n_reads_to_eof(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    reader.feed_data(b"abc")
    reader.feed_eof()
    assert await reader.read(-7) == b"abc"


async def test_read_n_returns_at_most_n_bytes_across_blocks(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    reader.feed_data(b"abc")
    reader.feed_data(b"defgh")
    reader.feed_data(b"i")
    assert await reader.read(2) == b"ab"
    assert await reader.read(2) == b"cd"
    assert await reader.read(5) == b"efghi"
    reader.feed_eof()
    assert await reader.read(5) == b""


async def test_read_n_returns_what_is_buffered_without_waiting_for_more(
    protocol: FakeProtocol,
) -> None:
    reader = make_reader(protocol)
    reader.feed_data(b"ab")
    assert await reader.read(100) == b"ab"


async def test_reading_a_block_exactly_leaves_nothing_buffered(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    reader.feed_data(b"ab")
    assert await reader.read(2) == b"ab"
    task = asyncio.ensure_future(reader.readany())
    await settle()
    assert not task.done()
    reader.feed_eof()
    assert await task == b""
    assert reader.at_eof()


async def test_read_zero_returns_empty_without_waiting(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    assert await reader.read(0) == b""


async def test_pending_read_is_woken_by_eof_with_empty_result(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    task = asyncio.ensure_future(reader.read(10))
    await settle()
    reader.feed_eof()
    assert await task == b""


async def test_feeding_empty_data_is_ignored(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    task = asyncio.ensure_future(reader.read(10))
    await settle()
    reader.feed_data(b"")
    await settle()
    assert not task.done()
    assert reader.total_bytes == 0
    reader.feed_data(b"z")
    assert await task == b"z"


async def test_reader_without_explicit_loop_waits_on_the_running_loop(
    protocol: FakeProtocol,
) -> None:
    reader = StreamReader(protocol, 16)
    task = asyncio.ensure_future(reader.readany())
    await settle()
    reader.feed_data(b"late")
    assert await task == b"late"


# --- readany() ------------------------------------------------------------------------


async def test_readany_returns_every_buffered_block_joined(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    reader.feed_data(b"abc")
    reader.feed_data(b"def")
    assert await reader.readany() == b"abcdef"


async def test_readany_returns_rest_after_partial_read(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    reader.feed_data(b"abc")
    reader.feed_data(b"def")
    assert await reader.read(1) == b"a"
    assert await reader.readany() == b"bcdef"


async def test_readany_waits_for_data_and_returns_empty_at_eof(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    task = asyncio.ensure_future(reader.readany())
    await settle()
    assert not task.done()
    reader.feed_data(b"x")
    assert await task == b"x"
    reader.feed_eof()
    assert await reader.readany() == b""


# --- exceptions -------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["read", "readany", "readline", "readchunk"])
async def test_stored_exception_is_raised_even_with_buffered_data(
    protocol: FakeProtocol, method: str
) -> None:
    reader = make_reader(protocol)
    reader.feed_data(b"abc\n")
    exc = ValueError("broken")
    reader.set_exception(exc)
    with pytest.raises(ValueError) as info:
        await getattr(reader, method)()
    assert info.value is exc
    with pytest.raises(ValueError):
        await reader.readexactly(1)
    with pytest.raises(ValueError):
        reader.read_nowait()
    assert reader.exception() is exc
    assert not reader.is_eof()


async def test_pending_read_is_woken_by_exception_with_its_cause(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    task = asyncio.ensure_future(reader.read(1))
    await settle()
    cause = OSError("reset")
    reader.set_exception(ValueError("boom"), cause)
    with pytest.raises(ValueError, match="boom") as info:
        await task
    assert info.value.__cause__ is cause


async def test_exception_raised_while_waiting_mid_readexactly(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    task = asyncio.ensure_future(reader.readexactly(10))
    reader.feed_data(b"abc")
    await settle()
    reader.set_exception(ValueError("gone"))
    with pytest.raises(ValueError, match="gone"):
        await task


# --- readline() / readuntil() ---------------------------------------------------------


async def test_readline_splits_lines_and_returns_tail_at_eof(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    reader.feed_data(b"ab\ncd")
    reader.feed_data(b"ef\r\n")
    reader.feed_data(b"gh")
    assert await reader.readline() == b"ab\n"
    assert await reader.readline() == b"cdef\r\n"
    task = asyncio.ensure_future(reader.readline())
    await settle()
    assert not task.done()
    reader.feed_eof()
    assert await task == b"gh"
    assert await reader.readline() == b""


async def test_readline_waits_for_the_rest_of_a_line(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    task = asyncio.ensure_future(reader.readline())
    for part in (b"a", b"b", b"c\nnext"):
        reader.feed_data(part)
        await settle()
    assert await task == b"abc\n"
    assert reader.read_nowait() == b"next"


@pytest.mark.parametrize("cut", range(1, 9))
async def test_readuntil_finds_separator_at_every_block_split(
    protocol: FakeProtocol, cut: int
) -> None:
    reader = make_reader(protocol)
    data = b"ab\r\ncd\r\n"
    reader.feed_data(data[:cut])
    reader.feed_data(data[cut:])
    reader.feed_eof()
    assert await reader.readuntil(b"\r\n") == b"ab\r\n"
    assert await reader.readuntil(b"\r\n") == b"cd\r\n"
    assert await reader.readuntil(b"\r\n") == b""


async def test_readuntil_finds_separator_fed_byte_by_byte(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    for byte in b"abcXYZdefXY":
        reader.feed_data(bytes([byte]))
    reader.feed_data(b"Z")
    assert await reader.readuntil(b"XYZ") == b"abcXYZ"
    assert await reader.readuntil(b"XYZ") == b"defXYZ"


async def test_readuntil_ignores_partial_separator_matches(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    reader.feed_data(b"aXY")
    reader.feed_data(b"bXYZ")
    assert await reader.readuntil(b"XYZ") == b"aXYbXYZ"


async def test_readuntil_with_empty_separator_is_rejected(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    with pytest.raises(ValueError, match="Separator should be at least one-byte string"):
        await reader.readuntil(b"")


async def test_line_longer_than_high_water_raises_and_skips_past_it(
    protocol: FakeProtocol,
) -> None:
    reader = make_reader(protocol, limit=4)
    reader.feed_data(b"ab")
    reader.feed_data(b"cdefghij\nrest")
    with pytest.raises(LineTooLong) as info:
        await reader.readline()
    assert info.value.args == (b"abcdefghij\n...", 8, "Unknown")
    assert reader.read_nowait() == b"rest"


async def test_line_too_long_quotes_only_its_first_hundred_bytes(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol, limit=4)
    reader.feed_data(b"x" * 300 + b"\n")
    with pytest.raises(LineTooLong) as info:
        await reader.readline()
    assert info.value.args[0] == b"x" * 100 + b"..."


async def test_line_of_exactly_high_water_bytes_is_accepted(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol, limit=4)
    reader.feed_data(b"abcdefg\n")
    assert await reader.readline() == b"abcdefg\n"


async def test_unterminated_line_over_the_limit_raises_without_waiting(
    protocol: FakeProtocol,
) -> None:
    reader = make_reader(protocol, limit=4)
    reader.feed_data(b"abcdefghij")
    with pytest.raises(LineTooLong):
        await reader.readline()
    assert reader.read_nowait() == b""


async def test_readline_max_line_length_overrides_the_limit(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    reader.feed_data(b"ab\ncdef\n")
    assert await reader.readline(max_line_length=3) == b"ab\n"
    with pytest.raises(LineTooLong):
        await reader.readline(max_line_length=3)


async def test_readuntil_max_size_above_high_water_does_not_stall(
    protocol: FakeProtocol,
) -> None:
    reader = make_reader(protocol, limit=4)
    task = asyncio.ensure_future(reader.readuntil(b"!", max_size=100))
    for _ in range(10):
        reader.feed_data(b"abcdef")
        await settle()
    reader.feed_data(b"!")
    assert await task == b"abcdef" * 10 + b"!"
    assert protocol.pauses == protocol.resumes


# --- readexactly() ----------------------------------------------------------------------


async def test_readexactly_collects_across_blocks(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    task = asyncio.ensure_future(reader.readexactly(5))
    reader.feed_data(b"ab")
    await settle()
    assert not task.done()
    reader.feed_data(b"cdef")
    assert await task == b"abcde"
    assert reader.read_nowait() == b"f"


async def test_readexactly_at_early_eof_raises_with_partial(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    reader.feed_data(b"abc")
    reader.feed_data(b"def")
    assert await reader.readexactly(4) == b"abcd"
    reader.feed_eof()
    with pytest.raises(asyncio.IncompleteReadError) as info:
        await reader.readexactly(4)
    assert info.value.partial == b"ef"
    assert info.value.expected == 4


async def test_readexactly_zero_returns_empty(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    assert await reader.readexactly(0) == b""


async def test_readexactly_more_than_high_water_completes(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol, limit=2)
    task = asyncio.ensure_future(reader.readexactly(20))
    for _ in range(20):
        reader.feed_data(b"x")
        await settle()
    assert await task == b"x" * 20


# --- readchunk() ----------------------------------------------------------------------


async def test_readchunk_without_boundaries_returns_one_block_at_a_time(
    protocol: FakeProtocol,
) -> None:
    reader = make_reader(protocol)
    reader.feed_data(b"ab")
    reader.feed_data(b"cd")
    assert await reader.readchunk() == (b"ab", False)
    assert await reader.readchunk() == (b"cd", False)
    reader.feed_eof()
    assert await reader.readchunk() == (b"", False)


async def test_readchunk_returns_whole_http_chunks(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    reader.begin_http_chunk_receiving()
    reader.feed_data(b"ab")
    reader.feed_data(b"cd")
    reader.end_http_chunk_receiving()
    reader.begin_http_chunk_receiving()
    reader.feed_data(b"ef")
    reader.end_http_chunk_receiving()
    reader.begin_http_chunk_receiving()
    reader.feed_data(b"gh")
    assert await reader.readchunk() == (b"abcd", True)
    assert await reader.readchunk() == (b"ef", True)
    assert await reader.readchunk() == (b"gh", False)
    reader.end_http_chunk_receiving()
    reader.feed_eof()
    assert await reader.readchunk() == (b"", True)
    assert await reader.readchunk() == (b"", False)


async def test_readchunk_skips_boundaries_a_plain_read_went_past(
    protocol: FakeProtocol,
) -> None:
    reader = make_reader(protocol)
    for part in (b"ab", b"cd"):
        reader.begin_http_chunk_receiving()
        reader.feed_data(part)
        reader.end_http_chunk_receiving()
    assert await reader.read(3) == b"abc"
    assert await reader.readchunk() == (b"d", True)


async def test_parked_readchunk_is_woken_by_chunk_end(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    reader.begin_http_chunk_receiving()
    reader.feed_data(b"ab")
    assert await reader.readchunk() == (b"ab", False)
    task = asyncio.ensure_future(reader.readchunk())
    await settle()
    assert not task.done()
    reader.end_http_chunk_receiving()
    assert await task == (b"", True)


async def test_parked_read_is_not_ended_by_chunk_end(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    reader.begin_http_chunk_receiving()
    reader.feed_data(b"ab")
    assert await reader.read(2) == b"ab"
    task = asyncio.ensure_future(reader.read(5))
    await settle()
    reader.end_http_chunk_receiving()
    await settle()
    assert not task.done()
    reader.feed_data(b"cd")
    assert await task == b"cd"


async def test_empty_http_chunk_adds_no_boundary(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    reader.begin_http_chunk_receiving()
    reader.feed_data(b"ab")
    reader.end_http_chunk_receiving()
    assert await reader.readchunk() == (b"ab", True)
    reader.begin_http_chunk_receiving()
    reader.end_http_chunk_receiving()
    reader.feed_eof()
    assert await reader.readchunk() == (b"", False)


async def test_chunk_boundaries_must_be_announced_before_data(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    with pytest.raises(RuntimeError, match="without calling begin"):
        reader.end_http_chunk_receiving()
    reader.feed_data(b"x")
    with pytest.raises(RuntimeError, match="some data was already fed"):
        reader.begin_http_chunk_receiving()


# --- read_nowait() --------------------------------------------------------------------


async def test_read_nowait_takes_up_to_n_then_all(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    assert reader.read_nowait() == b""
    reader.feed_data(b"abc")
    reader.feed_data(b"def")
    assert reader.read_nowait(2) == b"ab"
    assert reader.read_nowait(2) == b"cd"
    assert reader.read_nowait() == b"ef"
    assert reader.read_nowait() == b""


async def test_read_nowait_while_a_read_is_parked_is_refused(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    task = asyncio.ensure_future(reader.read(1))
    await settle()
    with pytest.raises(RuntimeError, match="waiting for incoming data"):
        reader.read_nowait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


# --- iteration --------------------------------------------------------------------------


async def test_iter_chunked_yields_pieces_of_at_most_n_bytes(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    reader.feed_data(b"abcde")
    reader.feed_data(b"fg")
    reader.feed_eof()
    assert [piece async for piece in reader.iter_chunked(3)] == [b"abc", b"def", b"g"]


async def test_iter_chunked_follows_a_live_producer(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)

    async def produce() -> None:
        for part in (b"abcdef", b"g", b"hi"):
            reader.feed_data(part)
            await asyncio.sleep(0)
        reader.feed_eof()

    producer = asyncio.ensure_future(produce())
    pieces = [piece async for piece in reader.iter_chunked(4)]
    await producer
    assert b"".join(pieces) == b"abcdefghi"
    assert all(0 < len(piece) <= 4 for piece in pieces)


async def test_iter_any_yields_everything_buffered(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    reader.feed_data(b"abcde")
    reader.feed_data(b"fg")
    reader.feed_eof()
    assert [piece async for piece in reader.iter_any()] == [b"abcdefg"]


async def test_iter_chunks_yields_tuples_until_eof(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    reader.begin_http_chunk_receiving()
    reader.feed_data(b"ab")
    reader.end_http_chunk_receiving()
    reader.begin_http_chunk_receiving()
    reader.feed_data(b"cd")
    reader.feed_eof()
    assert [c async for c in reader.iter_chunks()] == [(b"ab", True), (b"cd", False)]


async def test_async_for_yields_lines(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    reader.feed_data(b"a\nb")
    reader.feed_data(b"c\nd")
    reader.feed_eof()
    assert [line async for line in reader] == [b"a\n", b"bc\n", b"d"]


# --- one reader at a time, cancellation --------------------------------------------------


async def test_second_concurrent_reader_is_refused(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    first = asyncio.ensure_future(reader.read(1))
    await settle()
    with pytest.raises(RuntimeError) as info:
        await reader.readany()
    assert str(info.value) == (
        "readany() called while another coroutine is already waiting for incoming data"
    )
    reader.feed_data(b"x")
    assert await first == b"x"


async def test_cancelled_read_leaves_reader_usable(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    task = asyncio.ensure_future(reader.read(1))
    await settle()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    reader.feed_data(b"x")
    assert await reader.read(1) == b"x"


async def test_timed_out_readline_keeps_the_partial_line(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    reader.feed_data(b"ab")
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(reader.readline(), 0.01)
    reader.feed_data(b"c\n")
    assert await reader.readline() == b"abc\n"


async def test_cancelled_read_all_keeps_what_it_had_taken(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    task = asyncio.ensure_future(reader.read())
    reader.feed_data(b"ab")
    await settle()
    reader.feed_data(b"cd")
    await settle()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert reader.read_nowait() == b"abcd"


async def test_read_all_after_a_partial_read_takes_the_rest_of_every_block(
    protocol: FakeProtocol,
) -> None:
    reader = make_reader(protocol)
    reader.feed_data(b"abcdef")
    reader.feed_data(b"gh")
    assert await reader.read(2) == b"ab"
    task = asyncio.ensure_future(reader.read())
    await settle()
    reader.feed_data(b"ij")
    reader.feed_eof()
    assert await task == b"cdefghij"
    assert reader.at_eof()


async def test_cancelled_readexactly_keeps_what_it_had_taken(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    task = asyncio.ensure_future(reader.readexactly(4))
    reader.feed_data(b"ab")
    await settle()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    reader.feed_data(b"cd")
    assert await reader.readexactly(4) == b"abcd"


async def test_cancellation_racing_a_wakeup_keeps_all_data(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    task = asyncio.ensure_future(reader.readline())
    reader.feed_data(b"ab")
    await settle()
    reader.feed_data(b"cd")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    reader.feed_data(b"\n")
    assert await reader.readline() == b"abcd\n"


# --- flow control -----------------------------------------------------------------------


async def test_protocol_is_paused_only_past_the_high_water_mark(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol, limit=4)
    reader.feed_data(b"abc")
    reader.feed_data(b"defgh")
    assert protocol.pauses == 0
    reader.feed_data(b"i")
    assert protocol.pauses == 1
    reader.feed_data(b"j")
    assert protocol.pauses == 1


async def test_protocol_is_resumed_only_below_the_low_water_mark(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol, limit=4)
    reader.feed_data(b"abcdefghi")
    assert await reader.read(2) == b"ab"
    assert await reader.read(3) == b"cde"
    assert protocol.resumes == 0
    assert await reader.read(1) == b"f"
    assert protocol.resumes == 1
    assert await reader.read(1) == b"g"
    assert protocol.resumes == 1


@pytest.mark.parametrize(
    "consume",
    [
        lambda r: r.read(),
        lambda r: r.readany(),
        lambda r: r.readchunk(),
        lambda r: r.readline(max_line_length=9),
        lambda r: r.readexactly(9),
        lambda r: r.iter_chunked(9).__anext__(),
    ],
)
async def test_every_read_method_resumes_a_paused_protocol(
    protocol: FakeProtocol, consume: Callable[[StreamReader], object]
) -> None:
    reader = make_reader(protocol, limit=4)
    reader.feed_data(b"abcdefgh\n")
    reader.feed_eof()
    assert protocol.pauses == 1
    await consume(reader)  # type: ignore[misc]
    assert protocol.resumes == 1


async def test_resume_may_feed_more_data_reentrantly(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol, limit=4)
    pending = [b"klmnopqrst", b"uvw"]

    def push() -> None:
        # Like a decompressor: resuming pushes its backlog in synchronously.
        while pending and protocol.pauses == protocol.resumes:
            reader.feed_data(pending.pop(0))
        if not pending and not reader.is_eof():
            reader.feed_eof()

    protocol.on_resume = push
    reader.feed_data(b"abcdefghij")
    assert protocol.pauses == 1
    assert await reader.read(7) == b"abcdefg"
    assert protocol.resumes == 1
    assert protocol.pauses == 2
    assert await reader.read() == b"hijklmnopqrstuvw"
    assert reader.total_bytes == 23


async def test_reentrant_feed_during_readuntil_keeps_byte_order(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol, limit=1)

    def push() -> None:
        protocol.on_resume = None
        reader.feed_data(b"3x")
        reader.feed_data(b"cd\nef")

    protocol.on_resume = push
    reader.feed_data(b"ab")
    reader.feed_data(b"12")
    assert protocol.pauses == 1
    assert await reader.readuntil(b"x", max_size=20) == b"ab123x"
    assert protocol.pauses == 2
    assert await reader.readline(max_line_length=10) == b"cd\n"
    assert reader.read_nowait() == b"ef"


async def test_restoring_a_cancelled_read_repauses_the_protocol(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol, limit=2)
    task = asyncio.ensure_future(reader.read())
    reader.feed_data(b"abcdef")
    await settle()
    assert protocol.pauses == 1
    assert protocol.resumes == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert protocol.pauses == 2
    assert reader.read_nowait() == b"abcdef"
    assert protocol.resumes == 2


async def test_eof_resumes_a_paused_protocol_but_an_exception_does_not(
    protocol: FakeProtocol,
) -> None:
    reader = make_reader(protocol, limit=2)
    reader.feed_data(b"abcdef")
    reader.set_exception(ValueError())
    assert (protocol.pauses, protocol.resumes) == (1, 0)
    reader = make_reader(protocol, limit=2)
    reader.feed_data(b"abcdef")
    reader.feed_eof()
    assert (protocol.pauses, protocol.resumes) == (2, 1)
    assert await reader.read() == b"abcdef"
    assert protocol.resumes == 1


async def test_read_buffer_limits_are_limit_and_twice_limit(protocol: FakeProtocol) -> None:
    assert make_reader(protocol, limit=10).get_read_buffer_limits() == (10, 20)


# --- eof, callbacks, bookkeeping -------------------------------------------------------------


async def test_is_eof_and_at_eof_differ_while_data_is_buffered(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    reader.feed_data(b"ab")
    reader.feed_eof()
    assert reader.is_eof()
    assert not reader.at_eof()
    assert await reader.read(1) == b"a"
    assert not reader.at_eof()
    assert await reader.read(5) == b"b"
    assert reader.at_eof()


async def test_on_eof_runs_once_at_eof_or_at_once_if_already_there(
    protocol: FakeProtocol,
) -> None:
    reader = make_reader(protocol)
    calls: list[int] = []
    reader.on_eof(lambda: calls.append(1))
    assert calls == []
    reader.feed_eof()
    reader.feed_eof()
    assert calls == [1]
    reader.on_eof(lambda: calls.append(2))
    assert calls == [1, 2]


async def test_failing_eof_callback_is_logged_not_raised(
    protocol: FakeProtocol, caplog: pytest.LogCaptureFixture
) -> None:
    reader = make_reader(protocol)
    calls: list[int] = []

    def broken() -> None:
        raise KeyError("listener bug")

    reader.on_eof(broken)
    reader.on_eof(lambda: calls.append(1))
    with caplog.at_level(logging.ERROR, logger="airhttp.internal"):
        reader.feed_eof()
    assert calls == [1]
    assert "Exception in eof callback" in caplog.text


async def test_set_exception_drops_eof_callbacks(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    calls: list[int] = []
    reader.on_eof(lambda: calls.append(1))
    reader.set_exception(ValueError())
    reader.feed_eof()
    assert calls == []
    assert reader.is_eof()


async def test_wait_eof_returns_once_eof_is_fed(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    task = asyncio.ensure_future(reader.wait_eof())
    reader.feed_data(b"a")
    await settle()
    assert not task.done()
    reader.feed_eof()
    await task
    await reader.wait_eof()
    assert reader.read_nowait() == b"a"


async def test_wait_eof_raises_the_stream_exception(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    task = asyncio.ensure_future(reader.wait_eof())
    await settle()
    reader.set_exception(ValueError("parked"))
    with pytest.raises(ValueError, match="parked"):
        await task
    with pytest.raises(ValueError, match="parked"):
        await reader.wait_eof()


async def test_unread_data_warns_and_is_read_first(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    reader.feed_data(b"abc")
    assert await reader.read(2) == b"ab"
    with pytest.warns(DeprecationWarning, match="unread_data"):
        reader.unread_data(b"zz")
    assert reader.read_nowait() == b"zzc"
    assert reader.total_bytes == 3


async def test_total_bytes_counts_everything_fed(protocol: FakeProtocol) -> None:
    reader = make_reader(protocol)
    reader.feed_data(b"abc")
    reader.feed_data(b"de")
    assert reader.read_nowait() == b"abcde"
    assert reader.total_bytes == 5


async def test_repr_shows_size_eof_limits_and_exception(protocol: FakeProtocol) -> None:
    assert repr(make_reader(protocol)) == "<StreamReader>"
    reader = make_reader(protocol, limit=2)
    reader.feed_data(b"12345")
    reader.feed_eof()
    assert repr(reader) == "<StreamReader 5 bytes eof low=2 high=4>"
    reader.set_exception(ValueError("q"))
    assert repr(reader) == "<StreamReader 5 bytes eof low=2 high=4 e=ValueError('q')>"


# --- any mix of reads hands out every byte once, in order ------------------------------

_READ_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("read"), st.integers(1, 12)),
        st.tuples(st.just("readexactly"), st.integers(0, 12)),
        st.tuples(st.just("read_nowait"), st.integers(-1, 12)),
        st.tuples(st.just("readline"), st.just(0)),
        st.tuples(st.just("readuntil"), st.just(0)),
        st.tuples(st.just("readany"), st.just(0)),
        st.tuples(st.just("readchunk"), st.just(0)),
    ),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(blocks=st.lists(st.binary(min_size=1, max_size=10), max_size=8), ops=_READ_OPS)
def test_mixed_reads_return_every_byte_once_in_order(
    blocks: list[bytes], ops: list[tuple[str, int]]
) -> None:
    async def scenario() -> bytes:
        protocol = FakeProtocol(asyncio.get_running_loop())
        reader = make_reader(protocol, limit=4)
        for block in blocks:
            reader.feed_data(block)
        reader.feed_eof()
        out = []
        for name, arg in ops:
            if name == "read":
                out.append(await reader.read(arg))
            elif name == "readexactly":
                try:
                    out.append(await reader.readexactly(arg))
                except asyncio.IncompleteReadError as exc:
                    out.append(exc.partial)
            elif name == "read_nowait":
                out.append(reader.read_nowait(arg))
            elif name in ("readline", "readuntil"):
                # Blocks hold at most 80 bytes, so max_size=99 never trips.
                separator = b"\n" if name == "readline" else b"\n\x00"
                out.append(await reader.readuntil(separator, max_size=99))
            elif name == "readany":
                out.append(await reader.readany())
            else:
                out.append((await reader.readchunk())[0])
        out.append(await reader.read())
        assert reader.at_eof()
        assert reader.total_bytes == sum(map(len, blocks))
        return b"".join(out)

    assert asyncio.run(scenario()) == b"".join(blocks)


# --- EmptyStreamReader ------------------------------------------------------------------


async def test_empty_stream_reader_is_always_at_eof() -> None:
    reader = EmptyStreamReader()
    assert reader.is_eof()
    assert reader.at_eof()
    assert await reader.read() == b""
    assert await reader.read(5) == b""
    assert await reader.readany() == b""
    assert await reader.readline() == b""
    assert await reader.readuntil(b"--") == b""
    assert reader.read_nowait() == b""
    assert await reader.readchunk() == (b"", False)
    assert await reader.readchunk() == (b"", False)
    await reader.wait_eof()
    assert reader.total_bytes == 0
    assert repr(reader) == "<EmptyStreamReader>"


async def test_empty_stream_reader_ignores_feeding_and_errors() -> None:
    reader = EmptyStreamReader()
    reader.feed_data(b"x")
    reader.set_exception(ValueError())
    assert reader.exception() is None
    assert await reader.read() == b""
    calls: list[int] = []
    reader.on_eof(lambda: calls.append(1))
    assert calls == [1]


async def test_empty_stream_reader_readexactly_raises_incomplete_read() -> None:
    with pytest.raises(asyncio.IncompleteReadError) as info:
        await EMPTY_PAYLOAD.readexactly(3)
    assert info.value.partial == b""
    assert info.value.expected == 3


async def test_empty_payload_iterates_to_nothing_every_time() -> None:
    assert isinstance(EMPTY_PAYLOAD, EmptyStreamReader)
    for _ in range(2):
        assert [c async for c in EMPTY_PAYLOAD.iter_chunks()] == []
        assert [line async for line in EMPTY_PAYLOAD] == []
        assert [c async for c in EMPTY_PAYLOAD.iter_chunked(4)] == []


# --- DataQueue / FlowControlDataQueue ------------------------------------------------------


async def test_data_queue_hands_out_items_in_order_then_eofstream() -> None:
    queue: DataQueue[object] = DataQueue(asyncio.get_running_loop())
    queue.feed_data("a")
    queue.feed_data(b"")
    queue.feed_data(3)
    assert len(queue) == 3
    queue.feed_eof()
    assert queue.is_eof()
    assert not queue.at_eof()
    assert [await queue.read() for _ in range(3)] == ["a", b"", 3]
    assert queue.at_eof()
    with pytest.raises(EofStream):
        await queue.read()


async def test_data_queue_returns_buffered_items_before_its_exception() -> None:
    queue: DataQueue[str] = DataQueue(asyncio.get_running_loop())
    queue.feed_data("x")
    queue.set_exception(ValueError("v"))
    assert queue.is_eof()
    assert await queue.read() == "x"
    with pytest.raises(ValueError, match="v"):
        await queue.read()


async def test_data_queue_parked_read_is_woken_by_feed_eof_and_exception() -> None:
    loop = asyncio.get_running_loop()
    queue: DataQueue[str] = DataQueue(loop)
    task = asyncio.ensure_future(queue.read())
    await settle()
    queue.feed_data("item")
    assert await task == "item"

    task = asyncio.ensure_future(queue.read())
    await settle()
    queue.feed_eof()
    with pytest.raises(EofStream):
        await task

    queue = DataQueue(loop)
    task = asyncio.ensure_future(queue.read())
    await settle()
    cause = OSError("c")
    queue.set_exception(ValueError("v"), cause)
    with pytest.raises(ValueError) as info:
        await task
    assert info.value.__cause__ is cause


async def test_data_queue_refuses_a_second_reader_and_survives_cancel() -> None:
    queue: DataQueue[str] = DataQueue(asyncio.get_running_loop())
    task = asyncio.ensure_future(queue.read())
    await settle()
    with pytest.raises(RuntimeError, match="already waiting"):
        await queue.read()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    queue.feed_data("z")
    assert await queue.read() == "z"


async def test_data_queue_async_iteration_stops_only_at_eof() -> None:
    queue: DataQueue[bytes] = DataQueue(asyncio.get_running_loop())
    for item in (b"a", b"", b"b"):
        queue.feed_data(item)
    queue.feed_eof()
    assert [item async for item in queue] == [b"a", b"", b"b"]


async def test_flow_control_queue_pauses_past_twice_limit_and_resumes_below(
    protocol: FakeProtocol,
) -> None:
    queue: FlowControlDataQueue[bytes] = FlowControlDataQueue(
        protocol, 4, loop=asyncio.get_running_loop()
    )
    queue.feed_data(b"abc", 3)
    queue.feed_data(b"defgh", 5)
    assert protocol.pauses == 0
    queue.feed_data(b"i", 1)
    assert protocol.pauses == 1
    assert await queue.read() == b"abc"
    assert protocol.resumes == 1
    assert await queue.read() == b"defgh"
    assert protocol.resumes == 1
    queue.feed_eof()
    assert await queue.read() == b"i"
    with pytest.raises(EofStream):
        await queue.read()


async def test_flow_control_queue_ignores_items_fed_without_size(
    protocol: FakeProtocol,
) -> None:
    queue: FlowControlDataQueue[str] = FlowControlDataQueue(
        protocol, 1, loop=asyncio.get_running_loop()
    )
    for _ in range(50):
        queue.feed_data("x" * 100)
    assert protocol.pauses == 0
    assert len(queue) == 50

"""HTTP/2 edge cases found in review: one read carrying several verdicts, servers that
allow no stream, and what a stream gives back when it ends early."""

from __future__ import annotations

import asyncio
from typing import Any

import h2.settings
import pytest
from hyperframe.frame import RstStreamFrame, WindowUpdateFrame

import airhttp

from .h2_support import ErrorCode, H2Stream, RawH2Factory, raw_h2, until
from .test_http2_faults_conn import echo_path, fetch, session_for

__all__ = ["raw_h2"]  # fixtures used below


async def test_window_update_and_reset_in_one_read_fail_one_upload(raw_h2: RawH2Factory) -> None:
    """h2 takes the whole read first: the window opens on a stream already reset."""

    async def handler(stream: H2Stream) -> None:
        if stream.path == "/up":
            await until(lambda: len(stream.body) >= 1000)
            update = WindowUpdateFrame(stream.stream_id, window_increment=2**16).serialize()
            reset = RstStreamFrame(stream.stream_id, error_code=ErrorCode.INTERNAL_ERROR)
            stream.connection.send_raw(update + reset.serialize())
            return
        await echo_path(stream)

    server = await raw_h2(handler, initial_window=1000, window_updates=False)
    async with session_for(server) as session:
        with pytest.raises(airhttp.ServerDisconnectedError, match="INTERNAL_ERROR"):
            await session.post(server.url / "up", data=b"x" * 2**17)
        assert await fetch(session, "GET", server.url / "next") == (200, "/next")
    assert server.connections == 1


async def test_wrong_content_length_fails_its_stream_only(raw_h2: RawH2Factory) -> None:
    """RFC 9113 8.1.1: a body that disagrees with Content-Length is a stream error."""

    async def handler(stream: H2Stream) -> None:
        if stream.path == "/short":
            await stream.send_headers(200, [("content-length", "10")])
            await asyncio.sleep(0.05)  # the head first, read by itself
            await stream.send_data(b"abc", end_stream=True)
            return
        await echo_path(stream)

    server = await raw_h2(handler)
    async with session_for(server) as session:
        async with session.get(server.url / "short") as resp:
            with pytest.raises(airhttp.ClientPayloadError, match="ContentLengthError"):
                await resp.read()
        assert await fetch(session, "GET", server.url / "next") == (200, "/next")
    assert server.connections == 1


async def test_a_server_allowing_no_stream_fails_requests_instead_of_hanging(
    raw_h2: RawH2Factory,
) -> None:
    server = await raw_h2(echo_path, max_concurrent_streams=0)
    async with session_for(server) as session:
        timeout = airhttp.ClientTimeout(total=3)
        with pytest.raises(airhttp.ServerDisconnectedError, match="refused"):
            await asyncio.gather(
                *(session.get(server.url / str(i), timeout=timeout) for i in range(3))
            )


async def test_a_server_raising_its_stream_cap_lets_queued_requests_go(
    raw_h2: RawH2Factory,
) -> None:
    """Requests queued at a cap of 1 start as soon as SETTINGS raise it, not when the
    first stream ends: here the first answers only once all five are in."""
    server: Any = None
    queued = asyncio.Event()

    async def handler(stream: H2Stream) -> None:
        if stream.path == "/first":
            await queued.wait()
            server.max_concurrent_streams = 10  # what the scripted server enforces
            settings = {h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 10}
            stream.connection.h2.update_settings(settings)
            stream.connection.flush()
            await until(lambda: len(server.streams) == 5, timeout=2.0)
        await echo_path(stream)

    server = await raw_h2(handler, max_concurrent_streams=1)
    async with session_for(server) as session:
        first = asyncio.ensure_future(fetch(session, "GET", server.url / "first"))
        await until(lambda: len(server.streams) == 1)
        rest = [asyncio.ensure_future(fetch(session, "GET", server.url / str(i))) for i in range(4)]
        await asyncio.sleep(0.1)  # all four wait for a stream by now
        queued.set()
        assert await asyncio.gather(first, *rest) == [
            (200, "/first"),
            *((200, f"/{i}") for i in range(4)),
        ]
    assert server.connections == 1
    assert server.peak_streams == 5


@pytest.mark.parametrize("answer", ["after-the-body", "early"])
async def test_an_upload_tracker_knows_whether_a_windowed_body_all_went(
    raw_h2: RawH2Factory, answer: str
) -> None:
    """A body beyond the server's 64 KiB window waits for WINDOW_UPDATEs, and a whole
    answer releases its stream at once: the tracker still tells a body that all went
    (read, then answered) from one an early answer cut short."""
    size = 300_000

    async def handler(stream: H2Stream) -> None:
        if answer == "early":
            await stream.respond(413, body=b"too large")
            return
        body = await stream.read_body()
        await stream.respond(200, body=str(len(body)).encode())

    server = await raw_h2(handler)
    tracker = airhttp.UploadTracker()
    async with session_for(server) as session:
        url = server.url / "up"
        async with session.post(url, data=b"u" * size, upload_tracker=tracker) as resp:
            assert (resp.status, await resp.read()) in ((200, b"300000"), (413, b"too large"))
        await until(lambda: tracker.upload_complete.done())
    if answer == "early":
        with pytest.raises(airhttp.UploadAbortedError):
            await tracker.upload_complete
    else:
        await tracker.upload_complete
        assert tracker.bytes_written == size


async def test_stopped_downloads_give_the_connection_window_back(raw_h2: RawH2Factory) -> None:
    """What a stopped stream held back still counts in the connection's window."""
    size = 2**21

    async def handler(stream: H2Stream) -> None:
        await stream.read_body()
        if stream.path == "/big":
            await stream.send_headers(200, [("content-length", str(size))])
            await stream.send_data(b"b" * size, end_stream=True)
            return
        await echo_path(stream)

    server = await raw_h2(handler)
    async with session_for(server) as session:
        responses = [await session.get(server.url / "big", read_bufsize=2**14) for _ in range(20)]
        await asyncio.sleep(0.3)  # each stream's 1 MiB window fills while nobody reads
        for resp in responses:
            resp.close()
        timeout = airhttp.ClientTimeout(total=5)
        async with session.get(server.url / "big", timeout=timeout) as resp:
            assert len(await resp.read()) == size
    assert server.connections == 1

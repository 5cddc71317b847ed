"""Upload progress, differential against aiohttp 3.14.4+: `UploadTracker`, `upload_tracker=`
and the deprecated `ClientResponse.output_size` / `upload_complete`.

Each scenario runs through aiohttp and airhttp against the same server and compares
what code can see: bytes_written, attempts, how upload_complete ended, warnings.
"""

from __future__ import annotations

import asyncio
import io
import socket
import warnings
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

import airhttp

from .conftest import WebServer

CLIENTS = (aiohttp, airhttp)
Observed = tuple[Any, ...]
SAME_HEAD = {"User-Agent": "same-for-both"}


async def _app_url(web_server: WebServer) -> URL:
    async def echo(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="ok")

    async def redirect_307(request: web.Request) -> web.Response:
        await request.read()
        raise web.HTTPTemporaryRedirect("/")

    async def redirect_302(request: web.Request) -> web.Response:
        await request.read()
        raise web.HTTPFound("/")

    async def refuse_early(request: web.Request) -> web.Response:
        return web.Response(status=413)

    app = web.Application()
    app.router.add_route("*", "/", echo)
    app.router.add_post("/307", redirect_307)
    app.router.add_post("/302", redirect_302)
    app.router.add_post("/early", refuse_early)
    return await web_server.start(app)


def _ended(future: asyncio.Future[None]) -> Observed:
    if not future.done():
        return ("pending",)
    exc = future.exception()
    return ("ok",) if exc is None else (type(exc).__name__, str(exc))


async def _settled(tracker: Any) -> None:
    """Give an upload that outlived its response up to a second to end."""
    for _ in range(100):
        if tracker.upload_complete.done():
            return
        await asyncio.sleep(0.01)


async def _post(client: ModuleType, url: URL, data: Any, method: str = "POST") -> Observed:
    tracker = client.UploadTracker()
    async with client.ClientSession() as session:
        async with session.request(
            method, url, data=data, headers=SAME_HEAD, upload_tracker=tracker
        ) as resp:
            await resp.read()
            status = resp.status
    await asyncio.sleep(0)
    return (status, tracker.bytes_written, tracker.attempts, _ended(tracker.upload_complete))


async def _chunks() -> AsyncIterator[bytes]:
    yield b"a" * 10
    yield b"b" * 20


BODIES: dict[str, tuple[str, str, Any]] = {
    "bytes body": ("POST", "/", b"x" * 100_000),
    "small bytes body": ("POST", "/", b"x" * 10),
    "str body": ("POST", "/", "text " * 1000),
    "no body": ("GET", "/", None),
    "307 sends the body again": ("POST", "/307", b"z" * 10),
    "302 drops the body": ("POST", "/302", b"z" * 10),
    "form": ("POST", "/", {"a": "1", "b": "2"}),
}


@pytest.mark.parametrize("case", list(BODIES))
async def test_counters_after_the_request_match_aiohttp(web_server: WebServer, case: str) -> None:
    method, path, data = BODIES[case]
    url = (await _app_url(web_server)).with_path(path)
    ours = await _post(airhttp, url, data, method)
    theirs = await _post(aiohttp, url, data, method)
    assert ours == theirs


async def test_a_streamed_body_counts_its_bytes_without_chunk_framing(
    web_server: WebServer,
) -> None:
    url = await _app_url(web_server)
    results = [await _post(client, url, _chunks()) for client in CLIENTS]
    assert results[0] == results[1] == (200, 30, 1, ("ok",))


async def test_a_tracker_serves_one_request_only(web_server: WebServer) -> None:
    url = await _app_url(web_server)
    messages = []
    for client in CLIENTS:
        tracker = client.UploadTracker()
        async with client.ClientSession() as session:
            async with session.post(url, data=b"1", upload_tracker=tracker):
                pass
            with pytest.raises(RuntimeError) as info:
                await session.post(url, data=b"2", upload_tracker=tracker)
            messages.append(str(info.value))
    assert messages[0] == messages[1] == "UploadTracker is already bound to a request"


def test_a_tracker_needs_a_running_loop() -> None:
    messages = []
    for client in CLIENTS:
        with pytest.raises(RuntimeError) as info:
            client.UploadTracker()
        messages.append(str(info.value))
    assert messages[0] == messages[1]


async def test_a_refused_connection_aborts_the_upload_quietly() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = URL(f"http://127.0.0.1:{port}/")
    loop = asyncio.get_running_loop()
    noise: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: noise.append(context))
    results = []
    for client in CLIENTS:
        tracker = client.UploadTracker()
        async with client.ClientSession() as session:
            with pytest.raises(client.ClientConnectorError):
                await session.post(url, data=b"x", upload_tracker=tracker)
        results.append((tracker.bytes_written, tracker.attempts, _ended(tracker.upload_complete)))
        del tracker
    loop.set_exception_handler(None)
    assert results[0] == results[1]
    assert results[0][2] == ("UploadAbortedError", "The request body was not fully sent")
    assert not noise


@pytest.mark.parametrize("kind", ["bytes", "BytesIO"])
async def test_an_early_answer_aborts_a_large_upload_once_released(kind: str) -> None:
    async def refuse_early(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.2)  # not reading: the client's buffers fill up
        while await reader.read(1 << 20):
            pass
        writer.close()

    server = await asyncio.start_server(refuse_early, "127.0.0.1", 0)
    url = URL(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/")
    size = 16 * 1024 * 1024
    results = []
    for client in CLIENTS:
        tracker = client.UploadTracker()
        async with client.ClientSession() as session:
            body: Any = io.BytesIO(b"z" * size) if kind == "BytesIO" else b"z" * size
            with warnings.catch_warnings():
                # Both warn that a large bytes body is written in one go; that is the point.
                warnings.simplefilter("ignore", ResourceWarning)
                request = session.post(url, data=body, upload_tracker=tracker)
                resp = await request
            async with resp:
                status = resp.status
                during = _ended(tracker.upload_complete)
            await _settled(tracker)
        written = tracker.bytes_written
        assert 0 <= written < size
        results.append((status, during, _ended(tracker.upload_complete), tracker.attempts))
    server.close()
    await server.wait_closed()
    assert results[0] == results[1]
    assert results[0][1] == ("pending",)


async def test_bytes_written_grows_while_a_slow_server_reads() -> None:
    total = 8 * 1024 * 1024
    read = 0

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal read
        await reader.readuntil(b"\r\n\r\n")
        while read < total:
            chunk = await reader.read(256 * 1024)
            if not chunk:
                break
            read += len(chunk)
            await asyncio.sleep(0.005)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(slow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    tracker = airhttp.UploadTracker()
    samples = []
    async with airhttp.ClientSession() as session:
        task = asyncio.ensure_future(
            session.post(
                f"http://127.0.0.1:{port}/", data=io.BytesIO(b"x" * total), upload_tracker=tracker
            )
        )
        while not task.done():
            samples.append((tracker.bytes_written, read))
            await asyncio.sleep(0.01)
        (await task).release()
    server.close()
    await server.wait_closed()
    assert samples == sorted(samples), "bytes_written never goes back"
    assert any(0 < written < total for written, _ in samples), "progress is seen mid-way"
    # What the kernel took is at most what the server read plus the socket buffers.
    assert all(written <= seen + 8 * 1024 * 1024 for written, seen in samples)
    assert tracker.bytes_written == total
    assert _ended(tracker.upload_complete) == ("ok",)


async def test_at_a_redirect_the_upload_is_not_complete_yet(web_server: WebServer) -> None:
    url = (await _app_url(web_server)).with_path("/307")
    results = []
    for client in CLIENTS:
        seen: list[Observed] = []
        tracker = client.UploadTracker()

        async def on_redirect(*_: Any, tracker: Any = tracker, seen: Any = seen) -> None:
            seen.append((tracker.bytes_written, tracker.attempts, _ended(tracker.upload_complete)))

        trace = client.TraceConfig()
        trace.on_request_redirect.append(on_redirect)
        async with client.ClientSession(trace_configs=[trace]) as session:
            async with session.post(url, data=b"q" * 10, upload_tracker=tracker):
                pass
        results.append(seen)
    assert results[0] == results[1] == [(10, 1, ("pending",))]


async def test_deprecated_response_counters_warn_and_agree_with_aiohttp(
    web_server: WebServer,
) -> None:
    url = await _app_url(web_server)
    results = []
    for client in CLIENTS:
        async with client.ClientSession() as session:
            async with session.post(url, data=b"x" * 5000, headers=SAME_HEAD) as resp:
                await resp.read()
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    size = resp.output_size
                    complete = resp.upload_complete
                    again = resp.upload_complete
            results.append(
                (
                    size > 5000,
                    _ended(complete),
                    complete is again,
                    [(w.category, str(w.message)) for w in caught],
                )
            )
    assert results[0] == results[1]


async def test_output_size_counts_head_and_body_like_aiohttp(web_server: WebServer) -> None:
    url = await _app_url(web_server)
    sizes = []
    for client in CLIENTS:
        async with client.ClientSession() as session:
            for data, chunked in ((b"x" * 5000, None), (b"y" * 70_000, None), (b"z" * 300, True)):
                async with session.post(url, data=data, headers=SAME_HEAD, chunked=chunked) as r:
                    await r.read()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", DeprecationWarning)
                        sizes.append((client.__name__, r.output_size - len(data)))
    ours = [size for name, size in sizes if name == "airhttp"]
    theirs = [size for name, size in sizes if name == "aiohttp"]
    assert ours == theirs


def _bodies(tmp_path: Any) -> dict[str, Any]:
    path = tmp_path / "upload.bin"
    path.write_bytes(b"f" * 300_000)

    async def generated() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"g" * 10_000

    form = {"field": "value", "file": ("x" * 5000).encode()}
    return {
        "bytes": lambda: b"b" * 50_000,
        "file": lambda: path.open("rb"),
        "async generator": generated,
        "multipart": lambda: _multipart(form),
        "form": lambda: {"a": "1" * 100},
    }


def _multipart(fields: dict[str, Any]) -> Any:
    writer = airhttp.MultipartWriter("form-data")
    for name, value in fields.items():
        part = writer.append(value)
        part.set_content_disposition("form-data", name=name)
    return writer


@pytest.mark.parametrize("kind", ["bytes", "file", "async generator", "multipart", "form"])
async def test_progress_and_chunk_signals_cover_every_body_type(
    web_server: WebServer, tmp_path: Any, kind: str
) -> None:
    url = await _app_url(web_server)
    chunks: list[int] = []

    async def on_chunk(_session: Any, _ctx: Any, params: Any) -> None:
        chunks.append(len(params.chunk))

    trace = airhttp.TraceConfig()
    trace.on_request_chunk_sent.append(on_chunk)
    tracker = airhttp.UploadTracker()
    data = _bodies(tmp_path)[kind]()
    async with airhttp.ClientSession(trace_configs=[trace]) as session:
        async with session.post(url, data=data, upload_tracker=tracker) as resp:
            assert resp.status == 200
            await resp.read()
            sent = resp.request_info.headers.get("Content-Length")
    if kind == "file":
        data.close()
    assert _ended(tracker.upload_complete) == ("ok",)
    assert tracker.bytes_written > 0
    # Every body byte passed through on_request_chunk_sent, and the tracker counted them.
    assert sum(chunks) == tracker.bytes_written
    if sent is not None:
        assert tracker.bytes_total == int(sent) == tracker.bytes_written
    if kind == "async generator":
        assert tracker.bytes_total is None and tracker.bytes_written == 50_000


async def test_a_compressed_upload_counts_the_callers_bytes_like_aiohttp(
    web_server: WebServer,
) -> None:
    url = await _app_url(web_server)
    written = []
    for client in CLIENTS:
        tracker = client.UploadTracker()
        async with client.ClientSession() as session:
            data = b"a" * 100_000
            async with session.post(url, data=data, compress="gzip", upload_tracker=tracker):
                pass
        written.append(tracker.bytes_written)
        if client is airhttp:
            assert tracker.bytes_total == 100_000
    assert written[0] == written[1] == 100_000


@pytest.mark.parametrize("kind", ["bytes", "BytesIO"])
async def test_a_reset_mid_upload_fails_the_upload_like_aiohttp(kind: str) -> None:
    import struct

    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await reader.read(65536)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    server = await asyncio.start_server(reset, "127.0.0.1", 0)
    url = URL(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/")
    size = 16 * 1024 * 1024
    results = []
    for client in CLIENTS:
        tracker = client.UploadTracker()
        async with client.ClientSession() as session:
            body: Any = io.BytesIO(b"r" * size) if kind == "BytesIO" else b"r" * size
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ResourceWarning)
                with pytest.raises(client.ClientError) as info:
                    await session.post(url, data=body, upload_tracker=tracker)
            await _settled(tracker)
        assert tracker.bytes_written < size
        outcome = _ended(tracker.upload_complete)
        results.append((type(info.value).__name__, outcome[0]))
    server.close()
    await server.wait_closed()
    assert results[0][1] == results[1][1] != "ok"


async def test_a_failing_on_request_start_aborts_the_upload_like_aiohttp(
    web_server: WebServer,
) -> None:
    url = await _app_url(web_server)
    results = []
    for client in CLIENTS:

        async def refuse(*_: Any) -> None:
            raise RuntimeError("not today")

        trace = client.TraceConfig()
        trace.on_request_start.append(refuse)
        tracker = client.UploadTracker()
        async with client.ClientSession(trace_configs=[trace]) as session:
            with pytest.raises(RuntimeError):
                await session.post(url, data=b"x", upload_tracker=tracker)
        results.append((tracker.attempts, _ended(tracker.upload_complete)))
    assert results[0] == results[1]
    assert results[0][1][0] == "UploadAbortedError"


async def test_a_compressed_upload_never_counts_backwards() -> None:
    total = 4 * 1024 * 1024
    body = bytes(range(256)) * (total // 256)

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        while True:
            chunk = await reader.read(64 * 1024)
            if not chunk or chunk.endswith(b"0\r\n\r\n"):
                break
            await asyncio.sleep(0.002)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(slow, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    tracker = airhttp.UploadTracker()
    samples = []
    async with airhttp.ClientSession() as session:
        request = session.post(
            url, data=io.BytesIO(body), compress="deflate", upload_tracker=tracker
        )
        task = asyncio.ensure_future(request)
        while not task.done():
            samples.append(tracker.bytes_written)
            await asyncio.sleep(0.005)
        (await task).release()
    server.close()
    await server.wait_closed()
    assert samples == sorted(samples)
    assert tracker.bytes_written == tracker.bytes_total == total

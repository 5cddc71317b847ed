"""Every script in examples/ runs against a local server and prints what it promises.

Each example runs as its own interpreter (as a reader would run it) with `-W error`, so a
warning (an unclosed socket included) fails it; the server is an aiohttp.web app here.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from pathlib import Path
from typing import Final

import pytest
from aiohttp import web
from yarl import URL

from .conftest import WebServer

EXAMPLES: Final = Path(__file__).resolve().parent.parent / "examples"


def _app() -> web.Application:
    async def get(request: web.Request) -> web.Response:
        return web.json_response({"args": dict(request.query)})

    async def post(request: web.Request) -> web.Response:
        return web.json_response({"json": await request.json()})

    async def headers(request: web.Request) -> web.Response:
        return web.json_response(dict(request.headers))

    async def status(request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]))

    async def delay(request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.match_info["seconds"]))
        return web.Response(text="late")

    async def many_bytes(request: web.Request) -> web.StreamResponse:
        size = int(request.match_info["size"])
        response = web.StreamResponse(headers={"Content-Length": str(size)})
        await response.prepare(request)
        sent = 0
        while sent < size:
            piece = min(65536, size - sent)
            await response.write(bytes(range(256)) * (piece // 256) + b"x" * (piece % 256))
            sent += piece
        return response

    async def upload(request: web.Request) -> web.Response:
        digest = hashlib.sha256()
        size = 0
        async for chunk in request.content.iter_any():
            digest.update(chunk)
            size += len(chunk)
        return web.Response(text=f"{size} {digest.hexdigest()}")

    async def chat(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            await ws.send_str(f"echo: {message.data}")
        return ws

    failures_left = {"flaky": 2}

    async def flaky(request: web.Request) -> web.Response:
        if failures_left["flaky"]:
            failures_left["flaky"] -= 1
            return web.Response(status=503, headers={"Retry-After": "0"})
        return web.Response(text="finally")

    app = web.Application()
    app.router.add_get("/flaky", flaky)
    app.router.add_get("/get", get)
    app.router.add_post("/post", post)
    app.router.add_get("/headers", headers)
    app.router.add_get("/status/{code}", status)
    app.router.add_get("/delay/{seconds}", delay)
    app.router.add_get("/bytes/{size}", many_bytes)
    app.router.add_post("/upload", upload)
    app.router.add_get("/chat", chat)
    return app


async def _run(script: str, *args: str, stdin: bytes = b"") -> tuple[str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-W",
        "error",
        str(EXAMPLES / script),
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin), timeout=30)
    assert process.returncode == 0, err.decode()
    return out.decode(), err.decode()


@pytest.fixture
async def base(web_server: WebServer) -> URL:
    return await web_server.start(_app())


async def test_quickstart(base: URL) -> None:
    out, _ = await _run("quickstart.py", str(base))
    lines = out.splitlines()
    assert lines[0] == "GET 200 application/json"
    assert json.loads(lines[1]) == {"args": {"q": "airhttp", "page": "1"}}
    assert "POST 200 {'name': 'airhttp', 'fast': True}" in lines
    assert "X-Demo seen by the server: yes" in lines
    assert "404 without raise_for_status: 404" in lines
    assert "raised: 503 Service Unavailable" in lines
    assert lines[-1] == "timed out after 0.2 s"


async def test_download_streams_to_a_file_with_progress(base: URL, tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    size = 3_000_000
    out, err = await _run("download.py", str(base / "bytes" / str(size)), str(target))
    assert out.strip() == f"saved {size} bytes to {target}"
    assert target.stat().st_size == size
    assert "100.0%" in err and f"{size:,} / {size:,} bytes" in err


async def test_upload_sends_the_file_and_reports_progress(base: URL, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    data = bytes(range(256)) * 40_000  # 10 MB
    source.write_bytes(data)
    out, err = await _run("upload.py", str(base / "upload"), str(source))
    assert out.strip() == f"server says: {len(data)} {hashlib.sha256(data).hexdigest()}"
    assert "sent " in err


async def test_ws_chat_sends_lines_and_prints_answers(base: URL) -> None:
    url = base.with_scheme("ws") / "chat"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-W", "error", str(EXAMPLES / "ws_chat.py"), str(url),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdin is not None and process.stdout is not None
    seen = []
    for line in ("hello", "second line"):
        # One at a time, as a person types: each answer is back before the next line.
        process.stdin.write(line.encode() + b"\n")
        await process.stdin.drain()
        seen.append(await asyncio.wait_for(process.stdout.readline(), timeout=10))
    process.stdin.close()
    rest, _ = await asyncio.wait_for(process.communicate(), timeout=10)
    assert process.returncode == 0
    assert seen == [b"< echo: hello\n", b"< echo: second line\n"]
    assert rest == b"closed with code 1000\n"


async def test_retry_rides_out_a_flaky_server(base: URL) -> None:
    out, err = await _run("retry.py", str(base / "flaky"))
    assert out.strip() == "200 finally"
    assert err.count("Retrying GET") == 2


async def test_the_pytest_mocking_example_passes() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        str(EXAMPLES / "test_mocking.py"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, out.decode()
    assert "3 passed" in out.decode()

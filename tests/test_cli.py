"""The `airhttp` command, run as installed (a subprocess) against servers of this test.

Each test starts the console script installed in the venv (one test checks that it is
there, another `python -m airhttp`), so what is checked is what a user types; terminals
are pseudo-terminals (`pty.openpty`), and no run has a controlling terminal.
"""

from __future__ import annotations

import asyncio
import json
import os
import pty
import re
import shutil
import socket
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from .conftest import RawServer, WebServer
from .tcp_support import tls_material

# The console script beside this interpreter, where installing airhttp puts it.
SCRIPT: Final = shutil.which("airhttp", path=str(Path(sys.executable).parent))
CLI: Final = [SCRIPT or str(Path(sys.executable).parent / "airhttp")]

BLOB: Final = bytes(range(256)) * 1200  # 300 KiB, every byte value
DOCUMENT: Final = {"name": "airhttp", "tags": ["cli", "http"], "size": 3}
ANSI: Final = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
BAR: Final = "━".encode()  # rich draws its progress bar with this character
# What follows the bar: "so far/total unit", the rate ("?" before one is measured) and
# the time left ("-:--:--" before it can be estimated).
PROGRESS: Final = re.compile(
    rb"(\d+\.\d)/(\d+\.\d) kB +(\?|\d+(?:\.\d)? [kMG]?B/s) +(-:--:--|\d+:\d\d:\d\d)"
)
# Each run is a fresh interpreter: a bytecode cache of its own (outside the source tree, and
# even where the outer environment forbids writing one) keeps it from recompiling airhttp.
PYCACHE: Final = Path(tempfile.gettempdir()) / "airhttp-test-cli-pycache"


@dataclass(frozen=True)
class Run:
    code: int
    out: bytes
    err: bytes


def _env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The user's environment without proxies or colour overrides, and a sized terminal."""
    drop = {"NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLORTERM"}
    drop.add("PYTHONDONTWRITEBYTECODE")  # PYCACHE instead
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in drop and not key.lower().endswith("_proxy")
    }
    env.update(TERM="xterm-256color", COLUMNS="100", LINES="40", PYTHONWARNINGS="error")
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env.update(extra or {})
    return env


async def airhttp(
    *args: str,
    stdin: bytes | None = None,
    tty: tuple[str, ...] = (),
    env: Mapping[str, str] | None = None,
    hold_stdin: bool = False,
) -> Run:
    """Run the command; `tty` names the streams ("stdout", "stderr") that get a terminal.

    With `hold_stdin`, stdin stays open after `stdin` was written until the command ends.
    """
    ttys = {name: pty.openpty() for name in tty}
    process = await asyncio.create_subprocess_exec(
        *CLI,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=ttys["stdout"][1] if "stdout" in ttys else asyncio.subprocess.PIPE,
        stderr=ttys["stderr"][1] if "stderr" in ttys else asyncio.subprocess.PIPE,
        env=_env(env),
        # A session of its own: no controlling terminal, so nothing can ask the user.
        start_new_session=True,
    )
    for _, child_end in ttys.values():
        os.close(child_end)
    # Drained while the child runs: a full terminal buffer would block its writes.
    readers = {
        name: asyncio.ensure_future(asyncio.to_thread(_read_terminal, ours))
        for name, (ours, _) in ttys.items()
    }
    try:
        talk = _holding_stdin(process, stdin or b"") if hold_stdin else process.communicate(stdin)
        piped = await asyncio.wait_for(talk, timeout=20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        # The child is gone, so each reader ends (EIO) before its descriptor is closed.
        outputs = await asyncio.gather(*readers.values())
        for ours, _ in ttys.values():
            os.close(ours)
    terminal = dict(zip(readers, outputs, strict=True))
    out = terminal.get("stdout", piped[0] or b"")
    err = terminal.get("stderr", piped[1] or b"")
    assert process.returncode is not None
    return Run(process.returncode, out, err)


async def _holding_stdin(process: asyncio.subprocess.Process, data: bytes) -> tuple[bytes, bytes]:
    assert process.stdin and process.stdout and process.stderr
    process.stdin.write(data)
    await process.stdin.drain()
    out, err = await asyncio.gather(process.stdout.read(), process.stderr.read())
    await process.wait()
    process.stdin.close()
    return out, err


def _read_terminal(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).replace(b"\r\n", b"\n")


# --- the test server ------------------------------------------------------------------


async def _echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response(
        {"method": request.method, "headers": dict(request.headers), "body": body.decode()}
    )


async def _form(request: web.Request) -> web.Response:
    fields: dict[str, Any] = {}
    async for part in await request.multipart():
        assert isinstance(part, aiohttp.BodyPartReader)
        data = (await part.read()).decode()
        if part.filename is None:
            fields[part.name or ""] = data
        else:
            content_type = part.headers.get("Content-Type")
            file = {"filename": part.filename, "type": content_type, "data": data}
            fields[part.name or ""] = file
    return web.json_response(fields)


async def _blob(request: web.Request) -> web.Response:
    return web.Response(body=BLOB, content_type="application/octet-stream")


async def _trickle(request: web.Request) -> web.StreamResponse:
    """BLOB in twelve pieces over about 0.6 s: long enough for a rate and a time left."""
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    response.content_length = len(BLOB)
    await response.prepare(request)
    piece = len(BLOB) // 12
    for start in range(0, len(BLOB), piece):
        await response.write(BLOB[start : start + piece])
        await asyncio.sleep(0.05)
    await response.write_eof()
    return response


async def _document(request: web.Request) -> web.Response:
    return web.Response(text=json.dumps(DOCUMENT), content_type="application/json")


async def _redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound("/echo")


async def _loop(request: web.Request) -> web.Response:
    raise web.HTTPFound("/loop")


def _app() -> web.Application:
    app = web.Application()
    app.router.add_route("*", "/echo", _echo)
    app.router.add_post("/form", _form)
    app.router.add_get("/blob", _blob)
    app.router.add_get("/trickle", _trickle)
    app.router.add_get("/document", _document)
    app.router.add_get("/redirect", _redirect)
    app.router.add_get("/loop", _loop)
    return app


@pytest.fixture
async def base(web_server: WebServer) -> URL:
    return await web_server.start(_app())


def _json(run: Run) -> Any:
    assert run.code == 0, run.err
    return json.loads(run.out)


# --- requests -------------------------------------------------------------------------


async def test_custom_headers_reach_the_server_and_an_emptied_one_is_dropped(base: URL) -> None:
    run = await airhttp(str(base / "echo"), "-H", "X-Trace: abc 1", "-H", "User-Agent:")
    headers = _json(run)["headers"]
    assert headers["X-Trace"] == "abc 1"
    assert "User-Agent" not in headers


async def test_json_option_posts_json_and_prints_the_answer_byte_for_byte(base: URL) -> None:
    run = await airhttp("--json", '{"a": [1, 2]}', str(base / "echo"))
    answer = _json(run)
    assert answer["method"] == "POST"
    assert answer["body"] == '{"a": [1, 2]}'
    assert answer["headers"]["Content-Type"] == "application/json"
    assert answer["headers"]["Accept"] == "application/json"
    # Piped, the body is the server's exact bytes: no pretty-printing, no colour.
    assert run.out == json.dumps(answer).encode()


async def test_form_fields_and_files_make_a_multipart_upload(base: URL, tmp_path: Path) -> None:
    upload = tmp_path / "notes.txt"
    upload.write_text("file contents\n")
    run = await airhttp(
        str(base / "form"), "-F", "title=hello", "-F", f"doc=@{upload};type=text/x-notes"
    )
    assert _json(run) == {
        "title": "hello",
        "doc": {"filename": "notes.txt", "type": "text/x-notes", "data": "file contents\n"},
    }


async def test_an_emptied_header_is_not_added_back_for_a_body(base: URL) -> None:
    runs = await asyncio.gather(
        airhttp(str(base / "echo"), "-H", "Content-Type:", "-d", "x"),
        airhttp(str(base / "echo"), "-H", "accept:", "--json", "{}"),
    )
    data, json_body = (_json(run)["headers"] for run in runs)
    assert "Content-Type" not in data
    assert "Accept" not in json_body
    assert json_body["Content-Type"] == "application/json"


async def test_data_comes_from_a_file_or_stdin_as_is(base: URL, tmp_path: Path) -> None:
    source = tmp_path / "body.txt"
    source.write_bytes(b"line one\nline two\n")
    runs = await asyncio.gather(
        airhttp("PUT", str(base / "echo"), "-d", f"@{source}"),
        airhttp(str(base / "echo"), "-d", "@-", stdin=b"a=1&b=2"),
    )
    from_file, from_stdin = map(_json, runs)
    assert from_file["method"] == "PUT"
    assert from_file["body"] == "line one\nline two\n"
    assert from_stdin["method"] == "POST"
    assert from_stdin["body"] == "a=1&b=2"
    assert from_stdin["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


# --- downloads ------------------------------------------------------------------------


async def test_download_writes_the_exact_bytes_and_no_bar_when_stderr_is_piped(
    base: URL, tmp_path: Path
) -> None:
    target = tmp_path / "blob.bin"
    run = await airhttp(str(base / "blob"), "-o", str(target))
    assert (run.code, run.out, run.err) == (0, b"", b"")
    assert target.read_bytes() == BLOB


async def test_download_draws_a_progress_bar_on_a_terminal(base: URL, tmp_path: Path) -> None:
    target = tmp_path / "blob.bin"
    run = await airhttp(str(base / "trickle"), "-o", str(target), tty=("stderr",))
    assert run.code == 0, run.err
    assert target.read_bytes() == BLOB
    frames = [frame.strip() for frame in ANSI.sub(b"", run.err).split(b"\r") if frame.strip()]
    columns: list[tuple[bytes, ...]] = []
    for frame in frames:
        assert frame.startswith(b"blob.bin ") and BAR in frame, frame
        match = PROGRESS.fullmatch(frame.rpartition(BAR)[2].strip())
        assert match, frame
        columns.append(match.groups())
    done, total, rate, left = columns[-1]
    assert (done, total) == (b"307.2", b"307.2")
    assert rate.endswith(b"B/s") and left == b"0:00:00"
    # Part way through, a rate was measured and the time left estimated from it.
    assert any(
        done != b"307.2" and rate != b"?" and left != b"-:--:--" for done, _, rate, left in columns
    ), frames


# --- redirects, heads -----------------------------------------------------------------


async def test_without_location_a_redirect_is_printed_not_followed(base: URL) -> None:
    plain = await airhttp(str(base / "redirect"))
    assert plain.code == 0
    assert plain.out == b"302: Found"


async def test_location_follows_a_redirect_and_verbose_shows_each_head(base: URL) -> None:
    run = await airhttp("-v", "-L", str(base / "redirect") + "?x=1")
    assert run.code == 0, run.err
    lines = run.err.decode().splitlines()
    assert lines[0] == "> GET /redirect?x=1 HTTP/1.1"
    assert f"> Host: {base.host}:{base.port}" in lines
    assert "< HTTP/1.1 302 Found" in lines
    assert "< Location: /echo" in lines
    assert lines.index("> GET /echo HTTP/1.1") < lines.index("< HTTP/1.1 200 OK")
    assert json.loads(run.out)["method"] == "GET"  # the redirect's target, on stdout


async def test_head_option_sends_head_and_prints_the_response_head(base: URL) -> None:
    run = await airhttp("-I", str(base / "blob"))
    assert run.code == 0, run.err
    head = run.out.decode("latin-1")
    assert head.startswith("HTTP/1.1 200 OK\r\n")
    assert f"Content-Length: {len(BLOB)}\r\n" in head
    assert head.endswith("\r\n\r\n")


# --- exit codes -----------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def stalled(raw_server: RawServer) -> URL:
    """A server that accepts and never answers (it returns once the client gives up)."""

    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    return await raw_server.start(stall)


@pytest.fixture
async def tls_base(web_server: WebServer) -> URL:
    """The app over TLS with a certificate from a CA the client does not trust."""
    return await web_server.start(_app(), ssl_context=tls_material().server_context())


async def test_exit_codes_follow_curls_table(base: URL, stalled: URL, tls_base: URL) -> None:
    # Run side by side: each case is a separate process, and starting one is the slow part.
    cases: dict[str, tuple[int, tuple[str, ...], bytes]] = {
        "refused": (7, (f"http://127.0.0.1:{_closed_port()}/",), b"(7) Cannot connect to host"),
        "proxy refused": (7, ("-x", f"socks5h://127.0.0.1:{_closed_port()}", str(base)), b"(7)"),
        "unresolvable": (6, ("http://no-such-host.invalid/",), b"(6) Cannot connect to host"),
        "stalled": (28, ("--max-time", "0.3", str(stalled)), b"timed out after 0.3 seconds"),
        "untrusted": (35, (str(tls_base / "echo"),), b"certificate verify failed"),
        "insecure": (0, ("-k", str(tls_base / "echo")), b""),
        "redirects": (47, ("-L", "--max-redirs", "3", str(base / "loop")), b"Maximum (3)"),
        "fail": (22, ("--fail", str(base / "missing")), b"returned error: 404"),
        "no url": (2, (), b"usage: airhttp"),
        "two bodies": (2, ("-d", "x", "--json", "{}", "h"), b"not allowed with"),
        "scheme": (2, ("ftp://h/",), b"unsupported URL"),
        # A proxy without a scheme is an HTTP proxy, as for curl.
        "bare proxy": (7, ("-x", f"127.0.0.1:{_closed_port()}", str(base)), b"(7)"),
        "proxy scheme": (2, ("-x", "ftp://p", str(base)), b"unsupported proxy URL 'ftp://p'"),
        "proxy URL": (2, ("-x", "http://[bad", str(base)), b"bad proxy URL 'http://[bad'"),
        "proxy host": (2, ("-x", "socks5://", str(base)), b"proxy URL 'socks5://' names no"),
        "header CRLF": (2, ("-H", "X: a\r\nB: 1", str(base)), b"CR, LF and NUL are not"),
    }
    runs = await asyncio.gather(*(airhttp(*args) for _, args, _ in cases.values()))
    by_name = dict(zip(cases, runs, strict=True))
    for name, (code, _, message) in cases.items():
        run = by_name[name]
        assert (name, run.code) == (name, code), run.err
        assert message in run.err, (name, run.err)
        assert b"Traceback" not in run.err, (name, run.err)
        assert len(run.err.splitlines()) <= 2, (name, run.err)  # usage line, then one line
    assert by_name["fail"].out == b""  # --fail prints no body
    assert json.loads(by_name["insecure"].out)["method"] == "GET"


async def test_a_password_asked_for_without_any_input_is_a_usage_error(base: URL) -> None:
    run = await airhttp("-u", "someone", str(base / "echo"), stdin=b"")
    assert run.code == 2, run.err
    assert b"-u someone: no password given (stdin ended)" in run.err
    assert b"Traceback" not in run.err


def test_without_max_time_only_the_total_is_unlimited() -> None:
    from airhttp import ClientTimeout
    from airhttp._cli import parse_args

    assert parse_args(["h"]).timeout == ClientTimeout(total=None, sock_connect=30)
    assert parse_args(["-m", "2.5", "h"]).timeout == ClientTimeout(total=2.5, sock_connect=30)


# --- terminals ------------------------------------------------------------------------


async def test_json_is_indented_and_coloured_on_a_terminal(base: URL) -> None:
    run = await airhttp(str(base / "document"), tty=("stdout",))
    assert run.code == 0, run.err
    assert ANSI.search(run.out), run.out
    assert ANSI.sub(b"", run.out).decode().strip() == json.dumps(DOCUMENT, indent=2)


async def test_without_rich_the_terminal_gets_plain_output_and_no_bar(
    base: URL, tmp_path: Path
) -> None:
    # A `rich` package that fails to import shadows the installed one.
    shadow = tmp_path / "shadow" / "rich"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('rich is hidden by this test')\n")
    env = {"PYTHONPATH": str(shadow.parent)}
    target = tmp_path / "blob.bin"
    shown, download = await asyncio.gather(
        airhttp(str(base / "document"), tty=("stdout", "stderr"), env=env),
        airhttp(str(base / "blob"), "-o", str(target), tty=("stderr",), env=env),
    )
    assert shown.code == 0, shown.err
    assert shown.out.decode().strip() == json.dumps(DOCUMENT, indent=2)  # no colour codes
    assert (download.code, download.err) == (0, b"")
    assert target.read_bytes() == BLOB


# --- WebSocket ------------------------------------------------------------------------

CLIENT_CLOSE_CODES: Final = web.AppKey("client_close_codes", list)


async def _chat(request: web.Request) -> web.WebSocketResponse:
    """Answers each text message in capitals; "binary please" in bytes; "quit" closes 4001."""
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for message in ws:
        if message.data == "binary please":
            await ws.send_bytes(b"\x00\x01\xff")
        elif message.data == "quit":
            await ws.close(code=4001, message=b"asked to")
            return ws
        else:
            await ws.send_str(message.data.upper())
    request.app[CLIENT_CLOSE_CODES].append(ws.close_code)  # the client closed first
    return ws


async def test_websocket_session_sends_lines_prints_messages_and_exits_by_the_close(
    web_server: WebServer,
) -> None:
    app = web.Application()
    app[CLIENT_CLOSE_CODES] = []
    app.router.add_get("/ws", _chat)
    url = str((await web_server.start(app)).with_scheme("ws") / "ws")
    normal, closed = await asyncio.gather(
        airhttp(url, stdin=b"hello\nbinary please\nbye\n"),
        # The server closes while stdin is still open: the session ends all the same.
        airhttp(url, stdin=b"one\nquit\n", hold_stdin=True),
    )
    assert (normal.code, normal.err, normal.out) == (0, b"", b"HELLO\n0001ff\nBYE\n")
    assert (closed.code, closed.out) == (1, b"ONE\n")
    assert closed.err == b"airhttp: WebSocket closed with code 4001\n"
    assert app[CLIENT_CLOSE_CODES] == [1000]  # the end of input closes normally


def test_the_console_script_is_installed_beside_the_interpreter() -> None:
    assert SCRIPT is not None, f"no airhttp script in {Path(sys.executable).parent}"


async def test_python_dash_m_runs_the_same_command() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "airhttp", "--version", stdout=asyncio.subprocess.PIPE, env=_env()
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    assert out.startswith(b"airhttp ")

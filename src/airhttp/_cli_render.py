"""What the airhttp CLI writes: the body (raw, pretty on a terminal, or to a file), the heads.

Colour and the progress bar come from `rich` (the `cli` extra), imported only when they are
drawn; without it output stays plain, and a pipe always gets the body unchanged (decoded,
as `resp.content` gives it). It reads a response it is given and never builds requests or
maps errors (`_cli` does).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, Protocol

import airhttp

__all__ = (
    "DownloadProgress",
    "download_progress",
    "lexer_for",
    "render_body",
    "request_head",
    "response_head",
    "verbose_trace",
    "write_body",
    "write_heads",
)

# Media types we colour, mapped to their Pygments lexer; suffixes per RFC 6839.
_LEXERS: Final = {
    "application/json": "json",
    "text/json": "json",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/xml": "xml",
    "text/xml": "xml",
    "image/svg+xml": "xml",
    "text/css": "css",
    "text/javascript": "javascript",
    "application/javascript": "javascript",
    "application/ecmascript": "javascript",
    "text/plain": "text",
}
_SUFFIX_LEXERS: Final = {"+json": "json", "+xml": "xml"}
_CHUNK: Final = 64 * 1024
# A terminal gets a pretty body only up to this size; beyond it the bytes flow through as is.
_RENDER_LIMIT: Final = 4 * 1024 * 1024


def lexer_for(content_type: str) -> str | None:
    """The lexer name for a response's media type, or None to pass the bytes through."""
    media = content_type.strip().lower()
    lexer = _LEXERS.get(media)
    if lexer is not None:
        return lexer
    for suffix, name in _SUFFIX_LEXERS.items():
        if media.endswith(suffix):
            return name
    return None


def render_body(body: bytes, lexer: str, charset: str | None, out: IO[str]) -> bool:
    """Write `body` to the terminal `out` pretty-printed; False if it cannot be (raw instead)."""
    try:
        text = body.decode(charset or "utf-8")
    except (LookupError, UnicodeDecodeError):
        return False
    try:
        from rich.console import Console
    except ImportError:
        return _render_plain(text, lexer, out)
    console = Console(file=out, soft_wrap=True)
    if lexer == "json":
        from rich.json import JSON

        try:
            console.print(JSON(text, indent=2))
        except ValueError:
            return False
        return True
    from rich.syntax import Syntax

    # The terminal's own palette and background: a theme's colours can be unreadable there.
    syntax = Syntax(text, lexer, theme="ansi_dark", background_color="default")
    console.print(syntax)
    return True


def _render_plain(text: str, lexer: str, out: IO[str]) -> bool:
    """Without rich: JSON indented by the standard library, everything else untouched."""
    if lexer != "json":
        return False
    try:
        document = json.loads(text)
    except ValueError:
        return False
    out.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    out.flush()
    return True


def request_head(method: str, target: str, headers: Iterable[tuple[str, str]]) -> list[str]:
    """The lines of a request head as sent (curl's `-v` shows them after "> ")."""
    lines = [f"{method} {target} HTTP/1.1"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    return lines


def response_head(response: airhttp.ClientResponse) -> list[str]:
    """The lines of a response head as received: status line, then the raw header fields."""
    version = response.version or airhttp.HttpVersion11
    status = f"HTTP/{version.major}.{version.minor} {response.status}"
    lines = [f"{status} {response.reason}" if response.reason else status]
    # Raw fields keep the server's spelling and order; latin-1 maps every byte to a char.
    lines.extend(
        f"{name.decode('latin-1')}: {value.decode('latin-1')}"
        for name, value in response.raw_headers
    )
    return lines


class DownloadProgress(Protocol):
    """Counts the bytes written to a file and shows them; a context manager."""

    def advance(self, count: int) -> None: ...

    def __enter__(self) -> DownloadProgress: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class _NoProgress:
    """The bar when nothing may be drawn: stderr is not a terminal, or rich is missing."""

    def advance(self, count: int) -> None:
        pass

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pass


class _RichProgress:
    """A rich progress bar on stderr: name, bar, bytes so far of total, rate, time left."""

    def __init__(self, label: str, total: int | None, out: IO[str]) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(file=out),
        )
        self._task = self._progress.add_task(label, total=total)

    def advance(self, count: int) -> None:
        self._progress.update(self._task, advance=count)

    def __enter__(self) -> _RichProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            # An unknown size is known at the end: the bar shows it full, not pulsing.
            task = self._progress.tasks[0]
            self._progress.update(self._task, total=task.completed)
        self._progress.stop()


def download_progress(label: str, total: int | None, out: IO[str]) -> DownloadProgress:
    """A bar on the terminal `out` if rich is installed, else one that draws nothing."""
    try:
        return _RichProgress(label, total, out)
    except ImportError:
        return _NoProgress()


def write_heads(response: airhttp.ClientResponse) -> None:
    """-I: every response head to stdout (redirects followed first), CRLF as on the wire."""
    out = sys.stdout.buffer
    for hop in (*response.history, response):
        lines = response_head(hop)
        out.write("".join(f"{line}\r\n" for line in lines).encode("latin-1") + b"\r\n")
    out.flush()


async def write_body(response: airhttp.ClientResponse, output: str | None) -> None:
    """The body to the file `output`, or to stdout (`None` or "-"), streamed as it arrives."""
    if output is not None and output != "-":
        await _download(response, Path(output))
        return
    stdout = sys.stdout
    lexer = lexer_for(response.content_type) if stdout.isatty() else None
    if lexer is None:
        await _copy(response, stdout.buffer)
        return
    body = bytearray()
    async for chunk in response.content.iter_chunked(_CHUNK):
        body += chunk
        if len(body) > _RENDER_LIMIT:
            # Too big to pretty-print: what came so far goes out raw, the rest follows it.
            stdout.buffer.write(body)
            await _copy(response, stdout.buffer)
            return
    if not render_body(bytes(body), lexer, response.charset, stdout):
        stdout.buffer.write(body)
        stdout.buffer.flush()


async def _copy(response: airhttp.ClientResponse, out: IO[bytes]) -> None:
    """Stream the body to `out` as it arrives."""
    async for chunk in response.content.iter_chunked(_CHUNK):
        out.write(chunk)
        out.flush()


async def _download(response: airhttp.ClientResponse, path: Path) -> None:
    """Write the body to a file, with a progress bar when stderr is a terminal."""
    # A decoded body's size differs from Content-Length: then the total is unknown.
    encoded = response.headers.get("Content-Encoding", "identity").lower() != "identity"
    total = None if encoded else response.content_length
    with path.open("wb") as file:
        if not sys.stderr.isatty():
            await _copy(response, file)
            return
        with download_progress(path.name, total, sys.stderr) as progress:
            async for chunk in response.content.iter_chunked(_CHUNK):
                file.write(chunk)
                progress.advance(len(chunk))


def verbose_trace(absolute_form: bool) -> airhttp.TraceConfig:
    """-v: each request head as sent ("> ") and each response head as received ("< ")."""
    config = airhttp.TraceConfig()

    async def headers_sent(
        session: Any, context: Any, params: airhttp.TraceRequestHeadersSentParams
    ) -> None:
        plain = params.url.scheme in ("http", "ws")
        target = str(params.url) if absolute_form and plain else params.url.raw_path_qs
        _verbose_lines(">", request_head(params.method, target, params.headers.items()))

    async def redirected(
        session: Any, context: Any, params: airhttp.TraceRequestRedirectParams
    ) -> None:
        _verbose_lines("<", response_head(params.response))

    async def ended(session: Any, context: Any, params: airhttp.TraceRequestEndParams) -> None:
        _verbose_lines("<", response_head(params.response))

    config.on_request_headers_sent.append(headers_sent)
    config.on_request_redirect.append(redirected)
    config.on_request_end.append(ended)
    return config


def _verbose_lines(mark: str, lines: list[str]) -> None:
    sys.stderr.write("".join(f"{mark} {line}\n" for line in lines) + f"{mark}\n")
    sys.stderr.flush()

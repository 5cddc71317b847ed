"""Support for tests/test_fidelity_bodies.py: a recording server, both clients, bodies.

The server keeps each request (head, and body with chunked framing decoded); `run_both`
sends one scenario with aiohttp's client and with airhttp's and returns what each sent,
raised and warned. Nothing here asserts.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import warnings
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
from yarl import URL

import airhttp

from .conftest import RawServer

LIBS = (aiohttp, airhttp)
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
_BOUNDARY = re.compile(rb'boundary="?([^"\r\n;]+)')
_USER_AGENT = re.compile(rb"\r\nUser-Agent: [^\r\n]*")


# --- the recording server and the runner ------------------------------------------------


async def _read_message(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    """One request: its head, then its body (a chunked one decoded, marked as such)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length, chunked = 0, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"expect":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    if not chunked:
        return head + (await reader.readexactly(length) if length else b"")
    body = b""
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return head + b"<chunked>" + body
        body += (await reader.readexactly(size + 2))[:-2]


class Recorder:
    """A raw server that keeps every request and answers each with `reply(n)`."""

    def __init__(self, raw_server: RawServer) -> None:
        self.raw_server = raw_server
        self.messages: list[bytes] = []
        self.reply: Callable[[bytes], bytes] = lambda message: OK

    async def start(self) -> URL:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while True:
                try:
                    message = await _read_message(reader, writer)
                except asyncio.IncompleteReadError:
                    return
                self.messages.append(message)
                writer.write(self.reply(message))
                await writer.drain()

        return await self.raw_server.start(handle)


def normalise(message: bytes) -> bytes:
    found = _BOUNDARY.search(message)
    if found is not None:
        message = message.replace(found.group(1), b"BOUNDARY")
    return _USER_AGENT.sub(b"", message)


class Files:
    """Files for one client's run of a scenario: made in tmp_path, closed at the end."""

    def __init__(self, lib: Any, root: Path) -> None:
        self.lib = lib
        self.root = root
        self.opened: list[Any] = []

    def open(self, name: str, mode: str = "rb", **kwargs: Any) -> Any:
        file = (self.root / name).open(mode, **kwargs)
        self.opened.append(file)
        return file

    def close(self) -> None:
        for file in self.opened:
            file.close()


def make_files(root: Path) -> None:
    (root / "plain.txt").write_bytes(b"hello")
    (root / 'файл "q".txt').write_bytes(b"uni")
    (root / "a b;c.bin").write_bytes(b"sp")
    (root / "text.txt").write_bytes("текст".encode())
    (root / "d.json").write_bytes(b"{}")


Outcome = tuple[list[bytes], str, list[str]]


async def run_both(
    recorder: Recorder, make: Callable[[Files], dict[str, Any]], tmp_path: Path
) -> tuple[Outcome, Outcome]:
    """Run one scenario with each client; what the server got, what was raised, warnings."""
    make_files(tmp_path)
    url = await recorder.start()
    outcomes = []
    for lib in LIBS:
        files = Files(lib, tmp_path)
        start = len(recorder.messages)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            raised = ""
            try:
                kwargs = make(files)
                method = kwargs.pop("method", "POST")
                session_kw = kwargs.pop("session_kw", {})
                async with lib.ClientSession(**session_kw) as session:
                    async with session.request(method, url / "up", **kwargs) as resp:
                        await resp.read()
            except Exception as exc:
                raised = f"{type(exc).__name__}: {exc}"
            finally:
                files.close()
        sent = [normalise(m) for m in recorder.messages[start:]]
        notes = sorted(
            f"{w.category.__name__}: {w.message}"
            for w in caught
            if not issubclass(w.category, ResourceWarning)
        )
        outcomes.append((sent, raised, notes))
    return outcomes[0], outcomes[1]


def form(files: Files, *fields: tuple[Any, ...], **options: Any) -> dict[str, Any]:
    """data=FormData(**options) with add_field(name, value, **kw) for each (name, value, kw)."""
    data = files.lib.FormData(**options)
    for name, value, *rest in fields:
        data.add_field(name, value, **(rest[0] if rest else {}))
    return {"data": data}


def multipart(files: Files, subtype: str, *steps: Callable[[Any, Any], Any]) -> dict[str, Any]:
    """data=MultipartWriter(subtype) after each step(lib, writer)."""
    writer = files.lib.MultipartWriter(subtype, boundary="BOUNDARY")
    for step in steps:
        step(files.lib, writer)
    return {"data": writer}


class Opaque:
    """A value no payload takes, with the same repr in both runs."""

    def __repr__(self) -> str:
        return "<opaque>"


async def chunks() -> AsyncIterator[bytes]:
    yield b"a"
    yield b""
    yield b"bc"


def custom_payload(lib: Any, kind: str) -> Any:
    """A Payload subclass the way aiohttp users write them, on `lib`'s Payload."""
    base = lib.payload.Payload

    class Decoding(base):  # type: ignore[misc, valid-type]
        def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
            return "décodé"

        async def write(self, writer: Any) -> None:
            await writer.write(b"xyz")
            await writer.write(memoryview(b"mv"))
            await writer.write(bytearray(b"ba"))

    class SizedAfter(Decoding):
        def __init__(self, value: Any, **kwargs: Any) -> None:
            super().__init__(value, **kwargs)
            self._size = 7

    class SizedBefore(Decoding):
        def __init__(self, value: Any, **kwargs: Any) -> None:
            self._size = 7
            super().__init__(value, **kwargs)

    class SizedOnClass(Decoding):
        _size = 7

    class TypedOnClass(Decoding):
        _default_content_type = "text/x-custom"

    classes = {
        "decode-and-write": Decoding,
        "size-after-init": SizedAfter,
        "size-before-init": SizedBefore,
        "size-on-class": SizedOnClass,
        "default-type": TypedOnClass,
    }
    return classes[kind](b"ignored")


class Unseekable(io.RawIOBase):
    """A raw stream that says it cannot seek: its size is unknown."""

    def __init__(self) -> None:
        self.pieces = [b"abc", b"def"]

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: Any) -> int:
        if not self.pieces:
            return 0
        piece = self.pieces.pop(0)
        buffer[: len(piece)] = piece
        return len(piece)


def pipe(files: Files) -> Any:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, "труба".encode())
    os.close(write_fd)
    pipe = os.fdopen(read_fd, "rb")
    files.opened.append(pipe)
    return pipe


UNSEEKABLE = {
    "pipe": pipe,
    "raw": lambda f: Unseekable(),
    "buffered-raw": lambda f: io.BufferedReader(Unseekable()),
    "text-raw": lambda f: io.TextIOWrapper(io.BufferedReader(Unseekable()), encoding="utf-8"),
}


def closing_bodies(lib: Any, closed: list[str], files: Files) -> list[Any]:
    """Bodies whose close() records itself: a bytes subclass, a custom one, a file."""

    class Bytes(lib.payload.BytesPayload):  # type: ignore[misc, name-defined]
        async def close(self) -> None:
            closed.append("bytes")
            await super().close()

    class Custom(lib.payload.Payload):  # type: ignore[misc, name-defined]
        def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
            return "c"

        async def write(self, writer: Any) -> None:
            await writer.write(b"c")

        async def close(self) -> None:
            closed.append("custom")
            await super().close()

    return [Bytes(b"abc"), Custom(b""), files.open("plain.txt")]

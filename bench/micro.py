"""Micro-benchmarks, in process and without a server: the parsers and the frame writer.

One implementation per process (run.py sets AIOHTTP_NO_EXTENSIONS for aiohttp-py), one
JSON line of throughputs on stdout. A timing script, not a test: it only parses and builds
constant byte strings in memory, and it must not open a socket.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

SMALL_HEAD: Final = (
    b"HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
    b"Content-Type: text/plain\r\nContent-Length: 13\r\nConnection: keep-alive\r\n"
    b"Cache-Control: no-cache\r\n\r\nHello, World!"
)
THIRTY_HEADS: Final = (
    b"HTTP/1.1 200 OK\r\n"
    + b"".join(b"X-Header-%02d: some value number %d here\r\n" % (i, i) for i in range(29))
    + b"Content-Length: 13\r\n\r\nHello, World!"
)
READ_SIZE: Final = 65536
CHUNK_SIZE: Final = 8192
CHUNKED_BODY_SIZE: Final = 1024 * 1024
WS_STREAM_SIZE: Final = 2 * 1024 * 1024
SMALL_TEXT: Final = b"x" * 100
LARGE_BINARY: Final = b"\x5a" * 32 * 1024
# Frames written per call: one event-loop turn around many sends, as a busy socket has.
FRAMES_PER_CALL: Final = 200
# Each measurement repeats a batch this long (about) and keeps the fastest repeat.
BATCH_SECONDS: Final = 0.08
REPEATS: Final = 5


@dataclass(frozen=True)
class Case:
    name: str
    unit: str  # "resp/s" or "MB/s"
    units_per_call: float  # responses, or MB, one call handles
    description: str


CASES: Final = {
    c.name: c
    for c in (
        Case("parse-small", "resp/s", 1,
             "response parser: 7-field head + 13-byte body, repeated on one connection"),
        Case("parse-30", "resp/s", 1,
             "response parser: 30-field head + 13-byte body, repeated on one connection"),
        Case("parse-first", "resp/s", 1,
             "response parser: 7-field head + 13-byte body, a new parser each time"),
        Case("parse-chunked", "MB/s", CHUNKED_BODY_SIZE / 1e6,
             "response parser: 1 MiB chunked body (8 KiB chunks) in 64 KiB reads"),
        Case("ws-read-small", "MB/s", WS_STREAM_SIZE / 1e6,
             "frame reader: 100-byte TEXT frames, 2 MiB in 64 KiB reads"),
        Case("ws-read-large", "MB/s", WS_STREAM_SIZE / 1e6,
             "frame reader: 32 KiB BINARY frames, 2 MiB in 64 KiB reads"),
        Case("ws-write-small", "MB/s", FRAMES_PER_CALL * len(SMALL_TEXT) / 1e6,
             "frame writer: masked 100-byte TEXT frames, awaited send_frame"),
        Case("ws-write-large", "MB/s", FRAMES_PER_CALL * len(LARGE_BINARY) / 1e6,
             "frame writer: masked 32 KiB BINARY frames, awaited send_frame"),
    )
}  # fmt: skip


def pieces(data: bytes) -> list[bytes]:
    """`data` cut as socket reads would deliver it."""
    return [data[at : at + READ_SIZE] for at in range(0, len(data), READ_SIZE)]


def chunked_response() -> list[bytes]:
    chunk = b"%x\r\n%b\r\n" % (CHUNK_SIZE, b"c" * CHUNK_SIZE)
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
    return pieces(head + chunk * (CHUNKED_BODY_SIZE // CHUNK_SIZE) + b"0\r\n\r\n")


def server_frames(payload: bytes, opcode: int) -> list[bytes]:
    """Unmasked server frames of `payload` (< 64 KiB), about WS_STREAM_SIZE in all."""
    size = len(payload)
    header = bytes((0x80 | opcode, size)) if size < 126 else bytes((0x80 | opcode, 126))
    if size >= 126:
        header += size.to_bytes(2, "big")
    return pieces((header + payload) * (WS_STREAM_SIZE // size))


def frame_writer(
    loop: asyncio.AbstractEventLoop, send: Callable[[bytes, int], Any], payload: bytes, opcode: int
) -> Callable[[], object]:
    """A call that sends FRAMES_PER_CALL frames through `send` (a writer's send_frame)."""

    async def frames() -> None:
        for _ in range(FRAMES_PER_CALL):
            await send(payload, opcode)

    return lambda: loop.run_until_complete(frames())


class NullTransport(asyncio.Transport):
    """A transport that takes every write and keeps nothing: the writer's cost alone."""

    def write(self, data: bytes | bytearray | memoryview) -> None:
        pass

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0


def airhttp_cases(loop: asyncio.AbstractEventLoop) -> dict[str, Callable[[], object]]:
    from airhttp._ws_frames import WebSocketReader
    from airhttp._ws_writer import WebSocketWriter
    from airhttp.base_protocol import BaseProtocol
    from airhttp.http_parser import NEED_DATA, ResponseParser

    def parse(reads: list[bytes], fresh: bool = False) -> Callable[[], object]:
        # One parser for every run, as one connection: airhttp parses a repeated head once.
        kept = ResponseParser()

        def run() -> object:
            parser = ResponseParser() if fresh else kept
            parser.start_response("GET")
            for data in reads:
                parser.feed_data(data)
                while parser.next_event() is not NEED_DATA:
                    pass
            return parser

        return run

    def read_frames(reads: list[bytes]) -> Callable[[], object]:
        def run() -> object:
            reader = WebSocketReader(max_msg_size=0)
            for data in reads:
                reader.feed_data(data)
                while reader.next_message() is not None:
                    pass
            return reader

        return run

    protocol = BaseProtocol(loop)
    protocol.transport = NullTransport()
    send = WebSocketWriter(protocol).send_frame

    return {
        "parse-small": parse([SMALL_HEAD]),
        "parse-30": parse([THIRTY_HEADS]),
        "parse-first": parse([SMALL_HEAD], fresh=True),
        "parse-chunked": parse(chunked_response()),
        "ws-read-small": read_frames(server_frames(SMALL_TEXT, 0x1)),
        "ws-read-large": read_frames(server_frames(LARGE_BINARY, 0x2)),
        "ws-write-small": frame_writer(loop, send, SMALL_TEXT, 0x1),
        "ws-write-large": frame_writer(loop, send, LARGE_BINARY, 0x2),
    }


def aiohttp_cases(loop: asyncio.AbstractEventLoop) -> dict[str, Callable[[], object]]:
    """aiohttp's public HttpResponseParser and WebSocketWriter.

    Its WebSocketReader is left out: it can only feed aiohttp's private WebSocketDataQueue.
    The parser gets a 1 GiB read limit (its `read_bufsize`): nothing reads the body's
    StreamReader here, and a full one would pause the parser with the data unparsed.
    """
    from aiohttp.base_protocol import BaseProtocol
    from aiohttp.http import HttpResponseParser, WebSocketWriter

    protocol = BaseProtocol(loop)

    def parse(reads: list[bytes], fresh: bool = False) -> Callable[[], object]:
        kept: Any = HttpResponseParser(protocol, loop, 2**30)

        def run() -> object:
            parser = HttpResponseParser(protocol, loop, 2**30) if fresh else kept
            for data in reads:
                parser.feed_data(data)
            return parser

        return run

    send = WebSocketWriter(protocol, NullTransport(), use_mask=True).send_frame

    return {
        "parse-small": parse([SMALL_HEAD]),
        "parse-30": parse([THIRTY_HEADS]),
        "parse-first": parse([SMALL_HEAD], fresh=True),
        "parse-chunked": parse(chunked_response()),
        "ws-write-small": frame_writer(loop, send, SMALL_TEXT, 0x1),
        "ws-write-large": frame_writer(loop, send, LARGE_BINARY, 0x2),
    }


def calls_per_batch(run: Callable[[], object]) -> int:
    started = time.perf_counter()
    calls = 0
    while time.perf_counter() - started < BATCH_SECONDS / 4:
        run()
        calls += 1
    return max(1, calls * 4)


def best_rate(run: Callable[[], object], units_per_call: float) -> float:
    run()  # the first call teaches a parser its field names and fills caches
    calls = calls_per_batch(run)
    best = float("inf")
    for _ in range(REPEATS):
        # As timeit does: a collection landing in one repeat would skew it.
        gc.collect()
        gc.disable()
        try:
            started = time.perf_counter()
            for _ in range(calls):
                run()
            best = min(best, time.perf_counter() - started)
        finally:
            gc.enable()
    return calls * units_per_call / best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--impl", choices=("airhttp", "aiohttp", "aiohttp-py"), required=True)
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated")
    args = parser.parse_args()
    loop = asyncio.new_event_loop()
    try:
        cases = airhttp_cases(loop) if args.impl == "airhttp" else aiohttp_cases(loop)
        wanted = [name for name in args.cases.split(",") if name in cases]
        rates = {name: best_rate(cases[name], CASES[name].units_per_call) for name in wanted}
    finally:
        loop.close()
    print(json.dumps({"impl": args.impl, "rates": rates}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

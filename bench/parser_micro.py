"""Micro-benchmark for the response parser: microseconds per small response.

A timing script, not a test; it only parses constant byte strings in memory.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from collections.abc import Callable
from typing import Any, Final

from airhttp.http_parser import NEED_DATA, ResponseParser

SMALL: Final = (
    b"HTTP/1.1 200 OK\r\n"
    b"Server: nginx\r\n"
    b"Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 13\r\n"
    b"Connection: keep-alive\r\n"
    b"Cache-Control: no-cache\r\n"
    b"\r\n"
    b"Hello, world!"
)
THIRTY: Final = (
    b"HTTP/1.1 200 OK\r\n"
    + b"".join(b"X-Header-%d: some value number %d here\r\n" % (i, i) for i in range(29))
    + b"Content-Length: 13\r\n\r\nHello, world!"
)
CHUNKED: Final = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5\r\nHello\r\n8\r\n, world!\r\n0\r\n\r\n"
)
CASES: Final = {"small": SMALL, "30 headers": THIRTY, "chunked": CHUNKED}


def airhttp_runner(data: bytes) -> Callable[[], object]:
    """One whole response per call: start, feed, drain every event."""
    parser = ResponseParser()
    start = parser.start_response
    feed = parser.feed_data
    next_event = parser.next_event

    def run() -> object:
        start("GET")
        feed(data)
        while (event := next_event()) is not NEED_DATA:
            pass
        return event

    return run


def aiohttp_runner(data: bytes) -> Callable[[], object] | None:
    """The same through aiohttp's parser (C-accelerated when built), if installed."""
    try:
        from aiohttp.base_protocol import BaseProtocol
        from aiohttp.http_parser import HttpResponseParser
    except ImportError:
        return None
    loop = asyncio.new_event_loop()
    parser: Any = HttpResponseParser(BaseProtocol(loop), loop, 2**16)

    def run() -> object:
        return parser.feed_data(data)

    run.loop = loop  # type: ignore[attr-defined]
    return run


def best_micros(run: Callable[[], object], rounds: int, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        # As timeit does: a collection landing in one side's loop would skew it.
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            for _ in range(rounds):
                run()
            best = min(best, (time.perf_counter() - start) / rounds)
        finally:
            gc.enable()
    return best * 1e6


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    # Repeats are interleaved between the two parsers so machine noise hits both alike.
    for name, data in CASES.items():
        ours = airhttp_runner(data)
        theirs = aiohttp_runner(data)
        ours()  # the first response teaches the parser its field names
        mine = other = float("inf")
        for _ in range(20):
            mine = min(mine, best_micros(ours, rounds, 1))
            if theirs is not None:
                other = min(other, best_micros(theirs, rounds, 1))
        line = f"{name:<10} {len(data):5d} bytes  airhttp {mine:6.2f} us"
        if theirs is not None:
            line += f"   aiohttp {other:6.2f} us"
            theirs.loop.close()  # type: ignore[attr-defined]
        print(line)


if __name__ == "__main__":
    main()

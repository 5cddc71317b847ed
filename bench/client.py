"""One benchmark measurement: one client library, one scenario, one JSON line on stdout.

bench/run.py starts this in a fresh process per measurement; it must not start the server,
and it imports a client library only after the mode is chosen, so run.py can import it cheaply.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

Fetch = Callable[[str], Awaitable[bytes]]


@dataclass(frozen=True)
class Scenario:
    path: str
    concurrency: int
    default_n: int
    quick_n: int
    expected_body: bytes | None
    description: str
    decode_json: bool = False
    # A WebSocket scenario: one socket, each "request" is a text message echoed back.
    websocket: bool = False


SCENARIOS: Final = {
    "seq": Scenario(
        "/small", 1, 5000, 1000, b"Hello, World!", "sequential GET /small, one keep-alive session"
    ),
    "c64": Scenario(
        "/small", 64, 20000, 4000, b"Hello, World!", "64 tasks sharing one session, GET /small"
    ),
    "headers30": Scenario(
        "/headers30", 1, 5000, 1000, b"Hello, World!", "sequential GET /headers30 (30 headers)"
    ),
    "json": Scenario(
        "/json", 1, 5000, 1000, None, "sequential GET /json, body decoded with json.loads", True
    ),
    "ws": Scenario(
        "/ws",
        1,
        10000,
        2000,
        b"Hello, World!",
        "WebSocket: send_str + receive of a 13-byte text, one socket",
        websocket=True,
    ),
}
DEFAULT_SCENARIOS: Final = ("seq", "c64", "headers30", "ws")
MODES: Final = ("airhttp", "aiohttp", "aiohttp-py", "httpx")
DEFAULT_WARMUP: Final = 200
# The pool must hold every concurrent connection, or a client pays for reconnects instead.
POOL_SIZE: Final = 100


class Unavailable(Exception):
    """The mode's library is missing or cannot run the benchmark yet."""


@dataclass
class Client:
    fetch: Fetch
    close: Callable[[], Awaitable[None]]
    library: str
    detail: str


def aiohttp_c_extensions() -> bool:
    import aiohttp.http_parser

    compiled = getattr(aiohttp.http_parser, "HttpResponseParserC", None)
    return compiled is not None and aiohttp.http_parser.HttpResponseParser is compiled


async def open_aiohttp_like(mode: str, websocket: bool = False) -> Client:
    """Open a session of airhttp or aiohttp: both speak the same client API."""
    if mode == "airhttp":
        try:
            import airhttp
        except ImportError as exc:
            raise Unavailable(f"airhttp is not installed ({exc})") from None
        session_class: Any = getattr(airhttp, "ClientSession", None)
        if session_class is None:
            raise Unavailable("airhttp.ClientSession is not available yet")
        library = f"airhttp {airhttp.__version__}"
        detail = "pure Python"
    else:
        try:
            import aiohttp
        except ImportError as exc:
            raise Unavailable(f"aiohttp is not installed ({exc})") from None
        compiled = aiohttp_c_extensions()
        if mode == "aiohttp-py" and compiled:
            raise Unavailable("AIOHTTP_NO_EXTENSIONS=1 did not switch off the C parser")
        session_class = aiohttp.ClientSession
        library = f"aiohttp {aiohttp.__version__}"
        detail = "C extensions" if compiled else "pure Python"
    session = session_class()
    if websocket:
        return await open_websocket(session, library, detail)

    async def fetch(url: str) -> bytes:
        async with session.get(url) as resp:
            body: bytes = await resp.read()
            return body

    return Client(fetch, session.close, library, detail)


async def open_websocket(session: Any, library: str, detail: str) -> Client:
    """A fetch that echoes one text message over a WebSocket opened on first use."""
    sockets: list[Any] = []

    async def fetch(url: str) -> bytes:
        if not sockets:
            sockets.append(await session.ws_connect(url))
        ws = sockets[0]
        await ws.send_str("Hello, World!")
        message = await ws.receive()
        return str(message.data).encode()

    async def close() -> None:
        for ws in sockets:
            await ws.close()
        await session.close()

    return Client(fetch, close, library, detail)


async def open_httpx() -> Client:
    try:
        import httpx
    except ImportError as exc:
        raise Unavailable(f"httpx is not installed ({exc})") from None
    limits = httpx.Limits(max_connections=POOL_SIZE, max_keepalive_connections=POOL_SIZE)
    client = httpx.AsyncClient(limits=limits)
    get = client.get

    async def fetch(url: str) -> bytes:
        return (await get(url)).content

    return Client(fetch, client.aclose, f"httpx {httpx.__version__}", "http/1.1")


async def open_client(mode: str, websocket: bool = False) -> Client:
    if mode == "httpx":
        if websocket:
            raise Unavailable("httpx has no WebSocket client")
        return await open_httpx()
    if mode in MODES:
        return await open_aiohttp_like(mode, websocket)
    raise ValueError(f"unknown mode {mode!r}")


def decoding_json(fetch: Fetch) -> Fetch:
    async def fetch_and_decode(url: str) -> bytes:
        body = await fetch(url)
        json.loads(body)
        return body

    return fetch_and_decode


async def run_requests(fetch: Fetch, url: str, total: int, concurrency: int) -> None:
    if concurrency == 1:
        for _ in range(total):
            await fetch(url)
        return
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await fetch(url)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def cpu_seconds(pid: int | None) -> float | None:
    """CPU time used so far by another process, from Linux's /proc; None elsewhere."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rpartition(b")")[2].split()
    except OSError:
        return None
    # After the command name: state is field 3, utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(args: argparse.Namespace) -> dict[str, object]:
    scenario = SCENARIOS[args.scenario]
    url = f"http://{args.host}:{args.port}{scenario.path}"
    client = await open_client(args.mode, scenario.websocket)
    try:
        fetch = decoding_json(client.fetch) if scenario.decode_json else client.fetch
        body = await fetch(url)
        if scenario.expected_body is not None and body != scenario.expected_body:
            raise RuntimeError(f"unexpected body from {url}: {body[:80]!r}")
        await run_requests(fetch, url, args.warmup, scenario.concurrency)
        server_cpu_before = cpu_seconds(args.server_pid)
        cpu_before = time.process_time()
        started = time.perf_counter()
        await run_requests(fetch, url, args.n, scenario.concurrency)
        elapsed = time.perf_counter() - started
        cpu_used = time.process_time() - cpu_before
        server_cpu_after = cpu_seconds(args.server_pid)
    finally:
        await client.close()
    server_share = None
    if server_cpu_before is not None and server_cpu_after is not None:
        server_share = (server_cpu_after - server_cpu_before) / elapsed
    return {
        "mode": args.mode,
        "scenario": args.scenario,
        "n": args.n,
        "seconds": elapsed,
        "rps": args.n / elapsed,
        "us_per_request": elapsed / args.n * 1e6,
        "client_cpu": cpu_used / elapsed,
        "client_cpu_us_per_request": cpu_used / args.n * 1e6,
        "server_cpu": server_share,
        "library": client.library,
        "detail": client.detail,
    }


async def probe(mode: str) -> dict[str, object]:
    """Report whether a mode can run, without sending a request."""
    try:
        client = await open_client(mode)
    except Unavailable as exc:
        return {"mode": mode, "available": False, "reason": str(exc)}
    await client.close()
    return {"mode": mode, "available": True, "library": client.library, "detail": client.detail}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--mode", choices=MODES, required=True)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="seq")
    parser.add_argument("--n", type=int, default=None, help="timed requests (scenario default)")
    parser.add_argument("--warmup", type=int, default=DEFAULT_WARMUP)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--server-pid", type=int, default=None, help="to sample its CPU time")
    parser.add_argument("--probe", action="store_true", help="only report if the mode can run")
    args = parser.parse_args(argv)
    if args.n is None:
        args.n = SCENARIOS[args.scenario].default_n
    if not args.probe and args.port is None:
        parser.error("--port is required unless --probe is given")
    return args


def main() -> int:
    args = parse_args()
    if args.probe:
        result = asyncio.run(probe(args.mode))
    else:
        try:
            result = asyncio.run(measure(args))
        except Unavailable as exc:
            result = {"mode": args.mode, "available": False, "reason": str(exc)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

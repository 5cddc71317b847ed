"""One benchmark cell: one client library, one workload, one JSON line on stdout.

bench/run.py starts this in a fresh process per cell; it must not start a server, and it
imports a client library only once the mode is known (bench/clients.py does that).
`--check` instead verifies, with a few requests per workload, that the client gets the
exact bytes (and, for gzip, really sees a gzip-encoded chunked reply). On the TLS workloads
both the check and the timed run first make sure the client speaks the HTTP version its
mode promises: HTTP/2 for airhttp-h2, HTTP/1.1 for every other.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from typing import Any, Final

from clients import BenchClient, Unavailable, open_client
from payloads import (
    DOWNLOAD_SIZE,
    HEADERS30_COUNT,
    JSON_DOCUMENT,
    SMALL_BODY,
    UPLOAD_REPLY,
    download_digest,
    gzip_source,
    upload_body,
)
from workloads import HTTP2_MODES, MODES, WORKLOADS, Workload

Operation = Callable[[], Awaitable[object]]
CHECK_REPEATS: Final = 3
WS_TEXT: Final = SMALL_BODY.decode()


def operation(client: BenchClient, workload: Workload, url: str) -> Operation:
    """The one thing the workload repeats, bound once so every client pays the same call."""
    name = workload.kind
    if name == "download":
        return partial(client.download, url)
    if name == "upload":
        return partial(client.upload, url, upload_body())
    if name == "json":
        return partial(client.post_json, url, JSON_DOCUMENT)
    if name == "cold":
        return partial(client.cold_get, url)
    if name == "ws":
        return partial(client.ws_echo, url, WS_TEXT)
    return partial(client.get, url)


def expected_result(name: str) -> object:
    if name == "download":
        return DOWNLOAD_SIZE
    if name == "upload":
        return UPLOAD_REPLY
    if name == "json":
        return JSON_DOCUMENT
    if name == "ws":
        return WS_TEXT
    if name == "gzip":
        return gzip_source()
    return SMALL_BODY


def verify(name: str, got: object) -> None:
    want = expected_result(name)
    if got != want:
        shown = got[:60] if isinstance(got, bytes) else got
        raise RuntimeError(f"{name}: unexpected result {shown!r}")


async def check_version(client: BenchClient, mode: str, url: str) -> None:
    """Fail loudly unless `mode` got the HTTP version it stands for from the TLS server."""
    want = (2, 0) if mode in HTTP2_MODES else (1, 1)
    got = (await client.inspect(url)).version
    if got != want:
        spoke = "an unknown version" if got is None else f"HTTP/{got[0]}.{got[1]}"
        raise RuntimeError(f"{mode} spoke {spoke} to {url}, not HTTP/{want[0]}.{want[1]}")


async def check_reply(client: BenchClient, name: str, url: str) -> None:
    """What only the whole reply shows: the headers30 fields, the gzip framing, the bytes."""
    if name not in ("headers30", "gzip", "download"):
        return
    reply = await client.inspect(url)
    fields = {key.lower(): value.lower() for key, value in reply.headers.items()}
    if name == "headers30" and len(reply.headers) != HEADERS30_COUNT:
        raise RuntimeError(f"headers30: {len(reply.headers)} fields, not {HEADERS30_COUNT}")
    if name == "gzip":
        framing = (fields.get("content-encoding"), fields.get("transfer-encoding"))
        if framing != ("gzip", "chunked"):
            raise RuntimeError(f"gzip: reply was not gzip + chunked but {framing}")
        verify(name, reply.body)
    if name == "download" and hashlib.blake2b(reply.body).hexdigest() != download_digest():
        raise RuntimeError("download: the body differs from the served file")


async def run_operations(
    op: Operation, total: int, concurrency: int, deadline: float = math.inf
) -> int:
    """Run `op` `total` times from `concurrency` tasks, stopping early at `deadline`.

    Returns how many operations completed. The deadline (perf_counter time) keeps a slow
    client's cell bounded; its throughput is then measured over fewer operations.
    """
    clock = time.perf_counter
    done = 0
    if concurrency == 1:
        while done < total:
            await op()
            done += 1
            if clock() > deadline:
                break
        return done
    started = 0

    async def worker() -> None:
        nonlocal started, done
        while started < total and clock() <= deadline:
            started += 1
            await op()
            done += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done


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


def loop_name() -> str:
    return type(asyncio.get_running_loop()).__module__.split(".")[0]


def url_for(args: argparse.Namespace, workload: Workload) -> str:
    base = args.python_base if workload.server == "python" else args.http_base
    if workload.tls:
        if args.https_base is None:
            raise RuntimeError(f"{workload.name} needs --https-base (nginx's TLS server)")
        base = args.https_base
    return f"{base}{workload.path}"


async def measure(args: argparse.Namespace) -> dict[str, object]:
    workload = WORKLOADS[args.workload]
    client = open_client(args.mode, args.ca_file)
    url = url_for(args, workload)
    op = operation(client, workload, url)
    try:
        if workload.tls:
            await check_version(client, args.mode, url)
        verify(workload.kind, await op())
        limit = args.max_seconds if args.max_seconds > 0 else math.inf
        await run_operations(op, args.warmup, workload.concurrency, time.perf_counter() + limit)
        # Garbage from the warm-up is collected now, not inside one client's timed section.
        gc.collect()
        server_before = cpu_seconds(args.server_pid)
        cpu_before = time.process_time()
        started = time.perf_counter()
        done = await run_operations(op, args.n, workload.concurrency, started + limit)
        elapsed = time.perf_counter() - started
        cpu_used = time.process_time() - cpu_before
        server_after = cpu_seconds(args.server_pid)
    finally:
        await client.close()
    server_share = None
    if server_before is not None and server_after is not None:
        server_share = (server_after - server_before) / elapsed
    return {
        "mode": args.mode,
        "workload": workload.name,
        "n": done,
        "seconds": elapsed,
        "ops_per_second": done / elapsed,
        "cpu_per_op_us": cpu_used / done * 1e6,
        "client_cpu": cpu_used / elapsed,
        "server_cpu": server_share,
        "loop": loop_name(),
        "library": client.library,
        "detail": client.detail,
    }


async def check(args: argparse.Namespace) -> dict[str, object]:
    """Run each named workload a few times and compare every result with what was served."""
    client = open_client(args.mode, args.ca_file)
    failures: dict[str, str] = {}
    try:
        for name in args.workloads:
            workload = WORKLOADS[name]
            try:
                url = url_for(args, workload)
                if workload.tls:
                    await check_version(client, args.mode, url)
                op = operation(client, workload, url)
                for _ in range(CHECK_REPEATS):
                    verify(workload.kind, await op())
                if args.mode != "floor":
                    await check_reply(client, workload.kind, url)
            except Exception as exc:  # any failure disqualifies this workload, not the run
                failures[name] = f"{type(exc).__name__}: {exc}"
    finally:
        await client.close()
    return {"mode": args.mode, "failures": failures, "loop": loop_name()}


async def probe(mode: str) -> dict[str, object]:
    """Report whether a mode can run, without sending a request."""
    try:
        client = open_client(mode)
    except Unavailable as exc:
        return {"mode": mode, "available": False, "reason": str(exc)}
    await client.close()
    return {
        "mode": mode,
        "available": True,
        "library": client.library,
        "detail": client.detail,
        "loop": loop_name(),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--mode", choices=MODES, required=True)
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="seq")
    parser.add_argument("--n", type=int, default=None, help="timed operations (workload's)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed (workload's)")
    parser.add_argument(
        "--max-seconds", type=float, default=0.0, help="stop timing after this (0: never)"
    )
    parser.add_argument("--http-base", default=None, help="e.g. http://127.0.0.1:8080")
    parser.add_argument("--python-base", default=None, help="bench/server.py's, likewise")
    parser.add_argument("--https-base", default=None, help="nginx's TLS server, if it runs")
    parser.add_argument("--ca-file", default=None, help="the CA PEM the TLS server chains to")
    parser.add_argument("--server-pid", type=int, default=None, help="to sample its CPU time")
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop")
    parser.add_argument("--probe", action="store_true", help="only report if the mode can run")
    parser.add_argument("--check", default=None, help="comma-separated workloads to verify")
    args = parser.parse_args(argv)
    workload = WORKLOADS[args.workload]
    args.n = workload.default_n if args.n is None else args.n
    args.warmup = workload.warmup if args.warmup is None else args.warmup
    args.workloads = [w for w in (args.check or "").split(",") if w]
    if not args.probe and (args.http_base is None or args.python_base is None):
        parser.error("--http-base and --python-base are required unless --probe is given")
    return args


def run(main: Coroutine[Any, Any, dict[str, object]], use_uvloop: bool) -> dict[str, object]:
    if not use_uvloop:
        return asyncio.run(main)
    try:
        import uvloop
    except ImportError:
        main.close()
        return {"available": False, "reason": "uvloop is not installed"}
    result: dict[str, object] = uvloop.run(main)
    return result


def main() -> int:
    args = parse_args()
    if args.probe:
        coroutine = probe(args.mode)
    elif args.workloads:
        coroutine = check(args)
    else:
        coroutine = measure(args)
    try:
        result = run(coroutine, args.uvloop)
    except Unavailable as exc:
        result = {"mode": args.mode, "available": False, "reason": str(exc)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

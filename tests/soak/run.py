"""The soak run behind `make stress`: one ClientSession against a server that misbehaves.

`python -m tests.soak.run [--requests N] [--concurrency C] [--ws-sessions M] [--seconds S]
[--json]` starts `tests/soak/fault_server.py` in a process of its own and sends N requests
through one airhttp ClientSession, C at a time; about one in ten asks for a fault (the
path names it, see `FAULT_CYCLE`). Then M WebSocket sessions of a few echoes each, one in
ten with a fault of its own. Every outcome is checked against what its path asked for:
a good request must return its exact body, a faulty one must raise one of the exception
classes `HTTP_ALLOWED` gives for that fault (WebSockets: `WS_ALLOWED`). Anything else is
an unexpected outcome, printed with its traceback (the first ten).

Around the run it measures open file descriptors and RSS (before, at every tenth of the
requests, and after the session is closed and the garbage collected), the connector's
pool while the session is still open, the airhttp objects still alive at the end, and
everything reported to the loop's exception handler. The exit code is 1 when anything
is off (`SoakReport.problems`). The smoke test (tests/test_soak_smoke.py) runs the same
core, `run_soak`, on a small scale.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import gc
import itertools
import json
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Final, TypeVar

from yarl import URL

import airhttp
from airhttp import (
    ClientOSError,
    ClientPayloadError,
    ClientResponseError,
    ServerDisconnectedError,
    SocketTimeoutError,
)
from airhttp.client_proto import ResponseHandler

from .fault_server import HTTP_FAULTS, LONG_BODY, WS_FAULTS, ok_payload

_T = TypeVar("_T")
ROOT: Final = Path(__file__).resolve().parents[2]

# Fault -> the exception classes (exact types) a request asking for it may raise. Checked
# against aiohttp's client by tests/test_soak_smoke.py. long_body raises nothing: its
# answer is the 5 bytes of its Content-Length (aiohttp fails it instead, see there).
HTTP_ALLOWED: Final[dict[str, frozenset[type[BaseException]]]] = {
    "close_before_head": frozenset({ServerDisconnectedError}),
    "close_mid_head": frozenset({ServerDisconnectedError}),
    "close_mid_body_length": frozenset({ClientPayloadError}),
    "close_mid_body_chunked": frozenset({ClientPayloadError}),
    "reset_before_head": frozenset({ClientOSError}),
    # The reset may overtake the head in the kernel's queue, then no head is seen at all.
    "reset_mid_body": frozenset({ClientPayloadError, ClientOSError}),
    "stall_head": frozenset({SocketTimeoutError}),
    "stall_body": frozenset({SocketTimeoutError}),
    "malformed_head": frozenset({ClientResponseError}),  # with status 400
    "corrupt_gzip": frozenset({ClientPayloadError}),
}
# WebSocket fault -> the outcomes allowed: "<message index>:<type>[:<data class>]/<close
# code>" for the first message that is not the echo, or "raised <class>".
WS_ALLOWED: Final[dict[str, frozenset[str]]] = {
    "ws_ok": frozenset({"echoed/1000"}),
    "ws_drop_mid_message": frozenset({"1:CLOSED/1006"}),
    "ws_invalid_frame": frozenset({"1:ERROR:WebSocketError/1002"}),
    "ws_reset": frozenset({"1:CLOSED/1006"}),
    "ws_bad_accept": frozenset({"raised WSServerHandshakeError"}),
}
# Faults per 1000 requests: 100 in all, the stalls rarer as each holds a slot for sock_read.
FAULT_WEIGHTS: Final = {kind: 5 if kind.startswith("stall") else 10 for kind in HTTP_FAULTS}
# The 100 faults of each block of 1000 requests, spread out: request i gets the fault
# FAULT_CYCLE[(i % 1000) // 10] when i % 10 == 7, else it is a good one.
FAULT_CYCLE: Final = tuple(
    kind for turn in range(10) for kind, weight in FAULT_WEIGHTS.items() if turn < weight
)
assert len(FAULT_CYCLE) == 100 and set(HTTP_ALLOWED) | {"long_body"} == set(HTTP_FAULTS)
assert set(WS_ALLOWED) == set(WS_FAULTS) | {"ws_ok"}
STALL_TIMEOUT: Final = airhttp.ClientTimeout(sock_read=0.5)
WS_ECHOES: Final = 3
# A request or WebSocket session still running after this long is a hang.
HANG_AFTER: Final = 20.0
MAX_SHOWN: Final = 10


def http_kind(i: int) -> str:
    """What request i asks for: "ok" or a fault of `HTTP_FAULTS`."""
    return FAULT_CYCLE[(i % 1000) // 10] if i % 10 == 7 else "ok"


def ws_kind(j: int) -> str:
    """What WebSocket session j asks for: "ws_ok" or a fault of `WS_FAULTS`."""
    faults = tuple(WS_FAULTS)
    return faults[(j // 10) % len(faults)] if j % 10 == 4 else "ws_ok"


def request_for(base: URL, i: int) -> tuple[str, URL, bytes | None]:
    """Method, URL and body of request i: one in five, good or faulty, is a POST with a
    small body (never retried on a stale connection, unlike the GETs)."""
    kind = http_kind(i)
    url = base / "ok" / str(i) if kind == "ok" else base / "fault" / kind / str(i)
    if (i + i // 10) % 5 == 1:
        return "POST", url, b"post %d" % i
    return "GET", url, None


def judge(kind: str, outcome: tuple[int, bytes] | BaseException, expected: bytes) -> str | None:
    """None when `outcome` (status and body, or what was raised) is what `kind` allows."""
    if isinstance(outcome, BaseException):
        allowed = HTTP_ALLOWED.get(kind, frozenset())
        if type(outcome) not in allowed:
            return f"{kind}: raised {type(outcome).__name__}: {outcome}"
        if isinstance(outcome, ClientResponseError) and outcome.status != 400:
            return f"{kind}: ClientResponseError with status {outcome.status}, not 400"
        return None
    if kind in HTTP_ALLOWED:
        return f"{kind}: no error, status {outcome[0]} and {len(outcome[1])} bytes"
    if outcome != (200, expected):
        return f"{kind}: status {outcome[0]}, body {outcome[1][:60]!r} instead of {expected!r}"
    return None


@dataclass
class SoakConfig:
    requests: int = 100_000
    concurrency: int = 100
    ws_sessions: int = 2000
    seconds: float = 170.0
    # Allowed growth of open FDs (after vs. before) and of RSS (after the session closed vs.
    # half-way through the requests: RSS climbs to a plateau over the first part, as the
    # allocator's arenas and the caches fill); None: not checked.
    fd_slack: int = 0
    rss_slack_mib: float | None = 10.0


@dataclass
class SoakReport:
    config: SoakConfig
    requests_done: int = 0
    ws_sessions_done: int = 0
    stopped_early: bool = False
    http_seconds: float = 0.0
    ws_seconds: float = 0.0
    wall_seconds: float = 0.0
    injected: collections.Counter[str] = field(default_factory=collections.Counter)
    # "kind -> outcome" -> count, where the outcome is a class name, "ok" or a WS signature.
    outcomes: collections.Counter[str] = field(default_factory=collections.Counter)
    raised: collections.Counter[str] = field(default_factory=collections.Counter)
    unexpected: int = 0
    shown: list[str] = field(default_factory=list)
    loop_reports: list[str] = field(default_factory=list)
    fds: dict[str, int] = field(default_factory=dict)
    rss_mib: dict[str, float] = field(default_factory=dict)
    pool: dict[str, int] = field(default_factory=dict)
    alive: dict[str, int] = field(default_factory=dict)
    server: dict[str, Any] = field(default_factory=dict)

    def record(
        self, kind: str, outcome: str, problem: str | None, exc: BaseException | None
    ) -> None:
        self.outcomes[f"{kind} -> {outcome}"] += 1
        if exc is not None:
            self.raised[type(exc).__name__] += 1
        if problem is not None:
            self.unexpected += 1
            if len(self.shown) < MAX_SHOWN:
                trace = "".join(traceback.format_exception(exc)) if exc is not None else ""
                self.shown.append(f"{problem}\n{trace}")

    def problems(self) -> list[str]:
        """Everything that is off; empty when the soak passed."""
        found = []
        cfg = self.config
        if self.unexpected:
            found.append(f"{self.unexpected} unexpected outcomes")
        if self.loop_reports:
            found.append(f"{len(self.loop_reports)} reports to the loop's exception handler")
        if self.pool.get("in_use") or self.pool.get("waiting"):
            found.append(f"pool not empty at the end: {self.pool}")
        if self.fds and self.fds["after"] > self.fds["before"] + cfg.fd_slack:
            found.append(f"open FDs {self.fds['before']} -> {self.fds['after']}")
        rss = self.rss_mib
        growth = rss["after"] - rss.get("at 50%", rss["after"]) if rss else 0.0
        if cfg.rss_slack_mib is not None and growth > cfg.rss_slack_mib:
            found.append(f"RSS grew {growth:.1f} MiB in the second half of the run")
        if any(self.alive.values()):
            found.append(f"airhttp objects alive after close: {self.alive}")
        if self.server.get("reused_after_fault") or self.server.get("errors"):
            found.append(f"server saw a bad reuse or failed itself: {self.server}")
        seen = self.server.get("requests", {})
        missed = [k for k, n in self.injected.items() if k != "ok" and seen.get(k, 0) < n]
        if missed:
            found.append(f"faults the server never saw: {missed}")
        return found

    def as_dict(self) -> dict[str, Any]:
        """The figures as plain JSON types (asdict would rebuild each Counter wrongly)."""
        figures: dict[str, Any] = {"config": asdict(self.config)}
        for item in fields(self):
            if item.name != "config":
                value = getattr(self, item.name)
                figures[item.name] = dict(value) if isinstance(value, dict) else value
        figures["problems"] = self.problems()
        return figures


# --- measurements ---------------------------------------------------------------------


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def pool_counts(connector: Any) -> dict[str, int]:
    """The pool's counts. airhttp has no public API for them (nor has aiohttp), so this
    reads BaseConnector's private bookkeeping (airhttp/_pool.py): slots held by lent or
    opening connections, requests queued for a slot, idle connections kept for reuse."""
    return {
        "in_use": len(connector._acquired),
        "in_use_per_host": sum(len(s) for s in connector._acquired_per_host.values()),
        "waiting": sum(len(q) for q in connector._waiters.values()),
        "idle": sum(len(p) for p in connector._idle.values()),
    }


def alive_objects() -> dict[str, int]:
    """airhttp objects still reachable (after gc.collect()): each one is a leak."""
    watched = (
        ResponseHandler,
        airhttp.ClientResponse,
        airhttp.ClientWebSocketResponse,
        airhttp.ClientSession,
        airhttp.TCPConnector,
    )
    counts = dict.fromkeys((cls.__name__ for cls in watched), 0)
    for obj in gc.get_objects():
        for cls in watched:
            if isinstance(obj, cls):
                counts[cls.__name__] += 1
    return counts


class Hang(Exception):
    """A request or session that ran past HANG_AFTER."""


class StrayCancel(Exception):
    """A CancelledError that came out of airhttp while nothing cancelled the request."""


async def guarded(coro: Awaitable[_T]) -> _T:
    """Await `coro`, raising Hang if it runs past HANG_AFTER (a watchdog of our own, not
    airhttp's timeouts, whose TimeoutError subclasses it must not be confused with)."""
    if sys.version_info < (3, 11):  # pragma: no cover
        try:
            return await asyncio.wait_for(coro, HANG_AFTER)
        except asyncio.TimeoutError as exc:
            if isinstance(exc, airhttp.ClientError):
                raise
            raise Hang(f"still running after {HANG_AFTER} s") from exc
    timer = asyncio.timeout(HANG_AFTER)
    try:
        async with timer:
            return await coro
    except TimeoutError as exc:
        if timer.expired() and not isinstance(exc, airhttp.ClientError):
            raise Hang(f"still running after {HANG_AFTER} s") from exc
        raise
    except asyncio.CancelledError as exc:
        task = asyncio.current_task()
        if task is None or task.cancelling():
            raise  # the run itself is being cancelled
        raise StrayCancel("CancelledError out of a request nobody cancelled") from exc


# --- the two phases -------------------------------------------------------------------


async def _exchange(
    session: airhttp.ClientSession, method: str, url: URL, data: bytes | None, kind: str
) -> tuple[int, bytes]:
    options: dict[str, Any] = {"timeout": STALL_TIMEOUT} if kind.startswith("stall") else {}
    async with session.request(method, url, data=data, **options) as resp:
        return resp.status, await resp.read()


async def _http_worker(
    session: airhttp.ClientSession,
    base: URL,
    report: SoakReport,
    numbers: Iterator[int],
    deadline: float,
) -> None:
    loop = asyncio.get_running_loop()
    marks = {report.config.requests * tenth // 10: f"at {tenth}0%" for tenth in range(1, 10)}
    for i in numbers:
        if i >= report.config.requests:
            return
        if loop.time() > deadline:
            report.stopped_early = True
            return
        if i in marks:
            report.rss_mib[marks[i]] = rss_mib()
        kind = http_kind(i)
        method, url, data = request_for(base, i)
        expected = LONG_BODY if kind == "long_body" else ok_payload(i)
        if data is not None and kind == "ok":
            expected = b"got " + data
        report.injected[kind] += 1
        try:
            outcome: tuple[int, bytes] | BaseException = await guarded(
                _exchange(session, method, url, data, kind)
            )
        except Exception as exc:
            outcome = exc
        report.requests_done += 1
        problem = judge(kind, outcome, expected)
        if isinstance(outcome, BaseException):
            report.record(kind, type(outcome).__name__, problem, outcome)
        else:
            report.record(kind, "ok" if problem is None else "wrong answer", problem, None)


async def ws_outcome(session: Any, url: URL, j: int) -> str:
    """One WebSocket session of WS_ECHOES echoes; its outcome as WS_ALLOWED spells them."""
    async with session.ws_connect(url) as ws:
        for k in range(WS_ECHOES):
            text = f"echo {j} {k}"
            await ws.send_str(text)
            msg = await ws.receive()
            # By name: the same function reads aiohttp's messages in the smoke test.
            if msg.type.name != "TEXT" or msg.data != text:
                data = f":{type(msg.data).__name__}" if msg.type.name == "ERROR" else ""
                return f"{k}:{msg.type.name}{data}/{ws.close_code}"
        await ws.close()
        return f"echoed/{ws.close_code}"


async def _ws_worker(
    session: airhttp.ClientSession,
    base: URL,
    report: SoakReport,
    numbers: Iterator[int],
    deadline: float,
) -> None:
    loop = asyncio.get_running_loop()
    for j in numbers:
        if j >= report.config.ws_sessions:
            return
        if loop.time() > deadline:
            report.stopped_early = True
            return
        kind = ws_kind(j)
        report.injected[kind] += 1
        exc: BaseException | None = None
        try:
            outcome = await guarded(ws_outcome(session, base / "ws" / kind / str(j), j))
        except Exception as error:
            exc = error
            outcome = f"raised {type(error).__name__}"
        report.ws_sessions_done += 1
        problem = None if outcome in WS_ALLOWED[kind] else f"{kind}: {outcome} ({exc!r})"
        report.record(kind, outcome, problem, exc)


async def _phase(
    worker: Callable[..., Awaitable[None]],
    session: airhttp.ClientSession,
    base: URL,
    report: SoakReport,
    deadline: float,
) -> float:
    started = time.perf_counter()
    numbers = itertools.count()
    workers = [
        worker(session, base, report, numbers, deadline) for _ in range(report.config.concurrency)
    ]
    await asyncio.gather(*workers)
    return time.perf_counter() - started


async def _server_stats(session: airhttp.ClientSession, base: URL) -> dict[str, Any]:
    async with session.get(base / "stats") as resp:
        stats: dict[str, Any] = json.loads(await resp.read())
        return stats


async def run_soak(base: URL, config: SoakConfig) -> SoakReport:
    """Run the soak against a fault server at `base`; see the module docstring."""
    report = SoakReport(config)
    loop = asyncio.get_running_loop()
    previous_handler = loop.get_exception_handler()
    loop.set_exception_handler(
        lambda _loop, ctx: report.loop_reports.append(
            f"{ctx.get('message')} {ctx.get('exception')!r}"
        )
    )
    try:
        gc.collect()
        report.fds["before"] = open_fds()
        report.rss_mib["before"] = rss_mib()
        started = time.perf_counter()
        deadline = loop.time() + config.seconds
        # A tenth of the time bound is kept for the WebSockets, should the requests run out.
        http_deadline = deadline - (config.seconds / 10 if config.ws_sessions else 0)
        session = airhttp.ClientSession()
        try:
            report.http_seconds = await _phase(_http_worker, session, base, report, http_deadline)
            report.ws_seconds = await _phase(_ws_worker, session, base, report, deadline)
            report.server = await _server_stats(session, base)
            report.pool = pool_counts(session.connector)
        finally:
            await session.close()
        report.wall_seconds = time.perf_counter() - started
        for _ in range(5):  # transports close one loop step after close()
            await asyncio.sleep(0)
        del session
        gc.collect()
        report.fds["after"] = open_fds()
        report.rss_mib["after"] = rss_mib()
        report.alive = alive_objects()
    finally:
        loop.set_exception_handler(previous_handler)
    return report


# --- the server process, the report and the command line ------------------------------


@contextlib.contextmanager
def fault_server() -> Iterator[URL]:
    """Run tests/soak/fault_server.py in a process of its own; yields its base URL."""
    command = [sys.executable, "-m", "tests.soak.fault_server", "--port", "0"]
    proc = subprocess.Popen(
        command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        line = proc.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"the fault server did not start: {line!r}")
        yield URL.build(scheme="http", host="127.0.0.1", port=int(line.split()[1]))
    finally:
        proc.stdin.close()  # the server stops at the end of its stdin
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def format_report(report: SoakReport) -> str:
    cfg = report.config
    http_rate = report.requests_done / report.http_seconds if report.http_seconds else 0.0
    ws_rate = report.ws_sessions_done / report.ws_seconds if report.ws_seconds else 0.0
    faults = sum(n for k, n in report.injected.items() if k not in ("ok", "ws_ok"))
    lines = [
        f"airhttp soak: {report.requests_done} of {cfg.requests} requests and "
        f"{report.ws_sessions_done} of {cfg.ws_sessions} WebSocket sessions, "
        f"concurrency {cfg.concurrency}, one ClientSession",
        f"  wall time        {report.wall_seconds:.1f} s (HTTP {report.http_seconds:.1f} s, "
        f"{http_rate:.0f} requests/s; WebSocket {report.ws_seconds:.1f} s, {ws_rate:.0f}/s)",
        f"  faults injected  {faults}",
        "  kind -> outcome                                   count",
    ]
    lines += [f"    {key:48} {n:6}" for key, n in sorted(report.outcomes.items())]
    lines += [
        "  raised           " + ", ".join(f"{k} {n}" for k, n in sorted(report.raised.items())),
        f"  unexpected       {report.unexpected}",
        f"  loop reports     {len(report.loop_reports)}",
        f"  pool at the end  {report.pool}",
        f"  open FDs         {report.fds.get('before')} before, {report.fds.get('after')} after",
        "  RSS (MiB)        " + ", ".join(f"{v:.1f} {k}" for k, v in report.rss_mib.items()),
        f"  alive after      {report.alive}",
        f"  server saw       {report.server}",
    ]
    if report.stopped_early:
        lines.append(f"  STOPPED EARLY at the time bound of {cfg.seconds:.0f} s")
    for shown in report.shown:
        lines.append("  unexpected: " + shown.rstrip().replace("\n", "\n    "))
    problems = report.problems()
    lines.append("verdict: " + ("OK" if not problems else "FAILED: " + "; ".join(problems)))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=SoakConfig.requests)
    parser.add_argument("--concurrency", type=int, default=SoakConfig.concurrency)
    parser.add_argument("--ws-sessions", type=int, default=SoakConfig.ws_sessions)
    parser.add_argument("--seconds", type=float, default=SoakConfig.seconds)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    config = SoakConfig(args.requests, args.concurrency, args.ws_sessions, args.seconds)
    with fault_server() as base:
        report = asyncio.run(run_soak(base, config))
    print(json.dumps(report.as_dict(), indent=2) if args.json else format_report(report))
    return 1 if report.problems() else 0


if __name__ == "__main__":
    sys.exit(main())

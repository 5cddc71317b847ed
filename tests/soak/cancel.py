"""Cancellation soak: requests cancelled at random points, then checked for leaks.

Each request runs one scenario against the loopback lab of `tests/soak/cancel_lab.py`,
where every point of a request takes time: DNS, TCP connect, TLS handshake, writing a
streamed body, waiting for the head, reading the body, the release on leaving
`async with resp:`, and a WebSocket receive. A pool limit below the batch size makes
requests wait for a slot too.

Each request is cancelled after a seeded random delay by `task.cancel()`,
`asyncio.timeout` or `asyncio.wait_for`. Where the cancel landed is read from the marks
the request reached before it (trace signals and the scenario's own steps). After each
batch, with the session open: no task is left but the soak's own, no pool slot is held
and none is waited for, and a fresh burst of `limit` requests gets its slots at once.
After the session closes: no ResourceWarning, nothing reported to the loop, and the
process holds as many file descriptors as before.

    .venv/bin/python -m tests.soak.cancel [--requests 10000] [--seed N] [--seconds 120]
                                          [--client airhttp|aiohttp]

Prints the cancels per point, the leaks found and the wall time; exits 1 on any leak.
`tests/test_cancellation.py` runs a short version and reuses the servers and scenarios.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import gc
import importlib
import os
import random
import sys
import time
import warnings
from typing import Any, Final

from .cancel_lab import (
    MARKS,
    UPLOADS,
    Lab,
    Milestones,
    Timings,
    open_lab,
    scenario_call,
)

# Where a cancel can land, in the order a request reaches them.
POINTS: Final = (
    "start",
    "queued",
    "dns",
    "connect",
    "tls",
    "write",
    "head",
    "body",
    "release",
    "ws_receive",
)
SCENARIOS: Final = (
    "dns",
    "connect",
    "tls",
    "write",
    "head",
    "body",
    "release",
    "release_upload",
    "ws",
)
MECHANISMS: Final = ("cancel", "timeout", "wait_for")


def landed(names: list[str], scenario: str) -> str:
    """The point a cancel landed on, from the marks reached before it."""
    seen = set(names)
    if "ws_open" in seen:
        return "ws_receive"
    if "hold" in seen:
        return "release"
    if "resp" in seen:
        return "body"
    if "create_end" in seen or "reuseconn" in seen:
        if scenario in UPLOADS and "upload_done" not in seen:
            return "write"
        return "head"
    if "create_start" in seen:
        if scenario == "dns" and "dns_end" not in seen:
            return "dns"
        # Over loopback the TCP connect of a TLS request takes microseconds: what is
        # left of connecting is the handshake, which the relay holds.
        return "tls" if scenario == "tls" else "connect"
    if "queued_start" in seen:
        return "queued"
    return "start"


# --- driving one request ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Plan:
    scenario: str
    how: str
    delay: float


@dataclasses.dataclass(frozen=True)
class Outcome:
    plan: Plan
    point: str | None  # None: it completed before the cancel
    problem: str | None = None


class SwallowedCancel(Exception):
    """The request returned normally although a cancel had been requested."""


async def _guarded(lab: Lab, scenario: str, marks: Milestones) -> None:
    """Run the scenario; a normal return with a cancel pending is a swallowed cancel."""
    try:
        await scenario_call(lab, scenario)
    except asyncio.CancelledError:
        marks.freeze()
        raise
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise SwallowedCancel(f"returned with {task.cancelling()} cancel(s) pending")


async def drive(lab: Lab, plan: Plan) -> Outcome:
    """Run one request and cancel it after `plan.delay` by `plan.how`."""
    marks = Milestones()
    MARKS.set(marks)  # this task's context: the request's tasks copy it
    expected: type[BaseException] = asyncio.CancelledError
    try:
        if plan.how == "cancel":
            task = asyncio.create_task(_guarded(lab, plan.scenario, marks))
            done, _ = await asyncio.wait({task}, timeout=plan.delay)
            if not done:
                marks.freeze()  # the task is suspended: the cancel lands where it waits
                task.cancel()
            await task
        elif plan.how == "timeout":
            expected = TimeoutError
            async with asyncio.timeout(plan.delay):
                await _guarded(lab, plan.scenario, marks)
        else:
            expected = TimeoutError
            await asyncio.wait_for(_guarded(lab, plan.scenario, marks), plan.delay)
    except BaseException as exc:
        if type(exc) is not expected:
            return Outcome(plan, None, f"{type(exc).__name__}: {exc}")
        reached = marks.frozen if marks.frozen is not None else marks.names
        return Outcome(plan, landed(reached, plan.scenario))
    if plan.scenario in ("connect", "ws"):
        return Outcome(plan, None, "completed although it can only end by a cancel")
    return Outcome(plan, None)


# --- leak checks ------------------------------------------------------------------------


def pool_in_use(connector: Any) -> tuple[int, int]:
    """(slots held, requests waiting for a slot), read from the connector's private state.

    Private on purpose and kept to this one function: neither airhttp nor aiohttp offers a
    public count of lent connections or queued requests. Both keep the lent and promised
    slots in `_acquired` and the waiters in `_waiters` (a queue per connection key).
    """
    waiters = sum(len(queue) for queue in connector._waiters.values())
    return len(connector._acquired), waiters


async def probe(lab: Lab) -> list[str]:
    """`limit` requests at once: each must get its slot without queueing and answer."""

    async def one() -> list[str]:
        marks = Milestones()
        MARKS.set(marks)
        problems = []
        async with lab.session.get(lab.url("release")) as resp:
            text = await resp.text()
        if resp.status != 200 or text != "ok":
            problems.append(f"probe got {resp.status} {text!r}")
        if "queued_start" in marks.names:
            problems.append("probe waited for a slot: one is still held")
        return problems

    try:
        async with asyncio.timeout(5.0):
            results = await asyncio.gather(*(one() for _ in range(lab.limit)))
    except Exception as exc:
        return [f"probe failed: {type(exc).__name__}: {exc}"]
    return [problem for problems in results for problem in problems]


def stray_tasks(lab: Lab, before: set[asyncio.Task[Any]]) -> list[asyncio.Task[Any]]:
    """Unfinished tasks that are neither the soak's nor its servers'."""
    own = before | lab.own_tasks() | {asyncio.current_task()}
    return [
        task
        for task in asyncio.all_tasks()
        if task not in own
        and not task.done()
        # asyncio's own handshake task of the TLS test server.
        and task.get_coro().__qualname__ != "BaseSelectorEventLoop._accept_connection2"  # type: ignore[union-attr]
    ]


async def batch_leaks(lab: Lab, before: set[asyncio.Task[Any]], grace: float) -> list[str]:
    """What a finished batch left behind, with the session still open."""
    leaks = []
    strays = stray_tasks(lab, before)
    if strays:
        # A shared DNS lookup outlives its cancelled waiters by design, and a cancelled
        # upload may need a step or two to finish: only what outlives `grace` leaks.
        await asyncio.wait(strays, timeout=grace)
        strays = stray_tasks(lab, before)
    leaks += [f"task left running: {task.get_coro()!r}" for task in strays]
    held, waiting = pool_in_use(lab.session.connector)
    if held or waiting:
        leaks.append(f"pool after the batch: {held} slot(s) held, {waiting} waiter(s)")
    leaks += await probe(lab)
    return leaks


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def fds_back_to(baseline: int, within: float = 2.0) -> int:
    """Wait for closing sockets to go; the number of descriptors above `baseline`."""
    deadline = time.monotonic() + within
    while open_fds() > baseline and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    return open_fds() - baseline


# --- the soak ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SoakConfig:
    requests: int = 10_000
    seed: int = 0
    seconds: float = 120.0
    batch: int = 10
    limit: int = 6
    timings: Timings = dataclasses.field(default_factory=Timings)
    grace: float = 1.0
    # False: no DNS cache, so that a cancel lands in the resolver itself, not in a
    # shared lookup that outlives it.
    use_dns_cache: bool = True


@dataclasses.dataclass
class SoakReport:
    config: SoakConfig
    client: str
    points: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    mechanisms: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    completed: int = 0
    done: int = 0
    batches: int = 0
    leaks: list[str] = dataclasses.field(default_factory=list)
    server_phases: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    wall: float = 0.0

    def render(self) -> str:
        cfg = self.config
        lines = [
            f"client {self.client}, seed {cfg.seed}: {self.done} of {cfg.requests} requests "
            f"in {self.batches} batches of {cfg.batch} (pool limit {cfg.limit}), "
            f"{self.wall:.1f} s",
            "cancels landed at:",
        ]
        lines += [f"  {point:<18} {self.points[point]:>6}" for point in POINTS]
        lines.append(f"  {'(none: done first)':<18} {self.completed:>6}")
        lines.append("by mechanism: " + ", ".join(f"{k} {v}" for k, v in self.mechanisms.items()))
        lines.append(
            "server saw the client leave at: "
            + ", ".join(f"{k} {v}" for k, v in sorted(self.server_phases.items()))
        )
        if self.leaks:
            shown = self.leaks[:20]
            lines.append(f"LEAKS ({len(self.leaks)}), rerun with --seed {cfg.seed}:")
            lines += [f"  {leak}" for leak in shown]
        else:
            lines.append("leaks: none")
        return "\n".join(lines)


def plan_for(rng: random.Random, timings: Timings) -> Plan:
    """A random scenario, mechanism and delay, the delay spread over the whole request."""
    scenario = rng.choice(SCENARIOS)
    spans = {
        "dns": timings.dns,
        "tls": timings.tls + 0.004,  # the handshake's own CPU time
        "head": timings.head,
        "body": timings.drip_gap * timings.drip_chunks,
        "write": timings.upload_gap * timings.upload_chunks,
        "release_upload": timings.upload_gap * timings.upload_chunks,
        "release": timings.hold,
    }
    how = rng.choice(MECHANISMS)
    if rng.random() < 0.03:
        return Plan(scenario, how, 0.0)  # cancelled before it starts
    # Twice the slow step plus the loop's own latency: some requests finish first.
    span = 2 * spans.get(scenario, 0.003) + 0.004
    return Plan(scenario, how, rng.uniform(0.0, span))


async def _run_batches(lab: Lab, cfg: SoakConfig, report: SoakReport, started: float) -> None:
    rng = random.Random(cfg.seed)
    before = set(asyncio.all_tasks())
    while report.done < cfg.requests and time.monotonic() - started < cfg.seconds:
        size = min(cfg.batch, cfg.requests - report.done)
        plans = [plan_for(rng, cfg.timings) for _ in range(size)]
        runs = [asyncio.create_task(drive(lab, plan)) for plan in plans]
        finished, hung = await asyncio.wait(runs, timeout=10.0)
        for task in hung:
            report.leaks.append(f"batch {report.batches}: request hung")
            task.cancel()
        for task in finished:
            outcome = task.result()
            report.mechanisms[outcome.plan.how] += 1
            if outcome.problem is not None:
                report.leaks.append(f"batch {report.batches}: {outcome.plan}: {outcome.problem}")
            elif outcome.point is None:
                report.completed += 1
            else:
                report.points[outcome.point] += 1
        report.done += size
        leaks = await batch_leaks(lab, before, cfg.grace)
        report.leaks += [f"batch {report.batches}: {leak}" for leak in leaks]
        report.batches += 1
        if leaks:
            break  # the pool is no longer sound: later figures would mean nothing


async def run_soak(cfg: SoakConfig, client: Any = None) -> SoakReport:
    """Run the soak with `client` (airhttp unless told); the report lists every leak."""
    if client is None:
        import airhttp as client
    report = SoakReport(cfg, client.__name__)
    loop = asyncio.get_running_loop()
    noise: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: noise.append(context))
    baseline = open_fds()
    started = time.monotonic()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lab_context = open_lab(
                client, cfg.timings, limit=cfg.limit, use_dns_cache=cfg.use_dns_cache
            )
            async with lab_context as lab:
                await _run_batches(lab, cfg, report, started)
                phases = lab.http.phases.names + lab.tls.phases.names
            for _ in range(3):
                await asyncio.sleep(0)
            extra = await fds_back_to(baseline)
            gc.collect()
        report.wall = time.monotonic() - started
    finally:
        loop.set_exception_handler(previous)
    report.server_phases.update(
        name for name in phases if name.endswith("_abandoned") or name.startswith("ws_close")
    )
    report.server_phases["dns_cancelled"] = phases.count("dns_cancelled")
    if extra > 0:
        report.leaks.append(f"{extra} file descriptor(s) more than before the soak")
    report.leaks += [f"warning: {w.category.__name__}: {w.message}" for w in caught]
    report.leaks += [f"loop: {c.get('message')} {c.get('exception')!r}" for c in noise]
    return report


def main(argv: list[str] | None = None) -> int:
    if sys.version_info < (3, 11):
        print("the soak needs Python 3.11 (asyncio.timeout, Task.cancelling)", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=None, help="default: from the clock")
    parser.add_argument("--seconds", type=float, default=120.0, help="stop after this long")
    parser.add_argument("--client", choices=("airhttp", "aiohttp"), default="airhttp")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else int(time.time())
    cfg = SoakConfig(requests=args.requests, seed=seed, seconds=args.seconds)
    client = importlib.import_module(args.client)
    report = asyncio.run(run_soak(cfg, client))
    print(report.render())
    return 1 if report.leaks else 0


if __name__ == "__main__":
    sys.exit(main())

"""Runs the client benchmark: airhttp against aiohttp (C and pure Python), httpx and a floor.

It starts the servers, checks every client's replies, then runs each (workload, client)
cell in a fresh bench/client.py process, round after round, and the micro-benchmarks in
bench/micro.py processes. It orchestrates and reports; it measures nothing itself.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Final

from report import Cell, Results, RunInfo, markdown
from servers import Servers, start_servers
from workloads import DEFAULT_WORKLOADS, LABELS, MICRO, MODES, WORKLOADS

BENCH_DIR: Final = Path(__file__).resolve().parent
CLIENT: Final = BENCH_DIR / "client.py"
MICRO_SCRIPT: Final = BENCH_DIR / "micro.py"
DEFAULT_OUTPUT: Final = BENCH_DIR / "results" / "latest.md"
DEFAULT_ROUNDS: Final = 5
QUICK_ROUNDS: Final = 2
# A cell stops timing after this long (and its warm-up too), so a slow client (httpx on
# c64 or cold) bounds the run instead of dominating it; the rate is over what it did.
DEFAULT_MAX_SECONDS: Final = 2.0
QUICK_MAX_SECONDS: Final = 1.0
MICRO_IMPLS: Final = ("airhttp", "aiohttp", "aiohttp-py")


def child_env(mode: str) -> dict[str, str]:
    env = dict(os.environ)
    # Each aiohttp mode must get the parser it is named after, whatever the caller exported.
    env.pop("AIOHTTP_NO_EXTENSIONS", None)
    if mode == "aiohttp-py":
        env["AIOHTTP_NO_EXTENSIONS"] = "1"
    return env


def run_json(command: list[str], mode: str, timeout: float) -> dict[str, object]:
    """Run a child that prints one JSON line last; its last stderr line explains a failure."""
    done = subprocess.run(
        command, capture_output=True, text=True, env=child_env(mode), timeout=timeout, check=False
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise RuntimeError(tail[0])
    result: dict[str, object] = json.loads(lines[-1])
    return result


def run_client(args: argparse.Namespace, mode: str, extra: list[str]) -> dict[str, object]:
    command = [sys.executable, str(CLIENT), "--mode", mode, *extra]
    if args.uvloop:
        command.append("--uvloop")
    return run_json(command, mode, args.timeout)


def number(value: object) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    raise RuntimeError(f"a child reported {value!r} where a number belongs")


def rotated(items: list[str], by: int) -> list[str]:
    """The order for one round: each round starts with the next item."""
    shift = by % len(items) if items else 0
    return items[shift:] + items[:shift]


def probe_modes(args: argparse.Namespace) -> tuple[list[str], dict[str, str], list[str]]:
    """The modes that can run, each one's library description, and why others cannot."""
    modes: list[str] = []
    libraries: dict[str, str] = {}
    notes: list[str] = []
    for mode in args.modes:
        try:
            found = run_client(args, mode, ["--probe"])
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            found = {"available": False, "reason": str(exc)}
        if not found.get("available"):
            notes.append(f"{LABELS[mode]} skipped: {found.get('reason')}")
            continue
        if mode == "aiohttp" and found["detail"] != "C extensions":
            notes.append("aiohttp (C) runs WITHOUT its C extensions here")
        modes.append(mode)
        libraries[mode] = f"{found['library']} ({found['detail']}, {found['loop']})"
    return modes, libraries, notes


def servers_args(servers: Servers) -> list[str]:
    bases = [f"--http-base={servers.http_base}", f"--python-base={servers.python_base}"]
    if servers.https_base is not None and servers.ca_file is not None:
        bases += [f"--https-base={servers.https_base}", f"--ca-file={servers.ca_file}"]
    return bases


def servable(args: argparse.Namespace, servers: Servers, results: Results) -> list[str]:
    """The asked-for workloads these servers can serve: the TLS ones need nginx's TLS server.

    Each one left out says why in its cells and in the report's notes.
    """
    if servers.https_base is not None:
        return list(args.workloads)
    left_out = [name for name in args.workloads if WORKLOADS[name].tls]
    if left_out:
        reason = "skipped: only nginx serves TLS (and it needs trustme for its certificate)"
        print(f"{', '.join(left_out)} {reason}", file=sys.stderr)
        results.info.notes.append(f"{', '.join(left_out)} {reason}")
        for name in left_out:
            for cell in results.cells[name].values():
                cell.failures.append(reason)
    return [name for name in args.workloads if name not in left_out]


def check_replies(
    args: argparse.Namespace, modes: list[str], servers: Servers, cells: dict[str, dict[str, Cell]],
    workloads: list[str],
) -> None:  # fmt: skip
    """A few requests per workload and client, compared with what was served, before timing.

    A (workload, client) that fails keeps its reason and is not timed.
    """
    for mode in modes:
        names = [n for n in workloads if WORKLOADS[n].runs(mode)]
        if not names:
            continue
        try:
            got = run_client(args, mode, [f"--check={','.join(names)}", *servers_args(servers)])
            failures = got.get("failures")
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            failures = dict.fromkeys(names, f"check failed: {exc}")
        if not isinstance(failures, dict):
            failures = dict.fromkeys(names, f"check said {got!r}")
        for name, reason in failures.items():
            cells[name][mode].failures.append(f"check: {reason}".replace("|", "/"))
            print(f"check {name} {mode}: {reason}", file=sys.stderr)


def measure_cell(
    args: argparse.Namespace, servers: Servers, cell: Cell, name: str, mode: str, round_no: int
) -> str:
    """Run one client process into `cell` and return a progress line; failures are kept."""
    workload = WORKLOADS[name]
    pid = servers.python_pid if workload.server == "python" else servers.http_pid
    extra = [
        f"--workload={name}",
        f"--n={args.counts[name]}",
        f"--warmup={args.warmups[name]}",
        f"--max-seconds={args.max_seconds}",
        f"--server-pid={pid}",
        *servers_args(servers),
    ]
    try:
        got = run_client(args, mode, extra)
        if "ops_per_second" not in got:
            raise RuntimeError(str(got.get("reason", "the client reported no result")))
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        cell.failures.append(str(exc).replace("|", "/"))
        return f"{name:<12} {mode:<10} FAILED: {exc}"
    rate = number(got["ops_per_second"])
    cell.rates[round_no] = rate
    cell.cpu_us[round_no] = number(got["cpu_per_op_us"])
    if got.get("server_cpu") is not None:
        cell.server_cpu.append(number(got["server_cpu"]))
    shown = rate * workload.unit_bytes / 1e6 if workload.unit_bytes else rate
    return f"{name:<12} {mode:<10} {shown:>9,.1f} {workload.per_second}"


def measure_micro(
    args: argparse.Namespace, impls: list[str], micro: dict[str, dict[str, dict[int, float]]],
    round_no: int,
) -> None:  # fmt: skip
    for impl in rotated(impls, round_no):
        command = [sys.executable, str(MICRO_SCRIPT), f"--impl={impl}"]
        try:
            got = run_json(command, impl, args.timeout)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            print(f"micro {impl} FAILED: {exc}", file=sys.stderr)
            continue
        rates = got.get("rates")
        assert isinstance(rates, dict)
        for case, rate in rates.items():
            micro.setdefault(case, {}).setdefault(impl, {})[round_no] = number(rate)
        print(f"[{round_no + 1}/{args.rounds}] micro {impl} done", file=sys.stderr, flush=True)


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    return f"{model}, {os.cpu_count()} cores"


def system() -> str:
    try:
        return platform.freedesktop_os_release()["PRETTY_NAME"]
    except (OSError, KeyError, AttributeError):
        return f"{platform.system()} {platform.release()}"


def run_rounds(args: argparse.Namespace, modes: list[str], results: Results) -> None:
    servers = start_servers(force_python=args.python_server)
    results.info.server = servers.description
    results.info.notes.extend(servers.notes)
    try:
        workloads = servable(args, servers, results)
        check_replies(args, modes, servers, results.cells, workloads)
        impls: list[str] = [m for m in MICRO_IMPLS if m in modes] if args.micro else []
        for round_no in range(args.rounds):
            # Rotating the order spreads drift (thermal, other load) evenly over the clients.
            for name in workloads:
                for mode in rotated(modes, round_no):
                    cell = results.cells[name][mode]
                    if not WORKLOADS[name].runs(mode) or any(
                        f.startswith("check:") for f in cell.failures
                    ):
                        continue
                    line = measure_cell(args, servers, cell, name, mode, round_no)
                    print(f"[{round_no + 1}/{args.rounds}] {line}", file=sys.stderr, flush=True)
            measure_micro(args, impls, results.micro, round_no)
    finally:
        servers.stop()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add = parser.add_argument
    add("--rounds", type=int, default=None, help=f"default {DEFAULT_ROUNDS}, quick {QUICK_ROUNDS}")
    add("--quick", action="store_true", help="fewer operations, rounds and seconds per cell")
    add("--modes", default=",".join(MODES), help="comma-separated clients")
    add("--scenarios", default=",".join(DEFAULT_WORKLOADS), help="comma-separated workloads")
    add("--n", type=int, default=None, help="operations per cell, every workload")
    add("--warmup", type=int, default=None, help="untimed operations per cell, every workload")
    add("--max-seconds", type=float, default=None, help="cap per cell's timing (0: none)")
    add("--uvloop", action="store_true", help="run every client on uvloop")
    add("--python-server", action="store_true", help="bench/server.py even if nginx is there")
    add("--docs", action="store_true", help="write docs/benchmarks.md and docs/benchmarks.png")
    add("--timeout", type=float, default=600.0, help="seconds per child process")
    add("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    wanted = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for mode in args.modes:
        if mode not in MODES:
            parser.error(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
    for name in wanted:
        if name not in WORKLOADS and name != MICRO:
            parser.error(f"unknown workload {name!r}; choose from {', '.join(DEFAULT_WORKLOADS)}")
    args.micro = MICRO in wanted
    args.workloads = [name for name in wanted if name != MICRO]
    if args.rounds is None:
        args.rounds = QUICK_ROUNDS if args.quick else DEFAULT_ROUNDS
    if args.max_seconds is None:
        args.max_seconds = QUICK_MAX_SECONDS if args.quick else DEFAULT_MAX_SECONDS
    args.counts, args.warmups = {}, {}
    for name in args.workloads:
        workload = WORKLOADS[name]
        count, warmup = (
            (workload.quick_n, workload.quick_warmup)
            if args.quick
            else (workload.default_n, workload.warmup)
        )
        args.counts[name] = args.n or count
        args.warmups[name] = warmup if args.warmup is None else args.warmup
    return args


def docs_refusal(args: argparse.Namespace) -> str | None:
    """Why this run's results must not replace the page's tables, or None if they may."""
    if args.quick:
        return "a --quick run"
    if set(args.modes) != set(MODES):
        return "not every client was asked for"
    if set(args.workloads) != set(WORKLOADS) or not args.micro:
        return "not every workload was asked for"
    return None


def main() -> int:
    args = parse_args()
    refusal = docs_refusal(args) if args.docs else None
    if refusal:
        print(f"docs/benchmarks.md will not be updated: {refusal}", file=sys.stderr)
        args.docs = False
    started = time.monotonic()
    modes, libraries, notes = probe_modes(args)
    if not modes:
        print("no client library is available to benchmark", file=sys.stderr)
        return 1
    info = RunInfo(
        when=time.strftime("%Y-%m-%d %H:%M %Z"),
        machine=machine(),
        python=f"{platform.python_implementation()} {platform.python_version()}",
        system=system(),
        loop="uvloop" if args.uvloop else "asyncio",
        server="",
        rounds=args.rounds,
        libraries=libraries,
        counts=args.counts,
        notes=notes,
    )
    cells = {name: {mode: Cell() for mode in modes} for name in args.workloads}
    results = Results(info, modes, args.workloads, cells)
    run_rounds(args, modes, results)
    text = markdown(results)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text + "\n", encoding="utf-8")
    print(f"(written to {args.output})", file=sys.stderr)
    if args.docs:
        from docs_update import DOCS, update_docs  # imports matplotlib

        print("\n".join(update_docs(results)))
        print(f"(docs updated: {DOCS} and its plot)", file=sys.stderr)
    print(f"(took {time.monotonic() - started:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

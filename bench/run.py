"""Runs the client benchmark: airhttp against aiohttp (C and pure Python) and httpx.

It orchestrates processes and formats results; the measuring happens in bench/client.py.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import selectors
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from client import DEFAULT_SCENARIOS, DEFAULT_WARMUP, MODES, SCENARIOS

BENCH_DIR: Final = Path(__file__).resolve().parent
CLIENT: Final = BENCH_DIR / "client.py"
SERVER: Final = BENCH_DIR / "server.py"
DEFAULT_OUTPUT: Final = BENCH_DIR / "results" / "latest.md"
DEFAULT_ROUNDS: Final = 5
QUICK_ROUNDS: Final = 3
QUICK_WARMUP: Final = 100
SERVER_START_TIMEOUT: Final = 15.0
LABELS: Final = {
    "airhttp": "airhttp",
    "aiohttp": "aiohttp (C)",
    "aiohttp-py": "aiohttp-py",
    "httpx": "httpx",
}


@dataclass
class Samples:
    rps: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)
    server_cpu: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def child_env(mode: str) -> dict[str, str]:
    env = dict(os.environ)
    # Each aiohttp mode must get the parser it is named after, whatever the caller exported.
    env.pop("AIOHTTP_NO_EXTENSIONS", None)
    if mode == "aiohttp-py":
        env["AIOHTTP_NO_EXTENSIONS"] = "1"
    return env


def run_client(mode: str, extra: list[str], timeout: float) -> dict[str, object]:
    command = [sys.executable, str(CLIENT), "--mode", mode, *extra]
    done = subprocess.run(
        command, capture_output=True, text=True, env=child_env(mode), timeout=timeout, check=False
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise RuntimeError(tail[0])
    result: dict[str, object] = json.loads(lines[-1])
    return result


def number(value: object) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    raise RuntimeError(f"client reported {value!r} where a number belongs")


def start_server() -> tuple[subprocess.Popen[str], int]:
    server = subprocess.Popen(
        [sys.executable, str(SERVER), "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(server.stdout, selectors.EVENT_READ)
        ready = selector.select(SERVER_START_TIMEOUT)
    line = server.stdout.readline() if ready else ""
    if not line.strip().isdigit():
        stop_server(server)
        raise RuntimeError(f"benchmark server did not report its port (got {line!r})")
    return server, int(line)


def stop_server(server: subprocess.Popen[str]) -> None:
    server.terminate()
    try:
        server.wait(timeout=5)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    if server.stdout is not None:
        server.stdout.close()


def rotated(modes: list[str], by: int) -> list[str]:
    """The order of modes for one round: each round starts with the next mode."""
    shift = by % len(modes)
    return modes[shift:] + modes[:shift]


def median_or_none(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def fmt_ratio(top: float | None, bottom: float | None) -> str:
    if not top or not bottom:
        return "n/a"
    return f"{top / bottom:.2f}x"


def ratio_line(
    what: str, values: dict[str, float | None], modes: list[str], labels: dict[str, str]
) -> str:
    ours = values.get("airhttp")
    others = [m for m in ("aiohttp", "aiohttp-py", "httpx") if m in modes]
    if ours is None or not others:
        return f"{what}: no ratio (airhttp or every other client is missing)."
    parts = [f"airhttp / {labels[m]} = {fmt_ratio(ours, values[m])}" for m in others]
    return f"{what}: " + ", ".join(parts)


def scenario_table(
    name: str, modes: list[str], samples: dict[str, Samples], labels: dict[str, str]
) -> list[str]:
    rps = {m: median_or_none(samples[m].rps) for m in modes}
    cpu = {m: median_or_none(samples[m].cpu_us) for m in modes}
    out = [
        f"## {name}: {SCENARIOS[name].description}",
        "",
        "| client | req/s | µs/req | client CPU µs/req | req/s range | runs | server CPU "
        "| airhttp / client (req/s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for mode in modes:
        got = samples[mode]
        median = rps[mode]
        if median is None:
            reason = got.failures[-1] if got.failures else "not run"
            out.append(f"| {labels[mode]} | failed: {reason} | | | | 0 | | |")
            continue
        server = median_or_none(got.server_cpu)
        runs = f"{len(got.rps)}" + (f" ({len(got.failures)} failed)" if got.failures else "")
        out.append(
            f"| {labels[mode]} | {median:,.0f} | {1e6 / median:,.1f} | {cpu[mode] or 0:,.1f} "
            f"| {min(got.rps):,.0f}-{max(got.rps):,.0f} | {runs} "
            f"| {'n/a' if server is None else f'{server:.0%}'} "
            f"| {fmt_ratio(rps.get('airhttp'), median)} |"
        )
    out.append("")
    out.append(ratio_line("Throughput (higher is better)", rps, modes, labels))
    out.append("")
    out.append(ratio_line("Client CPU per request (lower is better)", cpu, modes, labels))
    out.append("")
    return out


def report(
    args: argparse.Namespace,
    modes: list[str],
    probes: dict[str, dict[str, object]],
    skipped: dict[str, str],
    results: dict[str, dict[str, Samples]],
    labels: dict[str, str],
) -> str:
    counts = ", ".join(f"{s} {n}" for s, n in args.counts.items())
    libraries = "; ".join(
        f"{labels[m]}: {probes[m]['library']}, {probes[m]['detail']}" for m in modes
    )
    lines = [
        "# airhttp client benchmark",
        "",
        f"- when: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
        f"- python: {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        f"- rounds: {args.rounds}; timed requests per run: {counts}; warm-up: {args.warmup}",
        f"- clients: {libraries or 'none'}",
    ]
    lines.extend(f"- skipped {mode}: {reason}" for mode, reason in skipped.items())
    lines.append("")
    for scenario, samples in results.items():
        lines.extend(scenario_table(scenario, modes, samples, labels))
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=None, help=f"default {DEFAULT_ROUNDS}")
    parser.add_argument("--quick", action="store_true", help="fewer requests and rounds")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated")
    parser.add_argument("--scenarios", default=",".join(DEFAULT_SCENARIOS), help="comma-separated")
    parser.add_argument("--n", type=int, default=None, help="timed requests per run, all scenarios")
    parser.add_argument("--warmup", type=int, default=None, help=f"default {DEFAULT_WARMUP}")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per client run")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for mode in args.modes:
        if mode not in MODES:
            parser.error(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
    for scenario in args.scenarios:
        if scenario not in SCENARIOS:
            parser.error(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
    if args.rounds is None:
        args.rounds = QUICK_ROUNDS if args.quick else DEFAULT_ROUNDS
    if args.warmup is None:
        args.warmup = QUICK_WARMUP if args.quick else DEFAULT_WARMUP
    args.counts = {
        s: args.n or (SCENARIOS[s].quick_n if args.quick else SCENARIOS[s].default_n)
        for s in args.scenarios
    }
    return args


def probe_modes(
    wanted: list[str], timeout: float
) -> tuple[list[str], dict[str, dict[str, object]], dict[str, str]]:
    modes: list[str] = []
    probes: dict[str, dict[str, object]] = {}
    skipped: dict[str, str] = {}
    for mode in wanted:
        try:
            found = run_client(mode, ["--probe"], timeout)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            found = {"available": False, "reason": str(exc)}
        if found.get("available"):
            modes.append(mode)
            probes[mode] = found
        else:
            skipped[mode] = str(found.get("reason"))
            print(f"skipping {mode}: {skipped[mode]}", file=sys.stderr)
    return modes, probes, skipped


def measure_once(
    args: argparse.Namespace, samples: Samples, scenario: str, mode: str, port: int, pid: int
) -> str:
    """Run one client process into samples and return a progress line; failures are kept."""
    extra = [
        f"--scenario={scenario}",
        f"--n={args.counts[scenario]}",
        f"--warmup={args.warmup}",
        f"--port={port}",
        f"--server-pid={pid}",
    ]
    try:
        got = run_client(mode, extra, args.timeout)
        if "rps" not in got:
            raise RuntimeError(str(got.get("reason", "the client reported no result")))
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        samples.failures.append(str(exc).replace("|", "/"))
        return f"{scenario:<9} {mode:<10} FAILED: {exc}"
    samples.rps.append(number(got["rps"]))
    samples.cpu_us.append(number(got["client_cpu_us_per_request"]))
    if got.get("server_cpu") is not None:
        samples.server_cpu.append(number(got["server_cpu"]))
    return f"{scenario:<9} {mode:<10} {samples.rps[-1]:>9,.0f} req/s"


def main() -> int:
    args = parse_args()
    modes, probes, skipped = probe_modes(args.modes, args.timeout)
    if not modes:
        print("no client library is available to benchmark", file=sys.stderr)
        return 1
    labels = dict(LABELS)
    if "aiohttp" in probes and probes["aiohttp"]["detail"] != "C extensions":
        labels["aiohttp"] = "aiohttp (no C ext!)"
        print("warning: aiohttp runs without its C extensions here", file=sys.stderr)
    results = {s: {m: Samples() for m in modes} for s in args.scenarios}
    server, port = start_server()
    try:
        for round_no in range(args.rounds):
            # Rotating the order spreads drift (thermal, other load) evenly over the clients.
            for scenario in args.scenarios:
                for mode in rotated(modes, round_no):
                    if SCENARIOS[scenario].websocket and mode == "httpx":
                        continue  # httpx has no WebSocket client
                    samples = results[scenario][mode]
                    line = measure_once(args, samples, scenario, mode, port, server.pid)
                    print(f"[{round_no + 1}/{args.rounds}] {line}", file=sys.stderr, flush=True)
    finally:
        stop_server(server)
    text = report(args, modes, probes, skipped, results, labels)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text + "\n", encoding="utf-8")
    print(f"(written to {args.output})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

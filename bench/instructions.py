"""Instructions per operation, counted by valgrind: a measure the machine's noise cannot move.

Timing on a small shared VM swings by 20% from one second to the next, which hides changes of
a few percent. Counting the instructions a client executes does not: two runs of the same code
agree to about 0.1%. Each workload runs twice under `valgrind --tool=cachegrind`, with
N1 and N2 operations; the difference divided by N2 - N1 is what one operation costs, start-up
and warm-up cancelled out. Kernel work (system calls, page faults) is not counted, so compare
CPU time with `make bench` as well.

    .venv/bin/python bench/instructions.py --modes airhttp,aiohttp --workloads seq,c64
    PYTHONPATH=/tmp/old/src .venv/bin/python bench/instructions.py   # another checkout

Needs valgrind (`apt-get install valgrind`); starts the benchmark's servers itself.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final

from servers import start_servers
from workloads import MODES, WORKLOADS

HERE: Final = Path(__file__).resolve().parent
CELL: Final = HERE / "client.py"
DEFAULT_RUNS: Final = (200, 1200)
_REFS: Final = re.compile(rb"I\s+refs:\s+([\d,]+)")


def instructions(command: list[str]) -> int:
    """The instructions `command` executed in user space (cachegrind's "I refs")."""
    valgrind = ["valgrind", "--tool=cachegrind", "--cache-sim=no"]
    done = subprocess.run(
        [*valgrind, "--cachegrind-out-file=/dev/null", *command], capture_output=True, check=True
    )
    match = _REFS.search(done.stderr)
    if match is None:
        raise RuntimeError("valgrind printed no instruction count")
    return int(match.group(1).replace(b",", b""))


def cell(mode: str, workload: str, n: int, bases: tuple[str, str], uvloop: bool) -> list[str]:
    http, python = bases
    command = [sys.executable, str(CELL), "--mode", mode, "--workload", workload]
    command += ["--n", str(n), "--warmup", "50", "--http-base", http, "--python-base", python]
    return command + (["--uvloop"] if uvloop else [])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--modes", default="airhttp,aiohttp")
    parser.add_argument("--workloads", default="seq,c64,headers30,ws")
    parser.add_argument("--runs", default=",".join(map(str, DEFAULT_RUNS)), help="N1,N2")
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is missing: apt-get install valgrind", file=sys.stderr)
        return 2
    modes = [m for m in args.modes.split(",") if m]
    workloads = [w for w in args.workloads.split(",") if w]
    unknown = [m for m in modes if m not in MODES] + [w for w in workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown mode or workload: {', '.join(unknown)}")
    low, high = (int(n) for n in args.runs.split(","))
    servers = start_servers()
    try:
        bases = (servers.http_base, servers.python_base)
        for workload in workloads:
            for mode in modes:
                first = instructions(cell(mode, workload, low, bases, args.uvloop))
                second = instructions(cell(mode, workload, high, bases, args.uvloop))
                per_op = (second - first) / (high - low)
                print(f"{workload:10} {mode:11} {per_op:>10,.0f} instructions per operation")
    finally:
        servers.stop()
    print(f"(PYTHONPATH={os.environ.get('PYTHONPATH', '')!r})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

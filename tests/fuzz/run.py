"""Run the fuzz targets under atheris, one subprocess each: `python -m tests.fuzz.run`.

    --seconds S       fuzzing time per target (default 60)
    --targets a,b     which targets (default: all; names in tests/fuzz/__init__.py)
    --keep-corpus     add the inputs that found new coverage to tests/fuzz/corpus/<target>/
    --max-len N       longest input libFuzzer makes (default 4096)
    --restarts N      start a target again after a failure, at most N times (default 20)
    --lenient         let the parser targets accept the known split-dependence of their
                      error classes (see tests/fuzz/_parser_run.py), to fuzz past it
    -- ARGS...        anything after "--" goes to libFuzzer as is

Each target fuzzes a temporary copy of its corpus directory without the crash-* regression
inputs (they would stop libFuzzer at once), so the repository's seeds do not churn. With
--keep-corpus, libFuzzer's -merge=1 picks from the grown corpus only the inputs that cover
something the seeds do not, and those are copied into the repository. Crash, timeout and
out-of-memory inputs are written to a temporary directory whose files are listed, with the
first line of each distinct failure. Exit status: 1 when a target failed, 2 when one could
not run at all.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import TARGETS, corpus_dir

_ROOT = Path(__file__).resolve().parents[2]
# libFuzzer's status lines: "#1234 NEW cov: 56 ft: 78 corp: ..." and the final stats.
_STATUS_RE = re.compile(r"^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+)", re.MULTILINE)
_EXECS_RE = re.compile(r"stat::number_of_executed_units:\s*(\d+)")
_ARTIFACT_PREFIXES = ("crash-", "timeout-", "oom-", "leak-", "slow-unit-")


@dataclass
class Result:
    target: str
    returncode: int = 0
    seconds: float = 0.0
    executions: int = 0
    coverage: int | None = None
    features: int | None = None
    artifacts: list[Path] = field(default_factory=list)
    # The first line of each distinct failure ("ParserBug: split input parsed...").
    failures: list[str] = field(default_factory=list)
    log_tail: str = ""
    kept: int = 0

    @property
    def crashes(self) -> int:
        return sum(1 for p in self.artifacts if not p.name.startswith("slow-unit-"))


def _parse_log(log: str, result: Result) -> None:
    """Add one fuzzer run's numbers (from its log) to `result`."""
    statuses = _STATUS_RE.findall(log)
    runs = 0
    if statuses:
        last_runs, cov, ft = statuses[-1]
        runs = int(last_runs)
        result.coverage = int(cov)
        result.features = int(ft)
    found = _EXECS_RE.search(log)
    if found:
        runs = int(found.group(1))
    result.executions += runs
    lines = log.splitlines()
    for index, line in enumerate(lines):
        if "Uncaught Python exception" in line and index + 1 < len(lines):
            failure = lines[index + 1].strip()
            if failure not in result.failures:
                result.failures.append(failure)
    for marker, name in (("libFuzzer: timeout", "timeout"), ("out-of-memory", "out of memory")):
        if marker in log and name not in result.failures:
            result.failures.append(name)


def _command(target: str, args: list[str]) -> list[str]:
    return [sys.executable, "-m", TARGETS[target], *args]


def _run_fuzzer(target: str, args: list[str], env: dict[str, str]) -> tuple[int, str]:
    proc = subprocess.run(
        _command(target, args),
        cwd=_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        check=False,
    )
    return proc.returncode, proc.stdout


def _copy_seeds(seeds: Path, into: Path) -> None:
    into.mkdir()
    if seeds.is_dir():
        for path in seeds.iterdir():
            if path.is_file() and not path.name.startswith("crash-"):
                shutil.copy2(path, into / path.name)


def _keep_new(target: str, work: Path, options: list[str], env: dict[str, str]) -> int:
    """Copy into the repository the grown-corpus inputs that add coverage to the seeds."""
    seeds = corpus_dir(target)
    merged = work / "merged"
    _copy_seeds(seeds, merged)
    before = {p.name for p in merged.iterdir()}
    max_len = [o for o in options if o.startswith("-max_len")]
    _run_fuzzer(target, ["-merge=1", *max_len, str(merged), str(work / "corpus")], env)
    seeds.mkdir(parents=True, exist_ok=True)
    new = [p for p in merged.iterdir() if p.name not in before]
    for path in new:
        shutil.copy2(path, seeds / path.name)
    return len(new)


def fuzz_one(
    target: str, seconds: int, options: list[str], *, keep: bool, restarts: int, env: dict[str, str]
) -> Result:
    """Fuzz `target` for `seconds` in subprocesses; see the module docstring.

    libFuzzer stops at the first failure: while time is left the target is started again
    (on the corpus grown so far) up to `restarts` times, so one shallow bug does not end
    the run.
    """
    work = Path(tempfile.mkdtemp(prefix=f"airhttp-fuzz-{target}-"))
    corpus = work / "corpus"
    artifacts = work / "artifacts"
    artifacts.mkdir()
    _copy_seeds(corpus_dir(target), corpus)
    result = Result(target)
    started = time.monotonic()
    for _ in range(restarts + 1):
        left = int(seconds - (time.monotonic() - started))
        if left < 1:
            break
        args = [
            f"-max_total_time={left}",
            f"-artifact_prefix={artifacts}/",
            "-timeout=20",
            "-rss_limit_mb=2048",
            "-print_final_stats=1",
            *options,
            str(corpus),
        ]
        result.returncode, log = _run_fuzzer(target, args, env)
        _parse_log(log, result)
        result.log_tail = "\n".join(log.splitlines()[-40:])
        if result.returncode == 0:
            break
    result.seconds = time.monotonic() - started
    found = (p for p in artifacts.iterdir() if p.name.startswith(_ARTIFACT_PREFIXES))
    result.artifacts = sorted(found)
    if keep:
        result.kept = _keep_new(target, work, options, env)
    if not result.artifacts:
        shutil.rmtree(work, ignore_errors=True)
    return result


def _fmt(value: int | None) -> str:
    return "-" if value is None else str(value)


def report(result: Result) -> None:
    print(
        f"{result.target:15} execs {result.executions:>9}  {result.seconds:6.1f}s  "
        f"cov {_fmt(result.coverage):>5}  ft {_fmt(result.features):>6}  "
        f"crashes {result.crashes}" + (f"  kept {result.kept}" if result.kept else "")
    )
    for failure in result.failures:
        print(f"    failure: {failure}")
    for path in result.artifacts:
        print(f"    {path}")
    if result.returncode != 0 and not result.artifacts:
        print("    --- the fuzzer did not run; last lines of its log ---")
        print("\n".join("    " + line for line in result.log_tail.splitlines()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.run", description=__doc__)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--keep-corpus", action="store_true")
    parser.add_argument("--max-len", type=int, default=4096)
    parser.add_argument("--restarts", type=int, default=20)
    parser.add_argument("--lenient", action="store_true")
    parser.add_argument("libfuzzer_args", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    names = [name.strip() for name in options.targets.split(",") if name.strip()]
    unknown = [name for name in names if name not in TARGETS]
    if unknown:
        parser.error(f"unknown targets {unknown}; known: {', '.join(TARGETS)}")
    extra = [f"-max_len={options.max_len}"]
    extra += [arg for arg in options.libfuzzer_args if arg != "--"]
    env = dict(os.environ)
    env["AIRHTTP_FUZZ_LENIENT"] = "1" if options.lenient else "0"
    status = 0
    for name in names:
        result = fuzz_one(
            name,
            options.seconds,
            extra,
            keep=options.keep_corpus,
            restarts=options.restarts,
            env=env,
        )
        report(result)
        if result.crashes:
            status = 1
        elif result.returncode != 0 and status == 0:
            status = 2
    return status


if __name__ == "__main__":
    sys.exit(main())

"""Turns one benchmark run's samples into numbers and Markdown: medians, ratios, targets.

No processes and no files here: bench/run.py collects the samples, bench/docs_update.py
writes what this module renders.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import TypedDict

from micro import CASES
from workloads import CPU_TARGET, LABELS, OTHERS, WORKLOADS, Workload


@dataclass
class Cell:
    """One client on one workload, over the rounds: values keyed by round number."""

    rates: dict[int, float] = field(default_factory=dict)  # operations per second
    cpu_us: dict[int, float] = field(default_factory=dict)  # client CPU µs per operation
    server_cpu: list[float] = field(default_factory=list)  # share of one core
    failures: list[str] = field(default_factory=list)


@dataclass
class RunInfo:
    when: str
    machine: str
    python: str
    system: str
    loop: str
    server: str
    rounds: int
    libraries: dict[str, str]
    counts: dict[str, int]
    notes: list[str] = field(default_factory=list)


@dataclass
class Results:
    info: RunInfo
    modes: list[str]
    workloads: list[str]
    cells: dict[str, dict[str, Cell]]
    # Micro-benchmark case -> implementation -> round -> rate.
    micro: dict[str, dict[str, dict[int, float]]] = field(default_factory=dict)


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def paired_ratio(ours: dict[int, float], theirs: dict[int, float]) -> float | None:
    """Median over the rounds both ran of ours / theirs: drift between rounds cancels out."""
    ratios = [ours[r] / theirs[r] for r in ours.keys() & theirs.keys() if theirs[r]]
    return median(ratios)


def throughput(workload: Workload, ops_per_second: float) -> float:
    return ops_per_second * workload.unit_bytes / 1e6 if workload.unit_bytes else ops_per_second


def cpu_cost(workload: Workload, cpu_us: float) -> str:
    if workload.unit_bytes:
        return f"{cpu_us / (workload.unit_bytes / 1e6) / 1000:.2f} ms/MB"
    return f"{cpu_us:,.0f} µs/req"


def fmt_rate(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


@dataclass
class Verdict:
    what: str
    ratio: float | None  # subject ÷ the client the goal names
    goal: str
    met: bool | None
    subject: str = "airhttp"

    @property
    def measured(self) -> str:
        """The ratio, naming its subject unless that is airhttp (the summary's column)."""
        prefix = "" if self.subject == "airhttp" else f"{LABELS[self.subject]} "
        return prefix + fmt_ratio(self.ratio)


def ratio_to(
    results: Results, name: str, other: str, cpu: bool = False, subject: str = "airhttp"
) -> float | None:
    """Median of paired ratios of `subject` to `other` on workload `name`."""
    cells = results.cells.get(name, {})
    if subject not in cells or other not in cells:
        return None
    if cpu:
        return paired_ratio(cells[subject].cpu_us, cells[other].cpu_us)
    return paired_ratio(cells[subject].rates, cells[other].rates)


def airhttp_throughput(results: Results, name: str) -> float | None:
    cell = results.cells.get(name, {}).get("airhttp")
    rate = median(list(cell.rates.values())) if cell else None
    return None if rate is None else throughput(WORKLOADS[name], rate)


def verdicts(results: Results) -> list[Verdict]:
    """Issues 12 and 14's targets, each with the ratio this run measured."""
    out: list[Verdict] = []
    for name in results.workloads:
        workload = WORKLOADS[name]
        if workload.target is None:
            continue
        ratio = ratio_to(results, name, workload.target_vs, subject=workload.subject)
        goal = f">= {workload.target:.2f}x {LABELS[workload.target_vs]}"
        met = None if ratio is None else ratio >= workload.target
        out.append(Verdict(name, ratio, goal, met, workload.subject))
    if "seq" in results.workloads:
        ratio = ratio_to(results, "seq", "aiohttp", cpu=True)
        met = None if ratio is None else ratio <= CPU_TARGET
        out.append(Verdict("seq CPU/req", ratio, f"<= {CPU_TARGET:.2f}x aiohttp (C)", met))
    return out


def verdict_mark(met: bool | None) -> str:
    return "n/a" if met is None else ("met" if met else "**missed**")


def summary_table(results: Results) -> list[str]:
    others = [m for m in OTHERS if m in results.modes]
    head = "| workload | airhttp | " + " | ".join(f"÷ {LABELS[m]}" for m in others)
    lines = [
        head + " | CPU ÷ aiohttp (C) | target |",
        "|---|---:|" + "---:|" * len(others) + "---:|---|",
    ]
    targets = {v.what: v for v in verdicts(results)}
    for name in results.workloads:
        workload = WORKLOADS[name]
        rate = airhttp_throughput(results, name)
        shown = "n/a" if rate is None else f"{fmt_rate(rate)} {workload.per_second}"
        ratios = [fmt_ratio(ratio_to(results, name, m)) if workload.runs(m) else "" for m in others]
        verdict = targets.get(name)
        target = f"{verdict.goal}: {verdict_mark(verdict.met)}" if verdict else ""
        if verdict and verdict.subject != "airhttp":
            target = f"{verdict.measured} ({target})"
        cpu = fmt_ratio(ratio_to(results, name, "aiohttp", cpu=True))
        lines.append(f"| `{name}` | {shown} | " + " | ".join(ratios) + f" | {cpu} | {target} |")
    return lines


def workload_table(results: Results, name: str, depth: int) -> list[str]:
    workload = WORKLOADS[name]
    unit = workload.per_second
    subject = workload.subject
    lines = [
        f"{'#' * depth} `{name}`: {workload.description}",
        "",
        f"| client | {unit} (median) | min-max | client CPU | server CPU | runs "
        f"| {LABELS[subject]} ÷ |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for mode in results.modes:
        if not workload.runs(mode):
            continue
        cell = results.cells[name][mode]
        rates = [throughput(workload, r) for r in cell.rates.values()]
        if not rates:
            reason = cell.failures[-1] if cell.failures else "not run"
            lines.append(f"| {LABELS[mode]} | failed: {reason} | | | | 0 | |")
            continue
        cpu = median(list(cell.cpu_us.values())) or 0.0
        server = median(cell.server_cpu)
        runs = f"{len(rates)}" + (f" ({len(cell.failures)} failed)" if cell.failures else "")
        ratio = "" if mode == subject else fmt_ratio(ratio_to(results, name, mode, subject=subject))
        lines.append(
            f"| {LABELS[mode]} | {fmt_rate(median(rates))} | {fmt_rate(min(rates))}-"
            f"{fmt_rate(max(rates))} | {cpu_cost(workload, cpu)} | "
            f"{'n/a' if server is None else f'{server:.0%}'} | {runs} | {ratio} |"
        )
    lines.append("")
    return lines


def micro_table(results: Results) -> list[str]:
    if not results.micro:
        return []
    impls = [m for m in ("airhttp", "aiohttp", "aiohttp-py") if m in results.modes]
    lines = [
        "| case | unit | " + " | ".join(LABELS[m] for m in impls) + " | airhttp ÷ aiohttp (C) |",
        "|---|---|" + "---:|" * len(impls) + "---:|",
    ]
    for name, by_impl in results.micro.items():
        # The best over all rounds, as timeit advises: slower repeats measure interference
        # (on a shared VM, whole seconds at half speed), not the code.
        best = {m: max(by_impl[m].values()) for m in impls if by_impl.get(m)}
        shown = " | ".join(fmt_rate(best[m]) if m in best else "-" for m in impls)
        both = "airhttp" in best and "aiohttp" in best
        ratio = fmt_ratio(best["airhttp"] / best["aiohttp"]) if both else "n/a"
        case = CASES[name]
        lines.append(f"| `{name}`: {case.description} | {case.unit} | {shown} | {ratio} |")
    lines.append("")
    return lines


def header(info: RunInfo) -> list[str]:
    counts = ", ".join(f"{name} {n}" for name, n in info.counts.items())
    lines = [
        f"- when: {info.when}",
        f"- machine: {info.machine}; {info.system}; {info.python}",
        f"- event loop: {info.loop}; HTTP server: {info.server}",
        f"- rounds: {info.rounds}; operations per cell (at most): {counts}",
        "- clients: " + "; ".join(f"{LABELS[m]}: {lib}" for m, lib in info.libraries.items()),
    ]
    lines.extend(f"- note: {note}" for note in info.notes)
    return lines


def target_lines(results: Results) -> list[str]:
    found = verdicts(results)
    met = sum(1 for v in found if v.met)
    lines = [f"Targets of issues 12 and 14: {met} of {len(found)} met.", ""]
    for v in found:
        lines.append(f"- `{v.what}`: {v.measured} ({v.goal}): {verdict_mark(v.met)}")
    return [*lines, ""]


def sections(results: Results, depth: int) -> list[str]:
    """The report's body, its headings starting at `depth` (so it nests in a page)."""
    mark = "#" * depth
    lines = [f"{mark} Summary", ""]
    lines += ["Median of paired ratios, airhttp ÷ each client (higher: airhttp is faster).", ""]
    lines += [*summary_table(results), "", *target_lines(results)]
    if results.micro:
        lines += [f"{mark} Micro-benchmarks", ""]
        lines += ["In process, no server; the best of every round, higher is faster.", ""]
        lines += micro_table(results)
    lines += [f"{mark} Per workload", ""]
    for name in results.workloads:
        lines += workload_table(results, name, depth + 1)
    return lines


def markdown(results: Results) -> str:
    lines = ["# airhttp client benchmark", "", *header(results.info), ""]
    return "\n".join(lines + sections(results, 2))


class Summary(TypedDict):
    loop: str
    when: str
    machine: str
    airhttp: dict[str, float]  # workload -> airhttp's median throughput
    ratios: dict[str, dict[str, float]]  # workload -> other client -> airhttp ÷ it


def summary_data(results: Results) -> Summary:
    """The run's key numbers, kept in docs/benchmarks.md for the plot and the next run."""
    ratios: dict[str, dict[str, float]] = {
        name: {
            m: round(r, 3)
            for m in OTHERS
            if m in results.modes and (r := ratio_to(results, name, m)) is not None
        }
        for name in results.workloads
    }
    airhttp = {
        name: round(rate, 2)
        for name in results.workloads
        if (rate := airhttp_throughput(results, name)) is not None
    }
    return {
        "loop": results.info.loop,
        "when": results.info.when,
        "machine": results.info.machine,
        "airhttp": airhttp,
        "ratios": ratios,
    }


def changes_since(previous: Summary | None, current: Summary) -> list[str]:
    """airhttp's throughput against the previous run recorded for this loop.

    Issue 12 asks for a note on any drop over 5%; a comparison across machines says little,
    so the lines name the previous machine when it differs.
    """
    if previous is None:
        return ["No previous run for this loop in docs/benchmarks.md to compare with."]
    same = previous["machine"] == current["machine"]
    where = "same machine" if same else f"another machine: {previous['machine']}"
    lines = [f"Against the previous run ({previous['when']}, {where}), airhttp's throughput:", ""]
    for name, value in current["airhttp"].items():
        old = previous["airhttp"].get(name)
        if not old:
            lines.append(f"- `{name}`: new")
            continue
        change = value / old - 1
        flag = " **(more than 5% slower: say why)**" if change < -0.05 else ""
        lines.append(f"- `{name}`: {change:+.1%}{flag}")
    return lines

"""Draws docs/benchmarks.png: airhttp ÷ each client per workload, one panel per event loop.

Reads only the summaries it is given (bench/docs_update.py takes them from the page);
renders off-screen, never opens a window.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

# The object API, not pyplot: no global figure state and no display backend to pick.
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullLocator
from report import Summary
from workloads import LABELS, OTHERS, WORKLOADS

COLOURS: Final = {
    "aiohttp": "#1f77b4",
    "aiohttp-py": "#9ecae1",
    "httpx": "#ff7f0e",
    "floor": "#7f7f7f",
}
BAR_WIDTH: Final = 0.2
TICKS: Final = (0.25, 0.5, 1, 2, 4, 8, 16, 32, 64)


def draw_panel(axes: Axes, summary: Summary) -> None:
    names = [name for name in WORKLOADS if name in summary["ratios"]]
    others = [m for m in OTHERS if any(m in summary["ratios"][n] for n in names)]
    highest = max((r for n in names for r in summary["ratios"][n].values()), default=1.0)
    for index, mode in enumerate(others):
        offset = (index - (len(others) - 1) / 2) * BAR_WIDTH
        xs = [i + offset for i, n in enumerate(names) if mode in summary["ratios"][n]]
        ys = [summary["ratios"][n][mode] for n in names if mode in summary["ratios"][n]]
        bars = axes.bar(xs, ys, BAR_WIDTH, label=f"÷ {LABELS[mode]}", color=COLOURS[mode])
        axes.bar_label(bars, fmt="%.2f", fontsize=6, padding=1)
    for i, name in enumerate(names):
        workload = WORKLOADS[name]
        # A target of another subject (airhttp-h2) is not about the airhttp bars drawn here.
        if workload.subject != "airhttp":
            continue
        if workload.target is not None and workload.target_vs in others:
            offset = (others.index(workload.target_vs) - (len(others) - 1) / 2) * BAR_WIDTH
            axes.hlines(workload.target, i + offset - BAR_WIDTH / 2, i + offset + BAR_WIDTH / 2,
                        colors="black", linewidth=2)  # fmt: skip
    axes.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    axes.set_yscale("log")
    axes.set_ylim(top=max(highest, 2.5) * 2.2)  # room for the legend above the bars
    axes.yaxis.set_major_locator(FixedLocator(TICKS))
    axes.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    axes.yaxis.set_minor_locator(NullLocator())
    axes.set_xticks(range(len(names)), names)
    axes.set_ylabel("airhttp ÷ client (log scale)")
    axes.set_title(f"{summary['loop']}, {summary['when']}", fontsize=10)
    axes.legend(fontsize=8, ncols=len(others))


def plot_ratios(summaries: list[Summary], path: Path) -> None:
    figure = Figure(figsize=(10, 3.6 * len(summaries)), layout="tight")
    panels = figure.subplots(len(summaries), 1, squeeze=False)
    for axes, summary in zip(panels[:, 0], summaries, strict=True):
        draw_panel(axes, summary)
    figure.suptitle("airhttp ÷ each client, throughput (above 1: airhttp faster; black: targets)")
    figure.savefig(path, dpi=100)

"""Puts a run's results into docs/benchmarks.md, between that event loop's markers.

Each loop (asyncio, uvloop) has its own block, so a uvloop run leaves the asyncio table
alone. A block ends with its key numbers as a JSON comment: the plot and the next run's
comparison read them back from the page instead of from files git does not keep.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Final, cast

from report import Results, Summary, changes_since, sections, summary_data

REPO: Final = Path(__file__).resolve().parent.parent
DOCS: Final = REPO / "docs" / "benchmarks.md"
PLOT: Final = REPO / "docs" / "benchmarks.png"
DATA_LINE: Final = re.compile(r"^<!-- bench:data (\{.*\}) -->$", re.MULTILINE)
LOOPS: Final = ("asyncio", "uvloop")


def markers(loop: str) -> tuple[str, str]:
    return f"<!-- bench:{loop}:begin -->", f"<!-- bench:{loop}:end -->"


def read_summaries(text: str) -> dict[str, Summary]:
    """The key numbers of every loop's block in the page, by loop."""
    found: dict[str, Summary] = {}
    for match in DATA_LINE.finditer(text):
        data = json.loads(match.group(1))
        if isinstance(data, dict) and data.get("loop") in LOOPS:
            found[data["loop"]] = cast(Summary, data)
    return found


def block_text(results: Results, summary: Summary, changes: list[str]) -> str:
    info = results.info
    lines = [
        f"### On {info.loop}",
        "",
        f"{info.when}; {info.machine}; {info.system}; {info.python}; "
        f"HTTP server {info.server}; rounds: {info.rounds}.",
        "",
    ]
    lines += [*(f"Note: {note}" for note in info.notes), ""] if info.notes else []
    lines += [
        *sections(results, 4),
        *changes,
        "",
        f"<!-- bench:data {json.dumps(summary, sort_keys=True)} -->",
    ]
    return "\n".join(lines)


def replace_block(text: str, loop: str, block: str) -> str:
    begin, end = markers(loop)
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        # No markers yet: the block goes at the end, markers included, for the next run.
        return text.rstrip("\n") + f"\n\n{begin}\n{block}\n{end}\n"
    return text[: start + len(begin)] + "\n" + block + "\n" + text[stop:]


def update_docs(results: Results) -> list[str]:
    """Write this run's block and the plot; return the comparison with the previous run."""
    text = DOCS.read_text(encoding="utf-8")
    summaries = read_summaries(text)
    summary = summary_data(results)
    changes = changes_since(summaries.get(results.info.loop), summary)
    text = replace_block(text, results.info.loop, block_text(results, summary, changes))
    DOCS.write_text(text, encoding="utf-8")
    summaries[results.info.loop] = summary
    from plot import plot_ratios  # matplotlib is imported only when a plot is made

    plot_ratios([summaries[loop] for loop in LOOPS if loop in summaries], PLOT)
    return changes

"""Keystrokes in a valid file, through the real server, with a workspace.

    python bench/keystrokes.py FILE.nix --root WORKSPACE [--keystrokes 200] [--runs 3]

The workload keeps the module valid: type `x` at the end of an identifier, remove it,
repeat; so every keystroke runs every rule (a broken file runs almost none). Each
keystroke is one incremental didChange; its time is until the diagnostics of that
version arrive, and the next keystroke is sent only then (work the server does after
publishing, such as republishing other files, delays the next one and so is counted).

The floor is tree-sitter's own incremental reparse of the same keystrokes, in the same
run. Each run is a fresh server; figures are medians over the runs, with their spread.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from common import Session, machine, ms, nix_files, percentile, ratio, reparse_floor, spread, valid_workload  # noqa: E402


@dataclass
class Run:
    initialize: float
    index: float
    open: float
    latencies: list[float]
    floor: list[float]
    broken: int  # keystrokes whose diagnostics had a syntax error (should be 0)
    rss: float | None
    cpu: float | None  # server CPU seconds per keystroke, the mean over the run
    completions: list[float]
    opened_all: int = 0  # other files opened (--open-all)


async def one_run(file: Path, root: Path | None, count: int, also_open: list[Path] = (), seed: int = 7, completions: int = 50) -> Run:
    text = file.read_bytes()
    strokes = valid_workload(text, count, seed)
    session = await Session(root).start()
    try:
        index = await session.initialized_and_indexed()  # also: the server has loaded
        for other in also_open:
            if other.resolve() != file.resolve():
                await session.open(other)
        opened = await session.open(file)
        latencies, broken = [], 0
        cpu_before = session.cpu()
        for stroke in strokes:
            seconds, diagnostics = await session.type(file, stroke)
            latencies.append(seconds)
            broken += any(getattr(d, "code", None) == "syntax-error" for d in diagnostics)
        cpu_after = session.cpu()
        cpu = (cpu_after - cpu_before) / len(strokes) if cpu_before is not None and cpu_after is not None and strokes else None
        places = random.Random(seed + 1).sample(range(len(text)), min(completions, len(text)))
        completed = [await session.complete(file, place) for place in places]
        rss = session.rss()
    finally:
        await session.stop()
    return Run(session.initialize_seconds, index, opened, latencies, reparse_floor(text, strokes), broken, rss, cpu, completed, len(also_open))


def summarise(runs: list[Run]) -> dict[str, tuple[float, str]]:
    """Median over runs of each run's figure, and the spread between runs."""

    def over(figure) -> tuple[float, str]:
        values = [figure(r) for r in runs]
        return statistics.median(values), spread(values)

    return {
        "p50": over(lambda r: percentile(r.latencies, 50)),
        "p95": over(lambda r: percentile(r.latencies, 95)),
        "floor p50": over(lambda r: percentile(r.floor, 50)),
        "floor p95": over(lambda r: percentile(r.floor, 95)),
        "open": over(lambda r: r.open),
        "index": over(lambda r: r.index),
        "cpu": over(lambda r: r.cpu or 0.0),
        "completion p50": over(lambda r: percentile(r.completions, 50) if r.completions else 0.0),
        "completion p95": over(lambda r: percentile(r.completions, 95) if r.completions else 0.0),
    }


def table(file: Path, root: Path | None, runs: list[Run], count: int) -> str:
    s = summarise(runs)
    broken = max(r.broken for r in runs)
    rss = statistics.median([r.rss for r in runs if r.rss is not None] or [0])
    lines = [
        f"File `{file}` ({file.stat().st_size} bytes), workspace `{root}`; {count} keystrokes per run, {len(runs)} runs (a fresh server each);",
        f"keystrokes whose diagnostics showed a syntax error: {broken}. Machine: {machine()}.",
        "",
        "| what | median | spread | floor (tree-sitter) | x floor |",
        "|---|---|---|---|---|",
        f"| keystroke to diagnostics, p50 | {ms(s['p50'][0])} | {s['p50'][1]} | {ms(s['floor p50'][0])} incremental reparse p50 | {ratio(s['p50'][0], s['floor p50'][0])} |",
        f"| keystroke to diagnostics, p95 | {ms(s['p95'][0])} | {s['p95'][1]} | {ms(s['floor p95'][0])} incremental reparse p95 | {ratio(s['p95'][0], s['floor p95'][0])} |",
        f"| server CPU per keystroke, mean | {ms(s['cpu'][0])} | {s['cpu'][1]} | {ms(s['floor p50'][0])} incremental reparse p50 | {ratio(s['cpu'][0], s['floor p50'][0])} |",
        f"| didOpen to diagnostics | {ms(s['open'][0])} | {s['open'][1]} | | |",
        f"| completion at random places, p50 | {ms(s['completion p50'][0])} | {s['completion p50'][1]} | | |",
        f"| completion at random places, p95 | {ms(s['completion p95'][0])} | {s['completion p95'][1]} | | |",
        f"| server resident memory after the run{f' (with {runs[0].opened_all} more files open)' if runs[0].opened_all else ''} | {rss:.0f} MiB | | | |",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--root", type=Path, default=None, help="workspace folder (default: none)")
    parser.add_argument("--keystrokes", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--open-all", action="store_true", help="first open every other .nix file of the workspace (--root)")
    parser.add_argument("--checkout", type=Path, default=None, help="the clan-lsp source tree to run (default: this one)")
    options = parser.parse_args()
    if options.checkout:
        common.CHECKOUT = options.checkout.resolve()
    others = nix_files(options.root) if options.open_all and options.root else []
    runs = [asyncio.run(one_run(options.file, options.root, options.keystrokes, others)) for _ in range(options.runs)]
    print(table(options.file, options.root, runs, options.keystrokes))
    return 0


if __name__ == "__main__":
    sys.exit(main())

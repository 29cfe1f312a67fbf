"""Keystrokes in a valid file, through the real server, with a workspace.

    python bench/keystrokes.py FILE.nix --root WORKSPACE [--keystrokes 200] [--runs 3]

The workload keeps the module valid: type `x` at the end of an identifier, remove it,
repeat; so every keystroke runs every rule (a broken file runs almost none). Each
keystroke is one incremental didChange; its time is until the diagnostics of that
version arrive, and the next keystroke is sent only then (work the server does after
publishing, such as republishing other files, delays the next one and so is counted).

Every row has its floor, measured in the same run: tree-sitter's own incremental reparse
of the same keystrokes, its full parse of the opened file, a process holding only the
trees of the workspace. The keystrokes, the opening and the completions are also run in
one process without LSP (bench/inprocess.py, after each server run): the difference to
the server's figure is the cost of the LSP glue. Each run is a fresh server; figures are
medians over the runs, with their spread.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from common import Session, full_parse_floor, machine, ms, nix_files, percentile, ratio, reparse_floor, server_env, spread, trees_rss, valid_workload  # noqa: E402


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
    inprocess: dict | None = None  # bench/inprocess.py's figures, None when it failed


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


def in_process(file: Path, root: Path | None, count: int, completions: int = 50) -> dict | None:
    """The same keystrokes, opening and completions without LSP (bench/inprocess.py)."""
    command = [sys.executable, str(Path(__file__).resolve().parent / "inprocess.py"), str(file), "--keystrokes", str(count), "--completions", str(completions)]
    if root is not None:
        command += ["--root", str(root)]
    done = subprocess.run(command, capture_output=True, text=True, env=server_env())
    if done.returncode != 0:
        print(f"inprocess.py failed: {done.stderr[-500:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout)


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
        "floor mean": over(lambda r: statistics.mean(r.floor)),
        "open": over(lambda r: r.open),
        "index": over(lambda r: r.index),
        "cpu": over(lambda r: r.cpu or 0.0),
        "completion p50": over(lambda r: percentile(r.completions, 50) if r.completions else 0.0),
        "completion p95": over(lambda r: percentile(r.completions, 95) if r.completions else 0.0),
    }


def summarise_in_process(runs: list[Run]) -> dict[str, tuple[float, str]] | None:
    done = [r.inprocess for r in runs if r.inprocess is not None]
    if not done:
        return None

    def over(figure) -> tuple[float, str]:
        values = [figure(d) for d in done]
        return statistics.median(values), spread(values)

    return {
        "p50": over(lambda d: percentile(d["keystrokes"], 50)),
        "p95": over(lambda d: percentile(d["keystrokes"], 95)),
        "mean": over(lambda d: statistics.mean(d["keystrokes"])),
        "cpu": over(lambda d: statistics.mean(d.get("cpu") or d["keystrokes"])),
        "open": over(lambda d: d["open"]),
        "completion p50": over(lambda d: percentile(d["completions"], 50) if d["completions"] else 0.0),
        "completion p95": over(lambda d: percentile(d["completions"], 95) if d["completions"] else 0.0),
    }


def table(file: Path, root: Path | None, runs: list[Run], count: int, parse: float, trees: float | None) -> str:
    s = summarise(runs)
    inside = summarise_in_process(runs)
    broken = max(r.broken for r in runs)
    rss = statistics.median([r.rss for r in runs if r.rss is not None] or [0])
    reparse50, reparse95, reparse_mean = s["floor p50"][0], s["floor p95"][0], s["floor mean"][0]

    def row(what: str, key: str, floor: float | None, floor_text: str, figures=s) -> str:
        value, runs_spread = figures[key]
        if floor is None:
            return f"| {what} | {ms(value)} | {runs_spread} | {floor_text} | |"
        return f"| {what} | {ms(value)} | {runs_spread} | {ms(floor)} {floor_text} | {ratio(value, floor)} |"

    lines = [
        f"File `{file}` ({file.stat().st_size} bytes), workspace `{root}`; {count} keystrokes per run, {len(runs)} runs (a fresh server each);",
        f"keystrokes whose diagnostics showed a syntax error: {broken}. Machine: {machine()}.",
        "",
        "| what | median | spread | floor | x floor |",
        "|---|---|---|---|---|",
        row("keystroke to diagnostics, p50", "p50", reparse50, "incremental reparse p50"),
        row("keystroke to diagnostics, p95", "p95", reparse95, "incremental reparse p95"),
    ]
    if inside:
        lines += [
            row("... the same keystrokes in process (no LSP), p50", "p50", reparse50, "incremental reparse p50", inside),
            row("... the same keystrokes in process (no LSP), p95", "p95", reparse95, "incremental reparse p95", inside),
        ]
    lines.append(row("server CPU per keystroke, mean", "cpu", reparse_mean, "incremental reparse, mean"))
    if inside:
        lines.append(row("... the same keystrokes in process (no LSP), CPU mean", "cpu", reparse_mean, "incremental reparse, mean", inside))
    lines += [
        row("didOpen to diagnostics", "open", parse, "full parse of the file"),
    ]
    if inside:
        lines.append(row("... the same in process (no LSP)", "open", parse, "full parse of the file", inside))
    completion50 = inside["completion p50"][0] if inside else None
    completion95 = inside["completion p95"][0] if inside else None
    lines += [
        row("completion at random places, p50", "completion p50", completion50, "the same completions in process (no LSP)" if inside else ""),
        row("completion at random places, p95", "completion p95", completion95, "the same completions in process (no LSP)" if inside else ""),
    ]
    opened = f" (with {runs[0].opened_all} more files open)" if runs[0].opened_all else ""
    what = "the workspace's trees" if root else "the file's tree"
    lines.append(f"| server resident memory after the run{opened} | {rss:.0f} MiB | | {f'{trees:.0f} MiB a process holding only {what}' if trees else ''} | {ratio(rss, trees) if trees else ''} |")
    lines.append("")
    if inside:
        lines.append(
            f"The LSP glue (pipes, JSON, lsprotocol, the event loop): keystroke p50 {ms(s['p50'][0])} through the server "
            f"against {ms(inside['p50'][0])} in process ({ms(s['p50'][0] - inside['p50'][0])} a keystroke); the server's CPU "
            f"{ms(s['cpu'][0])} a keystroke against {ms(inside['cpu'][0])} in process ({ms(s['cpu'][0] - inside['cpu'][0])})."
        )
    else:
        lines.append("No in-process figures: bench/inprocess.py failed on this checkout.")
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
    runs = []
    for _ in range(options.runs):
        run = asyncio.run(one_run(options.file, options.root, options.keystrokes, others))
        run.inprocess = in_process(options.file, options.root, options.keystrokes)
        runs.append(run)
    parse = full_parse_floor([options.file.read_bytes()], max(3, options.runs))
    trees = trees_rss(nix_files(options.root) if options.root else [options.file])
    print(table(options.file, options.root, runs, options.keystrokes, parse, trees))
    return 0


if __name__ == "__main__":
    sys.exit(main())

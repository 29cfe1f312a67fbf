"""How the server's cost grows with the clan: synthetic clans of 10, 100, 1000 services.

    python bench/scale.py CLAN_CORE [--sizes 10 100 1000] [--runs 3] [--keystrokes 20]

For each size, bench/synth.py writes a clan (services copied from clan-core, registered
in `clan.modules`, one inventory instance and one machine each) and, per run, a fresh
server (started as `clan-lsp` is, the clan as its workspace folder) is timed for:
- index on start: `initialized` to the answer of a workspace/symbol request (the
  server indexes on start; the answer needs the index). Floor: tree-sitter's full
  parse of every .nix file of the clan, in this process.
- memory: the server's resident memory after indexing. Floor: a Python process
  holding the tree-sitter tree of every .nix file of the clan.
- keystrokes in the clan file and in a service whose text mentions `modules` (both
  files open): the valid-file workload of bench/keystrokes.py, each keystroke to
  the diagnostics of its version. Floor: tree-sitter's incremental reparse.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from common import Session, full_parse_floor, machine, ms, nix_files, percentile, ratio, reparse_floor, spread, trees_rss, valid_workload  # noqa: E402
from synth import generate  # noqa: E402


@dataclass
class Figures:
    index: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)
    rss_open: list[float] = field(default_factory=list)
    clan_p50: list[float] = field(default_factory=list)
    clan_p95: list[float] = field(default_factory=list)
    service_p50: list[float] = field(default_factory=list)
    service_p95: list[float] = field(default_factory=list)
    clan_floor: list[float] = field(default_factory=list)
    service_floor: list[float] = field(default_factory=list)
    parse_floor: float = 0.0
    rss_floor: float = 0.0
    files: int = 0


def service_mentioning_modules(root: Path) -> Path:
    for path in sorted((root / "services").glob("*/default.nix"), key=lambda p: int(p.parent.name.rsplit("-", 1)[1])):
        if b"modules" in path.read_bytes():
            return path
    return sorted((root / "services").glob("*/default.nix"))[0]


async def one_run(root: Path, clan_file: Path, service: Path, keystrokes: int, figures: Figures) -> None:
    session = await Session(root).start()
    try:
        figures.index.append(await session.initialized_and_indexed())
        figures.rss.append(session.rss() or 0.0)
        await session.open(clan_file)
        await session.open(service)
        figures.rss_open.append(session.rss() or 0.0)
        for path, p50, p95, floor in ((clan_file, figures.clan_p50, figures.clan_p95, figures.clan_floor), (service, figures.service_p50, figures.service_p95, figures.service_floor)):
            strokes = valid_workload(path.read_bytes(), keystrokes)
            times = [(await session.type(path, stroke))[0] for stroke in strokes]
            p50.append(percentile(times, 50))
            p95.append(percentile(times, 95))
            floor.append(percentile(reparse_floor(path.read_bytes(), strokes), 50))
    finally:
        await session.stop()


def measure(clan_core: Path, size: int, runs: int, keystrokes: int, workdir: Path) -> Figures:
    root = workdir / f"clan-{size}"
    clan_file = generate(clan_core, root, size)
    service = service_mentioning_modules(root)
    files = nix_files(root)
    figures = Figures(files=len(files))
    figures.parse_floor = full_parse_floor([f.read_bytes() for f in files])
    figures.rss_floor = trees_rss(files)
    for _ in range(runs):
        asyncio.run(one_run(root, clan_file, service, keystrokes, figures))
    return figures


def table(results: dict[int, Figures], runs: int, keystrokes: int) -> str:
    med = statistics.median
    lines = [
        f"{runs} runs per size (a fresh server each), {keystrokes} keystrokes per file per run; medians over runs, ± the runs' spread.",
        f"Machine: {machine()}.",
        "",
        "| services | .nix files | index on start | x full parse | memory | with the clan file open | x trees only | keystroke in the clan file p50 / p95 | x reparse | keystroke in a service that mentions `modules` p50 / p95 | x reparse |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size, f in results.items():
        lines.append(
            f"| {size} | {f.files} | {ms(med(f.index))} {spread(f.index)} | {ratio(med(f.index), f.parse_floor)} "
            f"| {med(f.rss):.0f} MiB | {med(f.rss_open):.0f} MiB | {ratio(med(f.rss_open), f.rss_floor)} "
            f"| {ms(med(f.clan_p50))} / {ms(med(f.clan_p95))} {spread(f.clan_p50)} | {ratio(med(f.clan_p50), med(f.clan_floor))} "
            f"| {ms(med(f.service_p50))} / {ms(med(f.service_p95))} {spread(f.service_p50)} | {ratio(med(f.service_p50), med(f.service_floor))} |"
        )
    lines.append("")
    lines.append(
        "Floors, same run: "
        + "; ".join(
            f"{size}: full parse {ms(f.parse_floor)}, trees {f.rss_floor:.0f} MiB, reparse p50 {ms(med(f.clan_floor))} (clan file) / {ms(med(f.service_floor))} (service)"
            for size, f in results.items()
        )
        + "."
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clan_core", type=Path)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keystrokes", type=int, default=20)
    parser.add_argument("--checkout", type=Path, default=None, help="the clan-lsp source tree to run (default: this one)")
    options = parser.parse_args()
    if options.checkout:
        common.CHECKOUT = options.checkout.resolve()
    with tempfile.TemporaryDirectory(prefix="clan-lsp-scale-") as workdir:
        results = {size: measure(options.clan_core, size, options.runs, options.keystrokes, Path(workdir)) for size in options.sizes}
    print(table(results, options.runs, options.keystrokes))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark `clan-lsp check` over a corpus of .nix files against the raw parse.

    python bench/corpus.py PATH [PATH...] [--runs 7]

Prints one table, medians over the runs, all measured in this one run:
- raw tree-sitter parse of every file (in process, the floor for any checker),
- clan-lsp's analysis of every file (in process: parse, model, all rules),
- `clan-lsp check PATH` as a user runs it (a new process: interpreter start included),
- `nix-instantiate --parse` of every file, when nix is installed (one run: it is slow).

clan-core's repository is the intended corpus (377 .nix files); any folder works.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

from clan_lsp.analysis import Files, analyze
from clan_lsp.syntax import new_parser


def nix_files(paths: list[str]) -> list[str]:
    found = []
    for path in paths:
        if os.path.isfile(path):
            found.append(path)
            continue
        for directory, subdirs, names in os.walk(path):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
            found += [os.path.join(directory, n) for n in sorted(names) if n.endswith(".nix")]
    return found


def median_time(function, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    files = nix_files(options.paths)
    texts = [open(f, "rb").read() for f in files]
    size = sum(len(t) for t in texts)

    ts_parser = new_parser()

    def raw_parse() -> None:
        for text in texts:
            ts_parser.parse(text)

    def analysis() -> None:
        cache = Files()
        for path in files:
            source = cache.load(path)
            if source is not None:
                analyze(source, cache, find_importer=False)

    def cli() -> None:
        subprocess.run([sys.executable, "-m", "clan_lsp", "check", *options.paths], capture_output=True)

    raw = median_time(raw_parse, options.runs)
    inproc = median_time(analysis, options.runs)
    whole = median_time(cli, options.runs)
    rows = [
        ("tree-sitter parse (in process)", raw, 1.0),
        ("clan-lsp analysis (in process)", inproc, inproc / raw),
        ("`clan-lsp check` (new process)", whole, whole / raw),
    ]
    if shutil.which("nix-instantiate"):
        start = time.perf_counter()
        for path in files:
            subprocess.run(["nix-instantiate", "--parse", path], capture_output=True)
        nix = time.perf_counter() - start
        rows.append(("nix-instantiate --parse (one process per file, 1 run)", nix, nix / raw))

    print(f"corpus: {len(files)} .nix files, {size / 1024:.0f} KiB; {options.runs} runs; median wall time")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print()
    print(f"| {'what':56} | {'median':>9} | {'x raw parse':>11} |")
    print(f"|{'-' * 58}|{'-' * 11}|{'-' * 13}|")
    for name, seconds, ratio in rows:
        print(f"| {name:56} | {seconds * 1000:7.1f}ms | {ratio:10.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

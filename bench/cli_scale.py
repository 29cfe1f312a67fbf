"""Does `clan-lsp check` stay linear in the number of files?

    python bench/cli_scale.py CORPUS [CORPUS...] [--copies 1 2 3] [--runs 3]

Copies the `.nix` files (and `flake.lock`s) of each CORPUS folder into a scratch folder,
repeated 1, 2, 3... times (e.g. nixpkgs' `lib/` plus clan-core: 662 files a copy, about
2,000 with three), and times `clan-lsp check FOLDER` as a user runs it (a new process,
interpreter start included, output discarded), the median of `--runs` runs per size, as
wall time and as CPU time (user + system; steadier on a shared machine), with the
checkout compiled to bytecode as an install has it. Next to it, its floor in the same
run: a new process that walks the folder, reads and parses every .nix file
(bench/startup.py's). Prints one Markdown row per size: files, seconds, milliseconds per
file, the ratio of the time per file to the smallest size's, and the CPU ratio to the
floor. Linear growth keeps the per-file ratio near 1; quadratic work (every file against
every other) would double it with each doubling of the files.

The corpora are arguments: nothing here, and no test, depends on them.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))

from common import BYTECODE_NOTE, server_env  # noqa: E402
from startup import check_floor  # noqa: E402


def copy_corpus(source: str, target: str) -> int:
    """Copy the .nix files and flake.lock files below `source` to `target`; the number of .nix files."""
    count = 0
    for directory, subdirs, names in os.walk(source):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        relative = os.path.relpath(directory, source)
        for name in names:
            if name.endswith(".nix") or name == "flake.lock":
                os.makedirs(os.path.join(target, relative), exist_ok=True)
                shutil.copyfile(os.path.join(directory, name), os.path.join(target, relative, name))
                count += name.endswith(".nix")
    return count


def time_check(folder: str, runs: int, command: list[str] | None = None) -> tuple[float, float, int]:
    """Median wall seconds, median CPU seconds (user + system of the process), exit status."""
    command = command or [sys.executable, "-m", "clan_lsp", "check", "--exit-zero", "--quiet", folder]
    environment = server_env()
    walls, cpus = [], []
    status = 0
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        status = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment).returncode
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus), status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpora", nargs="+", metavar="CORPUS", help="folders whose .nix files make one copy")
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="clan-lsp-scale-") as scratch:
        made = 0
        files = 0
        for copies in sorted(options.copies):
            while made < copies:
                for index, corpus in enumerate(options.corpora):
                    files += copy_corpus(corpus, os.path.join(scratch, f"copy{made}", f"corpus{index}"))
                made += 1
            seconds, cpu, status = time_check(scratch, options.runs)
            if status not in (0, 1):
                print(f"clan-lsp check exited {status} on {files} files", file=sys.stderr)
                return 1
            _, floor_cpu, _ = time_check(scratch, options.runs, check_floor(scratch))
            rows.append((copies, files, seconds, cpu, floor_cpu))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; median of {options.runs} runs")
    print(BYTECODE_NOTE)
    print()
    print("| copies | files | wall s | wall ms/file | x | CPU s | CPU ms/file | x | floor CPU s (walk, read, parse) | x floor |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    wall_base, cpu_base = rows[0][2] / rows[0][1], rows[0][3] / rows[0][1]
    for copies, files, seconds, cpu, floor_cpu in rows:
        wall_per, cpu_per = seconds / files, cpu / files
        print(
            f"| {copies} | {files} | {seconds:.2f} | {wall_per * 1000:.2f} | {wall_per / wall_base:.2f} "
            f"| {cpu:.2f} | {cpu_per * 1000:.2f} | {cpu_per / cpu_base:.2f} | {floor_cpu:.2f} | {cpu / floor_cpu:.1f}x |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

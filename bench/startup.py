"""Starting clan-lsp as a user installs it, and `clan-lsp check` over a corpus.

    python bench/startup.py CLAN_CORE [--runs 7]

Every row is a new process running what the `clan-lsp` console script runs, with the
checkout compiled to bytecode as an install has it (common.compile_checkout):
- initialize: process start to the answer of `initialize` (a real LSP client over stdio),
  and to the diagnostics of the first opened file (clan-core's wireguard);
- `clan-lsp --version`;
- `clan-lsp check CLAN_CORE`, as wall and CPU time.
Floors, each measured in the same run:
- a start: the interpreter starting and importing tree-sitter-nix;
- `check`: a new process that imports tree-sitter-nix, walks the folder as `check` does,
  reads every .nix file (size, bytes, UTF-8) and parses it: everything `check` cannot avoid.
  tree-sitter's parse of the same texts inside this process (no start, no walk, no reads)
  is printed as a second reference.
With --nix, `nix-instantiate --parse` of each file. Also checked: `--version` and `check`
do not import pygls or lsprotocol (-X importtime).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from common import BYTECODE_NOTE, ENTRY_POINT, SKIPPED_FOLDERS, Session, full_parse_floor, machine, ms, nix_files, ratio, server_env, spread, user_env  # noqa: E402

FLOOR = [sys.executable, "-c", "import tree_sitter, tree_sitter_nix"]

# The floor of `clan-lsp check FOLDER`: start, import tree-sitter-nix, walk the folder as
# check does (common.nix_files), read each .nix file as check does (size, bytes, UTF-8), parse.
CHECK_FLOOR_SCRIPT = """
import os, sys, tree_sitter, tree_sitter_nix
parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_nix.language()))
skipped = set(sys.argv[2].split(","))
count = 0
for directory, subdirs, names in os.walk(sys.argv[1]):
    subdirs[:] = sorted(d for d in subdirs if not d.startswith(".") and d not in skipped)
    for name in sorted(names):
        if name.endswith(".nix"):
            path = os.path.join(directory, name)
            os.path.getsize(path)
            with open(path, "rb") as handle:
                data = handle.read()
            data.decode("utf-8")
            parser.parse(data)
            count += 1
print(count)
"""


def check_floor(folder: Path) -> list[str]:
    return [sys.executable, "-c", CHECK_FLOOR_SCRIPT, str(folder), ",".join(SKIPPED_FOLDERS)]


def timed(command: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + system: steadier on a busy machine) seconds of each run of a command."""
    import resource

    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        subprocess.run(command, capture_output=True, env=server_env())
        walls.append(time.perf_counter() - began)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


async def first_answers(first_file: Path | None) -> tuple[float, float | None, float | None]:
    began = time.perf_counter()
    session = await Session(None).start()
    try:
        initialize = session.initialize_seconds
        cpu = session.initialize_cpu
        first = None
        if first_file is not None:
            from lsprotocol import types as lsp

            session.client.initialized(lsp.InitializedParams())
            await session.open(first_file)
            first = time.perf_counter() - began
    finally:
        await session.stop()
    return initialize, first, cpu


def imports_of(arguments: list[str]) -> set[str]:
    """Top-level packages a command imports."""
    out = subprocess.run([sys.executable, "-X", "importtime", *ENTRY_POINT[1:], *arguments], capture_output=True, text=True, env=server_env())
    names = set()
    for line in out.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def attempt(first_file: Path | None) -> tuple[float, float | None, float | None] | None:
    try:
        return asyncio.run(first_answers(first_file))
    except Exception as error:  # noqa: BLE001 - a server that dies is reported, not fatal
        print(f"startup run failed: {error!r}", file=sys.stderr)
        return None


def alternating(commands: list[list[str]], runs: int) -> list[tuple[list[float], list[float]]]:
    """timed() of each command, their runs alternating, so that a command and its floor
    meet the same load."""
    results = [([], []) for _ in commands]
    for _ in range(runs):
        for command, (walls, cpus) in zip(commands, results):
            wall, cpu = timed(command, 1)
            walls += wall
            cpus += cpu
    return results


def table(clan_core: Path, runs: int, nix: bool = False) -> str:
    med = statistics.median
    wireguard = clan_core / "clanServices" / "wireguard" / "default.nix"
    starts = [s for s in (attempt(wireguard if wireguard.is_file() else None) for _ in range(runs)) if s is not None] or [(0.0, None, None)]
    initialize = [s[0] for s in starts]
    first = [s[1] for s in starts if s[1] is not None]
    cpu = [s[2] for s in starts if s[2] is not None]
    (floor, floor_cpu), (version, _) = alternating([FLOOR, [*ENTRY_POINT, "--version"]], runs)
    files = nix_files(clan_core)
    texts = [f.read_bytes() for f in files]
    (check, check_cpu), (walk_parse, walk_parse_cpu) = alternating([[*ENTRY_POINT, "check", str(clan_core)], check_floor(clan_core)], runs)
    parse = full_parse_floor(texts, runs)
    heavy = {"pygls", "lsprotocol", "cattrs"}
    leaks = {name: sorted(imports_of(arguments) & heavy) for name, arguments in (("--version", ["--version"]), ("check", ["check", str(wireguard)]))}
    lines = [
        f"{runs} runs each (new processes); medians, ± the runs' spread. Machine: {machine()}.",
        f"Corpus: `{clan_core}`, {len(files)} .nix files, {sum(map(len, texts)) // 1024} KiB.",
        "",
        "| what | median | spread | floor | x floor |",
        "|---|---|---|---|---|",
        f"| initialize (process start to its answer) | {ms(med(initialize))} | {spread(initialize)} | {ms(med(floor))} interpreter + tree-sitter-nix import | {ratio(med(initialize), med(floor))} |",
    ]
    if cpu:
        lines.append(f"| ... the server's CPU time when it answers | {ms(med(cpu))} | {spread(cpu)} | {ms(med(floor_cpu))} CPU of the same floor | {ratio(med(cpu), med(floor_cpu))} |")
    if first:
        lines.append(f"| ... to the diagnostics of the first file (wireguard) | {ms(med(first))} | {spread(first)} | {ms(med(floor))} | {ratio(med(first), med(floor))} |")
    lines += [
        f"| `clan-lsp --version` | {ms(med(version))} | {spread(version)} | {ms(med(floor))} | {ratio(med(version), med(floor))} |",
        f"| `clan-lsp check` of the corpus | {ms(med(check))} | {spread(check)} | {ms(med(walk_parse))} new process: walk, read, parse | {ratio(med(check), med(walk_parse))} |",
        f"| ... its CPU time | {ms(med(check_cpu))} | {spread(check_cpu)} | {ms(med(walk_parse_cpu))} CPU of the same floor | {ratio(med(check_cpu), med(walk_parse_cpu))} |",
        f"| ... against the parse alone (reference) | {ms(med(check))} | | {ms(parse)} tree-sitter full parse of the texts, in process | {ratio(med(check), parse)} |",
    ]
    if nix and shutil.which("nix-instantiate"):
        began = time.perf_counter()
        for path in files:
            subprocess.run(["nix-instantiate", "--parse", str(path)], capture_output=True)
        nix = time.perf_counter() - began
        lines.append(f"| nix-instantiate --parse, one process per file (1 run) | {ms(nix)} | | {ms(parse)} | {ratio(nix, parse)} |")
    lines.append("")
    lines.append(BYTECODE_NOTE)
    lines.append("pygls/lsprotocol imported by: " + "; ".join(f"`{name}`: {', '.join(found) or 'neither'}" for name, found in leaks.items()) + ".")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clan_core", type=Path)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--nix", action="store_true", help="also time nix-instantiate --parse of every file (slow)")
    parser.add_argument("--checkout", type=Path, default=None, help="the clan-lsp source tree to run (default: this one)")
    options = parser.parse_args()
    if options.checkout:
        common.CHECKOUT = options.checkout.resolve()
    print(table(options.clan_core, options.runs, options.nix))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Every benchmark in one run, written to bench/RESULTS.md.

    python bench/all.py CLAN_CORE [--runs 3] [--sizes 10 100 1000] [--before REV] [--out FILE]

Sections, each from one script (run alone for a quick look):
- keystrokes in a valid file: bench/keystrokes.py on clan-core's wireguard, clan-core as
  the workspace, its own folder as the workspace (a small clan: its test clan, whose export
  graph is rebuilt on every keystroke), and without a workspace (the per-file cost alone);
- synthetic clans of 10 / 100 / 1000 services: bench/scale.py;
- starting as a user installs it, and `clan-lsp check` of clan-core: bench/startup.py;
- `clan-lsp check` against file count (CLAN_CORE, or --check-corpora, copied 1, 2, 4
  times): bench/cli_scale.py.
Every process they start runs the checkout compiled to bytecode (bench/common.py's
compile_checkout and user_env), as a user's install does.
With --before REV, the keystroke and scale sections are also run on that git revision of
this repository (exported to a temporary folder) under "Before ...". Without it, that
section of the existing RESULTS.md is kept as it is (old code does not change).
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parent
BEFORE = "## Before the semantic layer"


def run(script: str, *arguments: str) -> str:
    command = [sys.executable, str(HERE / script), *arguments]
    print("$", " ".join(command), file=sys.stderr, flush=True)
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        return f"`{script}` failed (exit {done.returncode}):\n\n```\n{done.stderr[-2000:]}\n```"
    return done.stdout.strip()


def revision(path: Path, rev: str = "HEAD") -> str:
    done = subprocess.run(["git", "-C", str(path), "log", "-1", "--format=%h %cd (%s)", "--date=short", rev], capture_output=True, text=True)
    return done.stdout.strip() or "(not a git checkout)"


def sections(clan_core: Path, runs: int, sizes: list[str], checkout: Path | None = None) -> list[tuple[str, str]]:
    extra = ["--checkout", str(checkout)] if checkout else []
    wireguard = str(clan_core / "clanServices" / "wireguard" / "default.nix")
    return [
        (
            "Keystrokes in a valid file: wireguard, clan-core as the workspace",
            run("keystrokes.py", wireguard, "--root", str(clan_core), "--runs", str(runs), "--keystrokes", "100", *extra),
        ),
        (
            # a clan of at most GRAPH_ON_TYPE_INSTANCES instances, as most users' are: the
            # export graph is built again on every keystroke (clan-core's is too big for that)
            "Keystrokes in a valid file: wireguard, its folder as the workspace (its test clan: the export graph is rebuilt on every keystroke)",
            run("keystrokes.py", wireguard, "--root", str(Path(wireguard).parent), "--runs", str(runs), "--keystrokes", "100", *extra),
        ),
        ("Keystrokes in a valid file: wireguard, no workspace (the per-file cost alone)", run("keystrokes.py", wireguard, "--runs", str(runs), "--keystrokes", "100", *extra)),
        ("Synthetic clans: services copied from clan-core, one instance and one machine each", run("scale.py", str(clan_core), "--sizes", *sizes, "--runs", str(runs), *extra)),
    ]


# Sections of older RESULTS.md files that these benchmarks replace.
REPLACED = ("`clan-lsp check` over clan-core", "The language server through a real LSP client", "`clan-lsp check` against file count")


def kept_sections(out: Path, produced: list[str], before: bool) -> list[str]:
    """The sections of the existing file this run does not write: other benchmarks'
    (run on their own), and "Before ..." unless it is measured again now."""
    if not out.exists():
        return []
    kept = []
    for chunk in ("\n" + out.read_text()).split("\n## ")[1:]:
        title = chunk.split("\n", 1)[0].strip()
        if title in produced or title.startswith(REPLACED) or (before and ("## " + title).startswith(BEFORE)):
            continue
        kept.append("## " + chunk.strip())
    return kept


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clan_core", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", nargs="+", default=["10", "100", "1000"])
    parser.add_argument("--before", default=None, metavar="REV", help="also measure this git revision (the code before the semantic layer)")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--check-corpora", type=Path, nargs="+", default=None, metavar="DIR", help="folders whose .nix files the check-scaling section copies (default: CLAN_CORE)")
    options = parser.parse_args()
    clan_core = options.clan_core.resolve()
    started = datetime.datetime.now(datetime.timezone.utc)
    parts = [
        "# Benchmark results",
        "",
        f"Regenerated by `python bench/all.py <clan-core> --runs {options.runs}` on {started:%Y-%m-%d %H:%M} UTC, "
        f"clan-lsp {revision(CHECKOUT)}, clan-core {revision(clan_core)}.",
        "Every figure is a median over runs (a fresh server per run) with the runs' spread, next to",
        "its floor measured in the same run: tree-sitter's own parse of the same text (incremental",
        "for keystrokes, full for indexing and checking), or a process doing only the necessary.",
        "Wall times on a busy machine are inflated (see the load average in each section); the",
        "CPU rows and the ratios to floors measured at the same moment are steadier.",
        "Every process the bench starts (servers, `clan-lsp check`, floors) runs as a user's install",
        "does: the checkout is compiled to bytecode first (`compileall` into the gitignored",
        "`__pycache__`) and PYTHONDONTWRITEBYTECODE is unset, so no figure includes compiling",
        "clan_lsp from source. The keystroke tables also give the same keystrokes run in one",
        "process without LSP (bench/inprocess.py): the difference is the LSP glue.",
        "",
    ]
    produced = []
    for title, body in sections(clan_core, options.runs, options.sizes):
        parts += [f"## {title}", "", body, ""]
        produced.append(title)
    startup = "Starting as a user installs it, and `clan-lsp check` of clan-core"
    parts += [f"## {startup}", "", run("startup.py", str(clan_core), "--runs", str(max(options.runs, 5))), ""]
    produced.append(startup)
    scale_check = "`clan-lsp check` against file count"
    corpora = [str(c) for c in options.check_corpora] if options.check_corpora else [str(clan_core)]
    parts += [
        f"## {scale_check}",
        "",
        f"`python bench/cli_scale.py {' '.join(corpora)} --copies 1 2 4 --runs {options.runs}`: the `.nix` files of the corpora "
        "copied 1, 2 and 4 times into one folder, `clan-lsp check` of it in a new process. Linear growth keeps the time "
        "per file flat (the x column near 1); the last column is the CPU against a new process that walks, reads and parses "
        "the same files.",
        "",
        run("cli_scale.py", *corpora, "--copies", "1", "2", "4", "--runs", str(options.runs)),
        "",
    ]
    produced.append(scale_check)
    kept = kept_sections(options.out, produced, before=bool(options.before))
    if options.before:
        with tempfile.TemporaryDirectory(prefix="clan-lsp-before-") as folder:
            archive = subprocess.run(["git", "-C", str(CHECKOUT), "archive", options.before], capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
            parts += [
                f"{BEFORE} (clan-lsp {revision(CHECKOUT, options.before)})",
                "",
                "The same benchmarks run on the code before the semantic layer, for comparison.",
                "",
            ]
            for title, body in sections(clan_core, options.runs, options.sizes, Path(folder)):
                parts += [f"### {title}", "", body, ""]
    for section in kept:
        parts += [section, ""]
    options.out.write_text("\n".join(parts).rstrip() + "\n")
    print(f"wrote {options.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())

"""Instructions per keystroke, counted: the valid-file workload of keystrokes.py run in one
process (as inprocess.py runs it) under valgrind's cachegrind, which counts the machine
instructions executed. The count does not change with the machine's load or speed, so two
checkouts compare within a fraction of a percent where wall and CPU times on a shared VM
drift by half between minutes.

    python bench/instructions.py FILE [--root DIR] [--keystrokes 100] [--checkout DIR ...]

Each checkout (default: this one) runs twice, with the keystrokes and with none; the
difference over the keystrokes is its figure, the set-up (imports, indexing the workspace,
the first analysis) left out. Needs `valgrind` (Debian: apt install valgrind); about 20 s a
checkout for wireguard in clan-core. It counts instructions, not time: memory stalls and
the LSP glue are not in it (keystrokes.py measures those).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# The child: the keystrokes as the server's didChange and publish run them, no LSP.
CHILD = """
import gc, sys
sys.path.insert(0, {bench!r})
from common import valid_workload
from clan_lsp.analysis import Analysis
from clan_lsp.config import apply_config, config_for
from clan_lsp.model import load_source
from clan_lsp.syntax import SyntaxTree
path, root, count = {path!r}, {root!r}, {count}
text = open(path, "rb").read()
analysis = Analysis([root] if root else [])
analysis.index
tree = SyntaxTree(text)
analysis.update(path, load_source(text, path, tree=tree))
analysis.diagnostics(path)
gc.collect(); gc.freeze(); gc.disable()  # as the server: no collection while answering
for stroke in valid_workload(text, max(count, 1), 7)[:count]:
    start, end, new = (stroke.offset, stroke.offset, b"x") if stroke.insert else (stroke.offset, stroke.offset + 1, b"")
    tree.edit(start, end, new)
    analysis.update(path, load_source(tree.text, path, tree=tree))
    kept = {{"spelled": tree.spelled}} if hasattr(tree, "spelled") else {{}}  # as the server calls it
    apply_config(analysis.diagnostics(path), path, tree.text, config_for(path), tree.line_index, **kept)
"""


def child_program(file: Path, root: Path | None, count: int) -> str:
    """The child's source for one file, workspace and number of keystrokes."""
    return CHILD.format(bench=str(HERE), path=str(file.resolve()), root=str(root.resolve()) if root else None, count=count)


def instructions(checkout: Path, file: Path, root: Path | None, count: int) -> int:
    """Instructions the child executes, all of them (cachegrind's `I refs`)."""
    program = child_program(file, root, count)
    env = dict(os.environ, PYTHONPATH=str(checkout), PYTHONHASHSEED="0")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null", sys.executable, "-c", program],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(checkout),
    )
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"cachegrind failed for {checkout}: {done.stderr[-800:]}")
    return int(found.group(1).replace(",", ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--root", type=Path, default=None, help="workspace folder (default: none)")
    parser.add_argument("--keystrokes", type=int, default=100)
    parser.add_argument("--checkout", type=Path, action="append", default=None, help="a source tree of clan-lsp (repeat to compare; default: this one)")
    options = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt install valgrind)", file=sys.stderr)
        return 2
    checkouts = [c.resolve() for c in options.checkout] if options.checkout else [HERE.parent]
    from common import compile_checkout

    print(f"File `{options.file}`, workspace `{options.root}`; {options.keystrokes} keystrokes of the valid-file workload, in one process.")
    print()
    print("| checkout | instructions a keystroke | x the first |")
    print("|---|---|---|")
    first = None
    for checkout in checkouts:
        compile_checkout(checkout)
        each = (instructions(checkout, options.file, options.root, options.keystrokes) - instructions(checkout, options.file, options.root, 0)) / options.keystrokes
        first = first or each
        print(f"| `{checkout}` | {each / 1e6:.3f} M | {each / first:.3f} |")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    sys.exit(main())

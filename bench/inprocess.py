"""The keystrokes of bench/keystrokes.py without LSP: what the server does per keystroke,
called in one process, so that the difference to the server's figure is the glue (pipes,
JSON, lsprotocol's conversions, the event loop).

    python bench/inprocess.py FILE [--root WORKSPACE] [--keystrokes 100] [--completions 50]

Prints one JSON object: `keystrokes` (seconds per keystroke: incremental edit, source,
analysis update, diagnostics and the configuration filter, as the server's didChange and
publish do), `cpu` (the CPU seconds of the same keystrokes, to set beside the server's), `completions` (seconds per completion at the places keystrokes.py asks),
`open` (seconds from the text to its first diagnostics, the workspace already indexed).

Unlike the other scripts this one imports clan_lsp (the checkout in PYTHONPATH), so it
follows its insides: run against an older checkout it may fail, and the callers then
print no in-process figure.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import valid_workload  # noqa: E402


def measure(file: Path, root: Path | None, count: int, completions: int, seed: int = 7) -> dict:
    from clan_lsp.analysis import Analysis
    from clan_lsp.config import apply_config, config_for
    from clan_lsp.model import load_source
    from clan_lsp.syntax import SyntaxTree

    path = str(file.resolve())  # as the server names it: the path of the file:// URI
    text = file.read_bytes()
    analysis = Analysis([str(root.resolve())] if root else [])
    analysis.index  # the server indexes on `initialized`, before any file is opened

    def publish(tree: SyntaxTree) -> list:
        analysis.update(path, load_source(tree.text, path, tree=tree))
        # as the server calls it (older checkouts' trees keep no places of words)
        kept = {"spelled": tree.spelled} if hasattr(tree, "spelled") else {}
        return apply_config(analysis.diagnostics(path), path, tree.text, config_for(path), tree.line_index, **kept)

    began = time.perf_counter()
    tree = SyntaxTree(text)
    publish(tree)
    opened = time.perf_counter() - began
    times, cpu = [], []
    for stroke in valid_workload(text, count, seed):
        began, began_cpu = time.perf_counter(), time.process_time()
        if stroke.insert:
            tree.edit(stroke.offset, stroke.offset, b"x")
        else:
            tree.edit(stroke.offset, stroke.offset + 1, b"")
        publish(tree)
        times.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    places = random.Random(seed + 1).sample(range(len(text)), min(completions, len(text)))
    completed = []
    for place in places:
        began = time.perf_counter()
        analysis.complete(path, place)
        completed.append(time.perf_counter() - began)
    return {"keystrokes": times, "cpu": cpu, "completions": completed, "open": opened}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--root", type=Path, default=None)
    parser.add_argument("--keystrokes", type=int, default=100)
    parser.add_argument("--completions", type=int, default=50)
    options = parser.parse_args()
    print(json.dumps(measure(options.file, options.root, options.keystrokes, options.completions)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

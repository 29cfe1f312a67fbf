"""Every benchmark in one run: `python bench/all.py CLAN_CORE`.

Prints the corpus table (clan-lsp check vs tree-sitter's raw parse and nix-instantiate
--parse) and the language-server table (through a real LSP client, on the largest
service module, with the whole corpus opened for the memory figure).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    corpus = Path(sys.argv[1])
    services = sorted(corpus.glob("clanServices/*/default.nix"), key=lambda p: p.stat().st_size)
    largest = services[-1] if services else max(corpus.rglob("*.nix"), key=lambda p: p.stat().st_size)
    status = subprocess.call([sys.executable, str(HERE / "corpus.py"), str(corpus)])
    print()
    status |= subprocess.call([sys.executable, str(HERE / "lsp.py"), str(largest), "--open-all", str(corpus)])
    return status


if __name__ == "__main__":
    sys.exit(main())

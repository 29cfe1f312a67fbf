#!/usr/bin/env python3
"""Generate clan-lsp's catalogue of clan-core's services from a clan-core checkout.

    python scripts/gen_catalogue.py /path/to/clan-core [--date YYYY-MM-DD] [--commit REV] [-o FILE]

The date and commit default to the checkout's HEAD (git); pass them for a checkout
without .git. The output (clan_lsp/spec/data/clan_core_services.json by default) holds
facts only: names, roles, settings with types and defaults (no prose).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from clan_lsp.inputs.catalogue import FILE, build  # noqa: E402
from clan_lsp.inputs.source import InputSource  # noqa: E402


def _git(checkout: str, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", checkout, *args], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkout")
    parser.add_argument("--date", help="clan-core's commit date (YYYY-MM-DD); default: git HEAD's")
    parser.add_argument("--commit", help="clan-core's commit; default: git HEAD")
    parser.add_argument("-o", "--output", default=os.path.join(ROOT, "clan_lsp", "spec", "data", FILE))
    args = parser.parse_args(argv)
    if not os.path.isfile(os.path.join(args.checkout, "flake.nix")):
        parser.error(f"{args.checkout}: no flake.nix (not a clan-core checkout)")
    date = args.date or _git(args.checkout, "log", "-1", "--format=%cs")
    commit = args.commit or _git(args.checkout, "rev-parse", "--short=8", "HEAD")
    if not date:
        parser.error("no git history in the checkout: pass --date")
    catalogue = build(InputSource(os.path.abspath(args.checkout), "checkout"), date, commit)
    if not catalogue["services"]:
        parser.error(f"{args.checkout}: no clan.modules found")
    with open(args.output, "w", encoding="utf-8") as handle:
        json.dump(catalogue, handle, indent=1, sort_keys=True, ensure_ascii=False)
        handle.write("\n")
    print(f"{len(catalogue['services'])} services of clan-core {commit or ''} ({date}) -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The export-graph fixture clans: clean/ beside this file, and the variants of variants.toml."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

GRAPH = Path(__file__).resolve().parent
CLEAN = GRAPH / "clean"
VARIANTS = tomllib.loads((GRAPH / "variants.toml").read_text())


def names() -> list[str]:
    return ["clean", *sorted(VARIANTS)]


def materialize(name: str, parent: Path) -> Path:
    folder = parent / name
    if folder.exists():
        return folder
    shutil.copytree(CLEAN, folder)
    for edit in VARIANTS.get(name, {}).get("edit", []):
        path = folder / edit["file"]
        text = path.read_text()
        if edit["replace"] not in text:
            raise ValueError(f"variant {name}: {edit['replace']!r} is not in {edit['file']}")
        path.write_text(text.replace(edit["replace"], edit["with"], 1))
    return folder

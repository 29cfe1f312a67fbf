"""The fixture clans: tests/workspaces/clean and the variants of variants.toml.

A variant is the clean clan with a few edits, built into a folder when needed, so one
clean clan serves every case (the tests and the oracle recorder use this).
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

WORKSPACES = Path(__file__).resolve().parent / "workspaces"
CLEAN = WORKSPACES / "clean"
VARIANTS = tomllib.loads((WORKSPACES / "variants.toml").read_text())


def names() -> list[str]:
    return ["clean", *sorted(VARIANTS)]


def oracle_limit(name: str) -> str | None:
    return VARIANTS.get(name, {}).get("oracle_limit")


def materialize(name: str, parent: Path) -> Path:
    """The clan `name` as a folder below `parent`."""
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

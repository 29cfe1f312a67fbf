"""The fixture clans: tests/workspaces/clean and the variants of variants.toml.

A variant is the clean clan with a few edits, built into a folder when needed, so one
clean clan serves every case (the tests and the oracle recorder use this).
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

WORKSPACES = Path(__file__).resolve().parent / "workspaces"


class VariantSet:
    """A clean clan (`<folder>/clean`) and the variants `<folder>/variants.toml` derives from it."""

    def __init__(self, folder: Path) -> None:
        self.clean = folder / "clean"
        self.variants = tomllib.loads((folder / "variants.toml").read_text())

    def names(self) -> list[str]:
        return ["clean", *sorted(self.variants)]

    def oracle_limit(self, name: str) -> str | None:
        return self.variants.get(name, {}).get("oracle_limit")

    def materialize(self, name: str, parent: Path) -> Path:
        """The clan `name` as a folder below `parent`."""
        folder = parent / name
        if folder.exists():
            return folder
        shutil.copytree(self.clean, folder)
        for edit in self.variants.get(name, {}).get("edit", []):
            path = folder / edit["file"]
            text = path.read_text()
            if edit["replace"] not in text:
                raise ValueError(f"variant {name}: {edit['replace']!r} is not in {edit['file']}")
            path.write_text(text.replace(edit["replace"], edit["with"], 1))
        return folder


_WORKSPACES = VariantSet(WORKSPACES)
CLEAN = _WORKSPACES.clean
VARIANTS = _WORKSPACES.variants
names = _WORKSPACES.names
oracle_limit = _WORKSPACES.oracle_limit
materialize = _WORKSPACES.materialize

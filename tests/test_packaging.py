"""pyproject.toml installs every package of clan_lsp (a forgotten one installs a broken tool)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_is_listed() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    present = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "clan_lsp").rglob("__init__.py")
    } | {"clan_lsp.grammars"}
    assert listed == present

"""The layers' boundaries: ide asks the semantic layer, never the checks (but for Finding),
and only the server imports pygls."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "clan_lsp"


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            found.append((module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((a.name, []) for a in node.names)
    return found


def test_ide_imports_only_findings_from_checks():
    wrong = []
    for path in sorted((PACKAGE / "ide").glob("*.py")):
        for module, names in _imports(path):
            if module.lstrip(".").startswith("checks") and names != ["Finding"]:
                wrong.append((path.name, module, names))
    assert wrong == []


def test_only_the_server_imports_pygls():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "server.py":
            continue
        for module, _names in _imports(path):
            if module.startswith(("pygls", "lsprotocol")):
                wrong.append(str(path.relative_to(PACKAGE)))
    assert wrong == []

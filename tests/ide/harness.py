"""In-process IDE fixtures, in the style of rust-analyzer's and nil's.

One string holds a whole clan: `#- /path` starts a file, `$0` marks the cursor. The files
are written under a temporary folder (clans are found on disk, as the server finds them)
and the `Analysis` facade answers, with no server process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from clan_lsp.analysis import Analysis

CURSOR = "$0"


@dataclass
class Fixture:
    root: Path
    analysis: Analysis
    path: str | None = None  # the file holding the cursor
    offset: int | None = None

    def file(self, relative: str) -> str:
        return str(self.root / relative.lstrip("/"))

    def text(self, path: str) -> bytes:
        return Path(path).read_bytes()

    def at(self, needle: str, relative: str | None = None, delta: int = 0) -> tuple[str, int]:
        """(path, offset) of the first `needle` in a file (the cursor's file by default)."""
        path = self.file(relative) if relative else self.path
        assert path is not None
        index = self.text(path).index(needle.encode())
        return path, index + delta

    def line_of(self, path: str, offset: int) -> int:
        return self.text(path)[:offset].count(b"\n") + 1

    def findings(self, relative: str) -> list[tuple[int, str]]:
        """(line, severity[code]) of every finding shown in one file."""
        path = self.file(relative)
        return sorted((self.line_of(path, f.start), f"{f.severity}[{f.code}]") for f in self.analysis.diagnostics(path))

    def all_findings(self) -> list[tuple[str, int, str]]:
        found = []
        for path in sorted(self.root.rglob("*.nix")):
            for line, code in self.findings(str(path.relative_to(self.root))):
                found.append((str(path.relative_to(self.root)), line, code))
        return found

    def snippet(self, path: str, start: int, end: int) -> str:
        return self.text(path)[start:end].decode()


def fixture(tmp_path: Path, text: str) -> Fixture:
    """Lay out `#- /path` sections under tmp_path; the first `$0` becomes the cursor."""
    sections = text.split("#- ")
    if sections[0].strip():
        raise ValueError("a fixture starts with `#- /path`")
    cursor_path, cursor_offset = None, None
    for section in sections[1:]:
        name, _, body = section.partition("\n")
        path = tmp_path / name.strip().lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        if CURSOR in body:
            cursor_offset = len(body[: body.index(CURSOR)].encode())
            body = body.replace(CURSOR, "", 1)
            cursor_path = str(path)
        path.write_text(body)
    analysis = Analysis([str(tmp_path)])
    return Fixture(tmp_path, analysis, cursor_path, cursor_offset)

"""duplicate-attribute: what Nix's parser calls a duplicate, in its words, and nothing else.

NIX holds what `nix-instantiate --parse` (Nix 2.8, Debian's nix-bin) says of each text:
None when it parses, else (the attribute path it names, the column it reports the error
at, the column it says the attribute is "already defined at"). When nix-instantiate is
installed, the table itself is checked against it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from clan_lsp.analysis import Files, analyze
from clan_lsp.checks.syntax import duplicate_findings
from clan_lsp.model import load_source

NIX = [
    ("{ a = 1; a = 2; }", ("a", 10, 3)),
    ("{ a.b = 1; a.c = 2; }", None),
    ("{ a.b = 1; a.b = 2; }", ("a.b", 12, 3)),
    ("{ a = { b = 1; }; a.c = 2; }", None),
    ("{ a.c = 2; a = { b = 1; }; }", None),
    ("{ a = { b = 1; }; a = { c = 2; }; }", None),
    ("{ a = rec { b = 1; }; a.c = 2; }", None),
    ("{ a = ({ b = 1; }); a.c = 2; }", None),
    ("{ a = { b = 1; } // { }; a.c = 2; }", ("a.c", 26, 3)),
    ("{ a = let x = 1; in { b = 1; }; a.c = 2; }", ("a.c", 33, 3)),
    ("{ a = 1; a.c = 2; }", ("a.c", 10, 3)),
    ("{ a.c = 2; a = 1; }", ("a", 12, 3)),
    ('{ "a" = 1; a = 2; }', ("a", 12, 3)),
    ('{ ${"a"} = 1; a = 2; }', ("a", 15, 3)),
    ('{ "a.b" = 1; a.b = 2; }', None),
    ("let a = 1; a = 2; in a", ("a", 12, 5)),
    ("let a.b = 1; a.c = 2; in a", None),
    ("rec { a = 1; a = 2; }", ("a", 14, 7)),
    ("{ x = { a = 1; a = 2; }; }", ("a", 16, 9)),
    # Two literals merge their own names only; Nix reports at the first, "already defined" at the second.
    ("{ a = { b = 1; }; a = { b = 2; }; }", ("b", 9, 25)),
    ("{ a = { b.d = 1; }; a = { b.c = 2; }; }", ("b", 9, 27)),
    ("{ a = { b = { c = 1; }; }; a = { b = { d = 1; }; }; }", ("b", 9, 34)),
    ("{ a = { b.c = 1; }; a.b.d = 2; }", None),
    ("{ a = { b = { c = 1; }; }; a.b.c = 2; }", ("a.b.c", 28, 15)),
    ("{ a = { b = 1; }; a.b.c = 2; }", ("a.b.c", 19, 9)),
    ('{ a = { b = 1; }; a."b" = 2; }', ("a.b", 19, 9)),
    ("{ a.b = 1; a = rec { c = 2; }; }", None),
    ("{ a.b.c = 1; a.b = { d = 2; }; a.b.d = 3; }", ("a.b.d", 32, 22)),
    ("{ a.b = 1; a.${x} = 2; a.b = 3; }", ("a.b", 24, 3)),
    ("{ a = { }; a = { }; }", None),
]

# Nix 2.8 places an inherited name one column early (on the space before it); we point at the name.
NIX_INHERIT = [
    ("{ inherit a; a = 1; }", ("a", 14, 11)),
    ("{ inherit (x) a; a = 1; }", ("a", 18, 15)),
]


def ours(text: str) -> tuple[str, int, int] | None:
    found = duplicate_findings(load_source(text.encode(), "/nowhere/t.nix"))
    if not found:
        return None
    first = found[0]
    match = re.fullmatch(r"attribute '(.+)' already defined at /nowhere/t\.nix:1:(\d+)", first.clan_message)
    assert match, first.clan_message
    assert first.message == f"`{match.group(1)}` is defined twice in one set; the other definition is on line 1"
    return match.group(1), first.start + 1, int(match.group(2))


@pytest.mark.parametrize("text,nix", NIX + NIX_INHERIT, ids=[t for t, _ in NIX + NIX_INHERIT])
def test_duplicates_as_nix_sees_them(text: str, nix) -> None:
    assert ours(text) == nix


@pytest.mark.skipif(shutil.which("nix-instantiate") is None, reason="needs nix-instantiate (Debian's nix-bin)")
@pytest.mark.parametrize("text,nix", NIX, ids=[t for t, _ in NIX])
def test_the_table_is_what_nix_says(tmp_path: Path, text: str, nix) -> None:
    path = tmp_path / "t.nix"
    path.write_text(text)
    run = subprocess.run(["nix-instantiate", "--parse", str(path)], capture_output=True, text=True)
    if nix is None:
        assert "already defined" not in run.stderr
        return
    said = re.search(rf"attribute '(.+)' already defined at {re.escape(str(path))}:1:(\d+)\s+at {re.escape(str(path))}:1:(\d+)", run.stderr)
    assert said, run.stderr
    assert (said.group(1), int(said.group(3)), int(said.group(2))) == nix


def test_a_duplicate_is_not_also_a_type_error() -> None:
    for body in ('manifest.name = "x"; manifest.name = "y";', 'roles.a.description = "x"; roles.a = { description = "y"; };'):
        text = '{\n  _class = "clan.service";\n  manifest.readme = "r";\n  roles.b = { };\n  ' + body + "\n}\n"
        source = load_source(text.encode(), "/nowhere/default.nix")
        codes = [f.code for f in analyze(source, Files()).findings]
        assert "duplicate-attribute" in codes and "wrong-type" not in codes, codes

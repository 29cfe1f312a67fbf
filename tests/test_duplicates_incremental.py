"""Duplicates kept across edits are exactly the ones found afresh (syntax/duplicates.py)."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from clan_lsp.checks.syntax import duplicate_findings
from clan_lsp.model import load_source
from clan_lsp.syntax import SyntaxTree
from clan_lsp.syntax.duplicates import Duplicates

from test_syntax_index import random_edits

FIXTURES = sorted((Path(__file__).parent / "fixtures").rglob("*.nix"))[:40]
NESTED = b"""{
  a = { b = 1; c = { d = 1; e = 2; }; };
  f.g = 1;
  h = let i = 1; j = 2; in { k = i; l = j; };
  m = rec { n = 1; o = n; };
  inherit p;
  q = { r.s = 1; r.t = 2; };
}
"""
STANDING = NESTED.replace(b"  q =", b"  a.b = 3;\n  q =").replace(b"}\n", b"  u = { v = 1; v = 2; };\n}\n")
IDENTIFIER = re.compile(rb"[A-Za-z_][A-Za-z0-9_'-]*")
# A set big enough to keep its names (a clan's machines): renames there are checked against them.
BIG = (
    b"{\n  machines = {\n"
    + b"".join(b"    m%d = { deploy.host = \"h%d\"; };\n" % (n, n) for n in range(40))
    + b"    m3.tags = [ ];\n    m7.x = 1;\n    m7.y = 2;\n    \"quoted\" = { };\n    inherit alpha;\n    m9 = { a = 1; };\n    m9 = { b = 2; };\n  };\n}\n"
)


def renames(text: bytes, rng: random.Random, count: int):
    """Edits that keep the text valid and make or undo duplicates: an identifier becomes
    another identifier of the text, then changes back; or gets an `x` typed at its end."""
    names = [m for m in IDENTIFIER.finditer(text)]
    words = sorted({m.group() for m in names})
    for _ in range(count):
        match = rng.choice(names)
        if rng.random() < 0.5:
            yield match.start(), match.end(), rng.choice(words), match.group()
        else:
            yield match.end(), match.end(), b"x", b""


def test_the_standing_text_has_duplicates() -> None:
    assert len(Duplicates.build(SyntaxTree(STANDING).root, STANDING).found) == 2


def assert_as_found_afresh(tree: SyntaxTree) -> None:
    kept, fresh = tree.duplicates, Duplicates.build(tree.model_root, tree.text)
    assert kept.found == fresh.found
    assert kept.repeated == fresh.repeated  # what decides which sets are read again
    assert kept.names == fresh.names  # and which renames in big sets are not


@pytest.mark.parametrize("text", [path.read_bytes() for path in FIXTURES] + [NESTED, STANDING, BIG, BIG], ids=[p.parent.name + "/" + p.name for p in FIXTURES] + ["nested", "standing", "big", "big-again"])
def test_duplicates_after_renames_equal_a_fresh_scan(text: bytes, request) -> None:
    rng = random.Random(len(text) + request.node.callspec.id.endswith("again"))
    tree = SyntaxTree(text)
    tree.duplicates  # noqa: B018 - find them, so that edits update them
    for start, end, new, old in renames(text, rng, 30):
        tree.edit(start, end, new)
        assert_as_found_afresh(tree)
        tree.edit(start, start + len(new), old)  # and back: the original text, a valid edit again
        assert_as_found_afresh(tree)
    assert tree.text == text


@pytest.mark.parametrize("text", [path.read_bytes() for path in FIXTURES[:15]] + [NESTED], ids=[p.parent.name + "/" + p.name for p in FIXTURES[:15]] + ["nested"])
def test_duplicates_after_random_edits_equal_a_fresh_scan(text: bytes) -> None:
    rng = random.Random(len(text) + 1)
    tree = SyntaxTree(text)
    tree.duplicates  # noqa: B018
    for start, end, new in random_edits(tree, rng, 25):
        tree.edit(start, end, new)
        assert_as_found_afresh(tree)


def test_a_duplicate_typed_then_removed_comes_and_goes_with_the_right_line() -> None:
    tree = SyntaxTree(NESTED)
    source = load_source(tree.text, "/x/default.nix", tree=tree)
    assert duplicate_findings(source) == []
    at = NESTED.index(b"e = 2")
    tree.edit(at, at + 1, b"d")  # `c = { d = 1; d = 2; }`
    tree.edit(0, 0, b"\n\n")  # two lines above: the line in the message follows
    found = duplicate_findings(load_source(tree.text, "/x/default.nix", tree=tree))
    assert [(f.code, tree.text[f.start : f.end], f.message) for f in found] == [
        ("duplicate-attribute", b"d", "`d` is defined twice in one set; the other definition is on line 4")
    ]
    tree.edit(at + 2, at + 3, b"e")
    assert duplicate_findings(load_source(tree.text, "/x/default.nix", tree=tree)) == []


def test_a_valid_edit_inside_a_binding_reads_only_the_sets_it_touched(monkeypatch) -> None:
    import clan_lsp.syntax.duplicates as duplicates

    tree = SyntaxTree(STANDING)
    tree.duplicates  # noqa: B018
    read = []
    real = duplicates._scope_duplicates
    monkeypatch.setattr(duplicates, "_scope_duplicates", lambda scope, text, repeated=None, kept=None: read.append(scope.type) or real(scope, text, repeated, kept))
    at = STANDING.index(b"o = n")
    tree.edit(at + 1, at + 1, b"x")
    assert len(tree.duplicates.found) == 2
    # the rec set whose name `o` changed; not the other six sets, not even the top-level set
    # holding `m = rec { ... }`: it defines `m` once, so it never reads m's value
    assert read == ["rec_attrset_expression"]


def test_a_set_that_merges_the_edited_value_reads_its_names_again(monkeypatch) -> None:
    import clan_lsp.syntax.duplicates as duplicates

    text = b"{\n  a = { b = 1; };\n  a = { c = 2; };\n}\n"
    tree = SyntaxTree(text)
    assert tree.duplicates.found == []
    read = []
    real = duplicates._scope_duplicates
    monkeypatch.setattr(duplicates, "_scope_duplicates", lambda scope, t, repeated=None, kept=None: read.append(scope.type) or real(scope, t, repeated, kept))
    at = text.index(b"c = 2")
    tree.edit(at, at + 1, b"b")  # `a = { b = 2; }` now clashes with the first `a`'s `b`
    assert [d.name for d in tree.duplicates.found] == ["b"]
    assert "attrset_expression" in read and read[-1] == "attrset_expression"


def test_renaming_a_key_of_a_big_set_reads_no_set(monkeypatch) -> None:
    """A big set keeps its first names: renaming a machine to a name it does not define
    reads no set again (a clan's 1000 machines took 4 ms a keystroke); renaming one to a
    name it defines does, and finds the duplicate."""
    from clan_lsp.syntax import duplicates

    tree = SyntaxTree(BIG)
    tree.duplicates  # noqa: B018
    read: list[str] = []
    real = duplicates._scope_duplicates
    monkeypatch.setattr(duplicates, "_scope_duplicates", lambda scope, t, repeated=None, kept=None: read.append(scope.type) or real(scope, t, repeated, kept))
    at = tree.text.index(b"m12 =") + 3
    tree.edit(at, at, b"x")  # m12x: a name the set does not define
    tree.duplicates  # noqa: B018
    assert read == []
    assert_as_found_afresh(tree)
    read.clear()
    tree.edit(at - 1, at + 1, b"3")  # m13: defined already
    assert [d.name for d in tree.duplicates.found] == ["deploy"]  # two m13 sets merge; both set deploy
    assert read and read[0] == "attrset_expression"
    assert_as_found_afresh(tree)


MERGED = b"""let
  port = 1;
in
{
  roles.a = { perInstance = { settings, ... }: { x = settings.port; y = port; }; description = "A"; };
  roles.b = { perInstance = args: { z = args.settings; }; };
  deep = { x = { yy = 1; }; f = v: { yy = 1; }; };
  deep.x.yy = 2;
  deep.f.yy = 3;
}
"""


def _reading(monkeypatch) -> list[str]:
    import clan_lsp.syntax.duplicates as duplicates

    read: list[str] = []
    real = duplicates._scope_duplicates
    monkeypatch.setattr(duplicates, "_scope_duplicates", lambda scope, t, repeated=None, kept=None: read.append(scope.type) or real(scope, t, repeated, kept))
    return read


def test_typing_in_a_name_read_in_a_merged_roles_function_reads_no_set(monkeypatch) -> None:
    """`roles.a` and `roles.b` merge into `roles`, and a top-level let holds everything: a
    name typed inside perInstance's body is neither a key nor in a set literal merging reads."""
    tree = SyntaxTree(MERGED)
    tree.duplicates  # noqa: B018
    read = _reading(monkeypatch)
    for word in (b"settings.port", b"y = port", b"args.settings"):
        at = MERGED.index(word) + len(word)
        for edit in ((at, at, b"x"), (at, at + 1, b"")):
            tree.edit(*edit)
            tree.duplicates  # noqa: B018
            assert read == [], (word, edit)
            assert_as_found_afresh(tree)
            read.clear()  # the fresh scan reads them all


def test_a_merged_set_literal_is_read_again_when_a_path_reaches_into_it(monkeypatch) -> None:
    """`deep.x.yy = 2` reaches into the literal `deep.x`: renaming its `yy` undoes a
    duplicate (the top-level set is read again); the function `deep.f` is never read into,
    whatever its body says."""
    tree = SyntaxTree(MERGED)
    assert sorted(d.name for d in tree.duplicates.found) == ["deep.f.yy", "deep.x.yy"]
    read = _reading(monkeypatch)
    at = MERGED.index(b"x = { yy = 1; }") + len(b"x = { y")
    tree.edit(at, at + 1, b"")  # deep.x = { y = 1; }: `deep.x.yy = 2` no longer clashes
    assert [d.name for d in tree.duplicates.found] == ["deep.f.yy"]
    assert "attrset_expression" in read
    assert_as_found_afresh(tree)
    at = MERGED.index(b"f = v: { yy = 1; }") + len(b"f = v: { y")
    tree.edit(at, at + 1, b"")  # inside the function: `deep.f.yy = 3` still clashes with `deep.f`
    assert [d.name for d in tree.duplicates.found] == ["deep.f.yy"]
    assert_as_found_afresh(tree)

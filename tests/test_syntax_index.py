"""The query index kept across edits answers exactly as one built afresh."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from clan_lsp.syntax import SyntaxTree
from clan_lsp.syntax.parse import places
from clan_lsp.syntax.queries import SyntaxIndex

FIXTURES = sorted((Path(__file__).parent / "fixtures").rglob("*.nix"))[:40]
TRAILING_COMMA = b"""{ lib, clanLib, }:
{
  _class = "clan.service";
  roles.peer.perInstance = { settings, mkExports, ... }: {
    exports = mkExports { peer.hosts = clanLib.buildScopeKey { serviceName = "x"; }; };
    nixosModule = { config, ... }: { networking.foo = lib.mkDefault (settings.bar or 1); };
  };
}
"""
INSERTS = [b"x", b" ", b";", b"{", b"}", b"a.b", b"f x", b"(", b"\n", b"= 1;", b"x ? y", b"${", b"''"]


def random_edits(tree: SyntaxTree, rng: random.Random, count: int):
    for _ in range(count):
        start = rng.randrange(len(tree.text) + 1)
        roll = rng.random()
        if roll < 0.5:
            yield start, start, rng.choice(INSERTS)
        elif roll < 0.8:
            yield start, min(len(tree.text), start + rng.randrange(1, 4)), b""
        else:
            yield start, min(len(tree.text), start + rng.randrange(1, 30)), rng.choice([b"x", b"", b"y.z w"])


@pytest.mark.parametrize("text", [path.read_bytes() for path in FIXTURES] + [TRAILING_COMMA], ids=[p.parent.name + "/" + p.name for p in FIXTURES] + ["trailing-comma"])
def test_index_after_edits_equals_a_fresh_index(text: bytes) -> None:
    rng = random.Random(len(text))
    tree = SyntaxTree(text)
    tree.index  # noqa: B018 - build it, so that edits update it
    for start, end, new in random_edits(tree, rng, 25):
        tree.edit(start, end, new)
        kept = tree.index
        fresh = SyntaxIndex.build(tree.model_root, tree.text)  # the index is of the tree the model reads
        assert kept.spans() == fresh.spans(), (start, end, new)


@pytest.mark.parametrize("text", [path.read_bytes() for path in FIXTURES[:20]] + [TRAILING_COMMA], ids=[p.parent.name + "/" + p.name for p in FIXTURES[:20]] + ["trailing-comma"])
def test_selects_of_a_name_are_those_a_scan_finds(text: bytes) -> None:
    """selects_of finds a variable's selects by searching the text for its name: the same
    selects, in the same order, as reading them all, whole file or below a node."""
    rng = random.Random(len(text) + 1)
    tree = SyntaxTree(text)
    for start, end, new in [(0, 0, b"")] + list(random_edits(tree, rng, 12)):
        tree.edit(start, end, new)
        index = tree.index
        spots = [sorted(rng.randrange(len(tree.text) + 1) for _ in range(2)) for _ in range(3)]
        nodes = [None] + [tree.model_root.descendant_for_byte_range(a, b) for a, b in spots]
        for name in (b"settings", b"clanLib", b"roles", b"instances", b"lib", b"x", b"config"):
            for node in nodes:
                scanned = index.selects if node is None else index.selects_in(node)
                expected = [s._entry for s in scanned if s.base_text == name]
                assert [s._entry for s in index.selects_of(name, node)] == expected, (name, node)
                for word in (b"settings", b"machines", b"x"):  # only those whose text spells it
                    spelling = [e for e in expected if word in tree.text[e[0] : e[1]]]
                    assert [s._entry for s in index.selects_of(name, node, spelling=word)] == spelling, (name, node, word)


@pytest.mark.parametrize("text", [path.read_bytes() for path in FIXTURES[:20]] + [TRAILING_COMMA], ids=[p.parent.name + "/" + p.name for p in FIXTURES[:20]] + ["trailing-comma"])
def test_calls_by_their_callee_ending_are_those_a_scan_finds(text: bytes) -> None:
    rng = random.Random(len(text) + 2)
    tree = SyntaxTree(text)
    for start, end, new in [(0, 0, b"")] + list(random_edits(tree, rng, 12)):
        tree.edit(start, end, new)
        index = tree.index
        for endings in ((b"mkExports",), (b"buildScopeKey", b"selectExports"), (b"f",), (b"lib.mkOption", b"mkDefault")):
            expected = [c._entry for c in index.calls if c.callee_text.endswith(endings)]
            assert [c._entry for c in index.calls_ending(endings)] == expected, endings


@pytest.mark.parametrize("text", [path.read_bytes() for path in FIXTURES[:20]] + [TRAILING_COMMA], ids=[p.parent.name + "/" + p.name for p in FIXTURES[:20]] + ["trailing-comma"])
def test_variables_by_name_are_those_a_scan_finds(text: bytes) -> None:
    """variables_named searches the text for the name: the same variables, in order, as
    reading every variable (and not `exportsX`, `myexports` or `exports.x`'s attribute)."""
    rng = random.Random(len(text) + 3)
    tree = SyntaxTree(text)
    for start, end, new in [(0, 0, b"")] + list(random_edits(tree, rng, 12)):
        tree.edit(start, end, new)
        index = tree.index
        for name in (b"exports", b"settings", b"lib", b"x", b"config"):
            expected = [(a, b) for a, b in index.variable_spans_in(tree.model_root) if tree.text[a:b] == name]
            assert index.variables_named(name) == expected, name


def test_entries_give_the_nodes_of_the_current_tree() -> None:
    tree = SyntaxTree(TRAILING_COMMA)
    tree.index  # noqa: B018
    tree.edit(TRAILING_COMMA.index(b"bar") + 3, TRAILING_COMMA.index(b"bar") + 3, b"x")
    index = tree.index
    callees = [tree.node_text(call.callee) for call in index.calls]
    assert "clanLib.buildScopeKey" in callees and "mkExports" in callees
    selects = {tree.node_text(s.node): (s.base_text, tree.node_text(s.path), s.has_default) for s in index.selects}
    assert selects["settings.barx or 1"] == (b"settings", "barx", True)
    assert all(call.node.type == "apply_expression" and call.node.start_byte == call.start_byte for call in index.calls)
    names = {tree.node_text(v) for v in index.variables_in(tree.root)}
    assert {"settings", "clanLib", "lib", "mkExports"} <= names


def test_facts_follow_keystrokes_through_half_typed_text(monkeypatch) -> None:
    """While a binding is typed every keystroke's text is broken: the recovered trees of two
    keystrokes are related by one edit, so the facts follow it instead of reading the whole
    file again, and stay equal to facts read afresh."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    import halftyped

    from clan_lsp.syntax.duplicates import Duplicates

    path = Path(__file__).resolve().parent.parent / "examples" / "broken" / "default.nix"
    text = path.read_text()
    at = len(text[: halftyped._after_binding(text, "roles.server =")].encode())
    tree = SyntaxTree(text.encode())
    tree.index, tree.duplicates  # noqa: B018
    built = []
    build_index, build_duplicates = SyntaxIndex.build.__func__, Duplicates.build.__func__
    monkeypatch.setattr(SyntaxIndex, "build", classmethod(lambda cls, root, t: built.append("index") or build_index(cls, root, t)))
    monkeypatch.setattr(Duplicates, "build", classmethod(lambda cls, root, t: built.append("duplicates") or build_duplicates(cls, root, t)))
    broken = 0
    for character in halftyped.ROLE_SNIPPET.encode():
        tree.edit(at, at, bytes([character]))
        at += 1
        broken += tree.recovery is not None
        kept_index, kept_duplicates = tree.index, tree.duplicates
        assert kept_index.spans() == build_index(SyntaxIndex, tree.model_root, tree.text).spans()
        assert kept_duplicates.found == build_duplicates(Duplicates, tree.model_root, tree.text).found
    assert broken > 200
    assert len(built) < 20, f"{len(built)} whole-file reads over {len(halftyped.ROLE_SNIPPET)} keystrokes"


def test_a_binding_an_edit_leaves_in_place_is_found_without_changed_ranges() -> None:
    """tree-sitter's changed ranges walk both whole trees; when the innermost binding keeps
    its span and ancestors (and neither tree has errors) the change lies within it."""
    from clan_lsp.syntax.parse import _same_binding

    text = b"{\n  a = { b = 1; c = f x; };\n  d = 2;\n}\n"
    tree = SyntaxTree(text)
    at = text.index(b"f x") + 1
    tree.edit(at, at, b"oo")  # `foo x`: the same bindings around it
    old_tree, start, _, new_end, _ = tree._last_edit
    kept = _same_binding(tree.tree, old_tree, start - 1, new_end + 1)
    assert kept is not None and tree.node_text(kept[0][-1]) == "c = foo x;" and [n.type for n in kept[0][:2]] == ["source_code", "attrset_expression"]
    at = tree.text.index(b"foo x")
    tree.edit(at, at, b"1; e = ")  # a new binding: `c` is not the binding it was
    old_tree, start, _, new_end, _ = tree._last_edit
    assert _same_binding(tree.tree, old_tree, start - 1, new_end + 1) is None
    at = tree.text.index(b"d = 2")
    tree.edit(at, at, b'"')  # broken: the parser's error recovery may reshape anything
    old_tree, start, _, new_end, _ = tree._last_edit
    assert _same_binding(tree.tree, old_tree, start - 1, new_end + 1) is None


def test_renaming_a_key_reads_only_the_key_again() -> None:
    """Typing in a key (or in the formals of a function a binding binds) leaves what follows,
    its bytes and the parser's state before them, as they were: the facts read again are the key's, the value's are moved (and still equal a
    fresh build, renamed into a duplicate and out of it)."""
    from clan_lsp.syntax.duplicates import Duplicates
    from clan_lsp.syntax.parse import Touched

    text = b"{\n  roles.peer.perInstance = { settings, ... }: { x = settings.a; y = { b = 1; b = 2; }; };\n  rolesx = f { };\n}\n"
    tree = SyntaxTree(text)
    tree.index, tree.duplicates  # noqa: B018 - built, so that edits update them
    # (bytes to find, where in them the edit starts, how many it removes, what it inserts, the key after)
    for find, offset, removed, inserted, key in (
        (b"perInstance =", 10, 1, b"", b"roles.peer.perInstanc"),
        (b"rolesx =", 5, 1, b"", b"roles"),  # now a duplicate of `roles`
        (b"roles =", 5, 0, b"y", b"rolesy"),  # and no more
        (b"perInstanc =", 10, 0, b"e", b"roles.peer.perInstance"),
        (b"settings, ...", 8, 0, b", pkgs", b"{ settings, pkgs, ... }"),  # formals: the body after them is as it was
        (b"pkgs, ...", 4, 0, b"x", b"x"),  # a formal's name renamed: nothing read again (Touched.name_only)
    ):
        at = tree.text.index(find) + offset
        tree.edit(at, at + removed, inserted)
        touched = Touched.of(tree.tree, tree.text, *tree._last_edit)
        assert touched.region is not None and (touched.region.type in ("attrpath", "formals") or touched.name_only)
        assert tree.text[touched.span_start : touched.span_end] == key
        assert tree.index.spans() == SyntaxIndex.build(tree.model_root, tree.text).spans()
        fresh = Duplicates.build(tree.model_root, tree.text)
        assert (tree.duplicates.found, tree.duplicates.repeated) == (fresh.found, fresh.repeated)
    assert [d.name for d in tree.duplicates.found] == ["b"]


def test_moves_noted_over_many_edits_answer_as_a_fresh_index() -> None:
    """Rows behind an edit are moved when read (their moves noted, applied in bulk every few
    edits): over a long run of keystrokes every question gets a fresh index's answer."""
    import re

    text = (Path(__file__).parent / "fixtures" / "clean" / "full-featured.nix").read_bytes()
    identifiers = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
    rng = random.Random(11)
    tree = SyntaxTree(text)
    tree.index  # noqa: B018 - built, so that edits update it
    for step in range(150):
        words = list(identifiers.finditer(tree.text))
        word = rng.choice(words)
        if rng.random() < 0.5:
            tree.edit(word.end(), word.end(), b"x")
        else:
            tree.edit(word.start(), word.end(), rng.choice([b"settings", b"clanLib", b"mkExports", b"roles", word.group()[:-1] or b"a"]))
        kept, fresh = tree.index, SyntaxIndex.build(tree.model_root, tree.text)
        assert kept.spans() == fresh.spans(), step
        spots = [sorted(rng.randrange(len(tree.text) + 1) for _ in range(2)) for _ in range(2)]
        for node in [tree.model_root.descendant_for_byte_range(a, b) for a, b in spots]:
            assert [c._entry for c in kept.calls_in(node)] == [c._entry for c in fresh.calls_in(node)]
            assert [s._entry for s in kept.selects_in(node)] == [s._entry for s in fresh.selects_in(node)]
            assert kept.variable_spans_in(node) == fresh.variable_spans_in(node)
            assert [s._entry for s in kept.selects_of(b"settings", node)] == [s._entry for s in fresh.selects_of(b"settings", node)]
        assert [c._entry for c in kept.calls_ending((b"mkExports", b"buildScopeKey"))] == [c._entry for c in fresh.calls_ending((b"mkExports", b"buildScopeKey"))]
        assert [s._entry for s in kept.selects_of(b"clanLib")] == [s._entry for s in fresh.selects_of(b"clanLib")]
        assert kept.variables_named(b"settings") == fresh.variables_named(b"settings")


ADJACENT = b"""{ lib, config, ... }:
let
  f = x: x;
  port = 1;
in
{
  a = f{ b = 1; };
  c = f(port);
  d = config.networking.port or port;
  e = lib.mkIf config.enable { inherit port; g = [ port f ]; };
  h = x: y: x;
  i = config ? enable;
  j = { k = port; k = f; };
  l.m = port;
  l.n = { o = lib; };
}
"""


@pytest.mark.parametrize("text", [ADJACENT] + [path.read_bytes() for path in FIXTURES[:20]], ids=["adjacent"] + [p.parent.name + "/" + p.name for p in FIXTURES[:20]])
def test_typing_in_a_name_moves_the_facts_without_reading_again(text: bytes, monkeypatch) -> None:
    """A name read in an expression (not a key, not a formal) renamed to another name:
    tree-sitter builds the same tree, so the index and the duplicates are the old ones
    moved, without a query (syntax.parse._renamed_name). Both equal fresh ones."""
    import clan_lsp.syntax.queries as queries
    from clan_lsp.syntax.duplicates import Duplicates

    rng = random.Random(len(text) + 4)
    tree = SyntaxTree(text)
    tree.index, tree.duplicates  # noqa: B018
    queried = []
    real = queries._entries
    monkeypatch.setattr(queries, "_entries", lambda *a, **k: queried.append(1) or real(*a, **k))
    name_only = 0
    names = [m for m in re.finditer(rb"[A-Za-z_][A-Za-z0-9_'-]*", text)]
    for _ in range(40):
        match = rng.choice(names)
        at = rng.randrange(match.start() + 1, match.end() + 1)
        tree.edit(at, at, b"x")
        queried.clear()
        kept_index, kept_duplicates = tree.index, tree.duplicates
        touched = tree._touched
        if touched is not None and touched.name_only:
            name_only += 1
            assert queried == []
        assert kept_index.spans() == SyntaxIndex.build(tree.model_root, tree.text).spans()
        fresh = Duplicates.build(tree.model_root, tree.text)
        assert (kept_duplicates.found, kept_duplicates.repeated, kept_duplicates.names) == (fresh.found, fresh.repeated, fresh.names)
        tree.edit(at, at + 1, b"")
        assert tree.index.spans() == SyntaxIndex.build(tree.model_root, tree.text).spans()
    assert tree.text == text
    if text is ADJACENT:  # its names are read in every kind of expression
        assert name_only > 10


@pytest.mark.parametrize(
    "text, at, new",
    [
        (b"{ a = x.y/z; }", 7, b"'"),  # a path `x.y/z`, then a division `x'.y / z`
        (b"{ a = x'.y/z; }", 7, b""),  # and back
        (b"{ a = ab:c; }", 7, b"_"),  # a URI `ab:c`, then a function `a_b: c`
        (b"{ a = a_b:c; }", 7, b""),
        (b"{ a = ab.c:d; }", 7, b"_"),
    ],
)
def test_a_name_that_was_part_of_another_token_is_read_again(text: bytes, at: int, new: bytes) -> None:
    """The name shortcut needs the old tree to have read a name at the same place: `x.y/z`
    is one path token until `'` makes `x'` a name."""
    tree = SyntaxTree(text)
    tree.index, tree.duplicates  # noqa: B018
    tree.edit(at, at + (0 if new else 1), new)
    assert tree.index.spans() == SyntaxIndex.build(tree.model_root, tree.text).spans()
    assert not (tree._touched is not None and tree._touched.name_only)


def test_typing_an_argument_of_the_files_own_function_reads_only_its_formals(monkeypatch) -> None:
    """`{ clanLib, lib, ... }:` of a module is in no binding: the formals alone are read again
    (the whole file was, 12 ms for wireguard), and the facts equal fresh ones."""
    from clan_lsp.syntax.duplicates import Duplicates

    build_index, build_duplicates = SyntaxIndex.build, Duplicates.build
    text = b"{ clanLib, lib ? null, ... }:\nlet\n  a = 1;\nin\n{\n  x = lib.mkIf a { y = clanLib.z; };\n  x.w = 2;\n}\n"
    tree = SyntaxTree(text)
    tree.index, tree.duplicates  # noqa: B018
    built = []
    monkeypatch.setattr(SyntaxIndex, "build", lambda *a: built.append("index") or build_index(*a))
    monkeypatch.setattr(Duplicates, "build", lambda *a: built.append("duplicates") or build_duplicates(*a))
    at = text.index(b"lib ?")
    for edit in ((at, at, b"pkgs, "), (at + 3, at + 3, b"x"), (at + 3, at + 4, b""), (at, at + 6, b"")):
        tree.edit(*edit)
        kept_index, kept_duplicates = tree.index, tree.duplicates
        assert tree._touched is not None and tree._touched.region is not None and tree._touched.region.type == "formals", edit
        assert built == [], edit
        assert kept_index.spans() == build_index(tree.model_root, tree.text).spans()
        fresh = build_duplicates(tree.model_root, tree.text)
        assert (kept_duplicates.found, kept_duplicates.repeated) == (fresh.found, fresh.repeated)
    assert tree.text == text


@pytest.mark.parametrize("text", [path.read_bytes() for path in FIXTURES[:20]] + [TRAILING_COMMA], ids=[p.parent.name + "/" + p.name for p in FIXTURES[:20]] + ["trailing-comma"])
def test_places_of_a_word_kept_across_edits_are_those_a_search_finds(text: bytes) -> None:
    """SyntaxTree.spelled keeps the old places and searches only around the edit: the same
    places as searching the whole text, for words that overlap themselves, edits that
    split or join a word, edits past the end, and a word asked after a version it skipped."""
    rng = random.Random(len(text) + 5)
    tree = SyntaxTree(text)
    words = (b"settings", b"x", b"xx", b"clanLib", b"= 1;", b"clan-lsp:", b"y.z")
    edits = list(random_edits(tree, rng, 30)) + [(len(text) + 10, len(text) + 12, b"xx")]
    for number, (start, end, new) in enumerate(edits):
        tree.edit(start, end, new)
        for word in words[: 1 + number % len(words)]:
            assert tree.spelled(word) == places(tree.text, word), (word, start, end, new)
            assert tree.spells(word) == (word in tree.text)
    assert places(b"xxxx", b"xx") == [0, 1, 2]

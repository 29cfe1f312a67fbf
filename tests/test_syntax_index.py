"""The query index kept across edits answers exactly as one built afresh."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from clan_lsp.syntax import SyntaxTree
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

"""Byte offsets and lines: the line index an edit moves equals one counted afresh."""

from __future__ import annotations

import random

import pytest

from clan_lsp.syntax import SyntaxTree
from clan_lsp.syntax.positions import LineIndex

@pytest.mark.parametrize("seed", range(20))
def test_a_line_index_moved_by_an_edit_equals_a_fresh_one(seed: int) -> None:
    rng = random.Random(seed)
    pieces = [b"a", b"bc", b"\n", b"\r\n", b"\r", b" ", b"\xc3\xa9"]
    data = b"".join(rng.choice(pieces) for _ in range(60))
    index = LineIndex(data)
    for _ in range(40):
        start = rng.randrange(len(data) + 1)
        end = min(len(data), start + rng.randrange(0, 5))
        new = b"".join(rng.choice(pieces) for _ in range(rng.randrange(0, 4)))
        data = data[:start] + new + data[end:]
        index = index.edited(start, end, new, data)
        assert index.line_starts == LineIndex(data).line_starts, (start, end, new)
        assert index.data == data


def test_a_tree_keeps_its_line_index_across_edits() -> None:
    tree = SyntaxTree(b"{\n  a = 1;\n}\n")
    before = tree.line_index
    tree.edit(4, 4, b"b\nc")
    assert tree.line_index is not before
    assert tree.line_index.line_starts == LineIndex(tree.text).line_starts == [0, 2, 6, 14, 16]

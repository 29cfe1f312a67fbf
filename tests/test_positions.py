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


@pytest.mark.parametrize("seed", range(12))
def test_a_line_index_answers_as_a_fresh_one_while_moves_are_kept(seed: int) -> None:
    """Typing on one line keeps the later lines' move unapplied (LineIndex._moved_by):
    every question is answered as a fresh index answers it, before line_starts is read."""
    from clan_lsp.syntax.positions import UTF8, UTF16, Position

    rng = random.Random(seed)
    pieces = [b"a", b"bc", b"\n", b" ", b"\xc3\xa9", b"\xf0\x9f\x98\x80"]
    data = b"".join(rng.choice(pieces) for _ in range(80))
    index = LineIndex(data)
    for step in range(60):
        lines = data.split(b"\n")
        if rng.random() < 0.8:  # typing on the same line, mostly: no line break in or out
            line = rng.randrange(len(lines)) if step % 10 == 0 else min(len(lines) - 1, seed % len(lines))
            begin = sum(len(x) + 1 for x in lines[:line])
            start = begin + rng.randrange(len(lines[line]) + 1)
            end = min(begin + len(lines[line]), start + rng.randrange(0, 2))
            new = rng.choice([b"x", b"", b"yz", b"\xc3\xa9"])
        else:
            start = rng.randrange(len(data) + 1)
            end = min(len(data), start + rng.randrange(0, 4))
            new = rng.choice([b"\n", b"a\nb", b""])
        data = data[:start] + new + data[end:]
        index = index.edited(start, end, new, data)
        fresh = LineIndex(data)
        for offset in range(0, len(data) + 1, 3):
            assert index.point(offset) == fresh.point(offset)
            assert index.position(offset) == fresh.position(offset)
            assert index.position(offset, UTF8) == fresh.position(offset, UTF8)
        for line in range(len(fresh.line_starts) + 1):
            for character in (0, 1, 5, 100):
                assert index.offset(Position(line, character)) == fresh.offset(Position(line, character), UTF16)
    assert index.line_starts == LineIndex(data).line_starts


def test_a_tree_keeps_its_line_index_across_edits() -> None:
    tree = SyntaxTree(b"{\n  a = 1;\n}\n")
    before = tree.line_index
    tree.edit(4, 4, b"b\nc")
    assert tree.line_index is not before
    assert tree.line_index.line_starts == LineIndex(tree.text).line_starts == [0, 2, 6, 14, 16]

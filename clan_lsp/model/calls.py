"""Calls of named helpers in a file (`clanLib.selectExports ...`, `mkExports { ... }`)."""

from __future__ import annotations

from typing import Iterator

from ..syntax import Node
from .service import SourceFile
from .values import dotted_name


def calls(source: SourceFile, names: tuple[str, ...]) -> list[tuple[str, Node, list[Node]]]:
    """(helper name, callee node, argument nodes) for every call of a helper in a file
    (found once per version of the file and set of names)."""
    return source.derived(("calls", names), lambda: list(_calls(source, names)))


def _calls(source: SourceFile, names: tuple[str, ...]) -> Iterator[tuple[str, Node, list[Node]]]:
    text = source.text
    endings = tuple(name.encode() for name in names)
    for call in source.tree.index.calls_ending(endings):  # most calls are of other functions
        callee = dotted_name(call.callee, text)
        if callee and callee[-1] in names:
            yield callee[-1], call.callee, call.args

"""The tree-sitter queries in grammars/queries/, read once per tree into an index.

Walking a tree node by node in Python is the slowest thing a check can do; a
query runs the same search in C. Rules ask the index for nodes in a byte range.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import tree_sitter

from .parse import LANGUAGE, Node


def _query_text(name: str) -> str:
    """Installed, the queries are the package data clan_lsp.grammars; run from a
    source tree, they are the repository's grammars/ folder."""
    try:
        return resources.files("clan_lsp.grammars").joinpath("queries", f"{name}.scm").read_text()
    except (ModuleNotFoundError, FileNotFoundError):
        return (Path(__file__).resolve().parents[2] / "grammars" / "queries" / f"{name}.scm").read_text()


@lru_cache(maxsize=None)
def query(name: str) -> tree_sitter.Query:
    return tree_sitter.Query(LANGUAGE, _query_text(name))


@dataclass
class Call:
    node: Node  # the outermost application
    callee: Node
    args: list[Node]


@dataclass
class Select:
    node: Node
    base: Node  # a variable_expression
    path: Node  # the attrpath
    has_attr: bool = False  # `x ? a` rather than `x.a`

    @property
    def has_default(self) -> bool:
        return self.has_attr or self.node.child_by_field_name("default") is not None


def _in_range(nodes: list, starts: list[int], start: int, end: int) -> list:
    low = bisect.bisect_left(starts, start)
    high = bisect.bisect_left(starts, end)
    return [n for n in nodes[low:high] if _node(n).end_byte <= end]


def _node(item) -> Node:
    return item if isinstance(item, Node) else item.node


@dataclass
class SyntaxIndex:
    calls: list[Call] = field(default_factory=list)
    selects: list[Select] = field(default_factory=list)
    variables: list[Node] = field(default_factory=list)
    _starts: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def build(cls, root: Node) -> "SyntaxIndex":
        index = cls()
        cursor = tree_sitter.QueryCursor(query("clan"))
        for _pattern, captures in cursor.matches(root):
            if "call" in captures:
                inner = captures["call"][0]
                args = [inner.child_by_field_name("argument")]
                outer = inner
                while outer.parent is not None and outer.parent.type == "apply_expression" and outer.parent.child_by_field_name("function") == outer:
                    outer = outer.parent
                    args.append(outer.child_by_field_name("argument"))
                index.calls.append(Call(outer, captures["callee"][0], [a for a in args if a is not None]))
            elif "select" in captures:
                index.selects.append(Select(captures["select"][0], captures["select.base"][0], captures["select.path"][0]))
            elif "has" in captures:
                index.selects.append(Select(captures["has"][0], captures["has.base"][0], captures["has.path"][0], True))
            elif "variable" in captures:
                index.variables.append(captures["variable"][0])
        index.calls.sort(key=lambda c: c.node.start_byte)
        index.selects.sort(key=lambda s: s.node.start_byte)
        index.variables.sort(key=lambda n: n.start_byte)
        index._starts = {
            "calls": [c.node.start_byte for c in index.calls],
            "selects": [s.node.start_byte for s in index.selects],
            "variables": [n.start_byte for n in index.variables],
        }
        return index

    def calls_in(self, node: Node) -> list[Call]:
        return _in_range(self.calls, self._starts["calls"], node.start_byte, node.end_byte)

    def selects_in(self, node: Node) -> list[Select]:
        return _in_range(self.selects, self._starts["selects"], node.start_byte, node.end_byte)

    def variables_in(self, node: Node) -> list[Node]:
        return _in_range(self.variables, self._starts["variables"], node.start_byte, node.end_byte)

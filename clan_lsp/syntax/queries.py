"""The tree-sitter queries in grammars/queries/, read into an index kept across edits.

Walking a tree node by node in Python is the slowest thing a check can do; a
query runs the same search in C. Rules ask the index for nodes in a byte range.

Even in C, querying a whole 30 KB module costs about 2.5 ms, more than everything
else a keystroke does. So the index keeps byte spans, not nodes, and after an edit
re-queries only the innermost binding that holds what changed; every other entry
just moves by the edit's length. Nodes are found from their spans when a rule asks
(rules filter by text first, so they ask for few).
"""

from __future__ import annotations

import bisect
from functools import lru_cache
from importlib import resources
from pathlib import Path

import tree_sitter

from .parse import LANGUAGE, Node, Touched


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


def _find(root: Node, start: int, end: int, kind: str) -> Node:
    """The node of this type spanning exactly [start, end) (a variable and its identifier share a span)."""
    node = root.descendant_for_byte_range(start, end)
    while node is not None and not (node.type == kind and node.start_byte == start and node.end_byte == end):
        node = node.parent
    if node is not None:
        return node
    # Zero-width nodes (a MISSING name in a broken file) sit beside others at one offset:
    # search every node that covers the span.
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == kind and node.start_byte == start and node.end_byte == end:
            return node
        stack.extend(c for c in node.children if c.start_byte <= start and end <= c.end_byte)
    raise LookupError(f"no {kind} at {start}..{end}")  # the index and the tree disagree: a bug


# Entries are tuples of byte offsets (cheap to keep and to move after an edit):
#   call:     (start, end, callee_start, callee_end, callee_kind, ((arg_start, arg_end, arg_kind), ...))
#   select:   (start, end, base_start, base_end, path_start, path_end, has_attr, has_default)
#   variable: (start, end)


class _Entry:
    """A place the index recorded as plain offsets; its nodes are found when asked for."""

    __slots__ = ("_index", "_entry")

    def __init__(self, index: "SyntaxIndex", entry: tuple):
        self._index, self._entry = index, entry

    @property
    def start_byte(self) -> int:
        return self._entry[0]

    @property
    def end_byte(self) -> int:
        return self._entry[1]


class Call(_Entry):
    """A function application whose callee is a name or dotted path; nodes on demand."""

    __slots__ = ()

    @property
    def callee_text(self) -> bytes:
        """The callee as written (`clanLib.buildScopeKey`): filter on this before asking for nodes."""
        return self._index.text[self._entry[2] : self._entry[3]]

    @property
    def node(self) -> Node:  # the outermost application
        return _find(self._index.root, self._entry[0], self._entry[1], "apply_expression")

    @property
    def callee(self) -> Node:
        return _find(self._index.root, self._entry[2], self._entry[3], self._entry[4])

    @property
    def args(self) -> list[Node]:
        return [_find(self._index.root, s, e, kind) for s, e, kind in self._entry[5]]


class Select(_Entry):
    """`x.a.b` (or `x ? a` when has_attr) rooted at a variable; nodes on demand."""

    __slots__ = ()

    @property
    def has_attr(self) -> bool:  # `x ? a` rather than `x.a`
        return self._entry[6]

    @property
    def has_default(self) -> bool:
        return self._entry[7]

    @property
    def base_text(self) -> bytes:
        """The variable it selects from, as written: filter on this before asking for nodes."""
        return self._index.text[self._entry[2] : self._entry[3]]

    @property
    def node(self) -> Node:
        return _find(self._index.root, self._entry[0], self._entry[1], "has_attr_expression" if self._entry[6] else "select_expression")

    @property
    def base(self) -> Node:  # a variable_expression
        return _find(self._index.root, self._entry[2], self._entry[3], "variable_expression")

    @property
    def path(self) -> Node:  # the attrpath
        return _find(self._index.root, self._entry[4], self._entry[5], "attrpath")


def _entries(top: Node, span: tuple[int, int] | None = None) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Every call, select and variable at or below `top` (within `span`), as span tuples."""
    calls, selects, variables = [], [], []
    cursor = tree_sitter.QueryCursor(query("clan"))
    if span is not None:
        cursor.set_byte_range(*span)
    for _pattern, captures in cursor.matches(top):
        if "call" in captures:
            inner = captures["call"][0]
            argument = inner.child_by_field_name("argument")
            args = [argument] if argument is not None else []
            outer = inner
            while outer.parent is not None and outer.parent.type == "apply_expression" and outer.parent.child_by_field_name("function") == outer:
                outer = outer.parent
                argument = outer.child_by_field_name("argument")
                if argument is not None:
                    args.append(argument)
            callee = captures["callee"][0]
            calls.append(
                (outer.start_byte, outer.end_byte, callee.start_byte, callee.end_byte, callee.type, tuple((a.start_byte, a.end_byte, a.type) for a in args))
            )
        elif "select" in captures:
            node, base, path = captures["select"][0], captures["select.base"][0], captures["select.path"][0]
            has_default = node.child_by_field_name("default") is not None
            selects.append((node.start_byte, node.end_byte, base.start_byte, base.end_byte, path.start_byte, path.end_byte, False, has_default))
        elif "has" in captures:
            node, base, path = captures["has"][0], captures["has.base"][0], captures["has.path"][0]
            selects.append((node.start_byte, node.end_byte, base.start_byte, base.end_byte, path.start_byte, path.end_byte, True, True))
        elif "variable" in captures:
            node = captures["variable"][0]
            variables.append((node.start_byte, node.end_byte))
    if span is not None:  # the cursor also gives what only overlaps the span
        low, high = span
        calls = [c for c in calls if low <= c[0] and c[1] <= high]
        selects = [e for e in selects if low <= e[0] and e[1] <= high]
        variables = [v for v in variables if low <= v[0] and v[1] <= high]
    return calls, selects, variables


def _in_range(entries: list[tuple], starts: list[int], start: int, end: int) -> list[tuple]:
    low = bisect.bisect_left(starts, start)
    high = bisect.bisect_left(starts, end)
    return [e for e in entries[low:high] if e[1] <= end]


class _Table:
    """Entries of one kind as one flat list of offsets (`width` a row, start and end first)
    and their other fields: after an edit, moving every entry behind it is one map over
    ints in C, not a tuple built per entry (0.2-0.4 ms a keystroke on a 30 KB module)."""

    __slots__ = ("width", "offsets", "extras", "_starts")

    def __init__(self, width: int, offsets: list[int], extras: list[tuple]):
        self.width, self.offsets, self.extras = width, offsets, extras
        self._starts: list[int] | None = None

    @classmethod
    def of(cls, width: int, entries: list[tuple]) -> "_Table":
        return cls(width, [offset for entry in entries for offset in entry[:width]], [entry[width:] for entry in entries])

    def __len__(self) -> int:
        return len(self.extras)

    @property
    def starts(self) -> list[int]:
        if self._starts is None:
            self._starts = self.offsets[0 :: self.width]
        return self._starts

    def row(self, number: int) -> tuple:
        width = self.width
        return tuple(self.offsets[number * width : number * width + width]) + self.extras[number]

    def rows(self) -> list[tuple]:
        return [self.row(number) for number in range(len(self))]

    def in_range(self, start: int, end: int) -> list[tuple]:
        starts, offsets, width = self.starts, self.offsets, self.width
        low, high = bisect.bisect_left(starts, start), bisect.bisect_left(starts, end)
        return [self.row(number) for number in range(low, high) if offsets[number * width + 1] <= end]

    def updated(self, fresh: list[tuple], touched: Touched) -> "_Table | None":
        """The table after the edit `touched` describes, with `fresh` (sorted) the entries
        read again in its span; None when an entry overlaps the span partly (not a tree)."""
        width, offsets = self.width, self.offsets
        fresh_start, stale_end, delta, move = touched.span_start, touched.stale_end, touched.delta, touched.move
        starts = self.starts
        low, high = bisect.bisect_left(starts, fresh_start), bisect.bisect_left(starts, stale_end)
        ends = offsets[1 :: width]
        if any(end > stale_end for end in ends[low:high]):
            return None
        before = offsets[: low * width]  # what ends before the span is as it was
        for number in [number for number, end in enumerate(ends[:low]) if end >= fresh_start]:
            if ends[number] < stale_end:
                return None
            row = slice(number * width, number * width + width)  # holds the span: its end moves
            before[row] = [move(offset) for offset in before[row]]
        after = offsets[high * width :]  # everything here starts after the edit: all of it moves
        if delta:
            after = list(map(delta.__add__, after))
        inside = [offset for entry in fresh for offset in entry[:width]]
        extras = self.extras[:low] + [entry[width:] for entry in fresh] + self.extras[high:]
        return _Table(width, before + inside + after, extras)


class SyntaxIndex:
    """Calls, selections and variables of one tree, by byte span, sorted by start."""

    def __init__(self, root: Node, text: bytes, calls: list[tuple], selects: "list[tuple] | _Table", variables: "list[tuple] | _Table", ordered: bool = False):
        self.root, self.text = root, text
        if not ordered:
            calls, selects, variables = sorted(calls), sorted(selects), sorted(variables)
        self._calls = calls
        self._call_starts = [c[0] for c in calls]
        self._selects = selects if isinstance(selects, _Table) else _Table.of(6, selects)
        self._variables = variables if isinstance(variables, _Table) else _Table.of(2, variables)
        self._call_objects: list[Call] | None = None
        self._select_objects: list[Select] | None = None
        self._callee_ends: dict[int, list[int]] | None = None  # see calls_ending

    @classmethod
    def build(cls, root: Node, text: bytes) -> "SyntaxIndex":
        return cls(root, text, *_entries(root))

    def updated(self, touched: Touched, new_tree: tree_sitter.Tree, text: bytes) -> "SyntaxIndex":
        """The index of new_tree after the edit `touched` describes: its span is queried
        again, the entries elsewhere are the old ones moved."""
        root = new_tree.root_node
        around = touched.region
        if around is None:
            return SyntaxIndex.build(root, text)
        delta, move = touched.delta, touched.move
        fresh_start = touched.span_start
        stale_end = touched.stale_end

        calls, selects, variables = _entries(around, (touched.span_start, touched.span_end))
        entries, starts = self._calls, self._call_starts
        low, high = bisect.bisect_left(starts, fresh_start), bisect.bisect_left(starts, stale_end)
        if any(entry[1] > stale_end for entry in entries[low:high]):
            return SyntaxIndex.build(root, text)  # overlaps the binding partly: not in a tree; be safe
        before = entries[:low]  # what ends before the span is as it was
        for at in [at for at, entry in enumerate(before) if entry[1] >= fresh_start]:
            entry = before[at]
            if entry[1] < stale_end:
                return SyntaxIndex.build(root, text)  # overlaps the binding partly: be safe
            a, b, c, d, kind, args = entry  # holds the binding: its end and later parts move
            before[at] = (a, move(b), move(c), move(d), kind, tuple([(move(s), move(e), k) for s, e, k in args]))
        after = entries[high:]  # everything here starts after the edit: all of it moves
        if delta:
            after = [(a + delta, b + delta, c + delta, d + delta, kind, tuple([(s + delta, e + delta, k) for s, e, k in args])) for a, b, c, d, kind, args in after]
        moved_selects = self._selects.updated(sorted(selects), touched)
        moved_variables = self._variables.updated(sorted(variables), touched)
        if moved_selects is None or moved_variables is None:
            return SyntaxIndex.build(root, text)  # overlaps the binding partly: be safe
        # before the binding, in it, after it: already in order
        return SyntaxIndex(root, text, before + sorted(calls) + after, moved_selects, moved_variables, ordered=True)

    # -- questions

    @property
    def calls(self) -> list[Call]:
        if self._call_objects is None:
            self._call_objects = [Call(self, c) for c in self._calls]
        return self._call_objects

    @property
    def selects(self) -> list[Select]:
        if self._select_objects is None:
            self._select_objects = [Select(self, s) for s in self._selects.rows()]
        return self._select_objects

    def calls_in(self, node: Node) -> list[Call]:
        return [Call(self, c) for c in _in_range(self._calls, self._call_starts, node.start_byte, node.end_byte)]

    def selects_in(self, node: Node) -> list[Select]:
        return [Select(self, s) for s in self._selects.in_range(node.start_byte, node.end_byte)]

    def calls_ending(self, endings: tuple[bytes, ...]) -> list[Call]:
        """The calls whose callee as written ends with one of `endings` (`mkExports`,
        `clanLib.buildScopeKey`), in order: found where the text spells them."""
        if self._callee_ends is None:
            ends: dict[int, list[int]] = {}
            for number, entry in enumerate(self._calls):
                ends.setdefault(entry[3], []).append(number)
            self._callee_ends = ends
        text, callee_ends = self.text, self._callee_ends
        numbers: set[int] = set()
        for ending in endings:
            at = text.find(ending)
            while at != -1:
                numbers.update(callee_ends.get(at + len(ending), ()))
                at = text.find(ending, at + 1)
        return [Call(self, self._calls[number]) for number in sorted(numbers)]

    def selects_of(self, base: bytes, within: Node | None = None) -> list[Select]:
        """The selects from the variable named `base` (`settings.x`, `settings ? x`), below
        `within` when given, in order. Found where the text spells the name (a select starts
        where its variable does), not by reading every select: rules ask for a few names."""
        text, table = self.text, self._selects
        starts, offsets, count = table.starts, table.offsets, len(table)
        low, high = (within.start_byte, within.end_byte) if within is not None else (0, len(text))
        width = len(base)
        found = []
        at = text.find(base, low, high)
        while at != -1:
            number = bisect.bisect_left(starts, at)
            while number < count and starts[number] == at:
                row = number * 6  # (start, end, base_start, base_end, ...)
                if offsets[row + 3] == at + width and offsets[row + 1] <= high:
                    found.append(Select(self, table.row(number)))
                number += 1
            at = text.find(base, at + width, high)
        return found

    def variable_spans_in(self, node: Node) -> list[tuple[int, int]]:
        """(start, end) of every variable read below node: enough to read their names."""
        return self._variables.in_range(node.start_byte, node.end_byte)

    def variables_in(self, node: Node) -> list[Node]:
        return [_find(self.root, s, e, "variable_expression") for s, e in self.variable_spans_in(node)]

    def spans(self) -> tuple[list[tuple], list[tuple], list[tuple]]:
        """Every entry, for comparing an updated index with one built afresh."""
        return self._calls, self._selects.rows(), self._variables.rows()

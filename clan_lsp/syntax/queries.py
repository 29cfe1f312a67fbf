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
from typing import Callable, Iterator

import tree_sitter

from .parse import LANGUAGE, Node, Touched, places


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


_PENDING_MOVES = 16  # moves a table keeps unapplied before it applies them all (see _Table)


class _Table:
    """Entries of one kind, sorted by start: a flat list of offsets (`width` a row, start
    and end first) and the other fields of each row (`extras`; a call's arguments hold
    offsets too).

    After an edit the rows behind it move. Rewriting them costs a new int per offset (0.4
    ms a keystroke on a 30 KB module, the most of all the index does), so a move is noted
    instead, as (first row, delta), and added when a row is read: the true offsets of row r
    are the stored ones plus the deltas of the moves noted at or before r. After a few
    edits every row is rewritten once."""

    __slots__ = ("width", "offsets", "extras", "move_rows", "move_sums", "_starts", "_runs")

    def __init__(self, width: int, offsets: list[int], extras: list[tuple]):
        self.width, self.offsets, self.extras = width, offsets, extras
        self.move_rows: list[int] = []  # where each noted move begins, ascending (see _with_moves)
        self.move_sums: list[int] = []  # the deltas of the moves up to each, summed
        self._starts: list[int] | None = None
        self._runs: list[tuple[int, int, int]] | None = None

    @classmethod
    def of(cls, width: int, entries: list[tuple]) -> "_Table":
        return cls(width, [offset for entry in entries for offset in entry[:width]], [entry[width:] for entry in entries])

    def __len__(self) -> int:
        return len(self.extras)

    # -- reading (true offsets)

    def _delta(self, row: int) -> int:
        at = bisect.bisect_right(self.move_rows, row)
        return self.move_sums[at - 1] if at else 0

    def _segments(self) -> list[tuple[int, int, int]]:
        """(first row, end row, delta) of each run of rows that one sum of moves applies to."""
        if self._runs is None:
            bounds = [0] + self.move_rows + [len(self)]
            deltas = [0] + self.move_sums
            self._runs = [(bounds[i], bounds[i + 1], deltas[i]) for i in range(len(deltas)) if bounds[i] < bounds[i + 1]]
        return self._runs

    def column(self, column: int) -> list[int]:
        """One offset of every row (true), in order."""
        values = self.offsets[column :: self.width]
        if not self.move_rows:
            return values
        found: list[int] = []
        for first, last, delta in self._segments():
            found += [value + delta for value in values[first:last]] if delta else values[first:last]
        return found

    @property
    def _stored_starts(self) -> list[int]:
        if self._starts is None:
            self._starts = self.offsets[0 :: self.width]
        return self._starts

    def first_at(self, at: int) -> int:
        """The first row whose (true) start is at or after `at`."""
        starts = self._stored_starts
        if not self.move_rows:
            return bisect.bisect_left(starts, at)
        for low, high, delta in self._segments():
            if starts[high - 1] + delta >= at:
                return bisect.bisect_left(starts, at - delta, low, high)
        return len(self)

    def start(self, row: int) -> int:
        return self.offsets[row * self.width] + self._delta(row)

    def end(self, row: int) -> int:
        return self.offsets[row * self.width + 1] + self._delta(row)

    def row(self, number: int) -> tuple:
        return self._row(number, self._delta(number))

    def _row(self, number: int, delta: int) -> tuple:
        width = self.width
        offsets = self.offsets[number * width : number * width + width]
        extras = self.extras[number]
        if not delta:
            return tuple(offsets) + extras
        return tuple([offset + delta for offset in offsets]) + _with_arguments_moved(width, extras, lambda offset: offset + delta)

    def rows(self, low: int = 0, high: int | None = None) -> list[tuple]:
        high = len(self) if high is None else high
        found = []
        for first, last, delta in self._segments():
            found += [self._row(number, delta) for number in range(max(first, low), min(last, high))]
        return found

    def in_range(self, start: int, end: int) -> list[tuple]:
        return [row for row in self.rows(self.first_at(start), self.first_at(end)) if row[1] <= end]

    # -- an edit

    def updated(self, fresh: list[tuple], touched: Touched) -> "_Table | None":
        """The table after the edit `touched` describes, with `fresh` (sorted, true offsets)
        the entries read again in its span; None when an entry overlaps the span partly."""
        width, offsets, count = self.width, self.offsets, len(self)
        fresh_start, stale_end, delta, move = touched.span_start, touched.stale_end, touched.delta, touched.move
        low, high = self.first_at(fresh_start), self.first_at(stale_end)
        if any(self.end(number) > stale_end for number in range(low, high)):
            return None
        before, extras = offsets[: low * width], self.extras[:low]  # what ends before the span is as it was
        ends = offsets[1 :: width]
        for first, last, shift in self._segments():
            if first >= low:
                break
            for number in [number for number in range(first, min(last, low)) if ends[number] + shift >= fresh_start]:
                row = self._row(number, shift)  # reaches into the span: it must hold it, and its end moves
                if row[1] < stale_end:
                    return None
                before[number * width : number * width + width] = [move(offset) - shift for offset in row[:width]]
                extras[number] = _with_arguments_moved(width, row[width:], lambda offset: move(offset) - shift)
        shift = self._delta(low)  # the moves noted at or before the span apply to what is read again in it
        inside = [offset - shift for entry in fresh for offset in entry[:width]]
        inside_extras = [_with_arguments_moved(width, entry[width:], lambda offset: offset - shift) if shift else entry[width:] for entry in fresh]
        after_row = low + len(fresh)
        moves: dict[int, int] = {}
        previous = 0
        for row, total in zip(self.move_rows, self.move_sums):
            own, previous = total - previous, total
            at = row if row <= low else after_row if row <= high else row + after_row - high
            moves[at] = moves.get(at, 0) + own
        if delta:
            moves[after_row] = moves.get(after_row, 0) + delta
        table = _Table(width, before + inside + offsets[high * width :], extras + inside_extras + self.extras[high:])
        rows = sorted(row for row, own in moves.items() if own and row < count - (high - low) + len(fresh))
        if len(rows) > _PENDING_MOVES:
            every = table._with_moves(rows, moves).rows()
            return _Table.of(width, every)
        return table._with_moves(rows, moves)

    def _with_moves(self, rows: list[int], moves: dict[int, int]) -> "_Table":
        total, sums = 0, []
        for row in rows:
            total += moves[row]
            sums.append(total)
        self.move_rows, self.move_sums = rows, sums
        self._runs = None
        return self


def _rows_spelled(table: "_Table", spelled: list[int], name: bytes, low: int, high: int) -> Iterator[int]:
    """The rows that start where text[low:high] spells `name` (`spelled`: where the whole
    text does), in order: a name's selects or variables found without reading every row."""
    count = len(table)
    for at in spelled[bisect.bisect_left(spelled, low) : bisect.bisect_right(spelled, high - len(name))]:
        number = table.first_at(at)
        while number < count and table.start(number) == at:
            yield number
            number += 1


def _with_arguments_moved(width: int, extras: tuple, moved: Callable[[int], int]) -> tuple:
    """A row's other fields with their offsets moved: a call's (width 4) arguments hold offsets."""
    if width != 4:
        return extras
    kind, args = extras
    return (kind, tuple([(moved(start), moved(end), k) for start, end, k in args]))


class SyntaxIndex:
    """Calls, selections and variables of one tree, by byte span, sorted by start."""

    def __init__(self, root: Node, text: bytes, calls: "list[tuple] | _Table", selects: "list[tuple] | _Table", variables: "list[tuple] | _Table", ordered: bool = False):
        self.root, self.text = root, text
        if not ordered:
            calls, selects, variables = sorted(calls), sorted(selects), sorted(variables)
        self._calls = calls if isinstance(calls, _Table) else _Table.of(4, calls)
        self._selects = selects if isinstance(selects, _Table) else _Table.of(6, selects)
        self._variables = variables if isinstance(variables, _Table) else _Table.of(2, variables)
        self._call_objects: list[Call] | None = None
        self._select_objects: list[Select] | None = None
        self._callee_ends: dict[int, list[int]] | None = None  # see calls_ending
        # where the text spells a word: SyntaxTree.spelled, kept across edits, once the tree
        # hands it over (an index built on its own searches its text)
        self.spelled: Callable[[bytes], list[int]] = lambda needle: places(text, needle)

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
        if touched.name_only:  # the same entries, moved: none starts in the name after its first byte
            calls, selects, variables = [], [], []
        else:
            calls, selects, variables = _entries(around, (touched.span_start, touched.span_end))
        tables = (self._calls.updated(sorted(calls), touched), self._selects.updated(sorted(selects), touched), self._variables.updated(sorted(variables), touched))
        if any(table is None for table in tables):
            return SyntaxIndex.build(root, text)  # overlaps the binding partly: not in a tree; be safe
        return SyntaxIndex(root, text, *tables, ordered=True)

    # -- questions

    @property
    def calls(self) -> list[Call]:
        if self._call_objects is None:
            self._call_objects = [Call(self, c) for c in self._calls.rows()]
        return self._call_objects

    @property
    def selects(self) -> list[Select]:
        if self._select_objects is None:
            self._select_objects = [Select(self, s) for s in self._selects.rows()]
        return self._select_objects

    def calls_in(self, node: Node) -> list[Call]:
        return [Call(self, c) for c in self._calls.in_range(node.start_byte, node.end_byte)]

    def selects_in(self, node: Node) -> list[Select]:
        return [Select(self, s) for s in self._selects.in_range(node.start_byte, node.end_byte)]

    def calls_ending(self, endings: tuple[bytes, ...]) -> list[Call]:
        """The calls whose callee as written ends with one of `endings` (`mkExports`,
        `clanLib.buildScopeKey`), in order: found where the text spells them."""
        if self._callee_ends is None:
            ends: dict[int, list[int]] = {}
            for number, end in enumerate(self._calls.column(3)):
                ends.setdefault(end, []).append(number)
            self._callee_ends = ends
        callee_ends = self._callee_ends
        numbers: set[int] = set()
        for ending in endings:
            for at in self.spelled(ending):
                numbers.update(callee_ends.get(at + len(ending), ()))
        return [Call(self, self._calls.row(number)) for number in sorted(numbers)]

    def selects_of(self, base: bytes, within: Node | None = None, spelling: bytes | None = None) -> list[Select]:
        """The selects from the variable named `base` (`settings.x`, `settings ? x`), below
        `within` when given, in order. Found where the text spells the name (a select starts
        where its variable does), not by reading every select: rules ask for a few names.
        `spelling`: only the selects whose text spells it too (`roles.<r>.settings` among
        thirty `roles.<r>.machines`), left out before they are made."""
        table, width = self._selects, len(base)
        low, high = (within.start_byte, within.end_byte) if within is not None else (0, len(self.text))
        words = self.spelled(spelling) if spelling is not None else None
        found = []
        for number in _rows_spelled(table, self.spelled(base), base, low, high):
            if words is not None:
                start, end = table.start(number), table.end(number)
                at = bisect.bisect_left(words, start)
                if at == len(words) or words[at] + len(spelling) > end:
                    continue
            row = table.row(number)  # (start, end, base_start, base_end, ...)
            if row[3] == row[0] + width and row[1] <= high:
                found.append(Select(self, row))
        return found

    def variable_spans_in(self, node: Node) -> list[tuple[int, int]]:
        """(start, end) of every variable read below node: enough to read their names."""
        return self._variables.in_range(node.start_byte, node.end_byte)

    def variables_named(self, name: bytes) -> list[tuple[int, int]]:
        """(start, end) of every variable read that is `name`, in order: found where the text
        spells it, not by reading every variable (hundreds in a module)."""
        table, width = self._variables, len(name)
        found = []
        for number in _rows_spelled(table, self.spelled(name), name, 0, len(self.text)):
            start = table.start(number)
            if table.end(number) == start + width:
                found.append((start, start + width))
        return found

    def variables_in(self, node: Node) -> list[Node]:
        return [_find(self.root, s, e, "variable_expression") for s, e in self.variable_spans_in(node)]

    def spans(self) -> tuple[list[tuple], list[tuple], list[tuple]]:
        """Every entry, for comparing an updated index with one built afresh."""
        return self._calls.rows(), self._selects.rows(), self._variables.rows()

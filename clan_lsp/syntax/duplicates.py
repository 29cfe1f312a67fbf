"""Attributes a set, `rec` set or `let` defines twice, as Nix's parser counts them.

Nix rejects such a file before evaluating it, with `attribute 'x' already defined at
<file>:<line>:<col>`. What counts as twice follows Nix's parser (checked with
`nix-instantiate --parse`, Nix 2.8):

- `a.b = 1; a.c = 2;` builds one set `a`: no duplicate; `a.b = 1; a.b = 2;` is one.
- a path may go through a name only while that name holds a set literal (`{ }`, `rec { }`,
  in parentheses or not), or a set made by another dotted path: `a = { b = 1; }; a.c = 2;`
  is fine, `a = lib.mkIf c { }; a.c = 2;` and `a = 1; a.c = 2;` are duplicates of `a.c`;
- two set literals for one name are merged (`a = { b = 1; }; a = { c = 2; };`), but only
  their own names: a name in both is a duplicate even if both are sets again;
- `inherit a;` defines `a` like a binding; `"a"` and `${"a"}` are the name `a`; a name
  computed from a variable (`${x}`) is never a duplicate.

Every duplicate is found, each where Nix would put it. This is a fact of the syntax, like
a syntax error: it is kept with the tree and, after an edit, found again only in the sets
the edit touched (`Duplicates.updated`); checks/syntax.py words it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import tree_sitter

from .parse import _NAME, Node, Touched, _alike, as_before_edit, binding_set_of, walk

_SCOPES = ("attrset_expression", "rec_attrset_expression", "let_expression", "let_attrset_expression")
_LITERALS = ("attrset_expression", "rec_attrset_expression")
# Sets with at least this many names keep them (Duplicates.names): renaming a key there is
# checked against them instead of reading the set again (a clan's 1000 machines: 4 ms).
_KEEP_NAMES = 32


@dataclass
class _Entry:
    """One name in a set as Nix's parser builds it."""

    node: Node  # where Nix puts this definition: the binding's attrpath, or the inherited name
    value: Node | None = None  # the value expression (None: a set made by a dotted path)
    inherited: bool = False
    _attrs: "_Attrs | None" = None

    def attrs(self, text: bytes) -> "_Attrs | None":
        """The names below this one, when it is a set Nix can add to (a literal or a path)."""
        if self._attrs is None and not self.inherited and self.value is not None:
            literal = _unparenthesized(self.value)
            if literal is not None and literal.type in _LITERALS:
                bindings = binding_set_of(literal)
                self._attrs = _Attrs()
                if bindings is not None:
                    _read(bindings, text, self._attrs, None)
        return self._attrs


@dataclass
class _Attrs:
    names: dict[str, _Entry] = field(default_factory=dict)


@dataclass
class _Duplicate:
    node: Node  # where Nix reports it
    name: str  # the attribute path Nix names
    previous: Node  # the definition Nix says it is "already defined at"


def _unparenthesized(node: Node | None) -> Node | None:
    for _ in range(64):
        if node is None or node.type != "parenthesized_expression":
            return node
        inner = [c for c in node.named_children if c.type != "comment"]
        node = inner[0] if len(inner) == 1 else None
    return None


def _static_name(attr: Node, text: bytes) -> str | None:
    """The name an attrpath element spells, or None when it is computed."""
    if attr.type == "identifier":
        return text[attr.start_byte : attr.end_byte].decode("utf-8", "replace")
    if attr.type == "interpolation":  # `${"a"}` is the name a
        inner = [c for c in attr.named_children if c.type != "comment"]
        return _static_name(inner[0], text) if len(inner) == 1 and inner[0].type == "string_expression" else None
    if attr.type == "string_expression":
        parts = []
        for child in attr.named_children:
            if child.type == "string_fragment":
                parts.append(text[child.start_byte : child.end_byte].decode("utf-8", "replace"))
            elif child.type == "escape_sequence":
                raw = text[child.start_byte : child.end_byte].decode("utf-8", "replace")
                parts.append({"\\n": "\n", "\\t": "\t", "\\r": "\r"}.get(raw, raw[-1:]))
            else:
                return None
        return "".join(parts)
    return None


def _read(bindings: Node, text: bytes, attrs: _Attrs, found: list[_Duplicate] | None, repeated: set[str] | None = None) -> None:
    """Add a binding_set's names to `attrs` as Nix's parser does, noting each duplicate (and,
    in `repeated`, each first name defined more than once: only those bindings' values are
    read, to merge them)."""

    def duplicate(node: Node, name: str, previous: Node) -> None:
        if found is not None:
            found.append(_Duplicate(node, name, previous))

    for binding in bindings.named_children:
        if binding.type in ("inherit", "inherit_from"):
            names = binding.child_by_field_name("attrs")
            for attr in names.named_children if names is not None else ():
                name = _static_name(attr, text)
                if name is None:
                    continue
                if name in attrs.names:
                    duplicate(attr, name, attrs.names[name].node)
                    if repeated is not None:
                        repeated.add(name)
                else:
                    attrs.names[name] = _Entry(attr, inherited=True)
            continue
        if binding.type != "binding":
            continue
        path = binding.child_by_field_name("attrpath")
        if path is None:
            continue
        elements = [a for a in path.named_children if a.type != "comment"]
        names = [_static_name(a, text) for a in elements]
        value = binding.child_by_field_name("expression")
        shown = ".".join(n if n is not None else "\"${...}\"" for n in names)
        current = attrs
        for index, name in enumerate(names):
            if name is None:
                break  # a computed name: Nix sets it aside, nothing below it can clash
            entry = current.names.get(name)
            last = index == len(names) - 1
            if entry is not None and index == 0 and repeated is not None:
                repeated.add(name)
            if entry is None:
                if last:
                    current.names[name] = _Entry(path, value)
                else:
                    made = _Entry(path, None, _attrs=_Attrs())
                    current.names[name] = made
                    current = made._attrs  # type: ignore[assignment]
                continue
            below = entry.attrs(text)
            if not last:
                if below is None:
                    duplicate(path, shown, entry.node)
                    break
                current = below
                continue
            literal = _unparenthesized(value)
            if below is not None and literal is not None and literal.type in _LITERALS:
                # Two set literals for one name: Nix merges their own names, no deeper.
                incoming = _Attrs()
                inner = binding_set_of(literal)
                if inner is not None:
                    _read(inner, text, incoming, None)
                for inner_name, inner_entry in incoming.names.items():
                    if inner_name in below.names:
                        duplicate(below.names[inner_name].node, inner_name, inner_entry.node)
                    else:
                        below.names[inner_name] = inner_entry
            else:
                duplicate(path, shown, entry.node)



class Duplicate(NamedTuple):
    """One duplicate, by byte offsets, and the set it was found reading."""

    scope_start: int
    scope_end: int
    start: int  # where Nix reports it
    end: int
    name: str  # the attribute path Nix names
    previous: int  # where the definition starts that Nix says it is "already defined at"

    def moved(self, delta: int) -> "Duplicate":
        return Duplicate(self.scope_start + delta, self.scope_end + delta, self.start + delta, self.end + delta, self.name, self.previous + delta)


def _scope_duplicates(scope: Node, text: bytes, repeated: dict | None = None, kept_names: dict | None = None) -> list[Duplicate]:
    """The duplicates among one set's own names (names its literal values merge included).

    With `repeated`, the set's first names defined more than once go there, by the set's
    start: (its end, the names); with `kept_names`, a big set's first names."""
    bindings = binding_set_of(scope)
    if bindings is None:
        return []
    found: list[_Duplicate] = []
    names: set[str] = set()
    attrs = _Attrs()
    _read(bindings, text, attrs, found, names)
    a, b = scope.start_byte, scope.end_byte
    if names and repeated is not None:
        repeated[a] = (b, frozenset(names))
    if kept_names is not None and len(attrs.names) >= _KEEP_NAMES:
        kept_names[a] = (b, frozenset(attrs.names))
    return [Duplicate(a, b, d.node.start_byte, d.node.end_byte, d.name, d.previous.start_byte) for d in found]


def _first_name(binding: Node, text: bytes) -> str | None:
    path = binding.child_by_field_name("attrpath")
    first = next((a for a in path.named_children if a.type != "comment"), None) if path is not None else None
    return _static_name(first, text) if first is not None else None


def _scopes_in(node: Node) -> list[Node]:
    # a walk, not a query: tree-sitter's query cursor slows down with depth (50,000 nested
    # sets took a minute; tests/e2e/test_diagnostics.py nests that deep)
    return [n for n in walk(node) if n.type in _SCOPES]


def _ordered(found: list[Duplicate]) -> list[Duplicate]:
    # the order of a walk of the tree: by set (outer sets first), then as each set found them
    return sorted(found, key=lambda d: (d.scope_start, -d.scope_end))


class Duplicates:
    """Every duplicate of one tree, and the first names each set defines more than once."""

    def __init__(self, found: list[Duplicate], repeated: dict[int, tuple[int, frozenset[str]]] | None = None, names: dict[int, tuple[int, frozenset[str]]] | None = None) -> None:
        self.found = found
        self.repeated = repeated if repeated is not None else {}  # a set's start -> (its end, names)
        self.names = names if names is not None else {}  # a big set's start -> (its end, its first names)

    @classmethod
    def build(cls, root: Node, text: bytes) -> "Duplicates":
        found: list[Duplicate] = []
        repeated: dict = {}
        names: dict = {}
        for scope in _scopes_in(root):
            found += _scope_duplicates(scope, text, repeated, names)
        return cls(_ordered(found), repeated, names)

    def updated(self, touched: Touched, new_tree: tree_sitter.Tree, text: bytes) -> "Duplicates":
        """The duplicates of new_tree after the edit `touched` describes.

        The sets in its span are read again. A set holding the span is read again (its own
        names only) unless the change lies in the value of one of its bindings whose first
        name it defines once: then it never reads that value, and its names are as they
        were. Sets beside the span keep their duplicates, moved by the edit.
        """
        root = new_tree.root_node
        around = touched.region
        if around is None:
            return Duplicates.build(root, text)
        delta, move = touched.delta, touched.move
        if touched.name_only:  # a name in an expression: no key changed, every set reads alike
            return Duplicates(
                [Duplicate(move(d.scope_start), move(d.scope_end), move(d.start), move(d.end), d.name, move(d.previous)) for d in self.found],
                {move(start): (move(end), names) for start, (end, names) in self.repeated.items()},
                {move(start): (move(end), names) for start, (end, names) in self.names.items()},
            )
        fresh_start, fresh_end, stale_end = touched.span_start, touched.span_end, touched.stale_end
        # the sets holding the span, innermost first, and whether each must be read again
        holders: list[tuple[Node, bool]] = []
        renames: dict[int, frozenset[str]] = {}  # a big set whose key was renamed: its names now
        below = around if around.type == "binding" else None  # the holder's binding the change is in
        climbed = [around]  # the nodes from the span up, so a holder's own binding is known without asking parents
        for node in reversed(touched.ancestors) if touched.ancestors is not None else _parents(around):
            if node.type == "binding":
                below = node
            elif node.type in _SCOPES:
                # its own binding: the child of the binding_set that is its child
                direct = below is not None and len(climbed) >= 2 and climbed[-1].type == "binding_set" and climbed[-2] is below
                if node.type == "let_expression" and _is_body(node, climbed[-1]):
                    # the change is after `in`: a let's names are in its bindings only (a
                    # module's top-level let holds nearly every keystroke: 40 us each)
                    again, renamed = False, None
                elif direct and _in_a_value_of_its_value(climbed):
                    # `roles.peer = { perInstance = <change>; }` beside `roles.controller`:
                    # to merge, a set reads the names of set literals down its paths, never
                    # into another value (a function here), and the change lies in one
                    again, renamed = False, None
                else:
                    again, renamed = self._reads_again(node, below if direct else None, touched, text)
                holders.append((node, again))
                if renamed is not None:
                    renames[node.start_byte] = renamed
                below = None
            climbed.append(node)
        kept_holders = {node.start_byte for node, again in holders if not again}
        found: list[Duplicate] = []
        for duplicate in self.found:
            if duplicate.scope_end < fresh_start:
                found.append(duplicate)  # a set before the span: as it was
            elif duplicate.scope_start > stale_end:
                found.append(duplicate.moved(delta))  # after it: moved
            elif duplicate.scope_start <= fresh_start and duplicate.scope_end >= stale_end:
                if duplicate.scope_start in kept_holders:  # its own names are outside the change
                    found.append(Duplicate(duplicate.scope_start, duplicate.scope_end + delta, move(duplicate.start), move(duplicate.end), duplicate.name, move(duplicate.previous)))
            elif duplicate.scope_start >= fresh_start and duplicate.scope_end <= stale_end:
                continue  # a set in the span: read again below
            else:
                return Duplicates.build(root, text)  # overlaps the span partly: not in a tree; be safe
        repeated, kept_names = self._moved(self.repeated, fresh_start, stale_end, delta, kept_holders), self._moved(self.names, fresh_start, stale_end, delta, kept_holders)
        for start, names in renames.items():
            kept_names[start] = (kept_names[start][0], names)
        parts = [around] if around.type == "binding" else [c for c in around.children if fresh_start <= c.start_byte and c.end_byte <= fresh_end]
        inside = [scope for part in parts for scope in _scopes_in(part)]
        found += [d for scope in inside for d in _scope_duplicates(scope, text, repeated, kept_names)]
        for holder, again in holders:
            if again:
                found += _scope_duplicates(holder, text, repeated, kept_names)
        return Duplicates(_ordered(found), repeated, kept_names)

    @staticmethod
    def _moved(by_set: dict, fresh_start: int, stale_end: int, delta: int, kept_holders: set[int]) -> dict:
        """Entries by set start, for the sets the edit leaves alone, moved by it."""
        moved: dict = {}
        for start, (end, names) in by_set.items():
            if end < fresh_start:
                moved[start] = (end, names)
            elif start > stale_end:
                moved[start + delta] = (end + delta, names)
            elif start <= fresh_start and end >= stale_end and start in kept_holders:
                moved[start] = (end + delta, names)
        return moved

    def _reads_again(self, holder: Node, below: Node | None, touched: Touched, text: bytes) -> tuple[bool, frozenset[str] | None]:
        """Whether a set holding the change may read its own names differently now: unless
        the change lies in the value of its own binding `below` (None: not one of its own),
        whose first name it defined once, or renames that binding's key in a big set from a
        name it defined once to one it did not define (then: its names now)."""
        if below is None:
            return True, None
        value = below.child_by_field_name("expression")
        if value is None:
            return True, None
        if touched.span_start < value.start_byte or touched.start < value.start_byte:
            renamed = self._renamed(holder, below, touched, text)  # the binding's own name may be what changed
            return renamed is None, renamed
        before = self.repeated.get(holder.start_byte)
        if before is not None and before[0] != holder.end_byte - touched.delta:
            return True, None  # not the set read before
        name = _first_name(below, text)
        return name is not None and before is not None and name in before[1], None

    def _renamed(self, holder: Node, below: Node, touched: Touched, text: bytes) -> frozenset[str] | None:
        """A big set's first names after the edit renamed one binding's first name (or a
        later part of its path) when that cannot make or undo a duplicate: the name was
        defined once and the new one not at all. None: read the set again."""
        known = self.names.get(holder.start_byte)
        key = below.child_by_field_name("attrpath")
        if known is None or known[0] != holder.end_byte - touched.delta or touched.removed is None or key is None:
            return None
        if not (key.start_byte <= touched.start and touched.new_end <= key.end_byte):
            return None
        new_key = text[key.start_byte : key.end_byte]
        old_key = as_before_edit(new_key, key.start_byte, touched.start, touched.new_end, touched.removed)
        new_name, old_name = _leading_name(new_key), _leading_name(old_key)
        if new_name is None or old_name is None:
            return None
        repeated = self.repeated.get(holder.start_byte)
        if repeated is not None and old_name in repeated[1]:
            return None  # defined more than once: its definitions merge
        if new_name != old_name and new_name in known[1]:
            return None  # now defined twice
        return known[1] if new_name == old_name else (known[1] - {old_name}) | {new_name}


def _in_a_value_of_its_value(climbed: list[Node]) -> bool:
    """Whether the change lies inside a value that is no set literal, bound in the set
    literal that the holder's own binding (climbed[-2]) binds: climbed runs from the change
    up to the holder's binding_set, as [..., value, binding, binding_set, literal, binding,
    binding_set]. Merging never reads into such a value (only whether it is a literal)."""
    if len(climbed) < 7:  # the value holds the change strictly: its kind is as it was
        return False
    literal, inner_set, inner, value = climbed[-3], climbed[-4], climbed[-5], climbed[-6]
    if literal.type not in _LITERALS or inner_set.type != "binding_set" or inner.type != "binding":
        return False
    expression = inner.child_by_field_name("expression")
    if expression is None or not _alike(expression, value):
        return False
    unwrapped = _unparenthesized(value)
    return unwrapped is not None and unwrapped.type not in _LITERALS


def _is_body(let: Node, below: Node) -> bool:
    body = let.child_by_field_name("body")
    return body is not None and _alike(body, below)


def _parents(node: Node):
    """The nodes above one, nearest first (each `.parent` costs the depth: Touched gives them when it can)."""
    node = node.parent
    while node is not None:
        yield node
        node = node.parent


def _leading_name(key: bytes) -> str | None:
    """The first name of a plain attribute path (`a` or `a.b...`, no quotes, spaces or comments)."""
    match = _NAME.match(key)
    if match is None or (match.end() < len(key) and key[match.end() : match.end() + 1] != b"."):
        return None
    return match.group().decode()

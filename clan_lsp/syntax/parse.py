"""Parsing Nix with tree-sitter-nix, incremental edits, and syntax errors in words.

tree-sitter-nix 0.1.0 rejects a trailing comma in formals (`{ lib, clanLib, }:`),
which Nix accepts and nixfmt writes. We repair it here, once, for every consumer:
the comma is replaced by a space in the text the parser sees (same byte length, so
every offset stays valid) and the tree is reparsed incrementally.

The pipe operators `|>` and `<|` (stable in Lix, CppNix's `pipe-operators` feature)
are unknown to the grammar too. They are repaired the same way: the parser sees an
operator of the same length that the grammar has, with the closest precedence and
associativity (see `_PIPE_STANDINS`). The source text, and so every node's text,
keeps the real operator, which the value model does not know: such an expression is
unknown to it.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Iterator

import tree_sitter
import tree_sitter_nix

from .positions import LineIndex
from .recover import Recovery, loose_runs, recover

LANGUAGE = tree_sitter.Language(tree_sitter_nix.language())

Node = tree_sitter.Node


def new_parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(LANGUAGE)


@dataclass
class SyntaxError_:
    """A syntax error: byte span and a message in words."""

    start: int
    end: int
    message: str


def _point(data: bytes, offset: int) -> tuple[int, int]:
    """tree-sitter's point (row, byte column): rows end at `\n` only, unlike LineIndex's lines."""
    row = data.count(b"\n", 0, offset)
    return (row, offset - (data.rfind(b"\n", 0, offset) + 1))


def _error_nodes(root: Node) -> Iterator[Node]:
    """Outermost ERROR nodes and MISSING nodes, without recursion."""
    if not root.has_error:
        return
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_missing or node.type == "ERROR":
            yield node
            if node.type == "ERROR":
                continue
        for child in reversed(node.children):
            if child.has_error or child.is_missing:
                stack.append(child)


def _trailing_formal_commas(root: Node) -> list[int]:
    """Byte offsets of commas that end formals with nothing after them."""
    commas = []
    for node in _error_nodes(root):
        if node.type == "ERROR":
            # `{ lib, }:`: the comma alone becomes an ERROR inside formals
            if node.parent is not None and node.parent.type == "formals" and node.child_count == 1:
                only = node.children[0]
                if only.type == "," and node.next_sibling is not None and node.next_sibling.type == "}":
                    commas.append(only.start_byte)
            continue
        if node.type != "identifier":
            continue
        formal = node.parent
        if formal is None or formal.type != "formal":
            continue
        comma = formal.prev_sibling
        if comma is not None and comma.type == ",":
            commas.append(comma.start_byte)
    return commas


def _space_then_brace(text: bytes, offset: int) -> bool:
    """Whether only space lies between offset and the next `}`."""
    brace = text.find(b"}", offset)
    return brace != -1 and (brace == offset or text[offset:brace].isspace())


def _ends_formals(root: Node, offset: int) -> bool:
    """Whether the blank at offset lies in formals, after a formal and before their `}`
    (where a trailing comma was blanked)."""
    node = root.descendant_for_byte_range(offset, offset + 1)
    if node is None or node.type != "formals":
        return False
    before = after = None
    for child in node.children:
        if child.end_byte <= offset:
            before = child
        elif child.start_byte > offset:
            after = child
            break
    return before is not None and before.type == "formal" and after is not None and after.type == "}"


# Pipes are Nix's loosest operators: `a |> f` is `f a`, left-associative; `f <| a`
# is `f a`, right-associative (mixing both needs parentheses). tree-sitter-nix's
# loosest operator, `->`, is right-associative: it stands in for `<|`. `||`, next
# in looseness and left-associative, stands in for `|>`; the two trees differ only
# where a pipe meets `->` without parentheses (`a -> b |> f`), which real code avoids.
_PIPE_STANDINS = {b"|>": b"||", b"<|": b"->"}
# Tokens whose bytes are text, not operators: a `|>` there is no pipe.
_TEXT_NODES = frozenset({"comment", "string_fragment", "escape_sequence", "dollar_escape"})


def _pipe_operators(root: Node, text: bytes) -> list[tuple[int, bytes]]:
    """Offsets and stand-ins of the pipe operators outside strings and comments."""
    if not root.has_error or (b"|>" not in text and b"<|" not in text):
        return []
    found = []
    for pipe, standin in _PIPE_STANDINS.items():
        offset = text.find(pipe)
        while offset != -1:
            node = root.descendant_for_byte_range(offset, offset + 1)
            if node is None or node.type not in _TEXT_NODES and not node.type.endswith("string_expression"):
                found.append((offset, standin))
            offset = text.find(pipe, offset + 2)
    return found


def _stand_in(text: bytes, tree: tree_sitter.Tree, replacements: list[tuple[int, bytes]], parser: tree_sitter.Parser) -> tuple[bytes, tree_sitter.Tree]:
    """The text with each (offset, stand-in) written over it (same length: every offset stays
    valid), and its tree reparsed incrementally from `tree` (which is edited)."""
    buf = bytearray(text)
    for offset, standin in replacements:
        end = offset + len(standin)
        buf[offset:end] = standin
        point = _point(text, offset)
        end_point = (point[0], point[1] + len(standin))
        tree.edit(offset, end, end, point, end_point, end_point)
    text = bytes(buf)
    return text, parser.parse(text, tree)


def _ancestry(top: Node, low: int, high: int) -> list[Node]:
    """The nodes from `top` down to the smallest holding [low, high), found going down with
    a cursor (each `.parent` costs the depth: walking up is quadratic)."""
    cursor = top.walk()
    path = [top]
    while cursor.goto_first_child_for_byte(low) is not None:
        node = cursor.node
        if not (node.start_byte <= low and high <= node.end_byte and low < node.end_byte):
            break
        path.append(node)
    return path


def _same_binding(new_tree: tree_sitter.Tree, old_tree: tree_sitter.Tree, low: int, high: int, new: list[Node] | None = None) -> tuple[list[Node], Node] | None:
    """The innermost binding holding [low, high) when the edit left it in place: the same
    span and the same ancestors in the edited old tree (its offsets are the new ones) as in
    the new tree, both without errors. Then the parse around it is what it was (the parser
    reaches the binding's end in the same state), and tree-sitter's changed ranges (a walk
    of both whole trees: 3.7 ms on a 256 KB clan file) would lie within it.

    Given as the new tree's nodes from the root down to the binding, and the old binding.
    `new`: the new tree's nodes down to the smallest holding the range, when known."""
    if new_tree.root_node.has_error or old_tree.root_node.has_error:
        return None  # error recovery may reshape what lies around the binding
    new = new if new is not None else _ancestry(new_tree.root_node, low, high)
    depth = max((at for at, node in enumerate(new) if node.type == "binding"), default=-1)
    if depth < 0:
        return None
    old = _ancestry(old_tree.root_node, low, high)
    if len(old) <= depth or old[depth].type != "binding" or any(node.type == "binding" for node in old[depth + 1 :]):
        return None
    if not _alike_all(new[: depth + 1], old[: depth + 1]):
        return None
    return new[: depth + 1], old[depth]


def _narrowed(binding: Node, old_binding: Node, start: int, new_end: int) -> Node | None:
    """The part of the binding the edit [start, new_end) lies in, when all after that part
    is as it was: its key (the value after `=`), or the formals of a function it binds (the
    body after `:`). Their bytes are unchanged and so is the parser's state before them, so
    is all below them; the edited old tree's binding must show them at the same span, of the
    same type."""
    key = binding.child_by_field_name("attrpath")
    value = binding.child_by_field_name("expression")
    old_value = old_binding.child_by_field_name("expression")
    if key is None or value is None or old_value is None:
        return None
    if key.start_byte <= start and new_end <= key.end_byte:
        return key if _alike(value, old_value) else None
    if value.type == "function_expression" and old_value.type == "function_expression":
        formals = value.child_by_field_name("formals")
        body, old_body = value.child_by_field_name("body"), old_value.child_by_field_name("body")
        if formals is not None and body is not None and old_body is not None and formals.start_byte <= start and new_end <= formals.end_byte:
            return formals if _alike(body, old_body) else None
    return None


def as_before_edit(written: bytes, at: int, start: int, new_end: int, removed: bytes) -> bytes:
    """`written`, the new text's bytes from offset `at` holding the edit [start, new_end),
    as they were before it (the edit replaced `removed`)."""
    return written[: start - at] + removed + written[new_end - at :]


# A name as Nix's lexer reads it, and the words that lex as keywords instead.
_NAME = re.compile(rb"[A-Za-z_][A-Za-z0-9_'-]*")
_KEYWORDS = frozenset({b"assert", b"else", b"if", b"in", b"inherit", b"let", b"or", b"rec", b"then", b"with"})
# Where a name is no key of a set (keys make duplicates): a variable, a select's path after
# its base, a formal's name, a function's parameter (`x:`, `@args`).
_NAME_PARENTS = ("variable_expression", "attrpath", "formal", "function_expression")
_SELECTS = ("select_expression", "has_attr_expression")


def _renamed_name(path: list[Node], text: bytes, start: int, new_end: int, removed: bytes | None, old_tree: tree_sitter.Tree) -> list[Node] | None:
    """When the edit only renamed one name that is no key (typing in `config` of
    `config.networking`, or in an argument's name), the nodes from the root down to that
    name: every fact is as it was, its offsets moved.

    Both names lex alike (a name, no keyword) and the text around them is the same, so the
    parser saw the same tokens and built the same tree; only the name's span and the spans
    holding it grew or shrank. No key changed, so no set's names did. The old tree must have
    read a name there too: `ab:c` is a URI and `a_b:c` a function, `x.y/z` a path and
    `x'.y/z` a division. `path` runs from the root to the binding holding the edit, in a
    tree without errors; `old_tree` is the tree before the edit, edited. None: the edit did
    more, or may have."""
    if removed is None or start <= path[-1].start_byte:
        return None
    # the name has a byte before the edit: down to the smallest node holding it and the edit
    down = path[:-1] + _ancestry(path[-1], start - 1, max(new_end, start))
    name = down[-1]
    if name.type != "identifier" or len(down) < len(path) + 2:
        return None
    parent = down[-2]
    if parent.type not in _NAME_PARENTS or (parent.type == "attrpath" and (len(down) < len(path) + 3 or down[-3].type not in _SELECTS)):
        return None
    written = text[name.start_byte : name.end_byte]
    for word in (written, as_before_edit(written, name.start_byte, start, new_end, removed)):
        match = _NAME.fullmatch(word)
        if match is None or word in _KEYWORDS:
            return None
    if down[len(path)].type == "attrpath":  # the binding's key, not its value
        return None
    # the name starts before the edit, where the edited old tree's offsets are the old ones
    old_name = old_tree.root_node.descendant_for_byte_range(name.start_byte, name.start_byte + 1)
    if old_name is None or old_name.type != "identifier" or old_name.start_byte != name.start_byte:
        return None
    old_parent = old_name.parent
    if old_parent is None or old_parent.type != parent.type:
        return None
    return down


def _outer_formals(new_tree: tree_sitter.Tree, old_tree: tree_sitter.Tree, low: int, high: int, new: list[Node] | None = None) -> list[Node] | None:
    """The nodes from the root down to the formals holding [low, high), when no binding holds
    them (the file's own `{ lib, config, ... }:`, which _same_binding cannot place) and the
    edit left the function in place: the same ancestors in both trees, both without errors,
    and its body as it was. Typing an argument there read the whole file's facts again
    (12 ms for wireguard). `new`: as for _same_binding."""
    if new_tree.root_node.has_error or old_tree.root_node.has_error:
        return None
    new = new if new is not None else _ancestry(new_tree.root_node, low, high)
    depth = max((at for at, node in enumerate(new) if node.type == "formals"), default=-1)
    if depth < 1 or any(node.type == "binding" for node in new[:depth]) or new[depth - 1].type != "function_expression":
        return None
    old = _ancestry(old_tree.root_node, low, high)
    if len(old) <= depth or old[depth].type != "formals" or not _alike_all(new[:depth], old[:depth]):
        return None
    body, old_body = new[depth - 1].child_by_field_name("body"), old[depth - 1].child_by_field_name("body")
    if body is None or old_body is None or not _alike(body, old_body) or new[depth].start_byte != old[depth].start_byte:
        return None
    return new[: depth + 1]


def _alike(node: Node, old: Node) -> bool:
    return node.type == old.type and node.start_byte == old.start_byte and node.end_byte == old.end_byte


def _alike_all(nodes: list[Node], old: list[Node]) -> bool:
    """_alike, node by node (a loop: this runs on every keystroke)."""
    for node, before in zip(nodes, old):
        if node.type != before.type or node.start_byte != before.start_byte or node.end_byte != before.end_byte:
            return False
    return True


@dataclass
class Touched:
    """Where one edit changed a tree, for the facts kept across it (queries.py, duplicates.py).

    Outside the ranges tree-sitter reports as changed, every node keeps its ancestors, so
    what was found there is the old finding moved by the edit. What changed lies in the
    span [span_start, span_end) of the new tree, within `region`: the innermost `binding`
    holding it (or only its key or the formals of the function it binds, when the change
    lies there and left what follows as it was), or, for a change between bindings (typing
    a new one), the set's bindings around it. Whatever lies in the span is read again;
    None: read everything again.
    """

    start: int
    old_end: int
    new_end: int
    region: Node | None
    span_start: int = 0
    span_end: int = 0
    # the region's ancestors from the root down (not including it) when known: climbing
    # with `.parent` costs the depth at each step
    ancestors: list[Node] | None = None
    removed: bytes | None = None  # the bytes the edit replaced, when known
    # Only a name an expression reads changed, within [start, new_end): the tree is the same,
    # every fact is the old one moved (see _renamed_name)
    name_only: bool = False

    @classmethod
    def of(cls, new_tree: tree_sitter.Tree, text: bytes, old_tree: tree_sitter.Tree, start: int, old_end: int, new_end: int, removed: bytes | None = None) -> "Touched":
        touched = cls._of(new_tree, text, old_tree, start, old_end, new_end, removed)
        touched.removed = removed
        return touched

    @classmethod
    def _of(cls, new_tree: tree_sitter.Tree, text: bytes, old_tree: tree_sitter.Tree, start: int, old_end: int, new_end: int, removed: bytes | None = None) -> "Touched":
        low, high = max(0, start - 1), min(len(text), new_end + 1)
        broken = new_tree.root_node.has_error or old_tree.root_node.has_error  # then neither narrows
        new = None if broken else _ancestry(new_tree.root_node, low, high)  # read once for both
        same = _same_binding(new_tree, old_tree, low, high, new)
        if same is not None:
            path, old_binding = same
            kept = path[-1]
            part = _narrowed(kept, old_binding, start, new_end)
            if part is not None and part.type == "attrpath":  # a key: what follows it is as it was, moved
                return cls(start, old_end, new_end, part, part.start_byte, part.end_byte, path)
            down = _renamed_name(path, text, start, new_end, removed, old_tree)
            if down is not None:  # a name that is no key: nothing to read again
                return cls(start, old_end, new_end, down[-1], start, new_end, down[:-1], name_only=True)
            if part is not None:  # the formals of a function it binds: read them again
                return cls(start, old_end, new_end, part, part.start_byte, part.end_byte, path)
            return cls(start, old_end, new_end, kept, kept.start_byte, kept.end_byte, path[:-1])
        outer = _outer_formals(new_tree, old_tree, low, high, new)
        if outer is not None:  # the file's own function's formals: what follows them is as it was, moved
            formals = outer[-1]
            return cls(start, old_end, new_end, formals, formals.start_byte, formals.end_byte, outer[:-1])
        low, high = start, new_end
        for changed in old_tree.changed_ranges(new_tree):
            low, high = min(low, changed.start_byte), max(high, changed.end_byte)
        # one byte either side: a token that ends or starts at the edit belongs to it
        low, high = max(0, low - 1), min(len(text), high + 1)
        around = new_tree.root_node.descendant_for_byte_range(low, high)
        binding = binding_of(around)
        if binding is not None:
            return cls(start, old_end, new_end, binding, binding.start_byte, binding.end_byte)
        container = binding_of(around, ("binding_set",))
        if container is None and around is not None and around.type in ("attrset_expression", "rec_attrset_expression"):
            # at the edge of a set (typing before its `}`): its bindings, when all else is braces
            if all(c.type in ("{", "}", "rec", "binding_set", "comment") for c in around.children):
                container = next((c for c in around.children if c.type == "binding_set"), None)
        if container is None:
            return cls(start, old_end, new_end, None)
        around = container
        for child in around.children:  # the bindings the change touches are read whole
            if child.end_byte >= low and child.start_byte <= high:
                low, high = min(low, child.start_byte), max(high, child.end_byte)
        return cls(start, old_end, new_end, around, low, high)

    @property
    def delta(self) -> int:
        return self.new_end - self.old_end

    @property
    def stale_end(self) -> int:
        """Where the span ended before the edit."""
        return self.span_end - self.delta

    def move(self, at: int) -> int:
        """An offset before the edit, after it (for offsets outside the edited bytes)."""
        return at if at < self.start else at + self.delta


def difference(old: bytes, new: bytes) -> tuple[int, int, int]:
    """The one edit that makes `new` of `old`: [start, old_end) of old becomes [start, new_end)."""
    limit = min(len(old), len(new))
    low, high = 0, limit  # the common prefix, by halving (each comparison is one memcmp)
    while low < high:
        middle = (low + high + 1) // 2
        if old[:middle] == new[:middle]:
            low = middle
        else:
            high = middle - 1
    start = low
    low, high = 0, limit - start  # the common suffix, apart from the prefix
    while low < high:
        middle = (low + high + 1) // 2
        if old[len(old) - middle :] == new[len(new) - middle :]:
            low = middle
        else:
            high = middle - 1
    return start, len(old) - low, len(new) - low


def places(text: bytes, needle: bytes, low: int = 0, high: int | None = None) -> list[int]:
    """Where text[low:high] spells `needle`: the start of each occurrence, ascending."""
    high = len(text) if high is None else high
    found = []
    at = text.find(needle, low, high)
    while at != -1:
        found.append(at)
        at = text.find(needle, at + 1, high)
    return found


def _places_after_edit(before: list[int], text: bytes, needle: bytes, start: int, old_end: int, new_end: int) -> list[int]:
    """`places(text, needle)` after the edit [start, old_end) -> [start, new_end), from the
    places before it: those ending before the edit are kept, those after it are moved, and
    only the bytes where an occurrence could overlap the edit are searched."""
    width, delta = len(needle), new_end - old_end
    low = max(0, start - width + 1)
    kept = bisect.bisect_left(before, low)
    after = bisect.bisect_left(before, old_end)
    around = places(text, needle, low, min(len(text), new_end + width - 1))
    moved = [at + delta for at in before[after:]] if delta else before[after:]
    return before[:kept] + around + moved


class SyntaxTree:
    """One document's text and tree, updated by edits with incremental reparses."""

    RECOVER = True  # read half-typed text around its broken spots (bench/halftyped.py turns it off)

    def __init__(self, text: str | bytes, parser: tree_sitter.Parser | None = None):
        self.parser = parser or new_parser()
        self.text = text.encode("utf-8", errors="surrogateescape") if isinstance(text, str) else text
        # Offsets and lengths of the bytes the parser sees differently from the text.
        self._repaired: list[tuple[int, int]] = []
        self._parse_text = self.text
        self.tree = self.parser.parse(self._parse_text)
        self._repair()
        self._line_index: LineIndex | None = None
        self._recovery: Recovery | None | bool = False  # False: not computed yet
        # Facts of the tree kept across edits (the query index, duplicates): each is found
        # again after an edit only where the edit touched (see Touched). They are facts of
        # the model's tree: the parser's own, or on half-typed text the recovered one.
        self._facts: dict[str, object] = {}
        self._recovered_facts: set[str] = set()  # those read from a recovered tree
        self._facts_before_edit: dict[str, object] = {}
        self._recovered_before_edit: set[str] = set()
        self._last_edit: tuple | None = None  # (old tree, start, old end, new end): the parser's
        self._repairs_follow = False  # the parser saw repaired bytes alike before and after it
        self._touched: Touched | None = None
        self._recovery_before_edit: Recovery | None = None
        self._model_edit: tuple | None = None  # as _last_edit, from that recovery to this one
        self._model_touched: Touched | None = None
        self._spelled: dict[bytes, list[int]] = {}  # see spelled
        self._spelled_before_edit: dict[bytes, list[int]] = {}

    def spelled(self, needle: bytes) -> list[int]:
        """Where the text spells `needle` (each start, ascending), kept across an edit: the
        old places are kept or moved and only the bytes around the edit are searched (one
        search of wireguard's 29 KB for a word it lacks costs 12 us; a keystroke's checks
        ask for about a dozen words)."""
        found = self._spelled.get(needle)
        if found is None:
            before = self._spelled_before_edit.get(needle)
            edit = self._last_edit
            if before is None or edit is None:
                found = places(self.text, needle)
            else:
                found = _places_after_edit(before, self.text, needle, edit[1], edit[2], edit[3])
            self._spelled[needle] = found
        return found

    def spells(self, needle: bytes) -> bool:
        """Whether the text holds `needle` anywhere (see spelled)."""
        return bool(self.spelled(needle))

    def _fact(self, name: str, kind):
        """A fact of the tree: kind.build(model_root, text), or the previous one updated."""
        fact = self._facts.get(name)
        if fact is None:
            recovery = self.recovery
            previous = self._facts_before_edit.pop(name, None)
            touched = None
            if previous is not None and name in self._recovered_before_edit:
                # recovered then and now: the two recovered trees are related by one edit
                if recovery is not None and self._model_edit is not None:
                    if self._model_touched is None:
                        self._model_touched = Touched.of(recovery.tree, recovery.text, *self._model_edit)
                    touched = self._model_touched
            elif previous is not None and recovery is None and self._last_edit is not None and self._repairs_follow:
                if self._touched is None:
                    self._touched = Touched.of(self.tree, self.text, *self._last_edit)
                touched = self._touched
            if touched is not None:
                fact = previous.updated(touched, recovery.tree if recovery is not None else self.tree, self.text)
            else:
                fact = kind.build(self.model_root, self.text)  # what the model reads
            self._facts[name] = fact
            if recovery is not None:
                self._recovered_facts.add(name)
            else:
                self._recovered_facts.discard(name)
        return fact

    @property
    def index(self):
        """Calls, selections and variables of the tree (see queries.py)."""
        index = self._facts.get("index")  # rules ask a few dozen times a keystroke
        if index is None:
            from .queries import SyntaxIndex

            index = self._fact("index", SyntaxIndex)
            index.spelled = self.spelled
        return index

    @property
    def duplicates(self):
        """Attributes defined twice (see duplicates.py)."""
        found = self._facts.get("duplicates")
        if found is None:
            from .duplicates import Duplicates

            found = self._fact("duplicates", Duplicates)
        return found

    @property
    def root(self) -> Node:
        """The parser's own tree of the text, broken spots included (what is under the cursor)."""
        return self.tree.root_node

    @property
    def model_root(self) -> Node:
        """The tree the model reads: on half-typed text, the recovered one (see recover.py).

        Its nodes have the offsets of the real text (broken spots are blanked, not cut), but
        they are not `root`'s nodes: compare the two by offsets, never by node id.
        """
        recovery = self.recovery
        return recovery.tree.root_node if recovery is not None else self.tree.root_node

    @property
    def recovery(self) -> Recovery | None:
        if self._recovery is False:
            recovery = recover(self._parse_text, self.tree, self.parser.parse) if self.RECOVER else None
            if recovery is not None:
                self._repair_recovered(recovery)
                self._follow_recovery_before_edit(recovery)
            self._recovery = recovery
        return self._recovery  # type: ignore[return-value]

    def _follow_recovery_before_edit(self, recovery: Recovery) -> None:
        """Reparse this recovered text over the last one's tree, as an edit from that text.

        The tree is the same as recovery's own parse of the text, but related to the last
        recovered tree, so the facts read from that one follow the edit (while a binding is
        typed, every keystroke's text is half-typed: without this, each one reads the whole
        file again). The edit is where the two recovered texts differ."""
        before = self._recovery_before_edit
        self._model_edit = None
        if before is None:
            return
        start, old_end, new_end = difference(before.text, recovery.text)
        old_tree = before.tree.copy()
        old_tree.edit(start, old_end, new_end, _point(before.text, start), _point(before.text, old_end), _point(recovery.text, new_end))
        recovery.tree = self.parser.parse(recovery.text, old_tree)
        self._model_edit = (old_tree, start, old_end, new_end, before.text[start:old_end])

    def _repair_recovered(self, recovery: Recovery) -> None:
        """Trailing formal commas the broken parse hid (inside its ERROR they are no pattern):
        blanked in the recovered text too, as in the parser's own (same length)."""
        for _ in range(8):
            commas = _trailing_formal_commas(recovery.tree.root_node) if recovery.tree.root_node.has_error else []
            if not commas:
                return
            recovery.text, recovery.tree = _stand_in(recovery.text, recovery.tree, [(offset, b" ") for offset in commas], self.parser)

    @property
    def line_index(self) -> LineIndex:
        if self._line_index is None:
            self._line_index = LineIndex(self.text)
        return self._line_index

    def _repair(self) -> None:
        """Let the parser see pipes and trailing commas as Nix does (same byte length)."""
        self._replace(_pipe_operators(self.tree.root_node, self._parse_text))
        for _ in range(8):  # each round repairs every comma it finds; nesting may need another
            commas = _trailing_formal_commas(self.tree.root_node)
            if not commas:
                return
            self._replace([(offset, b" ") for offset in commas])

    def _replace(self, replacements: list[tuple[int, bytes]]) -> None:
        if not replacements:
            return
        self._parse_text, self.tree = _stand_in(self._parse_text, self.tree, replacements, self.parser)
        self._repaired.extend((offset, len(standin)) for offset, standin in replacements)

    def _show_real(self, offset: int, length: int, text: bytes, lines: LineIndex | None) -> None:
        """Tell the tree the repaired bytes at offset are changed (back to the real text's)."""
        point = lines.point(offset) if lines is not None and lines.lf_only else _point(text, offset)
        end_point = (point[0], point[1] + length)
        self.tree.edit(offset, offset + length, offset + length, point, end_point, end_point)

    def edit(self, start: int, old_end: int, new_text: bytes) -> None:
        """Replace bytes [start, old_end) by new_text and reparse incrementally."""
        old = self.text
        # offsets past the end mean the end (as slicing reads them), for the tree and the
        # places kept across edits alike
        start = min(max(start, 0), len(old))
        old_end = min(max(old_end, start), len(old))
        new = old[:start] + new_text + old[old_end:]
        new_end = start + len(new_text)
        lines = self._line_index
        moved = lines.edited(start, old_end, new_text, new) if lines is not None else None
        if lines is not None and lines.lf_only and moved.lf_only:  # rows without counting every `\n` before
            self.tree.edit(start, old_end, new_end, lines.point(start), lines.point(old_end), moved.point(new_end))
        else:
            self.tree.edit(start, old_end, new_end, _point(old, start), _point(old, old_end), _point(new, new_end))
        delta = len(new_text) - (old_end - start)
        restored = []
        for offset, length in self._repaired:
            if offset + length <= start:
                restored.append((offset, length))
            elif offset >= old_end:
                restored.append((offset + delta, length))
        # Repaired bytes the edit left whole keep their stand-ins, so the parser sees what it
        # saw and is not run once more to put them back: a pipe stays a pipe (inside a string
        # or comment both spellings are text), and a blanked comma still followed by only
        # space and `}` is checked to still end formals after the parse. Whatever else was
        # repaired is shown to the parser as it is again: it may no longer need repair.
        kept: list[tuple[int, bytes]] = []
        for offset, length in restored:
            real = new[offset : offset + length]
            if length == 2 and real in _PIPE_STANDINS:
                kept.append((offset, _PIPE_STANDINS[real]))
            elif real == b"," and _space_then_brace(new, offset + 1):
                kept.append((offset, b" "))
            else:
                self._show_real(offset, length, new, moved)
        parse_text = new
        if kept:
            buf = bytearray(new)
            for offset, standin in kept:
                buf[offset : offset + len(standin)] = standin
            parse_text = bytes(buf)
        old_tree = self.tree
        self.text = new
        self._parse_text = parse_text
        self._repaired = [(offset, len(standin)) for offset, standin in kept]
        self._line_index = moved
        recovery_before = self._recovery
        self._recovery = False
        self.tree = self.parser.parse(parse_text, self.tree)
        ends = [offset for offset, standin in kept if standin == b" " and not _ends_formals(self.tree.root_node, offset)]
        if ends:  # a kept blank no longer ends formals: the parser sees the comma
            buf = bytearray(parse_text)
            for offset in ends:
                self._show_real(offset, 1, new, moved)
                buf[offset : offset + 1] = b","
            self._parse_text = bytes(buf)
            self._repaired = [r for r in self._repaired if r[0] not in ends]
            self.tree = self.parser.parse(self._parse_text, self.tree)
        self._repair()
        # Facts follow one edit at a time: through the parser's trees when the parser saw
        # repaired bytes (blanked commas, pipe stand-ins) at the same places before and after
        # it; through the recovered trees when both texts were half-typed (see _fact).
        self._repairs_follow = sorted(restored) == sorted(self._repaired)
        self._facts_before_edit, self._facts = self._facts, {}
        self._spelled_before_edit, self._spelled = self._spelled, {}
        self._recovered_before_edit, self._recovered_facts = self._recovered_facts, set()
        self._last_edit = (old_tree, start, old_end, new_end, old[start:old_end])
        self._touched = None
        self._recovery_before_edit = recovery_before if isinstance(recovery_before, Recovery) else None
        self._model_edit = None
        self._model_touched = None

    def node_text(self, node: Node) -> str:
        return self.text[node.start_byte : node.end_byte].decode("utf-8", errors="replace")

    def syntax_errors(self, limit: int = 20) -> list[SyntaxError_]:
        """Each broken spot once, where it is: the spots recovery blanked, then what is left."""
        errors: list[SyntaxError_] = []
        recovery = self.recovery
        if recovery is not None:
            for broken in recovery.broken:
                start, end = broken.at or (broken.start, broken.end)
                if broken.message is not None:
                    errors.append(SyntaxError_(start, max(end, start + 1), broken.message))
        for node in _error_nodes(self.model_root):
            if len(errors) >= limit:
                break
            errors.append(describe_error(self, node))
        # Recovery may close what is open after the end of the text: what it finds there
        # is its own doing (the opener is reported already).
        size = len(self.text)
        errors = [e for e in errors if e.start < size or size == 0]
        for error in errors:
            error.end = max(error.start, min(error.end, size))
        errors.sort(key=lambda e: e.start)
        unique = {(e.start, e.end, e.message): e for e in errors}
        return list(unique.values())[:limit]


BINDINGS = ("binding", "inherit", "inherit_from")


def unfold_application(node: Node) -> tuple[Node | None, list[Node]]:
    """`f a b` (tree-sitter nests it as `(f a) b`) -> (f, [a, b])."""
    args: list[Node] = []
    function: Node | None = node
    while function is not None and function.type == "apply_expression":
        argument = function.child_by_field_name("argument")
        if argument is not None:
            args.append(argument)
        function = function.child_by_field_name("function")
    args.reverse()
    return function, args


def binding_set_of(node: Node) -> Node | None:
    """The bindings of a set or a let (its `binding_set`), None when it has none.

    tree-sitter-nix gives it no field name; it is the first named child but for comments
    before it, so the children are read one at a time (not all made for one)."""
    for number in range(node.named_child_count):
        child = node.named_child(number)
        if child.type == "binding_set":
            return child
    return None


def binding_of(node: Node | None, kinds: tuple[str, ...] = ("binding",), limit: int = 64) -> Node | None:
    """The nearest enclosing binding. It is near, and each .parent costs the depth: stay near."""
    for _ in range(limit):
        if node is None or node.type in kinds:
            return node
        node = node.parent
    return None


def _binding_name(tree: SyntaxTree, node: Node | None) -> str | None:
    binding = binding_of(node)
    if binding is None:
        return None
    path = binding.child_by_field_name("attrpath")
    return tree.node_text(path) if path is not None else None


def _token_text(tree: SyntaxTree, node: Node) -> str:
    text = tree.node_text(node).strip()
    first = text.split("\n", 1)[0]
    return first if len(first) <= 20 else first[:20] + "…"


def describe_error(tree: SyntaxTree, node: Node) -> SyntaxError_:
    """Say what is wrong in words a Nix author reads, at the place it is wrong."""
    if node.is_missing:
        missing = node.type
        where = _binding_name(tree, node.parent)
        if missing in (";", "}", "]", ")", "in", ":", "then", "else", "=", "'", '"', "''"):
            after = f" after the binding of `{where}`" if where and missing == ";" else ""
            message = f"expected `{missing}`{after}"
        else:
            message = f"expected {'a name' if missing == 'identifier' else missing}"
            if where:
                message += f" in the binding of `{where}`"
        # A zero-width node: show the error on the character before it.
        start = max(0, node.start_byte - 1) if node.start_byte == node.end_byte else node.start_byte
        return SyntaxError_(start, max(node.end_byte, start + 1), message)

    # An ERROR holding complete bindings (often the whole file): the broken part is
    # what lies between them, not the whole.
    for loose in loose_runs(node, tree.text):
        start, end = loose.at or (loose.start, loose.end)
        return SyntaxError_(start, max(end, start + 1), loose.message or "syntax error")
    text = _token_text(tree, node)
    parent = node.parent
    where = _binding_name(tree, parent)
    # `a = 1\n b = 2;` parses as the application `1 b` with an ERROR at `=`:
    # the author forgot the `;` that ends the previous binding.
    if text.startswith("=") and where and parent is not None:
        previous = node.prev_sibling
        anchor = previous.end_byte if previous is not None else node.start_byte
        binding = binding_of(parent)
        data = tree.text
        line_start = data.rfind(b"\n", 0, node.start_byte) + 1
        if binding is not None and line_start > binding.start_byte:
            # The `;` belongs at the end of the line before the one holding `name =`.
            cut = line_start - 1
            for _ in range(64):  # skip blanks and comments back to the last real token
                while cut > binding.start_byte and data[cut - 1 : cut] in (b" ", b"\t", b"\r", b"\n"):
                    cut -= 1
                last = tree.root.descendant_for_byte_range(cut - 1, cut - 1)
                if last is None or last.type != "comment" or last.start_byte <= binding.start_byte:
                    break
                cut = last.start_byte
            anchor = cut
        return SyntaxError_(
            max(0, anchor - 1), anchor, f"expected `;` after the binding of `{where.split()[0]}`"
        )
    if node.start_byte == node.end_byte:
        return SyntaxError_(max(0, node.start_byte - 1), node.start_byte + 1, "unexpected end of input")
    context = f" in the binding of `{where}`" if where else ""
    if not text:
        message = f"syntax error{context}"
    else:
        message = f"unexpected `{text}`{context}"
    return SyntaxError_(node.start_byte, node.end_byte, message)


MAX_ANCESTORS = 4000  # deeper than this, IDE features give up (hostile input)


def ancestors(root: Node, node: Node, limit: int = MAX_ANCESTORS) -> list[Node] | None:
    """The chain root .. node, found by descending from root with a cursor.

    tree-sitter finds `node.parent` by walking down from the root, so climbing
    parent by parent costs depth squared; one descent costs depth. None when
    node is not below root or lies deeper than `limit`.
    """
    if not (root.start_byte <= node.start_byte and node.end_byte <= root.end_byte):
        if node.type == "ERROR" and node.start_byte <= root.start_byte < node.end_byte:
            # An ERROR of the parser's tree that swallowed root's place (root from the
            # recovered tree of half-typed text, which may close what is open after the
            # end of the text): it stands at root, nowhere deeper.
            return [root]
        return None
    cursor = root.walk()
    chain = [cursor.node]
    # By place and kind, not node id: `node` may come from the recovered tree of half-typed
    # text (SyntaxTree.model_root) while `root` is the parser's own, or the other way round.
    while not (chain[-1].id == node.id or _same_place(chain[-1], node)):
        if len(chain) > limit or cursor.goto_first_child_for_byte(node.start_byte) is None:
            return None
        while not (cursor.node.start_byte <= node.start_byte and node.end_byte <= cursor.node.end_byte):
            if not cursor.goto_next_sibling():
                return None
        chain.append(cursor.node)
    return chain


def _same_place(a: Node, b: Node) -> bool:
    return a.start_byte == b.start_byte and a.end_byte == b.end_byte and a.type == b.type


def walk(root: Node) -> Iterator[Node]:
    """Every node below root in document order, without recursion."""
    cursor = root.walk()
    visited_children = False
    while True:
        if not visited_children:
            yield cursor.node
            if cursor.goto_first_child():
                continue
        if cursor.goto_next_sibling():
            visited_children = False
        elif cursor.goto_parent():
            visited_children = True
        else:
            return

"""Half-typed text: the broken spot, and a text that parses around it.

While a binding is being typed the text rarely parses, and tree-sitter often wraps
everything from the module function to the end of the file in one ERROR node: an
unclosed `{` or an open string swallows the rest. We look for the small broken spots
an author leaves while typing (a string not yet closed, a bracket never closed (by
indentation), a stray closer, loose tokens between complete bindings), blank each one
(spaces: the same length, so every offset stays valid) and keep the blank only when
the reparse is less broken. The result is a tree for the model (the rest of the file
keeps its meaning) and the broken spots, said in words, for the syntax errors.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Callable, Iterator

import tree_sitter
import tree_sitter_nix

Node = tree_sitter.Node

# Walking every node in Python is slow; these searches run in C (inside ERROR nodes too).
_TOKENS = tree_sitter.Query(
    tree_sitter.Language(tree_sitter_nix.language()),
    '["{" "}" "[" "]" "(" ")" "${"] @bracket "\\"" @quote (string_expression) @string',
)


Tokens = dict[str, list[Node]]


def _tokens(root: Node) -> Tokens:
    """Brackets, quotes and strings of a tree, each kind in document order."""
    found = tree_sitter.QueryCursor(_TOKENS).captures(root)
    return {kind: sorted(found.get(kind, ()), key=lambda n: n.start_byte) for kind in ("bracket", "quote", "string")}

MAX_PARSES = 24  # reparses per recovery: typing must stay fast
MAX_BYTES = 512 * 1024
MAX_ERROR_CHILDREN = 2000
MAX_CLOSERS = 64  # closing more than this at the end of the text is not typing but hostile nesting  # larger files are not recovered (their errors are still reported)

_OPENERS = {"{": "}", "[": "]", "(": ")", "${": "}"}
_CLOSERS = ("}", "]", ")")
_CLOSER_BYTES = (b"}", b"]", b")", b"in ", b"in\n")
_BINDINGS = ("binding", "inherit", "inherit_from")
# Children of an ERROR node that are the frame around bindings, not the broken part.
_FRAME = ("formals", ":", "{", "}", "(", ")", "rec", "let", "in", "comment", "@", "identifier")
_NAME_BEFORE = re.compile(rb"([A-Za-z_\"][A-Za-z0-9_.'\"-]*)\s*=\s*$")


@dataclass
class Broken:
    """A broken spot: the bytes to blank and, when it is the error itself, the words.

    With `fill`, the spot is whitespace where a missing token goes: `fill` is written over
    its first bytes instead of blanking (the same length: offsets stay valid)."""

    start: int
    end: int
    message: str | None = None
    at: tuple[int, int] | None = None  # where to show the error (default: start..end)
    fill: bytes = b""


@dataclass
class Recovery:
    text: bytes  # the text the parser saw, broken spots blanked
    tree: tree_sitter.Tree
    broken: list[Broken] = field(default_factory=list)
    tokens: Tokens = field(default_factory=dict, repr=False)


def damage(root: Node, text: bytes, tokens: Tokens) -> int:
    """How broken a tree is: bytes under outermost ERROR nodes, one per MISSING node, and
    the bytes of `"` strings after their first line (on broken text, a string being typed
    that ran on to the next quote of the file)."""
    if not root.has_error:
        return 0
    total = 0
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR":
            total += max(1, node.end_byte - node.start_byte)
            continue
        if node.is_missing:
            total += 1
            continue
        stack.extend(c for c in node.children if c.has_error or c.is_missing)
    for string in tokens["string"]:
        if string.start_point[0] != string.end_point[0]:
            broken_at = _literal_line_break(string, text)
            if broken_at is not None:
                total += string.end_byte - broken_at
    return total


def _literal_line_break(string: Node, text: bytes) -> int | None:
    """Where a `"` string's own text breaks a line (None: it does not).

    A string being typed runs on over lines of code; a line break inside `${ }` is code
    the author wrote across lines (`"${\n  f x\n}"`), not a string running on."""
    for child in string.children:
        if child.type == "string_fragment":
            at = text.find(b"\n", child.start_byte, child.end_byte)
            if at != -1:
                return at
    return None


def _leaves(root: Node) -> Iterator[Node]:
    cursor = root.walk()
    down = True
    while True:
        node = cursor.node
        if down and cursor.goto_first_child():
            continue
        if down and not node.is_missing:
            yield node
        if cursor.goto_next_sibling():
            down = True
        elif cursor.goto_parent():
            down = False
        else:
            return


def _line_start(text: bytes, offset: int) -> int:
    return text.rfind(b"\n", 0, offset) + 1


def _line_end(text: bytes, offset: int) -> int:
    end = text.find(b"\n", offset)
    return len(text) if end == -1 else end


def _indent(text: bytes, offset: int) -> int:
    start = _line_start(text, offset)
    line = text[start:_line_end(text, offset)]
    return len(line) - len(line.lstrip(b" \t"))


def _first_on_line(text: bytes, offset: int) -> bool:
    return not text[_line_start(text, offset) : offset].strip()


def _open_strings(tokens: Tokens, text: bytes) -> Iterator[Broken]:
    """`"...` running over the end of its line: the string being typed swallowed the rest."""
    last_break = text.rstrip().rfind(b"\n")  # the end of the text's last line with content
    # A quote's parent is costly to ask (tree-sitter walks down from the root): the strings'
    # own quotes are known by where the strings start and end.
    starting = {string.start_byte: string for string in tokens["string"]}
    ending = {string.end_byte for string in tokens["string"]}
    for node in tokens["quote"]:
        string = starting.get(node.start_byte)
        if string is None:
            if node.end_byte in ending:
                continue  # the closing quote
            string = node.parent
            if string is None:
                continue
        end = _line_end(text, node.start_byte)
        if string.type == "string_expression":
            if node.start_byte != string.start_byte:
                continue  # the closing quote
            last = string.child(string.child_count - 1) if string.child_count > 1 else None
            closed = last is not None and last.type == '"' and not last.is_missing
            if closed and (string.end_byte <= end or _literal_line_break(string, text) is None):
                continue  # closed on its line, or its lines break in `${ }` (an error inside is not the string's)
        elif string.type != "ERROR":
            continue
        message = "expected `\"` to end the string"
        if last_break < node.end_byte:
            # Typing at the end of the text: close the string after it (no offset moves).
            yield Broken(len(text), len(text), message, (node.start_byte, node.end_byte), fill=b'"')
        at = (node.start_byte, node.end_byte)
        # Mid-text: the string ends where its line does (as the value of a binding, or not).
        for fill in (b'"";', b'""', b""):
            if len(fill) <= end - node.start_byte:
                yield Broken(node.start_byte, end, message, at, fill=fill)


def _brackets(tokens: Tokens, text: bytes) -> Iterator[Broken]:
    """Brackets that do not pair up, judged by indentation as an author writes them.

    A closer that starts its line closes the opener on a line indented as much; openers
    on earlier lines indented deeper were never closed. A closer with nothing to close
    is stray.
    """
    stack: list[Node] = []
    indents: list[int | None] = []  # the indent of each opener's line, once asked
    for leaf in tokens["bracket"]:
        kind = leaf.type
        if leaf.is_missing:
            continue
        if kind in _OPENERS:
            stack.append(leaf)
            indents.append(None)
            continue
        if kind not in _CLOSERS:
            continue
        line_start = _line_start(text, leaf.start_byte)
        before = text[line_start : leaf.start_byte]
        if not before.strip():  # the closer starts its line
            column = len(before) - len(before.lstrip(b" \t"))  # its line's indent
            while stack and stack[-1].start_byte < line_start:
                if indents[-1] is None:
                    indents[-1] = _indent(text, stack[-1].start_byte)
                if indents[-1] <= column:
                    break
                opener = stack.pop()
                indents.pop()
                yield _unclosed(opener, text, line_start)
        if stack and _OPENERS[stack[-1].type] == kind:
            stack.pop()
            indents.pop()
        else:
            yield Broken(leaf.start_byte, leaf.end_byte, f"unexpected `{kind}`")
    if 0 < len(stack) <= MAX_CLOSERS:
        # Typing at the end of the text: close what is open after it (no offset moves).
        innermost = stack[-1]
        closers = "".join(_OPENERS[o.type] for o in reversed(stack))
        yield Broken(
            len(text), len(text), f"expected `{_OPENERS[innermost.type]}` to close this `{innermost.type}`",
            (innermost.start_byte, innermost.end_byte), fill=(" " + closers).encode(),
        )
    for opener in reversed(stack):
        yield _unclosed(opener, text, len(text))


def _unclosed(opener: Node, text: bytes, until: int) -> Broken:
    """An opener never closed: blank from its line's first token to the first line after it
    indented no deeper (the next binding of the enclosing set), or to `until`."""
    line_start = _line_start(text, opener.start_byte)
    column = _indent(text, opener.start_byte)
    start = line_start + column
    line = _line_end(text, opener.start_byte) + 1
    while line < until:
        end = _line_end(text, line)
        content = text[line:end]
        if content.strip() and len(content) - len(content.lstrip(b" \t")) <= column:
            until = line
            break
        line = end + 1
    closer = _OPENERS[opener.type]
    name = _NAME_BEFORE.search(text[start : opener.start_byte])
    what = f"the `{opener.type}` of `{name.group(1).decode('utf-8', 'replace')}`" if name else f"this `{opener.type}`"
    return Broken(start, until, f"expected `{closer}` to close {what}", (opener.start_byte, opener.end_byte))


def loose_runs(root: Node, text: bytes) -> Iterator[Broken]:
    """Tokens between the complete bindings that tree-sitter kept inside an ERROR node."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type != "ERROR":
            stack.extend(c for c in node.children if c.has_error)
            continue
        children = node.children
        if not any(c.type in _BINDINGS for c in children):
            continue  # a small ERROR: the bindings around it are read as they are
        run: list[Node] = []
        for child in children + [None]:
            if child is None or child.type in _BINDINGS or (not run and child.type in _FRAME):
                if run:
                    yield _loose(run, text)
                    run = []
                continue
            run.append(child)


def _loose(run: list[Node], text: bytes) -> Broken:
    """A binding left half-typed between complete ones, in words."""
    start, end = run[0].start_byte, run[-1].end_byte
    kinds = [n.type for n in run]
    name = text[run[0].start_byte : run[0].end_byte].decode("utf-8", "replace")
    if kinds[0] == "attrpath":
        if kinds == ["attrpath"]:
            return Broken(start, end, f"expected `=` after `{name}`", (start, end))
        if kinds == ["attrpath", "="]:
            return Broken(start, end, f"expected a value after `{name} =`", (run[1].start_byte, end))
        if len(kinds) == 3 and kinds[1] == "=":
            return Broken(start, end, f"expected `;` after the binding of `{name}`", (end - 1, end))
    first = text[start : _line_end(text, start)].strip().decode("utf-8", "replace")
    first = first if len(first) <= 20 else first[:20] + "…"
    return Broken(start, end, f"unexpected `{first}`", (start, min(end, _line_end(text, start))))


def _hostile(root: Node) -> bool:
    """Thousands of tokens in one broken run (`[[[[…`) are no typing, and tree-sitter's
    queries over them take seconds: such text is left as the parser read it."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.child_count > MAX_ERROR_CHILDREN and (node.type == "ERROR" or node.parent is None):
            return True
        if node.type != "ERROR":
            stack.extend(c for c in node.children if c.has_error)
    return False


def _candidates(recovery: Recovery) -> Iterator[Broken]:
    """Spots worth blanking, the likeliest first (generated only as far as they are tried)."""
    root = recovery.tree.root_node
    yield from _open_strings(recovery.tokens, recovery.text)
    yield from _brackets(recovery.tokens, recovery.text)
    yield from _swallowing_bindings(root, recovery.text)
    yield from loose_runs(root, recovery.text)


def _point(text: bytes, offset: int) -> tuple[int, int]:
    return (text.count(b"\n", 0, offset), offset - _line_start(text, offset))


def _blank(text: bytes, broken: Broken) -> bytes:
    blanked = bytearray(text)
    for i in range(broken.start, broken.end):
        if blanked[i] not in (0x0A, 0x0D):  # keep lines where they are
            blanked[i] = 0x20
    if broken.fill:
        blanked[broken.start : broken.start + len(broken.fill)] = broken.fill
    return bytes(blanked)


def _swallowing_bindings(root: Node, text: bytes) -> Iterator[Broken]:
    """A binding left unfinished runs on into the next one (`roles.agent⏎  perMachine = …`).

    A broken binding holding a later line indented no deeper than its own first line has
    swallowed a sibling: end it with `;` where it stops (when there is room), else blank it.
    """
    found = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or not (node.has_error or node.is_missing):
            continue
        stack.extend(reversed(node.children))
        if node.type == "binding" and _first_on_line(text, node.start_byte):
            found.append(node)
    for node in reversed(found):  # the innermost first: the smallest blank that helps
        column = _indent(text, node.start_byte)
        line = _line_end(text, node.start_byte) + 1
        while line < node.end_byte:
            end = _line_end(text, line)
            content = text[line:end]
            stripped = content.strip()
            if stripped and not stripped.startswith(_CLOSER_BYTES) and len(content) - len(content.lstrip(b" \t")) <= column:
                break
            line = end + 1
        else:
            continue
        name = node.child_by_field_name("attrpath")
        label = text[name.start_byte : name.end_byte].decode("utf-8", "replace") if name is not None else "this binding"
        last = node.start_byte
        for leaf in _leaves(node):  # the end of the last token before that line, comments aside
            if leaf.start_byte >= line:
                break
            if leaf.type != "comment" and leaf.end_byte > leaf.start_byte:
                last = leaf.end_byte
        at = (max(node.start_byte, last - 1), last)
        after_path = name is not None and last <= name.end_byte
        message = f"expected `=` after `{label}`" if after_path else f"expected `;` after the binding of `{label}`"
        if not after_path and text[last : last + 1] in (b" ", b"\t", b"\r", b"\n"):
            yield Broken(last, line, message, at, fill=b";")
        yield Broken(node.start_byte, line, message, at)


def recover(text: bytes, tree: tree_sitter.Tree, parse: Callable[..., tree_sitter.Tree]) -> Recovery | None:
    """Blank broken spots while each makes the tree less broken.

    One spot often hides another (a string being typed inside a set not yet closed), so a
    blank that does not help alone is kept when one more blank after it does.
    """
    if not tree.root_node.has_error or len(text) > MAX_BYTES or _hostile(tree.root_node):
        return None
    tokens = _tokens(tree.root_node)
    current = Recovery(text, tree, [], tokens)
    best = damage(tree.root_node, text, tokens)
    budget = [MAX_PARSES]
    tried: set[tuple[int, int, bytes]] = set()

    def attempt(base: Recovery, broken: Broken) -> tuple[Recovery, int] | None:
        if (broken.end <= broken.start and not broken.fill) or budget[0] <= 0:
            return None
        budget[0] -= 1
        new_text = _blank(base.text, broken)
        # An incremental reparse: only the blanked bytes changed (or were added at the end).
        old_end = min(max(broken.end, broken.start + len(broken.fill)), len(base.text))
        new_end = old_end + len(new_text) - len(base.text)
        old_tree = base.tree.copy()
        old_tree.edit(
            broken.start, old_end, new_end,
            _point(base.text, broken.start), _point(base.text, old_end), _point(new_text, new_end),
        )
        new_tree = parse(new_text, old_tree)
        new_tokens = _tokens(new_tree.root_node)
        return Recovery(new_text, new_tree, base.broken + [broken], new_tokens), damage(new_tree.root_node, new_text, new_tokens)

    # Recovery mends what is being typed; blanking most of a file is no mending.
    allowed = max(64, len(b"".join(text.split())) // 2)  # bytes other than whitespace

    def kept(step: tuple[Recovery, int] | None) -> bool:
        if step is None or step[1] >= best:
            return False
        lost = sum(len(text[b.start : b.end].replace(b" ", b"").replace(b"\n", b"").replace(b"\t", b"")) for b in step[0].broken)
        return lost <= allowed

    while best and budget[0] > 0:
        improved = None
        for candidate in _candidates(current):
            key = (candidate.start, candidate.end, candidate.fill)
            if key in tried:
                continue
            tried.add(key)
            step = attempt(current, candidate)
            if step is None:
                break
            if kept(step):
                improved = step
                break
            for follow in itertools.islice(_candidates(step[0]), 3):
                second = attempt(step[0], follow)
                if kept(second):
                    improved = second
                    break
            if improved is not None:
                break
        if improved is None:
            break
        current, best = improved
    return current if current.broken else None

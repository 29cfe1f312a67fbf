"""Rules Nix's own parser enforces before anything is evaluated.

duplicate-attribute: Nix rejects a set (or `let`, or `rec` set) that defines an attribute
twice, with `attribute 'x' already defined at <file>:<line>:<col>`. What counts as twice
follows Nix's parser (checked with `nix-instantiate --parse`, Nix 2.8):

- `a.b = 1; a.c = 2;` builds one set `a`: no duplicate; `a.b = 1; a.b = 2;` is one.
- a path may go through a name only while that name holds a set literal (`{ }`, `rec { }`,
  in parentheses or not), or a set made by another dotted path: `a = { b = 1; }; a.c = 2;`
  is fine, `a = lib.mkIf c { }; a.c = 2;` and `a = 1; a.c = 2;` are duplicates of `a.c`;
- two set literals for one name are merged (`a = { b = 1; }; a = { c = 2; };`), but only
  their own names: a name in both is a duplicate even if both are sets again;
- `inherit a;` defines `a` like a binding; `"a"` and `${"a"}` are the name `a`; a name
  computed from a variable (`${x}`) is never a duplicate.

Nix stops at the first duplicate; every one is reported here, each where Nix would put it
with Nix's words as clan's message (for merged literals Nix names the earlier definition's
place "at" and the later one "already defined at").
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Iterator

from ..model import SourceFile
from ..syntax import Node
from ..syntax.parse import walk
from .base import ERROR, Context, Finding, rule

_SCOPES = ("attrset_expression", "rec_attrset_expression", "let_expression", "let_attrset_expression")
_LITERALS = ("attrset_expression", "rec_attrset_expression")


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
                bindings = _binding_set(literal)
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


def _binding_set(node: Node) -> Node | None:
    bindings = node.child_by_field_name("bindings")
    if bindings is not None:
        return bindings
    for child in node.named_children:
        if child.type == "binding_set":
            return child
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


def _read(bindings: Node, text: bytes, attrs: _Attrs, found: list[_Duplicate] | None) -> None:
    """Add a binding_set's names to `attrs` as Nix's parser does, noting each duplicate."""

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
                inner = _binding_set(literal)
                if inner is not None:
                    _read(inner, text, incoming, None)
                for inner_name, inner_entry in incoming.names.items():
                    if inner_name in below.names:
                        duplicate(below.names[inner_name].node, inner_name, inner_entry.node)
                    else:
                        below.names[inner_name] = inner_entry
            else:
                duplicate(path, shown, entry.node)


def duplicates(root: Node, text: bytes) -> Iterator[_Duplicate]:
    """Every attribute a set, `rec` set or `let` of the file defines twice, in Nix's terms."""
    for node in walk(root):
        if node.type not in _SCOPES:
            continue
        bindings = _binding_set(node)
        if bindings is None:
            continue
        found: list[_Duplicate] = []
        _read(bindings, text, _Attrs(), found)
        yield from found


def _line_column(source: SourceFile, node: Node) -> tuple[int, int]:
    """1-based, as Nix counts: the column in bytes."""
    index = source.tree.line_index
    line = index.line_of(node.start_byte)
    return line + 1, node.start_byte - index.line_starts[line] + 1


def duplicate_findings(source: SourceFile) -> list[Finding]:
    """duplicate-attribute findings of one file (any .nix file: Nix's parser rejects them all)."""
    path = os.path.abspath(source.path) if source.path else "«string»"
    findings = []
    for d in duplicates(source.tree.model_root, source.text):
        line, column = _line_column(source, d.previous)
        findings.append(
            Finding(
                "duplicate-attribute",
                ERROR,
                d.node.start_byte,
                d.node.end_byte,
                f"`{d.name}` is defined twice in one set; the other definition is on line {line}",
                source.path,
                clan_message=f"attribute '{d.name}' already defined at {path}:{line}:{column}",
            )
        )
    return findings


@rule("duplicate-attribute", ERROR, None, "an attribute defined twice in one set, which Nix rejects before evaluating")
def duplicate_attribute(ctx: Context) -> None:
    seen: set[int] = set()
    for part in ctx.module.parts():
        if id(part.source) in seen:
            continue
        seen.add(id(part.source))
        for finding in duplicate_findings(part.source):
            finding.catalogue = ctx.rule.catalogue if ctx.rule else None
            ctx.findings.append(finding)

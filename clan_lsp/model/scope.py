"""Lexical scope: which identifier binds a variable (function formals, let, rec)."""

from __future__ import annotations

from dataclasses import dataclass

from ..syntax import Node
from ..syntax.parse import ancestors


@dataclass
class Scope:
    """A name bound in the file, for go-to-definition of variables."""

    name: str
    binder: Node  # identifier that binds it
    owner: Node  # the function, let or rec set that binds it


def binder_of(variable: Node, text: bytes, root: Node) -> Scope | None:
    """The identifier that binds a variable, by Nix's lexical rules (without `with`)."""
    chain = ancestors(root, variable)
    if chain is None:
        return None
    name = text[variable.start_byte : variable.end_byte]
    for depth in range(len(chain) - 1, 0, -1):
        child, current = chain[depth], chain[depth - 1]
        kind = current.type
        if kind == "function_expression":
            body = current.child_by_field_name("body")
            if body is not None and child.id == body.id:
                formals = current.child_by_field_name("formals")
                universal = current.child_by_field_name("universal")
                if universal is not None and text[universal.start_byte : universal.end_byte] == name:
                    return Scope(name.decode(), universal, current)
                if formals is not None:
                    for formal in formals.named_children:
                        ident = formal.child_by_field_name("name") if formal.type == "formal" else None
                        if ident is not None and text[ident.start_byte : ident.end_byte] == name:
                            return Scope(name.decode(), ident, current)
        elif kind in ("let_expression", "rec_attrset_expression"):
            for bindings in current.named_children:
                if bindings.type != "binding_set":
                    continue
                for binding in bindings.named_children:
                    if binding.type == "binding":
                        path = binding.child_by_field_name("attrpath")
                        first = path.named_children[0] if path is not None and path.named_children else None
                        if first is not None and first.type == "identifier" and text[first.start_byte : first.end_byte] == name:
                            return Scope(name.decode(), first, current)
                    elif binding.type in ("inherit", "inherit_from"):
                        attrs = binding.child_by_field_name("attrs")
                        for attr in attrs.named_children if attrs is not None else ():
                            if text[attr.start_byte : attr.end_byte] == name:
                                return Scope(name.decode(), attr, current)
    return None

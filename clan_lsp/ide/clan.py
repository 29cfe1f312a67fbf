"""Clan configuration files: where the cursor is in the clan namespace, and what is there.

A file is a clan file when the workspace's clans list it as a part (`clan.nix` imported by
`lib.clan`, flake-parts `clan`, `inventory = import ./x.nix`). Positions are named by their
path from the clan's top (`inventory.instances.<i>.roles.<r>.settings`), and every answer
(completion, hover, definition, references) is read off that path and the index.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ..semantics.instances import resolve_instance
from ..model import SourceFile
from ..model.interface import role_names, role_options
from ..spec import schema
from ..syntax import Node
from .locate import Body, Key, node_at, steps_to

_FIELD_TYPES = ("exportInterfaces",)


@dataclass
class Root:
    """A clan part (or an imported inventory) in this file: its node and its clan path."""

    node: Node
    prefix: tuple[str, ...]


def roots_in(index, source: SourceFile) -> list[Root]:
    if index is None:
        return []
    found = []
    # only parts read from this very text: a half-typed file's last good parts have stale nodes
    for clan in index.clans:
        for part in clan.parts:
            if part.source is source and part.value.node is not None:
                found.append(Root(part.value.node, ()))
        for inventory in clan.inventories:
            if inventory.source is source and inventory.key_node is None and inventory.value.node is not None:
                found.append(Root(inventory.value.node, ("inventory",)))
    return found


def is_clan_file(index, source: SourceFile) -> bool:
    return index is not None and source.path in index.indexed


def path_at(index, source: SourceFile, offset: int, prefer_right: bool = False, node: Node | None = None) -> list[str] | None:
    """The clan path of the set around the cursor; None outside the clan's parts.

    Function bodies are transparent (`exportInterfaces.x = { lib, ... }: { options... }`);
    anything else we cannot name (a let, a call) ends the path.
    """
    target = node or node_at(source, offset, prefer_right)
    best: tuple[int, list[str]] | None = None
    for root in roots_in(index, source):
        if not (root.node.start_byte <= offset <= root.node.end_byte):
            continue
        steps, reached = steps_to(target, root.node, source.text, offset)
        if not reached:
            continue
        keys: list[str] = list(root.prefix)
        for step in steps:
            if isinstance(step, Body):
                continue
            if not isinstance(step, Key) or step.name is None:
                return None
            keys.append(step.name)
        size = root.node.end_byte - root.node.start_byte
        if best is None or size < best[0]:
            best = (size, keys)
    if best is None and is_clan_file(index, source) and source.tree.root.has_error:
        # half-typed: the file is a clan part that does not read right now, and tree-sitter
        # flattens the broken set into one ERROR; name the place from the tokens before the
        # cursor, with the prefix the file's last good part had
        keys = keys_before(source.text, offset)
        return None if keys is None else list(_stale_prefix(index, source)) + keys
    return best[1] if best else None


_TOKEN = re.compile(
    rb"""(?P<skip>\s+|\#[^\n]*|/\*.*?\*/)|(?P<string>"(?:[^"\\]|\\.)*"?|''(?:[^']|'(?!'))*(?:'')?)"""
    rb"""|(?P<name>[A-Za-z_][A-Za-z0-9_'-]*)|(?P<dots>\.\.\.)|(?P<punct>[{}\[\]();=.:,])|(?P<other>.)""",
    re.S,
)


def keys_before(text: bytes, offset: int, strings: dict | None = None) -> list[str] | None:
    """The attribute path of the set the cursor is in, from the tokens before it.

    A small bracket matcher: `a.b = {` opens a set named a.b, a function body is the set it
    belongs to, anything else (a call, a list, a let) is a place we cannot name (None).
    `strings`, when given, receives the string literals bound on the way, by full path.
    """
    frames: list[list | None] = [[]]  # the keys of each open set; None: not a set we can name
    attrpath: list[str] = []
    in_value = False  # after `=` of the binding being read
    value_tokens = 0
    for match in _TOKEN.finditer(text, 0, offset):
        kind = match.lastgroup
        token = match.group(kind)
        if kind == "skip":
            continue
        if token == b"{":
            top = frames[-1]
            if top is not None and (not in_value or value_tokens == 0):
                frames.append(top + attrpath if in_value else list(top))
            else:
                frames.append(None)
            attrpath, in_value, value_tokens = [], False, 0
            continue
        if token in (b"}", b"]", b")"):
            if len(frames) > 1:
                frames.pop()
            attrpath, in_value, value_tokens = [], False, 0
            continue
        if token in (b"[", b"("):
            frames.append(None)
            continue
        if token == b";":
            attrpath, in_value, value_tokens = [], False, 0
        elif in_value and kind == "string" and value_tokens == 0 and strings is not None and frames[-1] is not None:
            strings[tuple(frames[-1] + attrpath)] = token.strip(b'"').decode("utf-8", "replace")
            value_tokens += 1
        elif token == b"=":
            in_value, value_tokens = True, 0
        elif in_value:
            value_tokens += 1
            if token == b":" and frames[-1] is not None:
                value_tokens = 0  # a function: its body is the value
        elif kind == "name":
            attrpath.append(token.decode("utf-8", "replace"))
        elif kind == "string":
            attrpath.append(token.strip(b'"').decode("utf-8", "replace"))
    top = frames[-1]
    if top is None or in_value:
        return None
    return list(top)


def _stale_prefix(index, source: SourceFile) -> tuple[str, ...]:
    for clan in index.clans:
        for inventory in clan.inventories:
            if inventory.source.path == source.path and inventory.key_node is None:
                return ("inventory",)
    return ()


def instance(index, source: SourceFile, name: str):
    for declared in index.instances:
        if declared.name == name and declared.source.path == source.path:
            return declared
    return None


def resolved(index, source: SourceFile, name: str, offset: int | None = None):
    """An instance and its module; for a half-typed instance the index does not have yet,
    its `module` as far as it is typed before `offset`."""
    declared = instance(index, source, name)
    if declared is None and offset is not None:
        declared = _typed_instance(index, source, name, offset)
    return declared, (resolve_instance(index, declared) if declared is not None else None)


def _typed_instance(index, source: SourceFile, name: str, offset: int):
    from ..model import load_source
    from ..workspace.index import InstanceDecl

    strings: dict = {}
    keys_before(source.text, offset, strings)
    module = {k[-1]: v for k, v in strings.items() if k[-4:-1] == ("instances", name, "module")}
    if "name" not in module:
        return None
    text = "{ module = { " + " ".join(f"{k} = {json.dumps(v)};" for k, v in module.items()) + " }; }"
    value = load_source(text).value
    return InstanceDecl(name, source, None, value, None) if hasattr(value, "get") else None


# ---------------------------------------------------------------- options along a clan path


def options_at(path: list[str]) -> tuple[schema.Option, ...] | None:
    """The clan options that may be set at a path (None: not options, e.g. names)."""
    if not path:
        return schema.CLAN
    head, rest = path[0], path[1:]
    if head == "meta" and not rest:
        return schema.META_FIELDS
    if head != "inventory":
        return None
    if not rest:
        return schema.INVENTORY
    if rest[0] == "meta" and len(rest) == 1:
        return schema.META_FIELDS
    if rest[0] == "machines" and len(rest) == 2:
        return schema.INVENTORY_MACHINE
    if rest[0] == "machines" and len(rest) == 3 and rest[2] == "deploy":
        return next(o for o in schema.INVENTORY_MACHINE if o.name == "deploy").children
    if rest[0] == "instances" and len(rest) == 2:
        return schema.INSTANCE
    if rest[0] == "instances" and len(rest) == 3 and rest[2] == "module":
        return schema.INSTANCE_MODULE
    if rest[0] == "instances" and len(rest) == 4 and rest[2] == "roles":
        return schema.INSTANCE_ROLE
    return None


def option_named(path: list[str]) -> schema.Option | None:
    """The option a full path names (its last key), when it is one of clan's."""
    options = options_at(path[:-1])
    if options is None:
        return None
    return next((o for o in options if o.name == path[-1]), None)


def role_at(path: list[str]) -> tuple[str, str] | None:
    """(instance, role) for a path inside `inventory.instances.<i>.roles.<r>`."""
    if len(path) >= 5 and path[:2] == ["inventory", "instances"] and path[3] == "roles":
        return path[2], path[4]
    return None


def is_settings(path: list[str]) -> bool:
    """`roles.<r>.settings` or `roles.<r>.machines|tags.<m>.settings`."""
    if role_at(path) is None:
        return False
    tail = path[5:]
    return tail == ["settings"] or (len(tail) == 3 and tail[0] in ("machines", "tags") and tail[2] == "settings")


def tags(index) -> list[str]:
    """Tags in use: clan's computed ones and every tag machines carry."""
    found = dict.fromkeys(schema.IMPLICIT_TAGS)
    for inventory in index.inventories:
        machines = inventory.value.get("machines")
        if not hasattr(machines, "names"):
            continue
        for name in machines.names():
            listed = machines.path(name, "tags")
            for item in getattr(listed, "items", lambda: [])():
                text = getattr(item, "text", None)
                if isinstance(text, str):
                    found.setdefault(text, None)
    return list(found)


def role_option(module, role: str, name: str):
    return next((o for o in role_options(module, role) if o.name == name), None)


def role_node(module, role: str):
    return [(s, n) for r, n, s in role_names(module) if r == role and n is not None]

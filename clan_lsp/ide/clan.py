"""Clan configuration files: where the cursor is in the clan namespace, and what is there.

A file is a clan file when the workspace's clans list it as a part (`clan.nix` imported by
`lib.clan`, flake-parts `clan`, `inventory = import ./x.nix`). Positions are named by their
path from the clan's top (`inventory.instances.<i>.roles.<r>.settings`), and every answer
(completion, hover, definition, references) is read off that path and the index.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..checks.inventory import resolve_instance
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
    for clan in index.clans:
        for part in clan.parts:
            if part.source.path == source.path and part.value.node is not None:
                found.append(Root(part.value.node, ()))
        for inventory in clan.inventories:
            if inventory.source.path == source.path and inventory.key_node is None and inventory.value.node is not None:
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
        # half-typed: the file is a clan part whose set does not parse right now
        steps, _ = steps_to(target, source.tree.root, source.text, offset)
        keys = [s.name for s in steps if isinstance(s, Key) and s.name is not None]
        return keys
    return best[1] if best else None


def instance(index, source: SourceFile, name: str):
    for declared in index.instances:
        if declared.name == name and declared.source.path == source.path:
            return declared
    return None


def resolved(index, source: SourceFile, name: str):
    declared = instance(index, source, name)
    return declared, (resolve_instance(index, declared) if declared is not None else None)


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

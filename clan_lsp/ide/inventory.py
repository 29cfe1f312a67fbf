"""Completion and navigation inside `inventory` (needs the workspace index)."""

from __future__ import annotations

import re

from ..checks.inventory import INSTANCE_KEYS, ROLE_KEYS, resolve_instance
from ..model import SourceFile
from ..model.interface import role_names, role_options
from ..spec import schema
from ..syntax import Node
from .items import FIELD, MODULE, PROPERTY, VARIABLE, Completion, Location
from .locate import Key, node_at, steps_to

_STRING_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_.'-]*)\s*=\s*\"([^\"]*)$")


def _inventory_at(index, source: SourceFile, offset: int):
    for inventory in index.inventories:
        node = inventory.value.node
        if inventory.source.path == source.path and node is not None and node.start_byte <= offset <= node.end_byte:
            return inventory
    return None


def _keys(source: SourceFile, root: Node, offset: int, prefer_right: bool = False, node: Node | None = None) -> list[str] | None:
    steps, reached = steps_to(node or node_at(source, offset, prefer_right), root, source.text, offset)
    if not reached or any(not isinstance(s, Key) or s.name is None for s in steps):
        return None
    return [s.name for s in steps]


def _instance(index, source: SourceFile, name: str):
    for instance in index.instances:
        if instance.name == name and instance.source.path == source.path:
            return instance
    return None


def complete_inventory(index, source: SourceFile, request) -> list[Completion] | None:
    """Items for an inventory place, or None when the cursor is not in an inventory."""
    inventory = _inventory_at(index, source, request.offset)
    if inventory is None or inventory.value.node is None:
        return None
    if request.in_string:
        match = _STRING_KEY.search(request.before)
        if match is None:
            return []
        key_offset = request.offset - len(request.before[match.start(1) :].encode())
        path = _keys(source, inventory.value.node, key_offset)
        if path is None:
            return []
        path += match.group(1).split(".")
        if len(path) == 4 and path[0] == "instances" and path[2:] == ["module", "name"]:
            names = list(index.modules) + [n for n in schema.CLAN_CORE_SERVICES]
            return [request.item(n, MODULE, "clan.modules of this workspace" if n in index.modules else "clan-core service", "") for n in dict.fromkeys(names)]
        return []
    path = _keys(source, inventory.value.node, request.expression_start if request.chain else request.offset)
    if path is None or request.previous_char() not in ("{", ";", ""):
        return []
    path += request.chain
    if len(path) == 2 and path[0] == "instances":
        return [request.item(k, PROPERTY, "", "") for k in INSTANCE_KEYS]
    if len(path) == 3 and path[0] == "instances" and path[2] == "module":
        return [request.item("name", PROPERTY, "str", "The module's name in `clan.modules`."), request.item("input", PROPERTY, "nullOr str", '`null` for clan-core, `"self"` for this flake, or an input\'s name.')]
    if len(path) < 3 or path[0] != "instances" or path[2] != "roles":
        return []
    instance = _instance(index, source, path[1])
    resolved = resolve_instance(index, instance) if instance is not None else None
    if len(path) == 3:
        roles = resolved.roles if resolved is not None and resolved.roles is not None else ()
        return [request.item(r, VARIABLE, "role", f"Role `{r}` of `{resolved.label}`.") for r in roles]
    if len(path) == 4:
        return [request.item(k, PROPERTY, "", "") for k in ROLE_KEYS]
    role = path[3]
    if len(path) == 5 and path[4] == "machines" and instance is not None and instance.machines is not None:
        return [request.item(m, VARIABLE, "machine", "A machine of `inventory.machines`.") for m in instance.machines.names]
    if path[-1] == "settings" and resolved is not None and resolved.module is not None:
        return [
            request.item(o.name, FIELD, o.type_text or "", o.description or "", f"{o.name} = $1;", snippet=True)
            for o in role_options(resolved.module, role)
        ]
    return []


def inventory_definition(index, source: SourceFile, offset: int) -> list[Location] | None:
    inventory = _inventory_at(index, source, offset)
    if inventory is None or inventory.value.node is None:
        return None
    node = node_at(source, offset, prefer_right=True)
    if node.type == "string_fragment" or node.type == "string_expression":
        string = node if node.type == "string_expression" else node.parent
        path = _keys(source, inventory.value.node, string.start_byte, node=string)
        if path and len(path) == 4 and path[0] == "instances" and path[2:] == ["module", "name"]:
            registration = index.modules.get(source.text[string.start_byte + 1 : string.end_byte - 1].decode())
            if registration is None:
                return []
            if registration.path:
                return [Location(registration.path, 0, 0)]
            if registration.inline is not None and registration.inline.body.node is not None:
                body = registration.inline.body.node
                return [Location(registration.source.path, body.start_byte, body.start_byte + 1)]
        return []
    if node.type != "identifier" or node.parent is None or node.parent.type != "attrpath":
        return []
    path = _keys(source, inventory.value.node, node.start_byte)
    if path is None:
        return []
    path.append(source.text[node.start_byte : node.end_byte].decode())
    if len(path) < 4 or path[0] != "instances" or path[2] != "roles":
        return []
    instance = _instance(index, source, path[1])
    resolved = resolve_instance(index, instance) if instance is not None else None
    if resolved is None or resolved.module is None:
        return []
    role = path[3]
    if len(path) == 4:
        return [Location(s.path, n.start_byte, n.end_byte) for name, n, s in role_names(resolved.module) if name == role and n is not None]
    if path[-2] == "settings":
        return [
            Location(o.source.path, o.key_node.start_byte, o.key_node.end_byte)
            for o in role_options(resolved.module, role)
            if o.name == path[-1] and o.key_node is not None
        ]
    return []

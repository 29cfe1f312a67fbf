"""The one place the export graph reads the clan from.

Everything the graph needs about a clan (its machines with their tags, `inventory.tags`, the
instances with their roles, machines and tags, and the service module each instance uses) is
read here from the workspace index and handed on as plain records. When the semantic layer
replaces the index, only this module changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import AttrSet, ListValue, ServiceModule, SourceFile, Str, Value
from ..spec import schema
from ..syntax import Node
from ..workspace.index import InstanceDecl, WorkspaceIndex


@dataclass
class MachineInfo:
    name: str
    key_node: Node | None
    tags: list[str] | None  # declared `tags = [ ... ]`; None when not literal
    machine_class: str | None  # None when not literal; absent means "nixos"


@dataclass
class RoleInfo:
    name: str
    key_node: Node | None
    machines: list[tuple[str, Node | None]]  # `machines.<m>` as written
    tags: list[tuple[str, Node | None]]  # `tags = [ ... ]` or `tags.<t>` as written
    tags_node: Node | None = None  # the `tags` value, for inlay hints
    known: bool = True  # machines and tags are all literal


@dataclass
class InstanceInfo:
    name: str
    source: SourceFile
    key_node: Node | None
    module_name: str
    module: ServiceModule | None  # the module's source, when the workspace or a pinned input has it
    roles: dict[str, RoleInfo]
    roles_known: bool = True


@dataclass
class ClanInfo:
    """One clan configuration (one `inventory`)."""

    source: SourceFile
    key_node: Node | None
    machines: dict[str, MachineInfo]
    machines_known: bool
    tag_lists: dict[str, list[str]] = field(default_factory=dict)  # `inventory.tags.<t> = [ ... ]`
    tags_known: bool = True
    instances: list[InstanceInfo] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # what of the clan itself is not known


def _strings(value: Value | None) -> list[str] | None:
    if not isinstance(value, ListValue):
        return None
    found = []
    for item in value.items():
        if not isinstance(item, Str) or item.text is None:
            return None
        found.append(item.text)
    return found


def _machines(inventory: AttrSet) -> tuple[dict[str, MachineInfo], bool]:
    value = inventory.get("machines")
    if value is None:
        return {}, True
    if not isinstance(value, AttrSet) or value.dynamic:
        return {}, False
    machines = {}
    known = True
    for name in value.names():
        keys = value.key_nodes(name)
        body = value.get(name)
        tags: list[str] | None = []
        machine_class: str | None = "nixos"
        if isinstance(body, AttrSet) and not body.dynamic:
            if body.has("tags"):
                tags = _strings(body.get("tags"))
            if body.has("machineClass"):
                got = body.get("machineClass")
                machine_class = got.text if isinstance(got, Str) else None
        elif body is not None:
            tags, machine_class = None, None
        known &= tags is not None and machine_class is not None
        machines[name] = MachineInfo(name, keys[0] if keys else None, tags, machine_class)
    return machines, known


def _tag_lists(inventory: AttrSet) -> tuple[dict[str, list[str]], bool]:
    value = inventory.get("tags")
    if value is None:
        return {}, True
    if not isinstance(value, AttrSet) or value.dynamic:
        return {}, False  # `tags = { machines, ... }: { ... }` is computed
    lists = {}
    for name in value.names():
        members = _strings(value.get(name))
        if members is None:
            return {}, False
        lists[name] = members
    return lists, True


def _role(name: str, key: Node | None, value: Value | None) -> RoleInfo:
    role = RoleInfo(name, key, [], [])
    if not isinstance(value, AttrSet) or value.dynamic:
        role.known = value is None or (isinstance(value, AttrSet) and not value.dynamic)
        return role
    machines = value.get("machines")
    if isinstance(machines, AttrSet) and not machines.dynamic:
        role.machines = [(m, (machines.key_nodes(m) or [None])[0]) for m in machines.names()]
    elif machines is not None:
        role.known = False
    tags = value.get("tags")
    if tags is not None:
        role.tags_node = tags.node
    if isinstance(tags, ListValue):
        for item in tags.items():
            if isinstance(item, Str) and item.text is not None:
                role.tags.append((item.text, item.node))
            else:
                role.known = False
    elif isinstance(tags, AttrSet) and not tags.dynamic:
        role.tags = [(t, (tags.key_nodes(t) or [None])[0]) for t in tags.names()]
    elif tags is not None:
        role.known = False
    return role


def _instance(index: WorkspaceIndex, decl: InstanceDecl) -> InstanceInfo:
    from ..semantics.instances import resolve_instance

    resolved = resolve_instance(index, decl)
    name = resolved.name if resolved is not None else decl.name
    module = resolved.module if resolved is not None else None
    if module is None and resolved is not None and resolved.service is not None:
        module = resolved.service.module  # clan-core's or another input's, read from its pinned source
    roles, known = _instance_roles(index, decl.value)
    return InstanceInfo(decl.name, decl.source, decl.key_node, name, module, roles, known)


def _instance_roles(index: WorkspaceIndex, value: AttrSet) -> tuple[dict[str, RoleInfo], bool]:
    """An instance's roles as the clan file writes them: read once per version of that file
    (the graph is rebuilt on every keystroke in a service of a small clan)."""
    kept = index._derived.setdefault("instance roles", {})
    entry = kept.get(id(value))
    if entry is None or entry[0] is not value:
        roles_value = value.get("roles")
        roles: dict[str, RoleInfo] = {}
        known = True
        if isinstance(roles_value, AttrSet) and not roles_value.dynamic:
            for role in roles_value.names():
                keys = roles_value.key_nodes(role)
                roles[role] = _role(role, keys[0] if keys else None, roles_value.get(role))
        elif roles_value is not None:
            known = False
        entry = kept[id(value)] = (value, roles, known)
    return entry[1], entry[2]


def read_clans(index: WorkspaceIndex) -> list[ClanInfo]:
    """Every clan of the workspace that has an inventory, with what the graph needs of it.

    A clan's inventory may be split over several files; machines registered elsewhere
    (`machines.<name>`, machines/<name>/ folders, inventory.json) count too, with tags unknown
    unless inventory.machines declares them.
    """
    clans = []
    for clan in index.clans:
        if not clan.inventories:
            continue
        first = clan.inventories[0]
        info = ClanInfo(first.source, first.key_node, {}, True)
        if not clan.complete:
            info.unknown.append("the clan's configuration is not all followed statically")
        for inventory in clan.inventories:
            machines, known = _machines(inventory.value)
            for name, machine in machines.items():
                info.machines.setdefault(name, machine)
            info.machines_known &= known
            tag_lists, tags_known = _tag_lists(inventory.value)
            for tag, members in tag_lists.items():
                info.tag_lists.setdefault(tag, []).extend(members)
            info.tags_known &= tags_known
        elsewhere: list[str] = []
        for part in clan.parts:
            declared = part.value.get("machines")
            if isinstance(declared, AttrSet) and not declared.dynamic:
                elsewhere += declared.names()
            elif declared is not None:
                info.machines_known = False
        elsewhere += clan.directory_machines()
        json_names = clan.json_machines()
        for name in elsewhere + json_names:
            if name not in info.machines:
                # no inventory entry: no declared tags, unless inventory.json (not read here) has some
                info.machines[name] = MachineInfo(name, None, None if name in json_names else [], None)
        if not info.machines_known:
            info.unknown.append("inventory.machines is not literal")
        if not info.tags_known:
            info.unknown.append("inventory.tags is computed")
        for inventory in clan.inventories:
            instances = inventory.value.get("instances")
            if isinstance(instances, AttrSet):
                for name in instances.names():
                    value = instances.get(name)
                    keys = instances.key_nodes(name)
                    if isinstance(value, AttrSet):
                        decl = InstanceDecl(name, inventory.source, keys[0] if keys else None, value, None)
                        info.instances.append(_instance(index, decl))
                if instances.dynamic:
                    info.unknown.append("inventory.instances is not literal")
            elif instances is not None:
                info.unknown.append("inventory.instances is not literal")
        clans.append(info)
    return clans


def interface_fields(index: WorkspaceIndex | None) -> dict[str, set[str] | None]:
    """Field names of every export interface (core and the workspace's own); None: not all readable."""
    found: dict[str, set[str] | None] = {i.name: {f.name for f in i.fields} for i in schema.EXPORT_INTERFACES}
    for i in schema.EXPORT_INTERFACES:
        if i.open_fields:
            found[i.name] = None
    if index is not None:
        for name, spec in index.interface_specs().items():
            found.setdefault(name, None if spec.open_fields else {f.name for f in spec.fields})
    return found


def interface_defaults(index: WorkspaceIndex | None) -> dict[str, dict[str, str | None]]:
    """The defaults of the workspace's own interface fields, as written (None: no default)."""
    if index is None:
        return {}
    return {name: {f.name: f.default_text for f in decl.fields.values()} for name, decl in index.interfaces.items()}

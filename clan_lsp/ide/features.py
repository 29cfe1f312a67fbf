"""Hover, definition, references, rename, document symbols and code actions."""

from __future__ import annotations

import os
import re

from ..checks import Finding
from ..model import AttrSet, Lambda, ServiceModule, SourceFile, peel_functions
from ..model.interface import role_options
from ..spec import schema
from ..syntax import Node
from ..syntax.parse import BINDINGS, binding_of
from . import docs
from .items import Action, HoverInfo, Location, WorkspaceSymbol, Symbol, TextEdit
from .resolve import Target, declaration, occurrences, resolve

# ---------------------------------------------------------------- hover


def _in_clan(source: SourceFile, modules: list[ServiceModule], offset: int, workspace) -> bool:
    """The cursor is in a clan configuration, not in a service module written inline there."""
    from .clan import is_clan_file
    from .locate import module_root

    return workspace is not None and is_clan_file(workspace, source) and module_root(source, modules, offset)[0] is None


def hover(source: SourceFile, modules: list[ServiceModule], offset: int, workspace=None) -> HoverInfo | None:
    if _in_clan(source, modules, offset, workspace):
        from .inventory import clan_hover

        return clan_hover(workspace, source, offset)
    target = resolve(source, modules, offset)
    if target is None:
        return _read_hover(source, offset, workspace)
    markdown = _describe(target, workspace)
    if not markdown:
        return None
    return HoverInfo(markdown, target.node.start_byte, target.node.end_byte)


def _describe(target: Target, workspace=None) -> str | None:
    custom = workspace.interface_specs() if workspace is not None else {}
    if target.kind == "option" and target.option is not None:
        return docs.option(target.path, target.option)
    if target.kind == "argument" and target.argument is not None:
        return docs.argument(target.site_kind or "the module", target.argument)
    if target.kind == "helper":
        return docs.helper(schema.HELPERS_BY_NAME[target.name])
    if target.kind == "scope-field":
        field = next((f for f in schema.SCOPE_FIELDS if f.name == target.name), None)
        return docs.scope_field(field) if field else f"**`{target.name}`**: a scope has no such field."
    if target.kind == "category":
        return docs.category(target.name)
    if target.kind == "interface":
        iface = schema.INTERFACES_BY_NAME.get(target.name) or custom.get(target.name)
        if iface is not None:
            return docs.interface(iface)
        return f"**export interface `{target.name}`**\n\nNot a core interface: it must be declared in `clan.exportInterfaces.{target.name}`."
    if target.kind == "field" and target.interface:
        iface = schema.INTERFACES_BY_NAME.get(target.interface) or custom.get(target.interface)
        field = iface.field(target.name) if iface else None
        return docs.interface_field(target.interface, field) if field else None
    if target.kind == "setting":
        option = next((o for o in role_options(target.module, target.role) if o.name == target.name), None)
        if option is not None:
            return docs.role_option(target.role or "", option)
        return f"**`settings.{target.name}`**: not declared by the interface of role `{target.role}`."
    if target.kind == "role":
        return f"**role `{target.name}`**\n\nA role of this service. In perInstance, `roles.{target.name}` is absent when the instance does not use it: guard with `or {{ }}`."
    return None


# ---------------------------------------------------------------- navigation


def _resolve(source: SourceFile, modules: list[ServiceModule], offset: int, workspace) -> Target | None:
    """The name under the cursor, in a service module or in a clan configuration."""
    if _in_clan(source, modules, offset, workspace):
        from .inventory import clan_target

        found = clan_target(workspace, source, offset)
        if found is None:
            return None
        kind, name, role, interface, module, node = found
        return Target(kind, name, node, role=role, interface=interface, module=module)
    return resolve(source, modules, offset)


def _location(source: SourceFile, node: Node) -> Location:
    start, end = node.start_byte, node.end_byte
    if node.type == "string_expression":  # select the name, not its quotes
        start, end = start + 1, end - 1
    return Location(source.path, start, end)


def definition(source: SourceFile, modules: list[ServiceModule], offset: int, workspace=None) -> list[Location]:
    if _in_clan(source, modules, offset, workspace):
        from .inventory import clan_definition

        found = clan_definition(workspace, source, offset)
        if found is not None:
            return found
    target = _resolve(source, modules, offset, workspace)
    if target is None:
        return _consumer_read(source, offset, workspace)
    found = [_location(s, n) for s, n in declaration(source, target)]
    if workspace is not None and target.kind in ("interface", "field"):
        declared = workspace.interfaces.get(target.interface or target.name)
        if declared is not None:
            node = declared.key_node
            if target.kind == "field" and target.name in declared.fields:
                node = declared.fields[target.name].key_node
            if node is not None:
                found.append(_location(declared.source, node))
    return found


def _selected_segment(source: SourceFile, offset: int):
    """(segments, index, node) of the attribute under the cursor in `a.b.c`, or None."""
    from .locate import node_at

    node = node_at(source, offset, prefer_right=True)
    if node.type != "identifier" or node.parent is None or node.parent.type != "attrpath":
        return None
    if node.parent.parent is None or node.parent.parent.type not in ("select_expression", "has_attr_expression"):
        return None
    segments = [source.text[a.start_byte : a.end_byte].decode("utf-8", "replace") for a in node.parent.named_children]
    position = next(i for i, a in enumerate(node.parent.named_children) if a.id == node.id)
    return segments, position, node


def _read_hover(source: SourceFile, offset: int, workspace) -> HoverInfo | None:
    """`value.<interface>.<field>` where a consumer reads an export: the interface's docs."""
    read = _selected_segment(source, offset)
    if read is None:
        return None
    segments, position, node = read
    interfaces = {i.name: i for i in schema.EXPORT_INTERFACES}
    if workspace is not None:
        interfaces.update(workspace.interface_specs())
    name = segments[position]
    base = node.parent.parent.child_by_field_name("expression")
    base_text = source.text[base.start_byte : base.end_byte].decode("utf-8", "replace") if base is not None else ""
    if base_text.split(".")[0] in ("config", "lib", "pkgs", "options", "clanLib"):
        return None  # `config.networking`: NixOS's names, not export interfaces
    if name in interfaces:
        return HoverInfo(docs.interface(interfaces[name]), node.start_byte, node.end_byte)
    if position >= 1 and segments[position - 1] in interfaces:
        iface = interfaces[segments[position - 1]]
        field = iface.field(name)
        if field is not None:
            return HoverInfo(docs.interface_field(iface.name, field), node.start_byte, node.end_byte)
    return None


def _consumer_read(source: SourceFile, offset: int, workspace) -> list[Location]:
    """`value.vpn.pubkey` where a consumer reads an export: to the workspace's declaration.

    Only interfaces this workspace declares qualify; navigation is harmless when a
    name merely looks like one.
    """
    if workspace is None:
        return []
    read = _selected_segment(source, offset)
    if read is None:
        return []
    segments, position, _node = read
    name = segments[position]
    declared = workspace.interfaces.get(name)
    if declared is not None and declared.key_node is not None:
        return [_location(declared.source, declared.key_node)]
    if position > 0:
        declared = workspace.interfaces.get(segments[position - 1])
        field = declared.fields.get(name) if declared is not None else None
        if field is not None and field.key_node is not None:
            return [_location(declared.source, field.key_node)]
    return []


def workspace_symbols(index, query: str = "") -> list[WorkspaceSymbol]:
    """Services, their roles, and export interfaces across the workspace."""
    result: list[WorkspaceSymbol] = []
    wanted = query.lower()
    for name, decl in index.interfaces.items():
        if decl.key_node is not None:
            result.append(WorkspaceSymbol(name, "interface", decl.source.path, decl.key_node.start_byte, decl.key_node.end_byte, "export interface"))
    for name in index.modules:
        if wanted and wanted not in name.lower() and not _may_name_a_role(index, name, wanted.encode()):
            continue  # not read (parsed) for nothing: a thousand services are a second and 100 MiB
        facts = index.module_facts(name)  # not the modules: a thousand of them would be held at once
        if facts is None:
            continue
        if facts.anchor is not None:
            path, start = facts.anchor
            result.append(WorkspaceSymbol(name, "module", path, start, start + 1, "service"))
        for role, path, start, end in facts.role_keys:
            result.append(WorkspaceSymbol(role, "class", path, start, end, f"role of {name}"))
    return [s for s in result if wanted in s.name.lower()]


_PATH_LITERAL = re.compile(rb"(?<![\w.])\.{1,2}/[\w./+-]+")


def _may_name_a_role(index, name: str, wanted: bytes) -> bool:
    """Whether a registered module's files may hold a role name containing `wanted`: role
    names are keys, spelled in the text of the module or of the files it imports (the
    paths it spells; with imports but no path, any file may)."""
    registration = index.modules.get(name)
    if registration is None or registration.inline is not None or registration.path is None:
        return True
    files = index.module_files.files
    text = files.peek(registration.path)
    if text is None or wanted in text.lower():
        return True
    if b"imports" not in text:
        return False
    paths = _PATH_LITERAL.findall(text)
    if not paths:
        return True
    folder = os.path.dirname(registration.path)
    for path in paths:
        target = os.path.normpath(os.path.join(folder, path.decode("utf-8", "replace")))
        if os.path.isdir(target):
            target = os.path.join(target, "default.nix")
        imported = files.peek(target) if target.endswith(".nix") else b""
        if imported is None or wanted in imported.lower():
            return True
    return False


def _workspace_occurrences(source: SourceFile, target: Target, workspace) -> list:
    """Occurrences across the workspace for interfaces and roles; the file's own otherwise."""
    found = occurrences(source, target)
    if workspace is None:
        return found
    from .resolve import interface_occurrences

    if target.kind == "interface":
        declared = workspace.interfaces.get(target.name)
        if declared is not None and declared.key_node is not None:
            found.append((declared.source, declared.key_node))
        for name in workspace.modules:
            module = workspace.module(name)
            if module is not None:
                found += interface_occurrences(module, target.name)
    elif target.kind == "field" and target.interface:
        from .resolve import field_occurrences

        modules = [m for m in (workspace.module(n) for n in workspace.modules) if m is not None]
        sources = list({id(p.source): p.source for m in modules for p in m.parts()}.values())
        found += field_occurrences(workspace, sources, modules, target.interface, target.name)
    elif target.kind == "role" and target.module is not None:
        from ..semantics.instances import resolve_instance

        for instance in workspace.instances:
            resolved = resolve_instance(workspace, instance)
            roles = instance.value.get("roles")
            if resolved is None or resolved.module is None or roles is None or not hasattr(roles, "key_nodes"):
                continue
            if resolved.module.source.path == target.module.source.path:
                found += [(instance.source, n) for n in roles.key_nodes(target.name)]
    elif target.kind == "setting" and target.module is not None and target.role:
        found += _inventory_settings(workspace, target.module, target.role, target.name)
    seen, unique = set(), []
    for s, n in found:
        key = (s.path, n.start_byte)
        if key not in seen:
            seen.add(key)
            unique.append((s, n))
    return unique


def _inventory_settings(workspace, module: ServiceModule, role: str, name: str) -> list:
    """`settings.<name>` keys of a role in every instance of the module (role, machine, tag level)."""
    from ..semantics.instances import resolve_instance, settings_sites

    found = []
    for instance in workspace.instances:
        roles = instance.value.get("roles")
        resolved = resolve_instance(workspace, instance)
        if not isinstance(roles, AttrSet) or resolved is None or resolved.module is None:
            continue
        if resolved.module.source.path != module.source.path:
            continue
        for site_role, _where, settings in settings_sites(instance, roles):
            if site_role == role and isinstance(settings, AttrSet):
                found += [(instance.source, n) for n in settings.key_nodes(name)]
    return found


def references(source: SourceFile, modules: list[ServiceModule], offset: int, include_declaration: bool = True, workspace=None) -> list[Location]:
    target = _resolve(source, modules, offset, workspace)
    if target is None:
        return []
    found = _workspace_occurrences(source, target, workspace)
    if not include_declaration:
        declared = {(s.path, n.start_byte) for s, n in declaration(source, target)}
        found = [(s, n) for s, n in found if (s.path, n.start_byte) not in declared]
    return [_location(s, n) for s, n in found]


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_'-]*$")
RENAMABLE = ("role", "setting", "variable", "argument", "interface", "field")


def _renamable_interface(target: Target, workspace) -> bool:
    """Interfaces and their fields are renamable only when this workspace declares them."""
    if target.kind not in ("interface", "field"):
        return True
    name = target.name if target.kind == "interface" else target.interface
    return workspace is not None and name in workspace.interfaces


def prepare_rename(source: SourceFile, modules: list[ServiceModule], offset: int, workspace=None) -> tuple[int, int, str] | None:
    target = _resolve(source, modules, offset, workspace)
    if target is None or target.kind not in RENAMABLE:
        return None
    if target.kind == "argument":
        return None  # clan passes arguments by name: renaming one breaks it
    if not _renamable_interface(target, workspace):
        return None
    return target.node.start_byte, target.node.end_byte, target.name


def rename(source: SourceFile, modules: list[ServiceModule], offset: int, new_name: str, workspace=None) -> list[TextEdit] | None:
    target = _resolve(source, modules, offset, workspace)
    if target is None or target.kind not in RENAMABLE or target.kind == "argument":
        return None
    if not _renamable_interface(target, workspace):
        return None  # a core interface's names are clan's, not ours to change
    if not _NAME.match(new_name):
        new_text = '"' + new_name.replace('"', '\\"') + '"'
    else:
        new_text = new_name
    edits = []
    for s, node in _workspace_occurrences(source, target, workspace):
        if node.type == "string_expression":  # "vpn" in exports.out: keep the quotes
            edits.append(TextEdit(s.path, node.start_byte + 1, node.end_byte - 1, new_name))
            continue
        if node.type == "identifier" and node.parent is not None and node.parent.type == "variable_expression" and not _NAME.match(new_name):
            return None  # a variable cannot take a quoted name
        edits.append(TextEdit(s.path, node.start_byte, node.end_byte, new_text))
    return edits


# ---------------------------------------------------------------- document symbols


def document_symbols(source: SourceFile, modules: list[ServiceModule], workspace=None) -> list[Symbol]:
    """One symbol per binding, as written: `roles.server = …; roles.agent = …;` gives both."""
    bodies: list[tuple[AttrSet, tuple[str, ...]]] = []
    for module in modules:
        for part in module.parts():
            if part.source is source:
                bodies.append((part.body, ()))
    if workspace is not None:
        for clan in workspace.clans:
            for clan_part in clan.parts:
                if clan_part.source.path == source.path:
                    bodies.append((clan_part.value, ("<clan>",)))
            for inventory in clan.inventories:
                if inventory.source.path == source.path and inventory.key_node is None:
                    bodies.append((inventory.value, ("<clan>", "inventory")))
    symbols: list[Symbol] = []
    seen: set[int] = set()
    for body, trail in bodies:
        for symbol in _outline(source, body, trail, 0):
            if symbol.start not in seen:
                seen.add(symbol.start)
                symbols.append(symbol)
    symbols.sort(key=lambda s: s.start)
    return symbols


_OUTLINE_DEPTH = 6


def _outline(source: SourceFile, attrs: AttrSet, trail: tuple[str, ...], depth: int) -> list[Symbol]:
    symbols = []
    for definition in attrs.definitions:
        key = definition.key_node
        if key is None or not _inside(source, key):
            continue
        binding = binding_of(key, BINDINGS) or key
        if binding.start_byte > key.start_byte:
            continue  # an inherit or a definition merged in from elsewhere
        names = (definition.name,) + tuple(n or "<dynamic>" for n, _ in definition.rest)
        path = trail + names
        last = definition.rest[-1][1] if definition.rest and definition.rest[-1][1] is not None else key
        symbol = Symbol(".".join(names), _kind(path), binding.start_byte, binding.end_byte, key.start_byte, last.end_byte, _detail(path, definition))
        if depth < _OUTLINE_DEPTH:
            value = definition.thunk.force()
            if isinstance(value, Lambda):
                value = peel_functions(value)[0]
            if isinstance(value, AttrSet) and value.node is not None and binding.start_byte <= value.node.start_byte and value.node.end_byte <= binding.end_byte:
                symbol.children = _outline(source, value, path, depth + 1)
        symbols.append(symbol)
    return symbols


def _inside(source: SourceFile, node: Node) -> bool:
    root = source.tree.root
    return root.start_byte <= node.start_byte and node.end_byte <= root.end_byte and source.text[node.start_byte : node.end_byte] != b""


def _kind(path: tuple[str, ...]) -> str:
    service = path[1:] if path[:1] == ("<clan>",) else path
    if path[:1] == ("<clan>",):
        if service[:2] == ("inventory", "instances") and len(service) == 3:
            return "class"
        if service[:1] == ("exportInterfaces",) and len(service) == 2:
            return "interface"
        if service[:1] == ("modules",) and len(service) == 2:
            return "module"
        if service[:2] == ("inventory", "machines") and len(service) == 3:
            return "property"
        groups = ("meta", "inventory", "instances", "machines", "modules", "exportInterfaces", "roles", "settings", "tags")
        return "namespace" if service[-1] in groups else "property"
    if service[:1] == ("roles",) and len(service) == 2:
        return "class"
    if service[-1:] in (("perInstance",), ("perMachine",), ("interface",)):
        return "function"
    if "options" in service[:-1]:
        return "field"
    if service[:1] in (("manifest",), ("roles",)) and len(service) == 1:
        return "namespace"
    if service[-1:] == ("exports",):
        return "interface"
    if service[-1:] == ("imports",):
        return "module"
    return "property"


def _detail(path: tuple[str, ...], definition) -> str:
    value_node = definition.thunk.node
    if path[-1:] == ("name",) and value_node is not None and value_node.type == "string_expression":
        return ""
    if path[:1] == ("roles",) and len(path) == 2:
        return "role"
    return ""


# ---------------------------------------------------------------- code actions


def code_actions(findings: list[Finding], start: int, end: int, path: str | None) -> list[Action]:
    actions = []
    for finding in findings:
        if finding.path != path or finding.end < start or finding.start > end:
            continue
        for index, fix in enumerate(finding.fixes):
            edits = [TextEdit(finding.path, e.start, e.end, e.text) for e in fix.edits]
            actions.append(Action(fix.title, edits, [finding.code], preferred=index == 0))
    return actions

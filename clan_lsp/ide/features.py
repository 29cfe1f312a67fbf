"""Hover, definition, references, rename, document symbols and code actions."""

from __future__ import annotations

import re

from ..checks import Finding
from ..model import AttrSet, ServiceModule, SourceFile
from ..model.interface import role_names, role_options
from ..spec import schema
from ..syntax import Node
from ..syntax.parse import BINDINGS, binding_of
from . import docs
from .items import Action, HoverInfo, Location, WorkspaceSymbol, Symbol, TextEdit
from .resolve import Target, declaration, occurrences, resolve

# ---------------------------------------------------------------- hover


def hover(source: SourceFile, modules: list[ServiceModule], offset: int, workspace=None) -> HoverInfo | None:
    target = resolve(source, modules, offset)
    if target is None:
        return None
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


def _location(source: SourceFile, node: Node) -> Location:
    start, end = node.start_byte, node.end_byte
    if node.type == "string_expression":  # select the name, not its quotes
        start, end = start + 1, end - 1
    return Location(source.path, start, end)


def definition(source: SourceFile, modules: list[ServiceModule], offset: int, workspace=None) -> list[Location]:
    if workspace is not None and source.path in workspace.inventory_paths():
        from .inventory import inventory_definition

        found = inventory_definition(workspace, source, offset)
        if found:
            return found
    target = resolve(source, modules, offset)
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


def _consumer_read(source: SourceFile, offset: int, workspace) -> list[Location]:
    """`value.vpn.pubkey` where a consumer reads an export: to the workspace's declaration.

    Only interfaces this workspace declares qualify; navigation is harmless when a
    name merely looks like one.
    """
    if workspace is None:
        return []
    from .locate import node_at

    node = node_at(source, offset, prefer_right=True)
    if node.type != "identifier" or node.parent is None or node.parent.type != "attrpath":
        return []
    if node.parent.parent is None or node.parent.parent.type not in ("select_expression", "has_attr_expression"):
        return []
    segments = [source.text[a.start_byte : a.end_byte].decode("utf-8", "replace") for a in node.parent.named_children]
    position = next(i for i, a in enumerate(node.parent.named_children) if a.id == node.id)
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
        module = index.module(name)
        if module is None:
            continue
        anchor = module.body.node
        if anchor is not None:
            result.append(WorkspaceSymbol(name, "module", module.source.path, anchor.start_byte, anchor.start_byte + 1, "service"))
        for role, key, role_source in role_names(module):
            if key is not None:
                result.append(WorkspaceSymbol(role, "class", role_source.path, key.start_byte, key.end_byte, f"role of {name}"))
    return [s for s in result if wanted in s.name.lower()]


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
        from ..checks.inventory import resolve_instance

        for instance in workspace.instances:
            resolved = resolve_instance(workspace, instance)
            roles = instance.value.get("roles")
            if resolved is None or resolved.module is None or roles is None or not hasattr(roles, "key_nodes"):
                continue
            if resolved.module.source.path == target.module.source.path:
                found += [(instance.source, n) for n in roles.key_nodes(target.name)]
    seen, unique = set(), []
    for s, n in found:
        key = (s.path, n.start_byte)
        if key not in seen:
            seen.add(key)
            unique.append((s, n))
    return unique


def references(source: SourceFile, modules: list[ServiceModule], offset: int, include_declaration: bool = True, workspace=None) -> list[Location]:
    target = resolve(source, modules, offset)
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
    target = resolve(source, modules, offset)
    if target is None or target.kind not in RENAMABLE:
        return None
    if target.kind == "argument":
        return None  # clan passes arguments by name: renaming one breaks it
    if not _renamable_interface(target, workspace):
        return None
    return target.node.start_byte, target.node.end_byte, target.name


def rename(source: SourceFile, modules: list[ServiceModule], offset: int, new_name: str, workspace=None) -> list[TextEdit] | None:
    target = resolve(source, modules, offset)
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


def document_symbols(source: SourceFile, modules: list[ServiceModule]) -> list[Symbol]:
    symbols = []
    for module in modules:
        for part in module.parts():
            if part.source is not source:
                continue
            symbols.extend(_module_symbols(part, module))
    return symbols


def _span(attrs: AttrSet, name: str) -> tuple[int, int, int, int] | None:
    keys = attrs.key_nodes(name)
    if not keys:
        return None
    key = keys[0]
    outer = binding_of(key, BINDINGS) or key
    return outer.start_byte, outer.end_byte, key.start_byte, key.end_byte


def _symbol(attrs: AttrSet, name: str, kind: str, detail: str = "", label: str | None = None) -> Symbol | None:
    span = _span(attrs, name)
    if span is None:
        return None
    return Symbol(label or name, kind, span[0], span[1], span[2], span[3], detail)


def _module_symbols(part: ServiceModule, module: ServiceModule) -> list[Symbol]:
    body = part.effective()
    result: list[Symbol] = []
    manifest = body.get("manifest")
    if isinstance(manifest, AttrSet):
        name = manifest.get("name")
        symbol = _symbol(body, "manifest", "namespace", getattr(name, "text", None) or "")
        if symbol is not None:
            for key in manifest.names():
                child = _symbol(manifest, key, "property")
                if child is not None and part.source.tree.root.start_byte <= child.start:
                    symbol.children.append(child)
            result.append(symbol)
    roles = body.get("roles")
    if isinstance(roles, AttrSet):
        roles_symbol = _symbol(body, "roles", "namespace")
        for role in roles.names():
            value = roles.get(role)
            role_symbol = _symbol(roles, role, "class", "role")
            if role_symbol is None:
                continue
            if isinstance(value, AttrSet):
                for key in value.names():
                    child = _symbol(value, key, "function" if key == "perInstance" else "property")
                    if child is None:
                        continue
                    if key == "interface":
                        for option in role_options(module, role):
                            if option.key_node is not None and option.source is part.source:
                                child.children.append(Symbol(option.name, "field", option.key_node.start_byte, option.key_node.end_byte, option.key_node.start_byte, option.key_node.end_byte, option.type_text or ""))
                    role_symbol.children.append(child)
            if roles_symbol is not None:
                roles_symbol.children.append(role_symbol)
            else:
                result.append(role_symbol)
        if roles_symbol is not None:
            result.append(roles_symbol)
    for key, kind in (("perMachine", "function"), ("exports", "interface"), ("imports", "module")):
        symbol = _symbol(body, key, kind)
        if symbol is not None:
            result.append(symbol)
    result.sort(key=lambda s: s.start)
    for symbol in result:
        _fit(symbol)
    return result


def _fit(symbol: Symbol) -> None:
    """LSP wants each child inside its parent's range; merged definitions may not be."""
    kept = []
    for child in symbol.children:
        _fit(child)
        if symbol.start <= child.start and child.end <= symbol.end:
            kept.append(child)
    symbol.children = kept


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

"""What the thing under the cursor is: an option, an argument, a role, a setting,
an export interface or field, a clanLib helper, a variable.

Hover renders it; definition, references and rename follow it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import ServiceModule, SourceFile
from ..model.interface import role_names, role_options
from ..spec import schema
from ..syntax import Node
from .locate import (
    Place, Scope, binder_of, classify, module_root, node_at, options_at, site_arguments, steps_to,
    strip_module_function,
)


@dataclass
class Target:
    kind: str  # option | argument | role | setting | interface | field | helper | scope-field | category | variable
    name: str
    node: Node  # the node under the cursor
    path: str = ""
    option: schema.Option | None = None
    argument: schema.Argument | None = None
    site_kind: str | None = None
    role: str | None = None
    interface: str | None = None
    scope: Scope | None = None
    module: ServiceModule | None = None


def _text(source: SourceFile, node: Node) -> str:
    return source.text[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _steps(source: SourceFile, modules: list[ServiceModule], node: Node, offset: int):
    module, root = module_root(source, modules, offset)
    if root is None:
        return None, module
    steps, reached = steps_to(node, root, source.text, offset)
    return (strip_module_function(steps, root) if reached else None), module


def resolve(source: SourceFile, modules: list[ServiceModule], offset: int) -> Target | None:
    node = node_at(source, offset, prefer_right=True)
    if node.type not in ("identifier", "string_fragment"):
        node = node_at(source, offset)
    if node.type not in ("identifier", "string_fragment"):
        return None
    parent = node.parent
    if parent is None:
        return None
    name = _text(source, node)
    if node.type == "string_fragment":
        return _string(source, modules, node, name, offset)
    if parent.type == "attrpath" and parent.parent is not None and parent.parent.type == "binding":
        return _binding_key(source, modules, node, name)
    if parent.type == "attrpath" and parent.parent is not None and parent.parent.type in ("select_expression", "has_attr_expression"):
        return _selected(source, modules, node, parent.parent)
    if parent.type == "formal":
        return _formal(source, modules, node, name)
    if parent.type == "variable_expression":
        return _variable(source, modules, node, name)
    return None


def _binding_key(source: SourceFile, modules: list[ServiceModule], node: Node, name: str) -> Target | None:
    steps, module = _steps(source, modules, node, node.start_byte)
    if steps is None:
        return None
    place = classify(steps)
    found = options_at(place)
    if found is not None:
        options, prefix = found
        option = schema.find(options, name)
        if option is not None:
            return Target("option", name, node, f"{prefix}.{name}" if prefix else name, option=option, module=module)
    if place.kind == "roles":
        return Target("role", name, node, role=name, module=module)
    if place.kind == "export-value":
        return Target("interface", name, node, interface=name, module=module)
    if place.kind == "interface-fields" and place.interface:
        return Target("field", name, node, interface=place.interface, module=module)
    if place.kind == "interface-body" or (place.path[-1:] == ("options",) and place.site is not None and place.site.kind == "interface"):
        return Target("setting", name, node, role=place.role, module=module)
    if place.kind == "opaque" and len(place.path) >= 4 and place.path[0] == "roles" and place.path[2] == "interface" and place.path[3] == "options":
        return Target("setting", name, node, role=place.role, module=module)
    return None


def _string(source: SourceFile, modules: list[ServiceModule], node: Node, name: str, offset: int) -> Target | None:
    steps, module = _steps(source, modules, node, offset)
    if steps is None:
        return None
    place = classify(steps)
    if place.kind == "categories-list" and name in schema.CATEGORIES:
        return Target("category", name, node, module=module)
    if place.kind == "interfaces-list":
        return Target("interface", name, node, interface=name, module=module)
    return None


def _site_place(source: SourceFile, modules: list[ServiceModule], node: Node) -> tuple[Place | None, ServiceModule | None]:
    steps, module = _steps(source, modules, node, node.start_byte)
    if steps is None:
        return None, module
    return classify(steps), module


def _formal(source: SourceFile, modules: list[ServiceModule], node: Node, name: str) -> Target | None:
    place, module = _site_place(source, modules, node)
    if place is None or place.kind != "formals" or place.site is None:
        return None
    argument = _argument(place.site.kind, name)
    scope = Scope(name, node, node.parent.parent.parent) if node.parent and node.parent.parent else None
    return Target("argument" if argument else "variable", name, node, argument=argument, site_kind=place.site.kind, scope=scope, module=module, role=place.site.role)


def _argument(site_kind: str, name: str) -> schema.Argument | None:
    return next((a for a in site_arguments(site_kind) if a.name == name), None)


def _variable(source: SourceFile, modules: list[ServiceModule], node: Node, name: str) -> Target | None:
    scope = binder_of(node.parent, source.text, source.tree.root)
    if scope is None:
        return None
    binder_parent = scope.binder.parent
    if binder_parent is not None and binder_parent.type == "formal":
        found = _formal(source, modules, scope.binder, name)
        if found is not None:
            found.node = node
            return found
    return Target("variable", name, node, scope=scope)


def _selected(source: SourceFile, modules: list[ServiceModule], node: Node, select: Node) -> Target | None:
    base = select.child_by_field_name("expression")
    path = select.child_by_field_name("attrpath")
    if base is None or path is None or base.type != "variable_expression":
        return None
    names = []
    for attr in path.named_children:
        names.append(_text(source, attr))
        if attr.id == node.id:
            break
    base_name = _text(source, base)
    place, module = _site_place(source, modules, select)
    site = place.site if place is not None else None
    if base_name == "clanLib" and len(names) == 1:
        helper = schema.HELPERS_BY_NAME.get(names[0])
        return Target("helper", names[0], node) if helper else None
    if place is not None and place.predicate is not None:
        universal = place.predicate.child_by_field_name("universal")
        if universal is not None and _text(source, universal) == base_name and len(names) == 1:
            return Target("scope-field", names[0], node)
    if site is None:
        return None
    scope = binder_of(base, source.text, source.tree.root)
    if scope is None or scope.binder.parent is None or scope.binder.parent.type != "formal":
        return None
    if site.kind == "perInstance" and base_name == "settings" and len(names) == 1:
        return Target("setting", names[0], node, role=site.role, module=module)
    if site.kind == "perInstance" and base_name == "roles" and len(names) == 1:
        return Target("role", names[0], node, role=names[0], module=module)
    if base_name in ("machine", "meta") and len(names) == 1:
        argument = _argument(site.kind, base_name)
        if argument is not None:
            field = next((f for f in argument.fields if f.name == names[0]), None)
            if field is not None:
                return Target("option", names[0], node, f"{base_name}.{names[0]}", option=field)
    return None


# ---------------------------------------------------------------- occurrences (definition, references, rename)


def role_occurrences(source: SourceFile, module: ServiceModule | None, role: str) -> list[tuple[SourceFile, Node]]:
    """The role's keys, and `roles.<role>` reads in perInstance functions and constraints."""
    found: list[tuple[SourceFile, Node]] = []
    if module is None:
        return found
    for part in module.parts():
        roles = part.effective().get("roles")
        if roles is not None and hasattr(roles, "key_nodes"):
            found += [(part.source, n) for n in roles.key_nodes(role)]
        constraints = part.effective().path("manifest", "constraints", "roles")
        if constraints is not None and hasattr(constraints, "key_nodes"):
            found += [(part.source, n) for n in constraints.key_nodes(role)]
    sources = {id(p.source): p.source for p in module.parts()}
    for part_source in sources.values():
        for select in part_source.tree.index.selects:
            if _text(part_source, select.base) != "roles" or not select.path.named_children:
                continue
            first = select.path.named_children[0]
            if _text(part_source, first) != role:
                continue
            scope = binder_of(select.base, part_source.text, part_source.tree.root)
            if scope is not None and scope.binder.parent is not None and scope.binder.parent.type == "formal":
                found.append((part_source, first))
        found += _role_name_comparisons(part_source, role)
    return _dedupe(found)


def _role_name_comparisons(source: SourceFile, role: str) -> list[tuple[SourceFile, Node]]:
    """`scope.roleName == "<role>"` in the module's own selectExports predicates."""
    found = []
    for select in source.tree.index.selects:
        segments = select.path.named_children
        if not segments or _text(source, segments[-1]) != "roleName":
            continue
        comparison = select.node.parent
        if comparison is None or comparison.type != "binary_expression":
            continue
        operator = comparison.child_by_field_name("operator")
        if operator is None or _text(source, operator) not in ("==", "!="):
            continue
        for side in (comparison.child_by_field_name("left"), comparison.child_by_field_name("right")):
            if side is not None and side.type == "string_expression" and _text(source, side) == f'"{role}"':
                found.append((source, side))
    return found


def setting_occurrences(module: ServiceModule | None, role: str | None) -> dict[str, list[tuple[SourceFile, Node]]]:
    """For each option of a role's interface: its declaration and `settings.<name>` reads."""
    result: dict[str, list[tuple[SourceFile, Node]]] = {}
    if module is None or role is None:
        return result
    for option in role_options(module, role):
        if option.key_node is not None:
            result.setdefault(option.name, []).append((option.source, option.key_node))
    for part in module.parts():
        roles = part.effective().get("roles")
        role_value = roles.get(role) if roles is not None and hasattr(roles, "get") else None
        per_instance = role_value.get("perInstance") if role_value is not None and hasattr(role_value, "get") else None
        function_node = getattr(per_instance, "node", None)
        if function_node is None or getattr(per_instance, "formals", None) is None:
            continue
        for select in part.source.tree.index.selects_in(function_node):
            if _text(part.source, select.base) != "settings" or not select.path.named_children:
                continue
            scope = binder_of(select.base, part.source.text, part.source.tree.root)
            if scope is None or scope.owner.id != function_node.id:
                continue
            first = select.path.named_children[0]
            result.setdefault(_text(part.source, first), []).append((part.source, first))
    return {k: _dedupe(v) for k, v in result.items()}


def variable_occurrences(source: SourceFile, scope: Scope) -> list[tuple[SourceFile, Node]]:
    found = [(source, scope.binder)]
    for variable in source.tree.index.variables_in(scope.owner):
        if _text(source, variable) != scope.name:
            continue
        other = binder_of(variable, source.text, source.tree.root)
        if other is not None and other.binder.id == scope.binder.id:
            found.append((source, variable))
    return _dedupe(found)


def occurrences(source: SourceFile, target: Target) -> list[tuple[SourceFile, Node]]:
    if target.kind == "role" and target.role:
        return role_occurrences(source, target.module, target.role)
    if target.kind == "setting":
        return setting_occurrences(target.module, target.role).get(target.name, [])
    if target.kind in ("variable", "argument") and target.scope is not None:
        return variable_occurrences(source, target.scope)
    if target.kind == "interface" and target.module is not None:
        return interface_occurrences(target.module, target.name)
    return []


def interface_occurrences(module: ServiceModule, name: str) -> list[tuple[SourceFile, Node]]:
    """Where the module names an export interface: `exports.out`, mkExports keys, `clan.exportInterfaces.<name>`."""
    from ..model import ListValue, Str

    found: list[tuple[SourceFile, Node]] = []
    for part in module.parts():
        for value in [part.effective().path("manifest", "exports", "out"), part.effective().path("manifest", "exports", "inputs")]:
            if isinstance(value, ListValue):
                found += [(part.source, i.node) for i in value.items() if isinstance(i, Str) and i.text == name and i.node is not None]
        for value in mkexports_values(part.source):
            found += [(part.source, n) for n in value.key_nodes(name)]
    return _dedupe(found)


def mkexports_values(source: SourceFile):
    """The attribute sets passed to `mkExports` in a file."""
    from ..model.calls import calls
    from ..model import AttrSet
    from ..model.values import Env, Reader

    for _name, _callee, args in calls(source, ("mkExports",)):
        if args:
            value = Reader(source.text).read(args[0], Env(None))
            if isinstance(value, AttrSet):
                yield value


def _dedupe(found: list[tuple[SourceFile, Node]]) -> list[tuple[SourceFile, Node]]:
    seen = set()
    result = []
    for source, node in found:
        key = (source.path, node.start_byte, node.end_byte)
        if key not in seen:
            seen.add(key)
            result.append((source, node))
    result.sort(key=lambda pair: (pair[0].path or "", pair[1].start_byte))
    return result


def declaration(source: SourceFile, target: Target) -> list[tuple[SourceFile, Node]]:
    """Where the target is declared, for go-to-definition."""
    if target.kind == "role" and target.module is not None:
        return [(s, n) for name, n, s in role_names(target.module) if name == target.name and n is not None]
    if target.kind == "setting":
        return [(o.source, o.key_node) for o in role_options(target.module, target.role) if o.name == target.name and o.key_node is not None]
    if target.kind in ("variable", "argument") and target.scope is not None:
        return [(source, target.scope.binder)]
    if target.kind == "interface":
        return _interface_declarations(source, target.name)
    return []


def _interface_declarations(source: SourceFile, name: str) -> list[tuple[SourceFile, Node]]:
    """`exportInterfaces.<name>` declared in the same file."""
    found = []
    text = source.text
    for node in _attrpath_identifiers(source, b"exportInterfaces"):
        nxt = node.next_named_sibling
        if nxt is not None and text[nxt.start_byte : nxt.end_byte].decode("utf-8", "replace").strip('"') == name:
            found.append((source, nxt))
    return found


def _attrpath_identifiers(source: SourceFile, name: bytes):
    start = 0
    text = source.text
    while True:
        at = text.find(name, start)
        if at == -1:
            return
        node = source.tree.root.descendant_for_byte_range(at, at + len(name))
        if node is not None and node.type == "identifier" and node.parent is not None and node.parent.type == "attrpath":
            yield node
        start = at + len(name)


def field_occurrences(workspace, module_sources: list[SourceFile], modules: list[ServiceModule], iface: str, name: str) -> list[tuple[SourceFile, Node]]:
    """An interface field: its declaration, `<iface>.<field>` in exports, and `.<iface>.<field>` reads."""
    from ..model import AttrSet

    found: list[tuple[SourceFile, Node]] = []
    declared = workspace.interfaces.get(iface) if workspace is not None else None
    if declared is not None and name in declared.fields and declared.fields[name].key_node is not None:
        found.append((declared.source, declared.fields[name].key_node))
    for module in modules:
        for part in module.parts():
            for value in mkexports_values(part.source):
                inner = value.get(iface)
                if isinstance(inner, AttrSet):
                    found += [(part.source, n) for n in inner.key_nodes(name)]
    for source in module_sources:
        for select in source.tree.index.selects:
            attrs = select.path.named_children
            for first, second in zip(attrs, attrs[1:]):
                if _text(source, first) == iface and _text(source, second) == name:
                    found.append((source, second))
    return _dedupe(found)

"""Completion, hover and navigation in clan configuration files (needs the workspace).

Every answer is read off the cursor's clan path (ide/clan.py): clan options, meta,
inventory machines and instances, a service's roles and settings, module names and
inputs, machines and tags.
"""

from __future__ import annotations

import re

from ..model import SourceFile
from ..spec import schema
from ..syntax import Node
from . import clan as c
from . import docs
from .items import FIELD, MODULE, PROPERTY, VALUE, VARIABLE, Completion, HoverInfo, Location
from .locate import node_at

_STRING_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_.'-]*)\s*=\s*(\[[^\]]*)?\"([^\"]*)$")


def complete_clan(index, source: SourceFile, request) -> list[Completion] | None:
    """Items for a place in a clan file, or None when the cursor is not in the clan."""
    if not c.is_clan_file(index, source):
        return None
    if request.in_string:
        match = _STRING_KEY.search(request.before)
        if match is None:
            return [] if c.path_at(index, source, request.offset) is not None else None
        key_offset = request.offset - len(request.before[match.start(1) :].encode())
        path = c.path_at(index, source, key_offset)
        if path is None:
            return None
        return _values(index, source, request, path + match.group(1).split("."))
    start = request.expression_start if request.chain else request.offset
    path = c.path_at(index, source, start, prefer_right=bool(request.chain))
    if path is None:
        return None
    if request.previous_char() not in ("{", ";", ""):
        return []
    return _keys(index, source, request, path + request.chain)


def _keys(index, source: SourceFile, request, path: list[str]) -> list[Completion]:
    options = c.options_at(path)
    if options is not None:
        items = []
        for opt in options:
            if opt.internal or opt.removed:
                continue
            where = ".".join(path + [opt.name])
            items.append(request.item(opt.name, PROPERTY, opt.type.show(), docs.option(where, opt)))
        return items
    if path[:2] == ["inventory", "machines"] and len(path) == 2:
        return [request.item(m, VARIABLE, "machine", "A machine clan knows of.") for m in index.machines]
    found = c.role_at(path)
    if found is None:
        if len(path) == 4 and path[:2] == ["inventory", "instances"] and path[3] == "roles":
            _declared, resolved = c.resolved(index, source, path[2], request.offset)
            roles = resolved.roles if resolved is not None and resolved.roles is not None else ()
            label = resolved.label if resolved is not None else ""
            return [request.item(r, VARIABLE, "role", f"Role `{r}` of `{label}`.") for r in roles]
        return []
    instance_name, role = found
    tail = path[5:]
    if tail in (["machines"],):
        return [request.item(m, VARIABLE, "machine", "A machine clan knows of.") for m in index.machines]
    if tail == ["tags"]:
        return [request.item(t, VARIABLE, "tag", "A machine tag.") for t in c.tags(index)]
    if c.is_settings(path):
        _declared, resolved = c.resolved(index, source, instance_name, request.offset)
        if resolved is None or (resolved.module is None and resolved.service is None):
            return []
        from ..semantics.instances import role_settings

        options, _ = role_settings(resolved, role)  # INPUTS: also a service of clan-core or another input
        origin = _origin(resolved)
        return [
            request.item(o.name, FIELD, o.type_text or "", docs.role_option(role, o) + origin, f"{o.name} = $1;", snippet=True)
            for o in options
        ]
    return []


# ---- INPUTS: services of clan-core and other flake inputs (clan_lsp.inputs)


def _origin(resolved) -> str:
    """Which source answered, for hover and completion documentation."""
    return f"\n\n_Source: {resolved.service.provenance}_" if resolved is not None and resolved.service is not None else ""


def _module_names(index, source: SourceFile, request, instance_name: str) -> list[Completion] | None:
    """Module names the instance's input provides; None to fall back to the static list."""
    from ..semantics.instances import provided_modules

    _declared, resolved = c.resolved(index, source, instance_name, request.offset)
    if resolved is None or resolved.input == "self":
        return None
    provided = provided_modules(index, resolved.input)
    if provided is None:
        return None if resolved.input is None else []
    owner = "clan-core" if resolved.input is None else f"input {resolved.input}"
    items = [
        request.item(n, MODULE, f"service of {owner}", f"_Source: {provided.provenance}_")
        for n in provided.names
        if n not in provided.deprecated
    ]
    if resolved.input is None:  # `module.input` may come next: this clan's own modules too
        items += [request.item(n, MODULE, "this clan's modules", "") for n in index.modules if n not in provided.names]
    return items


def _input_service_at(index, source: SourceFile, path: list[str]):
    """The resolved instance at a path inside `inventory.instances.<name>`, when an input's
    service (not this clan's module) answers for it."""
    if len(path) < 4 or path[:2] != ["inventory", "instances"]:
        return None
    _declared, resolved = c.resolved(index, source, path[2])
    if resolved is None or resolved.service is None or resolved.module is not None:
        return None
    return resolved


def _service_hover(index, source: SourceFile, path: list[str]) -> str | None:
    """Hover on an instance's module name, a role or a setting of an input's service."""
    resolved = _input_service_at(index, source, path)
    if resolved is None:
        return None
    service, origin = resolved.service, _origin(resolved)
    if path[3:] == ["module", "name"]:
        owner = "clan-core" if service.input is None else f"input `{service.input}`"
        roles = ", ".join(f"`{r}`" for r in service.roles or ()) or "unknown"
        return f"**service `{service.name}`** of {owner} (`{service.label}`)\n\nRoles: {roles}{origin}"
    found = c.role_at(path)
    if found is not None and len(path) == 5:
        described = service.module.values("roles", found[1], "description") if service.module is not None else []
        text = getattr(described[0], "text", None) if described else None
        return f"**role `{found[1]}`** of `{service.label}`" + (f"\n\n{text}" if text else "") + origin
    if found is not None and c.is_settings(path[:-1]):
        option = next((o for o in service.options(found[1]) if o.name == path[-1]), None)
        return docs.role_option(found[1], option) + origin if option is not None else None
    return None


def _service_definition(index, source: SourceFile, path: list[str]) -> list[Location] | None:
    """Into the input's source: the module, a role, a setting; None when no input service answers."""
    resolved = _input_service_at(index, source, path)
    if resolved is None:
        return None
    service, where = resolved.service, None
    found = c.role_at(path)
    if path[3:] == ["module", "name"]:
        where = service.location()
    elif found is not None and len(path) == 5:
        where = service.role_location(found[1])
    elif found is not None and c.is_settings(path[:-1]):
        option = next((o for o in service.options(found[1]) if o.name == path[-1]), None)
        key = getattr(option, "key_node", None)
        if key is not None and option.source is not None:
            where = (option.source.path, key.start_byte, key.end_byte)
    return [Location(*where)] if where else []


def _values(index, source: SourceFile, request, path: list[str]) -> list[Completion]:
    """Strings: module names and inputs, tags, machine classes."""
    if len(path) == 5 and path[:2] == ["inventory", "instances"] and path[3:] == ["module", "name"]:
        per_input = _module_names(index, source, request, path[2])  # INPUTS: names per input
        if per_input is not None:
            return per_input
        names = list(index.modules) + list(schema.CLAN_CORE_SERVICES)
        return [
            request.item(n, MODULE, "this clan's modules" if n in index.modules else "clan-core service", "")
            for n in dict.fromkeys(names)
        ]
    if len(path) == 5 and path[:2] == ["inventory", "instances"] and path[3:] == ["module", "input"]:
        inputs = ["self"] + [i for i in (index.flake_inputs or []) if i != "self"]
        return [request.item(i, VALUE, "flake input", "`self` is this flake.") for i in inputs]
    if c.role_at(path) is not None and path[5:] == ["tags"]:
        return [request.item(t, VARIABLE, "tag", "A machine tag.") for t in c.tags(index)]
    if len(path) == 4 and path[:2] == ["inventory", "machines"] and path[3] == "tags":
        return [request.item(t, VARIABLE, "tag", "A machine tag.") for t in c.tags(index) if t not in schema.IMPLICIT_TAGS]
    if len(path) == 4 and path[:2] == ["inventory", "machines"] and path[3] == "machineClass":
        return [request.item(v, VALUE, "machine class", "") for v in ("nixos", "darwin")]
    return []


# ---------------------------------------------------------------- the name under the cursor


def _key_path(index, source: SourceFile, node: Node) -> list[str] | None:
    """The clan path a binding key names, up to and including the key under the cursor."""
    attrpath = node.parent
    if attrpath is None or attrpath.type != "attrpath" or attrpath.parent is None or attrpath.parent.type != "binding":
        return None
    path = c.path_at(index, source, attrpath.parent.start_byte, node=attrpath.parent)
    if path is None:
        return None
    for segment in attrpath.named_children:
        if segment.type == "comment":
            continue
        path.append(source.text[segment.start_byte : segment.end_byte].decode("utf-8", "replace").strip('"'))
        if segment.id == node.id:
            return path
    return None


def _string_path(index, source: SourceFile, string: Node) -> list[str] | None:
    binding = string.parent
    if binding is None or binding.type != "binding":
        return None
    attrpath = binding.child_by_field_name("attrpath")
    path = c.path_at(index, source, binding.start_byte, node=binding)
    if path is None or attrpath is None:
        return None
    return path + [source.text[a.start_byte : a.end_byte].decode("utf-8", "replace") for a in attrpath.named_children]


def _key_at(index, source: SourceFile, offset: int) -> tuple[Node, list[str]] | None:
    """The binding key under the cursor and its clan path."""
    node = node_at(source, offset, prefer_right=True)
    if node.type != "identifier":
        node = node_at(source, offset)
    if node.type != "identifier":
        return None
    path = _key_path(index, source, node)
    return (node, path) if path is not None else None


def clan_hover(index, source: SourceFile, offset: int) -> HoverInfo | None:
    node = node_at(source, offset, prefer_right=True)
    if node.type in ("string_fragment", "string_expression"):  # INPUTS: a module name of an input
        string = node if node.type == "string_expression" else node.parent
        path = _string_path(index, source, string) if string is not None else None
        markdown = _service_hover(index, source, path) if path is not None else None
        return HoverInfo(markdown, string.start_byte, string.end_byte) if markdown else None
    found_key = _key_at(index, source, offset)
    if found_key is None:
        return None
    node, path = found_key
    markdown = _service_hover(index, source, path)  # INPUTS
    option = c.option_named(path)
    found = c.role_at(path)
    if markdown is not None:
        pass
    elif found is not None and len(path) == 5:
        _declared, resolved = c.resolved(index, source, found[0])
        if resolved is not None and resolved.module is not None:
            description = resolved.module.values("roles", found[1], "description")
            text = getattr(description[0], "text", None) if description else None
            markdown = f"**role `{found[1]}`** of `{resolved.label}`" + (f"\n\n{text}" if text else "")
    elif found is not None and c.is_settings(path[:-1]):
        _declared, resolved = c.resolved(index, source, found[0])
        role_option = c.role_option(resolved.module, found[1], path[-1]) if resolved is not None and resolved.module is not None else None
        if role_option is not None:
            markdown = docs.role_option(found[1], role_option)
    elif path[:1] == ["exportInterfaces"] and len(path) == 2:
        declared = index.interface_specs().get(path[1])
        markdown = docs.interface(declared) if declared is not None else None
    elif option is not None:
        markdown = docs.option(".".join(path), option)
    if not markdown:
        return None
    return HoverInfo(markdown, node.start_byte, node.end_byte)


def clan_definition(index, source: SourceFile, offset: int) -> list[Location] | None:
    """None when the cursor is not on a clan name; a list (maybe empty) otherwise."""
    node = node_at(source, offset, prefer_right=True)
    if node.type in ("string_fragment", "string_expression"):
        string = node if node.type == "string_expression" else node.parent
        path = _string_path(index, source, string)
        if path is None:
            return None
        into_input = _service_definition(index, source, path)  # INPUTS
        if into_input is not None:
            return into_input
        if len(path) == 5 and path[:2] == ["inventory", "instances"] and path[3:] == ["module", "name"]:
            registration = index.modules.get(source.text[string.start_byte + 1 : string.end_byte - 1].decode())
            if registration is None:
                return []
            if registration.path:
                return [Location(registration.path, 0, 0)]
            if registration.inline is not None and registration.inline.body.node is not None:
                body = registration.inline.body.node
                return [Location(registration.source.path, body.start_byte, body.start_byte + 1)]
        return []
    if node.type != "identifier":
        return None
    path = _key_path(index, source, node)
    found = c.role_at(path) if path is not None else None
    if found is None:
        return None
    into_input = _service_definition(index, source, path)  # INPUTS
    if into_input is not None:
        return into_input
    _declared, resolved = c.resolved(index, source, found[0])
    if resolved is None or resolved.module is None:
        return []
    if len(path) == 5:
        return [Location(s.path, n.start_byte, n.end_byte) for s, n in c.role_node(resolved.module, found[1])]
    if c.is_settings(path[:-1]):
        option = c.role_option(resolved.module, found[1], path[-1])
        if option is not None and option.key_node is not None:
            return [Location(option.source.path, option.key_node.start_byte, option.key_node.end_byte)]
    return []


def clan_target(index, source: SourceFile, offset: int):
    """(kind, name, role, interface, module, node) of a renamable clan name under the cursor."""
    found_key = _key_at(index, source, offset)
    if found_key is None:
        return None
    node, path = found_key
    if path[:1] == ["exportInterfaces"] and len(path) == 2:
        return ("interface", path[1], None, None, None, node)
    if path[:1] == ["exportInterfaces"] and len(path) >= 4 and path[-2] == "options":
        return ("field", path[-1], None, path[1], None, node)
    found = c.role_at(path)
    if found is None:
        return None
    _declared, resolved = c.resolved(index, source, found[0])
    module = resolved.module if resolved is not None else None
    if len(path) == 5:
        return ("role", found[1], found[1], None, module, node)
    if c.is_settings(path[:-1]):
        return ("setting", path[-1], found[1], None, module, node)
    return None

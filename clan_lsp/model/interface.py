"""What a role's `interface` declares: the options of its `settings`."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..syntax import Node
from .service import ServiceModule, SourceFile
from .values import AttrSet, Call, Lambda, Str, Value


@dataclass
class RoleOption:
    name: str
    key_node: Node | None
    source: SourceFile
    type_text: str | None = None  # `lib.types.port` as written, shortened to `port`
    default_text: str | None = None
    description: str | None = None
    children: list["RoleOption"] = field(default_factory=list)  # `a.enable = mkEnableOption ...`


def _text(source: SourceFile, node: Node | None) -> str | None:
    if node is None:
        return None
    return source.text[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _short_type(text: str | None) -> str | None:
    if text is None:
        return None
    for prefix in ("lib.types.", "types."):
        text = text.replace(prefix, "")
    return " ".join(text.split())


def _option(name: str, key: Node | None, value: Value | None, source: SourceFile) -> RoleOption:
    option = RoleOption(name, key, source)
    if isinstance(value, Call) and value.name in ("mkOption", "mkEnableOption", "mkPackageOption"):
        if value.name == "mkEnableOption":
            option.type_text = "bool"
            option.default_text = "false"
            described = value.arg(0)
            if isinstance(described, Str) and described.text:
                option.description = f"Whether to enable {described.text}."
            return option
        spec = value.arg(0)
        if isinstance(spec, AttrSet):
            for field_name, attr in (("type_text", "type"), ("default_text", "default")):
                thunks = spec.defs(attr)
                if thunks:
                    setattr(option, field_name, _text(source, thunks[0].thunk.node))
            option.type_text = _short_type(option.type_text)
            description = spec.get("description")
            if isinstance(description, Str) and description.text is not None:
                option.description = description.text.strip()
        return option
    if isinstance(value, AttrSet):
        for child in value.names():
            keys = value.key_nodes(child)
            option.children.append(_option(child, keys[0] if keys else None, value.get(child), source))
    return option


def interface_body(role: Value | None) -> AttrSet | None:
    if not isinstance(role, AttrSet):
        return None
    interface = role.get("interface")
    if isinstance(interface, Lambda):
        interface = interface.body
    return interface if isinstance(interface, AttrSet) else None


def role_options(module: ServiceModule | None, role: str | None) -> list[RoleOption]:
    """The options a role's interface declares, across the module's files (read once per
    module and role: every instance of the service asks)."""
    if module is None or role is None:
        return []
    return list(module.derived(("role options", role), lambda: _role_options(module, role)))


def _role_options(module: ServiceModule, role: str) -> list[RoleOption]:
    found: dict[str, RoleOption] = {}
    for part in module.parts():
        roles = part.effective().get("roles")
        if not isinstance(roles, AttrSet):
            continue
        body = interface_body(roles.get(role))
        if body is None:
            continue
        options = body.get("options")
        if not isinstance(options, AttrSet):
            continue
        for name in options.names():
            keys = options.key_nodes(name)
            found.setdefault(name, _option(name, keys[0] if keys else None, options.get(name), part.source))
    return list(found.values())


def role_names(module: ServiceModule | None) -> list[tuple[str, Node | None, SourceFile]]:
    if module is None:
        return []
    return list(module.derived("role names", lambda: _role_names(module)))


def _role_names(module: ServiceModule) -> list[tuple[str, Node | None, SourceFile]]:
    names: dict[str, tuple[str, Node | None, SourceFile]] = {}
    for part in module.parts():
        roles = part.effective().get("roles")
        if isinstance(roles, AttrSet):
            for name in roles.names():
                keys = roles.key_nodes(name)
                names.setdefault(name, (name, keys[0] if keys else None, part.source))
    return list(names.values())


def closed_interface(module: ServiceModule, role: str) -> bool:
    """Whether a role's interface declares every option statically (no freeform, no imports)."""
    return module.derived(("closed interface", role), lambda: _closed_interface(module, role))


def _closed_interface(module: ServiceModule, role: str) -> bool:
    for part in module.parts():
        roles = part.effective().get("roles")
        if not isinstance(roles, AttrSet) or not roles.has(role):
            continue
        role_value = roles.get(role)
        body = interface_body(role_value)
        if isinstance(role_value, AttrSet) and role_value.has("interface") and body is None:
            return False
        if body is not None:
            options = body.get("options")
            if body.dynamic or body.has("imports") or body.has("freeformType") or (
                options is not None and (not isinstance(options, AttrSet) or options.dynamic)
            ):
                return False
    return not module.is_dynamic()

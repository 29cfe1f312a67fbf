"""Export rules: `manifest.exports.out` gating, interface fields, scope keys."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from ..model import AttrSet, Call, ListValue, ServiceModule, Str, Value
from ..spec import schema
from ..spec import types as t
from ..syntax import Node
from .base import ERROR, INFO, WARNING, Context, Edit, Fix, did_you_mean, rename_fixes, rule
from .literals import mismatches
from ..model.service import exports_out
from .structure import _name_of, body_of, roles_of


@dataclass
class ExportSite:
    """One place that writes exports."""

    where: str  # "exports", "perInstance", "perMachine"
    part: ServiceModule
    key_node: Node | None  # the `exports` attribute name
    value: Value
    role: str | None = None


def export_sites(module: ServiceModule) -> Iterator[ExportSite]:
    for part in module.parts():
        body = part.effective()
        value = body.get("exports")
        if value is not None:
            keys = body.key_nodes("exports")
            yield ExportSite("exports", part, keys[0] if keys else None, value)
        for role_name, role in roles_of(part):
            if isinstance(role, AttrSet):
                result = body_of(role.get("perInstance"))
                if isinstance(result, AttrSet) and result.has("exports"):
                    keys = result.key_nodes("exports")
                    yield ExportSite("perInstance", part, keys[0] if keys else None, result.get("exports"), role_name)
        result = body_of(body.get("perMachine"))
        if isinstance(result, AttrSet) and result.has("exports"):
            keys = result.key_nodes("exports")
            yield ExportSite("perMachine", part, keys[0] if keys else None, result.get("exports"))


def declared_out(ctx: Context) -> tuple[list[str] | None, list[tuple[ServiceModule, Str]]]:
    """The interface names in `manifest.exports.out`; None when not statically known."""
    return exports_out(ctx.module, ctx.generation)


def _interfaces(ctx: Context) -> dict[str, schema.ExportInterface]:
    """Core interfaces of this generation, and the ones the workspace declares."""
    found = {i.name: i for i in schema.EXPORT_INTERFACES if ctx.generation.has(i.since)}
    if ctx.workspace is not None:
        for name, declared in ctx.workspace.interface_specs().items():
            found.setdefault(name, declared)
    return found


def _workspace_is_definitive(ctx: Context) -> bool:
    """The workspace holds a clan configuration, so an undeclared interface is really missing."""
    index = ctx.workspace
    return index is not None and index.complete


def is_empty_value(value: Value | None) -> bool:
    return isinstance(value, AttrSet) and not value.dynamic and not value.names()


@rule("unknown-export-interface", ERROR, "E16", "`manifest.exports.out` names an interface that does not exist")
def unknown_interface(ctx: Context) -> None:
    interfaces = _interfaces(ctx)
    _, literals = declared_out(ctx)
    # clan looks the names up only for the keys a service exports.
    writes_exports = any(not is_empty_value(site.value) for site in export_sites(ctx.module))
    for part, item in literals:
        if item.text in interfaces:
            continue
        close = did_you_mean(item.text, interfaces)
        if close or _workspace_is_definitive(ctx):
            ctx.report(
                item.node,
                f"Export interface: '{item.text}' doesn't exist.{close} Available export interfaces: "
                + ", ".join(sorted(interfaces))
                + (f". Declare it in `clan.exportInterfaces.{item.text}`, or remove it from 'manifest.exports.out'." if not close else ""),
                source=part.source,
                severity=ERROR if writes_exports else WARNING,
                fixes=rename_fixes(item.node, item.text, interfaces, quote=True),
            )
        else:
            ctx.report(
                item.node,
                f"'{item.text}' is not one of clan's core export interfaces ({', '.join(sorted(interfaces))}): "
                f"clan accepts it only when the clan declares `clan.exportInterfaces.{item.text}`.",
                source=part.source,
                severity=INFO,
            )


@rule("exports-not-allowed", ERROR, "E15", "Exports while `manifest.exports.out` is empty")
def exports_not_allowed(ctx: Context) -> None:
    out, _ = declared_out(ctx)
    if out is None or out:
        return
    name = _name_of(ctx.module) or "<manifest.name>"
    interfaces = sorted(_interfaces(ctx))
    for site in export_sites(ctx.module):
        if is_empty_value(site.value):
            continue
        used = sorted(set(interfaces_written(site.value)) & set(interfaces)) or ["<interface>"]
        ctx.report(
            site.key_node,
            f"Service: '{name}' doesn't allow exports: `manifest.exports.out` is empty. List the interfaces "
            f"this service exports, e.g. `manifest.exports.out = [ {' '.join(repr(u).replace(chr(39), chr(34)) for u in used)} ];`. "
            f"Available export interfaces: {', '.join(interfaces)}",
            source=site.part.source,
            fixes=_add_out_fix(ctx.module, [u for u in used if u != "<interface>"]),
        )


def _add_out_fix(module: ServiceModule, names: list[str]) -> tuple[Fix, ...]:
    if not names:
        return ()
    listing = " ".join(f'"{n}"' for n in names)
    for part in module.parts():
        value = part.effective().path("manifest", "exports", "out")
        if isinstance(value, ListValue) and value.node is not None:
            return (Fix(f"Add {listing} to `manifest.exports.out`", (Edit(value.node.start_byte, value.node.end_byte, f"[ {listing} ]"),)),)
    body = module.body.node
    if body is not None and body.child_count and body.children[0].type == "{":
        brace = body.children[0]
        return (
            Fix(
                f"Add `manifest.exports.out = [ {listing} ];`",
                (Edit(brace.end_byte, brace.end_byte, f"\n  manifest.exports.out = [ {listing} ];"),),
            ),
        )
    return ()


def export_values(site: ExportSite) -> Iterator[tuple[str, Value, Node | None]]:
    """(scope label, value, key node) of each export an export site writes."""
    value = site.value
    if isinstance(value, Call) and value.name == "mkExports":
        yield "mkExports", value.arg(0), None
        return
    if isinstance(value, AttrSet):
        for key in value.names():
            item = value.get(key)
            nodes = value.key_nodes(key)
            if item is not None:
                yield key, item, nodes[0] if nodes else None


def interfaces_written(value: Value) -> list[str]:
    if isinstance(value, Call) and value.name == "mkExports":
        inner = value.arg(0)
        return inner.names() if isinstance(inner, AttrSet) else []
    if isinstance(value, AttrSet):
        names: list[str] = []
        for key in value.names():
            item = value.get(key)
            if isinstance(item, AttrSet):
                names += item.names()
        return names
    return []


@rule("export-interface", ERROR, "E17", "An export sets an interface not in `exports.out`, an unknown field or a wrong type")
def export_interfaces(ctx: Context) -> None:
    out, _ = declared_out(ctx)
    interfaces = _interfaces(ctx)
    for site in export_sites(ctx.module):
        for scope, value, _key in export_values(site):
            if not isinstance(value, AttrSet):
                continue
            label = f'exports."{scope}"' if scope != "mkExports" else "exports.<mkExports scope>"
            for iface in value.names():
                keys = value.key_nodes(iface)
                key = keys[0] if keys else None
                if out is not None and out and iface not in out:
                    ctx.report(
                        key,
                        f"The option `{label}.{iface}` does not exist: '{iface}' is not listed in "
                        f"`manifest.exports.out` ({', '.join(out)}).{did_you_mean(iface, out)}",
                        source=site.part.source,
                        fixes=_add_out_fix(ctx.module, sorted(set(out) | {iface})) if iface in interfaces else (),
                    )
                    continue
                interface = interfaces.get(iface)
                if interface is None or interface.open_fields:
                    continue  # not known here, or its fields are not all readable
                field_value = value.get(iface)
                if field_value is None:
                    continue
                for mismatch in mismatches(field_value, t.Submodule(interface.fields), f"{label}.{iface}"):
                    message = mismatch.message
                    missing = re.search(r"\.([^.`]+)` does not exist\.$", message)
                    if missing and missing.group(0).count(".") and mismatch.node is not None:
                        fields = [f.name for f in interface.fields]
                        message = (
                            message[:-1] + f": '{iface}' has {', '.join(fields)}." + did_you_mean(missing.group(1), fields)
                        )
                    ctx.report(mismatch.node, message, source=site.part.source)


def _scope_parts(key: str) -> list[str] | None:
    parts = key.split(":")
    return parts if len(parts) == 4 else None


@rule("export-scope", ERROR, "E18", "An export key with the wrong scope for where it is written")
def export_scope(ctx: Context) -> None:
    service = _name_of(ctx.module)
    for site in export_sites(ctx.module):
        if isinstance(site.value, Call):
            continue
        for key, _value, key_node in export_values(site):
            parts = _scope_parts(key)
            if parts is None:
                ctx.report(
                    key_node,
                    f"parseScope: invalid scope string format. Got '{key}': a scope key has four parts "
                    "`service:instance:role:machine`. Use the provided 'mkExports' utility or buildScopeKey.",
                    source=site.part.source,
                    code="invalid-scope-key",
                )
                continue
            problem = _scope_problem(site, parts, service)
            if problem:
                ctx.report(key_node, problem, source=site.part.source)


def _scope_problem(site: ExportSite, parts: list[str], service: str | None) -> str | None:
    svc, instance, role, machine = parts
    if service is not None and svc != service:
        if site.where == "exports":
            return (
                f'Export scope mismatch: incorrect service name. Services can only export to their own scope '
                f'(here: "{service}:::").'
            )
        return f'Export scope mismatch: incorrect service name: expected "{service}". Use `mkExports` to build the key.'
    if site.where == "perInstance":
        if not instance:
            return "Export scope mismatch: incorrect instance name: perInstance exports must name their instance. Use `mkExports`."
        if site.role is not None and role != site.role:
            return f'Export scope mismatch: incorrect role name: expected "{site.role}". Use `mkExports`.'
        if not machine:
            return "Export scope mismatch: incorrect machine name: perInstance exports must name their machine. Use `mkExports`."
    if site.where == "perMachine" and not machine:
        return "Export scope mismatch: incorrect machine name: perMachine exports must name their machine. Use `mkExports`."
    return None

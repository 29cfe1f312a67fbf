"""Export rules: `manifest.exports.out` gating, interface fields, scope keys."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Callable, Iterator

from ..model import AttrSet, Call, ListValue, ServiceModule, Str, Value
from ..spec import schema
from ..spec import types as t
from ..syntax import Node
from .base import ERROR, INFO, WARNING, Context, Edit, Fix, did_you_mean, option_does_not_exist, rename_fixes, rule
from .literals import mismatches
from ..model.service import exports_out
from .structure import _name_of, body_of, roles_of


@dataclass
class ExportSite:
    """One place that writes exports."""

    where: str  # "exports", "perInstance", "perMachine"
    part_ref: Callable[[], ServiceModule]  # weakly, as arguments.Site: it lives in its module's facts
    key_node: Node | None  # the `exports` attribute name
    value: Value
    role: str | None = None

    @property
    def part(self) -> ServiceModule:
        return self.part_ref()  # type: ignore[return-value]  # alive: its module holds the site


def export_sites(module: ServiceModule) -> list[ExportSite]:
    """Every place of a module that writes exports (found once per module, shared by the rules)."""
    return module.derived("export sites", lambda: list(_export_sites(module)))


def _export_sites(module: ServiceModule) -> Iterator[ExportSite]:
    for part in module.parts():
        body = part.effective()
        value = body.get("exports")
        if value is not None:
            keys = body.key_nodes("exports")
            yield ExportSite("exports", weakref.ref(part), keys[0] if keys else None, value)
        for role_name, role in roles_of(part):
            if isinstance(role, AttrSet):
                result = body_of(role.get("perInstance"))
                if isinstance(result, AttrSet) and result.has("exports"):
                    keys = result.key_nodes("exports")
                    yield ExportSite("perInstance", weakref.ref(part), keys[0] if keys else None, result.get("exports"), role_name)
        result = body_of(body.get("perMachine"))
        if isinstance(result, AttrSet) and result.has("exports"):
            keys = result.key_nodes("exports")
            yield ExportSite("perMachine", weakref.ref(part), keys[0] if keys else None, result.get("exports"))


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
        close = did_you_mean(item.text, interfaces, quote='"')
        if close or _workspace_is_definitive(ctx):
            advice = close or (
                f" (there are {', '.join(sorted(interfaces))}); declare it in `clan.exportInterfaces.{item.text}`"
                " or remove it"
            )
            # clan looks the name up only when the service exports something.
            ctx.report(
                item.node,
                f'Unknown export interface "{item.text}"{advice}',
                source=part.source,
                severity=ERROR if writes_exports else WARNING,
                fixes=rename_fixes(item.node, item.text, interfaces, quote=True) + _remove_from_list(part.source.text, item.node, item.text),
                clan_message=f"Export interface: '{item.text}' doesn't exist\n"
                f"Service: '{_name_of(ctx.module) or '<manifest.name>'}'\n"
                "- Remove it from 'manifest.exports.out'\n"
                f"- Add it to 'clan.exportInterfaces.{item.text}'"
                if writes_exports
                else None,
            )
        else:
            ctx.report(
                item.node,
                f'"{item.text}" is not a core export interface; clan accepts it only if the clan declares '
                f"`clan.exportInterfaces.{item.text}`",
                source=part.source,
                severity=INFO,
                fixes=_remove_from_list(part.source.text, item.node, item.text),
            )


def _remove_from_list(text: bytes, node, name: str) -> tuple[Fix, ...]:
    """Delete one item of a list, with the blank that separates it, keeping the rest as written."""
    if node is None:
        return ()
    start, end = node.start_byte, node.end_byte
    line_start = text.rfind(b"\n", 0, start) + 1
    line_end = text.find(b"\n", end)
    line_end = len(text) if line_end == -1 else line_end
    if not text[line_start:start].strip() and not text[end:line_end].strip():
        start, end = line_start, min(line_end + 1, len(text))  # alone on its line: the whole line
    else:
        while end < len(text) and text[end : end + 1] in (b" ", b"\t"):
            end += 1
        if text[end : end + 1] == b"]":  # last item: take the blank before it instead
            end = node.end_byte
            while start > 0 and text[start - 1 : start] in (b" ", b"\t"):
                start -= 1
            start = min(start + 1, node.start_byte) if text[start - 1 : start] == b"[" else start
    return (Fix(f'Remove "{name}" from `manifest.exports.out`', (Edit(start, end, ""),)),)


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
        known = [u for u in used if u != "<interface>"]
        advice = (
            f"add `manifest.exports.out = [ {' '.join(f'{chr(34)}{u}{chr(34)}' for u in known)} ];`"
            if known
            else "list the interfaces this service exports there"
        )
        ctx.report(
            site.key_node,
            f"Exports while `manifest.exports.out` is empty: {advice}",
            source=site.part.source,
            fixes=_add_out_fix(ctx.module, [u for u in used if u != "<interface>"]),
            # clan's hint suggests an empty list, which is the very problem; our statement says what helps.
            clan_message=f"Service: '{name}' doesn't allow exports\n- Add 'manifest.exports.out = [ ]' to the service",
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
            label = f'exports."{scope if scope != "mkExports" else _mkexports_key(ctx, site)}"'
            for iface in value.names():
                keys = value.key_nodes(iface)
                key = keys[0] if keys else None
                if out is not None and out and iface not in out:
                    listed = ", ".join(f'"{o}"' for o in out)
                    ctx.report(
                        key,
                        f'Export interface "{iface}" is not in `manifest.exports.out` ({listed})'
                        f"{did_you_mean(iface, out, quote=chr(34))}",
                        source=site.part.source,
                        fixes=(_add_out_fix(ctx.module, sorted(set(out) | {iface})) if iface in interfaces else ())
                        + rename_fixes(key, iface, out),
                        clan_message=option_does_not_exist(f"{label}.{iface}"),
                    )
                    continue
                interface = interfaces.get(iface)
                if interface is None or interface.open_fields:
                    continue  # not known here, or its fields are not all readable
                field_value = value.get(iface)
                if field_value is None:
                    continue
                for mismatch in mismatches(field_value, t.Submodule(interface.fields), iface, clan_prefix=f"{label}."):
                    message = mismatch.message
                    direct = mismatch.unknown is not None and mismatch.clan_message == option_does_not_exist(
                        f"{label}.{iface}.{mismatch.unknown}"
                    )
                    fixes: tuple = ()
                    if direct:  # a field of the interface itself: name the ones it has
                        fields = [f.name for f in interface.fields]
                        close = did_you_mean(mismatch.unknown, fields)
                        message = f"Unknown field `{mismatch.unknown}` in export interface \"{iface}\"" + (
                            close or f" (it has {', '.join(f'`{f}`' for f in fields)})"
                        )
                        node = mismatch.node
                        if node is not None and site.part.source.text[node.start_byte : node.end_byte].decode("utf-8", "replace") == mismatch.unknown:
                            fixes = rename_fixes(node, mismatch.unknown, fields)
                    ctx.report(mismatch.node, message, source=site.part.source, clan_message=mismatch.clan_message, fixes=fixes)


def _mkexports_key(ctx: Context, site: ExportSite) -> str:
    """The key `mkExports` builds here, with the parts only evaluation knows as placeholders."""
    service = _name_of(ctx.module) or "<manifest.name>"
    if site.where == "perInstance":
        return f"{service}:<instanceName>:{site.role}:<machineName>"
    if site.where == "perMachine":
        return f"{service}:::<machineName>"
    return f"{service}:::"


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
                    f'Export key "{key}" is not a scope key `service:instance:role:machine`; build it with `mkExports`',
                    source=site.part.source,
                    code="invalid-scope-key",
                    clan_message=f"parseScope: invalid scope string format.\nGot '{key}'\nfix:\n"
                    "- use the provided 'mkExports' utility or\n- use buildScopeKey",
                )
                continue
            problem = _scope_problem(site, key, parts, service)
            if problem:
                ctx.report(key_node, problem[0], source=site.part.source, clan_message=problem[1])


def _scope_problem(site: ExportSite, key: str, parts: list[str], service: str | None) -> tuple[str, str] | None:
    """(our statement, clan's words) for a scope key that does not fit where it is written."""
    svc, instance, role, machine = parts

    def mismatch(part: str, expected: str, problem: str) -> str:
        # checkScope's headline, the key and what it expected, then the problem line of its details
        return f'Export scope mismatch: incorrect {part} name\nScope key: "{key}"\nExpected: "{expected}"\nProblem: {problem}'

    in_context = "Export keys must match their context."
    if service is not None and svc != service:
        if site.where == "exports":
            return (
                f'Export key "{key}" is for service "{svc}"; a service exports only to its own scope ("{service}:::")',
                mismatch("service", f"{service}:...", f'Services can only export to their own scope (here: "{service}:::")'),
            )
        return (
            f'Export key "{key}" is for service "{svc}", not "{service}"; build it with `mkExports`',
            mismatch("service", f"{service}:...", in_context),
        )
    if site.where == "perInstance":
        if not instance:
            return (
                f'Export key "{key}" names no instance; perInstance exports go to their own instance (use `mkExports`)',
                mismatch("instance", ":...:<instanceName>:...", in_context),
            )
        if site.role is not None and role != site.role:
            return (
                f'Export key "{key}" names role "{role}" inside role "{site.role}"; build it with `mkExports`',
                mismatch("role", f":...:{site.role}:...", in_context),
            )
        if not machine:
            return (
                f'Export key "{key}" names no machine; perInstance exports go to their own machine (use `mkExports`)',
                mismatch("machine", ":...:<machineName>", in_context),
            )
    if site.where == "perMachine" and not machine:
        return (
            f'Export key "{key}" names no machine; perMachine exports go to their own machine (use `mkExports`)',
            mismatch("machine", ":...:<machineName>", in_context),
        )
    return None

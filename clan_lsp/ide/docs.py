"""Markdown for spec items, shared by hover and completion documentation."""

from __future__ import annotations

from ..model.interface import RoleOption
from ..spec import schema
from ..spec import types as t


def _version_notes(since: str | None, removed: str | None, replaced_by: str | None) -> list[str]:
    notes = []
    if since:
        notes.append(f"Since clan-core {since}.")
    if removed:
        notes.append(f"**Removed** from clan-core on {removed}." + (f" Replaced by `{replaced_by}`." if replaced_by else ""))
    return notes


def option(path: str, opt: schema.Option) -> str:
    lines = [f"**`{path}`** · `{opt.type.show()}`" + (" · required" if opt.required else "")]
    lines.append("")
    lines.append(opt.doc)
    facts = []
    if opt.default is not None:
        facts.append(f"Default: `{opt.default}`")
    if isinstance(opt.type, t.ListOf) and isinstance(opt.type.element, t.Enum):
        facts.append("Allowed: " + ", ".join(f"`{v}`" for v in opt.type.element.values))
    if facts:
        lines += ["", " · ".join(facts)]
    children = opt.child_names()
    if children:
        lines += ["", "Options: " + ", ".join(f"`{c}`" for c in children)]
    notes = _version_notes(opt.since, opt.removed, opt.replaced_by)
    if notes:
        lines += ["", " ".join(notes)]
    return "\n".join(lines)


def argument(where: str, arg: schema.Argument) -> str:
    lines = [f"**`{arg.name}`** · `{arg.type}` · argument of {where}", "", arg.doc]
    if arg.fields:
        lines += ["", "Fields: " + ", ".join(f"`{f.name}`" for f in arg.fields)]
    if arg.since:
        lines += ["", f"Since clan-core {arg.since}."]
    return "\n".join(lines)


def interface(iface: schema.ExportInterface) -> str:
    lines = [f"**export interface `{iface.name}`**", "", iface.doc, ""]
    for f in iface.fields:
        default = f" = `{f.default}`" if f.default is not None else ""
        lines.append(f"- `{f.name}` · `{f.type.show()}`{default}: {f.doc}")
    if iface.since:
        lines += ["", f"Core interface since clan-core {iface.since}. List it in `manifest.exports.out` to export it."]
    else:
        lines += ["", "A custom interface of this workspace. List it in `manifest.exports.out` to export it."]
    return "\n".join(lines)


def interface_field(iface: str, f: schema.Option) -> str:
    lines = [f"**`{iface}.{f.name}`** · `{f.type.show()}`", "", f.doc]
    if f.default is not None:
        lines += ["", f"Default: `{f.default}`"]
    return "\n".join(lines)


def helper(h: schema.Helper) -> str:
    lines = [f"**`clanLib.{h.name}`**", "", "```nix", f"{h.name} :: {h.signature}", "```", "", h.doc]
    if h.since:
        lines += ["", f"On `clanLib` directly since clan-core {h.since}."]
    return "\n".join(lines)


def scope_field(f: schema.Option) -> str:
    return f"**`{f.name}`** · `str` · part of a parsed scope key\n\n{f.doc}"


def role_option(role: str, opt: RoleOption) -> str:
    lines = [f"**`settings.{opt.name}`**" + (f" · `{opt.type_text}`" if opt.type_text else "") + f" · role `{role}`"]
    if opt.description:
        lines += ["", opt.description]
    if opt.default_text is not None:
        lines += ["", f"Default: `{opt.default_text}`"]
    if opt.children:
        lines += ["", "Options: " + ", ".join(f"`{c.name}`" for c in opt.children)]
    return "\n".join(lines)


def category(name: str) -> str:
    return f"**category `{name}`**\n\nOne of the 16 categories a service may be listed under."

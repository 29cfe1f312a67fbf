"""Argument rules: what perInstance, perMachine, interface and the module function are passed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from ..model import AttrSet, Lambda, ServiceModule
from ..model.scope import binder_of
from ..spec import schema
from ..syntax import Node
from .base import ERROR, WARNING, Context, Edit, Fix, did_you_mean, rename_fixes, rule
from .structure import results_of, roles_of

_MODULE_SYSTEM = ("lib", "config", "options", "specialArgs", "_class", "_prefix")
# NixOS and nix-darwin pass these (and more) to every module function.
_OS_MODULE_ARGS = _MODULE_SYSTEM + ("pkgs", "modulesPath")


@dataclass
class Site:
    """A function clan calls, and what it passes."""

    label: str  # "perInstance", "perMachine", "interface", "the service module"
    function: Lambda
    part: ServiceModule
    passed: tuple[str, ...]  # every argument clan passes
    kind: str


def sites(module: ServiceModule) -> Iterator[Site]:
    per_instance = tuple(a.name for a in schema.PER_INSTANCE_ARGS)
    per_machine = tuple(a.name for a in schema.PER_MACHINE_ARGS) + ("settings",)
    interface = _MODULE_SYSTEM + ("meta",)
    module_args = tuple(a.name for a in schema.MODULE_ARGS)
    for part in module.parts():
        if part.function is not None and part.function.formals is not None:
            yield Site("the service module", part.function, part, module_args, "module")
        for role_name, role in roles_of(part):
            if not isinstance(role, AttrSet):
                continue
            for key, passed in (("perInstance", per_instance), ("interface", interface)):
                value = role.get(key)
                if isinstance(value, Lambda):
                    yield Site(key, value, part, passed, key)
        value = part.effective().get("perMachine")
        if isinstance(value, Lambda):
            yield Site("perMachine", value, part, per_machine, "perMachine")
        for _where, result in results_of(part):
            for key in ("nixosModule", "darwinModule"):
                value = result.get(key)
                if isinstance(value, Lambda):
                    yield Site(key, value, part, _OS_MODULE_ARGS, "osModule")


def used_names(site: "Site") -> set[str]:
    """Names read as variables in a function's body (shadowing is not tracked)."""
    body = site.function.body_thunk.node
    if body is None:
        return set()
    text = site.part.source.text
    return {text[start:end].decode("utf-8", "replace") for start, end in site.part.source.tree.index.variable_spans_in(body)}


@rule("missing-ellipsis", ERROR, "E7", "A function clan calls without `...` in its arguments")
def missing_ellipsis(ctx: Context) -> None:
    for site in sites(ctx.module):
        function = site.function
        if function.ellipsis or function.formals is None:
            continue
        listed = {f.name for f in function.formals}
        unexpected = [name for name in site.passed if name not in listed]
        if not unexpected:
            continue
        first = "meta" if "meta" in unexpected else unexpected[0]
        formals = function.formals_node
        fixes: tuple[Fix, ...] = ()
        if formals is not None and formals.child_count and formals.children[-1].type == "}":
            close = formals.children[-1]
            previous = close.prev_sibling
            separator = " " if previous is not None and previous.type in ("{", ",") else ", "
            if previous is not None and previous.type == "{":
                separator = " "
            fixes = (Fix("Add `...` to the arguments", (Edit(close.start_byte, close.start_byte, f"{separator}... "),)),)
        ctx.report(
            formals,
            f"'{site.label}' called with unexpected argument '{first}': clan passes more arguments than "
            f"listed here. Add `...` to the argument set.",
            source=site.part.source,
            fixes=fixes,
        )


def _available(site: Site) -> list[str]:
    return [n for n in site.passed if not (site.kind == "perMachine" and n == "settings")]


@rule("unknown-argument", ERROR, "E6", "An argument clan does not pass (error where used, warning where unused)")
def unknown_arguments(ctx: Context) -> None:
    for site in sites(ctx.module):
        if site.kind in ("module", "osModule"):
            continue  # see module-argument; NixOS arguments are open-ended (_module.args)
        function = site.function
        used = used_names(site)
        available = _available(site)
        for formal in function.formals or ():
            if formal.name in site.passed or formal.has_default:
                continue
            is_used = formal.name in used
            ctx.report(
                formal.node,
                f"attribute '{formal.name}' missing: clan passes no argument `{formal.name}` to {site.label}"
                f"{' (it is read here, so evaluation fails)' if is_used else ''}.{did_you_mean(formal.name, available)}"
                f" {site.label} gets: {', '.join(a for a in available if a not in _MODULE_SYSTEM)}.",
                source=site.part.source,
                severity=ERROR if is_used else WARNING,
                fixes=rename_fixes(formal.node, formal.name, available),
            )
        for attr_node, name in _param_selects(site):
            if name in site.passed:
                continue
            ctx.report(
                attr_node,
                f"attribute '{name}' missing: clan passes no argument `{name}` to {site.label}.{did_you_mean(name, available)}",
                source=site.part.source,
            )


def _param_selects(site: "Site") -> list[tuple[Node, str]]:
    """`args.foo` for `args: ...` or `{...}@args: ...`."""
    function = site.function
    body = function.body_thunk.node
    if body is None or function.param is None:
        return []
    text = site.part.source.text
    param = function.param.encode()
    found = []
    for select in site.part.source.tree.index.selects_in(body):
        if select.has_default or select.base_text != param:
            continue
        first = select.path.named_children[0] if select.path.named_children else None
        if first is not None and first.type == "identifier":
            found.append((first, text[first.start_byte : first.end_byte].decode()))
    return found


@rule("per-machine-settings", ERROR, "E5", "perMachine asks for `settings`, which clan defines to throw")
def per_machine_settings(ctx: Context) -> None:
    for site in sites(ctx.module):
        if site.kind != "perMachine":
            continue
        formal = site.function.formal("settings")
        if formal is None or formal.has_default:
            continue
        is_used = "settings" in used_names(site)
        ctx.report(
            formal.node,
            schema.PER_MACHINE_SETTINGS_MESSAGE
            + ("" if is_used else " (Not read here, so nothing fails yet.)"),
            source=site.part.source,
            severity=ERROR if is_used else WARNING,
        )


@rule("module-argument", WARNING, "E6", "The service module function asks for an argument clan does not pass (e.g. `pkgs`)")
def module_argument(ctx: Context) -> None:
    for site in sites(ctx.module):
        if site.kind != "module" or site.part.wrappers:
            continue
        for formal in site.function.formals or ():
            if formal.name in site.passed or formal.has_default:
                continue
            hint = " Use `pkgs` inside `nixosModule` instead." if formal.name == "pkgs" else ""
            ctx.report(
                formal.node,
                f"clan passes no argument `{formal.name}` to a service module, so reading it fails with "
                f"\"attribute '{formal.name}' missing\" (unless this file is applied with importApply).{hint}",
                source=site.part.source,
            )


@rule("role-settings-deprecated", WARNING, None, "Reading role-level `roles.<role>.settings` (clan warns; to be removed)")
def role_settings(ctx: Context) -> None:
    for site in sites(ctx.module):
        if site.kind == "perInstance":
            base, depth = "roles", 2  # roles.<r>.settings
        elif site.kind == "perMachine":
            base, depth = "instances", 4  # instances.<i>.roles.<r>.settings
        else:
            continue
        if site.function.formal(base) is None:
            continue
        body = site.function.body_thunk.node
        if body is None:
            continue
        text = site.part.source.text
        for select in site.part.source.tree.index.selects_in(body):
            if select.has_attr or select.base_text.decode() != base:
                continue
            attrs = select.path.named_children
            if len(attrs) < depth:
                continue
            last = attrs[depth - 1]
            if last.type != "identifier" or text[last.start_byte : last.end_byte] != b"settings":
                continue
            if depth == 4 and text[attrs[1].start_byte : attrs[1].end_byte] != b"roles":
                continue
            ctx.report(
                last,
                "'roles.<roleName>.settings' do not contain machine specific settings. Prefer "
                "`machines.<machineName>.settings` instead. (i.e `perInstance: "
                "roles.<roleName>.machines.<machineName>.settings`) This feature will be removed in the next release.",
                source=site.part.source,
            )


@rule("unknown-setting-read", ERROR, "E13", "perInstance reads `settings.<name>` that the role's interface does not declare")
def unknown_setting_read(ctx: Context) -> None:
    from ..model.interface import closed_interface, role_options

    for site in sites(ctx.module):
        if site.kind != "perInstance" or site.function.formal("settings") is None:
            continue
        role = _role_of(site)
        if role is None or not closed_interface(ctx.module, role):
            continue
        declared = [o.name for o in role_options(ctx.module, role)]
        body = site.function.body_thunk.node
        if body is None:
            continue
        text = site.part.source.text
        formal = site.function.formal("settings").node
        for select in site.part.source.tree.index.selects_in(body):
            if select.has_default or select.base_text != b"settings":
                continue
            scope = binder_of(select.base, text, site.part.source.tree.root)
            if scope is None or scope.binder.id != formal.id:
                continue  # an inner function's own `settings`
            first = select.path.named_children[0] if select.path.named_children else None
            if first is None or first.type != "identifier":
                continue
            name = text[first.start_byte : first.end_byte].decode()
            if name in declared:
                continue
            ctx.report(
                first,
                f"attribute '{name}' missing: the interface of role '{role}' declares "
                f"{', '.join(declared) or 'no options'}.{did_you_mean(name, declared)}",
                source=site.part.source,
                fixes=rename_fixes(first, name, declared),
            )


def _role_of(site: Site) -> str | None:
    for role_name, role in roles_of(site.part):
        if isinstance(role, AttrSet) and role.get("perInstance") is site.function:
            return role_name
    return None

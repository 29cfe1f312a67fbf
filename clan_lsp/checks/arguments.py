"""Argument rules: what perInstance, perMachine, interface and the module function are passed."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Callable, Iterator

from ..model import AttrSet, Lambda, ServiceModule, SourceFile
from ..model.scope import binder_of
from ..spec import schema
from ..syntax import Node
from .base import ERROR, WARNING, Context, Edit, Fix, attribute_missing, did_you_mean, rename_fixes, rule
from .structure import results_of, roles_of

_MODULE_SYSTEM = ("lib", "config", "options", "specialArgs", "_class", "_prefix")
# NixOS and nix-darwin pass these (and more) to every module function.
_OS_MODULE_ARGS = _MODULE_SYSTEM + ("pkgs", "modulesPath")


@dataclass
class Site:
    """A function clan calls, and what it passes."""

    label: str  # "perInstance", "perMachine", "interface", "the service module"
    function: Lambda
    # weakly: sites live in their module's derived facts, and a cycle through them kept each
    # keystroke's whole model for the collector (tens of ms every couple hundred keystrokes)
    part_ref: Callable[[], ServiceModule]
    passed: tuple[str, ...]  # every argument clan passes
    kind: str
    used: set[str] | None = field(default=None, repr=False, compare=False)  # see used_names

    @property
    def part(self) -> ServiceModule:
        return self.part_ref()  # type: ignore[return-value]  # alive: its module holds the site


def sites(module: ServiceModule) -> list[Site]:
    """The functions clan calls in a module (found once per module, shared by the rules)."""
    return module.derived("argument sites", lambda: list(_sites(module)))


def _sites(module: ServiceModule) -> Iterator[Site]:
    per_instance = tuple(a.name for a in schema.PER_INSTANCE_ARGS)
    per_machine = tuple(a.name for a in schema.PER_MACHINE_ARGS) + ("settings",)
    interface = _MODULE_SYSTEM + ("meta",)
    module_args = tuple(a.name for a in schema.MODULE_ARGS)
    for part in module.parts():
        if part.function is not None and part.function.formals is not None:
            yield Site("the service module", part.function, weakref.ref(part), module_args, "module")
        for role_name, role in roles_of(part):
            if not isinstance(role, AttrSet):
                continue
            for key, passed in (("perInstance", per_instance), ("interface", interface)):
                value = role.get(key)
                if isinstance(value, Lambda):
                    yield Site(key, value, weakref.ref(part), passed, key)
        value = part.effective().get("perMachine")
        if isinstance(value, Lambda):
            yield Site("perMachine", value, weakref.ref(part), per_machine, "perMachine")
        for _where, result in results_of(part):
            for key in ("nixosModule", "darwinModule"):
                value = result.get(key)
                if isinstance(value, Lambda):
                    yield Site(key, value, weakref.ref(part), _OS_MODULE_ARGS, "osModule")


def used_names(site: "Site") -> set[str]:
    """Names read as variables in a function's body (shadowing is not tracked); once per site."""
    if site.used is None:
        body = site.function.body_thunk.node
        text = site.part.source.text
        spans = site.part.source.tree.index.variable_spans_in(body) if body is not None else ()
        site.used = {text[start:end].decode("utf-8", "replace") for start, end in spans}
    return site.used


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
            # right after the last argument (or comma), so the layout before `}` stays
            at = previous.end_byte if previous is not None else close.start_byte
            fixes = (Fix("Add `...` to the arguments", (Edit(at, at, f"{separator}..."),), safe=True),)
        ctx.report(
            formals,
            f"Missing `...` in the arguments of {_named(site)}: clan also passes `{first}`",
            source=site.part.source,
            fixes=fixes,
            clan_message=f"{_nix_function_name(site)} at {_nix_position(site)} called with unexpected argument '{first}'",
        )


def _named(site: Site) -> str:
    return site.label if site.kind == "module" else f"`{site.label}`"


def _nix_function_name(site: Site) -> str:
    """How Nix names the function in its errors: by the attribute it is bound to."""
    return "anonymous function" if site.kind == "module" else f"'{site.label}'"


def _nix_position(site: Site) -> str:
    node = site.function.node
    if node is None:
        return site.part.source.path or "<file>"
    row, column = node.start_point
    return f"{site.part.source.path or '<file>'}:{row + 1}:{column + 1}"


def _available(site: Site) -> list[str]:
    return [n for n in site.passed if not (site.kind == "perMachine" and n == "settings")]


@rule("unknown-argument", ERROR, "E6", "An argument clan does not pass (error where used, warning where unused)")
def unknown_arguments(ctx: Context) -> None:
    for site in sites(ctx.module):
        if site.kind in ("module", "osModule"):
            continue  # see module-argument; NixOS arguments are open-ended (_module.args)
        function = site.function
        available = _available(site)
        for formal in function.formals or ():
            if formal.name in site.passed or formal.has_default:
                continue
            is_used = formal.name in used_names(site)  # read only for an argument clan does not pass
            # An argument is looked up only when read: unread, clan says nothing.
            ctx.report(
                formal.node,
                _no_such_argument(site, formal.name, available) + ("" if is_used else "; unused here, so nothing fails"),
                source=site.part.source,
                severity=ERROR if is_used else WARNING,
                fixes=rename_fixes(formal.node, formal.name, available),
                clan_message=attribute_missing(formal.name) if is_used else None,
            )
        for attr_node, name in _param_selects(site):
            if name in site.passed:
                continue
            ctx.report(
                attr_node,
                _no_such_argument(site, name, available),
                source=site.part.source,
                clan_message=attribute_missing(name),
            )


def _no_such_argument(site: Site, name: str, available: list[str]) -> str:
    close = did_you_mean(name, available)
    if close:
        return f"{_named(site)} gets no argument `{name}`{close}"
    passed = ", ".join(f"`{a}`" for a in available if a not in _MODULE_SYSTEM)
    return f"{_named(site)} gets no argument `{name}` (it gets {passed})"


def _param_selects(site: "Site") -> list[tuple[Node, str]]:
    """`args.foo` for `args: ...` or `{...}@args: ...`."""
    function = site.function
    body = function.body_thunk.node
    if body is None or function.param is None:
        return []
    text = site.part.source.text
    param = function.param.encode()
    found = []
    for select in site.part.source.tree.index.selects_of(param, body):
        if select.has_default:
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
        # clan's `settings` here is a throw: unread, it never fires.
        ctx.report(
            formal.node,
            "`perMachine` gets no `settings`: settings belong to an instance and role (read them in `perInstance`)"
            + ("" if is_used else "; unused here, so nothing fails yet"),
            source=site.part.source,
            severity=ERROR if is_used else WARNING,
            clan_message=schema.PER_MACHINE_SETTINGS_MESSAGE if is_used else None,
        )


@rule("module-argument", WARNING, "E6", "The service module function asks for an argument clan does not pass (e.g. `pkgs`)")
def module_argument(ctx: Context) -> None:
    for site in sites(ctx.module):
        if site.kind != "module" or site.part.wrappers:
            continue
        for formal in site.function.formals or ():
            if formal.name in site.passed or formal.has_default:
                continue
            hint = "; use `pkgs` inside `nixosModule`" if formal.name == "pkgs" else ""
            ctx.report(
                formal.node,
                f"A service module gets no argument `{formal.name}` (unless the file is applied with importApply){hint}",
                source=site.part.source,
                clan_message=attribute_missing(formal.name),
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
        wanted = base.encode()
        for select in site.part.source.tree.index.selects_of(wanted, body, spelling=b"settings"):
            if select.has_attr:
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
                "Role-level settings are deprecated (they lack the per-machine values); read "
                "`roles.<role>.machines.<machine>.settings`",
                source=site.part.source,
                clan_message="'roles.<roleName>.settings' do not contain machine specific settings.\n"
                "Prefer `machines.<machineName>.settings` instead. (i.e `perInstance: "
                "roles.<roleName>.machines.<machineName>.settings`)\n"
                "This feature will be removed in the next release",
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
        if site.function.param == "settings":  # `{ settings, ... }@settings:` binds it twice
            continue
        for name, first in _settings_reads(site.part.source, body):
            if name in declared:
                continue
            close = did_you_mean(name, declared)
            ctx.report(
                first,
                f"Role `{role}` has no setting `{name}`"
                + (close or f" (its interface declares {', '.join(f'`{d}`' for d in declared) or 'none'})"),
                source=site.part.source,
                fixes=rename_fixes(first, name, declared),
                clan_message=attribute_missing(name),
            )


def _settings_reads(source: SourceFile, body: Node) -> list[tuple[str, Node]]:
    """(name, node) of each `settings.<name>` read in a perInstance body that its formal
    binds: found once per version of the file (a module's other files, unchanged while
    one is typed in, are checked again on every keystroke)."""
    return source.derived(("settings reads", body.start_byte, body.end_byte), lambda: list(_find_settings_reads(source, body)))


def _find_settings_reads(source: SourceFile, body: Node) -> Iterator[tuple[str, Node]]:
    text = source.text
    for select in source.tree.index.selects_of(b"settings", body):
        if select.has_default:
            continue
        # Bound inside the body (an inner function's or let's own `settings`), or else by
        # perInstance's formal: the scopes below the body are searched, not the module's
        # from its root (11 selects a keystroke in a small service cost 1 ms that way).
        if binder_of(select.base, text, body) is not None:
            continue
        first = select.path.named_children[0] if select.path.named_children else None
        if first is not None and first.type == "identifier":
            yield text[first.start_byte : first.end_byte].decode(), first


def _role_of(site: Site) -> str | None:
    for role_name, role in roles_of(site.part):
        if isinstance(role, AttrSet) and role.get("perInstance") is site.function:
            return role_name
    return None

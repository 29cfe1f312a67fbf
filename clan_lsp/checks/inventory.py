"""Inventory rules: instances checked against the modules they use (needs the workspace).

These look at a clan configuration rather than a service module, so they run over the
workspace index; each still is a small named rule with a stable code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Callable

from .. import inputs
from ..model import AttrSet, SourceFile, Str, Value
from ..spec import schema
from ..spec.versions import NEWEST, Generation
from ..syntax import Node
from ..workspace.index import InstanceDecl, WorkspaceIndex, parse_type
from .base import ERROR, WARNING, Finding, did_you_mean, option_does_not_exist, rename_fixes
from .literals import mismatches

from ..semantics.instances import (  # noqa: F401 - re-exported for rules written against this module
    INSTANCE_KEYS, ROLE_KEYS, Resolved, input_service, module_ref, provided_modules, resolve_instance, resolve_module,
    resolved_instances,
    role_settings, settings_sites, workspace_root,
)


@dataclass
class InventoryContext:
    index: WorkspaceIndex
    generation: Generation = NEWEST
    code: str = ""
    severity: str = ERROR
    catalogue: str | None = None
    findings: list[Finding] = field(default_factory=list)

    def report(
        self, source: SourceFile, node: Node | None, message: str, *, severity: str | None = None, fixes=(), clan_message: str | None = None
    ) -> None:
        if node is None:
            return
        self.findings.append(
            Finding(
                self.code, severity or self.severity, node.start_byte, node.end_byte, message, source.path, tuple(fixes),
                self.catalogue, clan_message,
            )
        )


@dataclass(frozen=True)
class InventoryRule:
    code: str
    severity: str
    catalogue: str | None
    summary: str
    run: Callable[[InventoryContext], None]
    per_instance: bool = True


INVENTORY_RULES: list[InventoryRule] = []


def inventory_rule(code: str, severity: str, catalogue: str | None, summary: str, per_instance: bool = True):
    """Register an inventory rule. A `per_instance` rule looks at one instance at a time
    (through `ctx.index.instances`/`resolved_instances`), so its findings can be reused
    while the instance's text, its module and the clan around it stay the same."""

    def register(function):
        INVENTORY_RULES.append(InventoryRule(code, severity, catalogue, summary, function, per_instance))
        return function

    return register


@dataclass
class _InventoryRun:
    """The inventory findings of one index and generation, per instance, so that an edit to a
    module re-checks only the instances that use it (`WorkspaceIndex.module_changed`), and the
    next index (an edit to the clan file) reuses the rows of the instances whose text is the same."""

    whole_clan: list[Finding]  # the rules that are not per instance
    instances: list[InstanceDecl]  # the index's
    machines: list  # the index's `clan_machines`
    # per instance, in the same order: (its findings, the module name used (None: unknown), its
    # key in the store and the entry kept there (None: its findings are not kept, see
    # `_instance_row`), where the instance started when its findings were placed)
    rows: list[tuple]
    clan: int  # `_clan_fingerprint`
    module_names: int  # `_module_names`
    stale: set[str] = field(default_factory=set)  # modules edited since
    findings: list[Finding] | None = None

    def all(self) -> list[Finding]:
        if self.findings is None:
            self.findings = self.whole_clan + [f for row in self.rows for f in row[0]]
        return self.findings


def run_inventory_rules(index: WorkspaceIndex, generation: Generation = NEWEST, path: str | None = None) -> list[Finding]:
    """Every inventory finding of the workspace (computed once per index and generation; after
    an edit to a module, again for the instances that use it; after an edit to the clan file,
    again for the instances whose text changed)."""
    runs = index._derived.setdefault("inventory", {})
    run = runs.get(generation)
    per_instance = [r for r in INVENTORY_RULES if r.per_instance]
    if run is None:
        context = InventoryContext(index, generation)
        _run(context, [r for r in INVENTORY_RULES if not r.per_instance])
        clan = _clan_fingerprint(index, generation)
        previous = (getattr(index, "previous_inventory", None) or {}).get(generation)
        rows = _carried_rows(index, generation, previous, per_instance, clan)
        if rows is None:
            used: dict = {}
            rows = [_instance_row(index, generation, instance, per_instance, clan, used) for instance in index.instances]
            store = getattr(index, "instance_findings", None)
            if store is not None:  # keep what this clan still has, so the store does not grow
                store.clear()
                store.update(used)
        index.previous_inventory = None  # let the last index's rows go
        run = runs[generation] = _InventoryRun(context.findings, index.instances, getattr(index, "clan_machines", []), rows, clan, _module_names(index))
    elif run.stale:
        clan = _clan_fingerprint(index, generation)
        stale, run.stale = run.stale, set()
        run.rows = [
            _instance_row(index, generation, instance, per_instance, clan, {}) if row[1] is None or row[1] in stale else row
            for instance, row in zip(run.instances, run.rows)
        ]
        run.findings = None
    findings = run.all()
    if path is not None:
        return [f for f in findings if f.path == path]
    return findings


def _carried_rows(index: WorkspaceIndex, generation: Generation, previous: "_InventoryRun | None", rules: list, clan: int) -> list[tuple] | None:
    """The rows of the last index's run for the instances whose binding has the same bytes
    (`InstanceDecl.same_as`), their findings moved to where the instance is now, while what
    else they depend on is the same (as `_instance_row` checks a stored entry); the other
    instances checked again. None: no such run."""
    store = getattr(index, "instance_findings", None)
    if previous is None or previous.stale or previous.clan != clan or store is None:
        return None
    instances, old_rows = index.instances, previous.rows
    same_as = [instance.same_as for instance in instances]
    # what the findings of an instance whose text is the same depend on, as before for all?
    targets = getattr(index, "targets_as_before", False)
    names = previous.module_names == _module_names(index)
    machines = _same_machines(previous.machines, getattr(index, "clan_machines", None))
    if targets and names and machines:  # the rows as they were
        rows = [old_rows[same] if same is not None else None for same in same_as]
    else:  # each row whose entry still holds
        holds = _Holds(index, targets, names, machines, _machines_gone(previous.machines, getattr(index, "clan_machines", None)))
        rows = [holds.row(old_rows[same], instance) if same is not None else None for same, instance in zip(same_as, instances)]
    checked = set()
    for position, row in enumerate(rows):
        if row is None or row[3] is None:
            rows[position] = row = _instance_row(index, generation, instances[position], rules, clan, {})
            checked.add(row[2])
        elif row[0]:  # findings: where the instance is now
            now = instances[position].span()[0]
            if now != row[4]:
                rows[position] = ([_shifted(f, now) for f in row[3][5]], row[1], row[2], row[3], now)
    # the store keeps what this clan still has: not the entries of instances gone or changed
    for number in set(range(len(old_rows))) - set(same_as):
        key = old_rows[number][2]
        if key is not None and key not in checked:
            store.pop(key, None)
    return rows


class _Holds:
    """Whether a row's stored entry holds in a new index (as `_instance_row` checks an entry),
    asking only what is not known to be as before for every instance."""

    def __init__(self, index: WorkspaceIndex, targets: bool, names: bool, machines: bool, gone: frozenset | None) -> None:
        self.index, self.targets, self.names, self.machines = index, targets, names, machines
        self.gone = gone  # see `_machines_gone`

    def row(self, row: tuple, instance: InstanceDecl) -> tuple | None:
        entry = row[3]
        if entry is None:
            return None
        ref, target, named, seen, modules, _relative = entry
        if not self.targets and _target(self.index, ref) is not target:
            return None
        if target is None and not self.names and modules != _module_names(self.index):
            return None
        if not self.machines:
            if self.gone is not None:  # known before, still known unless gone (else its suggestions change)
                if seen is not True or not self.gone.isdisjoint(named):
                    return None
            elif _machines_seen(instance, named) != seen:
                return None
        return row


def _machines_gone(before: list, now: list | None) -> frozenset | None:
    """With one clan in each index, both knowing their machines: the machine names no longer
    known (an instance that knew all it names still does, unless it names one of these)."""
    if now is None or len(before) != 1 or len(now) != 1 or before[0] is None or now[0] is None:
        return None
    return before[0].known - now[0].known


def _same_machines(before: list, now: list | None) -> bool:
    """Whether every instance of both indexes knows the same machines: those of one clan (or
    none) in each, of the same names."""
    if now is None or len(before) != len(now) or len(now) > 1:
        return False
    if not now:
        return True
    was, is_ = before[0], now[0]
    if was is None or is_ is None:
        return was is is_
    return was is is_ or was.names == is_.names


def _run(context: "InventoryContext", rules: list["InventoryRule"]) -> None:
    for registered in rules:
        context.code, context.severity, context.catalogue = registered.code, registered.severity, registered.catalogue
        registered.run(context)


class _OneInstance:
    """The index as one instance's rules see it: everything, but only that instance."""

    def __init__(self, index: WorkspaceIndex, instance: InstanceDecl) -> None:
        self._index = index
        self.instances = [instance]
        self._derived: dict = {}

    def __getattr__(self, name: str):
        return getattr(self._index, name)


def _clan_fingerprint(index: WorkspaceIndex, generation: Generation) -> int:
    """What every instance's findings depend on besides the instance, its module and the
    machines it names."""
    return hash((generation.date, index.complete, tuple(index.flake_inputs or ())))


def _module_names(index: WorkspaceIndex) -> int:
    """The names in `clan.modules`: an instance whose module is not found is told which are close."""
    if "module-names" not in index._derived:
        index._derived["module-names"] = hash(tuple(index.modules))
    return index._derived["module-names"]


def _named_machines(instance: InstanceDecl) -> tuple[str, ...]:
    """The machines an instance's roles name (what unknown-machine looks up)."""
    roles = instance.value.get("roles")
    if not isinstance(roles, AttrSet):
        return ()
    named: list[str] = []
    for role in roles.names():
        machines = roles.path(role, "machines")
        if isinstance(machines, AttrSet):
            named.extend(machines.names())
    return tuple(named)


def _machines_seen(instance: InstanceDecl, named: tuple[str, ...]):
    """What the machines the instance names look like in the clan: known or not, and when
    one is not, every name (the suggestion is picked among them)."""
    machines = instance.machines
    if machines is None:
        return None
    known = machines.known
    if all(name in known for name in named):
        return True
    return tuple(name in known for name in named), machines.fingerprint


def _instance_row(index: WorkspaceIndex, generation: Generation, instance: InstanceDecl, rules: list, clan: int, used: dict) -> tuple:
    """The per-instance rules' findings for one instance as a row of `_InventoryRun`, reused
    from the store while nothing they read changed: typing elsewhere in a clan file of a
    thousand instances re-checks one. An instance whose text is the same is not even read:
    the module it names and the machines it names are kept with its findings, and looked up
    again."""
    store = getattr(index, "instance_findings", None)
    span = instance.span()
    if store is None or span is None or instance.source.path is None:
        context = InventoryContext(_OneInstance(index, instance), generation)  # type: ignore[arg-type]
        _run(context, rules)
        return context.findings, None, None, None, None
    start, end = span
    key = (instance.source.path, instance.name, instance.source.text[start:end], clan)
    cached = store.get(key)
    if cached is not None:
        ref, target, named, seen, modules, findings = cached
        if (
            _target(index, ref) is target
            and _machines_seen(instance, named) == seen
            and (target is not None or modules == _module_names(index))
        ):
            used[key] = cached
            return [_shifted(f, start) for f in findings], _module_name(ref), key, cached, start
    ref = module_ref(instance)
    ref = (ref[0], ref[2]) if ref is not None else None
    target = _target(index, ref)
    named = _named_machines(instance)
    context = InventoryContext(_OneInstance(index, instance), generation)  # type: ignore[arg-type]
    _run(context, rules)
    inside = all(
        f.path == instance.source.path
        and start <= f.start <= f.end <= end
        and all(start <= e.start <= e.end <= end for fix in f.fixes for e in fix.edits)
        for f in context.findings
    )
    if not inside:
        store.pop(key, None)  # nor keep a module it no longer uses alive
        return context.findings, _module_name(ref), None, None, start
    # kept relative to the instance, so an edit before it only moves them
    modules = _module_names(index) if target is None else None
    entry = (ref, target, named, _machines_seen(instance, named), modules, [_shifted(f, -start) for f in context.findings])
    used[key] = store[key] = entry
    return context.findings, _module_name(ref), key, entry, start


def _module_name(ref: tuple[str, str | None] | None) -> str | None:
    """The registered module an instance's findings depend on (by name), for `module_changed`."""
    if ref is None:
        return None
    return ref[0]


def _target(index: WorkspaceIndex, ref: tuple[str, str | None] | None):
    """What an instance's (module name, input) resolves to, and its findings were judged
    against: the module's facts (one object per version of its files) or the input's service
    (one object per source and name)."""
    if ref is None:
        return None
    resolved = resolve_module(index, *ref)
    return resolved.facts or resolved.service  # INPUTS: an input's service stands in for the module


def _shifted(finding: Finding, delta: int) -> Finding:
    fixes = tuple(replace(fix, edits=tuple(replace(e, start=e.start + delta, end=e.end + delta) for e in fix.edits)) for fix in finding.fixes)
    return replace(finding, start=finding.start + delta, end=finding.end + delta, fixes=fixes)


# ---------------------------------------------------------------- rules


@inventory_rule("module-not-found", WARNING, "E29", "An instance's module cannot be found (clan's words; a warning, as the whole flake is not visible)")
def module_not_found(ctx: InventoryContext) -> None:
    for instance, _roles, resolved in resolved_instances(ctx.index):
        if resolved is None or resolved.roles is not None or resolved.facts is not None or resolved.service is not None:
            continue
        if resolved.input is None:
            clan_message = None
            provided = provided_modules(ctx.index, None)  # INPUTS: clan-core as the clan pins it
            if resolved.name in schema.CLAN_CORE_DEPRECATED or (provided is not None and resolved.name in provided.deprecated):
                # its own throw text is the migration note of that service
                message = f'clan-core\'s "{resolved.name}" service is a deprecated stub: it only throws migration instructions'
            elif provided is not None and not provided.from_catalogue:
                # Read from the very clan-core the clan uses: a missing name is missing.
                live = _live(provided)
                ctx.report(
                    instance.source,
                    resolved.name_node,
                    f'clan-core ({provided.provenance}) has no service "{resolved.name}"'
                    + (did_you_mean(resolved.name, live, quote='"') or '; set `module.input = "self"` if the module is your own'),
                    severity=ERROR,
                    fixes=_name_fixes(resolved.name_node, resolved.name, live),
                    clan_message=f"clan-core doesn't provide clan-module with name '{resolved.name}'.\n" + _MODULE_HINTS,
                )
                continue
            else:
                close = did_you_mean(resolved.name, schema.CLAN_CORE_SERVICES, quote='"')
                message = (
                    f'clan-core (as of {schema.CLAN_CORE_SNAPSHOT}) has no service "{resolved.name}"'
                    + (close or '; set `module.input = "self"` if the module is your own')
                )
                clan_message = f"clan-core doesn't provide clan-module with name '{resolved.name}'.\n" + _MODULE_HINTS
            ctx.report(
                instance.source,
                resolved.name_node,
                message,
                fixes=rename_fixes(resolved.name_node, resolved.name, schema.CLAN_CORE_SERVICES, quote=True)
                if resolved.name_node is not None and resolved.name_node.type == "string_expression"
                else (),
                clan_message=clan_message,
            )
        elif resolved.input not in (None, "self"):
            inputs = ctx.index.flake_inputs
            if inputs is not None and resolved.input not in inputs:
                module = instance.value.get("module")
                node = module.get("input").node if isinstance(module, AttrSet) and module.get("input") is not None else resolved.name_node
                close = did_you_mean(resolved.input, inputs, quote='"')
                ctx.report(
                    instance.source,
                    node,
                    f'No flake input "{resolved.input}"'
                    + (close or f" (inputs: {', '.join(inputs)}); remove `module.input` to use a clan-core module"),
                    severity=ERROR,
                    clan_message=f"Flake doesn't provide input with name '{resolved.input}'\n"
                    "Choose one of the following inputs:" + "".join(f"\n- {name}" for name in inputs),
                    fixes=rename_fixes(node, resolved.input, inputs, quote=True) if node is not None and node.type == "string_expression" else (),
                )
                continue
            provided = provided_modules(ctx.index, resolved.input)  # INPUTS: the input's own clan.modules
            if provided is not None and resolved.name not in provided.names:
                live = _live(provided)
                ctx.report(
                    instance.source,
                    resolved.name_node,
                    f'Flake input "{resolved.input}" ({provided.provenance}) has no service "{resolved.name}"'
                    + did_you_mean(resolved.name, live, quote='"'),
                    severity=ERROR if not provided.from_catalogue else WARNING,
                    fixes=_name_fixes(resolved.name_node, resolved.name, live),
                    clan_message=f"flake input '{resolved.input}' doesn't provide clan-module with name '{resolved.name}'.\n" + _MODULE_HINTS,
                )
        elif resolved.input == "self" and not resolved.name.startswith("@clan/"):
            # The workspace shows its clan.modules: a name in none of them is really missing.
            # (`@clan/...` names are added by clan-core's own test harness, out of sight.)
            ctx.report(
                instance.source,
                resolved.name_node,
                f'No module "{resolved.name}" in this clan\'s `clan.modules`{did_you_mean(resolved.name, ctx.index.modules, quote=chr(34))}',
                severity=ERROR if ctx.index.complete else WARNING,
                fixes=_name_fixes(resolved.name_node, resolved.name, ctx.index.modules),
                clan_message=f"flake input 'self' doesn't provide clan-module with name '{resolved.name}'.\n" + _MODULE_HINTS,
            )


def _name_fixes(node: Node | None, name: str, candidates) -> tuple:
    """Did-you-mean fixes for a module name written as a string."""
    if node is None or node.type != "string_expression":
        return ()
    return rename_fixes(node, name, candidates, quote=True)


# The advice clan prints after a module it cannot find (its lines, blank ones left out).
_MODULE_HINTS = (
    "Remove `module.input` (or set module.input = null) - to use a <clan-core> module'\n"
    'Set `module.input = "self"` if the module is defined in your own flake.\n'
    'Set `module.input = "<flake-input>" if the module is defined by a flake input called `<flake-input>`.'
)


def _live(provided: "inputs.ProvidedModules") -> list[str]:
    """Names worth suggesting: not deprecated stubs."""
    return [n for n in provided.names if n not in provided.deprecated]


@inventory_rule("unknown-role", ERROR, "E2", "An instance uses a role its module does not define")
def unknown_role(ctx: InventoryContext) -> None:
    for instance, roles, resolved in resolved_instances(ctx.index):
        if roles is None or resolved is None or resolved.roles is None:
            continue
        used = roles.names()
        unknown = [r for r in used if r not in resolved.roles]
        # clan lists the roles it does not know, and the ones the module defines, as JSON
        clan_message = (
            f"Instance: 'instances.{instance.name}' uses the following roles:\n{_nix_json(unknown)}\n"
            f"But the clan-service module '{resolved.label}' only defines roles:\n{_nix_json(sorted(resolved.roles))}"
        )
        for role in unknown:
            key = roles.key_nodes(role)[0]
            close = did_you_mean(role, resolved.roles)
            ctx.report(
                instance.source,
                key,
                f"Service \"{resolved.label}\" has no role `{role}`"
                + (close or f" (its roles: {', '.join(f'`{r}`' for r in sorted(resolved.roles)) or 'none'})"),
                fixes=rename_fixes(key, role, resolved.roles),
                clan_message=clan_message,
            )


def _nix_json(names: list[str]) -> str:
    """`builtins.toJSON` of a list of strings: no spaces."""
    return json.dumps(names, separators=(",", ":"))


@inventory_rule("unknown-inventory-option", ERROR, "E8", "A key that is not an option of an instance or an instance role")
def unknown_inventory_option(ctx: InventoryContext) -> None:
    for instance in ctx.index.instances:
        for name in instance.value.names():
            if name not in INSTANCE_KEYS:
                key = instance.value.key_nodes(name)[0]
                ctx.report(
                    instance.source,
                    key,
                    f"Unknown option `{name}` in instance \"{instance.name}\"{did_you_mean(name, INSTANCE_KEYS)}",
                    fixes=rename_fixes(key, name, INSTANCE_KEYS),
                    clan_message=option_does_not_exist(f"inventory.instances.{instance.name}.{name}"),
                )
        roles = instance.value.get("roles")
        if not isinstance(roles, AttrSet):
            continue
        for role in roles.names():
            value = roles.get(role)
            if not isinstance(value, AttrSet):
                continue
            for name in value.names():
                if name not in ROLE_KEYS:
                    key = value.key_nodes(name)[0]
                    # clan finds these first in the service's own evaluation, named relative to it
                    ctx.report(
                        instance.source,
                        key,
                        f"Unknown option `{name}` in role `{role}` of instance \"{instance.name}\"{did_you_mean(name, ROLE_KEYS)}",
                        fixes=rename_fixes(key, name, ROLE_KEYS),
                        clan_message=option_does_not_exist(f"instances.{instance.name}.roles.{role}.{name}"),
                    )


@inventory_rule("unknown-machine", WARNING, None, "A machine in an instance that is not in inventory.machines (clan silently ignores it)")
def unknown_machine(ctx: InventoryContext) -> None:
    for instance in ctx.index.instances:
        if instance.machines is None:
            continue
        known = instance.machines.names
        roles = instance.value.get("roles")
        if not isinstance(roles, AttrSet):
            continue
        for role in roles.names():
            machines = roles.path(role, "machines")
            if not isinstance(machines, AttrSet):
                continue
            for machine in machines.names():
                if machine in known:
                    continue
                key = machines.key_nodes(machine)[0]
                ctx.report(
                    instance.source,
                    key,
                    f'Machine "{machine}" is not in `inventory.machines`, so instance "{instance.name}" silently '
                    f"does nothing on it{did_you_mean(machine, known, quote=chr(34))}",
                )


@inventory_rule("inventory-modules", WARNING, None, "`inventory.modules` has no effect", per_instance=False)
def inventory_modules(ctx: InventoryContext) -> None:
    for inventory in ctx.index.inventories:
        for key in inventory.value.key_nodes("modules")[:1]:
            ctx.report(
                inventory.source, key, "`inventory.modules` has no effect (clan discards it); register services in `clan.modules`"
            )


@inventory_rule("inventory-services", ERROR, "E30", "`inventory.services` was removed", per_instance=False)
def inventory_services(ctx: InventoryContext) -> None:
    for inventory in ctx.index.inventories:
        for key in inventory.value.key_nodes("services")[:1]:
            ctx.report(
                inventory.source,
                key,
                "`inventory.services` was removed; use `inventory.instances`",
                # nixpkgs' mkRemovedOptionModule puts its own sentence before clan's text
                clan_message="The option `services' can no longer be used since it's been removed. "
                + schema.INVENTORY_SERVICES_REMOVED,
            )


@inventory_rule("unknown-setting", ERROR, "E13", "A settings key the role's interface does not declare, or a literal of the wrong type")
def unknown_setting(ctx: InventoryContext) -> None:
    for instance, roles, resolved in resolved_instances(ctx.index):
        if roles is None or resolved is None or (resolved.facts is None and resolved.service is None):
            continue
        for role, where, settings in settings_sites(instance, roles):
            if not isinstance(settings, AttrSet) or (resolved.roles is not None and role not in resolved.roles):
                continue
            found, closed = role_settings(resolved, role)  # INPUTS: also an input's service
            clan_where = f"{resolved.service_id}.instances.{instance.name}.{_per_machine(role, where)}"
            _check_keys(ctx, instance, resolved, role, clan_where, (), {o.name: o for o in found}, settings, closed, closed)


def _check_setting(ctx: InventoryContext, instance: InstanceDecl, resolved: Resolved, role: str, clan_where: str, path: tuple[str, ...], option, value: Value | None, closed: bool) -> None:
    """A literal's type; inside options nested as plain sets (`certificate.enable`), each key too."""
    if value is None:
        return
    dotted = ".".join(path)
    if option.type_text:
        for mismatch in mismatches(value, parse_type(option.type_text), dotted, clan_where + "."):
            ctx.report(
                instance.source, mismatch.node, mismatch.message.replace("Wrong type for", "Wrong type for setting", 1),
                clan_message=mismatch.clan_message,
            )
        return
    if not option.children or not isinstance(value, AttrSet) or value.dynamic:
        return
    known = closed and not _nested_open(resolved, role, path)  # INPUTS: nested option sets
    _check_keys(ctx, instance, resolved, role, clan_where, path, {c.name: c for c in option.children}, value, known, closed)


def _check_keys(ctx: InventoryContext, instance: InstanceDecl, resolved: Resolved, role: str, clan_where: str, path: tuple[str, ...], options: dict, value: AttrSet, known: bool, closed: bool) -> None:
    """Each key of a settings set (`path` () for the role's settings themselves): unknown ones
    when every option is `known`, and each value against its option."""
    for name in value.names():
        option = options.get(name)
        if option is not None:
            _check_setting(ctx, instance, resolved, role, clan_where, path + (name,), option, value.get(name), closed)
            continue
        if not known:
            continue
        key = value.key_nodes(name)[0]
        close = did_you_mean(name, options)
        declared = ", ".join(f"`{o}`" for o in options) or "none"
        where = f"Role `{role}` of \"{resolved.label}\" has no setting `{name}`" if not path else (
            f"Setting `{'.'.join(path)}` of role `{role}` of \"{resolved.label}\" has no `{name}`"
        )
        ctx.report(
            instance.source,
            key,
            where + (close or f" (it declares {declared})"),
            fixes=rename_fixes(key, name, options),
            clan_message=option_does_not_exist(".".join((clan_where,) + path + (name,))),
        )


def _nested_open(resolved: Resolved, role: str, path: tuple[str, ...]) -> bool:
    if resolved.facts is not None:
        return resolved.facts.nested_open(role, path)
    return resolved.service.nested_open(role, path) if resolved.service is not None else True


def _nix_literal(literal: tuple) -> str:
    kind, value = literal
    if kind == "path":
        return value
    return json.dumps(value)  # strings, integers and booleans read the same in Nix


def _per_machine(role: str, where: str) -> str:
    """Where clan reports a setting: every machine evaluates its settings, so errors name one."""
    if where.startswith(f"roles.{role}.machines."):
        return where
    return f"roles.{role}.machines.<machineName>.settings"


_PRIORITY = ("mkForce", "mkDefault", "mkOverride", "mkOptionDefault", "mkImageMediaOverride")


def _priority_wrapped(source: SourceFile, settings: AttrSet, name: str) -> bool:
    for definition in settings.defs(name):
        node = definition.thunk.node
        if node is None:
            return True
        text = source.text[node.start_byte : node.end_byte].lstrip(b"( ")
        if any(text.startswith(f"lib.{w}".encode()) or text.startswith(w.encode()) for w in _PRIORITY):
            return True
    return False


def _literal(value: Value | None):
    from ..model import Bool, Int, PathValue

    if isinstance(value, Str) and value.text is not None:
        return ("str", value.text)
    if isinstance(value, Int):
        return ("int", value.number)
    if isinstance(value, Bool):
        return ("bool", value.truth)
    if isinstance(value, PathValue):
        return ("path", value.text)
    return None


@inventory_rule("settings-conflict", ERROR, "E13", "The same setting at role level and machine or tag level, with different values and equal priority")
def settings_conflict(ctx: InventoryContext) -> None:
    from ..spec import types as nix_types

    scalar = (nix_types.Str, nix_types.Int, nix_types.Bool, nix_types.Float, nix_types.Path, nix_types.Enum, nix_types.StrMatching)
    for instance, roles, resolved in resolved_instances(ctx.index):
        if roles is None or resolved is None or resolved.facts is None:
            continue
        sites = list(settings_sites(instance, roles))
        for role, where, settings in sites:
            if where != f"roles.{role}.settings" or not isinstance(settings, AttrSet):
                continue
            options = {o.name: o for o in resolved.facts.options(role)}
            for other_role, other_where, other in sites:
                if other_role != role or other_where == where or not isinstance(other, AttrSet):
                    continue
                for name in settings.names():
                    if not other.has(name) or name not in options or not options[name].type_text:
                        continue
                    if not isinstance(parse_type(options[name].type_text), scalar):
                        continue  # lists and sets merge; nothing conflicts
                    first, second = _literal(settings.get(name)), _literal(other.get(name))
                    if first is None or second is None or first == second:
                        continue
                    if _priority_wrapped(instance.source, settings, name) or _priority_wrapped(instance.source, other, name):
                        continue
                    key = other.key_nodes(name)[0]
                    ctx.report(
                        instance.source,
                        key,
                        f"Setting `{name}` is {_nix_literal(second)} here and {_nix_literal(first)} in `{where}`, at the "
                        "same priority; wrap one in `lib.mkForce` or `lib.mkDefault`",
                        clan_message=f"The option `{resolved.service_id}.instances.{instance.name}.{_per_machine(role, other_where)}.{name}' "
                        "has conflicting definition values:\n"
                        "Use `lib.mkForce value` or `lib.mkDefault value` to change the priority on any of these definitions.",
                    )

"""Inventory instances and the services they use: one answer for checks and the IDE.

An instance names its module (`module.name`, `module.input`); resolving it gives the
service: a module of this clan (`input = "self"`), or a service of clan-core or another
flake input (clan_lsp/inputs), with its roles and each role's settings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable

from .. import inputs
from ..model import AttrSet, Null, ServiceModule, Str, Value
from ..model.facts import ModuleFacts
from ..spec import schema
from ..syntax import Node
from ..workspace.index import InstanceDecl, WorkspaceIndex

# What an instance and an instance's role may set (clan's inventory options).
INSTANCE_KEYS = ("module", "roles")
ROLE_KEYS = ("machines", "tags", "settings", "extraModules")


@dataclass
class Resolved:
    name: str
    input: str | None
    name_node: Node | None
    facts: ModuleFacts | None = None  # a module of this workspace: what the checks read of it
    roles: tuple[str, ...] | None = None  # role names, when known
    label: str = ""
    service: "inputs.InputService | None" = None  # INPUTS: a service of clan-core or another flake input
    read_module: Callable[[], ServiceModule | None] | None = field(default=None, repr=False, compare=False)

    @property
    def module(self) -> ServiceModule | None:
        """The workspace's module itself, read when asked: the facts are kept without it."""
        return self.read_module() if self.facts is not None and self.read_module is not None else None

    @property
    def service_id(self) -> str:
        """How clan names the service's evaluation in option paths: `<input>-<module.name>`."""
        return f"{self.input or '<clan-core>'}-{self.name}"


# ---- flake inputs (clan_lsp/inputs): where the workspace's flake.lock is, and the `inputs` setting;
# nothing else knows where inputs come from.


def workspace_root(index: WorkspaceIndex) -> str | None:
    """The root whose flake.lock pins the inputs (the first with a flake.lock, else a flake.nix)."""
    for marker in ("flake.lock", "flake.nix"):
        for root in index.roots:
            if os.path.isfile(os.path.join(root, marker)):
                return root
    return index.roots[0] if index.roots else None


def input_settings(index: WorkspaceIndex) -> "inputs.InputSettings":
    """Configured folders per input: `index.input_settings`, set by whoever builds the index."""
    return inputs.settings_from(getattr(index, "input_settings", None))


def input_service(index: WorkspaceIndex, input_name: str | None, name: str) -> "inputs.InputService | None":
    root = workspace_root(index)
    return inputs.resolve_input_service(root, input_name, name, input_settings(index)) if root else None


def provided_modules(index: WorkspaceIndex, input_name: str | None) -> "inputs.ProvidedModules | None":
    root = workspace_root(index)
    return inputs.provided_modules(root, input_name, input_settings(index)) if root else None


# ---- end of flake inputs


def role_settings(resolved: Resolved, role: str) -> tuple[list, bool]:
    """(the role's setting options, whether they are all known) from the workspace's module or an input's."""
    if resolved.facts is not None:
        return resolved.facts.options(role), resolved.facts.closed(role)
    if resolved.service is not None:
        return resolved.service.options(role), resolved.service.closed(role)
    return [], False


def _text(value: Value | None) -> str | None:
    return value.text if isinstance(value, Str) else None


def module_ref(instance: InstanceDecl) -> tuple[str, Node | None, str | None] | None:
    """(module name, the node naming it, input) an instance uses; None when not static."""
    module = instance.value.get("module")
    name, name_node, module_input = instance.name, instance.key_node, None
    if module is not None:
        if not isinstance(module, AttrSet) or module.dynamic:
            return None
        name_value = module.get("name")
        if name_value is not None:
            if _text(name_value) is None:
                return None
            name, name_node = name_value.text, name_value.node
        input_value = module.get("input")
        if input_value is not None and not isinstance(input_value, Null):
            if _text(input_value) is None:
                return None
            module_input = input_value.text
    return name, name_node, module_input


def resolve_instance(index: WorkspaceIndex, instance: InstanceDecl) -> Resolved | None:
    ref = module_ref(instance)
    if ref is None:
        return None
    name, name_node, module_input = ref
    target = resolve_module(index, name, module_input)
    return replace(target, name_node=name_node)


def resolve_module(index: WorkspaceIndex, name: str, module_input: str | None) -> Resolved:
    """What `module.name`/`module.input` resolve to (no node), once per index and name."""
    cache = index._derived.setdefault("targets", {})
    key = (name, module_input)
    if key not in cache:
        cache[key] = _resolve_module(index, name, module_input)
    return cache[key]


def _resolve_module(index: WorkspaceIndex, name: str, module_input: str | None) -> Resolved:
    resolved = Resolved(name, module_input, None)
    if module_input == "self":
        found = index.module_facts(name)
        if found is not None:
            resolved.facts, resolved.read_module = found, index.module_reader(name)
            resolved.roles, resolved.label = found.roles, found.label or name
            return resolved
        core = name[len("@clan/") :] if name.startswith("@clan/") else None
        if core in schema.CLAN_CORE_SERVICES:  # clan-core's test clans alias its services
            resolved.roles = schema.CLAN_CORE_SERVICES[core]
            resolved.label = core
            _use_service(resolved, input_service(index, None, core))  # INPUTS
        return resolved
    if module_input is None and name in schema.CLAN_CORE_SERVICES:
        resolved.roles = schema.CLAN_CORE_SERVICES[name]
        resolved.label = name
    _use_service(resolved, input_service(index, module_input, name))  # INPUTS
    return resolved


def _use_service(resolved: Resolved, service: "inputs.InputService | None") -> None:
    if service is None:
        return
    resolved.service = service
    resolved.label = service.label
    if service.roles is not None:
        resolved.roles = service.roles


def resolved_instances(index: WorkspaceIndex) -> list[tuple[InstanceDecl, AttrSet | None, Resolved | None]]:
    """Every instance with its `roles` set and its resolved module, resolved once per index."""
    cache = index._derived
    if "resolved" not in cache:
        rows = []
        for instance in index.instances:
            roles = instance.value.get("roles")
            rows.append((instance, roles if isinstance(roles, AttrSet) else None, resolve_instance(index, instance)))
        cache["resolved"] = rows
    return cache["resolved"]




def settings_sites(instance: InstanceDecl, roles: AttrSet) -> Iterable[tuple[str, str, Value]]:
    """(role, where, settings value) at role, machine and tag level."""
    for role in roles.names():
        value = roles.get(role)
        if not isinstance(value, AttrSet):
            continue
        settings = value.get("settings")
        if settings is not None:
            yield role, f"roles.{role}.settings", settings
        for group in ("machines", "tags"):  # `tags = [ ... ]` (a list) carries no settings
            members = value.get(group)
            if isinstance(members, AttrSet):
                for member in members.names():
                    found = members.path(member, "settings")
                    if found is not None:
                        yield role, f"roles.{role}.{group}.{member}.settings", found

"""What the inventory checks read of a service module, kept without the module.

A clan of a thousand services checks every instance against its module: the roles, the
label, each role's setting options. Those are read once per version of the module's files
and kept here, as plain data; the module itself (its model and syntax trees, ~130 KiB a
service) is read again only when an editor feature asks for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from .interface import RoleOption, closed_interface, role_names, role_options
from .service import ServiceModule
from .values import AttrSet, Str


@dataclass(frozen=True)
class RoleFacts:
    options: tuple[RoleOption, ...]  # without their key nodes and sources
    closed: bool  # every option is declared statically
    open_paths: frozenset[tuple[str, ...]]  # nested options (`certificate.enable`) that may hold more


class ModuleFacts:
    """One version of a module, as the inventory checks see it. Compared by identity: the
    same object while none of the module's files changed.

    With `keep_module` (its trees are held anyway: it is being typed in, or written in a clan
    file) the module is kept and each role read when first asked, as the rules ask; else
    every role is read now and the module is not kept."""

    __slots__ = ("parts", "roles", "label", "anchor", "role_keys", "_role_names", "_roles", "_unknown_role_closed", "_module")

    def __init__(self, module: ServiceModule, keep_module: bool = False) -> None:
        # the module's files (absolute), in the order of its parts
        self.parts: tuple[str, ...] = tuple(os.path.abspath(p.source.path) for p in module.parts() if p.source.path)
        self.roles, self.label = _roles_and_label(module)
        # where the workspace's symbols point: the module's set (its file, where it starts) and
        # each role's key (role, file, start, end)
        body = module.body.node
        self.anchor: tuple[str | None, int] | None = (module.source.path, body.start_byte) if body is not None else None
        names = role_names(module)
        self.role_keys: tuple[tuple[str, str | None, int, int], ...] = tuple(
            (name, source.path, key.start_byte, key.end_byte) for name, key, source in names if key is not None
        )
        self._role_names = frozenset(name for name, _key, _source in names)
        # a role no part defines: no options, and closed unless the module is dynamic
        # (what closed_interface says of it)
        self._unknown_role_closed = not module.is_dynamic()
        self._module = module if keep_module else None
        self._roles: dict[str, RoleFacts] = {} if keep_module else {name: _role_facts(module, name) for name in self._role_names}

    def _role(self, role: str) -> RoleFacts | None:
        found = self._roles.get(role)
        if found is None and self._module is not None and role in self._role_names:
            found = self._roles[role] = _role_facts(self._module, role)
        return found

    def options(self, role: str) -> list[RoleOption]:
        """The options a role's interface declares (model.interface.role_options)."""
        found = self._role(role)
        return list(found.options) if found is not None else []

    def closed(self, role: str) -> bool:
        """model.interface.closed_interface"""
        found = self._role(role)
        return found.closed if found is not None else self._unknown_role_closed

    def nested_open(self, role: str, path: tuple[str, ...]) -> bool:
        """inputs.resolve.nested_options_open, for the paths of the role's options."""
        found = self._role(role)
        return found is not None and path in found.open_paths


def _role_facts(module: ServiceModule, role: str) -> RoleFacts:
    options = role_options(module, role)
    return RoleFacts(
        tuple(_detached(o) for o in options),
        closed_interface(module, role),
        frozenset(path for path in _option_paths(options) if _nested_open(module, role, path)),
    )


def _roles_and_label(module: ServiceModule) -> tuple[tuple[str, ...] | None, str | None]:
    """(role names when all are known, manifest.name)."""
    roles = None
    sets = [p.effective().get("roles") for p in module.parts()]
    if not module.is_dynamic() and all(isinstance(r, (AttrSet, type(None))) for r in sets):
        if not any(isinstance(r, AttrSet) and r.dynamic for r in sets):
            roles = tuple(r for r, _, _ in role_names(module))
    manifest = module.values("manifest", "name")
    label = manifest[0].text if manifest and isinstance(manifest[0], Str) else None
    return roles, label


def _detached(option: RoleOption) -> RoleOption:
    return replace(option, key_node=None, source=None, children=[_detached(c) for c in option.children])  # type: ignore[arg-type]


def _option_paths(options: list[RoleOption], trail: tuple[str, ...] = ()):
    for option in options:
        path = trail + (option.name,)
        yield path
        yield from _option_paths(option.children, path)


def _nested_open(module: ServiceModule, role: str, path: tuple[str, ...]) -> bool:
    from ..inputs.resolve import nested_options_open

    return nested_options_open(module, role, path)

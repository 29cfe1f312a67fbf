"""Where an input's services are read from, and the one question the checks ask.

For an input name (None: clan-core, as clan resolves `module.input = null`):
1. a configured folder (setting `inputs` / `--input NAME=PATH`) wins;
2. a `path` input is read from its folder;
3. a locked input is read from its fixed store path (from the narHash in flake.lock);
4. for clan-core only, the catalogue shipped with clan-lsp.
Sources are cached per narHash (store paths never change) or per folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from ..model import AttrSet, ServiceModule, SourceFile
from ..model.interface import closed_interface, interface_body, role_names, role_options
from ..syntax import Node
from . import catalogue
from .lock import FlakeLock, LockedInput, read_lock
from .source import InputSource
from .store import source_store_path, store_dir

CLAN_CORE = "clan-core"


@dataclass(frozen=True)
class InputSettings:
    folders: Mapping[str, str] = field(default_factory=dict)  # input name -> folder; wins over the store
    store_dir: str | None = None  # else NIX_STORE_DIR, else /nix/store
    use_catalogue: bool = True


DEFAULT_SETTINGS = InputSettings()


def parse_input_flags(values: Iterable[str]) -> dict[str, str]:
    """`--input NAME=PATH` (repeatable) -> {NAME: PATH}; a malformed value raises ValueError."""
    folders: dict[str, str] = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise ValueError(f"expected NAME=PATH, got {value!r}")
        folders[name.strip()] = path.strip()
    return folders


def settings_from(raw) -> InputSettings:
    """The server setting `inputs` ({"clan-core": "/src/clan-core"}) as InputSettings; bad entries are ignored."""
    if isinstance(raw, InputSettings):
        return raw
    if not isinstance(raw, Mapping):
        return DEFAULT_SETTINGS
    return InputSettings({str(k): v for k, v in raw.items() if isinstance(v, str) and v})


# ---------------------------------------------------------------- locating an input's source

_LOCKS: dict[str, tuple[tuple[float, int], FlakeLock | None]] = {}
_SOURCES: dict[tuple, InputSource] = {}
_CATALOGUE_SERVICES: dict[tuple, "InputService"] = {}
_INTERFACES: dict[tuple, tuple[tuple, dict]] = {}  # see input_interfaces


def clear_caches() -> None:
    _LOCKS.clear()
    _SOURCES.clear()
    _CATALOGUE_SERVICES.clear()
    _INTERFACES.clear()
    catalogue.clear_cache()


def lock_of(workspace_root: str) -> FlakeLock | None:
    path = os.path.join(workspace_root, "flake.lock")
    try:
        stat = os.stat(path)
    except OSError:
        return None
    stamp = (stat.st_mtime, stat.st_size)
    cached = _LOCKS.get(path)
    if cached is None or cached[0] != stamp:
        cached = (stamp, read_lock(path))
        _LOCKS[path] = cached
    return cached[1]


def _input_name(workspace_root: str, input_name: str | None) -> str:
    if input_name is not None:
        return input_name
    lock = lock_of(workspace_root)
    core = lock.clan_core() if lock is not None else None
    return core.name if core is not None else CLAN_CORE


def _is_clan_core(workspace_root: str, input_name: str | None) -> bool:
    if input_name is None or input_name == CLAN_CORE:
        return True
    lock = lock_of(workspace_root)
    locked = lock.inputs.get(input_name) if lock is not None else None
    return locked is not None and locked.looks_like_clan_core()


def _folder_source(folder: str, provenance: str) -> InputSource | None:
    if not os.path.isdir(folder):
        return None
    real = os.path.realpath(folder)
    try:
        stamp = os.stat(os.path.join(real, "flake.nix")).st_mtime
    except OSError:
        stamp = None
    key = ("folder", real, stamp)
    if key not in _SOURCES:
        _SOURCES[key] = InputSource(real, provenance)
    return _SOURCES[key]


def _store_source(locked: LockedInput, settings: InputSettings) -> InputSource | None:
    if not locked.nar_hash:
        return None
    store_path = source_store_path(locked.nar_hash, settings.store_dir)
    if store_path is None:
        return None
    root = os.path.join(store_path, locked.dir) if locked.dir else store_path
    key = ("store", locked.nar_hash, root)
    if key not in _SOURCES:  # a store path never changes: once per narHash
        if not os.path.isdir(root):
            return None
        _SOURCES[key] = InputSource(root, f"locked store path {store_path}")
    return _SOURCES[key]


def locate_input(workspace_root: str, input_name: str | None, settings: InputSettings | None = None) -> InputSource | None:
    """The folder an input's files are read from, or None when it is not on this machine."""
    settings = settings or DEFAULT_SETTINGS
    name = _input_name(workspace_root, input_name)
    configured = settings.folders.get(name)
    if configured:
        folder = configured if os.path.isabs(configured) else os.path.join(workspace_root, configured)
        found = _folder_source(folder, f"configured folder {os.path.abspath(folder)}")
        if found is not None:
            return found
    lock = lock_of(workspace_root)
    locked = lock.inputs.get(name) if lock is not None else None
    if locked is None:
        return None
    if locked.type == "path" and locked.path:
        folder = locked.path if os.path.isabs(locked.path) else os.path.join(workspace_root, locked.path)
        if locked.dir:
            folder = os.path.join(folder, locked.dir)
        found = _folder_source(folder, f"path input {os.path.abspath(folder)}")
        if found is not None:
            return found
    return _store_source(locked, settings)


# ---------------------------------------------------------------- what the checks and the editor ask


@dataclass
class CatalogueOption:
    """A role setting as the catalogue records it (the same fields as model.interface.RoleOption)."""

    name: str
    type_text: str | None = None
    default_text: str | None = None
    description: str | None = None
    children: list["CatalogueOption"] = field(default_factory=list)
    open: bool = False  # the nested options may hold more than `children`
    key_node: Node | None = None
    source: SourceFile | None = None


def _catalogue_option(entry: dict) -> CatalogueOption:
    return CatalogueOption(
        entry.get("name", ""), entry.get("type"), entry.get("default"), entry.get("description"),
        [_catalogue_option(c) for c in entry.get("children", [])], bool(entry.get("open")),
    )


@dataclass
class InputService:
    """A service an input provides: enough to check an instance, complete it and explain it."""

    input: str | None  # None: clan-core
    name: str
    label: str  # manifest.name when known, else the registered name
    provenance: str  # "locked store path …", "configured folder …", "path input …", "catalogue of <date>"
    roles: tuple[str, ...] | None  # None when not statically known
    module: ServiceModule | None = None  # read from the input's source
    entry: dict | None = None  # the catalogue's record
    registered_in: tuple[str, int, int] | None = None  # where the input registers it
    _options: dict = field(default_factory=dict, repr=False)  # role -> options, read once

    def options(self, role: str) -> list:
        if role in self._options:
            return self._options[role]
        self._options[role] = self._read_options(role)
        return self._options[role]

    def _read_options(self, role: str) -> list:
        if self.module is not None:
            return role_options(self.module, role)
        record = ((self.entry or {}).get("roles") or {}).get(role) or {}
        return [_catalogue_option(o) for o in record.get("options", [])]

    def closed(self, role: str) -> bool:
        """Whether every setting of the role is known (so an unknown key is an error)."""
        if self.module is not None:
            return closed_interface(self.module, role)
        record = ((self.entry or {}).get("roles") or {}).get(role)
        return bool(record and record.get("closed"))

    def nested_open(self, role: str, path: tuple[str, ...]) -> bool:
        if self.module is not None:
            return nested_options_open(self.module, role, path)
        options = self.options(role)
        for name in path:
            option = next((o for o in options if o.name == name), None)
            if option is None:
                return True
            if option.open:
                return True
            options = option.children
        return False

    def role_location(self, role: str) -> tuple[str, int, int] | None:
        if self.module is None:
            return None
        for name, node, source in role_names(self.module):
            if name == role and node is not None and source.path:
                return source.path, node.start_byte, node.end_byte
        return None

    def location(self) -> tuple[str, int, int] | None:
        """The module's body, for go to definition on its name."""
        if self.module is not None and self.module.body.node is not None and self.module.source.path:
            start = self.module.body.node.start_byte
            return self.module.source.path, start, start + 1
        return self.registered_in


def nested_options_open(module: ServiceModule, role: str, path: tuple[str, ...]) -> bool:
    """Whether the options nested under `path` (`options.certificate = { ... }`) may hold more
    than the names written statically (a dynamic key, or a part defining them otherwise)."""
    for part in module.parts():
        roles = part.effective().get("roles")
        body = interface_body(roles.get(role)) if isinstance(roles, AttrSet) else None
        options = body.get("options") if body is not None else None
        nested = options.path(*path) if isinstance(options, AttrSet) else None
        if nested is not None and (not isinstance(nested, AttrSet) or nested.dynamic):
            return True
    return False


def known_roles(module: ServiceModule) -> tuple[str, ...] | None:
    """The module's role names, or None when some part's `roles` cannot be read statically."""
    for part in module.parts():
        roles = part.effective().get("roles")
        if roles is not None and (not isinstance(roles, AttrSet) or roles.dynamic):
            return None
    if module.unresolved_imports:
        return None
    return tuple(name for name, _, _ in role_names(module))


@dataclass
class ProvidedModules:
    input: str | None
    names: list[str]
    provenance: str
    deprecated: tuple[str, ...] = ()
    from_catalogue: bool = False


def provided_modules(workspace_root: str, input_name: str | None, settings: InputSettings | None = None) -> ProvidedModules | None:
    """The module names an input registers in `clan.modules`, or None when it cannot be read."""
    settings = settings or DEFAULT_SETTINGS
    source = locate_input(workspace_root, input_name, settings)
    if source is not None:
        return ProvidedModules(input_name, source.module_names(), source.provenance, tuple(source.deprecated()))
    if settings.use_catalogue and _is_clan_core(workspace_root, input_name):
        data = catalogue.load()
        if data is not None:
            return ProvidedModules(input_name, list(data["services"]), catalogue.provenance(data), tuple(data.get("deprecated", ())), True)
    return None


def resolve_input_service(workspace_root: str, input_name: str | None, module_name: str, settings: InputSettings | None = None) -> InputService | None:
    """The service `module_name` of an input (None: clan-core), or None when it is not known.

    The seam the inventory checks and the editor use; nothing is evaluated or fetched.
    """
    settings = settings or DEFAULT_SETTINGS
    source = locate_input(workspace_root, input_name, settings)
    if source is not None:
        key = (input_name, module_name)
        if key not in source._services:  # modelled once per source
            source._services[key] = _service_from(source, input_name, module_name)
        return source._services[key]
    if settings.use_catalogue and _is_clan_core(workspace_root, input_name):
        data = catalogue.load()
        entry = (data or {}).get("services", {}).get(module_name)
        if entry is None:
            return None
        key = ("catalogue", input_name, module_name)
        if key not in _CATALOGUE_SERVICES:  # one object per name, like the sources' services
            _CATALOGUE_SERVICES[key] = InputService(
                input_name, module_name, entry.get("label") or module_name, catalogue.provenance(data), tuple(entry.get("roles", {})), entry=entry
            )
        return _CATALOGUE_SERVICES[key]
    return None


def _service_from(source: InputSource, input_name: str | None, module_name: str) -> InputService | None:
    registration = source.registrations().get(module_name)
    if registration is None or module_name in source.deprecated():
        return None
    module = source.module(module_name)
    where = None
    if registration.key_node is not None and registration.source.path:
        where = (registration.source.path, registration.key_node.start_byte, registration.key_node.end_byte)
    if module is None:
        return InputService(input_name, module_name, module_name, source.provenance, None, registered_in=where)
    roles = known_roles(module)
    manifest = module.values("manifest", "name")
    label = getattr(manifest[0], "text", None) if manifest else None
    return InputService(input_name, module_name, label or module_name, source.provenance, roles, module, registered_in=where)


def input_interfaces(workspace_root: str, input_names: Iterable[str], settings: InputSettings | None = None) -> dict:
    """Export interfaces the given inputs declare (`clan.exportInterfaces`), by name: InterfaceDecls.

    Asked on every keystroke in a service; the answer is kept while what locating the inputs
    reads is unchanged (_locating_stamps), instead of hashing store paths and probing folders."""
    settings = settings or DEFAULT_SETTINGS
    names = tuple(input_names)
    key = (workspace_root, names, tuple(sorted(settings.folders.items())), settings.store_dir, settings.use_catalogue)
    stamps = _locating_stamps(workspace_root, names, settings)
    cached = _INTERFACES.get(key)
    if cached is not None and cached[0] == stamps:
        return cached[1]
    found: dict = {}
    for name in names:
        source = locate_input(workspace_root, name, settings)
        if source is not None:
            for interface, decl in source.interfaces().items():
                found.setdefault(interface, decl)
    _INTERFACES[key] = (stamps, found)
    return found


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _locating_stamps(workspace_root: str, names: tuple[str | None, ...], settings: InputSettings) -> tuple:
    """What locate_input reads for these names, as stamps: flake.lock, the store directory (a
    locked input appears in it when the clan is first evaluated; store paths never change
    after), and each configured or `path` folder with its flake.nix (InputSource reads
    a folder again when its flake.nix changes)."""
    folders = []
    lock = lock_of(workspace_root)
    for name in names:
        name = _input_name(workspace_root, name)
        configured = settings.folders.get(name)
        if configured:
            folders.append(configured if os.path.isabs(configured) else os.path.join(workspace_root, configured))
        locked = lock.inputs.get(name) if lock is not None else None
        if locked is not None and locked.type == "path" and locked.path:
            folder = locked.path if os.path.isabs(locked.path) else os.path.join(workspace_root, locked.path)
            folders.append(os.path.join(folder, locked.dir) if locked.dir else folder)
    return (
        _stamp(os.path.join(workspace_root, "flake.lock")),
        _stamp(settings.store_dir or store_dir()),
        tuple((folder, _stamp(folder), _stamp(os.path.join(folder, "flake.nix"))) for folder in folders),
    )

"""An index of what a workspace declares across files.

- `clan.exportInterfaces.<name>` (also under `flake.clan`): custom export interfaces,
  their fields, types, defaults and descriptions;
- `clan.modules.<name>`: registered services (a file, or a module written inline);
- `inventory.instances` and `inventory.machines` wherever a clan is configured;
- the clan-core the workspace pins (flake.lock), to check against that generation.

Built from the model, so every way Nix writes these is understood; nothing is evaluated.
"""

from __future__ import annotations

import functools
import gc
import os
import re
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from ..model import AttrSet, Call, Definition, Lambda, PathValue, ServiceModule, SourceFile, Str, Value
from ..model.facts import ModuleFacts
from ..model.service import _module_from, attach_imports, peel_functions, resolve_path, unwrap_import
from ..semantics.clan import Clan, ClanSearch, find_clans, find_clans_again
from ..spec import schema
from ..spec import types as t
from ..syntax import Node
from ..syntax.parse import binding_of, binding_set_of, difference

_SKIP_DIRS = {".git", "node_modules", "result", ".direnv", ".venv", "__pycache__"}
MAX_FILES = 5000


@dataclass
class FieldDecl:
    name: str
    key_node: Node | None
    type_text: str | None = None
    nix_type: t.NixType = field(default_factory=t.NixType)
    default_text: str | None = None
    description: str | None = None


@dataclass
class InterfaceDecl:
    name: str
    source: SourceFile
    key_node: Node | None
    fields: dict[str, FieldDecl] = field(default_factory=dict)
    open: bool = False  # some fields could not be read statically

    def as_spec(self) -> schema.ExportInterface:
        options = tuple(
            schema.Option(f.name, f.nix_type, f.description or "", default=f.default_text) for f in self.fields.values()
        )
        return schema.ExportInterface(self.name, f"Declared in {self.source.path}.", options, since="", open_fields=self.open)


class ModuleRegistration:
    """`clan.modules.<name>`: the file it registers, or the module written inline."""

    __slots__ = ("name", "source", "_key_node", "_key_of", "path", "inline")

    def __init__(
        self, name: str, source: SourceFile, key_node: Node | None, path: str | None = None,
        inline: ServiceModule | None = None, key_of: "Callable[[str], Node | None] | None" = None,
    ) -> None:
        self.name = name
        self.source = source
        self._key_node = key_node
        self._key_of = key_of  # finds the key by name when first asked (registrations read from the syntax)
        self.path = path  # the file it registers
        self.inline = inline

    @property
    def key_node(self) -> Node | None:
        if self._key_of is not None:
            self._key_node, self._key_of = self._key_of(self.name), None
        return self._key_node

    def __repr__(self) -> str:
        return f"ModuleRegistration({self.name!r}, {self.path!r})"


class InstanceDecl:
    """One `inventory.instances.<name>`: its definitions are kept, its value is read when asked
    (a clan file of a thousand instances is re-indexed on every keystroke; the checks reuse
    what they found for an instance whose text is the same)."""

    __slots__ = ("name", "source", "_key_node", "machines", "_definitions", "_written", "_value", "same_as")

    def __init__(
        self, name: str, source: SourceFile, key_node: Node | None, value: AttrSet | None = None,
        machines: "KnownMachines | None" = None, definitions: list[Definition] | None = None,
        written: "tuple[int, int, Callable[[str, int], list[Definition]]] | None" = None, same_as: int | None = None,
    ) -> None:
        self.name = name
        self.source = source
        self._key_node = key_node
        self.machines = machines  # the machines the same clan registers, when known
        self._definitions = definitions
        # (start, end, read): an instance `name = { ... };` read from the syntax: where it is,
        # and how to read its definitions (by name and start) when asked
        self._written = written
        self._value = value
        # the position in the last index's `instances` of this instance, when its binding's bytes
        # are the same there (see PlainSet.again): its findings carry over (checks/inventory.py)
        self.same_as = same_as

    @property
    def definitions(self) -> list[Definition] | None:
        if self._written is not None:
            self._definitions = self._written[2](self.name, self._written[0])
            self._key_node = self._definitions[0].key_node if self._definitions else None
            self._written = None
        return self._definitions

    @property
    def key_node(self) -> Node | None:
        if self._written is not None:
            self.definitions
        return self._key_node

    @property
    def value(self) -> AttrSet:
        if self._value is None:
            value = AttrSet(None, list(self.definitions or ())).get(self.name)
            self._value = value if isinstance(value, AttrSet) else AttrSet(None, dynamic=True)
        return self._value

    def span(self) -> tuple[int, int] | None:
        """Where the instance is written, when in one binding (`name = { ... };`)."""
        if self._written is not None:
            return self._written[0], self._written[1]
        definitions = self.definitions
        if definitions is None or len(definitions) != 1:
            return None
        definition = definitions[0]
        node, key = definition.thunk.node, definition.key_node
        if node is None or key is None:
            return None
        return key.start_byte, node.end_byte

    def __repr__(self) -> str:
        return f"InstanceDecl({self.name!r}, {self.source.path!r})"


_SET_NODES = ("attrset_expression", "rec_attrset_expression")


def _instance_is_set(definitions: list[Definition]) -> bool | None:
    """Whether an instance's definitions make an attribute set, told from the syntax where it
    can be (None: read the value to know)."""
    if any(d.rest for d in definitions):
        return True if all(d.rest for d in definitions) else None
    if all(d.thunk.node is not None and d.thunk.node.type in _SET_NODES for d in definitions):
        return True
    return None


@dataclass
class KnownMachines:
    names: list[str]

    @functools.cached_property
    def fingerprint(self) -> int:
        return hash(tuple(self.names))

    @functools.cached_property
    def known(self) -> frozenset[str]:
        return frozenset(self.names)


@dataclass
class InventoryDecl:
    source: SourceFile
    value: AttrSet
    key_node: Node | None


class WorkspaceIndex:
    SETS_BY_TEXT = True  # see `_literal_set` (tests turn it off to compare with reading every set)

    def __init__(self, roots: list[str], files) -> None:
        self.roots = list(roots)
        self.files = files
        self.interfaces: dict[str, InterfaceDecl] = {}
        self.modules: dict[str, ModuleRegistration] = {}
        self.instances: list[InstanceDecl] = []
        self.inventories: list[InventoryDecl] = []
        self.indexed: list[str] = []  # every file that is part of a clan
        self.clans: list[Clan] = []
        self.machines: dict[str, None] = {}
        self.clan_machines: list[KnownMachines | None] = []  # per clan, what its instances know
        self.clan_date: str | None = None
        self.flake_inputs: list[str] | None = None  # names in flake.nix `inputs`, when readable
        # what the checks read of each registered module (ModuleFacts), by name; the modules
        # themselves are read through `module_files` when asked
        self._module_facts: dict[str, ModuleFacts | None] = {}
        self._derived: dict = {}  # computed from this index: inventory findings, resolved instances
        self.paths: list[str] = []
        self._order: dict[str, int] = {}  # path -> its place in `paths`
        self.search = ClanSearch()
        # Facts an index built from this one may reuse (disk changes build afresh): read from
        # disk (machines folders, where a registered path leads) or from a text (the names of
        # a literal set). Only what the last build used is kept, so it does not grow.
        self._memo: dict = {}
        self._last_memo: dict = {}
        self.previous_inventory: dict | None = None  # see `build`, and checks/inventory.py
        # (file, its `modules` read from the syntax) per clan part, in order; None: some were read by the model
        self._registrations_read: list | None = []
        self._paths: dict = {}  # see `_resolve`
        self.targets_as_before = False  # see `_keep_modules`

    # -- building

    @classmethod
    def build(
        cls, roots: list[str], files, modules: "ModuleCache | None" = None, paths: list[str] | None = None,
        previous: "WorkspaceIndex | None" = None, changed: Iterable[str] = (),
    ) -> "WorkspaceIndex":
        """`paths`: the workspace's .nix files when the caller knows them (no walk of the folders).

        `previous`, `changed`: the index before edits to these files, nothing else changed on
        disk since: its search for clans and what it read from disk (flake.lock, machines/
        folders, inventory.json, where registered paths lead) are reused; the answer is the
        one a fresh build gives."""
        index = cls(roots, files)
        index.module_files = modules if modules is not None else ModuleCache(files)
        if previous is not None:
            index.paths = previous.paths
            index._order = previous._order
            index.search = previous.search
            index._last_memo = previous._memo
            index._paths = previous._paths
            edited = {p: files.peek(p) if hasattr(files, "peek") else _text(files.load(p)) for p in changed if p in index._order}
            index.clans = find_clans_again(index.search, edited, files.load, index._order)
        else:
            index.paths = paths if paths is not None else list(index._nix_files())
            index._order = {p: n for n, p in enumerate(index.paths)}
            index.search = ClanSearch()
            index.clans = find_clans(index.paths, files.load, getattr(files, "peek", None), index.search)
        for clan in index.clans:
            index._add_clan(clan)
        index.indexed = sorted(set().union(*(c.paths() for c in index.clans))) if index.clans else []
        for root in index.roots:
            if index.flake_inputs is None:
                index.flake_inputs = _flake_inputs(files, os.path.join(root, "flake.nix"))
        if previous is not None:
            index.clan_date = previous.clan_date
            index._keep_modules(previous)
            # the last index's inventory findings, for the instances whose text is the same
            index.previous_inventory = previous._derived.get("inventory")
            return index
        for root in index.roots:
            date = clan_core_date(os.path.join(root, "flake.lock"))
            if date:
                index.clan_date = date
                break
        return index

    def _keep_modules(self, previous: "WorkspaceIndex") -> None:
        """Facts of modules read by the last index stay while their registration is the same file."""
        read, read_before = self._registrations_read, previous._registrations_read
        if read is not None and read_before is not None and len(read) == len(read_before) and all(
            path == path_before and written is written_before for (path, written), (path_before, written_before) in zip(read, read_before)
        ):  # the same registrations, read from the same texts (no inline module): all stay
            self._module_facts = dict(previous._module_facts)
            # and what instances' module names resolved to (semantics/instances.py): resolving a
            # name of this clan caches its module's facts, and `module_changed` forgets both
            targets = dict(previous._derived.get("targets", {}))
        else:
            self._keep_modules_by_name(previous)
            # what instances' module names resolved to, for the kept modules and flake inputs'
            # services (inputs change only with the settings or the disk)
            targets = {
                (name, source): target
                for (name, source), target in previous._derived.get("targets", {}).items()
                if source != "self" or name in self._module_facts
            }
        if targets:
            self._derived["targets"] = targets
        # every module name resolves as in the last index (checks/inventory.py reuses findings)
        self.targets_as_before = len(targets) == len(previous._derived.get("targets", ()))

    def _keep_modules_by_name(self, previous: "WorkspaceIndex") -> None:
        for name, facts in previous._module_facts.items():
            before, now = previous.modules.get(name), self.modules.get(name)
            if before is not None and now is not None and before.inline is None and now.inline is None and before.path == now.path:
                self._module_facts[name] = facts

    @property
    def complete(self) -> bool:
        """Every clan was found from an entry point and followed statically: what is not
        declared is really missing."""
        return bool(self.clans) and all(c.complete for c in self.clans)

    def _nix_files(self) -> Iterator[str]:
        for count, path in enumerate(nix_files(self.roots), start=1):
            if count > MAX_FILES:
                return
            yield path

    def _add_clan(self, clan: Clan) -> None:
        for part in clan.parts:
            self._collect(part.source, part.value)
        machines = self._machines(clan)
        self.clan_machines.append(machines)
        for inventory in clan.inventories:
            self._inventory(inventory.source, inventory.value, inventory.key_node, machines)

    def _machines(self, clan: Clan) -> KnownMachines | None:
        """Every machine clan registers: inventory.machines, `machines.<name>`, machines/<name>/
        folders and inventory.json; None when some cannot be read statically."""
        names: dict[str, None] = {}
        for inventory in clan.inventories:
            declared = _names_of(inventory.source, inventory.value, "machines", self)
            if declared is False:
                return None
            names.update(dict.fromkeys(declared or ()))
        for part in clan.parts:
            declared = _names_of(part.source, part.value, "machines", self)
            if declared is False:
                return None
            names.update(dict.fromkeys(declared or ()))
        names.update(dict.fromkeys(self.remembered(("machines-on-disk", clan.directory), lambda: clan.directory_machines() + clan.json_machines())))
        self.machines.update(dict.fromkeys(names))  # values are all None: the first place stays
        return KnownMachines(list(names))

    def _collect(self, source: SourceFile, attrs: AttrSet) -> None:
        """One part of a clan: its top level is the clan namespace."""
        interfaces = attrs.get("exportInterfaces")
        if isinstance(interfaces, AttrSet):
            for name in interfaces.names():
                keys = interfaces.key_nodes(name)
                self.interfaces.setdefault(name, _interface(name, interfaces.get(name), source, keys[0] if keys else None))
        literal = self._literal_set(source, attrs, "modules")
        plain = self._plain_set(source, *literal, "modules")[0] if literal is not None else None
        written = self.remembered(("modules", literal[1]), lambda: _path_registrations(plain)) if plain is not None else None
        if written is not None:  # read from the syntax: the keys are found when asked
            def key_of(name: str) -> Node | None:
                return next(iter(_module_set(attrs).key_nodes(name)), None)

            base, modules = source.path, self.modules
            # where each registered path leads, once per text of the set
            registered = self.remembered(("registered", base, literal[1]), lambda: [(name, self._resolve(base, text)) for name, text in written])
            modules.update({name: ModuleRegistration(name, source, None, path, None, key_of) for name, path in registered if name not in modules})
            if self._registrations_read is not None:
                self._registrations_read.append((base, written))
            return
        modules = attrs.get("modules")
        if isinstance(modules, AttrSet):
            self._registrations_read = None  # some read by the model: compared one by one (`_keep_modules`)
            for name, definitions in _grouped(modules).items():
                if name in self.modules:
                    continue
                keys = [d.key_node for d in definitions if d.key_node is not None]
                registration = ModuleRegistration(name, source, keys[0] if keys else None)
                path_text = _path_text(source, definitions)
                if path_text is not None:  # `name = ./services/x;`, its value read from the text
                    registration.path = self._resolve(source.path, path_text)
                    self.modules[name] = registration
                    continue
                value = modules.get(name)
                target = unwrap_import(value)
                if isinstance(target, PathValue):
                    registration.path = self._resolve(source.path, target.text)
                elif value is not None:
                    module = _module_from(value, source, "inline", name)
                    if module is not None:
                        attach_imports(module, self.files.load)
                        registration.inline = module
                self.modules[name] = registration

    def _resolve(self, base: str | None, text: str) -> str | None:
        """`resolve_path`, remembered: it asks the disk whether the target is a folder. Kept
        by every index built from this one (typing in a path adds one; disk changes build afresh)."""
        key = (base, text)
        if key not in self._paths:
            self._paths[key] = resolve_path(base, text)
        return self._paths[key]

    def _literal_set(self, source: SourceFile, attrs: AttrSet, name: str) -> tuple[Node, bytes] | None:
        """The node and text of `attrs.<name>` when it is one literal set the syntax may read."""
        if not self.SETS_BY_TEXT:
            return None
        definitions = attrs._named(name)
        node = definitions[0].thunk.node if len(definitions) == 1 and not definitions[0].rest else None
        if node is None or node.type != "attrset_expression" or node.has_error:
            return None
        text = source.text[node.start_byte : node.end_byte]
        if b"${" in text:
            return None
        return node, text

    def _plain_set(self, source: SourceFile, node: Node, text: bytes, kind: str) -> tuple[PlainSet | None, tuple | None]:
        """The set's bindings read from the syntax, once per text; a set whose text changed is
        read again from the last build's set of the same `kind` in the same file, where the two
        texts differ. With it, how it follows that set: ((that set, the position of its first
        instance in the last build's `instances`), children kept before the edit, after it);
        None when it does not."""
        recovered = source.tree.recovery is not None
        last = self._last_memo.get(("plain-set", kind, source.path)) if source.path is not None else None
        relation = None

        def read() -> PlainSet | None:
            nonlocal relation
            if last is not None and not recovered and not last[0].recovered:
                plain, before, after = last[0].again(source.text, node)
                relation = (last, before, after)
                return plain
            return PlainSet.read(source.text, node, recovered)

        plain = self.remembered(("plain", text), read)
        if plain is None:
            return None, None
        if relation is None and last is not None and last[0] is plain:
            relation = (last, len(plain.children), 0)  # the same text: every child kept
        if source.path is not None:
            self._memo[("plain-set", kind, source.path)] = (plain, len(self.instances))
        return plain, relation

    def remembered(self, key, compute):
        """A fact this index's build learnt, or the last build's (see `_memo`)."""
        memo = self._memo
        if key not in memo:
            memo[key] = self._last_memo[key] if key in self._last_memo else compute()
        return memo[key]

    def _inventory(self, source: SourceFile, inventory: AttrSet, key: Node | None, machines: "KnownMachines | None") -> None:
        self.inventories.append(InventoryDecl(source, inventory, key))
        literal = self._literal_set(source, inventory, "instances")
        plain, relation = self._plain_set(source, *literal, "instances") if literal is not None else (None, None)
        written = self.remembered(("instances", literal[1]), lambda: _plain_instances(plain)) if plain is not None else None
        if written is not None:  # read from the syntax: where each instance is, its value read when asked
            base = literal[0].start_byte
            holder = inventory._named("instances")[0].thunk  # the set, and the scope it is read in

            def read(name: str, start: int) -> list[Definition]:
                return _one_binding(holder, start) or inventory.get("instances")._named(name)

            same = _same_instances(plain, relation) if relation is not None else [None] * len(written)
            self.instances += [
                InstanceDecl(name, source, None, None, machines, None, (base + start, base + end, read), same_as)
                for (name, start, end), same_as in zip(written, same)
            ]
            return
        instances = inventory.get("instances")
        if not isinstance(instances, AttrSet):
            return
        for name, definitions in _grouped(instances).items():
            keys = [d.key_node for d in definitions if d.key_node is not None]
            is_set = _instance_is_set(definitions)
            value = None
            if is_set is None:
                value = instances.get(name)
                if not isinstance(value, AttrSet):
                    continue
            self.instances.append(InstanceDecl(name, source, keys[0] if keys else None, value, machines, definitions))

    # -- questions

    def module(self, name: str) -> ServiceModule | None:
        """A registered module (read again when no longer held: see ModuleCache)."""
        registration = self.modules.get(name)
        if registration is None:
            return None
        if registration.inline is not None:
            return registration.inline
        if registration.path is None:
            return None
        return self.module_files.module(registration.path)

    def module_facts(self, name: str) -> ModuleFacts | None:
        """What the checks read of a registered module, without holding the module."""
        if name not in self._module_facts:
            registration = self.modules.get(name)
            facts = None
            if registration is not None and registration.inline is not None:
                facts = ModuleFacts(registration.inline, keep_module=True)  # written in a clan file, which the index holds
            elif registration is not None and registration.path is not None:
                facts = self.module_files.facts(registration.path)
            self._module_facts[name] = facts
        return self._module_facts[name]

    def module_reader(self, name: str) -> "Callable[[], ServiceModule | None]":
        """Reads a registered module when called; holds neither the module nor this index."""
        registration = self.modules.get(name)
        if registration is None or (registration.inline is None and registration.path is None):
            return lambda: None
        if registration.inline is not None:
            inline = registration.inline
            return lambda: inline
        return functools.partial(self.module_files.module, registration.path)

    # what `module_changed` keeps: derived from the clans, not from any module's text (the
    # parts maps are kept up to date per module, see _forget_parts)
    _KEPT_ON_MODULE_EDIT = ("by-abspath", "module-parts", "owners-of", "unread-parts", "interface-specs", "module-names", "targets", "inventory", "inventory sources", "instance roles")

    def module_changed(self, name: str) -> None:
        """A file of registered module `name` was edited: the module is read again, and what
        was derived from it is derived again. Inventory findings of instances that use another
        module are kept (checks/inventory.py)."""
        self._module_facts.pop(name, None)
        derived = self._derived
        for key in [k for k in derived if k not in self._KEPT_ON_MODULE_EDIT]:
            del derived[key]
        derived.get("targets", {}).pop((name, "self"), None)
        self._forget_parts(name)
        for run in derived.get("inventory", {}).values():
            run.stale.add(name)

    def _parts_maps(self) -> tuple[dict[str, list[str]], dict[str, list[str]], set[str]]:
        """module name -> absolute paths of its parts, path -> the modules it is a part of,
        and the modules whose parts are not read yet (at first every one)."""
        derived = self._derived
        if "module-parts" not in derived:
            derived["module-parts"], derived["owners-of"], derived["unread-parts"] = {}, {}, set(self.modules)
        return derived["module-parts"], derived["owners-of"], derived["unread-parts"]

    def _read_parts(self, name: str) -> list[str]:
        parts, owners_of, unread = self._parts_maps()
        facts = self.module_facts(name)
        found = list(facts.parts) if facts is not None else []
        parts[name] = found
        for path in found:
            owners_of.setdefault(path, []).append(name)
        unread.discard(name)
        self._derived.pop("owners", None)
        return found

    def _forget_parts(self, name: str) -> None:
        """An edited module may import other files now: its parts are read again when asked."""
        parts, owners_of, unread = self._parts_maps()
        for path in parts.pop(name, ()):
            names = owners_of.get(path, [])
            if name in names:
                names.remove(name)
        unread.add(name)

    def modules_with_part(self, path: str) -> list[str]:
        """The registered modules that have the file at absolute `path` among their parts.

        A module's own file is one of its parts whatever the texts say: typing in it does
        not read the module again just to learn that (it did, on every keystroke)."""
        _, owners_of, unread = self._parts_maps()
        names = [name for name in owners_of.get(path, ()) if name not in unread]
        for name in list(unread):
            registration = self.modules.get(name)
            if registration is not None and registration.inline is None and registration.path is not None and os.path.abspath(registration.path) == path:
                names.append(name)
            elif path in self._read_parts(name):
                names.append(name)
        return names

    def owners(self) -> dict[str, str]:
        """Absolute path of every part of a registered module -> the module's name (the
        first registered, when several share a file)."""
        if "owners" not in self._derived:
            _, owners_of, unread = self._parts_maps()
            for name in [n for n in self.modules if n in unread]:
                self._read_parts(name)
            order = {name: number for number, name in enumerate(self.modules)}
            self._derived["owners"] = {path: min(names, key=order.__getitem__) for path, names in owners_of.items() if names}
        return self._derived["owners"]

    def inventory_paths(self) -> set[str]:
        return {i.source.path for i in self.inventories if i.source.path}

    def declares_inventory(self, source: SourceFile) -> bool:
        """Whether this index read an inventory from this version of a file (a lookup: the
        analysis asks on every keystroke, and clan-core has 38 inventories)."""
        if "inventory sources" not in self._derived:
            self._derived["inventory sources"] = {id(i.source): i.source for i in self.inventories}
        return self._derived["inventory sources"].get(id(source)) is source

    def interface_specs(self) -> dict[str, schema.ExportInterface]:
        """The clan's own export interfaces, then those its flake inputs declare."""
        if "interface-specs" not in self._derived:
            specs = {name: decl.as_spec() for name, decl in self.interfaces.items()}
            for name, decl in self._input_interfaces().items():
                specs.setdefault(name, decl.as_spec())
            self._derived["interface-specs"] = specs
        return self._derived["interface-specs"]

    def _input_interfaces(self) -> dict:
        """`clan.exportInterfaces` of the flake's inputs (their locked or configured sources)."""
        from ..inputs import input_interfaces
        from ..semantics.instances import input_settings, workspace_root

        root = workspace_root(self)
        names = [n for n in self.flake_inputs or () if n != "self"]
        if root is None or not names:
            return {}
        try:
            return input_interfaces(root, names, input_settings(self))
        except Exception:  # noqa: BLE001 - an input we cannot read declares nothing we know of
            return {}


class ModuleCache:
    """Service modules by file, and what the checks read of them (ModuleFacts), kept across
    index rebuilds while none of their files changed (`Files.version`).

    Typing in a clan file rebuilds its clans; the modules it registers stay as they were. A
    module is kept while something uses it (and the last few read); its facts are kept
    without it, so checking a clan of a thousand services does not hold a thousand of them."""

    KEEP = 16  # modules held after their last use (an editor feature asks about a few at a time)

    def __init__(self, files) -> None:
        self.files = files
        self._entries: dict[str, _ModuleEntry] = {}
        self._held: OrderedDict[str, ServiceModule] = OrderedDict()

    def module(self, path: str) -> ServiceModule | None:
        entry = self._entries.get(path)
        if entry is not None and self._current(entry):
            if entry.module is None:
                return None  # the file declares no module
            module = entry.module()
            if module is not None:
                return self._hold(path, module)
        versions: dict[str, tuple | None] = {}
        module = self._read(path, versions)
        facts = entry.facts if entry is not None and entry.versions == versions else None  # the same files: the same facts
        self._entries[path] = _ModuleEntry(versions, weakref.ref(module) if module is not None else None, facts)
        if module is None:
            self._held.pop(path, None)
            return None
        return self._hold(path, module)

    def facts(self, path: str) -> ModuleFacts | None:
        """What the checks read of the module in the file (None: it declares none)."""
        entry = self._entries.get(path)
        if entry is not None and entry.facts is not None and self._current(entry):
            return entry.facts if entry.facts is not _NO_MODULE else None
        live = entry.module() if entry is not None and entry.module is not None and self._current(entry) else None
        if live is None and entry is not None and any(p in self.files.overlays for p in entry.versions):
            live = self.module(path)  # being typed in: read as any module is, and held a while
            entry = self._entries[path]
            if live is None:
                entry.facts = _NO_MODULE
                return None
        if live is not None:
            entry.facts = ModuleFacts(live, keep_module=_typed_in(entry.versions))
            return entry.facts
        versions: dict[str, tuple | None] = {}
        # Read for its facts alone: neither the module nor the files it reads are held after,
        # and the collector is kept from moving them to an older generation meanwhile, so
        # that the cycles in the model (scopes and their bindings) are freed right after and
        # the memory of its trees serves the next module (a clan of a thousand services is
        # then never a thousand trees, not even for a moment).
        collecting = gc.isenabled()
        gc.disable()
        try:
            module = self._read(path, versions, hold=False)
            facts = ModuleFacts(module) if module is not None else _NO_MODULE
            reference = weakref.ref(module) if module is not None else None
            del module
        finally:
            if collecting:
                gc.enable()
        self._entries[path] = _ModuleEntry(versions, reference, facts)
        gc.collect(0)  # also where the server turned automatic collection off: only the young, so cheap
        return facts if facts is not _NO_MODULE else None

    def _hold(self, path: str, module: ServiceModule) -> ServiceModule:
        held = self._held
        held[path] = module
        held.move_to_end(path)
        while len(held) > self.KEEP:
            held.popitem(last=False)
        return module

    def _current(self, entry: "_ModuleEntry") -> bool:
        version = self.files.version
        return all(version(path) == seen for path, seen in entry.versions.items())

    def _read(self, path: str, versions: dict, hold: bool = True) -> ServiceModule | None:
        """The module in the file, its imports followed; `versions` gets every file it read."""
        from ..model import find_services

        def load(file: str) -> SourceFile | None:
            source = self.files.load(file) if hold else self.files.load(file, hold=False)
            versions[file] = self.files.version(file)
            return source

        source = load(path)
        if source is None:
            return None
        found, _ = find_services(source, registered_too=False)
        if not found:
            whole = _module_from(source.value, source, "module")
            found = [whole] if whole is not None else []
        for module in found:
            attach_imports(module, load)
        return found[0] if found else None


@dataclass
class _ModuleEntry:
    versions: dict  # every file the module was read from -> its version then
    module: "weakref.ref | None"  # None: the file declares no module
    facts: "ModuleFacts | object | None" = None  # None: not read yet


_NO_MODULE = object()


def _typed_in(versions: dict) -> bool:
    """Some file of the module was read from an open buffer (Files.version): the editor holds
    its tree anyway, and few modules are typed in at once, so its facts keep the module and
    read each role when the rules ask, as they did before facts."""
    return any(version is not None and version[0] == "buffer" for version in versions.values())


def _text(source: SourceFile | None) -> bytes | None:
    return source.text if source is not None else None


def _grouped(attrs: AttrSet) -> dict[str, list[Definition]]:
    """An attribute set's definitions by name, in order (one pass, for sets of thousands)."""
    grouped: dict[str, list[Definition]] = {}
    for definition in attrs.definitions:
        grouped.setdefault(definition.name, []).append(definition)
    return grouped


def _module_set(attrs: AttrSet) -> AttrSet:
    modules = attrs.get("modules")
    return modules if isinstance(modules, AttrSet) else AttrSet(None)


def _one_binding(holder, key_start: int) -> list[Definition] | None:
    """The definitions of the binding whose key starts at `key_start` in the set `holder` reads."""
    node = binding_of(holder.node.descendant_for_byte_range(key_start, key_start)) if holder.node is not None and holder.env is not None else None
    if node is None or node.parent is None or node.parent.type != "binding_set":
        return None
    return holder.reader.binding(node, holder.env) or None


def _read_binding(text: bytes, binding: Node) -> tuple | None | bool:
    """One child of a set's bindings as (name, key start, value type, value start, value end),
    offsets relative to the binding: `name = value;` with a plain name (an identifier or a
    string without escapes or interpolation). None: a comment; False: written otherwise."""
    kind = binding.type
    if kind == "comment":
        return None
    if kind != "binding":
        return False
    path, value = binding.child_by_field_name("attrpath"), binding.child_by_field_name("expression")
    if path is None or value is None or path.named_child_count != 1:
        return False  # `a.b = ...`, or a comment inside the path: the model reads it
    key = path.named_child(0)
    start, end = key.start_byte, key.end_byte
    key_kind = key.type
    if key_kind == "identifier":
        name = text[start:end].decode("utf-8", "replace")
    elif key_kind == "string_expression" and end - start >= 2 and text[start] == text[end - 1] == 34 and b"\\" not in (raw := text[start:end]) and b"$" not in raw:
        name = raw[1:-1].decode("utf-8", "replace")
    else:
        return False
    at = binding.start_byte
    return name, start - at, value.type, value.start_byte - at, value.end_byte - at


class PlainSet:
    """A literal set whose every binding is `name = value;` with a plain name, read from the
    syntax alone (the model reads any other set).

    `children`: each child of its bindings as (start, end, binding) relative to the set, the
    binding as `_read_binding` gives it. After an edit, `again` reads only the children whose
    bytes changed: a child whose bytes are the same and whose place in the new tree is the
    same (before the edit, or after it moved by its length) is the same binding."""

    __slots__ = ("text", "children", "recovered")

    def __init__(self, text: bytes, children: list[tuple[int, int, tuple | None]], recovered: bool) -> None:
        self.text = text  # the set's text
        self.children = children
        self.recovered = recovered  # read from a recovered tree (see syntax/recover.py): never followed by `again`

    @classmethod
    def read(cls, text: bytes, node: Node, recovered: bool) -> "PlainSet | None":
        base = node.start_byte
        children = []
        for child in _bindings_of(node):
            binding = _read_binding(text, child)
            if binding is False:
                return None
            children.append((child.start_byte - base, child.end_byte - base, binding))
        return cls._unique(cls(text[base : node.end_byte], children, recovered))

    def again(self, text: bytes, node: Node) -> "tuple[PlainSet | None, int, int]":
        """The set after an edit, read from the new tree `node` of the file's `text`, and how
        many children before the edit (`kept_before`) and after it (`kept_after`) are the
        same bindings as in this one."""
        base = node.start_byte
        new_text = text[base : node.end_byte]
        start, old_end, new_end = difference(self.text, new_text)
        delta = new_end - old_end
        children, old = _bindings_of(node), self.children
        limit = min(len(children), len(old))
        before = 0
        while before < limit:
            child_start, child_end, _binding = old[before]
            child = children[before]
            if child_end >= start or child.start_byte - base != child_start or child.end_byte - base != child_end:
                break
            before += 1
        after = 0
        while after < limit - before:
            child_start, child_end, _binding = old[-1 - after]
            child = children[-1 - after]
            if child_start <= old_end or child.start_byte - base != child_start + delta or child.end_byte - base != child_end + delta:
                break
            after += 1
        middle = []
        for child in children[before : len(children) - after]:
            binding = _read_binding(text, child)
            if binding is False:
                return None, 0, 0
            middle.append((child.start_byte - base, child.end_byte - base, binding))
        moved = [(s + delta, e + delta, binding) for s, e, binding in old[len(old) - after :]] if after else []
        return PlainSet._unique(PlainSet(new_text, old[:before] + middle + moved, False)), before, after

    @staticmethod
    def _unique(found: "PlainSet") -> "PlainSet | None":
        names = [binding[0] for _s, _e, binding in found.children if binding is not None]
        return found if len(set(names)) == len(names) else None  # defined twice: the model merges

    def bindings(self) -> Iterator[tuple[str, int, str, int, int]]:
        """(name, key start, value type, value start, value end), relative to the set."""
        for start, _end, binding in self.children:
            if binding is not None:
                name, key, kind, value_start, value_end = binding
                yield name, start + key, kind, start + value_start, start + value_end


def _same_instances(plain: PlainSet, relation: tuple) -> list[int | None]:
    """For each instance of `plain` (one per binding), the position in the last build's
    `instances` of the same instance (see `_plain_set`), None for one read again."""
    (last, first), before, after = relation
    new_count, old_count = len(plain.children), len(last.children)
    if all(binding is not None for _start, _end, binding in last.children) and all(
        binding is not None for _start, _end, binding in plain.children[before : new_count - after]
    ):  # no comments in either set: every child is an instance
        return [*range(first, first + before), *[None] * (new_count - before - after), *range(first + old_count - after, first + old_count)]
    ordinal, old_ordinals = 0, []  # the last set's children -> their instance's ordinal
    for _start, _end, binding in last.children:
        old_ordinals.append(ordinal if binding is not None else None)
        ordinal += binding is not None
    same: list[int | None] = []
    for child, (_start, _end, binding) in enumerate(plain.children):
        if binding is None:
            continue
        if child < before:
            same.append(first + old_ordinals[child])
        elif child >= new_count - after:
            same.append(first + old_ordinals[child - new_count + old_count])
        else:
            same.append(None)
    return same


def _bindings_of(node: Node) -> list[Node]:
    bindings = binding_set_of(node)
    return bindings.named_children if bindings is not None else []


def _path_registrations(plain: PlainSet) -> list[tuple[str, str]] | None:
    """(name, path text) of a `modules` set that registers only plain paths (None otherwise)."""
    found = []
    text = plain.text
    for name, _key, kind, start, end in plain.bindings():
        if kind != "path_expression":
            return None
        found.append((name, text[start:end].decode("utf-8", "replace")))
    return found


def _plain_instances(plain: PlainSet) -> list[tuple[str, int, int]] | None:
    """(name, start, end) relative to the set of an `instances` set whose every instance is one
    binding `name = { ... };` (None otherwise)."""
    bindings = [(start, binding) for start, _end, binding in plain.children if binding is not None]
    if not all(binding[2] in _SET_NODES for _start, binding in bindings):
        return None
    return [(binding[0], start + binding[1], start + binding[4]) for start, binding in bindings]


def _path_text(source: SourceFile, definitions: list[Definition]) -> str | None:
    """The text of a plain path literal that is an attribute's only definition."""
    if len(definitions) != 1 or definitions[0].rest:
        return None
    node = definitions[0].thunk.node
    if node is None or node.type != "path_expression" or b"${" in source.text[node.start_byte : node.end_byte]:
        return None
    return source.text[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _names_of(source: SourceFile, attrs: AttrSet, name: str, index: "WorkspaceIndex") -> list[str] | None | bool:
    """The names a set attribute defines (None: absent; False: not statically known). A set
    written as one literal is read once per text (inventory.machines of a thousand machines)."""
    definitions = attrs._named(name)
    if not definitions:
        return None

    def read() -> list[str] | bool:
        value = attrs.get(name)
        return value.names() if isinstance(value, AttrSet) and not value.dynamic else False

    node = definitions[0].thunk.node if len(definitions) == 1 and not definitions[0].rest else None
    if node is None or node.type != "attrset_expression" or node.has_error:
        return read()
    text = source.text[node.start_byte : node.end_byte]
    if b"${" in text:
        return read()

    plain = index._plain_set(source, node, text, name)[0] if index.SETS_BY_TEXT else None

    def scan() -> list[str] | bool:  # `name = ...;` bindings read from the syntax; the rest by the model
        return [found for found, *_ in plain.bindings()] if plain is not None else read()

    return index.remembered(("names", text), scan)


def nix_files(roots: list[str]) -> Iterator[str]:
    """The .nix files below each root, in a stable order, named as `root/relative/path`.

    `clan-lsp check` and the index both walk with this, so they name every file the same
    way and share one parse of it.
    """
    for root in roots:
        for directory, subdirs, names in os.walk(root):
            subdirs[:] = sorted(d for d in subdirs if d not in _SKIP_DIRS and not d.startswith("."))
            for name in sorted(names):
                if name.endswith(".nix"):
                    yield os.path.join(directory, name)


def _interface(name: str, value: Value | None, source: SourceFile, key: Node | None) -> InterfaceDecl:
    decl = InterfaceDecl(name, source, key)
    if isinstance(value, Lambda):
        value = value.body
    if isinstance(value, Call) and value.name in ("mkForce", "mkDefault"):
        value = value.arg(len(value.arg_thunks) - 1)
    if not isinstance(value, AttrSet):
        decl.open = True
        return decl
    options = value.get("options")
    if not isinstance(options, AttrSet) or options.dynamic or value.has("imports") or value.has("freeformType"):
        decl.open = True
    if not isinstance(options, AttrSet):
        return decl
    for field_name in options.names():
        keys = options.key_nodes(field_name)
        decl.fields[field_name] = _field(field_name, options.get(field_name), source, keys[0] if keys else None)
    return decl


def _field(name: str, value: Value | None, source: SourceFile, key: Node | None) -> FieldDecl:
    decl = FieldDecl(name, key)
    if isinstance(value, Call) and value.name == "mkOption":
        spec = value.arg(0)
        if isinstance(spec, AttrSet):
            for attr, slot in (("type", "type_text"), ("default", "default_text")):
                defs = spec.defs(attr)
                if defs and defs[0].thunk.node is not None:
                    node = defs[0].thunk.node
                    setattr(decl, slot, source.text[node.start_byte : node.end_byte].decode("utf-8", "replace"))
            description = spec.get("description")
            if isinstance(description, Str):
                decl.description = description.text
    if decl.type_text:
        decl.nix_type = parse_type(decl.type_text)
    return decl


_TOKEN = re.compile(r"\(|\)|\[|\]|\"[^\"]*\"|[A-Za-z_][A-Za-z0-9_.'-]*|\S")


def parse_type(text: str) -> t.NixType:
    """`lib.types.listOf lib.types.str` -> ListOf(Str). Anything unfamiliar is ANY."""
    tokens = [tok for tok in _TOKEN.findall(text)]
    position = 0

    def name(token: str) -> str:
        for prefix in ("lib.types.", "types."):
            if token.startswith(prefix):
                return token[len(prefix) :]
        return token

    def parse() -> t.NixType:
        nonlocal position
        if position >= len(tokens):
            return t.ANY
        token = tokens[position]
        position += 1
        if token == "(":
            inner = parse()
            if position < len(tokens) and tokens[position] == ")":
                position += 1
            return inner
        simple = {
            "str": t.STR, "nonEmptyStr": t.STR, "singleLineStr": t.STR, "int": t.INT, "bool": t.BOOL,
            "port": t.PORT, "float": t.FLOAT, "path": t.PATH, "ints.positive": t.POSITIVE,
            "ints.unsigned": t.UNSIGNED,
        }
        kind = name(token)
        if kind in simple:
            return simple[kind]
        if kind in ("listOf", "attrsOf", "lazyAttrsOf", "nullOr"):
            inner = parse()
            if kind == "listOf":
                return t.ListOf(inner)
            if kind == "nullOr":
                return t.NullOr(inner)
            return t.AttrsOf(inner, lazy=kind == "lazyAttrsOf")
        if kind == "enum" and position < len(tokens) and tokens[position] == "[":
            values = []
            position += 1
            while position < len(tokens) and tokens[position] != "]":
                if tokens[position].startswith('"'):
                    values.append(tokens[position][1:-1])
                else:
                    values = None  # type: ignore[assignment]
                    break
                position += 1
            position += 1
            return t.Enum(tuple(values)) if values else t.ANY
        return t.ANY

    try:
        return parse()
    except Exception:  # noqa: BLE001 - a type we cannot read is any type
        return t.ANY


def _flake_inputs(files, path: str) -> list[str] | None:
    """The input names a flake.nix declares, or None when they cannot be read statically."""
    source = files.load(path) if os.path.exists(path) else None
    if source is None:
        return None
    body, _, _ = peel_functions(source.value)
    inputs = body.get("inputs") if isinstance(body, AttrSet) else None
    if not isinstance(inputs, AttrSet) or inputs.dynamic:
        return None
    return inputs.names()


def clan_core_date(lock_path: str) -> str | None:
    """The date of the clan-core a flake.lock pins (its lastModified), as YYYY-MM-DD.

    The same lock entry clan_lsp.inputs reads clan-core's services from."""
    from ..inputs.lock import read_lock

    lock = read_lock(lock_path)
    core = lock.clan_core() if lock is not None else None
    return core.date if core is not None else None

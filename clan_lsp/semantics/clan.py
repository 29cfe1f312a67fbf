"""Where a clan lives: entry points found by call shape, and the files they reach.

A clan configuration is a module of clan's own option namespace (`meta`, `inventory`,
`modules`, `exportInterfaces`, `machines`, ...). clan-core's templates reach it three ways:

- `clan-core.lib.clan { imports = [ ./clan.nix ]; ... }` (also `lib.buildClan`),
- flake-parts: `flake-parts.lib.mkFlake { ... } { clan = ...; }` (or `flake.clan`), where the
  flake-parts module and the modules its `imports` list may set it,
- `clan = import ./clan.nix { ... }` or `clan = { imports = [ ./clan.nix ]; }` inside those.

From each entry we follow what the module system follows (`imports`, `import ./x.nix`,
`inventory = import ./inventory.nix`), and every file reached is a *part* whose top level is
the clan namespace. No attribute-name guessing is needed once a file is a part; files that
no entry reaches but that set `clan.*` near their top are kept as an incomplete clan, so a
layout we do not understand degrades to warnings, never to false errors.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Callable, Iterator

from ..model import AttrSet, Lambda, ListValue, PathValue, SourceFile, Value
from ..model.service import looks_like_service, peel_functions, resolve_path, unwrap_import, walk_sets
from ..model.values import Env, Reader
from ..syntax import Node
from ..syntax.parse import unfold_application

Loader = Callable[[str], "SourceFile | None"]

# Callees whose argument is a clan configuration: `<x>.lib.clan`, `lib.buildClan`.
_CLAN_CALLS = (("lib", "clan"), ("buildClan",))
_MAX_PARTS = 400


@dataclass
class ClanPart:
    """One attribute set in one file whose top level is the clan namespace."""

    source: SourceFile
    value: AttrSet
    key_node: Node | None = None  # where this part is attached (`clan =`, `imports`), if known


@dataclass
class InventoryPart:
    """An `inventory` value, in the file that writes it (`import ./inventory.nix` moves it)."""

    source: SourceFile
    value: AttrSet
    key_node: Node | None


@dataclass
class Clan:
    entry: SourceFile
    directory: str | None  # the clan's directory: machines/ and inventory.json live there
    parts: list[ClanPart] = field(default_factory=list)
    inventories: list[InventoryPart] = field(default_factory=list)
    complete: bool = True  # every entry and import was followed statically
    found_by_entry: bool = True  # False: reconstructed from `clan.*` attribute names

    def paths(self) -> set[str]:
        found = {p.source.path for p in self.parts if p.source.path}
        found |= {i.source.path for i in self.inventories if i.source.path}
        if self.entry.path:
            found.add(self.entry.path)
        return found

    # -- machines clan registers besides inventory.machines

    def directory_machines(self) -> list[str]:
        """`machines/<name>/` folders in the clan's directory."""
        if self.directory is None:
            return []
        folder = os.path.join(self.directory, "machines")
        try:
            return sorted(n for n in os.listdir(folder) if os.path.isdir(os.path.join(folder, n)))
        except OSError:
            return []

    def json_machines(self) -> list[str]:
        """Machines in the clan directory's `inventory.json`."""
        if self.directory is None:
            return []
        try:
            with open(os.path.join(self.directory, "inventory.json"), encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return []
        machines = data.get("machines") if isinstance(data, dict) else None
        return sorted(machines) if isinstance(machines, dict) else []


def _reader_value(source: SourceFile, node: Node) -> Value:
    """The model value of one node, read with an empty scope (free names are unknown)."""
    return Reader(source.text).read(node, Env(None))


def _calls(source: SourceFile) -> Iterator[tuple[tuple[str, ...], list[Node]]]:
    """(callee, argument nodes) of every application in the file, outermost first."""
    stack = [source.tree.model_root]  # the recovered tree, so a half-typed clan file keeps its entry
    while stack:
        node = stack.pop()
        if node.type == "apply_expression":
            function, args = unfold_application(node)
            if function is not None:
                text = source.text[function.start_byte : function.end_byte].decode("utf-8", "replace")
                yield tuple(part.strip() for part in text.split(".")), args
        stack.extend(reversed(node.named_children))


# What a file's bytes must contain to hold an entry point, or a clan no entry reaches;
# everything else is skipped unparsed. `"clan.service"` and `clanLib.` are no clan keys.
_ENTRY_HINTS = (b"lib.clan", b"buildClan", b"mkFlake")


def may_enter(text_or_source: bytes | SourceFile) -> bool:
    if isinstance(text_or_source, SourceFile):  # its tree keeps where the text spells the hints
        return any(text_or_source.tree.spells(hint) for hint in _ENTRY_HINTS)
    return any(hint in text_or_source for hint in _ENTRY_HINTS)


def may_be_orphan(text: bytes) -> bool:
    """Whether the bytes may set a clan no entry reaches: `inventory` or `exportInterfaces`
    anywhere, `clan = ...`, or `clan.<key>` with one of clan's own keys. `clan.core.vars...`
    (a machine's NixOS module) is none: such files stay unparsed."""
    if b"inventory" in text or b"exportInterfaces" in text:
        return True
    for found in _CLAN_SETTING.finditer(text):  # `clan.` or `clan =` as a key
        before = text[found.start() - 1 : found.start()]
        if not (before.isalnum() or before in (b'"', b"_", b"'", b"-")):
            return True
    return False


def could_be_clan(source: SourceFile) -> bool:
    """Whether a file may hold a clan entry point or a clan of its own (not a service module)."""
    if may_enter(source):
        return True
    # the body first: a service module's (read anyway, to find its services) spares the
    # search of its text (44 us on wireguard's 29 KB, every keystroke)
    body, _, _ = peel_functions(source.value)
    return isinstance(body, AttrSet) and not looks_like_service(body) and may_be_orphan(source.text)


def _is_clan_call(callee: tuple[str, ...]) -> bool:
    return any(callee[-len(tail) :] == tail for tail in _CLAN_CALLS)


class ClanFinder:
    """Finds clans in a set of files and follows their parts."""

    def __init__(self, load: Loader) -> None:
        self.load = load
        self.clans: list[Clan] = []
        self.claimed: set[str] = set()  # files already part of a clan found by entry

    # -- entry points

    def scan(self, source: SourceFile) -> bool:
        """Look for clan entry points in one file (cheap unless the file mentions them).
        False when the file has none: a verdict on its text alone."""
        if not may_enter(source):
            return False
        entered = False
        for callee, args in _calls(source):
            if _is_clan_call(callee) and args:
                entered = True
                value = _reader_value(source, args[-1])
                clan = self._new_clan(source)
                self._part(clan, source, value, None, 0)
                self._set_directory(clan, source, value)
            elif callee[-1:] == ("mkFlake",) and len(args) >= 2:
                entered = True
                self._flake_module(source, _reader_value(source, args[-1]), 0, set())
        return entered

    def _new_clan(self, source: SourceFile) -> Clan:
        directory = os.path.dirname(os.path.abspath(source.path)) if source.path else None
        clan = Clan(source, directory)
        self.clans.append(clan)
        return clan

    def _set_directory(self, clan: Clan, source: SourceFile, value: Value) -> None:
        body, _, _ = peel_functions(value)
        directory = body.get("directory") if isinstance(body, AttrSet) else None
        if isinstance(directory, PathValue):
            resolved = resolve_path(source.path, directory.text)
            if resolved and resolved.endswith("default.nix") and not os.path.isfile(resolved):
                resolved = os.path.dirname(resolved)
            if resolved:
                clan.directory = resolved if os.path.isdir(resolved) else os.path.dirname(resolved)

    def _flake_module(self, source: SourceFile, value: Value, depth: int, seen: set[str]) -> None:
        """A flake-parts module: `clan`/`flake.clan` is a clan; its `imports` are modules too."""
        body, _, _ = peel_functions(value)
        if not isinstance(body, AttrSet) or depth > 8:
            return
        for attrs, key in ((body, "clan"), (body.get("flake"), "clan")):
            if not isinstance(attrs, AttrSet):
                continue
            clan_value = attrs.get(key)
            if clan_value is None:
                continue
            keys = attrs.key_nodes(key)
            clan = self._new_clan(source)
            # flake-parts' clan module takes the flake's directory (`self`)
            clan.directory = _flake_directory(source.path)
            self._part(clan, source, clan_value, keys[0] if keys else None, 0)
        imports = body.get("imports")
        if isinstance(imports, ListValue):
            for item in imports.items():
                target = unwrap_import(item)
                if isinstance(target, PathValue):
                    path = resolve_path(source.path, target.text)
                    if path is None or path in seen:
                        continue
                    seen.add(path)
                    loaded = self.load(path)
                    if loaded is not None:
                        self._flake_module(loaded, loaded.value, depth + 1, seen)
                elif isinstance(item, (AttrSet, Lambda)):
                    self._flake_module(source, item, depth + 1, seen)

    # -- parts

    def _part(self, clan: Clan, source: SourceFile, value: Value, key: Node | None, depth: int) -> None:
        if depth > 10 or len(clan.parts) >= _MAX_PARTS:
            clan.complete = False
            return
        target = unwrap_import(value)
        if isinstance(target, PathValue):
            loaded = self._imported(clan, source, target)
            if loaded is not None and not any(p.source.path == loaded.path for p in clan.parts):
                self._part(clan, loaded, loaded.value, key, depth + 1)
            return
        body, _, _ = peel_functions(target)
        if not isinstance(body, AttrSet):
            clan.complete = False
            return
        clan.parts.append(ClanPart(source, body, key))
        if source.path:
            self.claimed.add(source.path)
        if body.dynamic:
            clan.complete = False
        inventory = body.get("inventory")
        if inventory is not None:
            keys = body.key_nodes("inventory")
            self._inventory(clan, source, inventory, keys[0] if keys else None)
        imports = body.get("imports")
        if imports is None:
            return
        if not isinstance(imports, ListValue):
            clan.complete = False
            return
        for item in imports.items():
            self._part(clan, source, item, item.node, depth + 1)

    def _inventory(self, clan: Clan, source: SourceFile, value: Value, key: Node | None) -> None:
        target = unwrap_import(value)
        if isinstance(target, PathValue):
            loaded = self._imported(clan, source, target)
            if loaded is None:
                return
            if loaded.path:
                self.claimed.add(loaded.path)
            # the key `inventory =` is in the importer; this part's nodes are in `loaded`
            source, value, key = loaded, loaded.value, None
        body, _, _ = peel_functions(value)
        if isinstance(body, AttrSet):
            clan.inventories.append(InventoryPart(source, body, key))
        else:
            clan.complete = False

    def _imported(self, clan: Clan, source: SourceFile, target: PathValue) -> SourceFile | None:
        """The file `./x.nix` names, relative to the file that writes it; a clan that
        imports what cannot be read is not fully seen."""
        path = resolve_path(source.path, target.text)
        loaded = self.load(path) if path else None
        if loaded is None:
            clan.complete = False
        return loaded

    # -- files no entry reached

    def orphan(self, source: SourceFile) -> bool:
        """`clan.*` / `flake.clan.*` near the top of a file no entry reached: an incomplete clan.
        False when the file's text alone says it is none (whatever the entries claim)."""
        if not may_be_orphan(source.text):
            return False
        if source.path in self.claimed:
            return True
        body, _, _ = peel_functions(source.value)
        if not isinstance(body, AttrSet) or looks_like_service(body):
            return False
        # `clan.core.vars...` in a NixOS module is no clan: a clan sets one of clan's own keys
        sets = [attrs for trail, attrs in walk_sets(body) if trail[-1:] == ("clan",) and _has_clan_keys(attrs)]
        if not sets and (body.has("inventory") or body.has("exportInterfaces")):
            sets = [body]  # a clan file whose importer is out of sight
        if not sets:
            return False
        clan = self._new_clan(source)
        clan.complete = False
        clan.found_by_entry = False
        for attrs in sets:
            self._part(clan, source, attrs, None, 0)
        return True


_CLAN_KEYS = ("inventory", "modules", "exportInterfaces", "machines", "meta", "imports")
_CLAN_KEY = re.compile(rb'"?(?:' + b"|".join(k.encode() for k in _CLAN_KEYS) + rb')(?![\w\'-])')
# `clan =` or `clan.<one of clan's keys>` (the character before is checked apart: a regex
# starting with a look-behind tries every byte, one starting with `clan` skips to each)
_CLAN_SETTING = re.compile(rb"clan\s*(?:=|\.\s*" + _CLAN_KEY.pattern + rb")")


def _has_clan_keys(attrs: AttrSet) -> bool:
    return any(attrs.has(key) for key in _CLAN_KEYS)


def _flake_directory(path: str | None) -> str | None:
    if path is None:
        return None
    directory = os.path.dirname(os.path.abspath(path))
    probe = directory
    for _ in range(6):
        if os.path.isfile(os.path.join(probe, "flake.nix")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    return directory


def is_candidate(text: bytes) -> bool:
    """Whether a file's bytes may hold a clan entry or a clan of its own."""
    return may_enter(text) or may_be_orphan(text)


@dataclass
class ClanSearch:
    """What a search for clans learnt besides the clans, for the next search over the same files.

    `candidates`: the files whose bytes may hold a clan (the rest stay unparsed);
    `inert`: candidates whose text alone says they hold none, by the SourceFile judged
    (Files hands out one object per unchanged file), so an unchanged one is not read again."""

    candidates: list[str] = field(default_factory=list)
    inert: dict[str, SourceFile] = field(default_factory=dict)


def find_clans(
    paths: list[str], load: Loader, peek: Callable[[str], "bytes | None"] | None = None, search: ClanSearch | None = None
) -> list[Clan]:
    """Every clan that the files at `paths` configure, entries first, then orphans.

    `peek` gives a file's bytes without parsing it, so files that cannot matter stay unparsed.
    `search` (filled in) keeps the candidates and the inert files for `find_clans_again`.
    """
    search = search if search is not None else ClanSearch()
    search.candidates = [p for p in paths if peek is None or ((text := peek(p)) is not None and is_candidate(text))]
    search.inert.clear()
    return _find(search, load)


def find_clans_again(search: ClanSearch, changed: dict[str, "bytes | None"], load: Loader, order: dict[str, int]) -> list[Clan]:
    """The clans after edits to the files in `changed` (path -> new bytes, None: unreadable),
    the other files unchanged since `search` was made: the same answer as `find_clans`
    over every file, reading only candidates that are not known inert."""
    candidates = set(search.candidates)
    for path, text in changed.items():
        if text is not None and is_candidate(text):
            candidates.add(path)
        else:
            candidates.discard(path)
    search.candidates = sorted(candidates, key=lambda p: order.get(p, len(order)))
    return _find(search, load)


def _find(search: ClanSearch, load: Loader) -> list[Clan]:
    finder = ClanFinder(load)
    sources = []
    for path in search.candidates:
        source = load(path)
        if source is not None and search.inert.get(path) is not source:
            sources.append(source)
    entered = {id(source) for source in sources if finder.scan(source)}
    for source in sources:
        if not finder.orphan(source) and id(source) not in entered and source.path is not None:
            search.inert[source.path] = source
    return finder.clans

"""What a file declares as clan.service modules.

A service module is recognised by `_class = "clan.service"`, by its shape
(`manifest` and `roles`), by being imported from one (role files split out with
`imports`), or by being written inline in a clan configuration
(`clan.modules."@acme/vpn" = { ... }`). Other Nix files yield nothing, cheaply.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Iterator

from ..spec.versions import NEWEST, Generation
from ..syntax import Node, SyntaxTree
from .values import AttrSet, Call, Lambda, ListValue, PathValue, Str, Value, read_file

SERVICE_CLASS = "clan.service"
_CONFIG_STYLE_KEYS = ("imports", "options", "config", "_file", "key", "disabledModules", "_module", "_class")

# A cheap look at the bytes before any parsing: files that mention none of these
# cannot declare a service.
_HINTS = (b"clan.service", b"manifest", b"perInstance", b"perMachine", b"modules", b"roles")


@dataclass
class SourceFile:
    path: str | None
    tree: SyntaxTree
    value: Value
    # What rules derive from this text (calls of helpers, clanLib selects): a SourceFile is one
    # version of a file (an edit makes a new one), so these are read once per version.
    facts: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def text(self) -> bytes:
        return self.tree.text

    def derived(self, key, compute: Callable[[], object]):
        """What `compute` derives from this version of the file, computed once (as
        ServiceModule.derived does for a module): a module's other files keep theirs while
        one of them is typed in."""
        facts = self.facts
        if key not in facts:
            facts[key] = compute()
        return facts[key]


def load_source(text: bytes | str, path: str | None = None, tree: SyntaxTree | None = None) -> SourceFile:
    tree = tree or SyntaxTree(text)
    return SourceFile(path, tree, read_file(tree.model_root, tree.text))


@dataclass
class ServiceModule:
    """One clan.service module, possibly made of several files through `imports`."""

    source: SourceFile
    body: AttrSet  # the module's attribute set, after module function and wrappers
    function: Lambda | None = None  # `{ lib, clanLib, ... }: { ... }`
    wrappers: list[Lambda] = field(default_factory=list)  # importApply: `{ self }: ...`
    kind: str = "module"  # "module" | "fragment" | "inline"
    inline_name: str | None = None
    fragments: list["ServiceModule"] = field(default_factory=list)
    unresolved_imports: bool = False  # some imports could not be followed
    facts: dict = field(default_factory=dict, repr=False, compare=False)  # see derived()

    def derived(self, key, compute: Callable[[], object]):
        """What `compute` derives from this module alone, computed once and shared by the rules.

        A module is read from fixed versions of its files, and its parts are fixed once its
        imports are attached (an edit to any of them makes new modules), so nothing here
        goes stale; the key names what is derived, with any argument it depends on."""
        facts = self.facts
        if key not in facts:
            facts[key] = compute()
        return facts[key]

    def parts(self) -> Iterator["ServiceModule"]:
        """This module and every fragment it imports, once each."""
        if not self.fragments:  # most modules are one file (rules ask 70 times a keystroke)
            yield self
            return
        walked = self.facts.get("parts")  # noted by attach_imports once the fragments are all there
        if walked is not None:
            yield self
            yield from walked
            return
        yield from self._walk_parts()

    def _walk_parts(self) -> Iterator["ServiceModule"]:
        seen: set[int] = set()
        stack = [self]
        while stack:
            part = stack.pop()
            if id(part) in seen:
                continue
            seen.add(id(part))
            yield part
            stack.extend(reversed(part.fragments))

    def effective(self) -> AttrSet:
        """The attributes this part sets as service options (inside `config` when used):
        read once per part, as its body is fixed (rules and the graph ask 140 times a keystroke)."""
        effective = self.facts.get("effective")
        if effective is None:
            effective = self.facts["effective"] = self._effective()
        return effective

    def _effective(self) -> AttrSet:
        config = self.body.get("config")
        if isinstance(config, AttrSet):
            # Settings left beside `config` are an error of their own (config-mixed);
            # the other rules still see them where the author meant them.
            stray = [d for d in self.body.definitions if d.name not in _CONFIG_STYLE_KEYS]
            return AttrSet(config.node, list(config.definitions) + stray, config.dynamic)
        return self.body

    def values(self, *path: str) -> list[Value]:
        """Every definition of a path across all parts (a module may set it in several files)."""
        found = []
        for part in self.parts():
            value = part.effective().path(*path)
            if value is not None:
                found.append(value)
        return found

    def is_dynamic(self) -> bool:
        return self.unresolved_imports or any(p.effective().dynamic for p in self.parts())


def peel_functions(value: Value) -> tuple[Value, Lambda | None, list[Lambda]]:
    """`{ self }: { lib, ... }: body` -> (body, module function, [wrappers])."""
    lambdas: list[Lambda] = []
    while isinstance(value, Lambda) and len(lambdas) < 4:
        lambdas.append(value)
        value = value.body
    if not lambdas:
        return value, None, []
    return value, lambdas[-1], lambdas[:-1]


def _class_of(body: AttrSet) -> Value | None:
    return body.get("_class")


def looks_like_service(body: AttrSet) -> bool:
    cls = _class_of(body)
    if isinstance(cls, Str) and cls.text == SERVICE_CLASS:
        return True
    return body.has("manifest") and (body.has("roles") or body.has("perMachine"))


def _module_from(value: Value, source: SourceFile, kind: str, name: str | None = None) -> ServiceModule | None:
    body, function, wrappers = peel_functions(value)
    if not isinstance(body, AttrSet):
        return None
    return ServiceModule(source, body, function, wrappers, kind, name)


def find_services(source: SourceFile, registered_too: bool = True) -> tuple[list[ServiceModule], list[tuple[str, Node | None, str]]]:
    """Service modules declared in a file, and files registered as modules elsewhere.

    The second list holds (path text, node, registered name) for `clan.modules.x = ./x.nix`;
    without `registered_too` it may be left empty, and a `modules` set whose text is known to
    register only paths is not read again (a clan file of a thousand, on every keystroke).
    """
    modules: list[ServiceModule] = []
    registered: list[tuple[str, Node | None, str]] = []
    if not any(hint in source.text for hint in _HINTS):
        return modules, registered
    whole = _module_from(source.value, source, "module")
    if whole is not None and looks_like_service(whole.body):
        return [whole], registered
    # `clan.modules` is spelled in the text (keys are static names): without both words the
    # walk through the file's sets finds nothing
    if whole is not None and b"clan" in source.text and b"modules" in source.text:
        for name, value, key_node in _clan_module_entries(whole.body, source.text, registered_too):
            if isinstance(value, PathValue):
                registered.append((value.text, value.node, name))
                continue
            inline = _module_from(value, source, "inline", name)
            if inline is not None and (looks_like_service(inline.body) or inline.body.has("roles")):
                modules.append(inline)
    return modules, registered


# Attributes that never hold a clan configuration below them; `modules` is read, not entered.
_NOT_ENTERED = frozenset({"exportInterfaces", "modules", "inventory", "imports", "options", "roles", "nixosModule"})


def walk_sets(body: AttrSet, limit: int = 600, depth: int = 6) -> Iterator[tuple[tuple[str, ...], AttrSet]]:
    """(trail, attrset) for the sets near the top of a file, where clan configurations live.

    Functions on the way (`perSystem = { pkgs, ... }: ...`, flake-parts modules) are peeled.
    """
    stack: list[tuple[tuple[str, ...], AttrSet]] = [((), body)]
    seen = 0
    while stack and seen < limit:
        trail, attrs = stack.pop()
        seen += 1
        yield trail, attrs
        if len(trail) >= depth:
            continue
        for name in attrs.names():
            if name in _NOT_ENTERED:
                continue
            child = attrs.get(name)
            if isinstance(child, Lambda):
                child, _, _ = peel_functions(child)
            if isinstance(child, AttrSet):
                stack.append((trail + (name,), child))


# The texts of recent `modules` sets that register only plain paths (a few: the last ones typed in).
_ONLY_PATHS: dict[bytes, None] = {}


def _only_paths(attrs: AttrSet, body_text: bytes) -> bytes | None:
    """The text of `attrs.modules` when it is one literal set that may register only paths."""
    definitions = attrs._named("modules")
    node = definitions[0].thunk.node if len(definitions) == 1 and not definitions[0].rest else None
    if node is None or node.type != "attrset_expression" or node.has_error:
        return None
    text = body_text[node.start_byte : node.end_byte]
    return None if b"${" in text else text


def _clan_module_entries(body: AttrSet, body_text: bytes, registered_too: bool = True) -> Iterator[tuple[str, Value, Node | None]]:
    """Entries of `clan.modules` / `flake.clan.modules` anywhere near the top of a file
    (without `registered_too`, entries registering a path may be left out)."""
    for trail, attrs in walk_sets(body):
        if trail[-1:] != ("clan",):
            continue
        set_text = _only_paths(attrs, body_text) if not registered_too else None
        if set_text is not None and set_text in _ONLY_PATHS:
            continue
        modules = attrs.get("modules")
        only_paths = set_text is not None
        if isinstance(modules, AttrSet):
            grouped: dict[str, list] = {}  # one pass over a clan's thousand registrations
            for definition in modules.definitions:
                grouped.setdefault(definition.name, []).append(definition)
            for entry, definitions in grouped.items():
                keys = [d.key_node for d in definitions if d.key_node is not None]
                node = definitions[0].thunk.node if len(definitions) == 1 and not definitions[0].rest else None
                if node is not None and node.type == "path_expression" and b"${" not in (text := body_text[node.start_byte : node.end_byte]):
                    value = PathValue(node, text.decode("utf-8", "replace"))  # as the reader reads it, without the read
                else:
                    value = definitions[0].thunk.force() if node is not None else modules.get(entry)
                    only_paths = False
                if value is not None:
                    yield entry, unwrap_import(value), keys[0] if keys else None
            if only_paths and not modules.dynamic:
                _ONLY_PATHS[set_text] = None
                while len(_ONLY_PATHS) > 4:
                    del _ONLY_PATHS[next(iter(_ONLY_PATHS))]


def unwrap_import(value: Value) -> Value:
    """`import ./x.nix` and `lib.modules.importApply ./x.nix {...}` stand for the file."""
    if isinstance(value, Call) and value.name in ("import", "importApply"):
        first = value.arg(0)
        if isinstance(first, PathValue):
            return first
    return value


def import_paths(module: ServiceModule) -> tuple[list[tuple[str, Node | None]], list[Value], bool]:
    """Files and inline modules in a part's `imports`; the flag says some are unknown."""
    files: list[tuple[str, Node | None]] = []
    inline: list[Value] = []
    unknown = False
    imports = module.body.get("imports")
    if imports is None:
        return files, inline, unknown
    if not isinstance(imports, ListValue):
        return files, inline, True
    for item in imports.items():
        item = unwrap_import(item)
        if isinstance(item, PathValue):
            files.append((item.text, item.node))
        elif isinstance(item, (AttrSet, Lambda)):
            inline.append(item)
        else:
            unknown = True
    return files, inline, unknown


def resolve_path(base_file: str | None, path_text: str) -> str | None:
    if base_file is None or path_text.startswith("<"):
        return None
    if path_text.startswith("~"):
        return None
    base_dir = os.path.dirname(os.path.abspath(base_file))
    resolved = os.path.normpath(os.path.join(base_dir, path_text)) if not path_text.startswith("/") else path_text
    if os.path.isdir(resolved):
        resolved = os.path.join(resolved, "default.nix")
    return resolved


Loader = Callable[[str], "SourceFile | None"]


def attach_imports(module: ServiceModule, load: Loader, depth: int = 0) -> None:
    """Follow `imports` of sibling files and inline modules, recursively (bounded)."""
    if depth > 8:
        module.unresolved_imports = True
        return
    files, inline, unknown = import_paths(module)
    module.unresolved_imports |= unknown
    for value in inline:
        part = _module_from(value, module.source, "fragment")
        if part is None:
            module.unresolved_imports = True
            continue
        module.fragments.append(part)
        attach_imports(part, load, depth + 1)
    for path_text, _node in files:
        resolved = resolve_path(module.source.path, path_text)
        source = load(resolved) if resolved else None
        if source is None:
            module.unresolved_imports = True
            continue
        part = _module_from(source.value, source, "fragment")
        if part is None:
            module.unresolved_imports = True
            continue
        module.fragments.append(part)
        attach_imports(part, load, depth + 1)
    if depth == 0 and module.fragments:
        # the parts are fixed from now on (a graph of a few files, walked 280 times a keystroke);
        # all but the module itself, which its own facts must not hold (see arguments.Site)
        module.facts["parts"] = list(module._walk_parts())[1:]


def exports_out(module: ServiceModule, generation: Generation = NEWEST) -> tuple[list[str] | None, list[tuple[ServiceModule, Str]]]:
    """The interface names in `manifest.exports.out` (`traits` before 2026-02-07), and the
    string literals that name them; the names are None when not statically known."""
    names: list[str] = []
    literals: list[tuple[ServiceModule, Str]] = []
    known = not module.is_dynamic()
    option = ("exports", "out") if generation.has("2026-02-07") else ("traits",)
    for part in module.parts():
        manifest = part.effective().get("manifest")
        if manifest is None:
            continue
        if not isinstance(manifest, AttrSet) or manifest.dynamic:
            known = False
            continue
        value = manifest.path(*option)
        if value is None:
            exports = manifest.get("exports")
            if exports is not None and (not isinstance(exports, AttrSet) or exports.dynamic):
                known = False
            continue
        if not isinstance(value, ListValue):
            known = False
            continue
        for item in value.items():
            if isinstance(item, Str) and item.text is not None:
                names.append(item.text)
                literals.append((part, item))
            else:
                known = False
    return (names if known else None), literals

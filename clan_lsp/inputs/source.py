"""What a flake input's source provides, read from its files without evaluating.

An input (clan-core, or any flake that sets `clan.modules`) registers services in
`clan.modules.<name>` / `flake.clan.modules.<name>`, in its flake.nix outputs or in the
flake-parts modules flake.nix imports (followed through `imports`; a module computing its
imports with `builtins.readDir ./.`, as clan-core's clanServices/flake-module.nix does,
stands for every `<subfolder>/flake-module.nix`). Export interfaces it declares in
`clan.exportInterfaces` are read the same way.

Only files inside the input's folder are read. Everything is lazy: the registrations on
first question, each service on first use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..model import AttrSet, Call, Lambda, ListValue, PathValue, Str, ServiceModule, SourceFile, Value, attach_imports, find_services, load_source, peel_functions
from ..model.service import _module_from, unwrap_import
from ..syntax import Node

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_FLAKE_MODULES = 400  # flake-parts modules followed from flake.nix
_REGISTRY_TRAILS = (("clan",), ("flake", "clan"))
_FLAKE_MODULE_HINTS = (b"imports", b"modules", b"exportInterfaces")


@dataclass
class Registration:
    name: str
    source: SourceFile  # the file that registers it
    key_node: Node | None
    path: str | None = None  # the file it registers
    inline: Value | None = None  # a module written in place


@dataclass
class InputSource:
    """One input's folder (a store path or a configured folder), read lazily."""

    root: str
    provenance: str
    _files: dict[str, SourceFile | None] = field(default_factory=dict)
    _registrations: dict[str, Registration] | None = None
    _interfaces: dict | None = None
    _deprecated: list[str] = field(default_factory=list)
    _modules: dict[str, ServiceModule | None] = field(default_factory=dict)

    # -- reading files, never outside the root

    def __post_init__(self) -> None:
        self._real_root = os.path.realpath(self.root)
        self._services: dict = {}  # registered name -> what resolve made of it (InputService)

    def contains(self, path: str) -> bool:
        """Inside the input's folder, after symlinks: nothing outside it is ever read."""
        real = os.path.realpath(path)
        return real == self._real_root or real.startswith(self._real_root.rstrip(os.sep) + os.sep)

    def load(self, path: str, wanted: tuple[bytes, ...] = ()) -> SourceFile | None:
        """The parsed file; with `wanted`, None without parsing when its bytes hold none of them."""
        if path in self._files:
            return self._files[path]
        source = None
        if self.contains(path) and os.path.isfile(path):
            try:
                if os.path.getsize(path) <= MAX_FILE_BYTES:
                    with open(path, "rb") as handle:
                        text = handle.read()
                    if wanted and not any(w in text for w in wanted):
                        return None  # not cached: another question may want it whole
                    source = load_source(text, path)
            except OSError:
                source = None
        self._files[path] = source
        return source

    # -- what it registers

    def registrations(self) -> dict[str, Registration]:
        if self._registrations is None:
            self._read_flake()
        return self._registrations  # type: ignore[return-value]

    def interfaces(self) -> dict:
        """Export interfaces the input declares (`clan.exportInterfaces.<name>`), as InterfaceDecls."""
        if self._interfaces is None:
            self._read_flake()
        return self._interfaces  # type: ignore[return-value]

    def module_names(self) -> list[str]:
        return list(self.registrations())

    def deprecated(self) -> list[str]:
        """Names in `clan.deprecatedModules`: registered stubs that only throw migration advice."""
        self.registrations()
        return list(self._deprecated)

    def module(self, name: str) -> ServiceModule | None:
        if name not in self._modules:
            self._modules[name] = self._load_module(name)
        return self._modules[name]

    def _load_module(self, name: str) -> ServiceModule | None:
        registration = self.registrations().get(name)
        if registration is None:
            return None
        if registration.inline is not None:
            module = _module_from(registration.inline, registration.source, "inline", name)
        else:
            source = self.load(registration.path) if registration.path else None
            if source is None:
                return None
            found, _ = find_services(source)
            module = found[0] if found else _module_from(source.value, source, "module")
        if module is not None:
            attach_imports(module, self.load)
        return module

    # -- following flake.nix and its flake-parts modules

    def _read_flake(self) -> None:
        from ..workspace.index import _interface  # the workspace's reading of an interface declaration

        self._registrations, self._interfaces, self._deprecated = {}, {}, []
        queue = [os.path.join(self.root, "flake.nix")]
        seen: set[str] = set()
        while queue and len(seen) < MAX_FLAKE_MODULES:
            path = os.path.normpath(queue.pop(0))
            if path in seen:
                continue
            seen.add(path)
            source = self.load(path, _FLAKE_MODULE_HINTS)  # a file mentioning none of these adds nothing
            if source is None:
                continue
            for module in _flake_parts_modules(source.value, top=path.endswith("flake.nix") and len(seen) == 1):
                for trail in _REGISTRY_TRAILS:
                    modules = module.path(*trail, "modules")
                    if isinstance(modules, AttrSet):
                        for name in modules.names():
                            self._register(source, name, modules)
                    deprecated = module.path(*trail, "deprecatedModules")
                    if isinstance(deprecated, ListValue):
                        self._deprecated += [i.text for i in deprecated.items() if isinstance(i, Str) and i.text]
                    interfaces = module.path(*trail, "exportInterfaces")
                    if isinstance(interfaces, AttrSet):
                        for name in interfaces.names():
                            keys = interfaces.key_nodes(name)
                            self._interfaces.setdefault(name, _interface(name, interfaces.get(name), source, keys[0] if keys else None))
                queue += self._imported(source, module)

    def _register(self, source: SourceFile, name: str, modules: AttrSet) -> None:
        if name in self._registrations:
            return
        value = modules.get(name)
        keys = modules.key_nodes(name)
        registration = Registration(name, source, keys[0] if keys else None)
        target = unwrap_import(value) if value is not None else None
        if isinstance(target, PathValue):
            registration.path = _resolve(source.path, target.text)
        elif isinstance(target, (AttrSet, Lambda)):
            registration.inline = target
        self._registrations[name] = registration

    def _imported(self, source: SourceFile, module: AttrSet) -> list[str]:
        """Files a flake-parts module imports: the path literals written in its `imports`."""
        found: list[str] = []
        for definition in module.defs("imports"):
            node = definition.thunk.node
            if node is None:
                continue
            text = source.text[node.start_byte : node.end_byte]
            directory = os.path.dirname(source.path or "")
            if b"readDir" in text:
                # `map (name: ./. + "/${name}/flake-module.nix") (attrNames (readDir ./.))`
                try:
                    entries = sorted(os.listdir(directory))
                except OSError:
                    entries = []
                found += [os.path.join(directory, e, "flake-module.nix") for e in entries if os.path.isfile(os.path.join(directory, e, "flake-module.nix"))]
            for path_node in _descendants(node, "path_expression"):
                if any(c.type == "interpolation" for c in path_node.named_children):
                    continue
                resolved = _resolve(source.path, source.text[path_node.start_byte : path_node.end_byte].decode("utf-8", "replace"))
                if resolved and resolved.endswith(".nix") and resolved != source.path:
                    found.append(resolved)
        return found


def _resolve(base_file: str | None, text: str) -> str | None:
    if base_file is None or text.startswith(("<", "~", "/")):
        return None
    resolved = os.path.normpath(os.path.join(os.path.dirname(base_file), text))
    if os.path.isdir(resolved):
        resolved = os.path.join(resolved, "default.nix")
    return resolved


def _descendants(node: Node, kind: str):
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == kind:
            yield current
            continue
        stack.extend(reversed(current.named_children))


def _flake_parts_modules(value: Value, top: bool) -> list[AttrSet]:
    """The attribute sets of a file that act as flake outputs or flake-parts modules.

    flake.nix: its `outputs` (a plain output set, or the modules given to `mkFlake`);
    any other file: its body after module functions (`{ self, inputs, ... }: { ... }`).
    """
    body, _, _ = peel_functions(value)
    if not isinstance(body, AttrSet):
        return []
    if not top:
        return [body]
    outputs = body.get("outputs")
    if outputs is None:
        return [body]
    outputs, _, _ = peel_functions(outputs)
    if isinstance(outputs, AttrSet):
        return [outputs]
    found: list[AttrSet] = []
    if isinstance(outputs, Call):
        for index in range(len(outputs.arg_thunks)):
            argument, _, _ = peel_functions(outputs.arg(index))
            if isinstance(argument, AttrSet):
                found.append(argument)
    return found

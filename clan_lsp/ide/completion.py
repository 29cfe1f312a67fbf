"""Completion on half-typed text.

The cursor's context comes from two places: the error-tolerant tree (which
attribute set, function or call we are in, see locate.py) and the text just
before the cursor (the word being typed, a `settings.` chain, an open string).
"""

from __future__ import annotations

import re

from ..model import ServiceModule, SourceFile
from ..model.service import exports_out
from ..model.interface import role_names, role_options
from ..spec import schema
from ..spec.versions import NEWEST, Generation
from . import docs
from .items import ENUM_MEMBER, FIELD, FUNCTION, INTERFACE, PROPERTY, VALUE, VARIABLE, Completion
from .locate import (
    Element, Key, Place, Site, classify, lambda_value, module_root, node_at, options_at, site_arguments, steps_to,
    strip_module_function,
)

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*$")
_CHAIN = re.compile(r"((?:[A-Za-z_][A-Za-z0-9_'-]*\.)+)([A-Za-z_][A-Za-z0-9_'-]*)?$")
_FORMALS = re.compile(r"(perInstance|perMachine)\s*=\s*\{[^{}:;=\"]*$")
_LIST_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_.'-]*)\s*=\s*\[([^\[\]]*)$")


_SKELETON = """{ lib, clanLib, ... }:
{
  _class = "clan.service";
  manifest.name = "$1";
  manifest.description = "$2";
  manifest.readme = builtins.readFile ./README.md;
  manifest.categories = [ "$3" ];

  roles.default = {
    description = "$4";
    perInstance =
      { settings, ... }:
      {
        nixosModule = {
          $0
        };
      };
  };
}
"""


class Request:
    """One completion request: the text around the cursor, pre-digested."""

    def __init__(self, source: SourceFile, modules: list[ServiceModule], offset: int, generation: Generation, snippets: bool):
        self.source = source
        self.modules = modules
        self.offset = max(0, min(offset, len(source.text)))
        self.generation = generation
        self.snippets = snippets
        text = source.text
        line_start = text.rfind(b"\n", 0, self.offset) + 1
        self.before = text[line_start : self.offset].decode("utf-8", "replace")
        after_end = text.find(b"\n", self.offset)
        self.after = text[self.offset : after_end if after_end != -1 else len(text)].decode("utf-8", "replace")
        word = _WORD.search(self.before)
        self.word = word.group(0) if word else ""
        self.word_start = self.offset - len(self.word.encode())
        chain = _CHAIN.search(self.before)
        self.chain: list[str] = chain.group(1).rstrip(".").split(".") if chain else []
        chain_len = len(chain.group(0).encode()) if chain else len(self.word.encode())
        self.expression_start = self.offset - chain_len
        # inside `"${ ... }"` the text is an expression again
        self.in_string = _unescaped_quotes(self.before) % 2 == 1 and not _in_interpolation(self.before)
        self.interfaces: dict[str, schema.ExportInterface] = {}

    def previous_char(self) -> str:
        """The last non-blank character before the word or chain being typed."""
        text = self.source.text
        at = self.expression_start
        while at > 0:
            ch = text[at - 1 : at]
            if ch in (b" ", b"\t", b"\n", b"\r"):
                at -= 1
                continue
            # skip a line comment ending right here
            line_start = text.rfind(b"\n", 0, at) + 1
            hash_at = text.find(b"#", line_start, at)
            if hash_at != -1 and text.count(b'"', line_start, hash_at) % 2 == 0:
                at = hash_at
                continue
            if ch == b"{" and text[at - 2 : at - 1] == b"$":
                return "${"  # an interpolation: an expression follows, not a key
            return ch.decode("utf-8", "replace")
        return ""

    def item(self, label: str, kind: str, detail: str = "", documentation: str = "", insert: str | None = None, snippet: bool = False, sort: str | None = None, deprecated: bool = False) -> Completion:
        if snippet and not self.snippets:
            insert, snippet = None, False
        return Completion(label, kind, detail, documentation, insert, snippet, sort, deprecated, self.word_start, self.offset)


def _in_interpolation(before: str) -> bool:
    """An open `${` after the string's last quote, not closed yet."""
    quote = before.rfind('"')
    opened = before.rfind("${")
    return opened > quote and before.find("}", opened) == -1


def _unescaped_quotes(text: str) -> int:
    count = 0
    escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            count += 1
        elif ch == "#" and count % 2 == 0:
            break
    return count


def _steps(request: Request, offset: int, prefer_right: bool = False):
    module, root = module_root(request.source, request.modules, offset)
    if root is None:
        return None, module
    steps, reached = steps_to(node_at(request.source, offset, prefer_right), root, request.source.text, offset)
    return (strip_module_function(steps, root) if reached else None), module


def complete(
    source: SourceFile,
    modules: list[ServiceModule],
    offset: int,
    generation: Generation = NEWEST,
    snippets: bool = True,
    workspace=None,
) -> list[Completion]:
    request = Request(source, modules, offset, generation, snippets)
    request.interfaces = _known_interfaces(generation, workspace)
    if not source.text.strip():
        return [request.item("clan.service module", VALUE, "a new service", "A clan.service module skeleton.", _SKELETON, snippet=True)]
    if workspace is not None and module_root(source, modules, offset)[0] is None:
        from .clan import is_clan_file
        from .inventory import complete_clan

        found = complete_clan(workspace, source, request)
        if found is not None:
            return found
        if is_clan_file(workspace, source):
            return []  # a clan file outside its clan: not a service module, whatever it mentions
    if request.in_string:
        return _in_string(request)
    if request.chain:
        steps, module = _steps(request, request.expression_start, prefer_right=True)
    else:
        steps, module = _steps(request, request.offset)
    module_formals = _module_function_at(modules, source, offset)
    if module_formals is not None:
        return _formals(request, Place("formals", site=Site("module", module_formals)), module_formals and _owner(modules, module_formals))
    previous = request.previous_char()
    if previous in ("{", ","):
        half_typed = _FORMALS.search(request.source.text[max(0, request.offset - 400) : request.offset].decode("utf-8", "replace"))
        if half_typed is not None:
            return _formals(request, Place("formals", site=None), module, fallback_kind=half_typed.group(1))
    if steps is None:
        return []
    place = classify(steps)
    if place.kind == "formals":
        return _formals(request, place, module)
    if previous in ("{", ";", ""):
        place = classify(steps + [Key(name) for name in request.chain])
        return _keys(request, place, module)
    if request.chain:
        return _selection(request, place, module)
    if previous in ("[",) or (previous == '"'):
        list_place = classify(steps + [Element(None)])  # type: ignore[arg-type]
        return _list_values(request, list_place, quoted=False)
    return []


def _module_function_at(modules: list[ServiceModule], source: SourceFile, offset: int):
    """The module function's node when the cursor is in its formals (`{ lib, $0 }: { ... }`)."""
    for module in modules:
        for part in module.parts():
            function = part.function
            if function is None or function.node is None or part.source.path != source.path:
                continue
            formals = function.node.child_by_field_name("formals")
            if formals is not None and formals.start_byte < offset < formals.end_byte:
                return function.node
    return None


def _owner(modules: list[ServiceModule], function_node) -> ServiceModule | None:
    for module in modules:
        if any(p.function is not None and p.function.node is function_node for p in module.parts()):
            return module
    return modules[0] if modules else None


# ---------------------------------------------------------------- attribute keys


def _keys(request: Request, place: Place, module: ServiceModule | None) -> list[Completion]:
    found = options_at(place)
    if found is not None:
        options, prefix = found
        items = []
        rest_blank = request.after.strip() in ("", "}", "};")
        for opt in options:
            if opt.internal or opt.readable_only:
                continue
            if not request.generation.has(opt.since, opt.removed):
                continue
            path = f"{prefix}.{opt.name}" if prefix else opt.name
            insert = opt.snippet if (opt.snippet and rest_blank and not request.chain) else None
            items.append(
                request.item(
                    opt.name,
                    PROPERTY,
                    opt.type.show(),
                    docs.option(path, opt),
                    insert,
                    snippet=insert is not None,
                    sort=("0" if opt.required else "1") + opt.name,
                )
            )
        return items
    if place.kind == "export-value":
        return _interface_names(request, module, as_keys=True)
    if place.kind == "interface-fields" and place.interface:
        iface = request.interfaces.get(place.interface)
        if iface is None:
            return []
        return [
            request.item(f.name, FIELD, f.type.show(), docs.interface_field(iface.name, f), f"{f.name} = $1;", snippet=True)
            for f in iface.fields
        ]
    if place.kind == "interface-body":
        return [request.item("options", PROPERTY, "attrset", "The options of this role's `settings`.", "options.$1 = lib.mkOption {\n  type = lib.types.$2;\n};", snippet=True)]
    return []


def _known_interfaces(generation: Generation, workspace) -> dict[str, schema.ExportInterface]:
    found = {i.name: i for i in schema.EXPORT_INTERFACES if generation.has(i.since)}
    if workspace is not None:
        for name, declared in workspace.interface_specs().items():
            found.setdefault(name, declared)
    return found


def _interface_names(request: Request, module: ServiceModule | None, as_keys: bool, quoted: bool = True) -> list[Completion]:
    listed = [s.text for _, s in exports_out(module, request.generation)[1] if s.text] if module is not None else []
    items = []
    for iface in request.interfaces.values():
        first = iface.name in listed
        if as_keys:
            insert, snippet = f"{iface.name}.$1", True
        else:
            insert, snippet = (iface.name if quoted else f'"{iface.name}"'), False
        items.append(
            request.item(
                iface.name,
                INTERFACE,
                "listed in manifest.exports.out" if first else ("export interface" if iface.since else "declared in this workspace"),
                docs.interface(iface),
                insert,
                snippet=snippet,
                sort=("0" if first else "1") + iface.name,
            )
        )
    return items


# ---------------------------------------------------------------- strings and lists


def _in_string(request: Request) -> list[Completion]:
    text = request.source.text
    window_start = max(0, request.offset - 2000)
    window = text[window_start : request.offset].decode("utf-8", "replace")
    match = _LIST_KEY.search(window)
    if match is None:
        if re.search(r"_class\s*=\s*\"[^\"]*$", request.before):
            return [request.item("clan.service", VALUE, "class", "The class of every clan.service module.")]
        return []
    key_offset = window_start + len(window[: match.start(1)].encode())
    steps, module = _steps(request, key_offset)
    if steps is None:
        return []
    place = classify(steps + [Key(name) for name in match.group(1).split(".")] + [Element(None)])  # type: ignore[arg-type]
    return _list_values(request, place, quoted=True, module=module)


def _list_values(request: Request, place: Place, quoted: bool, module: ServiceModule | None = None) -> list[Completion]:
    if place.kind == "categories-list":
        return [
            request.item(c, ENUM_MEMBER, "category", docs.category(c), c if quoted else f'"{c}"')
            for c in schema.CATEGORIES
        ]
    if place.kind == "interfaces-list":
        return _interface_names(request, module, as_keys=False, quoted=quoted)
    return []


# ---------------------------------------------------------------- function arguments


def _formals(request: Request, place: Place, module: ServiceModule | None, fallback_kind: str | None = None) -> list[Completion]:
    if place.site is None and fallback_kind is None:
        return []
    if place.site is not None:
        kind = place.site.kind
        function = lambda_value(module, place.site.function)
        if function is None and module is not None:  # the module function is no value of the body
            function = next((p.function for p in module.parts() if p.function is not None and p.function.node is place.site.function), None)
        listed = {f.name for f in function.formals or ()} if function is not None else set()
        text = request.source.text[place.site.function.start_byte : place.site.function.end_byte]
    else:
        kind = fallback_kind or "perInstance"
        line_start = request.source.text.rfind(b"{", 0, request.offset)
        text = request.source.text[line_start : request.offset]
        listed = set(re.findall(r"[A-Za-z_][A-Za-z0-9_'-]*", text.decode("utf-8", "replace")))
    items = []
    for index, arg in enumerate(site_arguments(kind)):
        if arg.name in listed and arg.name != request.word:
            continue
        if arg.name.startswith("_") or arg.name == "specialArgs":
            continue  # passed by the module system, never asked for in practice
        if not request.generation.has(arg.since):
            continue
        items.append(request.item(arg.name, VARIABLE, arg.type, docs.argument(kind, arg), sort=f"{index:02d}"))
    if b"..." not in text:
        items.append(request.item("...", VARIABLE, "the other arguments", "clan passes more arguments than a function names: keep `...`.", sort="99"))
    return items


# ---------------------------------------------------------------- `base.field` chains


def _param_name(function_node) -> str | None:
    universal = function_node.child_by_field_name("universal")
    return universal.text.decode() if universal is not None else None


def _selection(request: Request, place: Place, module: ServiceModule | None) -> list[Completion]:
    base, *rest = request.chain
    site = place.site
    function = lambda_value(module, site.function) if site is not None else None
    formals = {f.name for f in function.formals or ()} if function is not None else set()
    if place.predicate is not None and base == _param_name(place.predicate) and not rest:
        return [request.item(f.name, FIELD, "string", docs.scope_field(f)) for f in schema.SCOPE_FIELDS]
    if base == "clanLib" and not rest:
        return [
            request.item(h.name, FUNCTION, h.signature, docs.helper(h), deprecated=False)
            for h in schema.CLANLIB_HELPERS
            if request.generation.has(h.since)
        ]
    if site is not None and site.kind == "perInstance" and base in formals:
        if base == "settings":
            options = role_options(module, site.role)
            for name in rest:
                options = next((o.children for o in options if o.name == name), [])
            return [request.item(o.name, PROPERTY, o.type_text or "", docs.role_option(site.role or "", o)) for o in options]
        if base == "roles":
            if not rest:
                return [request.item(name, VARIABLE, "role", f"Role `{name}` of this service (absent when this instance does not use it).") for name, _, _ in role_names(module)]
            if len(rest) == 1:
                return [request.item(f.name, FIELD, "", f.doc, deprecated=f.name == "settings") for f in schema.ROLE_VALUE_FIELDS]
            if len(rest) == 3 and rest[1] == "machines":
                return [request.item("settings", FIELD, "attrset", "This machine's settings in that role.")]
            if len(rest) >= 4 and rest[1] == "machines" and rest[3] == "settings":
                options = role_options(module, rest[0])
                for name in rest[4:]:
                    options = next((o.children for o in options if o.name == name), [])
                return [request.item(o.name, PROPERTY, o.type_text or "", docs.role_option(rest[0], o)) for o in options]
    if site is not None and site.kind in ("perInstance", "perMachine") and base in formals:
        arguments = {a.name: a for a in site_arguments(site.kind)}
        arg = arguments.get(base)
        if arg is not None and arg.fields and not rest:
            return [request.item(f.name, FIELD, f.type.show(), f.doc) for f in arg.fields if not f.internal]
        if site.kind == "perMachine" and base == "instances" and len(rest) == 1:
            return [request.item(f.name, FIELD, "", f.doc) for f in schema.INSTANCE_VALUE_FIELDS]
    if rest and rest[-1] in request.interfaces and base not in ("config", "clanLib", "lib"):
        # `value.<interface>.` where a consumer reads what it selected
        iface = request.interfaces[rest[-1]]
        return [request.item(f.name, FIELD, f.type.show(), docs.interface_field(iface.name, f)) for f in iface.fields]
    if base == "config":
        if not rest:
            return [request.item(o.name, PROPERTY, o.type.show(), docs.option(o.name, o)) for o in schema.TOP_LEVEL if not o.internal]
        if rest == ["manifest"]:
            return [request.item(o.name, PROPERTY, o.type.show(), docs.option(f"manifest.{o.name}", o)) for o in schema.MANIFEST if not o.removed]
    return []

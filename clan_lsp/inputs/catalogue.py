"""The catalogue of clan-core's services shipped with clan-lsp: the fallback when no
clan-core source is on this machine (no store path, no configured folder).

Facts only: service names, their roles, each role's settings with type and default (no
prose), whether the role's settings are all known. Generated from a clan-core
checkout by scripts/gen_catalogue.py, with the same reader the live sources use, and
dated with that checkout's commit date.
"""

from __future__ import annotations

import json
from importlib import resources

from ..model.interface import role_names, role_options

FILE = "clan_core_services.json"
FORMAT = 1
_cache: dict[str, dict | None] = {}


def clear_cache() -> None:
    _cache.clear()


def load() -> dict | None:
    if "data" not in _cache:
        try:
            text = resources.files("clan_lsp.spec").joinpath("data", FILE).read_text(encoding="utf-8")
            data = json.loads(text)
            _cache["data"] = data if isinstance(data, dict) and data.get("format") == FORMAT else None
        except (OSError, ValueError):
            _cache["data"] = None
    return _cache["data"]


def provenance(data: dict | None) -> str:
    return f"catalogue of {(data or {}).get('date') or 'unknown date'}"


def type_summary(text: str) -> str:
    """`attrsOf ( submodule ( { name, ... }: { options = ...; } ) )` -> `attrsOf (submodule)`:
    the catalogue keeps the type's shape, never the module code written inside it."""
    out, position = [], 0
    while position < len(text):
        found = text.find("submodule", position)
        if found < 0:
            out.append(text[position:])
            break
        out.append(text[position : found + len("submodule")])
        position = found + len("submodule")
        rest = text[position:].lstrip()
        if rest[:1] in ("(", "{"):
            start = len(text) - len(rest)
            depth, index = 0, start
            while index < len(text):
                if text[index] in "({[":
                    depth += 1
                elif text[index] in ")}]":
                    depth -= 1
                    if depth == 0:
                        break
                index += 1
            position = index + 1
    return " ".join("".join(out).replace("( ", "(").replace(" )", ")").split())


def _option(option, module=None, role: str = "", path: tuple[str, ...] = ()) -> dict:
    from .resolve import nested_options_open

    record: dict = {"name": option.name}
    if option.type_text is not None:
        record["type"] = type_summary(option.type_text)
    if option.default_text is not None:
        record["default"] = option.default_text
    # no description: clan-core's prose stays in clan-core (hover says where to read it)
    if option.children:
        here = path + (option.name,)
        record["children"] = [_option(c, module, role, here) for c in option.children]
        if module is not None and nested_options_open(module, role, here):
            record["open"] = True
    return record


def build(source, date: str, commit: str | None = None) -> dict:
    """The catalogue of what an InputSource (a clan-core checkout) registers."""
    from ..model.interface import closed_interface

    services: dict[str, dict] = {}
    deprecated = source.deprecated()
    for name in sorted(source.module_names()):
        if name in deprecated or name.startswith("@"):
            continue
        module = source.module(name)
        if module is None:
            continue
        manifest = module.values("manifest", "name")
        label = getattr(manifest[0], "text", None) if manifest else None
        roles = {}
        for role, _, _ in sorted(role_names(module)):
            roles[role] = {"closed": closed_interface(module, role), "options": [_option(o, module, role) for o in role_options(module, role)]}
        services[name] = {"label": label or name, "roles": roles}
    return {
        "format": FORMAT,
        "source": "clan-core",
        "commit": commit,
        "date": date,
        "generator": "scripts/gen_catalogue.py",
        "notice": "Facts read from clan-core: names, roles, setting types and defaults; no prose.",
        "deprecated": sorted(n for n in deprecated if not n.startswith("@")),
        "services": services,
    }

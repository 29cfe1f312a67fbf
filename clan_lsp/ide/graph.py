"""The export graph in the editor: hover on selectExports, inlay hints on role tags, role code lenses.

Plain dataclasses with byte offsets; server.py converts them to LSP.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..exportgraph import build_graph, resolve_role
from ..exportgraph.graph import Consumer
from ..model import AttrSet, SourceFile

MAX_LISTED = 6


@dataclass
class GraphHint:
    offset: int
    label: str
    tooltip: str = ""


@dataclass
class Location:
    path: str
    start: int
    end: int


@dataclass
class GraphLens:
    start: int
    end: int
    title: str
    references: list[Location] = field(default_factory=list)


def _listing(keys: list[str]) -> str:
    shown = ", ".join(keys[:MAX_LISTED])
    return shown + (", …" if len(keys) > MAX_LISTED else "")


def _same(path_a: str | None, path_b: str | None) -> bool:
    import os

    return path_a is not None and path_b is not None and os.path.abspath(path_a) == os.path.abspath(path_b)


def select_hover(index, source: SourceFile, offset: int) -> str | None:
    """Markdown for a position on a `selectExports` call or its predicate: what it receives here."""
    if index is None:
        return None
    lines: list[str] = []
    for number, clan in enumerate(build_graph(index).clans):
        consumers = [
            c for c in clan.consumers
            if _same(c.site.source.path, source.path) and _on_call(c, offset)
        ]
        if not consumers:
            continue
        title = "this clan" if len(build_graph(index).clans) == 1 else f"the clan of `{clan.info.source.path}`"
        lines.append(f"**selectExports** in {title}:")
        lines.extend(_per_instance(consumers))
        if not clan.known:
            lines.append(f"_Not all of the clan is known statically ({clan.unknown[0]}); there may be more._")
    return "\n".join(lines) if lines else None


def _on_call(consumer: Consumer, offset: int) -> bool:
    site = consumer.site
    if site.callee.start_byte <= offset <= site.callee.end_byte:
        return True
    predicate = site.predicate
    return predicate is not None and predicate.start_byte <= offset <= predicate.end_byte


def _per_instance(consumers: list[Consumer]) -> list[str]:
    """One line per instance when all its machines receive the same; else one per machine."""
    lines = []
    by_instance: dict[str | None, list[Consumer]] = {}
    for consumer in consumers:
        by_instance.setdefault(consumer.instance, []).append(consumer)
    for instance, group in by_instance.items():
        received = {None if c.matched is None else tuple(sorted(p.scope.key for p in c.matched)) for c in group}
        machines = [c.context.machine for c in group if c.context.machine]
        where = f"instance `{instance}`" + (f" ({', '.join(machines)})" if machines else "")
        if len(received) == 1:
            lines.append(f"- {where}: {_matches(next(iter(received)))}")
            continue
        lines.append(f"- {where}:")
        for consumer in group:
            keys = None if consumer.matched is None else tuple(sorted(p.scope.key for p in consumer.matched))
            lines.append(f"  - on `{consumer.context.machine}`: {_matches(keys)}")
    return lines


def _matches(keys: tuple[str, ...] | None) -> str:
    if keys is None:
        return "not known statically (the predicate uses something clan-lsp cannot evaluate)"
    if not keys:
        return "matches nothing"
    return f"matches {len(keys)}: {_listing(list(keys))}"


def tag_hints(index, source: SourceFile) -> list[GraphHint]:
    """After each `roles.<r>.tags = [ ... ]` of an inventory in this file: the machines it resolves to."""
    if index is None:
        return []
    hints = []
    for clan in build_graph(index).clans:
        info = clan.info
        for instance in info.instances:
            if not _same(instance.source.path, source.path):
                continue
            for role in instance.roles.values():
                if role.tags_node is None or not role.tags:
                    continue
                explicit = {m for m, _ in role.machines}
                machines, known = resolve_role(info, role)
                tagged = [m for m in machines if m not in explicit]
                label = "→ " + (", ".join(tagged) if tagged else "no machine")
                if not known:
                    label += " (at least)"
                tooltip = f"Machines that role '{role.name}' of instance '{instance.name}' gets through its tags" + (
                    "; some machines' tags are not literal, so there may be more." if not known else "."
                )
                hints.append(GraphHint(role.tags_node.end_byte, label, tooltip))
    return hints


def role_lenses(index, source: SourceFile) -> list[GraphLens]:
    """Above each role of a service module in this file: how many instances and machines use it."""
    if index is None:
        return []
    uses: dict[tuple[int, str], tuple[set[str], set[str], list[Location]]] = {}
    modules = {}
    for clan in build_graph(index).clans:
        for use in clan.uses:
            module = use.instance.module
            if module is None:
                continue
            modules[id(module)] = module
            for role_name, role in use.instance.roles.items():
                instances, machines, references = uses.setdefault((id(module), role_name), (set(), set(), []))
                instances.add(f"{id(clan)}:{use.instance.name}")
                machines.update(use.members.get(role_name, ()))
                if role.key_node is not None and use.instance.source.path:
                    references.append(Location(use.instance.source.path, role.key_node.start_byte, role.key_node.end_byte))
    lenses = []
    for module in modules.values():
        for part in module.parts():
            if not _same(part.source.path, source.path):
                continue
            roles = part.effective().get("roles")
            if not isinstance(roles, AttrSet):
                continue
            for role_name in roles.names():
                keys = roles.key_nodes(role_name)
                if not keys or (id(module), role_name) not in uses:
                    continue
                instances, machines, references = uses[(id(module), role_name)]
                title = f"used by {len(instances)} instance{'s' if len(instances) != 1 else ''} on {len(machines)} machine{'s' if len(machines) != 1 else ''}"
                lenses.append(GraphLens(keys[0].start_byte, keys[0].end_byte, title, references))
    unique = {(lens.start, lens.title): lens for lens in lenses}
    return sorted(unique.values(), key=lambda lens: lens.start)

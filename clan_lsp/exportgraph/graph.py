"""The export graph of a clan: producers, consumers, and which consumer receives what.

Built per clan configuration (per `inventory`) from the records source.py reads. A clan is
*known* when every instance's module is in the workspace, every role's machines and tags are
literal, every export of those modules has a known scope, and every predicate and read is
understood; only then can "nothing matches" or "nobody reads" be said. Unknown is never an error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from ..model import ServiceModule, SourceFile
from ..syntax import Node
from .consumers import UNKNOWN, ConsumerSite, Context, Evaluator, _inner, consumer_sites, module_functions
from .producers import ProducerSite, Written, manifest_name, module_exports
from .source import ClanInfo, InstanceInfo, MachineInfo, RoleInfo, interface_defaults, interface_fields, read_clans

log = logging.getLogger("clan-lsp")

BUILTIN_TAGS = ("all", "nixos", "darwin")  # clan-core's modules/clan/computed-tags.nix

# Core interfaces clan's own tooling reads, outside any service: the CLI reaches machines through
# `networking` and `peer` (clan_lib/network), and vars generation reads `generators`
# (modules/clan/module.nix). An export of these is never unread.
READ_BY_CLAN = frozenset({"networking", "peer", "generators"})


@dataclass(frozen=True)
class Scope:
    service: str
    instance: str
    role: str
    machine: str

    @property
    def key(self) -> str:
        return f"{self.service}:{self.instance}:{self.role}:{self.machine}"

    def as_dict(self) -> dict[str, str]:
        return {"serviceName": self.service, "instanceName": self.instance, "roleName": self.role, "machineName": self.machine}


@dataclass
class Producer:
    scope: Scope
    site: ProducerSite
    written: Written
    instance: str | None  # the inventory instance that makes it


@dataclass
class Consumer:
    site: ConsumerSite
    instance: str | None
    context: Context
    matched: list[Producer] | None  # None: the predicate could not be evaluated
    source: SourceFile  # the site's file, held while the graph lives (the site holds it weakly)


@dataclass
class ServiceUse:
    """One instance of a service: which machines take which role."""

    instance: InstanceInfo
    service: str | None  # manifest.name
    members: dict[str, list[str]]  # role -> machines


@dataclass
class ClanGraph:
    info: ClanInfo
    uses: list[ServiceUse] = field(default_factory=list)
    producers: list[Producer] = field(default_factory=list)
    consumers: list[Consumer] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # why the clan is not fully known
    hidden_readers: bool = False  # something reads `exports` in a way not traced
    modules: dict[int, ServiceModule] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        return not self.unknown

    def machines(self) -> list[str]:
        return sorted({m for use in self.uses for ms in use.members.values() for m in ms})


@dataclass
class Graph:
    clans: list[ClanGraph]
    interfaces: dict[str, set[str] | None]  # field names of every interface; None: not all readable
    defaults: dict[str, dict[str, str | None]] = field(default_factory=dict)  # the workspace's own interfaces


# ---------------------------------------------------------------- tags


def tag_member(info: ClanInfo, machine: MachineInfo, tag: str) -> bool | None:
    """Whether a machine has a tag as clan computes it (declared, `inventory.tags`, built in); None: unknown."""
    if machine.tags is not None and tag in machine.tags:
        return True
    if tag in info.tag_lists:
        if machine.name in info.tag_lists[tag]:
            return True
        if tag in BUILTIN_TAGS:
            return False  # set explicitly: replaces clan's default
    elif tag == "all":
        return True
    elif tag in ("nixos", "darwin"):
        return None if machine.machine_class is None else machine.machine_class == tag
    if not info.tags_known or machine.tags is None:
        return None
    return False


def machine_tags(info: ClanInfo) -> dict[str, set[str]]:
    """Each machine's tags that are certain."""
    candidates = set(BUILTIN_TAGS) | set(info.tag_lists) | {t for m in info.machines.values() for t in m.tags or ()}
    return {name: {t for t in candidates if tag_member(info, machine, t)} for name, machine in info.machines.items()}


def resolve_role(info: ClanInfo, role: RoleInfo) -> tuple[list[str], bool]:
    """The machines a role resolves to (explicit, then by tag), and whether that is certain."""
    known = role.known
    members = [m for m, _ in role.machines]
    for tag, _node in role.tags:
        if not info.machines_known:
            known = False
        for name, machine in info.machines.items():
            member = tag_member(info, machine, tag)
            if member is None:
                known = False
            elif member and name not in members:
                members.append(name)
    return members, known


# ---------------------------------------------------------------- building


def build_graph(index) -> Graph:
    """The graph of every clan in the workspace (computed once per index)."""
    cache = index._derived
    if "export-graph" not in cache:
        cache["export-graph"] = Graph([_safe_clan_graph(info) for info in read_clans(index)], interface_fields(index), interface_defaults(index))
    return cache["export-graph"]


def _safe_clan_graph(info: ClanInfo) -> ClanGraph:
    """A clan whose graph cannot be built is an unknown clan, never a crash."""
    try:
        return _clan_graph(info)
    except (RecursionError, ValueError, AttributeError, TypeError, KeyError, IndexError) as error:
        log.warning("export graph of %s: %r", info.source.path, error)
        graph = ClanGraph(info)
        graph.unknown.append(f"the export graph could not be built ({type(error).__name__})")
        return graph


def _sources(module: ServiceModule) -> list[SourceFile]:
    seen: dict[int, SourceFile] = {}
    for part in module.parts():
        seen.setdefault(id(part.source), part.source)
    return list(seen.values())


def _clan_graph(info: ClanInfo) -> ClanGraph:
    graph = ClanGraph(info)
    if info.source.tree.root.has_error:
        graph.unknown.append("the clan's file does not parse")
    graph.unknown.extend(info.unknown)
    by_module: dict[int, list[ServiceUse]] = {}
    for instance in info.instances:
        if instance.module is None:
            graph.unknown.append(f"instance '{instance.name}': module '{instance.module_name}' is not in this workspace")
        if not instance.roles_known:
            graph.unknown.append(f"instance '{instance.name}': roles are not literal")
        members = {}
        for role_name, role in instance.roles.items():
            machines, known = resolve_role(info, role)
            if not known:
                graph.unknown.append(f"instance '{instance.name}': role '{role_name}' machines are not literal")
            members[role_name] = machines
        service = manifest_name(instance.module) if instance.module is not None else None
        use = ServiceUse(instance, service, members)
        graph.uses.append(use)
        if instance.module is not None:
            if any(source.tree.root.has_error for source in _sources(instance.module)):
                graph.unknown.append(f"instance '{instance.name}': a file of its module does not parse")
            if service is None:
                graph.unknown.append(f"instance '{instance.name}': manifest.name is not literal")
            graph.modules[id(instance.module)] = instance.module
            by_module.setdefault(id(instance.module), []).append(use)
    for key, uses in by_module.items():
        module = graph.modules[key]
        service = uses[0].service
        if service is None:
            continue
        exports = module_exports(module)
        if not exports.known:
            graph.unknown.append(f"service '{service}': some exports are not literal")
        _producers(graph, service, exports.sites, uses)
    for key, uses in by_module.items():
        _consumers(graph, graph.modules[key], uses)
    if any(c.matched is None or not c.site.reads_complete for c in graph.consumers):
        graph.hidden_readers = True
    for key in by_module:
        if _untraced_exports_uses(graph.modules[key], graph):
            graph.hidden_readers = True
    return graph


def _producers(graph: ClanGraph, service: str, sites: list[ProducerSite], uses: list[ServiceUse]) -> None:
    for site in sites:
        for use in uses:
            machines_of_service = sorted({m for ms in use.members.values() for m in ms})
            if site.where == "perInstance" and site.written is not None:
                for machine in use.members.get(site.role or "", []):
                    graph.producers.append(Producer(Scope(service, use.instance.name, site.role or "", machine), site, site.written, use.instance.name))
            elif site.where == "perMachine" and site.written is not None:
                for machine in machines_of_service:
                    graph.producers.append(Producer(Scope(service, "", "", machine), site, site.written, use.instance.name))
            elif site.per_instance is not None:
                graph.producers.append(Producer(Scope(service, use.instance.name, "", ""), site, site.per_instance, use.instance.name))
        for key, written in site.literal.items():
            parts = key.split(":")
            if len(parts) == 4:
                graph.producers.append(Producer(Scope(*parts), site, written, None))
    # perMachine keys repeat across instances; one producer per key and site
    unique: dict[tuple[str, int], Producer] = {}
    for producer in graph.producers:
        unique.setdefault((producer.scope.key, id(producer.site)), producer)
    graph.producers = list(unique.values())


def _consumers(graph: ClanGraph, module: ServiceModule, uses: list[ServiceUse]) -> None:
    service = uses[0].service
    for source in _sources(module):
        functions = module_functions(source)
        for site in consumer_sites(source):
            contexts: list[tuple[str | None, Context]] = []
            for use in uses:
                if site.where == "perInstance":
                    for machine in use.members.get(site.role or "", []):
                        contexts.append((use.instance.name, Context(service, use.instance.name, machine, site.role)))
                elif site.where == "perMachine":
                    for machine in sorted({m for ms in use.members.values() for m in ms}):
                        contexts.append((use.instance.name, Context(service, None, machine)))
                else:
                    contexts.append((use.instance.name, Context(service)))
            seen: set[tuple] = set()
            for instance, context in contexts:
                key = (context.instance, context.machine, context.role)
                if site.where == "perMachine" and key in seen:
                    continue
                seen.add(key)
                evaluator = Evaluator(site, context, functions)
                matched: list[Producer] | None = []
                for producer in graph.producers:
                    verdict = evaluator.matches(producer.scope.as_dict())
                    if verdict is UNKNOWN:
                        matched = None
                        break
                    if verdict:
                        matched.append(producer)
                graph.consumers.append(Consumer(site, instance, context, matched, source))


def _untraced_exports_uses(module: ServiceModule, graph: ClanGraph) -> bool:
    """`exports` read other than as selectExports' second argument (`exports."k"`, `attrValues exports`)."""
    for source in _sources(module):
        traced = {c.site.call.id for c in graph.consumers if c.site.source is source}
        arguments = {
            (c.args[1].start_byte, c.args[1].end_byte)
            for c in source.tree.index.calls_ending((b"selectExports",))  # the consumers' calls
            if c.node.id in traced and len(c.args) == 2
        }
        for start, end in source.tree.index.variables_named(b"exports"):
            if (start, end) not in arguments:
                return True
    return False


# ---------------------------------------------------------------- questions


def predicate_names(site: ConsumerSite) -> list[tuple[str, str, Node]]:
    """(scope field, string, node) for each `<scope>.<field> == "..."` comparison in a predicate."""
    found = []
    predicate = site.predicate
    if predicate is None:
        return found
    text = site.source.text
    function = predicate
    while function is not None and function.type == "parenthesized_expression" and function.named_child_count:
        function = _inner(function)
    if function is None or function.type != "function_expression":
        return found
    universal = function.child_by_field_name("universal")
    param = universal.text if universal is not None else None
    formals = function.child_by_field_name("formals")
    pattern = set()
    if formals is not None:
        for formal in formals.named_children:
            name = formal.child_by_field_name("name") if formal.type == "formal" else None
            if name is not None and name.text:
                pattern.add(name.text.decode())
    stack = [function.child_by_field_name("body")]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        if node.type == "binary_expression":
            operator = node.child_by_field_name("operator")
            if operator is not None and operator.text in (b"==", b"!="):
                sides = (node.child_by_field_name("left"), node.child_by_field_name("right"))
                for one, other in (sides, sides[::-1]):
                    field_name = _scope_field(one, param, pattern, text)
                    if field_name and other is not None and other.type == "string_expression":
                        if all(c.type in ("string_fragment", "escape_sequence") for c in other.named_children):
                            found.append((field_name, other.text.decode()[1:-1], other))
        stack.extend(node.named_children)
    return found


def _scope_field(node: Node | None, param: bytes | None, pattern: set[str], text: bytes) -> str | None:
    if node is None:
        return None
    if node.type == "select_expression" and param is not None:
        base = node.child_by_field_name("expression")
        path = node.child_by_field_name("attrpath")
        if base is not None and base.type == "variable_expression" and base.text == param and path is not None and path.named_child_count == 1:
            return path.named_children[0].text.decode()
    if node.type == "variable_expression" and node.text and node.text.decode() in pattern:
        return node.text.decode()
    return None


def scope_values(producers: list[Producer], field_name: str) -> list[str]:
    attribute = {"serviceName": "service", "instanceName": "instance", "roleName": "role", "machineName": "machine"}.get(field_name)
    if attribute is None:
        return []
    return sorted({getattr(p.scope, attribute) for p in producers} - {""})


def sets(producer: Producer, interface: str, field_name: str | None) -> Any:
    """True/False whether a producer sets an interface (or a field of it); UNKNOWN when not literal."""
    interfaces = producer.written.interfaces
    if interfaces is None:
        return UNKNOWN
    if interface not in interfaces:
        return False
    if field_name is None:
        return True
    fields = interfaces[interface]
    if fields is None:
        return UNKNOWN
    return field_name in fields

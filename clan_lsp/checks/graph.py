"""Export graph rules: consumers that receive nothing, read what nobody sets, exports nobody reads.

They need the whole clan, so they run over the workspace like the inventory rules, and say
something only where every clan using the site is fully known (clan_lsp.exportgraph); a
predicate or module that cannot be read statically silences them. A site used by several
clans is reported only when every one of them agrees.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

from ..exportgraph.consumers import UNKNOWN, ConsumerSite
from ..exportgraph.graph import READ_BY_CLAN, ClanGraph, Consumer, Graph, Producer, build_graph, predicate_names, scope_values, sets
from ..spec import schema
from ..spec.versions import NEWEST, Generation
from ..workspace.index import WorkspaceIndex
from .base import INFO, WARNING, Finding, did_you_mean, rename_fixes
from .inventory import InventoryContext


@dataclass(frozen=True)
class GraphRule:
    code: str
    severity: str
    summary: str
    run: Callable[[InventoryContext, Graph], None]


GRAPH_RULES: list[GraphRule] = []


def graph_rule(code: str, severity: str, summary: str):
    def register(function):
        GRAPH_RULES.append(GraphRule(code, severity, summary, function))
        return function

    return register


def run_graph_rules(index: WorkspaceIndex, generation: Generation = NEWEST, path: str | None = None) -> list[Finding]:
    """Every export-graph finding of the workspace (computed once per index)."""
    cache = index._derived
    if "graph-findings" not in cache:
        context = InventoryContext(index, generation)
        graph = build_graph(index)
        for registered in GRAPH_RULES:
            context.code, context.severity, context.catalogue = registered.code, registered.severity, None
            registered.run(context, graph)
        cache["graph-findings"] = context.findings
    findings = cache["graph-findings"]
    return [f for f in findings if f.path == path] if path is not None else findings


def _site_key(site: ConsumerSite) -> tuple[str | None, int]:
    return site.source.path, site.call.start_byte


def consumers_by_site(graph: Graph) -> dict[tuple, list[tuple[ClanGraph, list[Consumer]]]]:
    """Each selectExports call, with the clans using it and its evaluations in each."""
    found: dict[tuple, dict[int, tuple[ClanGraph, list[Consumer]]]] = defaultdict(dict)
    for clan in graph.clans:
        for consumer in clan.consumers:
            entry = found[_site_key(consumer.site)].setdefault(id(clan), (clan, []))
            entry[1].append(consumer)
    return {key: list(value.values()) for key, value in found.items()}


def _all_known(uses: list[tuple[ClanGraph, list[Consumer]]]) -> bool:
    return all(clan.known and all(c.matched is not None for c in consumers) for clan, consumers in uses)


@graph_rule("select-matches-nothing", WARNING, "A selectExports predicate that matches no export the clan has")
def select_matches_nothing(ctx: InventoryContext, graph: Graph) -> None:
    for uses in consumers_by_site(graph).values():
        if not _all_known(uses) or any(c.matched for _, consumers in uses for c in consumers):
            continue
        site = uses[0][1][0].site
        producers = [p for clan, _ in uses for p in clan.producers]
        reported = False
        for field_name, text, node in predicate_names(site):
            values = scope_values(producers, field_name)
            if text in values or not text:
                continue
            reported = True
            close = did_you_mean(text, values)
            ctx.report(
                site.source,
                node,
                f'selectExports receives nothing here: no export in this clan has {field_name} "{text}".{close}'
                + ("" if close else f" The clan's exports have {field_name} " + (", ".join(f'"{v}"' for v in values) or "none") + "."),
                fixes=rename_fixes(node, text, values, quote=True),
            )
        if not reported:
            scopes = sorted({p.scope.key for p in producers})
            shown = ", ".join(scopes[:6]) + (", …" if len(scopes) > 6 else "")
            ctx.report(
                site.source,
                site.callee,
                f"selectExports receives nothing here: its predicate matches none of the {len(scopes)} exports of this clan"
                + (f" ({shown})." if scopes else "."),
            )


def _field_default(graph: Graph, interface: str, field_name: str) -> object:
    """The default of an interface field as written ("null", "5000"), None when it has none."""
    core = schema.INTERFACES_BY_NAME.get(interface)
    if core is not None:
        option = core.field(field_name)
        return option.default if option is not None else None
    declared = graph.defaults.get(interface, {})
    return declared.get(field_name, UNKNOWN)


@graph_rule("read-unset-export", WARNING, "A consumer reads an export interface or field that none of the exports it selects sets")
def read_unset_export(ctx: InventoryContext, graph: Graph) -> None:
    for uses in consumers_by_site(graph).values():
        if not _all_known(uses):
            continue
        site = uses[0][1][0].site
        matched: dict[int, Producer] = {}
        for _clan, consumers in uses:
            for consumer in consumers:
                for producer in consumer.matched or ():
                    matched[id(producer)] = producer
        if not matched:
            continue
        selected = list(matched.values())
        for read in site.reads:
            if read.guarded:
                continue
            fields = graph.interfaces.get(read.interface, UNKNOWN)
            if read.field is not None and fields is not UNKNOWN and fields is not None and read.field not in fields:
                ctx.report(
                    site.source,
                    read.node,
                    f"Export interface '{read.interface}' has no field '{read.field}': it has {', '.join(sorted(fields))}."
                    f"{did_you_mean(read.field, fields)}",
                    fixes=rename_fixes(read.node, read.field, fields),
                    clan_message=f"attribute '{read.field}' missing",
                )
                continue
            verdicts = [sets(p, read.interface, read.field) for p in selected]
            if UNKNOWN in verdicts or any(verdicts):
                continue
            if read.field is not None and any(sets(p, read.interface, None) is True for p in selected):
                default = _field_default(graph, read.interface, read.field)
                if default is UNKNOWN or (default is not None and default != "null"):
                    continue  # every read gets the declared default
                outcome = "null" if default == "null" else "no value"
                first = min(p.scope.key for p in selected)
                ctx.report(
                    site.source,
                    read.node,
                    f"None of the {len(selected)} exports this selectExports receives sets `{read.interface}.{read.field}`, "
                    f"so every read gives {outcome}. Selected: {_listing(selected)}.",
                    # with no default clan stops at the first read; a null is an error only where it is used
                    clan_message=None if default == "null" else (
                        f"The option `exports.\"{first}\".{read.interface}.{read.field}' was accessed but has no value defined. Try setting the option."
                    ),
                )
                continue
            ctx.report(
                site.source,
                read.interface_node or read.node,
                f"None of the {len(selected)} exports this selectExports receives sets `{read.interface}`, so "
                f"`{read.interface}` is null in each of them. Selected: {_listing(selected)}.",
                clan_message="value is null while a set was expected" if read.field is not None else None,
            )


def _listing(producers: list[Producer]) -> str:
    keys = sorted({p.scope.key for p in producers})
    return ", ".join(keys[:4]) + (", …" if len(keys) > 4 else "")


@graph_rule("unread-export", INFO, "An export interface a producer sets that no consumer in the clan reads (in a clan that selects exports)")
def unread_export(ctx: InventoryContext, graph: Graph) -> None:
    sites: dict[tuple, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for clan in graph.clans:
        for producer in clan.producers:
            for interface, (source, node) in producer.written.nodes.items():
                sites[(source.path, node.start_byte)][interface].append((clan, producer, source, node))
    for key, by_interface in sites.items():
        for interface, rows in by_interface.items():
            if interface in READ_BY_CLAN:
                continue
            clans = {id(clan): clan for clan, _, _, _ in rows}
            if any(not clan.known or clan.hidden_readers for clan in clans.values()):
                continue
            if any(not clan.consumers for clan in clans.values()):
                continue  # a clan that selects no exports in Nix reads them elsewhere, if at all
            read = False
            for clan, producer, _source, _node in rows:
                for consumer in clan.consumers:
                    if any(p is producer for p in consumer.matched or ()) and any(r.interface == interface for r in consumer.site.reads):
                        read = True
                        break
                if read:
                    break
            if read:
                continue
            _, producer, source, node = rows[0]
            scopes = [r[1] for r in rows]
            ctx.report(
                source,
                node,
                f"Nobody reads this export: no selectExports in this clan selects {_listing(scopes)} and reads `{interface}`.",
            )

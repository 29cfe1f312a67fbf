"""`clan-lsp graph [--format dot|json] PATH`: the export graph of a clan, to draw or to check in CI.

JSON lists, per clan configuration: whether it is fully known (and why not), the instances with
the machines each role resolves to, every producer scope key with the interfaces and fields it
sets, every consumer (a selectExports call evaluated for one machine) with the scope keys it
receives and what it reads, and the findings of the export-graph rules. DOT draws producers
(boxes, grouped per instance) and consumers (ellipses) with an edge for each export received.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Sequence, TextIO

from .analysis import Analysis, Files
from .checks.graph import run_graph_rules
from .exportgraph import ClanGraph, build_graph
from .syntax import UTF32

EXIT_OK, EXIT_USAGE = 0, 2


def _where(files: Files, path: str | None, offset: int) -> str:
    source = files.load(path) if path else None
    if source is None:
        return path or "?"
    position = source.tree.line_index.position(offset, UTF32)
    return f"{path}:{position.line + 1}:{position.character + 1}"


def _consumer_label(consumer) -> str:
    context = consumer.context
    label = f"{context.service or '?'}"
    if context.instance:
        label += f" {context.instance}"
    if context.machine:
        label += f" @{context.machine}"
    return label


def clan_json(clan: ClanGraph, files: Files) -> dict:
    def interfaces(written):
        if written.interfaces is None:
            return None
        return {name: sorted(fields) if fields is not None else None for name, fields in sorted(written.interfaces.items())}

    return {
        "source": _where(files, clan.info.source.path, clan.info.key_node.start_byte if clan.info.key_node else 0),
        "known": clan.known,
        "unknown": clan.unknown,
        "machines": sorted(clan.info.machines),
        "instances": [
            {
                "name": use.instance.name,
                "module": use.instance.module_name,
                "service": use.service,
                "roles": {role: machines for role, machines in sorted(use.members.items())},
            }
            for use in clan.uses
        ],
        "producers": [
            {
                "scope": producer.scope.key,
                "where": producer.site.where,
                "interfaces": interfaces(producer.written),
                "site": _where(files, producer.site.source.path, producer.site.node.start_byte if producer.site.node else 0),
            }
            for producer in clan.producers
        ],
        "consumers": [
            {
                "service": consumer.context.service,
                "instance": consumer.instance,
                "machine": consumer.context.machine,
                "site": _where(files, consumer.site.source.path, consumer.site.call.start_byte),
                "receives": sorted(p.scope.key for p in consumer.matched) if consumer.matched is not None else None,
                "reads": sorted({f"{r.interface}.{r.field}" if r.field else r.interface for r in consumer.site.reads}),
                "readsComplete": consumer.site.reads_complete,
            }
            for consumer in clan.consumers
        ],
    }


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def clan_dot(clan: ClanGraph, number: int, out: TextIO) -> None:
    prefix = f"c{number}_"
    by_instance: dict[str, list] = {}
    for producer in clan.producers:
        by_instance.setdefault(producer.scope.instance or producer.scope.service, []).append(producer)
    for index, (instance, producers) in enumerate(sorted(by_instance.items())):
        out.write(f"  subgraph cluster_{prefix}{index} {{\n    label={_quote(instance)};\n")
        for producer in producers:
            interfaces = ", ".join(sorted(producer.written.interfaces or {})) or "?"
            out.write(f"    {_quote(prefix + producer.scope.key)} [shape=box, label={_quote(producer.scope.key + chr(10) + interfaces)}];\n")
        out.write("  }\n")
    for consumer_index, consumer in enumerate(clan.consumers):
        node = f"{prefix}consumer{consumer_index}"
        style = "" if consumer.matched is not None else ", style=dashed"
        out.write(f"  {_quote(node)} [shape=ellipse, label={_quote(_consumer_label(consumer))}{style}];\n")
        reads = ", ".join(sorted({r.interface for r in consumer.site.reads}))
        for producer in consumer.matched or ():
            label = f" [label={_quote(reads)}]" if reads else ""
            out.write(f"  {_quote(prefix + producer.scope.key)} -> {_quote(node)}{label};\n")


def graph(paths: Sequence[str], output_format: str = "json", out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        for path in missing:
            err.write(f"clan-lsp: {path}: no such file or directory\n")
        return EXIT_USAGE
    roots = [p if os.path.isdir(p) else os.path.dirname(os.path.abspath(p)) for p in paths]
    files = Files()
    index = Analysis(list(dict.fromkeys(roots)), None, files).index
    built = build_graph(index)
    if output_format == "dot":
        out.write("digraph exports {\n  rankdir=LR;\n")
        for number, clan in enumerate(built.clans):
            clan_dot(clan, number, out)
        out.write("}\n")
    else:
        findings = [
            {"where": _where(files, f.path, f.start), "severity": f.severity, "code": f.code, "message": f.message}
            for f in run_graph_rules(index)
        ]
        json.dump({"clans": [clan_json(clan, files) for clan in built.clans], "findings": findings}, out, indent=2)
        out.write("\n")
    if not built.clans:
        err.write("clan-lsp: no clan configuration (inventory) found\n")
    return EXIT_OK


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="clan-lsp graph", description="The export graph of a clan: who exports what to whom.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="the clan's folder (or files in it)")
    parser.add_argument("--format", choices=("json", "dot"), default="json")
    try:
        options = parser.parse_args(list(argv))
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code else EXIT_OK
    return graph(options.paths, options.format)

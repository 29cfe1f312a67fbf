"""The export graph: who exports what to whom, computed statically from the clan."""

from .graph import ClanGraph, Consumer, Graph, Producer, Scope, build_graph, machine_tags, resolve_role

__all__ = ["ClanGraph", "Consumer", "Graph", "Producer", "Scope", "build_graph", "machine_tags", "resolve_role"]

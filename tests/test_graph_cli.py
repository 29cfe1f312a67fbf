"""`clan-lsp graph`: the export graph as JSON and DOT (in-process)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from clan_lsp.cli import main
from clan_lsp.graph_cli import graph

CLEAN = Path(__file__).parent / "workspaces" / "graph" / "clean"


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    paths = [a for a in args if not a.startswith("--")]
    form = "dot" if "--dot" in args else "json"
    code = graph(paths, form, out, err)
    return code, out.getvalue(), err.getvalue()


def test_json_lists_who_receives_what() -> None:
    code, out, _ = run(str(CLEAN))
    assert code == 0
    (clan,) = json.loads(out)["clans"]
    assert clan["known"] is True
    scopes = {p["scope"]: p["interfaces"] for p in clan["producers"]}
    assert scopes["acme/registry:registry-main:server:alpha"] == {"registry": ["url"]}
    client = [c for c in clan["consumers"] if c["service"] == "acme/client"]
    assert [c["receives"] for c in client] == [["acme/registry:registry-main:server:alpha", "acme/registry:registry-main:server:beta"]]
    assert client[0]["reads"] == ["registry.port", "registry.url"]
    assert json.loads(out)["findings"] == []


def test_dot_has_an_edge_per_export_received() -> None:
    code, out, _ = run(str(CLEAN), "--dot")
    assert code == 0 and out.startswith("digraph exports {")
    edges = [line for line in out.splitlines() if "->" in line]
    assert len(edges) == 2 + 3 * 2  # the client receives 2 registries; each of 3 mesh nodes 2 peers


def test_missing_path_is_a_usage_error() -> None:
    code, _, err = run(str(CLEAN / "nope"))
    assert code == 2 and "no such file" in err


def test_cli_dispatches_graph(capsys) -> None:
    assert main(["graph", "--format", "dot", str(CLEAN)]) == 0
    assert "digraph" in capsys.readouterr().out
    assert main(["graph", "--format", "svg", str(CLEAN)]) == 2

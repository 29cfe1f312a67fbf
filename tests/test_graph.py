"""The export graph (clan_lsp.exportgraph) and its rules (clan_lsp.checks.graph) on fixture clans.

tests/workspaces/graph/clean is a clan of three services talking through a custom and a core
interface; variants.toml breaks it in each way the rules catch, and in ways they must not
speak of. `# expect: severity[code]` marks each finding's line. oracle.json is what clan's own
evaluator said of each clan (record_oracle.py): the scope keys it created and what each consumer
received; the graph must agree with it.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from clan_lsp.analysis import Files, analyze
from clan_lsp.exportgraph import build_graph
from clan_lsp.workspace import WorkspaceIndex

GRAPH = Path(__file__).parent / "workspaces" / "graph"
_spec = importlib.util.spec_from_file_location("graph_fixture_variants", GRAPH / "variants.py")
variants = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(variants)  # type: ignore[union-attr]
ORACLE = json.loads((GRAPH / "oracle.json").read_text())
EXPECT = re.compile(r"# expect: (.+)$")
GRAPH_CODES = {"select-matches-nothing", "read-unset-export", "unread-export"}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("graph-clans")


def index_of(folder: Path) -> tuple[Files, WorkspaceIndex]:
    files = Files()
    return files, WorkspaceIndex.build([str(folder)], files)


def expected(folder: Path) -> set[tuple[str, int, str]]:
    marks = set()
    for path in folder.rglob("*.nix"):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = EXPECT.search(line)
            if match:
                marks.add((str(path.relative_to(folder)), number, match.group(1).strip()))
    return marks


def actual(folder: Path) -> set[tuple[str, int, str]]:
    files, index = index_of(folder)
    found = set()
    for path in sorted(folder.rglob("*.nix")):
        for finding in analyze(files.load(str(path)), files, workspace=index).findings:
            line = files.load(finding.path).tree.line_index.position(finding.start).line + 1
            found.add((str(Path(finding.path).relative_to(folder)), line, f"{finding.severity}[{finding.code}]"))
    return found


@pytest.mark.parametrize("name", variants.names())
def test_graph_findings(name: str, built: Path) -> None:
    folder = variants.materialize(name, built)
    assert actual(folder) == expected(folder)


@pytest.mark.parametrize("name", variants.names())
def test_graph_agrees_with_clan(name: str, built: Path) -> None:
    """Scope keys and what each consumer receives, as clan's evaluator reported them."""
    verdict = ORACLE.get(name)
    limit = variants.VARIANTS.get(name, {}).get("oracle_limit")
    if limit:
        pytest.skip(limit)
    assert verdict is not None, f"run record_oracle.py: no oracle verdict for {name}"
    if not verdict["accepted"]:
        # clan rejects only the clans where a read of what nobody sets fails when forced
        assert any("read-unset-export" in mark for _, _, mark in expected(variants.materialize(name, built))), verdict["clan_says"]
        return
    folder = variants.materialize(name, built)
    _, index = index_of(folder)
    (clan,) = build_graph(index).clans
    producers = {}
    for producer in clan.producers:
        producers.setdefault(producer.scope.key, set()).update(producer.written.interfaces or ())
    assert {k: sorted(v) for k, v in producers.items()} == verdict["exports"]
    received = {}
    for consumer in clan.consumers:
        if consumer.matched is not None:
            received[f"{consumer.context.service}@{consumer.context.machine}"] = sorted(p.scope.key for p in consumer.matched)
    # clan-lsp stays silent where it cannot evaluate; where it can, it must say what clan says
    assert received == {k: v for k, v in verdict["received"].items() if k in received}
    if name != "unknown-predicate":
        assert set(received) == set(verdict["received"])


def test_clean_graph_shape() -> None:
    _, index = index_of(GRAPH / "clean")
    (clan,) = build_graph(index).clans
    assert clan.known and not clan.hidden_readers
    members = {use.instance.name: use.members for use in clan.uses}
    assert members == {
        "registry-main": {"server": ["alpha", "beta"]},  # tags = [ "server" ]
        "mesh": {"node": ["alpha", "beta", "gamma"]},  # tags = [ "all" ], a built-in tag
        "clients": {"agent": ["gamma"]},
    }
    reads = {(r.interface, r.field) for c in clan.consumers for r in c.site.reads if c.context.service == "acme/client"}
    assert reads == {("registry", "url"), ("registry", "port")}


def test_unknown_predicate_is_unknown(built: Path) -> None:
    folder = variants.materialize("unknown-predicate", built)
    _, index = index_of(folder)
    (clan,) = build_graph(index).clans
    client = [c for c in clan.consumers if c.context.service == "acme/client"]
    assert client and all(c.matched is None for c in client)
    assert clan.hidden_readers  # so no export is called unread


def test_module_outside_makes_clan_unknown(built: Path) -> None:
    folder = variants.materialize("module-outside", built)
    _, index = index_of(folder)
    (clan,) = build_graph(index).clans
    assert not clan.known and any("admin" in reason for reason in clan.unknown)


def test_did_you_mean_names_the_producer(built: Path) -> None:
    folder = variants.materialize("predicate-typo", built)
    files, index = index_of(folder)
    source = files.load(str(folder / "services/client.nix"))
    (finding,) = [f for f in analyze(source, files, workspace=index).findings if f.code in GRAPH_CODES]
    assert "`acme/registry`" in finding.message
    assert finding.fixes and finding.fixes[0].edits[0].text == '"acme/registry"'


@pytest.mark.parametrize("file", ["services/client.nix", "services/mesh.nix", "flake-parts/default.nix"])
def test_half_typed_files_never_crash(file: str) -> None:
    """Every prefix of a file (as while typing) gives findings or none, never an exception."""
    from clan_lsp.checks.graph import run_graph_rules
    from clan_lsp.model import load_source

    path = str(GRAPH / "clean" / file)
    text = Path(path).read_bytes()
    for cut in range(0, len(text), 23):
        files = Files()
        files.set_overlay(path, load_source(text[:cut], path))
        index = WorkspaceIndex.build([str(GRAPH / "clean")], files)
        for finding in run_graph_rules(index):
            assert finding.code in GRAPH_CODES
        build_graph(index)


def test_a_consumer_that_does_not_parse_silences_the_clan(tmp_path: Path) -> None:
    """Half-typed, the client's selectExports may vanish: the registry is not called unread meanwhile."""
    from clan_lsp.checks.graph import run_graph_rules
    from clan_lsp.model import load_source

    folder = variants.materialize("clean", tmp_path)
    path = str(folder / "services/client.nix")
    text = Path(path).read_text()
    files = Files()
    files.set_overlay(path, load_source(text[: text.index("registries =")] + "registries = clanLib.select", path))
    index = WorkspaceIndex.build([str(folder)], files)
    assert run_graph_rules(index) == []
    (clan,) = build_graph(index).clans
    assert not clan.known


def test_machine_tags_follow_clan_core() -> None:
    """Declared tags, `inventory.tags` lists, and the built-in all/nixos/darwin (computed-tags.nix)."""
    from clan_lsp.exportgraph.source import ClanInfo, MachineInfo, RoleInfo
    from clan_lsp.exportgraph import machine_tags, resolve_role
    from clan_lsp.model import load_source

    info = ClanInfo(
        load_source(b"{ }", "clan.nix"),
        None,
        {
            "linux": MachineInfo("linux", None, ["web"], "nixos"),
            "mac": MachineInfo("mac", None, [], "darwin"),
            "box": MachineInfo("box", None, [], "nixos"),
        },
        True,
        {"backup": ["box", "mac"]},
    )
    tags = machine_tags(info)
    assert tags["linux"] == {"web", "all", "nixos"}
    assert tags["mac"] == {"all", "darwin", "backup"}
    assert tags["box"] == {"all", "nixos", "backup"}
    role = RoleInfo("client", None, [("linux", None)], [("darwin", None), ("backup", None)])
    assert resolve_role(info, role) == (["linux", "mac", "box"], True)
    unknown = MachineInfo("odd", None, None, None)
    info.machines["odd"] = unknown
    info.machines_known = False
    assert resolve_role(info, role)[1] is False


def test_an_interface_never_set_is_marked_at_its_name(built: Path) -> None:
    folder = variants.materialize("read-unset-interface", built)
    files, index = index_of(folder)
    source = files.load(str(folder / "services/client.nix"))
    (finding,) = [f for f in analyze(source, files, workspace=index).findings if f.code == "read-unset-export"]
    assert source.text[finding.start : finding.end] == b"peer"
    assert "sets `peer`" in finding.message and "acme/registry:registry-main:server:alpha" in finding.message


def test_clan_words_where_clan_fails(built: Path) -> None:
    """clan's own message, as record_oracle.py recorded it, travels with the finding where clan fails."""
    for name in ("read-unset-interface", "read-undeclared-field"):
        folder = variants.materialize(name, built)
        files, index = index_of(folder)
        source = files.load(str(folder / "services/client.nix"))
        (finding,) = [f for f in analyze(source, files, workspace=index).findings if f.code == "read-unset-export"]
        assert finding.clan_message and finding.clan_message in ORACLE[name]["clan_says"]

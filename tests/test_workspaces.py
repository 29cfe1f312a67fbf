"""Fixture clans (flake-parts, a custom interface, two services, an inventory).

tests/workspaces/clean is a whole clan; variants.toml derives one clan per mistake from
it. `# expect: severity[code]` marks the lines where findings are expected. clan's own verdict on each
folder (tests/oracle/record_verdicts.py, workspace.nix with machines built) is in
tests/fixtures/oracle-verdicts.json and must agree.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from clan_lsp.analysis import Files, analyze
from clan_lsp.workspace import WorkspaceIndex, clan_core_date

HERE = Path(__file__).parent
from workspace_variants import materialize, names, oracle_limit  # noqa: E402

NAMES = names()
VERDICTS = json.loads((HERE / "fixtures/oracle-verdicts.json").read_text())
EXPECT = re.compile(r"# expect: (.+)$")


def expected(folder: Path) -> set[tuple[str, int, str]]:
    marks = set()
    for path in folder.rglob("*.nix"):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = EXPECT.search(line)
            if match:
                marks.add((str(path.relative_to(folder)), number, match.group(1).strip()))
    return marks


def actual(folder: Path) -> set[tuple[str, int, str]]:
    files = Files()
    index = WorkspaceIndex.build([str(folder)], files)
    found = set()
    for path in sorted(folder.rglob("*.nix")):
        source = files.load(str(path))
        for finding in analyze(source, files, workspace=index).findings:
            where = files.load(finding.path)
            line = where.tree.line_index.position(finding.start).line + 1
            found.add((str(Path(finding.path).relative_to(folder)), line, f"{finding.severity}[{finding.code}]"))
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("clans")


@pytest.mark.parametrize("name", NAMES)
def test_workspace_findings(name: str, built: Path) -> None:
    folder = materialize(name, built)
    assert actual(folder) == expected(folder)


@pytest.mark.parametrize("name", NAMES)
def test_workspace_agrees_with_clan(name: str, built: Path) -> None:
    folder = materialize(name, built)
    limit = oracle_limit(name)
    if limit:
        pytest.skip(limit.split("\n")[0])
    verdict = VERDICTS[f"workspaces/{name}"]
    expects_error = any(mark.startswith("error[") for _, _, mark in expected(folder))
    assert verdict["accepted"] == (not expects_error), verdict["clan_says"]


def test_index_reads_the_clan() -> None:
    files = Files()
    index = WorkspaceIndex.build([str(HERE / "workspaces/clean")], files)
    assert list(index.interfaces) == ["vpn"]
    vpn = index.interfaces["vpn"]
    assert {name: f.nix_type.description for name, f in vpn.fields.items()} == {
        "pubkey": "string",
        "port": "16 bit unsigned integer; between 0 and 65535 (both inclusive)",
    }
    assert sorted(index.modules) == ["hello", "vpn"]
    assert index.module("hello").body.path("manifest", "name").text == "acme/hello"
    assert sorted(i.name for i in index.instances) == ["greeting", "office-vpn"]


def test_clan_core_date_from_flake_lock(tmp_path: Path) -> None:
    lock = {"nodes": {"clan-core": {"locked": {"lastModified": 1770000000, "type": "git"}, "original": {"type": "git", "url": "https://git.clan.lol/clan/clan-core"}}, "root": {"inputs": {"clan-core": "clan-core"}}}, "root": "root", "version": 7}
    (tmp_path / "flake.lock").write_text(json.dumps(lock))
    assert clan_core_date(str(tmp_path / "flake.lock")) == "2026-02-02"
    assert clan_core_date(str(tmp_path / "missing.lock")) is None


def test_definition_from_a_consumer_reading_an_export() -> None:
    from clan_lsp import ide
    from clan_lsp.model import load_source

    root = HERE / "workspaces/clean"
    index = WorkspaceIndex.build([str(root)], Files())
    text = "peers: map (p: p.vpn.pubkey) peers"
    consumer = load_source(text.encode(), str(root / "consumer.nix"))
    clan = (root / "flake-parts/default.nix").read_bytes()

    def target(needle: str) -> list[bytes]:
        found = ide.definition(consumer, [], text.index(needle) + 1, workspace=index)
        return [clan[l.start : l.end] for l in found]

    assert target("vpn") == [b"vpn"]
    assert target("pubkey") == [b"pubkey"]
    assert target("map") == []


def test_core_interface_names_and_fields_are_not_renamed() -> None:
    from clan_lsp import ide
    from clan_lsp.analysis import services_in
    from clan_lsp.model import load_source

    index = WorkspaceIndex.build([str(HERE / "workspaces/clean")], Files())
    text = '{ _class = "clan.service"; manifest.name = "a"; manifest.exports.out = [ "peer" ]; roles.s.perInstance = { mkExports, ... }: { exports = mkExports { peer.port = 22; }; }; }'
    source = load_source(text.encode(), str(HERE / "workspaces/clean/x.nix"))
    modules = services_in(source, index.files)
    assert ide.rename(source, modules, text.index("port") + 1, "p", workspace=index) is None
    assert ide.rename(source, modules, text.index('"peer"') + 2, "p", workspace=index) is None
    assert ide.prepare_rename(source, modules, text.index("port") + 1, workspace=index) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"{ clan = { }; }", True),
        (b"{ clan.inventory.machines = { }; }", True),
        (b'{ clan . "modules".x = ./x.nix; }', True),
        (b"{ clan.meta.name = \"x\"; }", True),
        (b"{ config.clan.core.vars.generators = { }; }", False),  # a machine's module
        (b"{ clan.metadata = 1; }", False),  # not one of clan's keys
        (b"{ myclan = 1; _clan.modules = 1; \"clan\".meta = 1; }", False),  # another name
        (b"{ clan\n    =\n  { }; }", True),
        (b"{ x.exportInterfaces = 1; }", True),
        (b"", False),
    ],
)
def test_files_that_may_set_a_clan_no_entry_reaches(text: bytes, expected: bool) -> None:
    from clan_lsp.semantics.clan import may_be_orphan

    assert may_be_orphan(text) is expected

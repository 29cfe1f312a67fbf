"""Workspace symbols: services, roles and interfaces by name, without parsing the services a
query cannot name."""

from __future__ import annotations

import shutil
from pathlib import Path

from clan_lsp.analysis import Analysis

CLEAN = Path(__file__).parent / "workspaces" / "clean"


def _analysis(tmp_path: Path) -> Analysis:
    root = tmp_path / "clan"
    shutil.copytree(CLEAN, root)
    return Analysis(roots=[str(root)])


def test_a_role_is_found_by_part_of_its_name(tmp_path) -> None:
    analysis = _analysis(tmp_path)
    found = {(s.name, s.detail) for s in analysis.workspace_symbols("GREET")}
    assert found == {("greeter", "role of hello")}
    assert {(s.name, s.detail) for s in analysis.workspace_symbols("vp")} == {("vpn", "service"), ("vpn", "export interface")}


def test_a_query_no_service_can_match_parses_none_of_them(tmp_path) -> None:
    analysis = _analysis(tmp_path)
    assert analysis.workspace_symbols("zz-no-such-symbol") == []
    index = analysis.index
    assert not index.module_files._entries and not index._module_facts
    everything = {s.name for s in analysis.workspace_symbols("")}
    assert {"vpn", "hello", "peer", "greeter"} <= everything

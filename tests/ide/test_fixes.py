"""Quick fixes: every "did you mean" can be applied, and fixes keep the text around them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from clan_lsp.analysis import Analysis, Files

from .harness import fixture

HERE = Path(__file__).parent.parent
sys.path.insert(0, str(HERE))
from workspace_variants import materialize, names  # noqa: E402


def _applied(text: bytes, edits) -> bytes:
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        text = text[: edit.start] + edit.new_text.encode() + text[edit.end :]
    return text


def _suggesting(findings):
    return [f for f in findings if "did you mean" in f.message]


def test_every_did_you_mean_in_the_rule_fixtures_has_a_fix():
    analysis = Analysis([], files=Files())
    missing = []
    for path in sorted((HERE / "fixtures").rglob("*.nix")):
        for finding in _suggesting(analysis.diagnostics(str(path))):
            if not finding.fixes:
                missing.append((path.name, finding.code))
    assert missing == []


def test_every_did_you_mean_in_the_fixture_clans_has_a_fix(tmp_path):
    missing = []
    for name in names():
        folder = materialize(name, tmp_path)
        analysis = Analysis([str(folder)])
        for path in sorted(folder.rglob("*.nix")):
            for finding in _suggesting(analysis.diagnostics(str(path))):
                if not finding.fixes:
                    missing.append((name, finding.code))
    assert missing == []


SERVICE = """#- /service.nix
{ clanLib, ... }:
{
  _class = "clan.service";
  manifest.name = "x";
  manifest.readme = "x";
  manifest.exports.out = [ "endpoints" "nope" ]; # the interfaces
  roles.a = {
    description = "a";
    perInstance = { exports, ... }: {
      nixosModule.peers = clanLib.selectExports { serviceName = "x"; roleName = "a"; } exports;
    };
  };
}
"""


@pytest.mark.parametrize(
    "title, expected",
    [
        ('Remove "nope" from `manifest.exports.out`', b'manifest.exports.out = [ "endpoints" ]; # the interfaces'),
        ("Write it as a predicate", b'clanLib.selectExports (scope: scope.serviceName == "x" && scope.roleName == "a") exports;'),
    ],
)
def test_fix_edits_keep_the_rest(tmp_path, title, expected):
    found = fixture(tmp_path, SERVICE)
    path = found.file("service.nix")
    text = found.text(path)
    actions = [a for a in found.analysis.code_actions(path, 0, len(text)) if a.title == title]
    assert len(actions) == 1
    fixed = _applied(text, actions[0].edits)
    assert expected in fixed
    assert fixed.count(b"\n") == text.count(b"\n")

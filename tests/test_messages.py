"""What a Problems panel shows: our short statement first, clan's own words below it.

A finding's `message` is one line in our words, specific to the case; `clan_message` is
what clan itself prints (the spec's error catalogue), where clan prints anything. Editors
get both in one diagnostic and `clan-lsp check` prints both. clan's words are checked
against what clan printed for the same fixtures (tests/fixtures/oracle-verdicts.json).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from clan_lsp import cli
from clan_lsp.analysis import Files, analyze
from clan_lsp.checks import Finding, full_message
from clan_lsp.server import to_diagnostic
from clan_lsp.workspace import WorkspaceIndex

HERE = Path(__file__).parent
from workspace_variants import materialize, names  # noqa: E402

FIXTURES = HERE / "fixtures"
VERDICTS = json.loads((FIXTURES / "oracle-verdicts.json").read_text())
README = (HERE.parent / "README.md").read_text()
# Every code of the README's Rules table (rows like "| `unknown-option` | error | E8 | ... |").
README_CODES = sorted(set(re.findall(r"^\| `([a-z-]+)` \|", README, re.MULTILINE)))

# Codes for which clan prints nothing: our statement is all there is.
CLAN_SILENT = {
    "syntax-error",  # Nix's parser words it differently from tree-sitter; ours says where
    "unknown-machine",  # clan silently ignores such a machine
    "inventory-modules",  # clan silently discards the value
}


def _fixture_findings() -> dict[str, list[Finding]]:
    found = {}
    for path in sorted(FIXTURES.rglob("*.nix")):
        files = Files()
        found[str(path.relative_to(FIXTURES))] = analyze(files.load(str(path)), files).findings
    return found


def _workspace_findings(parent: Path) -> dict[str, list[Finding]]:
    found = {}
    for name in names():
        folder = materialize(name, parent)
        files = Files()
        index = WorkspaceIndex.build([str(folder)], files)
        findings = []
        for path in sorted(folder.rglob("*.nix")):
            findings += analyze(files.load(str(path)), files, workspace=index).findings
        found[f"workspaces/{name}"] = findings
    return found


@pytest.fixture(scope="module")
def by_case(tmp_path_factory) -> dict[str, list[Finding]]:
    """Findings of every fixture file and fixture clan, keyed as the oracle's verdicts are."""
    return {**_fixture_findings(), **_workspace_findings(tmp_path_factory.mktemp("clans"))}


@pytest.fixture(scope="module")
def by_code(by_case) -> dict[str, list[Finding]]:
    codes: dict[str, list[Finding]] = {}
    for findings in by_case.values():
        for finding in findings:
            codes.setdefault(finding.code, []).append(finding)
    return codes


def test_readme_lists_the_codes() -> None:
    assert len(README_CODES) >= 30 and "syntax-error" in README_CODES


@pytest.mark.parametrize("code", README_CODES)
def test_statement_leads_and_is_ours(code: str, by_code) -> None:
    findings = by_code.get(code)
    assert findings, f"no fixture produces {code}"
    for finding in findings:
        assert finding.message.strip() and "\n" not in finding.message, finding.message
        assert full_message(finding).splitlines()[0] == finding.message
        if finding.clan_message:
            clan_first = finding.clan_message.splitlines()[0]
            assert clan_first not in finding.message, f"{code}: the first line repeats clan's text"
            assert not finding.message.startswith(clan_first[:24]), f"{code}: the first line starts as clan's does"


@pytest.mark.parametrize("code", README_CODES)
def test_clan_words_are_kept_where_clan_has_them(code: str, by_code) -> None:
    findings = by_code[code]
    with_clan = [f for f in findings if f.clan_message]
    if code in CLAN_SILENT:
        assert not with_clan
    else:
        assert with_clan, f"{code} mirrors something clan prints, but no finding carries clan's words"


def test_errors_clan_rejects_carry_clan_words(by_case) -> None:
    """Where clan rejected a fixture, the errors we give for it say what clan says."""
    missing = []
    for case, findings in by_case.items():
        verdict = VERDICTS.get(case)
        if verdict is None or verdict["accepted"]:
            continue
        for finding in findings:
            if finding.severity == "error" and finding.code not in CLAN_SILENT and not finding.clan_message:
                missing.append(f"{case}: {finding.code}: {finding.message}")
    assert not missing


def _first_line(text: str) -> str:
    """The headline of a clan error, without what depends on where and how it was evaluated."""
    line = text.strip().splitlines()[0]
    line = re.sub(r"^error: ", "", line)
    line = re.sub(r"_services\.allServices\.[^.`']+\.", "", line)  # the service's own evaluation
    line = re.sub(r"[^\s`']*\.nix(:\d+:\d+)?", "<file>", line)  # file names and positions
    line = re.sub(r" (Definition values|TypeError):.*$", "", line)
    return line


def _as_pattern(ours: str) -> re.Pattern:
    """Our rendering of clan's words, where `<instanceName>` and the like stand for any value."""
    parts = re.split(r"(<[a-zA-Z-]+>)", ours)
    return re.compile("".join(r"[^:\"'`]*" if re.fullmatch(r"<[a-zA-Z-]+>", p) else re.escape(p) for p in parts))


# Verdicts whose text is not clan's message for the mistake.
NOT_CLAN_WORDS = {
    "syntax-error/missing-semicolon.nix": "Nix's parser, which we do not imitate",
    "workspaces/unknown-input": "the oracle's harness, which knows only `self` inputs",
}


def test_clan_words_are_what_clan_printed(by_case) -> None:
    checked, differ = 0, []
    for case, verdict in VERDICTS.items():
        if verdict["accepted"] or case in NOT_CLAN_WORDS or case not in by_case:
            continue
        clan = _first_line(verdict["clan_says"])
        ours = [_first_line(f.clan_message) for f in by_case[case] if f.clan_message]
        checked += 1
        if not any(_as_pattern(line).fullmatch(clan) for line in ours):
            differ.append(f"{case}\n  clan: {clan}\n  ours: {ours}")
    assert checked >= 40
    assert not differ, "\n".join(differ)


def _one(by_case, case: str, code: str) -> Finding:
    return next(f for f in by_case[case] if f.code == code)


def test_lsp_diagnostic_has_both_lines(by_case) -> None:
    finding = _one(by_case, "unknown-category/networking.nix", "unknown-category")
    range_ = lsp.Range(lsp.Position(4, 35), lsp.Position(4, 47))
    diagnostic = to_diagnostic(finding, range_)
    summary, *clan = diagnostic.message.split("\n")
    assert summary == 'Unknown category "Networking"; did you mean "Network"?'
    assert clan == finding.clan_message.splitlines()
    assert clan[0].startswith("A definition for option `manifest.categories.")
    assert diagnostic.code == "unknown-category" and diagnostic.range == range_

    silent = _one(by_case, "syntax-error/missing-semicolon.nix", "syntax-error")
    assert silent.clan_message is None
    assert to_diagnostic(silent, range_).message == silent.message


def test_check_prints_clan_words_indented_below() -> None:
    out, err = io.StringIO(), io.StringIO()
    cli.check([str(FIXTURES / "per-machine-settings/used.nix")], out=out, err=err)
    first, *rest = out.getvalue().splitlines()
    assert first.endswith("error[per-machine-settings] `perMachine` gets no `settings`: settings belong to an "
                          "instance and role (read them in `perInstance`)")
    assert rest[0] == "    'perMachine' doesn't have a 'settings' argument."
    assert len(rest) == 5 and all(line.startswith("    ") for line in rest)


def test_check_json_keeps_the_two_apart() -> None:
    out = io.StringIO()
    paths = [str(FIXTURES / "unknown-argument/used.nix"), str(FIXTURES / "syntax-error/missing-semicolon.nix")]
    cli.check(paths, "json", out=out, err=io.StringIO())
    records = {r["code"]: r for r in json.loads(out.getvalue())["findings"]}
    argument = records["unknown-argument"]
    assert argument["message"] == "`perInstance` gets no argument `instance`; did you mean `instanceName`?"
    assert argument["clanMessage"] == "attribute 'instance' missing"
    assert records["syntax-error"]["clanMessage"] is None

"""Every rule's fixtures: the findings are exactly the `# expect:` marks, and they agree with clan.

A fixture marks each line where a finding is expected with `# expect: severity[code]`;
a fixture without marks must be clean. tests/fixtures/oracle-verdicts.json holds clan's
own verdict on each fixture (recorded with tests/oracle/record_verdicts.py): a fixture
that expects an error must be one clan rejects, one that expects none one clan accepts.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from clan_lsp.analysis import Files, analyze
from clan_lsp.checks import RULES

FIXTURES = Path(__file__).parent / "fixtures"
VERDICTS = json.loads((FIXTURES / "oracle-verdicts.json").read_text())
ALL = sorted(FIXTURES.rglob("*.nix"))
EXPECT = re.compile(r"# expect: (.+)$")


def expected(path: Path) -> set[tuple[int, str]]:
    marks = set()
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        match = EXPECT.search(line)
        if match:
            for mark in match.group(1).split(","):
                marks.add((number, mark.strip()))
    return marks


def actual(path: Path) -> set[tuple[int, str]]:
    files = Files()
    source = files.load(str(path))
    report = analyze(source, files)
    index = source.tree.line_index
    return {(index.position(f.start).line + 1, f"{f.severity.replace('information', 'info')}[{f.code}]") for f in report.findings}


@pytest.mark.parametrize("path", ALL, ids=[str(p.relative_to(FIXTURES)) for p in ALL])
def test_fixture_findings(path: Path) -> None:
    assert actual(path) == expected(path)


@pytest.mark.parametrize("path", ALL, ids=[str(p.relative_to(FIXTURES)) for p in ALL])
def test_fixture_agrees_with_clan(path: Path) -> None:
    key = str(path.relative_to(FIXTURES))
    assert key in VERDICTS, f"no recorded clan verdict for {key}: run tests/oracle/record_verdicts.py"
    expects_error = any(mark.startswith("error[") for _, mark in expected(path))
    assert VERDICTS[key]["accepted"] == (not expects_error), VERDICTS[key]["clan_says"]


def test_every_rule_has_a_broken_fixture() -> None:
    marked = {mark.split("[", 1)[1].rstrip("]") for path in ALL for _, mark in expected(path)}
    missing = [r.code for r in RULES if r.code not in marked]
    assert not missing, f"rules without a fixture that triggers them: {missing}"


def test_clean_fixtures_exist() -> None:
    clean = [p for p in ALL if not expected(p)]
    assert len(clean) >= 5

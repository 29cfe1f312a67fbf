"""Opt-in: clan-core's clan templates, copied as a user would, with a service of our own added.

Set CLAN_LSP_CORPUS to a clan-core checkout. Each template must give no finding at all, and
the clan must be recognised: a typo in the instance's settings is reported where it is.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from clan_lsp.analysis import Analysis

sys.path.insert(0, str(Path(__file__).parent / "templates"))
from add_service import PLACES, prepare  # noqa: E402

CORPUS = os.environ.get("CLAN_LSP_CORPUS")
pytestmark = pytest.mark.skipif(not CORPUS, reason="set CLAN_LSP_CORPUS to a clan-core checkout")


def _findings(folder: Path) -> list[tuple[str, str]]:
    analysis = Analysis([str(folder)])
    found = []
    for path in sorted(folder.rglob("*.nix")):
        for finding in analysis.diagnostics(str(path)):
            found.append((str(path.relative_to(folder)), f"{finding.severity}[{finding.code}]"))
    return found


@pytest.fixture(scope="module")
def templates(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("templates")
    return {Path(p).name: Path(p) for p in prepare(CORPUS, str(out))}


@pytest.mark.parametrize("name", sorted(PLACES))
def test_template_gives_no_finding(templates, name):
    assert _findings(templates[name]) == []


@pytest.mark.parametrize("name", sorted(PLACES))
def test_template_clan_is_recognised(templates, name):
    folder = templates[name]
    file = folder / PLACES[name][0]
    file.write_text(file.read_text().replace("settings.text", "settings.txt"))
    service = folder / "services" / "greeter.nix"
    service.write_text(service.read_text().replace('"greeting" ]', '"greeting" "greting" ]'))
    try:
        assert sorted(_findings(folder)) == [
            (PLACES[name][0], "error[unknown-setting]"),
            ("services/greeter.nix", "error[unknown-export-interface]"),
        ]
    finally:
        file.write_text(file.read_text().replace("settings.txt", "settings.text"))
        service.write_text(service.read_text().replace('"greeting" "greting" ]', '"greeting" ]'))

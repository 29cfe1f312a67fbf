"""Checking against an older clan-core: what existed then is not an error."""

from __future__ import annotations

from clan_lsp.analysis import Files, analyze
from clan_lsp.model import load_source
from clan_lsp.spec.versions import Generation

TRAITS = '{ _class = "clan.service"; manifest.name = "a"; manifest.readme = "r"; manifest.traits = [ "peer" ]; roles.x.description = "d"; }'
OUT = '{ _class = "clan.service"; manifest.name = "a"; manifest.readme = "r"; manifest.exports.out = [ "peer" ]; roles.x.description = "d"; }'
FEATURES = '{ _class = "clan.service"; manifest.name = "a"; manifest.readme = "r"; manifest.features.API = true; roles.x.description = "d"; }'
SELECT = '{ clanLib, ... }: { _class = "clan.service"; manifest.name = "a"; manifest.readme = "r"; roles.x.description = "d"; manifest.description = builtins.toJSON (clanLib.selectExports { serviceName = "a"; } { }); }'


def codes(text: str, date: str | None) -> set[str]:
    return {f.code for f in analyze(load_source(text), Files(), Generation(date)).findings}


def test_traits_before_and_after_the_rename() -> None:
    assert codes(TRAITS, None) == {"removed-option"}
    assert codes(TRAITS, "2026-01-10") == set()
    assert codes(OUT, "2026-01-10") == {"unknown-option"}  # exports.out did not exist yet
    assert codes(OUT, None) == set()


def test_features_existed_until_2026_05() -> None:
    assert codes(FEATURES, "2026-03-01") == set()
    assert codes(FEATURES, None) == {"removed-option"}


def test_attrset_select_exports_was_right_for_a_month() -> None:
    assert codes(SELECT, "2025-11-15") == set()
    assert codes(SELECT, None) == {"select-exports"}

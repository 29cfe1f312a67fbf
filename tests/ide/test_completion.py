"""Completion in service modules where the old locator answered nothing."""

from __future__ import annotations

import pytest

from .harness import fixture

ROLE = (
    'roles.a = { description = "d"; '
    "interface = { lib, ... }: { options.port = lib.mkOption { type = lib.types.port; }; }; "
)
TOP = '{ ... }: { _class = "clan.service"; manifest.name = "x"; '

CASES = {
    "inside an interpolation": (TOP + ROLE + 'perInstance = { settings, ... }: { nixosModule.x = "${settings.$0}"; }; }; }', ["port"]),
    "nested option types": (TOP + "manifest.constraints.roles.a.$0 }", ["minMachines", "maxMachines"]),
    "the module function's arguments": ('{ lib, $0 }: { _class = "clan.service"; manifest.name = "x"; }', None),
    "a machine's settings in perInstance": (
        TOP + ROLE + "perInstance = { roles, ... }: { nixosModule.x = roles.a.machines.m.settings.$0; }; }; }",
        ["port"],
    ),
    "an export read": (
        '{ clanLib, ... }: { _class = "clan.service"; manifest.name = "x"; roles.a = { description = "d"; '
        "perInstance = { exports, ... }: { nixosModule.x = builtins.mapAttrs (k: value: value.endpoints.$0) "
        "(clanLib.selectExports (s: true) exports); }; }; }",
        ["hosts"],
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_completion(tmp_path, name):
    text, expected = CASES[name]
    found = fixture(tmp_path, "#- /service.nix\n" + text)
    labels = [item.label for item in found.analysis.complete(found.path, found.offset)]
    if expected is None:  # the module function: what clan passes, less what is listed
        assert "clanLib" in labels and "lib" not in labels and "..." in labels
    else:
        assert labels == expected


def test_hover_on_an_export_read(tmp_path):
    text = CASES["an export read"][0].replace("value.endpoints.$0", "value.endpoints.ho$0sts")
    found = fixture(tmp_path, "#- /service.nix\n" + text)
    hover = found.analysis.hover(found.path, found.offset)
    assert hover is not None and "hosts" in hover.markdown and "endpoints" in hover.markdown

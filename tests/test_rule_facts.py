"""What rules derive once and share (ServiceModule.derived, SourceFile.facts, merged
attributes) follows every new version of the files it was derived from."""

from __future__ import annotations

from pathlib import Path

from clan_lsp.analysis import Analysis
from clan_lsp.model import AttrSet, load_source
from clan_lsp.model.values import Definition
from clan_lsp.syntax import SyntaxTree

SERVICE = """{ ... }:
{
  _class = "clan.service";
  manifest.name = "vpn";
  manifest.readme = "A VPN.";
  imports = [ ./peer.nix ];
}
"""
PEER = """{ ... }:
{
  roles.peer = {
    description = "A peer";
    perInstance = { instanceName, ARG, ... }: { nixosModule = { }; };
  };
}
"""


def _codes(analysis: Analysis, path: str) -> list[str]:
    return sorted(f.code for f in analysis.diagnostics(path))


def _workspace(tmp_path: Path, argument: str) -> tuple[str, str]:
    (tmp_path / "vpn").mkdir()
    service = tmp_path / "vpn" / "default.nix"
    peer = tmp_path / "vpn" / "peer.nix"
    service.write_text(SERVICE)
    peer.write_text(PEER.replace("ARG", argument))
    return str(service), str(peer)


def test_an_edit_to_an_imported_part_is_seen_by_the_module(tmp_path):
    """Argument sites are derived once per module; a new version of a part makes a new module."""
    service, peer = _workspace(tmp_path, "settings")
    analysis = Analysis([str(tmp_path)])
    assert "unknown-argument" not in _codes(analysis, service)
    analysis.update(peer, load_source(PEER.replace("ARG", "nosuchArgument"), peer))  # typed in the part
    assert "unknown-argument" in _codes(analysis, peer)
    analysis.update(peer, load_source(PEER.replace("ARG", "settings"), peer))
    assert "unknown-argument" not in _codes(analysis, peer)
    analysis.update(peer, None)  # closed: the disk's version again
    Path(peer).write_text(PEER.replace("ARG", "alsoUnknown"))
    analysis.invalidate()  # the server's answer to a file changed on disk
    assert "unknown-argument" in _codes(analysis, peer)


def test_an_edit_in_place_makes_new_facts(tmp_path):
    """The server edits one SyntaxTree in place and makes a new SourceFile per version: helper
    calls and clanLib selects are found again for each."""
    service, _ = _workspace(tmp_path, "settings")
    text = SERVICE.replace('manifest.readme = "A VPN.";', 'manifest.readme = "A VPN.";\n  x = clanLib.exports.buildScopeKey;')
    analysis = Analysis([str(tmp_path)])
    tree = SyntaxTree(text.encode())
    analysis.update(service, load_source(tree.text, service, tree=tree))
    assert "clanlib-exports" in _codes(analysis, service)
    at = text.encode().index(b"exports.buildScopeKey")
    tree.edit(at, at + len(b"exports."), b"")  # clanLib.buildScopeKey: right
    analysis.update(service, load_source(tree.text, service, tree=tree))
    assert "clanlib-exports" not in _codes(analysis, service)
    tree.edit(at, at, b"exports.")
    analysis.update(service, load_source(tree.text, service, tree=tree))
    assert "clanlib-exports" in _codes(analysis, service)


def test_a_merged_attribute_follows_added_definitions():
    """AttrSet.get keeps a merge of several definitions only while they stay the same."""
    source = load_source("{ a.b = 1; a.c = 2; }")
    attrs = source.value
    assert isinstance(attrs, AttrSet)
    merged = attrs.get("a")
    assert isinstance(merged, AttrSet) and merged.names() == ["b", "c"]
    assert attrs.get("a") is merged  # made once
    thunk = attrs.defs("a")[0].thunk
    attrs.definitions.append(Definition("a", None, (("d", None),), thunk))  # a reader appends
    assert attrs.get("a").names() == ["b", "c", "d"]
    attrs.definitions = [d for d in attrs.definitions if d.rest[0][0] != "c"]  # another list
    assert attrs.get("a").names() == ["b", "d"]


def test_role_options_follow_an_edit_of_the_interface(tmp_path):
    """role_options is read once per module and role; an edit makes a new module."""
    from clan_lsp.model.interface import closed_interface, role_options

    service, peer = _workspace(tmp_path, "settings")
    with_interface = PEER.replace("ARG", "settings").replace(
        'description = "A peer";', 'description = "A peer";\n    interface.options.port = { };'
    )
    analysis = Analysis([str(tmp_path)])
    analysis.update(peer, load_source(with_interface, peer))
    (module,) = analysis.services_of(peer)
    assert [o.name for o in role_options(module, "peer")] == ["port"] and closed_interface(module, "peer")
    analysis.update(peer, load_source(with_interface.replace("port", "address"), peer))
    (module,) = analysis.services_of(peer)
    assert [o.name for o in role_options(module, "peer")] == ["address"]
    analysis.update(peer, load_source(with_interface.replace("interface.options.port = { };", "interface.freeformType = { };"), peer))
    (module,) = analysis.services_of(peer)
    assert role_options(module, "peer") == [] and not closed_interface(module, "peer")


def test_renamed_clanlib_paths_are_found_however_they_are_spelled():
    """The renamed-path rules search the text before reading `clanLib` selects: spaces and
    comments between the names must not hide one."""
    from clan_lsp.checks.base import run_rules
    from clan_lsp.model import find_services

    spellings = {
        "clanLib.exports.buildScopeKey": "clanlib-exports",
        "clanLib . exports . buildScopeKey": "clanlib-exports",
        "clanLib /* the lib */ .exports.buildScopeKey": "clanlib-exports",
        "clanLib. # the lib\n exports.buildScopeKey": "clanlib-exports",
        "clanLib # the lib\n .exports.buildScopeKey": "clanlib-exports",
        "clanLib.vars.getPublicValue": "clanlib-renamed",
        "clanLib .vars /**/ .getPublicValue": "clanlib-renamed",
        "clanLib.buildScopeKey": None,
        "clanLib.getPublicValue": None,
        "clanLib.exportsHelper": None,
    }
    for spelling, code in spellings.items():
        text = SERVICE.replace("imports = [ ./peer.nix ];", f"x = {spelling};")
        (module,), _ = find_services(load_source(text, "vpn.nix"))
        codes = {f.code for f in run_rules(module, only=["clanlib-exports", "clanlib-renamed"])}
        assert codes == ({code} if code else set()), spelling

"""IDE answers through the Analysis facade: split files, clan files, both ends of a reference."""

from __future__ import annotations

from .harness import fixture

SPLIT = """#- /services/vpn/default.nix
{ ... }:
{
  _class = "clan.service";
  manifest.name = "vpn";
  manifest.readme = "A VPN.";
  imports = [ ./peer.nix ];
}
#- /services/vpn/peer.nix
{ ... }:
{
  roles.peer = {
    description = "A peer";
    interface = { lib, ... }: { options.mtu = lib.mkOption { type = lib.types.int; default = 1420; }; };
    perInstance = { settings, ... }: {
      nixosModule.mtu = settings.m$0tu;
    };
  };
}
"""


def test_split_role_file_has_hover_and_definition(tmp_path):
    found = fixture(tmp_path, SPLIT)
    hover = found.analysis.hover(found.path, found.offset)
    assert hover is not None and "mtu" in hover.markdown and "int" in hover.markdown
    [location] = found.analysis.definition(found.path, found.offset)
    assert location.path == found.path
    assert found.snippet(location.path, location.start, location.end) == "mtu"
    assert found.line_of(location.path, location.start) == 5


def test_split_role_file_completes_settings(tmp_path):
    found = fixture(tmp_path, SPLIT.replace("settings.m$0tu", "settings.$0"))
    labels = [item.label for item in found.analysis.complete(found.path, found.offset)]
    assert labels == ["mtu"]


def test_split_role_file_answers_do_not_wait_for_diagnostics(tmp_path):
    found = fixture(tmp_path, SPLIT)
    first = found.analysis.hover(found.path, found.offset)
    found.analysis.diagnostics(found.path)
    assert found.analysis.hover(found.path, found.offset) == first


OUTLINE = """#- /service.nix
{
  _class = "clan.service";
  manifest.name = "x";
  roles.server = { description = "s"; };
  manifest.description = "d";
  roles.agent = { description = "a"; };
}
"""


def test_outline_keeps_every_dotted_binding(tmp_path):
    found = fixture(tmp_path, OUTLINE)
    symbols = found.analysis.symbols(found.file("service.nix"))
    assert [(s.name, s.kind) for s in symbols] == [
        ("_class", "property"),
        ("manifest.name", "property"),
        ("roles.server", "class"),
        ("manifest.description", "property"),
        ("roles.agent", "class"),
    ]
    assert [c.name for c in symbols[4].children] == ["description"]


# ---------------------------------------------------------------- clan configuration files

from .test_clans import LIB_CLAN  # noqa: E402


def _labels(found, marked_text: str) -> list[str]:
    return [item.label for item in found.analysis.complete(found.path, found.offset)]


def clan_with(tmp_path, clan_nix: str):
    """LIB_CLAN with clan.nix replaced (keeps the flake, the service and the interface)."""
    head, _, rest = LIB_CLAN.partition("#- /clan.nix\n")
    _old, _, service = rest.partition("#- /services/greeter.nix")
    return fixture(tmp_path, head + "#- /clan.nix\n" + clan_nix + "#- /services/greeter.nix" + service)


CLAN_TOP = """{
  meta.name = "acme";
  modules.greeter = ./services/greeter.nix;
  inventory.machines.m1 = { tags = [ "web" ]; };
  inventory.instances.hello = {
    module.name = "greeter";
    module.input = "self";
    roles.default.machines.m1 = { };
  };
  $0
}
"""


def test_clan_file_top_level_offers_clan_options_not_service_keys(tmp_path):
    found = clan_with(tmp_path, CLAN_TOP)
    labels = _labels(found, CLAN_TOP)
    assert {"meta", "inventory", "modules", "exportInterfaces", "machines"} <= set(labels)
    assert "manifest" not in labels and "perMachine" not in labels


def test_clan_meta_completion(tmp_path):
    found = clan_with(tmp_path, CLAN_TOP.replace("meta.name", "meta = { $0 };\n  meta.x").replace("  $0\n", ""))
    assert {"name", "domain", "description", "icon"} <= set(_labels(found, ""))


def test_dotted_inventory_keeps_instance_completion(tmp_path):
    text = CLAN_TOP.replace("roles.default.machines.m1 = { };", "roles.$0").replace("  $0\n", "")
    found = clan_with(tmp_path, text)
    assert _labels(found, text) == ["default"]


def test_role_keys_tags_and_machines(tmp_path):
    text = CLAN_TOP.replace("roles.default.machines.m1 = { };", "roles.default.tags.$0").replace("  $0\n", "")
    found = clan_with(tmp_path, text)
    assert _labels(found, text) == ["all", "nixos", "darwin", "web"]
    text = CLAN_TOP.replace("roles.default.machines.m1 = { };", "roles.default.machines.$0").replace("  $0\n", "")
    assert _labels(clan_with(tmp_path / "b", text), text) == ["m1"]


def test_module_input_completion(tmp_path):
    text = CLAN_TOP.replace('module.input = "self";', 'module.input = "$0";').replace("  $0\n", "")
    found = clan_with(tmp_path, text)
    assert _labels(found, text)[0] == "self"


def test_settings_completion_and_hover_in_the_clan_file(tmp_path):
    text = CLAN_TOP.replace("roles.default.machines.m1 = { };", "roles.default.settings.$0").replace("  $0\n", "")
    found = clan_with(tmp_path, text)
    assert _labels(found, text) == ["text"]
    hover_text = CLAN_TOP.replace("roles.default.machines.m1 = { };", 'roles.default.settings.te$0xt = "hi";').replace("  $0\n", "")
    found = clan_with(tmp_path / "b", hover_text)
    hover = found.analysis.hover(found.path, found.offset)
    assert hover is not None and "text" in hover.markdown and "str" in hover.markdown


def test_hover_on_clan_options_and_roles(tmp_path):
    text = CLAN_TOP.replace("meta.name", "meta.na$0me").replace("  $0\n", "")
    found = clan_with(tmp_path, text)
    hover = found.analysis.hover(found.path, found.offset)
    assert hover is not None and "meta.name" in hover.markdown
    text = CLAN_TOP.replace("roles.default.machines", "roles.def$0ault.machines").replace("  $0\n", "")
    found = clan_with(tmp_path / "b", text)
    hover = found.analysis.hover(found.path, found.offset)
    assert hover is not None and "A greeter" in hover.markdown


# ---------------------------------------------------------------- both ends of a reference


def _places(found, locations) -> list[tuple[str, str]]:
    return sorted((str(__import__("pathlib").Path(l.path).relative_to(found.root)), found.snippet(l.path, l.start, l.end)) for l in locations)


def test_references_from_the_interface_declaration(tmp_path):
    text = LIB_CLAN.replace("exportInterfaces.greeting", "exportInterfaces.gree$0ting")
    found = fixture(tmp_path, text)
    places = _places(found, found.analysis.references(found.path, found.offset))
    # exports.out's "greeting" (quotes left out) and the mkExports key
    assert places == [("clan.nix", "greeting"), ("services/greeter.nix", "greeting"), ("services/greeter.nix", "greeting")]


def test_rename_a_role_from_the_inventory(tmp_path):
    text = LIB_CLAN.replace("roles.default.machines.m1.settings.TEXT", "roles.def$0ault.machines.m1.settings.TEXT")
    found = fixture(tmp_path, text)
    edits = found.analysis.rename(found.path, found.offset, "greeter")
    assert sorted((str(__import__("pathlib").Path(e.path).relative_to(found.root)), found.snippet(e.path, e.start, e.end)) for e in edits) == [
        ("clan.nix", "default"),
        ("services/greeter.nix", "default"),
    ]


def test_renaming_a_role_option_renames_inventory_settings(tmp_path):
    text = LIB_CLAN.replace("settings.TEXT", "settings.text").replace("options.text = lib.mkOption { type = lib.types.str; }; };\n    perInstance", "options.te$0xt = lib.mkOption { type = lib.types.str; }; };\n    perInstance")
    found = fixture(tmp_path, text)
    edits = found.analysis.rename(found.path, found.offset, "greeting")
    places = sorted((str(__import__("pathlib").Path(e.path).relative_to(found.root)), found.snippet(e.path, e.start, e.end)) for e in edits)
    assert places == [("clan.nix", "text"), ("services/greeter.nix", "text"), ("services/greeter.nix", "text")]


# ---------------------------------------------------------------- half-typed clan files

BASE = CLAN_TOP.replace("  $0\n", "")
TYPED = """  inventory.instances.second = {
    module.name = "greeter";
    module.input = "self";
    roles.default.machines.m1.settings.text = "x";
    roles.default.tags.all = { };
  };
"""
# (text typed so far, an item completion must offer there)
POINTS = [
    ("  inventory.", "instances"),
    ("  inventory.instances.second = {\n    ", "module"),
    ("  inventory.instances.second = {\n    module.", "name"),
    ('  inventory.instances.second = {\n    module.name = "', "greeter"),
    ('  inventory.instances.second = {\n    module.name = "greeter";\n    module.input = "', "self"),
    ('  inventory.instances.second = {\n    module.name = "greeter";\n    module.input = "self";\n    roles.', "default"),
    ('  inventory.instances.second = {\n    module.name = "greeter";\n    module.input = "self";\n    roles.default.', "machines"),
    ('  inventory.instances.second = {\n    module.name = "greeter";\n    module.input = "self";\n    roles.default.machines.', "m1"),
    ('  inventory.instances.second = {\n    module.name = "greeter";\n    module.input = "self";\n    roles.default.machines.m1.settings.', "text"),
    ('  inventory.instances.second = {\n    module.name = "greeter";\n    module.input = "self";\n    roles.default.machines.m1.settings.text = "x";\n    roles.default.tags.', "all"),
]


def test_completion_while_typing_an_instance(tmp_path):
    """Each point is reached by typing into an open buffer: the clan file does not parse."""
    from clan_lsp.model import load_source

    found = clan_with(tmp_path, BASE)
    path = found.file("clan.nix")
    found.analysis.diagnostics(path)  # the clan as it was, parsed and indexed
    base = BASE.encode()
    at = base.rindex(b"}")
    answered = []
    for typed, expected in POINTS:
        text = base[:at] + typed.encode() + b"\n" + base[at:]
        found.analysis.update(path, load_source(text, path))
        offset = at + len(typed.encode())
        labels = [i.label for i in found.analysis.complete(path, offset)]
        answered.append(expected in labels)
    assert answered == [True] * len(POINTS)


def test_inventory_diagnostics_follow_the_buffer_at_once(tmp_path):
    from clan_lsp.model import load_source

    found = clan_with(tmp_path, BASE)
    path = found.file("clan.nix")
    assert found.findings("clan.nix") == []
    typo = BASE.replace("roles.default.machines.m1", "roles.defualt.machines.m1")
    found.analysis.update(path, load_source(typo.encode(), path))
    assert [f.code for f in found.analysis.diagnostics(path)] == ["unknown-role"]
    found.analysis.update(path, load_source(BASE.encode(), path))
    assert found.analysis.diagnostics(path) == []


ROLE_PREDICATE = """#- /service.nix
{ clanLib, ... }:
{
  _class = "clan.service";
  manifest.name = "mesh";
  manifest.readme = "A mesh.";
  roles.a$0gent = { description = "An agent"; };
  roles.server = {
    description = "A server";
    perInstance = { exports, ... }: {
      nixosModule.peers = clanLib.selectExports (scope: scope.roleName == "agent" && scope.serviceName == "agent") exports;
    };
  };
}
"""


def test_renaming_a_role_renames_role_name_comparisons(tmp_path):
    found = fixture(tmp_path, ROLE_PREDICATE)
    edits = found.analysis.rename(found.path, found.offset, "client")
    text = found.text(found.path).decode()
    lines = sorted(text[: e.start].count("\n") + 1 for e in edits)
    # the key, and the roleName comparison; `serviceName == "agent"` is another thing
    assert lines == [6, 10]
    assert all(found.snippet(e.path, e.start, e.end) == "agent" for e in edits)


def test_clan_file_outline(tmp_path):
    found = clan_with(tmp_path, BASE)
    symbols = found.analysis.symbols(found.file("clan.nix"))
    assert [(s.name, s.kind) for s in symbols] == [
        ("meta.name", "property"),
        ("modules.greeter", "module"),
        ("inventory.machines.m1", "property"),
        ("inventory.instances.hello", "class"),
    ]
    assert [c.name for c in symbols[3].children] == ["module.name", "module.input", "roles.default.machines.m1"]


def test_half_typed_binding_keeps_the_absence_findings_elsewhere(tmp_path):
    """exports-not-allowed survives while an unrelated binding is half-typed."""
    text = """#- /service.nix
{ ... }:
{
  _class = "clan.service";
  manifest.name = "x";
  manifest.readme = "x";
  roles.a = {
    description = "a";
    perInstance = { mkExports, ... }: { exports = mkExports { endpoints.hosts = [ "h" ]; }; };
  };
  roles.b = { description = "b
}
"""
    found = fixture(tmp_path, text)
    codes = [f.code for f in found.analysis.diagnostics(found.file("service.nix"))]
    assert "syntax-error" in codes and "exports-not-allowed" in codes

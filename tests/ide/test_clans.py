"""Where a clan lives: clan-core's layouts, machines clan registers, files a clan imports."""

from __future__ import annotations

from .harness import fixture

SERVICE = """#- /services/greeter.nix
{ ... }:
{
  _class = "clan.service";
  manifest.name = "greeter";
  manifest.description = "Says hello";
  manifest.readme = "Says hello.";
  manifest.exports.out = [ "greeting" ];
  roles.default = {
    description = "A greeter";
    interface = { lib, ... }: { options.text = lib.mkOption { type = lib.types.str; }; };
    perInstance = { settings, mkExports, ... }: {
      exports = mkExports { greeting.text = settings.text; };
      nixosModule = { };
    };
  };
}
"""

CLAN_BODY = """
  meta.name = "acme";
  exportInterfaces.greeting = { lib, ... }: { options.text = lib.mkOption { type = lib.types.str; }; };
  modules.greeter = ./services/greeter.nix;
  inventory.machines.m1 = { };
  inventory.instances.hello = {
    module.name = "greeter";
    module.input = "self";
    roles.default.machines.m1.settings.TEXT = "hi";
  };
"""

LIB_CLAN = """#- /flake.nix
{
  inputs.clan-core.url = "git+https://example.invalid/clan-core";
  outputs = { self, clan-core, ... }:
    let
      clan = clan-core.lib.clan {
        inherit self;
        imports = [ ./clan.nix ];
      };
    in
    { inherit (clan.config) nixosConfigurations; };
}
#- /clan.nix
{""" + CLAN_BODY + "}\n" + SERVICE

FLAKE_PARTS = """#- /flake.nix
{
  inputs.clan-core.url = "git+https://example.invalid/clan-core";
  outputs = inputs@{ flake-parts, ... }:
    flake-parts.lib.mkFlake { inherit inputs; } {
      imports = [ inputs.clan-core.flakeModules.default ];
      clan = { imports = [ ./clan.nix ]; };
    };
}
#- /clan.nix
{""" + CLAN_BODY + "}\n" + SERVICE

FLAKE_PARTS_MODULES = """#- /flake.nix
{
  outputs = inputs@{ flake-parts, ... }:
    flake-parts.lib.mkFlake { inherit inputs; } ({ ... }: { imports = [ ./clan.nix ]; });
}
#- /clan.nix
{ inputs, ... }:
{
  clan = {""" + CLAN_BODY + "};\n}\n" + SERVICE


def test_lib_clan_imports_make_clan_nix_the_clan(tmp_path):
    found = fixture(tmp_path, LIB_CLAN)
    # the custom interface and the self module are seen; only the real typo is reported
    assert found.all_findings() == [("clan.nix", 9, "error[unknown-setting]")]
    assert found.analysis.index.complete


def test_flake_parts_clan_imports(tmp_path):
    found = fixture(tmp_path, FLAKE_PARTS)
    assert found.all_findings() == [("clan.nix", 9, "error[unknown-setting]")]


def test_flake_parts_module_imported_from_mkflake(tmp_path):
    found = fixture(tmp_path, FLAKE_PARTS_MODULES)
    assert found.all_findings() == [("clan.nix", 11, "error[unknown-setting]")]


def test_an_unknown_interface_is_an_error_in_a_complete_clan(tmp_path):
    found = fixture(tmp_path, LIB_CLAN.replace('"greeting" ]', '"greeting" "greting" ]'))
    assert ("services/greeter.nix", 7, "error[unknown-export-interface]") in found.all_findings()


MACHINES = """#- /flake.nix
{
  outputs = { self, clan-core, ... }: {
    clan = (clan-core.lib.clan {
      inherit self;
      machines.from-clan = { ... }: { };
      inventory.machines.declared = { };
      inventory.instances.x = {
        module.name = "greeter";
        module.input = "self";
        roles.default.machines.declared = { };
        roles.default.machines.from-clan = { };
        roles.default.machines.from-folder = { };
        roles.default.machines.from-json = { };
        roles.default.machines.nowhere = { };
      };
      modules.greeter = ./services/greeter.nix;
      exportInterfaces.greeting = { lib, ... }: { options.text = lib.mkOption { type = lib.types.str; }; };
    }).config;
  };
}
#- /machines/from-folder/configuration.nix
{ ... }: { }
#- /inventory.json
{ "machines": { "from-json": { "tags": [ "x" ] } } }
""" + SERVICE


def test_machines_clan_registers_without_inventory_machines(tmp_path):
    found = fixture(tmp_path, MACHINES)
    assert found.findings("flake.nix") == [(14, "warning[unknown-machine]")]


INVENTORY_IMPORT = """#- /flake.nix
{
  outputs = { self, clan-core, ... }: {
    clan = clan-core.lib.clan {
      inherit self;
      modules.greeter = ./services/greeter.nix;
      exportInterfaces.greeting = { lib, ... }: { options.text = lib.mkOption { type = lib.types.str; }; };
      inventory = import ./inventory.nix;
    };
  };
}
#- /inventory.nix
{
  machines.m1 = { };
  instances.hello = {
    module.name = "greeter";
    module.input = "self";
    roles.defualt.machines.m1 = { };
  };
}
""" + SERVICE


def test_inventory_import_findings_are_in_the_imported_file(tmp_path):
    found = fixture(tmp_path, INVENTORY_IMPORT)
    assert found.findings("flake.nix") == []
    assert found.findings("inventory.nix") == [(6, "error[unknown-role]")]
    finding = found.analysis.diagnostics(found.file("inventory.nix"))[0]
    assert found.snippet(finding.path, finding.start, finding.end) == "defualt"


def test_duplicate_attribute_in_a_clan_file(tmp_path):
    found = fixture(tmp_path, LIB_CLAN.replace('meta.name = "acme";', 'meta.name = "acme";\n  meta.name = "other";'))
    assert ("clan.nix", 3, "error[duplicate-attribute]") in found.all_findings()

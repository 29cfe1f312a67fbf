"""Copy clan-core's clan templates as a user would and add a custom service to each.

Used by tests/test_templates.py (with CLAN_LSP_CORPUS pointing at a clan-core checkout)
and by hand: `python tests/templates/add_service.py CLAN_CORE OUT_DIR`.
The service, interface and instance below are our own; the templates are copied verbatim.
"""

from __future__ import annotations

import os
import re
import shutil
import sys

SERVICE = """{ ... }:
{
  _class = "clan.service";
  manifest.name = "greeter";
  manifest.description = "Says hello";
  manifest.readme = "Says hello on every machine.";
  manifest.categories = [ "Utility" ];
  manifest.exports.out = [ "greeting" ];

  roles.default = {
    description = "A machine that greets";
    interface =
      { lib, ... }:
      {
        options.text = lib.mkOption {
          type = lib.types.str;
          default = "hello";
        };
      };
    perInstance =
      { settings, mkExports, ... }:
      {
        exports = mkExports { greeting.text = settings.text; };
        nixosModule = { };
      };
  };
}
"""

# Clan-level additions, written into the clan configuration of each template.
CLAN_ADDITIONS = """
  exportInterfaces.greeting =
    { lib, ... }:
    {
      options.text = lib.mkOption { type = lib.types.str; };
    };
  modules.greeter = ./services/greeter.nix;
  inventory.instances.greeter = {
    module.name = "greeter";
    module.input = "self";
    roles.default.machines.m1.settings.text = "hi";
  };
"""

# Where each template keeps its clan configuration: (file, text to insert after).
PLACES = {
    "default": ("clan.nix", "{\n"),
    "flake-parts": ("clan.nix", "{\n"),
    "flake-parts-minimal": ("clan.nix", "  clan = {\n"),
    "minimal": ("flake.nix", "      clan = clan-core.lib.clan {\n"),
}


def prepare(clan_core: str, out: str) -> list[str]:
    """The copied templates' folders, each with the service, a machine folder and an instance."""
    made = []
    for name, (file, anchor) in PLACES.items():
        source = os.path.join(clan_core, "templates", "clan", name)
        if not os.path.isdir(source):
            continue
        target = os.path.join(out, name)
        shutil.copytree(source, target)
        os.makedirs(os.path.join(target, "services"), exist_ok=True)
        with open(os.path.join(target, "services", "greeter.nix"), "w", encoding="utf-8") as handle:
            handle.write(SERVICE)
        os.makedirs(os.path.join(target, "machines", "m1"), exist_ok=True)
        with open(os.path.join(target, "machines", "m1", "configuration.nix"), "w", encoding="utf-8") as handle:
            handle.write("{ ... }: { }\n")
        path = os.path.join(target, file)
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        if anchor not in text:
            raise SystemExit(f"{name}: the template changed; {anchor!r} not found in {file}")
        text = text.replace(anchor, anchor + re.sub(r"^", "  " if anchor.startswith("  ") else "", CLAN_ADDITIONS, flags=re.M), 1)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        made.append(target)
    return made


if __name__ == "__main__":
    for folder in prepare(sys.argv[1], sys.argv[2]):
        print(folder)

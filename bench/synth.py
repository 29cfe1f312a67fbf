"""A synthetic clan of N services copied from clan-core, to measure how cost grows with size.

    python bench/synth.py CLAN_CORE OUT_DIR --services 100

The layout is clan-core's flake-parts template (templates/clan/flake-parts): `flake.nix`
calls flake-parts' mkFlake and imports `clan.nix`, a flake-parts module that sets `clan`.
`clan.nix` registers every service in `clan.modules` and has, per service, one inventory
instance and one machine using one of its roles. The services are clan-core's
clanServices (their `.nix` files and README), copied round-robin as `services/<name>-<n>/`.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

ROLE = re.compile(rb"\broles\s*(?:\.\s*\"?([A-Za-z_][\w-]*)\"?|=\s*\{\s*\"?([A-Za-z_][\w-]*)\"?)")
CLAN_FILE = "clan.nix"


def clan_core_services(clan_core: Path) -> list[tuple[str, Path, str]]:
    """(name, folder, a role) of each clan-core service whose default.nix names a role."""
    found = []
    for folder in sorted((clan_core / "clanServices").iterdir()):
        module = folder / "default.nix"
        if not module.is_file():
            continue
        match = ROLE.search(module.read_bytes())
        if match:
            found.append((folder.name, folder, (match.group(1) or match.group(2)).decode()))
    return found


def copy_service(folder: Path, target: Path) -> None:
    """The module's own files: .nix (not its flake-module or tests) and the README."""
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if path.is_dir() or relative.parts[0] == "tests" or path.name == "flake-module.nix":
            continue
        if path.suffix != ".nix" and path.name.lower() != "readme.md":
            continue
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / relative)


def generate(clan_core: Path, out: Path, count: int) -> Path:
    """Write the clan; returns the path of its clan file."""
    services = clan_core_services(clan_core)
    if not services:
        raise SystemExit(f"{clan_core}: no clanServices/*/default.nix with roles")
    if out.exists():
        shutil.rmtree(out)
    (out / "services").mkdir(parents=True)
    modules, instances, machines = [], [], []
    for number in range(count):
        name, folder, role = services[number % len(services)]
        registered = f"{name}-{number}"
        copy_service(folder, out / "services" / registered)
        machine = f"machine-{number}"
        modules.append(f'      "{registered}" = ./services/{registered};')
        machines.append(f'        {machine} = {{ tags = [ "all" ]; }};')
        instances.append(
            f'        "{registered}" = {{\n'
            f'          module.name = "{registered}";\n'
            f'          module.input = "self";\n'
            f"          roles.{role}.machines.{machine} = {{ }};\n"
            f"        }};"
        )
    (out / "flake.nix").write_text(
        "{\n"
        '  inputs.clan-core.url = "https://git.clan.lol/clan/clan-core/archive/main.tar.gz";\n'
        '  inputs.nixpkgs.follows = "clan-core/nixpkgs";\n'
        '  inputs.flake-parts.url = "github:hercules-ci/flake-parts";\n'
        "\n"
        "  outputs =\n"
        "    inputs@{ flake-parts, ... }:\n"
        "    flake-parts.lib.mkFlake { inherit inputs; } {\n"
        '      systems = [ "x86_64-linux" ];\n'
        "      imports = [\n"
        "        inputs.clan-core.flakeModules.default\n"
        f"        ./{CLAN_FILE}\n"
        "      ];\n"
        "    };\n"
        "}\n"
    )
    (out / CLAN_FILE).write_text(
        "{ ... }:\n"
        "{\n"
        "  clan = {\n"
        '    meta.name = "synthetic";\n'
        "\n"
        "    modules = {\n" + "\n".join(modules) + "\n    };\n"
        "\n"
        "    inventory = {\n"
        "      machines = {\n" + "\n".join(machines) + "\n      };\n"
        "\n"
        "      instances = {\n" + "\n".join(instances) + "\n      };\n"
        "    };\n"
        "  };\n"
        "}\n"
    )
    return out / CLAN_FILE


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clan_core", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--services", type=int, default=100)
    options = parser.parse_args()
    print(generate(options.clan_core, options.out, options.services))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Record clan's own verdict on every fixture (a developer tool, not run in CI).

Evaluates each fixture with clan-core's code through the oracle expression that
the project's steering folder provides (service.nix), and writes
tests/fixtures/oracle-verdicts.json. The fixture tests then require each
fixture's expectations to agree with clan: a fixture expecting an error must be
one clan rejects, and one expecting none must be one clan accepts.

A fixture whose first lines say `# oracle: force-nixos` is evaluated as part of a
one-machine clan through workspace.nix with forceNixos, so that the machine's
nixosModule is forced too (service.nix never builds a machine).

Usage:
  python tests/oracle/record_verdicts.py --oracle-dir ../shared/oracle \
      --clan-core /path/to/clan-core --nixpkgs-lib /path/to/nixpkgs.lib/lib
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from clan_lsp.model import AttrSet, find_services, load_source

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
WORKSPACES = Path(__file__).resolve().parent.parent / "workspaces"
VERDICTS = FIXTURES / "oracle-verdicts.json"


def instances_for(path: Path) -> tuple[str, str | None]:
    """An instance using every role the fixture defines, and importApply arguments."""
    source = load_source(path.read_bytes(), str(path))
    modules, _ = find_services(source)
    roles: list[str] = []
    apply_to = None
    for module in modules:
        for part in module.parts():
            value = part.effective().get("roles")
            if isinstance(value, AttrSet):
                roles += [r for r in value.names() if r not in roles]
        if module.wrappers:
            names = [f.name for f in module.wrappers[0].formals or []]
            apply_to = "{ " + " ".join(f"{n} = {{ }};" for n in names) + " }"
    if not roles:
        return "{ i1.roles = { }; }", apply_to
    members = " ".join(f"{r}.machines.m1 = {{ }};" for r in roles)
    return "{ i1.roles = { " + members + " }; }", apply_to


def verdict(path: Path, oracle_dir: str, clan_core: str, nixpkgs_lib: str) -> dict:
    instances, apply_to = instances_for(path)
    common = ["--arg", "libPath", nixpkgs_lib, "--arg", "clanCore", clan_core, "--arg", "directory", str(path.parent)]
    if "# oracle: force-nixos" in path.read_text():
        scratch = Path(tempfile.mkdtemp())
        clan = scratch / "clan.nix"
        machines = "m1 = { };"
        clan.write_text(
            f"{{ modules.svc = {path}; inventory = {{ machines = {{ {machines} }}; "
            f"instances.i1 = {{ module = {{ name = \"svc\"; input = \"self\"; }}; }} // {instances}.i1; }}; }}\n"
        )
        command = [
            "nix-instantiate", "--eval", "--strict", "--json", f"{oracle_dir}/workspace.nix", *common,
            "--arg", "clanFile", str(clan), "--arg", "clanAttrPath", "[ ]", "--arg", "forceNixos", "true",
        ]
    else:
        command = [
            "nix-instantiate", "--eval", "--strict", "--json", f"{oracle_dir}/service.nix", *common,
            "--arg", "service", str(path), "--arg", "instances", instances,
        ]
    if apply_to:
        command += ["--arg", "applyTo", apply_to]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    accepted = run.returncode == 0
    message = ""
    if not accepted:
        lines = [l.strip() for l in run.stderr.splitlines() if l.strip().startswith("error:") or "error:" in l]
        message = (lines[-1] if lines else run.stderr.strip().splitlines()[-1:] or [""])
        message = message if isinstance(message, str) else message[0]
    return {"accepted": accepted, "instances": instances, "clan_says": message[:400]}


def workspace_verdict(folder: Path, oracle_dir: str, clan_core: str, nixpkgs_lib: str) -> dict:
    """A whole fixture clan: flake-parts/default.nix holds `flake.clan`; machines are built."""
    command = [
        "nix-instantiate", "--eval", "--strict", "--json", f"{oracle_dir}/workspace.nix",
        "--arg", "libPath", nixpkgs_lib, "--arg", "clanCore", clan_core, "--arg", "directory", str(folder),
        "--arg", "clanFile", str(folder / "flake-parts/default.nix"), "--arg", "clanAttrPath", '[ "flake" "clan" ]',
        "--arg", "forceNixos", "true",
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    lines = [l.strip() for l in run.stderr.splitlines() if "error:" in l]
    return {"accepted": run.returncode == 0, "clan_says": (lines[-1] if lines else "")[:400]}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--oracle-dir", required=True)
    parser.add_argument("--clan-core", required=True)
    parser.add_argument("--nixpkgs-lib", required=True)
    options = parser.parse_args()
    results = {}
    for path in sorted(FIXTURES.rglob("*.nix")):
        key = str(path.relative_to(FIXTURES))
        results[key] = verdict(path, options.oracle_dir, options.clan_core, options.nixpkgs_lib)
        print(("accepts " if results[key]["accepted"] else "REJECTS ") + key, results[key]["clan_says"][:150], file=sys.stderr)
    sys.path.insert(0, str(FIXTURES.parent))
    from workspace_variants import materialize, names

    built = Path(tempfile.mkdtemp(prefix="clan-lsp-clans-"))
    for name in names():
        folder = materialize(name, built)
        key = f"workspaces/{name}"
        results[key] = workspace_verdict(folder, options.oracle_dir, options.clan_core, options.nixpkgs_lib)
        print(("accepts " if results[key]["accepted"] else "REJECTS ") + key, results[key]["clan_says"][:150], file=sys.stderr)
    VERDICTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

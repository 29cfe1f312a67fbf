"""Record what clan's own evaluator says of each graph fixture clan (a developer tool, not run in CI).

For each variant it evaluates the clan with the oracle's workspace.nix (machines built, so every
consumer's nixosModule is forced) and writes oracle.json beside this file:
- accepted, and clan's first error line when not;
- exports: each scope key clan creates, with the interfaces it sets (non-null);
- received: for each consumer `<service>@<machine>`, the scope keys its selectExports returned
  (the fixture services write them into environment.etc, so clan itself reports them).

Usage: python tests/workspaces/graph/record_oracle.py --oracle-dir ../shared/oracle \
           --clan-core /path/to/clan-core --nixpkgs-lib /path/to/nixpkgs.lib/lib
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from variants import materialize, names  # noqa: E402

# which etc file holds what each consumer received, and how to read the scope keys from it
RECEIVED = {"mesh-peers": lambda value: sorted(item.split("=")[0] for item in value), "registries": lambda value: sorted(value["keys"])}


def evaluate(folder: Path, oracle_dir: str, clan_core: str, nixpkgs_lib: str) -> dict:
    command = [
        "nix-instantiate", "--eval", "--strict", "--json", str(Path(oracle_dir) / "workspace.nix"),
        "--arg", "libPath", nixpkgs_lib, "--arg", "clanCore", clan_core, "--arg", "directory", str(folder),
        "--arg", "clanFile", str(folder / "flake-parts/default.nix"), "--arg", "clanAttrPath", '[ "flake" "clan" ]',
        "--arg", "forceNixos", "true",
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip().startswith("error:")]
        return {"accepted": False, "clan_says": lines[-1] if lines else done.stderr.strip()[-300:]}
    data = json.loads(done.stdout)
    exports = {key: sorted(i for i, v in value.items() if v is not None) for key, value in data["exports"].items()}
    received = {}
    for service in data["services"].values():
        for machine, built in service["machines"].items():
            etc = ((built.get("forcedNixosModules") or {}).get("environment") or {}).get("etc") or {}
            for name, read in RECEIVED.items():
                if name in etc:
                    received[f"{service['manifest']['name']}@{machine}"] = read(json.loads(etc[name]["text"]))
    return {"accepted": True, "exports": exports, "received": received}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--oracle-dir", required=True)
    parser.add_argument("--clan-core", required=True)
    parser.add_argument("--nixpkgs-lib", required=True)
    options = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name in names():
            folder = materialize(name, Path(scratch))
            results[name] = evaluate(folder, options.oracle_dir, options.clan_core, options.nixpkgs_lib)
            print(name, "accepted" if results[name]["accepted"] else results[name]["clan_says"], file=sys.stderr)
    (HERE / "oracle.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

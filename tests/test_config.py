"""clan-lsp.toml / [tool.clan-lsp] and inline suppressions: the pure filter, the CLI and the server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clan_lsp.checks import ERROR, WARNING, Finding
from clan_lsp.config import (
    DEFAULT,
    ConfigError,
    apply_config,
    find_config,
    known_codes,
    parse_config,
    registry,
    suppressions,
)

ROOT = Path(__file__).resolve().parent.parent
MODULE = """{ pkgs, ... }:
{
  _class = "clan.service";
  manifest.name = "demo";
  manifest.readme = "Demo.";
  roles.default = {
    description = "The role.";
    perInstance = { instanceName }: { };
  };
}
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "clan_lsp", "check", "--format", "json", *args],
        cwd=cwd, capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def found(result: subprocess.CompletedProcess) -> list[tuple[str, str, int]]:
    return sorted((f["path"], f["code"], f["line"]) for f in json.loads(result.stdout)["findings"])


@pytest.fixture
def clan(tmp_path: Path) -> Path:
    (tmp_path / "flake.nix").write_text("{ outputs = _: { }; }\n")
    (tmp_path / ".git").mkdir()  # the repository root: the search for a configuration stops here
    for folder in ("modules", "legacy"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "demo.nix").write_text(MODULE.replace('"demo"', f'"{folder}"'))
    return tmp_path


# -- the pure parts


def finding(code: str, line: int, text: bytes, severity: str = ERROR, path: str = "x.nix") -> Finding:
    starts = [0] + [i + 1 for i, b in enumerate(text) if b == ord("\n")]
    return Finding(code, severity, starts[line], starts[line] + 1, "m", path)


def test_parse_config_reads_every_key() -> None:
    config = parse_config(
        {
            "select": ["missing-ellipsis", "module-argument"],
            "ignore": ["missing-readme"],
            "exclude": ["vendor/**"],
            "per-file-ignores": {"machines/*.nix": ["unknown-machine"]},
            "severity": {"module-argument": "error"},
            "clan-date": "2026-01-15",
        },
        root="/clan",
    )
    assert config.select == {"missing-ellipsis", "module-argument"}
    assert config.ignore == {"missing-readme"}
    assert config.ignored_for("/clan/machines/a.nix") == {"missing-readme", "unknown-machine"}
    assert config.ignored_for("/clan/modules/a.nix") == {"missing-readme"}
    assert config.excludes("/clan/vendor/x/y.nix") and not config.excludes("/clan/modules/y.nix")
    assert config.clan_date == "2026-01-15"
    assert config.warnings == ()


@pytest.mark.parametrize(
    "data",
    [{"select": 3}, {"ignore": [1]}, {"severity": {"a": "fatal"}}, {"clan-date": "yesterday"}, {"exclude": [1]}, {"per-file-ignores": ["a"]}],
)
def test_parse_config_rejects_values_of_the_wrong_kind(data: dict) -> None:
    with pytest.raises(ConfigError):
        parse_config(data)


def test_unknown_keys_and_codes_are_warnings() -> None:
    config = parse_config({"ignroe": ["x"], "ignore": ["no-such-code", "missing-readme"]})
    assert any("ignroe" in w for w in config.warnings)
    assert any("no-such-code" in w for w in config.warnings)
    assert not any("missing-readme" in w for w in config.warnings)


def test_every_code_in_the_readme_is_known() -> None:
    """The rules table of the README and the registry name the same codes."""
    import re

    readme = (ROOT / "README.md").read_text()
    table = set(re.findall(r"^\| `([a-z-]+)` \|", readme, re.M))
    assert table <= known_codes() and len(table) >= 30
    assert {"syntax-error", "removed-option"} <= table
    # the filter's own code is documented beside the table (it comes from no rule)
    assert known_codes() - table - {"file-too-large"} == {"unused-suppression"}
    assert "`unused-suppression` (warning)" in readme
    assert all(rule.summary for rule in registry())


def test_exclude_globs() -> None:
    config = parse_config({"exclude": ["legacy", "*.generated.nix", "**/tests/*"]}, root="/clan")
    assert config.excludes("/clan/legacy/a/b.nix")
    assert config.excludes("/clan/x/y.generated.nix")
    assert config.excludes("/clan/tests/t.nix") and config.excludes("/clan/a/tests/t.nix")
    assert not config.excludes("/clan/modules/legacy.nix")
    assert not config.excludes("/elsewhere/legacy/a.nix")  # outside the root: not ours to exclude


def test_select_ignore_and_severity_overrides() -> None:
    text = b"a\nb\nc\n"
    findings = [finding("missing-ellipsis", 0, text), finding("module-argument", 1, text, WARNING), finding("missing-readme", 2, text, WARNING)]
    selected = apply_config(findings, "x.nix", text, parse_config({"select": ["missing-ellipsis", "module-argument"]}))
    assert [f.code for f in selected] == ["missing-ellipsis", "module-argument"]
    ignored = apply_config(findings, "x.nix", text, parse_config({"ignore": ["missing-ellipsis"]}))
    assert [f.code for f in ignored] == ["module-argument", "missing-readme"]
    raised = apply_config(findings, "x.nix", text, parse_config({"severity": {"module-argument": "error", "missing-ellipsis": "info"}}))
    assert {f.code: f.severity for f in raised} == {"missing-ellipsis": "information", "module-argument": "error", "missing-readme": "warning"}
    assert findings[1].severity == WARNING  # the findings themselves are not changed
    other = [finding("missing-ellipsis", 0, text, path="other.nix")]
    assert apply_config(other, "x.nix", text, parse_config({"ignore": ["missing-ellipsis"]})) == other


def test_inline_suppressions_on_the_line_and_the_line_above() -> None:
    text = b"a # clan-lsp: ignore[missing-ellipsis]\n# clan-lsp: ignore[module-argument, missing-readme]\nb\nc\n"
    findings = [finding("missing-ellipsis", 0, text), finding("module-argument", 2, text), finding("missing-readme", 3, text)]
    kept = apply_config(findings, "x.nix", text)
    # line 3 (c) is two lines below the second comment: not covered; its `missing-readme`
    # part suppressed nothing, so that part is reported
    assert [(f.code, f.severity) for f in kept] == [("unused-suppression", WARNING), ("missing-readme", ERROR)]
    assert "`missing-readme`" in kept[0].message
    assert text[kept[0].start : kept[0].end].startswith(b"# clan-lsp: ignore[module-argument")


def test_a_bare_suppression_suppresses_every_code_and_is_unused_alone() -> None:
    text = b"# clan-lsp: ignore\nb\n\n# clan-lsp: ignore\n"
    kept = apply_config([finding("missing-ellipsis", 1, text), finding("wrong-type", 1, text)], "x.nix", text)
    assert [f.code for f in kept] == ["unused-suppression"]
    assert text.index(b"# clan-lsp: ignore\n", 1) == kept[0].start


def test_suppression_syntax() -> None:
    text = b"#clan-lsp:ignore[a]\n# clan-lsp: ignored\n# clan-lsp: ignore-all\n#  clan-lsp:  ignore[ b ,c ]\n"
    found = suppressions(text)
    assert [(s.line, s.codes) for s in found] == [(0, {"a"}), (3, {"b", "c"})]


def test_a_suppression_that_matches_an_ignored_code_counts_as_used() -> None:
    text = b"# clan-lsp: ignore[missing-readme]\nb\n"
    kept = apply_config([finding("missing-readme", 1, text)], "x.nix", text, parse_config({"ignore": ["missing-readme"]}))
    assert kept == []
    no_unused = parse_config({"ignore": ["unused-suppression"]})
    assert apply_config([], "x.nix", text, no_unused) == []


def test_suppressions_count_lines_like_lsp(tmp_path: Path) -> None:
    text = b"a\rb # clan-lsp: ignore[wrong-type]\rc\r"
    kept = apply_config([finding("wrong-type", 0, text.replace(b"\r", b"\n"))], "x.nix", text)
    assert [f.code for f in kept] == ["wrong-type", "unused-suppression"]  # the comment is on line 2, the finding on 1


def test_find_config_walks_up_to_the_repository_root(clan: Path) -> None:
    assert find_config(str(clan / "modules" / "demo.nix")) is DEFAULT
    (clan / "pyproject.toml").write_text('[project]\nname = "x"\n')  # no [tool.clan-lsp]: not a configuration
    assert find_config(str(clan / "modules" / "demo.nix")) is DEFAULT
    (clan / "pyproject.toml").write_text('[tool.clan-lsp]\nignore = ["missing-readme"]\n')
    config = find_config(str(clan / "modules" / "demo.nix"))
    assert config.ignore == {"missing-readme"} and config.root == str(clan)
    (clan / "modules" / "clan-lsp.toml").write_text('ignore = ["wrong-type"]\n')
    assert find_config(str(clan / "modules" / "demo.nix")).ignore == {"wrong-type"}  # the nearest wins
    (clan / "modules" / "clan-lsp.toml").write_text("ignore = [\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        find_config(str(clan / "modules" / "demo.nix"))


# -- the command line


def test_cli_applies_the_configuration(clan: Path) -> None:
    before = found(run("modules", "legacy", cwd=clan))
    assert ("legacy/demo.nix", "missing-ellipsis", 8) in before
    (clan / "clan-lsp.toml").write_text(
        'exclude = ["legacy"]\n'
        '[per-file-ignores]\n"modules/*.nix" = ["missing-ellipsis"]\n'
        "[severity]\nmodule-argument = \"error\"\n"
    )
    result = run("modules", "legacy", cwd=clan)
    after = json.loads(result.stdout)["findings"]
    assert [(f["path"], f["code"], f["severity"]) for f in after] == [("modules/demo.nix", "module-argument", "error")]
    assert json.loads(result.stdout)["files"] == 1
    assert result.returncode == 1  # the warning is an error now


def test_cli_select_from_pyproject(clan: Path) -> None:
    (clan / "pyproject.toml").write_text('[tool.clan-lsp]\nselect = ["module-argument"]\n')
    result = run("modules/demo.nix", cwd=clan)
    assert found(result) == [("modules/demo.nix", "module-argument", 1)]
    assert result.returncode == 0


def test_cli_inline_suppression_and_unused_suppression(clan: Path) -> None:
    text = MODULE.replace("perInstance =", "# clan-lsp: ignore[missing-ellipsis]\n    perInstance =")
    text = text.replace("{ pkgs, ... }:", "{ pkgs, ... }: # clan-lsp: ignore[wrong-type]")
    (clan / "modules" / "demo.nix").write_text(text)
    result = run("modules/demo.nix", cwd=clan)
    assert found(result) == [("modules/demo.nix", "module-argument", 1), ("modules/demo.nix", "unused-suppression", 1)]
    assert result.returncode == 0  # a warning


def test_cli_reports_a_broken_configuration_as_a_usage_error(clan: Path) -> None:
    (clan / "clan-lsp.toml").write_text('severity = { module-argument = "fatal" }\n')
    result = run("modules", cwd=clan)
    assert result.returncode == 2 and "clan-lsp.toml" in result.stderr and "Traceback" not in result.stderr
    (clan / "clan-lsp.toml").write_text('ignore = ["no-such-code"]\n')
    warned = run("modules", cwd=clan)
    assert warned.returncode == 1 and "unknown code `no-such-code`" in warned.stderr


def test_cli_clan_date_from_the_configuration(tmp_path: Path) -> None:
    module = tmp_path / "s.nix"
    module.write_text(
        '{ clanLib, ... }: { _class = "clan.service"; manifest.name = "a"; manifest.readme = "r"; roles.x.description = "d"; '
        'manifest.description = builtins.toJSON (clanLib.selectExports { serviceName = "a"; } { }); }'
    )
    (tmp_path / ".git").mkdir()
    assert "select-exports" in [c for _, c, _ in found(run(str(module), cwd=tmp_path))]
    (tmp_path / "clan-lsp.toml").write_text('clan-date = "2025-11-15"\n')  # when the attrset form was allowed
    assert "select-exports" not in [c for _, c, _ in found(run(str(module), cwd=tmp_path))]
    # the command line wins over the file
    assert "select-exports" in [c for _, c, _ in found(run("--clan-date", "2026-06-01", str(module), cwd=tmp_path))]


# -- the server


def test_the_server_applies_the_same_configuration(clan: Path) -> None:
    from clan_lsp.server import ClanLanguageServer

    (clan / "clan-lsp.toml").write_text('ignore = ["module-argument"]\n[severity]\nmissing-ellipsis = "warning"\n')
    server = ClanLanguageServer()
    path = clan / "modules" / "demo.nix"
    text = MODULE.replace("{ pkgs, ... }:", "{ pkgs, ... }: # clan-lsp: ignore[wrong-type]")
    document = server.open(path.as_uri(), text, 1)
    diagnostics = server.diagnostics(document)
    assert sorted((d.code, d.severity.name) for d in diagnostics) == [("missing-ellipsis", "Warning"), ("unused-suppression", "Warning")]


def test_find_config_cache_saves_the_walk_and_agrees(clan: Path) -> None:
    (clan / "clan-lsp.toml").write_text('ignore = ["missing-readme"]\n')
    cache: dict = {}
    first = find_config(str(clan / "modules" / "demo.nix"), cache)
    assert cache == {str(clan / "modules"): str(clan / "clan-lsp.toml"), str(clan): str(clan / "clan-lsp.toml")}
    assert find_config(str(clan / "legacy" / "demo.nix"), cache) == first == find_config(str(clan / "legacy" / "demo.nix"))


def test_the_server_sees_a_configuration_written_later(clan: Path, monkeypatch) -> None:
    """The server keeps each file's configuration for a second (a keystroke would stat every
    folder up to the repository root): a file written later is seen once files are reported
    changed, or once the second has passed."""
    from clan_lsp import config as config_module
    from lsprotocol import types as lsp

    from clan_lsp.server import ClanLanguageServer, did_change_watched_files

    server = ClanLanguageServer()
    path = clan / "modules" / "demo.nix"
    document = server.open(path.as_uri(), MODULE, 1)
    before = {d.code for d in server.diagnostics(document)}
    assert "missing-ellipsis" in before
    (clan / "clan-lsp.toml").write_text('ignore = ["missing-ellipsis"]\n')
    assert {d.code for d in server.diagnostics(document)} == before  # kept for a second
    did_change_watched_files(server, lsp.DidChangeWatchedFilesParams(changes=[]))
    assert {d.code for d in server.diagnostics(document)} == before - {"missing-ellipsis"}
    (clan / "clan-lsp.toml").write_text('ignore = ["module-argument"]\n')
    monkeypatch.setattr(config_module, "RECHECK_SECONDS", 0.0)  # the second has passed
    assert "missing-ellipsis" in {d.code for d in server.diagnostics(document)}

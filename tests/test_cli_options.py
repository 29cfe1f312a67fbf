"""`clan-lsp check` as people use it in CI and pre-commit, run as a subprocess as users run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# One error with a safe fix (a removed option), one with a safe fix (missing `...`) and one
# warning without a fix (the module function asks for `pkgs`).
MODULE = """{ pkgs, ... }:
{
  _class = "clan.service";
  manifest.name = "demo";
  manifest.readme = "Demo.";
  manifest.features.API = true;
  roles.default = {
    description = "The role.";
    perInstance = { instanceName }: { };
  };
}
"""
CLEAN = '{\n  _class = "clan.service";\n  manifest.name = "ok";\n  manifest.readme = "Fine.";\n  roles.default.description = "d";\n}\n'
WARNING_ONLY = CLEAN.replace("{\n  _class", "{ pkgs, ... }:\n{\n  _class", 1)


def run(*args: str, cwd: Path = ROOT, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    environment.pop("NO_COLOR", None)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "clan_lsp", *args], cwd=cwd, input=stdin, capture_output=True, text=True, timeout=60, env=environment
    )


@pytest.fixture
def clan(tmp_path: Path) -> Path:
    """A clan folder (flake.nix marks its root) holding one broken service module."""
    (tmp_path / "flake.nix").write_text("{ outputs = _: { }; }\n")
    (tmp_path / "modules").mkdir()
    (tmp_path / "modules" / "demo.nix").write_text(MODULE)
    return tmp_path


def codes(result: subprocess.CompletedProcess) -> list[str]:
    return [f["code"] for f in json.loads(result.stdout)["findings"]]


# -- the command line


def test_help_shows_the_check_subcommand_and_version() -> None:
    top = run("--help")
    assert top.returncode == 0 and "check" in top.stdout
    sub = run("check", "--help")
    assert sub.returncode == 0
    for option in ("--format", "--stdin-filename", "--fix", "--diff", "--fail-on", "--exit-zero", "--statistics", "--output-file"):
        assert option in sub.stdout
    version = run("--version")
    assert version.returncode == 0
    assert version.stdout.strip() == "clan-lsp " + tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def test_usage_errors_exit_2() -> None:
    assert run("check", "--format", "nope", "examples").returncode == 2
    assert run("check", "--no-such-option", "examples").returncode == 2
    assert run("check").returncode == 2


# -- exit codes


def test_exit_codes_follow_the_failing_severity(tmp_path: Path) -> None:
    warned = tmp_path / "w.nix"
    warned.write_text(WARNING_ONLY)
    assert run("check", str(warned)).returncode == 0  # a warning does not fail by default
    assert run("check", "--error-on-warning", str(warned)).returncode == 1
    assert run("check", "--fail-on", "warning", str(warned)).returncode == 1
    assert run("check", "--fail-on", "information", str(warned)).returncode == 1
    broken = tmp_path / "b.nix"
    broken.write_text(MODULE)
    assert run("check", str(broken)).returncode == 1
    exit_zero = run("check", "--exit-zero", str(broken))
    assert exit_zero.returncode == 0 and "missing-ellipsis" in exit_zero.stdout
    clean = tmp_path / "c.nix"
    clean.write_text(CLEAN)
    assert run("check", "--error-on-warning", str(clean)).returncode == 0


def test_an_internal_error_has_its_own_exit_code_and_a_traceback(tmp_path: Path) -> None:
    """A crash is not "findings": exit 101, a short line, and the traceback on stderr."""
    target = tmp_path / "c.nix"
    target.write_text(CLEAN)
    program = (
        "import sys, clan_lsp.analysis as analysis\n"
        "def broken(*args, **kwargs): raise RuntimeError('boom')\n"
        "analysis.Analysis.diagnostics = broken  # the check's one call into the analysis\n"
        "from clan_lsp.cli import main\n"
        f"sys.exit(main(['check', {str(target)!r}]))\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 101
    assert "Traceback" in result.stderr and "RuntimeError: boom" in result.stderr
    assert "internal error" in result.stderr.splitlines()[-1]
    assert result.stdout == ""


# -- stdin


def test_stdin_with_a_filename(clan: Path) -> None:
    name = "modules/typed.nix"
    result = run("check", "--format", "json", "--stdin-filename", name, "-", cwd=clan, stdin=MODULE)
    assert result.returncode == 1
    found = json.loads(result.stdout)["findings"]
    assert {f["path"] for f in found} == {name}
    assert "missing-ellipsis" in [f["code"] for f in found]
    assert not (clan / name).exists()  # nothing is written
    alone = run("check", "--stdin-filename", name, cwd=clan, stdin=CLEAN)  # `-` is implied
    assert alone.returncode == 0, alone.stdout + alone.stderr


def test_stdin_finds_the_configuration_of_its_path(clan: Path) -> None:
    (clan / "clan-lsp.toml").write_text('ignore = ["missing-ellipsis"]\n')
    result = run("check", "--format", "json", "--stdin-filename", "modules/x.nix", "-", cwd=clan, stdin=MODULE)
    assert "missing-ellipsis" not in codes(result) and "removed-option" in codes(result)


def test_stdin_that_is_not_utf8_exits_2(clan: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "clan_lsp", "check", "--stdin-filename", "x.nix", "-"],
        input=b'{ x = "\xff"; }', capture_output=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 2 and b"not valid UTF-8" in result.stderr


# -- output formats


def test_text_output_has_no_colour_off_a_terminal_and_colour_when_asked(clan: Path) -> None:
    plain = run("check", "modules/demo.nix", cwd=clan)
    assert "\x1b[" not in plain.stdout
    assert plain.stdout.splitlines()[0].startswith("modules/demo.nix:1:3: warning[module-argument] ")
    coloured = run("check", "--color", "always", "modules/demo.nix", cwd=clan)
    assert "\x1b[1;31merror\x1b[0m" in coloured.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_colour_on_a_terminal_unless_no_color(clan: Path) -> None:
    import pty

    def on_terminal(extra_env: dict) -> bytes:
        leader, follower = pty.openpty()
        environment = {**os.environ, "PYTHONPATH": str(ROOT), **extra_env}
        if "NO_COLOR" not in extra_env:
            environment.pop("NO_COLOR", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "clan_lsp", "check", "modules/demo.nix"], cwd=clan, stdout=follower, stderr=subprocess.DEVNULL, env=environment
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=60)
        os.close(leader)
        return b"".join(chunks)

    assert b"\x1b[" in on_terminal({})
    assert b"\x1b[" not in on_terminal({"NO_COLOR": "1"})


def test_full_output_shows_the_source_line_and_a_caret(clan: Path) -> None:
    result = run("check", "--format", "full", "modules/demo.nix", cwd=clan)
    lines = result.stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if "[missing-ellipsis]" in line)
    bar = next(i for i in range(head + 1, len(lines)) if lines[i].strip() == "|")  # after clan's words
    source, caret = lines[bar + 1], lines[bar + 2]
    assert source == "9 |     perInstance = { instanceName }: { };"
    # the caret sits under the argument set: `{ instanceName }`
    start = caret.index("^")
    assert source[start:].startswith("{ instanceName }")
    assert caret.count("^") == len("{ instanceName }")


def test_quiet_prints_the_findings_but_no_summary(clan: Path) -> None:
    loud = run("check", "modules/demo.nix", cwd=clan)
    assert "files checked" in loud.stderr
    quiet = run("check", "--quiet", "modules/demo.nix", cwd=clan)
    assert quiet.stdout == loud.stdout and "files checked" not in quiet.stderr
    assert quiet.returncode == 1


def test_statistics_count_findings_per_code(clan: Path) -> None:
    (clan / "modules" / "again.nix").write_text(MODULE.replace('"demo"', '"again"'))
    result = run("check", "--statistics", "modules", cwd=clan)
    rows = {line.split()[1]: int(line.split()[0]) for line in result.stdout.splitlines()}
    assert rows == {"missing-ellipsis": 2, "removed-option": 2, "module-argument": 2}
    assert "A function clan calls without `...`" in result.stdout  # the rule's summary
    assert result.returncode == 1


def test_json_output(clan: Path) -> None:
    result = run("check", "--format", "json", "modules/demo.nix", cwd=clan)
    data = json.loads(result.stdout)
    assert data["files"] == 1
    by_code = {f["code"]: f for f in data["findings"]}
    assert by_code["missing-ellipsis"]["fixable"] is True and by_code["module-argument"]["fixable"] is False
    assert (by_code["missing-ellipsis"]["line"], by_code["missing-ellipsis"]["column"]) == (9, 19)


def test_github_annotations(clan: Path) -> None:
    result = run("check", "--format", "github", "modules/demo.nix", cwd=clan)
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    ellipsis = next(line for line in lines if "(missing-ellipsis)" in line)
    assert ellipsis.startswith("::error file=modules/demo.nix,line=9,col=19,endLine=9,endColumn=35,title=clan-lsp (missing-ellipsis)::")
    assert "`...`" in ellipsis and "\n" not in ellipsis
    assert "%0A" in ellipsis  # clan's own words follow on an escaped new line
    assert any(line.startswith("::warning file=modules/demo.nix,line=1,") for line in lines)


def test_github_annotations_escape_newlines_and_commas(tmp_path: Path) -> None:
    from clan_lsp.cli import _escape_data, _escape_property

    assert _escape_data("a\nb%c") == "a%0Ab%25c"
    assert _escape_property("x,y:z") == "x%2Cy%3Az"


def test_sarif_output(clan: Path) -> None:
    result = run("check", "--format", "sarif", "modules/demo.nix", cwd=clan)
    assert result.returncode == 1
    sarif = json.loads(result.stdout)
    assert sarif["version"] == "2.1.0"
    (sarif_run,) = sarif["runs"]
    rules = sarif_run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids))
    from clan_lsp.config import registry

    assert set(ids) >= {r.code for r in registry()}
    by_id = {r["id"]: r for r in rules}
    assert by_id["missing-ellipsis"]["shortDescription"]["text"] == next(r.summary for r in registry() if r.code == "missing-ellipsis")
    results = sarif_run["results"]
    assert {r["ruleId"] for r in results} == {"missing-ellipsis", "removed-option", "module-argument"}
    for item in results:
        assert ids[item["ruleIndex"]] == item["ruleId"]
        location = item["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "modules/demo.nix"
        assert location["region"]["startLine"] >= 1
    levels = {r["ruleId"]: r["level"] for r in results}
    assert levels == {"missing-ellipsis": "error", "removed-option": "error", "module-argument": "warning"}


def test_output_file(clan: Path) -> None:
    target = clan / "report.json"
    result = run("check", "--format", "json", "--output-file", str(target), "modules/demo.nix", cwd=clan)
    assert result.returncode == 1 and result.stdout == ""
    assert "missing-ellipsis" in [f["code"] for f in json.loads(target.read_text())["findings"]]
    text_file = clan / "report.txt"
    run("check", "--color", "always", "-o", str(text_file), "modules/demo.nix", cwd=clan)
    assert "\x1b[" not in text_file.read_text() and "[missing-ellipsis]" in text_file.read_text()
    unwritable = run("check", "-o", str(clan / "no" / "such" / "dir" / "r.txt"), "modules/demo.nix", cwd=clan)
    assert unwritable.returncode == 2 and "cannot write" in unwritable.stderr


# -- fixes


def test_diff_shows_the_safe_fixes_without_writing(clan: Path) -> None:
    result = run("check", "--diff", "modules/demo.nix", cwd=clan)
    assert result.returncode == 1
    assert (clan / "modules" / "demo.nix").read_text() == MODULE
    assert result.stdout.startswith("--- a/modules/demo.nix\n+++ b/modules/demo.nix\n")
    removed = [line for line in result.stdout.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line for line in result.stdout.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert removed == ["-  manifest.features.API = true;", "-    perInstance = { instanceName }: { };"]
    assert added == ["+    perInstance = { instanceName, ... }: { };"]
    clean = clan / "clean.nix"
    clean.write_text(CLEAN)
    nothing = run("check", "--diff", "clean.nix", cwd=clan)
    assert nothing.returncode == 0 and nothing.stdout == ""


def test_fix_writes_the_safe_fixes_and_reports_what_is_left(clan: Path) -> None:
    result = run("check", "--fix", "modules/demo.nix", cwd=clan)
    fixed = (clan / "modules" / "demo.nix").read_text()
    assert "features" not in fixed and "{ instanceName, ... }" in fixed
    assert "{ pkgs, ... }" in fixed  # the warning has no safe fix
    assert result.returncode == 0  # only the warning is left
    assert "[module-argument]" in result.stdout and "[missing-ellipsis]" not in result.stdout
    assert "2 fixed" in result.stderr
    again = run("check", "--fix", "modules/demo.nix", cwd=clan)
    assert (clan / "modules" / "demo.nix").read_text() == fixed and "0 fixed" in again.stderr


def test_unsafe_fixes_stay_in_the_editor(tmp_path: Path) -> None:
    typo = tmp_path / "t.nix"
    text = CLEAN.replace('roles.default.description = "d";', 'roles.default.description = "d";\n  manifest.categories = [ "Networking" ];')
    typo.write_text(text)
    result = run("check", "--fix", str(typo))
    assert typo.read_text() == text  # "did you mean `Network`" is a guess: not applied
    assert result.returncode == 1 and "[unknown-category]" in result.stdout


def test_fix_from_stdin_prints_the_fixed_text(clan: Path) -> None:
    result = run("check", "--fix", "--stdin-filename", "modules/x.nix", "-", cwd=clan, stdin=MODULE)
    assert "{ instanceName, ... }" in result.stdout and "features" not in result.stdout
    assert "[module-argument]" in result.stderr  # what is left goes to stderr
    assert not (clan / "modules" / "x.nix").exists()


def test_overlapping_fixes_take_several_rounds() -> None:
    from clan_lsp.checks import Edit, Fix
    from clan_lsp.cli import apply_fixes

    text = b"0123456789"
    first = Fix("a", (Edit(2, 5, "X"),), safe=True)
    overlapping = Fix("b", (Edit(4, 6, "Y"),), safe=True)
    apart = Fix("c", (Edit(8, 9, "Z"),), safe=True)
    new, count = apply_fixes(text, [overlapping, apart, first])
    assert (new, count) == (b"01X567Z9", 2)  # the earlier of two overlapping fixes wins
    same_place = [Fix("i", (Edit(3, 3, "A"),)), Fix("j", (Edit(3, 3, "B"),))]
    assert apply_fixes(text, same_place)[1] == 1


def test_a_deletion_takes_its_emptied_line(tmp_path: Path) -> None:
    from clan_lsp.checks import Edit, Fix
    from clan_lsp.cli import apply_fixes

    text = b"{\n  a = 1;\n  b = 2;\n}\n"
    start = text.index(b"a = 1;")
    assert apply_fixes(text, [Fix("x", (Edit(start, start + 6, ""),))])[0] == b"{\n  b = 2;\n}\n"
    inline = b"{ a = 1; b = 2; }"
    assert apply_fixes(inline, [Fix("x", (Edit(2, 8, ""),))])[0] == b"{  b = 2; }"


def test_safe_fixes_are_the_documented_ones() -> None:
    """Only fixes that cannot change meaning are safe; the README lists them."""
    from clan_lsp.analysis import Files, analyze
    from clan_lsp.model import load_source

    text = MODULE.replace("  roles.default", '  manifest.categories = [ "Networking" ];\n  roles.default')
    text = text.replace("{ };\n  };", "{ nixosModule.x = clanLib.exports.buildScopeKey; };\n  };")
    text = text.replace("{ pkgs, ... }:", "{ pkgs, clanLib, ... }:")
    report = analyze(load_source(text.encode(), "x.nix"), Files())
    safe = {f.code for f in report.findings if any(fix.safe for fix in f.fixes)}
    unsafe = {f.code for f in report.findings if f.fixes and not any(fix.safe for fix in f.fixes)}
    assert safe == {"missing-ellipsis", "removed-option", "clanlib-exports"}
    assert "unknown-category" in unsafe
    readme = (ROOT / "README.md").read_text()
    for code in safe:
        assert f"`{code}`" in readme.split("### Fixes", 1)[1].split("###", 1)[0]


# -- syntax on the command line


def test_pipe_operators_are_no_syntax_error(tmp_path: Path) -> None:
    module = tmp_path / "p.nix"
    module.write_text(
        CLEAN.replace('roles.default.description = "d";', 'roles.default.description = "d";\n  manifest.description = lib.pipe 1 [ ] |> toString;\n  roles.x = { } <| { };')
    )
    result = run("check", "--format", "json", str(module))
    assert "syntax-error" not in codes(result), result.stdout
    assert result.returncode == 0


def test_a_cr_only_file_places_findings_on_their_line(tmp_path: Path) -> None:
    module = tmp_path / "cr.nix"
    module.write_bytes(MODULE.replace("\n", "\r").encode())
    result = run("check", "--format", "json", str(module))
    found = {f["code"]: f for f in json.loads(result.stdout)["findings"]}
    assert found["removed-option"]["line"] == 6
    assert (found["missing-ellipsis"]["line"], found["missing-ellipsis"]["column"]) == (9, 19)


# -- pre-commit


def test_pre_commit_hook_names_a_real_entry() -> None:
    text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    try:
        import yaml
    except ImportError:  # not a test dependency: read the flat `- key: value` list by hand
        yaml = None
    hooks = yaml.safe_load(text) if yaml is not None else _flat_yaml_list(text)
    (hook,) = [h for h in hooks if h["id"] == "clan-lsp"]
    assert hook["language"] == "python" and hook["files"] == r"\.nix$"
    import re

    assert re.search(hook["files"], "modules/x.nix") and not re.search(hook["files"], "x.nix.bak")
    program, *arguments = hook["entry"].split()
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert program in scripts
    # the entry runs (pre-commit appends the staged file names)
    result = run(*arguments, "examples/hello-mesh/default.nix")
    assert result.returncode == 0, result.stderr


def test_text_shows_clan_words_below_our_statement() -> None:
    import io

    from clan_lsp.checks import Finding
    from clan_lsp.cli import Options, Run, Style, _text_report

    run_ = Run(Options(["x.nix"]))
    run_.texts["x.nix"] = b"{ a = 1; }\n"
    run_.findings = [Finding("wrong-type", "error", 6, 7, "Short words.", "x.nix", clan_message="clan's own words.")]
    concise, full = io.StringIO(), io.StringIO()
    _text_report(run_, concise, Style(False), full=False)
    _text_report(run_, full, Style(False), full=True)
    assert concise.getvalue() == "x.nix:1:7: error[wrong-type] Short words.\n    clan's own words.\n"
    assert full.getvalue().startswith(concise.getvalue() + "  |\n1 | { a = 1; }\n")


def _flat_yaml_list(text: str) -> list[dict[str, str]]:
    """A list of flat mappings with plain scalars, enough for .pre-commit-hooks.yaml."""
    items: list[dict[str, str]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("- "):
            items.append({})
            line = line[2:]
        key, _, value = line.strip().partition(":")
        items[-1][key.strip()] = value.strip()
    return items


def test_flat_yaml_reader_agrees_with_pyyaml() -> None:
    yaml = pytest.importorskip("yaml")
    text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert _flat_yaml_list(text) == [{k: str(v).lower() if isinstance(v, bool) else v for k, v in h.items()} for h in yaml.safe_load(text)]

"""Half-typed text: syntax errors sit where the typing is, the rest of the file keeps its meaning.

The cases are bench/halftyped.py's: a role typed into a service module (at its end, and in
the middle with more bindings after it) and an instance typed into a clan's inventory.
A few keystroke prefixes are checked here; the bench measures every keystroke.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import halftyped  # noqa: E402

from clan_lsp.analysis import ABSENT_KEYS  # noqa: E402
from clan_lsp.syntax import SyntaxTree  # noqa: E402

# Where typing stops: after these bits of the snippet (the prefix ends with the bit).
ROLE_STOPS = [
    "roles.ag",  # a name alone
    "roles.agent =",  # no value yet
    "roles.agent = {",  # a set never closed
    'description = "Runs',  # a string never closed, inside that set
    'description = "Runs the agent";',
    "interface =",
    "{ lib, ..",  # half-typed formals
    "options.port = lib.mkOption { type = lib.ty",
    "nixosModule = { };\n      };\n  }",  # the role closed, its `;` not yet typed
]
INSTANCE_STOPS = [
    "instances.bac",
    "instances.backup = {",
    'module.name = "hel',
    "roles.greeter.machines.alpha = { }",
]


def _prefix(snippet: str, stop: str) -> int:
    return snippet.index(stop) + len(stop)


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return {case.name.split(":")[0]: case for case in halftyped.cases(scratch=str(tmp_path_factory.mktemp("halftyped")))}


@pytest.mark.parametrize("name", ["hello-mesh", "broken"])
@pytest.mark.parametrize("stop", ROLE_STOPS)
def test_typing_a_role(cases, name: str, stop: str) -> None:
    case = cases[name]
    (result,) = halftyped.measure(case, [_prefix(case.snippet, stop)])
    assert result.error_lines, "a half-typed role is a syntax error"
    assert result.localised, f"syntax errors on lines {result.error_lines}, away from the typing"
    assert result.model_kept, f"the model lost {result.missing}"
    assert not result.strays, f"findings that were not there before: {result.strays}"


@pytest.mark.parametrize("stop", ROLE_STOPS)
def test_the_other_findings_survive_a_half_typed_role(cases, stop: str) -> None:
    case = cases["broken"]
    n = _prefix(case.snippet, stop)
    before = halftyped.snapshot(case, case.text)
    after = halftyped.snapshot(case, case.text[: case.at] + case.snippet[:n] + case.text[case.at :])
    typed = len(case.snippet[:n].encode())

    def shifted(offset: int) -> int:
        return offset if offset < case.at else offset + typed

    wanted = {(f.code, shifted(f.start)) for f in before.findings if f.code not in ABSENT_KEYS}
    assert len(wanted) >= 5  # the example is broken in many places
    present = {(f.code, f.start) for f in after.findings}
    assert wanted <= present, f"lost: {sorted(wanted - present)}"


@pytest.mark.parametrize("stop", INSTANCE_STOPS)
def test_typing_an_inventory_instance(cases, stop: str) -> None:
    case = cases["clan"]
    (result,) = halftyped.measure(case, [_prefix(case.snippet, stop)])
    assert result.localised, f"syntax errors on lines {result.error_lines}, away from the typing"
    assert result.model_kept, f"the inventory lost {result.missing}"
    assert result.findings_kept, "the finding after the typing (unknown-setting) is gone"


# ------------------------------------------------------------ the syntax layer alone


def _errors(text: str) -> list[tuple[str, str]]:
    tree = SyntaxTree(text)
    return [(text.encode()[e.start : e.end].decode(), e.message) for e in tree.syntax_errors()]


def test_a_set_never_closed_is_reported_at_its_brace() -> None:
    text = '{\n  a = 1;\n  roles.agent = {\n    description = "x";\n  b = 2;\n}\n'
    assert _errors(text) == [("{", "expected `}` to close the `{` of `roles.agent`")]
    tree = SyntaxTree(text)
    assert not tree.model_root.has_error and tree.root.has_error


def test_a_string_never_closed_is_reported_at_its_quote() -> None:
    text = '{\n  a = {\n    description = "Runs th\n  };\n  b = "x";\n}\n'
    assert _errors(text) == [('"', 'expected `"` to end the string')]


def test_what_is_open_at_the_end_of_the_text_is_closed_after_it() -> None:
    text = '{ lib, ... }:\n{\n  manifest.categories = [ "Net'
    tree = SyntaxTree(text)
    assert [m for _, m in _errors(text)] == ["expected `]` to close this `[`", 'expected `"` to end the string']
    assert all(e.end <= len(text) for e in tree.syntax_errors())
    categories = tree.model_root.descendant_for_byte_range(text.index("Net"), text.index("Net") + 3)
    assert categories.type == "string_fragment"  # the cursor is inside a string, in a list


def test_a_binding_that_runs_into_the_next_one() -> None:
    text = "{\n  a = 1;\n  roles.agent\n\n  perMachine = { ... }: { };\n}\n"
    assert _errors(text) == [("t", "expected `=` after `roles.agent`")]
    text = "{\n  roles.agent = { }\n  perMachine = { ... }: { };\n}\n"
    assert _errors(text) == [("}", "expected `;` after the binding of `roles.agent`")]


def test_recovery_keeps_every_offset() -> None:
    text = '{\n  x = {\n    y = "open\n  z = 1;\n}\n'
    tree = SyntaxTree(text)
    z = text.index("z = 1")
    node = tree.model_root.descendant_for_byte_range(z, z + 1)
    assert tree.node_text(node) == "z"


def test_an_incremental_edit_recovers_again() -> None:
    tree = SyntaxTree("{\n  a = 1;\n  b = 2;\n}\n")
    at = len("{\n  a = 1;\n")
    tree.edit(at, at, b"  c = {\n")
    assert [e.message for e in tree.syntax_errors()] == ["expected `}` to close the `{` of `c`"]
    tree.edit(at, at + len(b"  c = {\n"), b"")
    assert tree.syntax_errors() == [] and tree.recovery is None


def test_recovery_never_blanks_most_of_the_file() -> None:
    text = '{ ... }: { roles.a.perInstance = { settings, ... }: { nixosModule.x = "${settings.}"; }; }'
    tree = SyntaxTree(text)
    assert tree.model_root.type == "source_code" and tree.model_root.child_count == 1
    (error,) = tree.syntax_errors()
    assert text.index("${") < error.start < text.index('}"')  # inside the interpolation


INTERPOLATED = '''{ lib, ... }:
{
  _class = "clan.service";
  manifest.name = "example/interpolated";
  roles.peer = {
    description = "A peer";
    perInstance =
      { machine, ... }:
      {
        nixosModule = {
          networking.extraHosts = "${
            lib.concatStringsSep " " [
              machine.name
              "peer"
            ]
          } ${machine.name}";
        };
      };
  };
  roles.other = {
    description = "Another";
  };
}
'''


@pytest.mark.parametrize("stop", ROLE_STOPS)
def test_typing_after_a_string_whose_interpolation_spans_lines(tmp_path, stop: str) -> None:
    """A line break inside `${ }` is code, not a string running on: recovery leaves that
    string alone (it blanked it, and code around it, in clan-core's wireguard)."""
    path = tmp_path / "default.nix"
    path.write_text(INTERPOLATED)
    case = halftyped.Case("interpolated", str(path), INTERPOLATED, halftyped._after_binding(INTERPOLATED, "roles.peer ="), halftyped.ROLE_SNIPPET)
    (result,) = halftyped.measure(case, [_prefix(case.snippet, stop)])
    assert result.model_kept, f"the model lost {result.missing}"
    assert not result.strays, f"findings that were not there before: {result.strays}"


def test_a_trailing_comma_in_formals_is_no_error_while_typing_elsewhere() -> None:
    """Nix accepts `{ a, b, }:`; on broken text the comma hides inside the parser's ERROR,
    and the recovered text needs the same repair as a whole parse gets."""
    text = b"""{
  module =
    {
      instanceName,
      settings,
    }:
    { };
  roles.agent = {
    description = "x";
"""
    tree = SyntaxTree(text)
    errors = tree.syntax_errors()
    assert errors, "the set of roles.agent is not closed"
    assert all(e.start > text.index(b"roles.agent") for e in errors), [(e.start, e.message) for e in errors]

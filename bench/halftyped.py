"""Half-typed text: what the checker still sees while a snippet is typed, keystroke by keystroke.

    python bench/halftyped.py [--clan-core /work/clan-core] [--verbose]

For each case a realistic snippet (a new role in a service module, a new inventory
instance in a clan file) is inserted one character at a time at a realistic place,
and every prefix is analysed as the server would analyse the buffer. Per keystroke:

- localised: every syntax error lies on the edited lines (the typed lines, plus the
  line after them, where a missing `;` or `}` is noticed), never across the file;
- findings kept: every finding of the file before the insertion (other than syntax
  errors) is still reported, with the same code at the same place (shifted by the
  typed text when it lies after it);
- no strays: no finding outside the typed text that the file before did not have;
- model kept: the model still sees the file's other bindings (top-level names, role
  names, `manifest.name`; the inventory's instance names for a clan file).

Prints one line per case and the totals, as percentages of keystrokes. The cases use
the repository's own examples and fixture workspace; with `--clan-core`, a copy of a
clan-core service is measured too (read in place, never copied into this repository).
`measure()` is importable (tests/test_halftyped.py uses it on a few prefixes).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from clan_lsp.analysis import Files, analyze  # noqa: E402
from clan_lsp.model import AttrSet, Str, find_services, load_source, peel_functions  # noqa: E402
from clan_lsp.syntax import SyntaxTree  # noqa: E402
from clan_lsp.workspace import WorkspaceIndex  # noqa: E402

ROLE_SNIPPET = """
  roles.agent = {
    description = "Runs the agent";
    interface =
      { lib, ... }:
      {
        options.port = lib.mkOption { type = lib.types.port; };
      };
    perInstance =
      { settings, ... }:
      {
        nixosModule = { };
      };
  };"""

INSTANCE_SNIPPET = """
      instances.backup = {
        module.name = "hello";
        module.input = "self";
        roles.greeter.machines.alpha = { };
        roles.greeter.settings.text = "bye";
      };"""


@dataclass
class Case:
    name: str
    path: str  # where the buffer lives (imports and the workspace are read around it)
    text: str  # the file before the insertion
    at: int  # byte offset where typing starts
    snippet: str
    root: str | None = None  # a workspace folder: the file is a clan file with an inventory


@dataclass
class Keystroke:
    typed: int
    localised: bool
    error_lines: list[tuple[int, int]]
    findings_kept: bool
    strays: list[str]
    model_kept: bool
    missing: list[str] = field(default_factory=list)
    seconds: float = 0.0  # parse, model and every rule, as the server runs them


@dataclass
class Snapshot:
    findings: list  # Finding
    names: set[str]
    line_of: object


def _after_binding(text: str, anchor: str) -> int:
    """The offset just after the line holding the binding that `anchor` starts (its `};`)."""
    start = text.index(anchor)
    indent = start - text.rindex("\n", 0, start) - 1
    closing = "\n" + " " * indent + "};"
    end = text.index(closing, start) + len(closing)
    return end


def _model_names(source, workspace) -> set[str]:
    """What the model sees of a file: names that must survive an edit elsewhere."""
    names: set[str] = set()
    body, _, _ = peel_functions(source.value)
    if isinstance(body, AttrSet):
        names |= {f"top:{n}" for n in body.names()}
    modules, _ = find_services(source)
    for module in modules:
        roles = module.body.get("roles")
        if isinstance(roles, AttrSet):
            names |= {f"role:{n}" for n in roles.names()}
        manifest_name = module.body.path("manifest", "name")
        if isinstance(manifest_name, Str):
            names.add(f"manifest.name:{manifest_name.text}")
    if workspace is not None:
        names |= {f"instance:{i.name}" for i in workspace.instances if i.source.path == source.path}
    return names


def snapshot(case: Case, text: str) -> Snapshot:
    files = Files([case.root] if case.root else None)
    source = load_source(text.encode(), case.path)
    files.set_overlay(case.path, source)
    workspace = WorkspaceIndex.build([case.root], files) if case.root else None
    report = analyze(source, files, workspace=workspace)
    return Snapshot(report.findings, _model_names(source, workspace), source.tree.line_index)


def measure(case: Case, prefixes: list[int] | None = None) -> list[Keystroke]:
    """Analyse the file with the first n characters of the snippet typed, for each n."""
    before = snapshot(case, case.text)
    wanted = [(f.code, f.start) for f in before.findings if f.code != "syntax-error"]
    results = []
    for n in prefixes if prefixes is not None else range(1, len(case.snippet) + 1):
        typed = case.snippet[:n].encode()
        text = case.text[: case.at] + case.snippet[:n] + case.text[case.at :]
        started = time.perf_counter()
        now = snapshot(case, text)
        seconds = time.perf_counter() - started
        at = len(case.text[: case.at].encode())  # case.at counts characters; findings count bytes
        end = at + len(typed)
        first_line = now.line_of.position(at).line
        last_line = now.line_of.position(end).line + 1
        spans = []
        localised = True
        for f in now.findings:
            if f.code != "syntax-error":
                continue
            lines = (now.line_of.position(f.start).line, now.line_of.position(f.end).line)
            spans.append(lines)
            if lines[0] < first_line or lines[1] > last_line:
                localised = False

        def shifted(offset: int) -> int:
            return offset if offset < at else offset + len(typed)

        present = {(f.code, f.start) for f in now.findings}
        kept = all((code, shifted(start)) in present for code, start in wanted)
        expected = {(code, shifted(start)) for code, start in wanted}
        strays = [
            f"{f.code}@{now.line_of.position(f.start).line + 1}"
            for f in now.findings
            if f.code != "syntax-error" and not (at <= f.start < end) and (f.code, f.start) not in expected
        ]
        missing = sorted(before.names - now.names)
        results.append(Keystroke(n, localised, spans, kept, strays, not missing, missing, seconds))
    return results


def cases(clan_core: str | None = None, scratch: str | None = None) -> list[Case]:
    """The measured cases; `scratch` is a folder for the workspace copy (made when None)."""
    found = []
    hello = REPO / "examples" / "hello-mesh" / "default.nix"
    text = hello.read_text()
    # At the end of the module, after the only role.
    found.append(Case("hello-mesh: new role at the end", str(hello), text, _after_binding(text, "roles.peer ="), ROLE_SNIPPET))
    broken = REPO / "examples" / "broken" / "default.nix"
    text = broken.read_text()
    # Between roles.server and perMachine: the rest of the file follows the typing.
    found.append(Case("broken: new role in the middle", str(broken), text, _after_binding(text, "roles.server ="), ROLE_SNIPPET))
    if clan_core:
        # sshd; wireguard is 29 KB with strings whose interpolations span lines (`"${\n ... \n}"`)
        for name, anchor, label in (("sshd", "roles.server =", "new role after roles.server"), ("wireguard", "roles.peer = {", "new role after roles.peer")):
            service = Path(clan_core) / "clanServices" / name / "default.nix"
            text = service.read_text() if service.is_file() else ""
            if anchor in text:
                found.append(Case(f"clan-core {name}: {label}", str(service), text, _after_binding(text, anchor), ROLE_SNIPPET))
    workspace = REPO / "tests" / "workspaces" / "clean"
    if scratch is None:
        scratch = tempfile.mkdtemp(prefix="halftyped-")
    copy = os.path.join(scratch, "clean")
    if not os.path.isdir(copy):
        shutil.copytree(workspace, copy)
    clan_file = os.path.join(copy, "flake-parts", "default.nix")
    text = Path(clan_file).read_text()
    # A known finding after the edit, so that keeping it can be measured.
    text = text.replace('roles.greeter.settings.text = "hi";', 'roles.greeter.settings.txt = "hi";')
    found.append(Case("clan: new inventory instance", clan_file, text, _after_binding(text, "instances.office-vpn ="), INSTANCE_SNIPPET, copy))
    return found


def percent(count: int, total: int) -> str:
    return f"{100 * count / total:5.1f}%" if total else "  n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clan-core", default=None, help="a clan-core checkout: also measure its sshd and wireguard services (read in place)")
    parser.add_argument("--verbose", action="store_true", help="one line per keystroke")
    parser.add_argument("--without-recovery", action="store_true", help="the parser's own tree only (as before recovery)")
    options = parser.parse_args()
    if options.without_recovery:
        SyntaxTree.RECOVER = False
    with tempfile.TemporaryDirectory(prefix="halftyped-") as scratch:
        totals = [0, 0, 0, 0, 0]
        print(f"{'case':45} {'keys':>5} {'localised':>10} {'kept':>8} {'no stray':>9} {'model':>8} {'ms p50':>7} {'ms max':>7}")
        for case in cases(options.clan_core, scratch):
            results = measure(case)
            counts = [
                len(results),
                sum(r.localised for r in results),
                sum(r.findings_kept for r in results),
                sum(not r.strays for r in results),
                sum(r.model_kept for r in results),
            ]
            totals = [a + b for a, b in zip(totals, counts)]
            n = counts[0]
            times = [r.seconds * 1000 for r in results]
            print(
                f"{case.name:45} {n:5} {percent(counts[1], n):>10} {percent(counts[2], n):>8} {percent(counts[3], n):>9} "
                f"{percent(counts[4], n):>8} {statistics.median(times):7.1f} {max(times):7.1f}"
            )
            if options.verbose:
                for r in results:
                    typed = case.snippet[: r.typed].replace("\n", "⏎")[-30:]
                    print(f"   {r.typed:4} {typed:32} err={r.error_lines} kept={r.findings_kept} strays={r.strays} missing={r.missing}")
        n = totals[0]
        print(f"{'all':45} {n:5} {percent(totals[1], n):>10} {percent(totals[2], n):>8} {percent(totals[3], n):>9} {percent(totals[4], n):>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

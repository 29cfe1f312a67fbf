"""`clan-lsp` (serve over stdio) and `clan-lsp check PATH...`.

Exit codes of `check`: 0 clean, 1 findings at or above the failing severity, 2 usage
errors or unreadable input, 101 an internal error (a crash is not "findings").
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence, TextIO

from . import __version__

if TYPE_CHECKING:  # heavy imports stay inside the functions that need them
    from .analysis import Files
    from .checks import Finding, Fix
    from .config import Config

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 101
EXIT_ERRORS = EXIT_FINDINGS  # the older name
FORMATS = ("text", "full", "json", "github", "sarif")
# Severities from the most to the least severe; `--fail-on` names one of them.
LEVELS = ("error", "warning", "information")
FIX_ROUNDS = 4  # a fix may reveal or unblock another; overlapping ones wait for the next round
STDIN = "-"


def _collect(paths: Sequence[str], problems: list[str]) -> list[str]:
    from .workspace.index import nix_files

    files: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            found = list(nix_files([path]))
            if not found:
                problems.append(f"{path}: no .nix files found")
            files.extend(found)
        elif os.path.isfile(path):
            files.append(path)
        else:
            problems.append(f"{path}: no such file or directory")
    return files


def _roots(paths: Sequence[str]) -> list[str]:
    """Where the workspace is: folders as given; for a file, the nearest folder with flake.nix."""
    roots = []
    for path in paths:
        if os.path.isdir(path):
            roots.append(path)
        else:  # a file, or the name given to stdin (which need not exist)
            folder = os.path.dirname(os.path.abspath(path))
            probe = folder
            while True:
                if os.path.exists(os.path.join(probe, "flake.nix")):
                    folder = probe
                    break
                parent = os.path.dirname(probe)
                if parent == probe:
                    break
                probe = parent
            roots.append(folder)
    # as given: the index must name files as the check does, so both share one parse
    return list(dict.fromkeys(roots))


def _read_problem(path: str) -> tuple[bytes | None, str | None]:
    from .analysis import MAX_FILE_BYTES

    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            return None, f"{path}: skipped: {size // (1024 * 1024)} MB is larger than the {MAX_FILE_BYTES // (1024 * 1024)} MB limit"
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        return None, f"{path}: cannot read: {error.strerror or error}"
    return data, _utf8_problem(path, data)


def _utf8_problem(path: str, data: bytes) -> str | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"{path}: not valid UTF-8 (byte {error.start}); Nix files must be UTF-8"
    return None


@dataclass
class Options:
    paths: Sequence[str]
    output_format: str = "text"
    clan_date: str | None = None
    stdin_filename: str | None = None
    fail_on: str = "error"  # a level of LEVELS, or "never" (--exit-zero)
    quiet: bool = False
    statistics: bool = False
    color: str = "auto"  # auto, always, never
    output_file: str | None = None
    fix: bool = False
    diff: bool = False
    inputs: dict[str, str] = field(default_factory=dict)  # flake input name -> a folder (a checkout)


@dataclass
class Run:
    """One `clan-lsp check`: what was read, what was found."""

    options: Options
    targets: list[str] = field(default_factory=list)
    texts: dict[str, bytes] = field(default_factory=dict)  # the text each finding is placed in
    configs: dict[str, "Config"] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    unreadable: bool = False
    findings: list["Finding"] = field(default_factory=list)
    fixed: dict[str, int] = field(default_factory=dict)  # path -> fixes applied
    originals: dict[str, bytes] = field(default_factory=dict)  # path -> text before any fix


class Analyses:
    """One `analysis.Analysis` per clan date in force (the command line's, else each file's
    configuration's, else flake.lock's): usually one. They share the parsed files."""

    def __init__(self, roots: list[str], files: "Files", inputs: dict[str, str] | None = None) -> None:
        self.roots = roots
        self.files = files
        self.inputs = inputs or {}
        self.by_date: dict[str | None, object] = {}

    def diagnostics(self, path: str, clan_date: str | None) -> list["Finding"]:
        from .analysis import Analysis

        if clan_date not in self.by_date:
            analysis = Analysis(self.roots, clan_date, self.files)
            analysis.set_input_folders(self.inputs)
            analysis.graph_limit = None  # a check is run once: the whole graph, whatever the size
            self.by_date[clan_date] = analysis
        # each file is judged in the clan and service it is part of, whatever else is checked
        return self.by_date[clan_date].diagnostics(path)  # type: ignore[attr-defined]

    def update(self, path: str, source) -> None:
        for analysis in self.by_date.values():
            analysis.update(path, source)  # type: ignore[attr-defined]


def _filter(run: Run, findings: list["Finding"], files: "Files") -> list["Finding"]:
    """One finding per place and message, then each file's configuration and suppressions."""
    from .config import DEFAULT, ConfigError, apply_config, find_config

    unique: dict[tuple, Finding] = {}
    for finding in findings:
        unique.setdefault((finding.path, finding.start, finding.end, finding.code, finding.message), finding)
    by_path: dict[str, list[Finding]] = {path: [] for path in run.targets}
    for finding in unique.values():
        by_path.setdefault(finding.path or "", []).append(finding)
    result = []
    for path, found in by_path.items():
        text = _text_of(run, files, path)
        config = run.configs.get(path)
        if config is None:  # a file a checked module imports
            try:
                config = find_config(path)
            except ConfigError:
                config = DEFAULT
        result.extend(apply_config(found, path, text, config, report_unused=path in run.configs))
    result.sort(key=lambda f: (f.path or "", f.start, f.code))
    return result


def _text_of(run: Run, files: "Files", path: str) -> bytes:
    if path not in run.texts:
        source = files.load(path)
        run.texts[path] = source.text if source is not None else b""
    return run.texts[path]


def check_run(options: Options, stdin: TextIO | None = None) -> Run:
    """Read, analyse, fix if asked, and filter: everything but the output."""
    from .analysis import Files
    from .config import ConfigError, find_config
    from .model import load_source

    run = Run(options)
    given = list(options.paths)
    from_stdin = STDIN in given
    stdin_path = options.stdin_filename or "<stdin>"
    if from_stdin:
        given.remove(STDIN)
    candidates = _collect(given, run.problems)
    run.unreadable = bool(run.problems)
    files = Files()
    if from_stdin:
        data = (stdin or sys.stdin).buffer.read()
        problem = _utf8_problem(stdin_path, data)
        if problem:
            run.problems.append(problem)
            run.unreadable = True
        else:
            files.set_overlay(stdin_path, load_source(data, stdin_path))
            run.texts[stdin_path] = data
            candidates.append(stdin_path)
    warned: set[str] = set()
    found_configs: dict[str, str | None] = {}
    for path in candidates:
        try:
            config = find_config(path, found_configs)
        except ConfigError as error:
            run.problems.append(str(error))
            run.unreadable = True
            continue
        if config.path and config.path not in warned:
            warned.add(config.path)
            run.problems.extend(f"{config.path}: warning: {w}" for w in config.warnings)
        if config.excludes(path):
            continue
        if path != stdin_path or not from_stdin:
            # read once, by the Files the analysis reads from; why a file was not read is asked
            # only when it was not
            source = files.load(path)
            problem = _read_problem(path)[1] if source is None else _utf8_problem(path, source.text)
            if problem or source is None:
                run.problems.append(problem or f"{path}: cannot read")
                run.unreadable = True
                continue
            run.texts[path] = source.text
        run.configs[path] = config
        run.targets.append(path)
    roots = _roots(given + ([stdin_path] if from_stdin else []))

    analyses = Analyses(roots, files, options.inputs)
    rounds = FIX_ROUNDS if options.fix or options.diff else 0
    for round_ in range(rounds + 1):
        found = []
        for path in run.targets:
            found.extend(analyses.diagnostics(path, options.clan_date or run.configs[path].clan_date))
        run.findings = _filter(run, found, files)
        if round_ == rounds or not _apply_safe_fixes(run, analyses, load_source):
            break
    return run


def _apply_safe_fixes(run: Run, analyses: Analyses, load_source) -> bool:
    """Apply each file's safe fixes that do not overlap; True when a file changed."""
    chosen: dict[str, list[Fix]] = {}
    for finding in run.findings:
        if finding.path not in run.configs:
            continue  # only the files being checked are written
        safe = [fix for fix in finding.fixes if fix.safe]
        if safe:
            chosen.setdefault(finding.path, []).append(safe[0])
    changed = False
    for path, fixes in chosen.items():
        text = run.texts[path]
        new_text, applied = apply_fixes(text, fixes)
        if applied:
            run.originals.setdefault(path, text)
            run.texts[path] = new_text
            run.fixed[path] = run.fixed.get(path, 0) + applied
            analyses.update(path, load_source(new_text, path))
            changed = True
    return changed


def apply_fixes(text: bytes, fixes: Sequence["Fix"]) -> tuple[bytes, int]:
    """Apply every fix whose edits overlap no edit of a fix taken before it; (new text, fixes taken)."""
    taken: list[tuple[int, int]] = []
    edits = []
    count = 0

    def overlaps(start: int, end: int) -> bool:
        # touching spans are fine, but two insertions at one place would race
        return any(start < e and s < end or start == s == end == e or (start == end and s < start < e) for s, e in taken)

    for fix in sorted(fixes, key=lambda f: min(e.start for e in f.edits) if f.edits else 0):
        if not fix.edits or any(overlaps(e.start, e.end) for e in fix.edits):
            continue
        taken.extend((e.start, e.end) for e in fix.edits)
        edits.extend(fix.edits)
        count += 1
    for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        start, end = edit.start, edit.end
        if not edit.text:
            start, end = _whole_line(text, start, end)
        text = text[:start] + edit.text.encode("utf-8") + text[end:]
    return text, count


def _whole_line(text: bytes, start: int, end: int) -> tuple[int, int]:
    """A deletion that would leave only blanks on its line takes the line (and its break) with it."""
    line_start = max(text.rfind(b"\n", 0, start), text.rfind(b"\r", 0, start)) + 1
    line_end = end
    while line_end < len(text) and text[line_end : line_end + 1] in (b" ", b"\t"):
        line_end += 1
    if text[line_start:start].strip(b" \t") or (line_end < len(text) and text[line_end : line_end + 1] not in (b"\n", b"\r")):
        return start, end
    if text[line_end : line_end + 2] == b"\r\n":
        return line_start, line_end + 2
    return line_start, min(len(text), line_end + 1)


# -- output


class Style:
    """ANSI colours, or none."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled and text else text

    def severity(self, severity: str) -> str:
        return self(severity, {"error": "1;31", "warning": "1;33"}.get(severity, "1;34"))


def _use_color(choice: str, stream: TextIO) -> bool:
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):  # https://no-color.org: any non-empty value
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Placer:
    """1-based line and column of findings (columns in characters, or UTF-16 units for SARIF)."""

    def __init__(self, run: Run, encoding: str | None = None) -> None:
        from .syntax import UTF32, LineIndex

        self.run = run
        self.encoding = encoding or UTF32
        self._make = LineIndex
        self.indexes: dict[str, object] = {}

    def index(self, path: str):
        if path not in self.indexes:
            self.indexes[path] = self._make(self.run.texts.get(path, b""))
        return self.indexes[path]

    def __call__(self, finding: "Finding") -> tuple[int, int, int, int]:
        index = self.index(finding.path or "")
        start = index.position(finding.start, self.encoding)
        end = index.position(finding.end, self.encoding)
        return start.line + 1, start.character + 1, end.line + 1, end.character + 1


def _text_report(run: Run, out: TextIO, style: Style, full: bool) -> None:
    from .checks import full_message

    place = Placer(run)
    for finding in run.findings:
        line, column, end_line, end_column = place(finding)
        head = f"{style(finding.path or '', '1')}:{line}:{column}: {style.severity(finding.severity)}[{style(finding.code, '1')}]"
        # our statement on the finding's line, clan's own words indented below it
        out.write(f"{head} {full_message(finding, indent='    ')}\n")
        if full:
            out.write(_snippet(place.index(finding.path or ""), line, column, end_line, end_column, style))


def _snippet(index, line: int, column: int, end_line: int, end_column: int, style: Style) -> str:
    """The finding's first line of source, and carets under its span (like ruff's full output)."""
    starts = index.line_starts
    data = index.data
    if line - 1 >= len(starts):
        return ""
    begin = starts[line - 1]
    stop = starts[line] if line < len(starts) else len(data)
    source = data[begin:stop].decode("utf-8", "replace").rstrip("\r\n").expandtabs(1)
    last = end_column if end_line == line else len(source) + 1
    width = max(1, last - column)
    gutter = " " * len(str(line))
    bar = style("|", "34")
    return (
        f"{gutter} {bar}\n{style(str(line), '34')} {bar} {source}\n"
        f"{gutter} {bar} {' ' * (column - 1)}{style('^' * width, '1;31')}\n{gutter} {bar}\n"
    )


def _statistics(run: Run, out: TextIO) -> None:
    from .config import registry

    summaries = {r.code: r.summary for r in registry()}
    counts: dict[str, int] = {}
    for finding in run.findings:
        counts[finding.code] = counts.get(finding.code, 0) + 1
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        out.write(f"{count:>5}  {code:<26}  {summaries.get(code, '')}\n")


def _json_report(run: Run, out: TextIO) -> None:
    import json

    place = Placer(run)
    records = []
    for finding in run.findings:
        line, column, end_line, end_column = place(finding)
        records.append(
            {
                "path": finding.path, "line": line, "column": column, "endLine": end_line,
                "endColumn": end_column, "severity": finding.severity, "code": finding.code,
                "catalogue": finding.catalogue, "message": finding.message, "clanMessage": finding.clan_message,
                "fixable": any(fix.safe for fix in finding.fixes),
            }
        )
    json.dump({"findings": records, "problems": run.problems, "files": len(run.targets)}, out, indent=2)
    out.write("\n")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _github_report(run: Run, out: TextIO) -> None:
    """GitHub Actions workflow commands: each finding becomes an annotation on the pull request."""
    from .checks import full_message

    place = Placer(run)
    commands = {"error": "error", "warning": "warning"}
    for finding in run.findings:
        line, column, end_line, end_column = place(finding)
        path = _escape_property((finding.path or "").replace(os.sep, "/"))
        title = _escape_property(f"clan-lsp ({finding.code})")
        out.write(
            f"::{commands.get(finding.severity, 'notice')} file={path},line={line},col={column},"
            f"endLine={end_line},endColumn={end_column},title={title}::{_escape_data(full_message(finding))}\n"
        )


def _artifact_uri(path: str) -> str:
    from pathlib import Path

    return Path(path).as_uri() if os.path.isabs(path) else Path(path).as_posix()


def _sarif_report(run: Run, out: TextIO) -> None:
    """SARIF 2.1.0 for code scanning: the rule registry as the driver's rules."""
    import json

    from .checks import full_message
    from .config import registry
    from .syntax import UTF16

    levels = {"error": "error", "warning": "warning"}
    rules = {}
    for rule in registry():
        rules.setdefault(
            rule.code,
            {
                "id": rule.code,
                "shortDescription": {"text": rule.summary},
                "defaultConfiguration": {"level": levels.get(rule.severity, "note")},
                "properties": {"catalogue": rule.catalogue} if rule.catalogue else {},
            },
        )
    for finding in run.findings:  # codes a rule reports besides its own
        rules.setdefault(finding.code, {"id": finding.code})
    order = {code: index for index, code in enumerate(rules)}
    place = Placer(run, UTF16)  # SARIF's default column kind: UTF-16 code units
    results = []
    for finding in run.findings:
        line, column, end_line, end_column = place(finding)
        results.append(
            {
                "ruleId": finding.code,
                "ruleIndex": order[finding.code],
                "level": levels.get(finding.severity, "note"),
                "message": {"text": full_message(finding)},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": _artifact_uri(finding.path or "")},
                            "region": {"startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column},
                        }
                    }
                ],
            }
        )
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "clan-lsp", "version": __version__, "informationUri": "https://clan.lol", "rules": list(rules.values())}},
                "columnKind": "utf16CodeUnits",
                "results": results,
            }
        ],
    }
    json.dump(document, out, indent=2)
    out.write("\n")


def _diff(run: Run) -> str:
    import difflib

    chunks = []
    for path in sorted(run.originals):
        before = run.originals[path].decode("utf-8", "replace").splitlines(keepends=True)
        after = run.texts[path].decode("utf-8", "replace").splitlines(keepends=True)
        name = path.replace(os.sep, "/").lstrip("/")
        chunks.extend(difflib.unified_diff(before, after, f"a/{name}", f"b/{name}"))
    return "".join(line if line.endswith("\n") else line + "\n" for line in chunks)


def _write_fixes(run: Run, from_stdin: str | None) -> None:
    for path in run.originals:
        if path == from_stdin:
            continue
        with open(path, "wb") as handle:
            handle.write(run.texts[path])


def _failing(run: Run) -> bool:
    fail_on = run.options.fail_on
    if fail_on == "never":
        return False
    threshold = LEVELS.index(fail_on)
    return any(finding.severity in LEVELS and LEVELS.index(finding.severity) <= threshold for finding in run.findings)


def check_command(options: Options, out: TextIO | None = None, err: TextIO | None = None, stdin: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    run = check_run(options, stdin)
    stdin_path = (options.stdin_filename or "<stdin>") if STDIN in options.paths else None
    for problem in run.problems:
        err.write(f"clan-lsp: {problem}\n")
    if options.diff:
        out.write(_diff(run))
        if run.unreadable:
            return EXIT_USAGE
        return EXIT_FINDINGS if run.originals and options.fail_on != "never" else EXIT_CLEAN
    if options.fix:
        _write_fixes(run, stdin_path)
        if stdin_path is not None:
            # The fixed text goes to stdout, as formatters do; the findings left go to stderr.
            out.write(run.texts.get(stdin_path, b"").decode("utf-8", "replace"))
            out = err
    report = out
    handle = None
    if options.output_file:
        try:
            handle = report = open(options.output_file, "w", encoding="utf-8")
        except OSError as error:
            err.write(f"clan-lsp: {options.output_file}: cannot write: {error.strerror or error}\n")
            return EXIT_USAGE
    try:
        style = Style(_use_color(options.color, report) and handle is None)
        if options.statistics and options.output_format in ("text", "full"):
            _statistics(run, report)
        elif options.output_format == "json":
            _json_report(run, report)
        elif options.output_format == "github":
            _github_report(run, report)
        elif options.output_format == "sarif":
            _sarif_report(run, report)
        else:
            _text_report(run, report, style, full=options.output_format == "full")
    finally:
        if handle is not None:
            handle.close()
    if not options.quiet and options.output_format in ("text", "full"):
        errors = sum(1 for f in run.findings if f.severity == "error")
        fixed = sum(run.fixed.values())
        note = f", {fixed} fixed" if options.fix else ""
        err.write(f"clan-lsp: {len(run.targets)} files checked, {errors} errors, {len(run.findings) - errors} warnings/notes{note}\n")
    if _failing(run):
        return EXIT_FINDINGS
    # Everything excluded by the configuration is not an error: nothing was asked of us.
    return EXIT_USAGE if run.unreadable else EXIT_CLEAN


def check(paths: Sequence[str], output_format: str = "text", generation=None, out=None, err=None) -> int:
    """`clan-lsp check PATHS` in process (the older entry point)."""
    date = getattr(generation, "date", None)
    return check_command(Options(paths, output_format, clan_date=date), out, err)


def _check_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "check",
        help="check clan.service modules and report findings",
        description="Check clan.service modules. Exit codes: 0 clean, 1 findings at or above the failing "
        "severity, 2 usage error or unreadable input, 101 internal error.",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (searched for .nix); `-` reads stdin")
    parser.add_argument("--format", "--output-format", dest="output_format", choices=FORMATS, default="text",
                        help="text: one line per finding; full: with the source line and a caret; json; "
                        "github: workflow annotations; sarif: SARIF 2.1.0 for code scanning")
    parser.add_argument("--stdin-filename", metavar="PATH", help="the path of the text read from `-`: used in the output and to find the clan and its configuration")
    parser.add_argument("--input", dest="inputs", action="append", default=[], metavar="NAME=PATH",
                        help="read flake input NAME from the folder PATH (a checkout) instead of its locked source; repeatable")
    parser.add_argument("--clan-date", metavar="YYYY-MM-DD", help="check against the clan-core of this date (default: the configuration's, else flake.lock's, else the newest)")
    failing = parser.add_mutually_exclusive_group()
    failing.add_argument("--fail-on", choices=LEVELS, default="error", help="the least severe finding that makes the exit code 1 (default: error)")
    failing.add_argument("--error-on-warning", dest="fail_on", action="store_const", const="warning", help="same as --fail-on warning")
    failing.add_argument("--exit-zero", dest="fail_on", action="store_const", const="never", help="exit 0 even when there are findings")
    parser.add_argument("-q", "--quiet", action="store_true", help="print the findings only, no summary")
    parser.add_argument("--statistics", action="store_true", help="print the number of findings per code instead of the findings")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colour the text output (auto: on a terminal, unless NO_COLOR is set)")
    parser.add_argument("-o", "--output-file", metavar="FILE", help="write the report to FILE instead of stdout")
    fixing = parser.add_mutually_exclusive_group()
    fixing.add_argument("--fix", action="store_true", help="apply the safe fixes and write the files (with `-`: print the fixed text)")
    fixing.add_argument("--diff", action="store_true", help="print the safe fixes as a unified diff, write nothing")
    return parser


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clan-lsp",
        description="Language server (stdio, the default) and checker for clan.service modules.",
    )
    parser.add_argument("--stdio", action="store_true", help="serve over stdio (the default)")
    parser.add_argument("--version", action="version", version=f"clan-lsp {__version__}")
    parser.add_argument("--log-level", default="WARNING", help="the server's log level (logs go to stderr)")
    subparsers = parser.add_subparsers(dest="command", title="commands", metavar="{check,graph}")
    _check_parser(subparsers)
    # listed for --help; `clan-lsp graph ...` is dispatched to graph_cli before this parser runs
    subparsers.add_parser("graph", help="the export graph of a clan (who exports what to whom), as json or dot", add_help=False)
    return parser


def _internal_error(err: TextIO) -> int:
    import traceback

    kind, error, _ = sys.exc_info()
    err.write(traceback.format_exc())
    name = kind.__name__ if kind else "error"
    err.write(f"clan-lsp: internal error ({name}: {error}); this is a bug in clan-lsp, not in your files. Please report it with the traceback above.\n")
    return EXIT_INTERNAL


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "graph":  # the export graph (clan_lsp/graph_cli.py)
        from .graph_cli import main as graph_main

        return graph_main(argv[1:])
    parser = _parser()
    try:
        options = parser.parse_args(argv)
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code else EXIT_CLEAN
    if options.command == "check":
        if not options.paths:
            if not options.stdin_filename:
                sys.stderr.write("clan-lsp check: error: give a PATH, or `-` with --stdin-filename\n")
                return EXIT_USAGE
            options.paths = [STDIN]  # like ruff: --stdin-filename alone reads stdin
        from .inputs import parse_input_flags

        try:
            folders = parse_input_flags(options.inputs)
        except ValueError as error:
            sys.stderr.write(f"clan-lsp check: error: --input: {error}\n")
            return EXIT_USAGE
        try:
            return check_command(
                Options(
                    options.paths, options.output_format, options.clan_date, options.stdin_filename,
                    options.fail_on, options.quiet, options.statistics, options.color,
                    options.output_file, options.fix, options.diff, folders,
                )
            )
        except KeyboardInterrupt:
            return 130
        except BrokenPipeError:  # `clan-lsp check . | head`: the reader left, which is no crash
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return EXIT_FINDINGS
        except Exception:  # a crash is not "findings": its own exit code and the traceback
            return _internal_error(sys.stderr)
    from .boot import serve  # answers initialize before importing the server

    serve(options.log_level)
    return EXIT_CLEAN


if __name__ == "__main__":
    sys.exit(main())

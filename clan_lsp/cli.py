"""`clan-lsp` (serve over stdio) and `clan-lsp check PATH...`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Sequence

from . import __version__
from .analysis import MAX_FILE_BYTES, Analysis, Files
from .checks import ERROR, Finding, full_message
from .spec.versions import Generation
from .syntax import UTF32, LineIndex
from .workspace.index import nix_files

EXIT_CLEAN, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2


def _collect(paths: Sequence[str], problems: list[str]) -> list[str]:
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
        elif os.path.isfile(path):
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
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            return None, f"{path}: skipped: {size // (1024 * 1024)} MB is larger than the {MAX_FILE_BYTES // (1024 * 1024)} MB limit"
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        return None, f"{path}: cannot read: {error.strerror or error}"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return None, f"{path}: not valid UTF-8 (byte {error.start}); Nix files must be UTF-8"
    return data, None


def check(paths: Sequence[str], output_format: str = "text", generation: Generation = Generation(), out=sys.stdout, err=sys.stderr) -> int:
    problems: list[str] = []
    targets = _collect(paths, problems)
    files = Files()  # a file a module imports is read wherever it is
    analysis = Analysis(_roots(paths), generation.date, files)
    findings: list[Finding] = []
    texts: dict[str, bytes] = {}
    unreadable = bool(problems)
    for path in targets:
        data, problem = _read_problem(path)
        if problem:
            problems.append(problem)
            unreadable = True
            continue
        source = files.load(path)
        if source is None:
            problems.append(f"{path}: cannot read")
            unreadable = True
            continue
        texts[path] = data  # type: ignore[assignment]
        # each file is judged in the clan and service it is part of, whatever else is checked
        findings.extend(analysis.diagnostics(path))
    unique: dict[tuple, Finding] = {}
    for finding in findings:
        unique.setdefault((finding.path, finding.start, finding.end, finding.code, finding.message), finding)
    ordered = sorted(unique.values(), key=lambda f: (f.path or "", f.start, f.code))
    indexes: dict[str, LineIndex] = {}

    def where(finding: Finding) -> tuple[int, int, int, int]:
        path = finding.path or ""
        if path not in indexes:
            data = texts.get(path)
            if data is None:
                source = files.load(path)
                data = source.text if source else b""
            indexes[path] = LineIndex(data)
        index = indexes[path]
        start = index.position(finding.start, UTF32)
        end = index.position(finding.end, UTF32)
        return start.line + 1, start.character + 1, end.line + 1, end.character + 1

    if output_format == "json":
        records = []
        for finding in ordered:
            line, column, end_line, end_column = where(finding)
            records.append(
                {
                    "path": finding.path, "line": line, "column": column, "endLine": end_line,
                    "endColumn": end_column, "severity": finding.severity, "code": finding.code,
                    "catalogue": finding.catalogue, "message": finding.message, "clanMessage": finding.clan_message,
                }
            )
        json.dump({"findings": records, "problems": problems, "files": len(targets)}, out, indent=2)
        out.write("\n")
    else:
        for finding in ordered:
            line, column, _, _ = where(finding)
            # our statement on the finding's line, clan's own words indented below it
            out.write(f"{finding.path}:{line}:{column}: {finding.severity}[{finding.code}] {full_message(finding, indent='    ')}\n")
        for problem in problems:
            err.write(f"clan-lsp: {problem}\n")
        errors = sum(1 for f in ordered if f.severity == ERROR)
        warnings = len(ordered) - errors
        err.write(f"clan-lsp: {len(targets)} files checked, {errors} errors, {warnings} warnings/notes\n")
    if any(f.severity == ERROR for f in ordered):
        return EXIT_ERRORS
    if unreadable or not targets:
        return EXIT_USAGE
    return EXIT_CLEAN


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "check":
        parser = argparse.ArgumentParser(prog="clan-lsp check", description="Check clan.service modules.")
        parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (searched for .nix)")
        parser.add_argument("--format", choices=("text", "json"), default="text")
        parser.add_argument("--clan-date", default=None, metavar="YYYY-MM-DD", help="check against the clan-core of this date (default: newest)")
        try:
            options = parser.parse_args(argv[1:])
        except SystemExit as exit_:
            return EXIT_USAGE if exit_.code else EXIT_CLEAN
        return check(options.paths, options.format, Generation(options.clan_date))
    parser = argparse.ArgumentParser(prog="clan-lsp", description="Language server for clan.service modules (stdio).")
    parser.add_argument("--stdio", action="store_true", help="serve over stdio (the default)")
    parser.add_argument("--version", action="version", version=f"clan-lsp {__version__}")
    parser.add_argument("--log-level", default="WARNING")
    try:
        options = parser.parse_args(argv)
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code else EXIT_CLEAN
    from .server import serve

    serve(options.log_level)
    return EXIT_CLEAN


if __name__ == "__main__":
    sys.exit(main())

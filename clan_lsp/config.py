"""The project's configuration file and inline suppressions, for `clan-lsp check` and the server.

The configuration lives at the clan's root, in `clan-lsp.toml` or as `[tool.clan-lsp]` in a
`pyproject.toml`, and is found by walking up from each checked file (stopping at the
repository root). Keys:

    select = ["unknown-option", ...]        # report only these codes (default: all)
    ignore = ["missing-readme", ...]        # never report these codes
    exclude = ["vendor/**", "legacy.nix"]   # files not checked (globs, relative to the file's folder)
    clan-date = "2026-01-15"                # check against an older clan-core
    [per-file-ignores]
    "machines/*.nix" = ["unknown-machine"]
    [severity]
    missing-readme = "error"                # error, warning or information

Inline, `# clan-lsp: ignore[code]` (or `ignore[a, b]`, or a bare `ignore` for every code)
suppresses findings on its own line and on the line below it. A suppression that
suppresses nothing is itself reported, as `unused-suppression`, so stale ones do not pile up.

`apply_config` is the one function that turns a file's findings into the ones to report;
the CLI and the server both call it, after the checks.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from .checks import ERROR, INFO, RULES, WARNING, Finding, Rule
from .checks.inventory import INVENTORY_RULES
from .syntax import LineIndex

CONFIG_NAME = "clan-lsp.toml"
PYPROJECT = "pyproject.toml"
SEVERITIES = {"error": ERROR, "warning": WARNING, "information": INFO, "info": INFO}
KEYS = ("select", "ignore", "exclude", "per-file-ignores", "severity", "clan-date")


def _no_findings(_context) -> tuple:
    return ()


# Codes that come from no check of the registry: syntax errors (the parser) and unused
# suppressions (applied after the checks, here). Registered like rules so they have a
# summary for `--format sarif` and `--statistics`, but run by nobody.
SYNTAX_ERROR = Rule("syntax-error", ERROR, None, "Nix that does not parse", _no_findings)
UNUSED_SUPPRESSION = Rule(
    "unused-suppression", WARNING, None, "A `# clan-lsp: ignore` comment that suppresses no finding", _no_findings
)
# Codes a rule reports next to its own (`Context.report(code=...)`), and the server's notice
# for a file it does not analyse. Each is a code of its own for select, ignore and suppressions.
SUBCODES = (
    Rule("removed-option", ERROR, "E8", "An option clan-core removed (reported by unknown-option)", _no_findings),
    Rule("invalid-scope-key", ERROR, "E21", "An export key that is not `service:instance:role:machine` (reported by export-scope)", _no_findings),
    Rule("global-scope-key", ERROR, "E23", "`buildScopeKey { }` / `getExport { }` (reported by build-scope-key)", _no_findings),
    Rule("file-too-large", INFO, None, "A file over the size limit, not analysed (the server)", _no_findings),
)


def registry() -> list[Rule]:
    """Every code with its summary: the checks, the inventory checks and the codes above."""
    rules: list[Rule] = [SYNTAX_ERROR, *RULES]
    rules.extend(Rule(r.code, r.severity, r.catalogue, r.summary, _no_findings) for r in INVENTORY_RULES)
    rules.extend(SUBCODES)
    rules.append(UNUSED_SUPPRESSION)
    return rules


def known_codes() -> set[str]:
    return {r.code for r in registry()}


class ConfigError(ValueError):
    """A configuration file that cannot be read or has a value of the wrong kind."""


@dataclass(frozen=True)
class Config:
    root: str | None = None  # the folder holding the file; globs are relative to it
    path: str | None = None  # the file it was read from (None: defaults)
    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, frozenset[str]], ...] = ()
    severity: tuple[tuple[str, str], ...] = ()
    clan_date: str | None = None
    warnings: tuple[str, ...] = ()  # unknown keys and codes, said once per run

    def relative(self, path: str) -> str:
        if self.root is None:
            return path.replace(os.sep, "/")
        return os.path.relpath(os.path.abspath(path), self.root).replace(os.sep, "/")

    def excludes(self, path: str) -> bool:
        """Whether the file or folder at `path`, or a folder above it below the root, is excluded."""
        if not self.exclude:
            return False
        relative = self.relative(path)
        if relative.startswith("../"):
            return False
        parts = relative.split("/")
        for end in range(len(parts), 0, -1):
            if any(_glob_match("/".join(parts[:end]), pattern) for pattern in self.exclude):
                return True
        return False

    def ignored_for(self, path: str) -> frozenset[str]:
        relative = self.relative(path)
        codes: set[str] = set(self.ignore)
        for pattern, ignored in self.per_file_ignores:
            if _glob_match(relative, pattern):
                codes |= ignored
        return frozenset(codes)


def _glob_match(relative: str, pattern: str) -> bool:
    """fnmatch on the path relative to the root; a pattern without `/` also matches the file name."""
    pattern = pattern.strip().removeprefix("./").rstrip("/")
    if fnmatch.fnmatchcase(relative, pattern):
        return True
    if "**/" in pattern and fnmatch.fnmatchcase(relative, pattern.replace("**/", "")):
        return True  # `**/x` also matches `x` at the top
    return "/" not in pattern and fnmatch.fnmatchcase(relative.rsplit("/", 1)[-1], pattern)


def _codes(value: Any, key: str) -> frozenset[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"`{key}` must be a list of codes")
    return frozenset(value)


def parse_config(data: dict[str, Any], root: str | None = None, path: str | None = None) -> Config:
    """A Config from the table of a configuration file (pure: no file system)."""
    if not isinstance(data, dict):
        raise ConfigError("the configuration must be a table")
    warnings = [f"unknown key `{key}` (known: {', '.join(KEYS)})" for key in data if key not in KEYS]
    select = _codes(data["select"], "select") if "select" in data else None
    ignore = _codes(data.get("ignore", []), "ignore")
    exclude = data.get("exclude", [])
    if isinstance(exclude, str):
        exclude = [exclude]
    if not isinstance(exclude, list) or not all(isinstance(v, str) for v in exclude):
        raise ConfigError("`exclude` must be a list of globs")
    per_file = data.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise ConfigError("`per-file-ignores` must be a table of glob = [codes]")
    per_file_ignores = tuple((glob, _codes(codes, f"per-file-ignores.{glob}")) for glob, codes in per_file.items())
    severity_table = data.get("severity", {})
    if not isinstance(severity_table, dict):
        raise ConfigError("`severity` must be a table of code = severity")
    severity = []
    for code, level in severity_table.items():
        if level not in SEVERITIES:
            raise ConfigError(f"`severity.{code}` must be one of error, warning, information (got {level!r})")
        severity.append((code, SEVERITIES[level]))
    clan_date = data.get("clan-date")
    if clan_date is not None and not (isinstance(clan_date, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", clan_date)):
        raise ConfigError("`clan-date` must be a date, YYYY-MM-DD")
    known = known_codes()
    named = set(select or ()) | ignore | {c for _, codes in per_file_ignores for c in codes} | {c for c, _ in severity}
    warnings.extend(f"unknown code `{code}`" for code in sorted(named - known))
    return Config(
        root=root,
        path=path,
        select=select,
        ignore=ignore,
        exclude=tuple(exclude),
        per_file_ignores=per_file_ignores,
        severity=tuple(severity),
        clan_date=clan_date,
        warnings=tuple(warnings),
    )


def read_config_file(path: str) -> Config | None:
    """The Config in `path`; None for a pyproject.toml without `[tool.clan-lsp]`."""
    import tomllib

    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    if os.path.basename(path) == PYPROJECT:
        data = data.get("tool", {}).get("clan-lsp")
        if data is None:
            return None
    try:
        return parse_config(data, os.path.dirname(os.path.abspath(path)), path)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None


DEFAULT = Config()
_read: dict[str, tuple[tuple[float, int], Config | None]] = {}


def _cached_read(path: str) -> Config | None:
    stat = os.stat(path)
    stamp = (stat.st_mtime, stat.st_size)
    cached = _read.get(path)
    if cached is None or cached[0] != stamp:
        cached = (stamp, read_config_file(path))
        _read[path] = cached
    return cached[1]


def find_config(path: str, cache: dict[str, str | None] | None = None) -> Config:
    """The configuration that applies to the file (or folder) at `path`: the nearest one above it.

    Stops at the repository root (a folder with `.git`); re-reads a file when it changed.
    Raises ConfigError for a file that is there but broken. `cache` (folder -> the
    configuration file found from there) saves the walk for a run over many files; the
    server passes none, so a configuration created later is found.
    """
    folder = os.path.abspath(path)
    if not os.path.isdir(folder):
        folder = os.path.dirname(folder)
    walked = []
    found_path: str | None = None
    while True:
        if cache is not None and folder in cache:
            found_path = cache[folder]
            break
        walked.append(folder)
        found_path = next((c for c in _candidates(folder) if _cached_read(c) is not None), None)
        parent = os.path.dirname(folder)
        if found_path is not None or parent == folder or os.path.exists(os.path.join(folder, ".git")):
            break
        folder = parent
    if cache is not None:
        cache.update(dict.fromkeys(walked, found_path))
    if found_path is None:
        return DEFAULT
    return _cached_read(found_path) or DEFAULT


def _candidates(folder: str) -> list[str]:
    return [c for c in (os.path.join(folder, CONFIG_NAME), os.path.join(folder, PYPROJECT)) if os.path.isfile(c)]


# -- inline suppressions

_MARK = b"clan-lsp:"
_SUPPRESSION = re.compile(rb"#[ \t]*clan-lsp:[ \t]*ignore(?![\w-])(?:\[([^\]\n\r]*)\])?")


@dataclass
class Suppression:
    line: int  # 0-based, as LineIndex counts
    start: int
    end: int
    codes: frozenset[str] | None  # None: every code
    used: set[str] = dataclasses.field(default_factory=set)

    def covers(self, line: int, code: str) -> bool:
        return line in (self.line, self.line + 1) and (self.codes is None or code in self.codes)


def suppressions(text: bytes, index: LineIndex | None = None, spelled: Callable[[bytes], list[int]] | None = None) -> list[Suppression]:
    """The `# clan-lsp: ignore` comments; `spelled` (SyntaxTree.spelled) spares searching a
    text that has none on every keystroke."""
    if not (spelled(_MARK) if spelled is not None else _MARK in text):
        return []
    index = index or LineIndex(text)
    found = []
    for match in _SUPPRESSION.finditer(text):
        listed = match.group(1)
        codes = None
        if listed is not None:
            codes = frozenset(c.strip() for c in listed.decode("utf-8", "replace").split(",") if c.strip())
        found.append(Suppression(index.line_of(match.start()), match.start(), match.end(), codes))
    return found


def apply_config(
    findings: Iterable[Finding],
    path: str,
    text: bytes,
    config: Config = DEFAULT,
    index: LineIndex | None = None,
    report_unused: bool = True,
    spelled: Callable[[bytes], list[int]] | None = None,
) -> list[Finding]:
    """The findings of the file at `path` (with contents `text`) to report under `config`.

    Inline suppressions first (so one that matches a finding the configuration ignores
    anyway still counts as used), then unused suppressions, then select/ignore and
    per-file ignores, then severity overrides. Findings of other files pass unchanged.
    """
    index = index or LineIndex(text)
    marks = suppressions(text, index, spelled)
    kept: list[Finding] = []
    for finding in findings:
        if finding.path != path or not marks:
            kept.append(finding)
            continue
        line = index.line_of(finding.start)
        covering = [m for m in marks if m.covers(line, finding.code)]
        for mark in covering:
            mark.used.add(finding.code)
        if not covering:
            kept.append(finding)
    if report_unused:
        for mark in marks:
            if mark.codes is None:
                message = "" if mark.used else "This suppression suppresses nothing: no finding on this line or the next."
            else:
                unused = ", ".join(f"`{c}`" for c in sorted(mark.codes - mark.used))
                message = f"Nothing to suppress for {unused}: no such finding on this line or the next." if unused else ""
            if message:
                kept.append(Finding(UNUSED_SUPPRESSION.code, UNUSED_SUPPRESSION.severity, mark.start, mark.end, message, path))
    ignored = config.ignored_for(path) if config is not DEFAULT else frozenset()
    severity = dict(config.severity)
    result = []
    for finding in kept:
        if finding.path == path:
            if config.select is not None and finding.code not in config.select:
                continue
            if finding.code in ignored:
                continue
            if finding.code in severity and severity[finding.code] != finding.severity:
                finding = dataclasses.replace(finding, severity=severity[finding.code])
        result.append(finding)
    result.sort(key=lambda f: (f.path or "", f.start, f.code))
    return result


RECHECK_SECONDS = 1.0  # how long the server trusts a file's configuration before looking again
_found_for: dict[str, tuple[float, Config]] = {}


def config_for(path: str | None) -> Config:
    """find_config for the server: a broken or missing file means the defaults, never a crash.

    The answer is kept for a second: looking costs a few stats per folder up to the
    repository root (0.12 ms on clan-core's wireguard), on every keystroke. A file
    created or changed is seen after that, or at once after forget_configs()."""
    if path is None:
        return DEFAULT
    now = time.monotonic()
    kept = _found_for.get(path)
    if kept is not None and now - kept[0] < RECHECK_SECONDS:
        return kept[1]
    try:
        config = find_config(path)
    except (ConfigError, OSError):
        config = DEFAULT
    _found_for[path] = (now, config)
    return config


def forget_configs() -> None:
    """Files changed on disk: look for every file's configuration again on next use."""
    _found_for.clear()

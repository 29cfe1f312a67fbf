"""From files to findings: the entry point `clan-lsp check` and the server share.

Knows nothing of LSP. A `Files` object reads and caches sources (open editor
buffers win over disk); `analyze` returns the findings for one file, following
`imports` and finding the module that imports a split-out role file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .checks import ERROR, Finding, run_rules
from .model import ServiceModule, SourceFile, attach_imports, find_services, load_source
from .spec.versions import NEWEST, Generation
from .syntax import SyntaxTree

MAX_FILE_BYTES = 4 * 1024 * 1024  # larger files get a notice instead of deep analysis


class Files:
    """Sources by path: open buffers first, then disk (cached by mtime and size)."""

    def __init__(self, roots: list[str] | None = None) -> None:
        # Where looking around is allowed (the server's workspace folders); None: anywhere.
        # Files a module imports are read wherever they are.
        self.roots = [os.path.abspath(r) for r in roots] if roots is not None else None
        self.overlays: dict[str, SourceFile] = {}
        self._disk: dict[str, tuple[tuple[float, int], SourceFile | None]] = {}

    def set_overlay(self, path: str, source: SourceFile) -> None:
        self.overlays[path] = source

    def may_explore(self, directory: str) -> bool:
        if self.roots is None:
            return True
        directory = os.path.abspath(directory)
        return any(directory == root or directory.startswith(root + os.sep) for root in self.roots)

    def drop_overlay(self, path: str) -> None:
        self.overlays.pop(path, None)

    def load(self, path: str) -> SourceFile | None:
        if path in self.overlays:
            return self.overlays[path]
        try:
            stat = os.stat(path)
        except OSError:
            return None
        stamp = (stat.st_mtime, stat.st_size)
        cached = self._disk.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        source = None
        if stat.st_size <= MAX_FILE_BYTES:
            try:
                with open(path, "rb") as handle:
                    source = load_source(handle.read(), path)
            except OSError:
                source = None
        self._disk[path] = (stamp, source)
        return source


@dataclass
class FileReport:
    path: str | None
    findings: list[Finding] = field(default_factory=list)
    services: list[ServiceModule] = field(default_factory=list)
    is_service_file: bool = False

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == ERROR)


def syntax_findings(tree: SyntaxTree, path: str | None) -> list[Finding]:
    return [Finding("syntax-error", ERROR, e.start, e.end, e.message, path) for e in tree.syntax_errors()]


def services_in(source: SourceFile, files: Files) -> list[ServiceModule]:
    modules, _registered = find_services(source)
    for module in modules:
        attach_imports(module, files.load)
    return modules


def importer_of(path: str, files: Files) -> ServiceModule | None:
    """A service module in this or the parent folder that imports the file at `path`."""
    name = os.path.basename(path).encode()
    folder = os.path.dirname(os.path.abspath(path))
    for directory in (folder, os.path.dirname(folder)):
        if not files.may_explore(directory):
            continue
        try:
            entries = sorted(os.listdir(directory))
        except OSError:
            continue
        for entry in entries:
            candidate = os.path.join(directory, entry)
            if not entry.endswith(".nix") or os.path.abspath(candidate) == os.path.abspath(path):
                continue
            source = files.load(candidate)
            if source is None or name not in source.text or b"imports" not in source.text:
                continue
            for module in services_in(source, files):
                for part in module.parts():
                    if part.source.path and os.path.abspath(part.source.path) == os.path.abspath(path):
                        return module
    return None


def analyze(
    source: SourceFile,
    files: Files,
    generation: Generation = NEWEST,
    find_importer: bool = True,
    workspace=None,
) -> FileReport:
    """Findings for one file: syntax, and every rule over the services it is part of."""
    report = FileReport(source.path)
    report.findings.extend(syntax_findings(source.tree, source.path))
    modules = services_in(source, files)
    if not modules and find_importer and source.path is not None:
        owner = importer_of(source.path, files)
        if owner is not None:
            # Check the file as the part of the service it is, through its owner.
            modules = [owner]
    report.services = modules
    report.is_service_file = bool(modules)
    broken = [e for e in report.findings if e.code == "syntax-error"]
    for module in modules:
        for finding in run_rules(module, generation, workspace=workspace):
            if broken and _unreliable(finding, broken):
                continue
            report.findings.append(finding)
    if workspace is not None and source.path is not None and source.path in workspace.inventory_paths():
        from .checks.inventory import run_inventory_rules

        for finding in run_inventory_rules(workspace, generation, source.path):
            if broken and _unreliable(finding, broken):
                continue
            report.findings.append(finding)
    report.findings = _unique(report.findings)
    return report


# Rules that report something absent: after a syntax error the parser may have
# swallowed exactly the thing, so they stay quiet until the file parses.
ABSENCE_CODES = frozenset(
    {"missing-roles", "missing-manifest-name", "missing-readme", "missing-role-description", "exports-not-allowed"}
)


def _unreliable(finding: Finding, syntax_errors: list[Finding]) -> bool:
    if finding.code in ABSENCE_CODES:
        return True
    return any(e.path == finding.path and finding.start <= e.end and e.start <= finding.end for e in syntax_errors)


def _unique(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple] = set()
    result = []
    for finding in findings:
        key = (finding.path, finding.start, finding.end, finding.code, finding.message)
        if key in seen:
            continue
        seen.add(key)
        result.append(finding)
    result.sort(key=lambda f: (f.path or "", f.start, f.code))
    return result

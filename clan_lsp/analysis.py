"""From files to answers: the one facade `clan-lsp check` and the server share.

Knows nothing of LSP. A `Files` object reads and caches sources (open editor
buffers win over disk); `Analysis` owns it with the workspace's clans and answers
every question about a file by (path, offset): which services the file is part of,
its findings, and the IDE features. Callers hold no semantic state of their own.
"""

from __future__ import annotations

import gc
import os
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field, replace

from .checks import ERROR, Finding, run_rules
from .model import ServiceModule, SourceFile, attach_imports, find_services, load_source
from .semantics.clan import could_be_clan
from .spec.versions import NEWEST, Generation
from .syntax import LineIndex, SyntaxTree


def _ide():
    """The editor features, imported on first use: `clan-lsp check` never needs them."""
    from . import ide

    return ide


MAX_FILE_BYTES = 4 * 1024 * 1024  # larger files get a notice instead of deep analysis
GRAPH_ON_TYPE_INSTANCES = 30
RECHECK_SECONDS = 1.0  # how long a file read from disk is trusted before its stamp is read again
KEPT_FILES = 64  # files read from disk that a long-lived Analysis holds after their last use
KEPT_LINE_INDEXES = 256  # line starts of files not read, for positions in them


_DISK_PARSERS = threading.local()  # a parser is not to be shared between threads


def _disk_parser():
    parser = getattr(_DISK_PARSERS, "parser", None)
    if parser is None:
        from .syntax.parse import new_parser

        parser = _DISK_PARSERS.parser = new_parser()
    return parser


class Files:
    """Sources by path: open buffers first, then disk (cached by mtime and size).

    `keep`: how many files read from disk are held (the most recently used); None: all of
    them (`clan-lsp check` reads each file once). Beyond that a file stays cached while
    anything else holds it (a module, the index), so one file is one parse while it is in
    use, and a server that reads a thousand modules does not hold a thousand trees."""

    def __init__(self, roots: list[str] | None = None, keep: int | None = None) -> None:
        # Where looking around is allowed (the server's workspace folders); None: anywhere.
        # Files a module imports are read wherever they are.
        self.roots = [os.path.abspath(r) for r in roots] if roots is not None else None
        self.overlays: dict[str, SourceFile] = {}
        self._overlay_versions: dict[str, int] = {}
        self._next_version = 0
        # path -> (stamp, the source while held, or None: the file is unreadable or too big)
        self._disk: dict[str, tuple[tuple[float, int], weakref.ref | None]] = {}
        self._checked: dict[str, float] = {}  # when each file's stamp was last read
        self.keep = keep
        self._held: OrderedDict[str, SourceFile] = OrderedDict()  # the most recently used, newest last
        self._line_indexes: OrderedDict[str, tuple] = OrderedDict()  # path -> (version, LineIndex), see line_index

    def set_overlay(self, path: str, source: SourceFile) -> None:
        self.overlays[path] = source
        self._next_version += 1
        self._overlay_versions[path] = self._next_version

    def may_explore(self, directory: str) -> bool:
        if self.roots is None:
            return True
        directory = os.path.abspath(directory)
        return any(directory == root or directory.startswith(root + os.sep) for root in self.roots)

    def drop_overlay(self, path: str) -> None:
        self.overlays.pop(path, None)
        self._overlay_versions.pop(path, None)

    def forget_stamps(self) -> None:
        """Files changed on disk: read every stamp again on next use."""
        self._checked.clear()

    def _cached(self, path: str) -> SourceFile | None:
        cached = self._disk.get(path)
        return cached[1]() if cached is not None and cached[1] is not None else None

    def _hold(self, path: str, source: SourceFile) -> SourceFile:
        held = self._held
        held[path] = source
        held.move_to_end(path)
        if self.keep is not None:
            while len(held) > self.keep:
                held.popitem(last=False)
        return source

    def _used(self, path: str, source: SourceFile) -> SourceFile:
        """A source found in the cache: newest again if held. One that lives on elsewhere
        (the index holds the clan's files) is not taken in, or a keystroke that touches a
        hundred such files would push out the few only this cache holds."""
        if path in self._held:
            self._held.move_to_end(path)
        return source

    def version(self, path: str) -> tuple | None:
        """What `load` would read, without reading it: equal versions are equal texts (the
        buffer's edit count, or the file's stamp on disk); None: no such file."""
        if path in self.overlays:
            return ("buffer", self._overlay_versions[path])
        cached = self._disk.get(path)
        now = time.monotonic()
        if cached is not None and now - self._checked.get(path, 0.0) < RECHECK_SECONDS:
            return ("disk",) + cached[0]
        try:
            stat = os.stat(path)
        except OSError:
            return None
        stamp = (stat.st_mtime, stat.st_size)
        if cached is not None and cached[0] == stamp:
            self._checked[path] = now
        return ("disk",) + stamp

    def line_index(self, path: str) -> LineIndex | None:
        """Where a file's lines start, to name positions in it: from its tree when it is read,
        else from its bytes (a workspace's symbols point into a thousand files that need no
        parse, and no tree held for them)."""
        if path in self.overlays:
            return self.overlays[path].tree.line_index
        version = self.version(path)
        source = self._cached(path)
        if source is not None and version == ("disk",) + self._disk[path][0]:
            return source.tree.line_index
        cached = self._line_indexes.get(path)
        if cached is not None and cached[0] == version:
            self._line_indexes.move_to_end(path)
            return cached[1]
        data = self.peek(path)
        if data is None:
            return None
        index = LineIndex(data)
        self._line_indexes[path] = (version, index)
        while len(self._line_indexes) > KEPT_LINE_INDEXES:
            self._line_indexes.popitem(last=False)
        return index

    def peek(self, path: str) -> bytes | None:
        """A file's bytes without parsing it (the open buffer's, else the disk's). Not kept:
        a full index build peeks at every file once, and most are never looked at again."""
        if path in self.overlays:
            return self.overlays[path].text
        cached = self._disk.get(path)
        source = self._cached(path)
        if source is not None and time.monotonic() - self._checked.get(path, 0.0) < RECHECK_SECONDS:
            return source.text
        try:
            stat = os.stat(path)
        except OSError:
            return None
        if source is not None and cached[0] == (stat.st_mtime, stat.st_size):
            return source.text
        if stat.st_size > MAX_FILE_BYTES:
            return None
        try:
            with open(path, "rb") as handle:
                return handle.read()
        except OSError:
            return None

    def load(self, path: str, hold: bool = True) -> SourceFile | None:
        """The file's source; without `hold`, a file read now is not held after its last use
        (read for facts that are kept without it: see ModuleCache)."""
        if path in self.overlays:
            return self.overlays[path]
        now = time.monotonic()
        cached = self._disk.get(path)
        if cached is not None and now - self._checked.get(path, 0.0) < RECHECK_SECONDS:
            # a keystroke touches thousands of files: stat each at most this often
            if cached[1] is None:
                return None
            source = cached[1]()
            if source is not None:
                return self._used(path, source)
        try:
            stat = os.stat(path)
        except OSError:
            return None
        self._checked[path] = now
        stamp = (stat.st_mtime, stat.st_size)
        if cached is not None and cached[0] == stamp:
            if cached[1] is None:
                return None
            source = cached[1]()
            if source is not None:
                return self._used(path, source)
        source = None
        if stat.st_size <= MAX_FILE_BYTES:
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
                    # one parser for every file read from disk (they are parsed one at a time and
                    # never edited): a parser per file is 13 MiB on a 1000-service clan
                    source = load_source(data, path, tree=SyntaxTree(data, parser=_disk_parser()))
            except OSError:
                source = None
        self._held.pop(path, None)
        if source is None:
            self._disk[path] = (stamp, None)
            return None
        self._disk[path] = (stamp, weakref.ref(source))
        return self._hold(path, source) if hold else source


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
    modules, _registered = find_services(source, registered_too=False)
    for module in modules:
        attach_imports(module, files.load)
    return modules


# A split-out part of a service sets one of these; a file without any is no fragment.
_FRAGMENT_KEYS = (b"roles", b"perInstance", b"perMachine", b"manifest", b"exports", b"imports")


def _may_be_fragment(source: SourceFile) -> bool:
    return any(key in source.text for key in _FRAGMENT_KEYS)


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
    return _checked(report, source, generation, workspace)


def _checked(report: FileReport, source: SourceFile, generation: Generation, workspace, graph: bool = True) -> FileReport:
    """Add every rule's findings over the file's services, the inventory rules, and (with
    `graph`) the export-graph rules."""
    spans = _broken_spans(source, [e for e in report.findings if e.code == "syntax-error"])
    for module in report.services:
        for finding in run_rules(module, generation, workspace=workspace):
            if spans and _unreliable(finding, source, spans):
                continue
            report.findings.append(finding)
    if workspace is not None and source.path is not None and workspace.declares_inventory(source):
        from .checks.inventory import run_inventory_rules

        for finding in run_inventory_rules(workspace, generation, source.path):
            if spans and _unreliable(finding, source, spans):
                continue
            report.findings.append(finding)
    if graph and workspace is not None and source.path is not None:
        # export graph (clan_lsp/checks/graph.py): findings land in service and inventory files alike
        from .checks.graph import run_graph_rules

        for finding in run_graph_rules(workspace, generation, source.path):
            if not (spans and _unreliable(finding, source, spans)):
                report.findings.append(finding)
    report.findings = _unique(report.findings)
    return report


# Rules that report something absent, and the key each finds missing: while that key is
# in a broken spot, the rule cannot know whether it is there.
ABSENT_KEYS = {
    "missing-roles": b"roles",
    "missing-manifest-name": b"name",
    "missing-readme": b"readme",
    "missing-role-description": b"description",
    "exports-not-allowed": b"exports",
}


def _broken_spans(source: SourceFile, syntax_errors: list[Finding]) -> list[tuple[int, int]]:
    """The file's broken spots: what recovery blanked, and where the syntax errors are."""
    recovery = source.tree.recovery
    spans = [(b.start, b.end) for b in recovery.broken] if recovery is not None else []
    return spans + [(e.start, e.end) for e in syntax_errors]


def _unreliable(finding: Finding, source: SourceFile, spans: list[tuple[int, int]]) -> bool:
    """A finding the half-typed text may have caused: it overlaps a broken spot, or it
    reports a key as absent that a broken spot mentions. The rest of the file keeps its
    findings while one binding is being typed."""
    if finding.path == source.path and any(finding.start <= end and start <= finding.end for start, end in spans):
        return True
    key = ABSENT_KEYS.get(finding.code)
    return key is not None and any(key in source.text[start:end] for start, end in spans)


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


class Analysis:
    """Everything known about a workspace, asked by (path, offset).

    `update` records an open buffer; answers are computed from the current texts and
    cached until the next update, so an answer never depends on which request ran first.
    """

    def __init__(self, roots: list[str] | None = None, clan_date: str | None = None, files: Files | None = None) -> None:
        self.files = files or Files(roots, keep=KEPT_FILES)
        # where clans are looked for, named as given: the CLI and the index must name a file
        # alike to share one parse of it
        self.workspace_roots = list(roots or [])
        self.clan_date = clan_date  # a user's setting wins over flake.lock
        self.input_folders: dict[str, str] = {}  # flake input name -> a folder that wins over the lock
        # The export graph spans the whole clan: rebuilt on every keystroke only in clans of at
        # most this many instances (None: always, as `clan-lsp check` does). Bigger clans get its
        # findings from `clan-lsp check`; hover, inlay hints and lenses still build it on request.
        self.graph_limit: int | None = GRAPH_ON_TYPE_INSTANCES
        self._index = None
        self._index_dirty = True
        # path -> (its services, the files they were read from; None: any file may change them)
        self._services: dict[str, tuple[list[ServiceModule], frozenset[str] | None]] = {}
        self._broken: set[str] = set()  # open buffers that do not parse right now
        self._module_cache = None  # service modules, kept across index rebuilds
        self._walk_again = True  # the workspace's file names may have changed
        self._edited: set[str] = set()  # files edited since the index was built, that may change it
        self._freeze = False  # a full build happened: freeze what lives on after the next answer
        self._instance_findings: dict = {}  # per inventory instance, see checks/inventory.py

    # -- state

    def set_roots(self, roots: list[str]) -> None:
        self.workspace_roots = [os.path.abspath(r) for r in roots if r]
        self.files.roots = list(self.workspace_roots)
        self.invalidate()

    def set_input_folders(self, folders: dict[str, str]) -> None:
        if folders != self.input_folders:
            self.input_folders = dict(folders)
            self._instance_findings.clear()
            self.invalidate()

    def invalidate(self) -> None:
        """Something on disk changed: forget everything derived."""
        self._index_dirty = True
        self._walk_again = True
        self.files.forget_stamps()
        self._services.clear()
        self._instance_findings.clear()  # they depend on what the disk says (flake.lock, inputs)

    def update(self, path: str, source: SourceFile | None) -> bool:
        """An editor buffer changed (None: closed). True when other files' answers may change."""
        if source is None:
            self.files.drop_overlay(path)
        else:
            self.files.set_overlay(path, source)
        self._forget_services(path)
        if source is not None and source.tree.root.has_error:
            self._broken.add(path)
        else:
            self._broken.discard(path)
        index = self._index
        if index is None:
            self._index_dirty = True
            return False
        if path in index.indexed or (source is not None and could_be_clan(source)):
            self._index_dirty = True
            self._edited.add(path)
            return True
        if source is None:  # the disk's text replaces the buffer's: it may hold a clan the buffer did not
            self._index_dirty = True
            self._edited.add(path)
        names = index.modules_with_part(os.path.abspath(path))
        for name in names:  # a part of a registered service: that module is read again
            index.module_changed(name)
        return bool(names)

    @property
    def index(self):
        """The workspace's clans, interfaces, modules and inventory (None without a workspace)."""
        from .workspace.index import ModuleCache, WorkspaceIndex

        if not self.workspace_roots:
            return None
        if self._index is None or self._index_dirty:
            if self._module_cache is None:
                self._module_cache = ModuleCache(self.files)
            # typing changes no file names nor anything on disk: after edits, the last index is
            # brought up to date; the folders are walked again only after invalidate()
            previous = self._index if not self._walk_again else None
            if previous is None:
                gc.unfreeze()  # what the last full build kept may be garbage now
            built = WorkspaceIndex.build(self.workspace_roots, self.files, self._module_cache, previous=previous, changed=self._edited)
            if previous is None:
                self._freeze = True
            built.instance_findings = self._instance_findings
            built.input_settings = self.input_folders
            self._walk_again = False
            last = self._index
            if last is not None and any(p in last.indexed and p not in built.indexed for p in self._broken):
                # a clan file is half-typed and no longer reads as a clan: keep the last good
                # clans (its own answers come from its current tree; see ide/clan.py)
                built = last
            else:
                self._edited = set()
            self._index = built
            self._index_dirty = False
        return self._index

    def generation(self) -> Generation:
        if self.clan_date:
            return Generation(self.clan_date)
        index = self.index
        return Generation(index.clan_date if index is not None else None)

    # -- files and units

    def source(self, path: str) -> SourceFile | None:
        return self.files.load(path)

    def services_of(self, path: str) -> list[ServiceModule]:
        """The service modules a file declares, or the one it is a part of (split role files)."""
        if path in self._services:
            return self._services[path][0]
        source = self.files.load(path)
        modules = services_in(source, self.files) if source is not None else []
        read_from: frozenset[str] | None = None  # None: it may depend on any file
        if not modules and source is not None and _may_be_fragment(source):
            # a part of another file's service: the index and the folder's files say whose
            if not self._is_clan_file(path):
                owner = self._registered_owner(path) or importer_of(path, self.files)
                modules = [owner] if owner is not None else []
            else:  # a clan file stays one until a clan file changes
                read_from = frozenset([os.path.abspath(path)] + [os.path.abspath(p) for p in self.index.indexed])
        elif not any(part.unresolved_imports for module in modules for part in module.parts()):
            read_from = frozenset(
                [os.path.abspath(path)] + [os.path.abspath(p.source.path) for m in modules for p in m.parts() if p.source.path]
            )
        self._services[path] = (modules, read_from)
        return modules

    def _forget_services(self, edited: str) -> None:
        """Drop the services read from a file that changed; a file's own services stay while
        none of the files they were read from changed."""
        edited = os.path.abspath(edited)
        for path in [p for p, (_, read_from) in self._services.items() if read_from is None or edited in read_from]:
            del self._services[path]

    def _is_clan_file(self, path: str) -> bool:
        index = self.index
        return index is not None and path in index.indexed

    def _registered_owner(self, path: str) -> ServiceModule | None:
        """The registered module a file is a part of (a role file split out with `imports`)."""
        index = self.index
        if index is None:
            return None
        owner = index.owners().get(os.path.abspath(path))
        return index.module(owner) if owner is not None else None

    # -- answers

    def _as_indexed(self, path: str) -> str:
        """The name the workspace index gives this file (`clan.nix` may be `/abs/clan.nix` there):
        one file, one parse, one set of inventory findings."""
        index = self.index
        if index is None or path in index.indexed:
            return path
        if "by-abspath" not in index._derived:
            index._derived["by-abspath"] = {os.path.abspath(p): p for p in index.indexed}
        return index._derived["by-abspath"].get(os.path.abspath(path), path)

    def report(self, path: str) -> FileReport:
        path = self._as_indexed(path)
        source = self.files.load(path)
        if source is None:
            return FileReport(path)
        report = FileReport(path)
        report.findings.extend(syntax_findings(source.tree, path))
        report.services = self.services_of(path)
        report.is_service_file = bool(report.services)
        if not report.services and self._is_clan_file(path):
            # Nix rejects a duplicate in any file; in a service module the rule runs with the others
            from .checks.syntax import duplicate_findings

            report.findings.extend(duplicate_findings(source))
        index = self.index
        graph = index is not None and (self.graph_limit is None or len(index.instances) <= self.graph_limit)
        report = _checked(report, source, self.generation(), index, graph)
        if self._freeze:
            # The trees and models of the whole workspace, and the modules the first answer
            # read, live on while it is typed in; a full collection scanning them costs 70-110 ms
            # on a 1000-service clan, every few keystrokes. Frozen, they are left out of
            # collections (refcounting still frees them; the next full build unfreezes first).
            self._freeze = False
            gc.freeze()
        return report

    def diagnostics(self, path: str) -> list[Finding]:
        """The findings to show in this file, named as the caller names it."""
        wanted = os.path.abspath(path)
        shown = []
        for finding in self.report(path).findings:
            if finding.path == path:
                shown.append(finding)
            elif finding.path is not None and os.path.abspath(finding.path) == wanted:
                shown.append(replace(finding, path=path))  # reached through an importer's absolute path
        return shown

    def complete(self, path: str, offset: int, snippets: bool = True):
        source = self.files.load(path)
        if source is None:
            return []
        return _ide().complete(source, self.services_of(path), offset, self.generation(), snippets, workspace=self.index)

    def hover(self, path: str, offset: int):
        source = self.files.load(path)
        return _ide().hover(source, self.services_of(path), offset, workspace=self.index) if source else None

    def definition(self, path: str, offset: int):
        source = self.files.load(path)
        return _ide().definition(source, self.services_of(path), offset, workspace=self.index) if source else []

    def references(self, path: str, offset: int, include_declaration: bool = True):
        source = self.files.load(path)
        if source is None:
            return []
        return _ide().references(source, self.services_of(path), offset, include_declaration, workspace=self.index)

    def prepare_rename(self, path: str, offset: int):
        source = self.files.load(path)
        return _ide().prepare_rename(source, self.services_of(path), offset, workspace=self.index) if source else None

    def rename(self, path: str, offset: int, new_name: str):
        source = self.files.load(path)
        return _ide().rename(source, self.services_of(path), offset, new_name, workspace=self.index) if source else None

    def symbols(self, path: str):
        source = self.files.load(path)
        return _ide().document_symbols(source, self.services_of(path), workspace=self.index) if source else []

    def workspace_symbols(self, query: str = ""):
        index = self.index
        return _ide().workspace_symbols(index, query) if index is not None else []

    def code_actions(self, path: str, start: int, end: int):
        return _ide().code_actions(self.diagnostics(path), start, end, path)

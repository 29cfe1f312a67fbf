"""What every benchmark here shares: the server as a user starts it, an LSP client,
positions, percentiles, resident memory, and tree-sitter's own parse (the floor).

The benchmarks drive clan-lsp only through LSP over stdio and through the CLI; they
import nothing from clan_lsp, so they keep working whatever its insides look like.
"""

from __future__ import annotations

import asyncio
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import tree_sitter
import tree_sitter_nix

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parent
LANGUAGE = tree_sitter.Language(tree_sitter_nix.language())

# What the `clan-lsp` console script runs, against this checkout (not whatever is installed).
# -P: no current folder first on sys.path (`-c` puts it there; a console script does not), or
# a bench run from another checkout's root would run that checkout, whatever --checkout says.
ENTRY_POINT = [sys.executable, "-P", "-c", "import sys; from clan_lsp.cli import main; sys.exit(main())"]


_compiled: set[Path] = set()


def compile_checkout(checkout: Path | None = None) -> None:
    """Compile the checkout's modules into `__pycache__` (gitignored), once per bench process.

    A user's install (pip, nix) ships bytecode; a process that compiles clan_lsp from source
    pays 0.3-0.5 s more to start. So every process the bench starts finds the bytecode of
    the tree it runs, and may write what is missing (see user_env)."""
    checkout = (checkout or CHECKOUT).resolve()
    if checkout in _compiled:
        return
    package = checkout / "clan_lsp"
    if package.is_dir():
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], env=user_env(), check=False, stdout=subprocess.DEVNULL)
    _compiled.add(checkout)


def user_env() -> dict[str, str]:
    """The environment of a process as a user runs it: bytecode is read and written
    (a developer's shell may set PYTHONDONTWRITEBYTECODE, which makes every start compile)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def server_env() -> dict[str, str]:
    """user_env() running this checkout of clan-lsp, compiled."""
    compile_checkout()
    env = user_env()
    env["PYTHONPATH"] = str(CHECKOUT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


BYTECODE_NOTE = (
    "Every process the bench starts runs as a user's install does: the checkout is compiled to "
    "bytecode first (`compileall`, into the gitignored `__pycache__`) and PYTHONDONTWRITEBYTECODE is unset."
)


def machine() -> str:
    try:
        load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, tree-sitter {tree_sitter_version()}; load average {load}"


def tree_sitter_version() -> str:
    try:
        from importlib.metadata import version

        return version("tree-sitter")
    except Exception:  # noqa: BLE001
        return "?"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 0.1 else f"{seconds * 1000:.0f} ms"


def ratio(value: float, floor: float) -> str:
    return f"{value / floor:.1f}x" if floor > 0 else ""


def spread(values: list[float]) -> str:
    """The runs' range around their median, to show how noisy the machine was."""
    if len(values) < 2:
        return ""
    middle = statistics.median(values)
    return f"±{(max(values) - min(values)) / 2 / middle * 100:.0f}%" if middle else ""


# -- positions (UTF-16, what every client speaks)


def position(text: bytes, offset: int) -> tuple[int, int]:
    line = text.count(b"\n", 0, offset)
    start = text.rfind(b"\n", 0, offset) + 1
    return line, len(text[start:offset].decode("utf-8", errors="replace").encode("utf-16-le")) // 2


def point(text: bytes, offset: int) -> tuple[int, int]:
    line = text.count(b"\n", 0, offset)
    return line, offset - (text.rfind(b"\n", 0, offset) + 1)


# -- the valid-file workload


STRUCTURAL = {b"_class", b"manifest", b"roles", b"perInstance", b"perMachine", b"interface", b"imports", b"name", b"exports", b"options", b"config"}


def identifier_ends(text: bytes, count: int, seed: int = 7) -> list[int]:
    """Offsets just after an identifier, where typing `x` keeps the file parseable.

    Keys that make a file a service module (`roles`, `manifest`, ...) are left alone,
    so every keystroke runs every rule rather than recognising no module at all."""
    tree = tree_sitter.Parser(LANGUAGE).parse(text)
    ends = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "identifier" and text[node.start_byte : node.end_byte] not in STRUCTURAL:
            ends.append(node.end_byte)
        stack.extend(node.children)
    ends.sort()
    rng = random.Random(seed)
    return [rng.choice(ends) for _ in range(count)]


@dataclass
class Keystroke:
    offset: int
    insert: bool  # type `x` at offset, else delete the `x` typed there


def valid_workload(text: bytes, count: int, seed: int = 7) -> list[Keystroke]:
    """Type `x` at the end of an identifier, remove it, repeat (count keystrokes)."""
    places = identifier_ends(text, (count + 1) // 2, seed)
    strokes = []
    for offset in places:
        strokes += [Keystroke(offset, True), Keystroke(offset, False)]
    return strokes[:count]


def apply(text: bytes, stroke: Keystroke) -> bytes:
    if stroke.insert:
        return text[: stroke.offset] + b"x" + text[stroke.offset :]
    return text[: stroke.offset] + text[stroke.offset + 1 :]


def reparse_floor(text: bytes, strokes: list[Keystroke]) -> list[float]:
    """tree-sitter's own incremental reparse of the same keystrokes (edit + parse)."""
    parser = tree_sitter.Parser(LANGUAGE)
    tree = parser.parse(text)
    times = []
    for stroke in strokes:
        new = apply(text, stroke)
        start = stroke.offset
        old_end, new_end = (start, start + 1) if stroke.insert else (start + 1, start)
        began = time.perf_counter()
        tree.edit(start, old_end, new_end, point(text, start), point(text, old_end), point(new, new_end))
        tree = parser.parse(new, tree)
        times.append(time.perf_counter() - began)
        text = new
    return times


def full_parse_floor(texts: list[bytes], runs: int = 3) -> float:
    """tree-sitter's full parse of every text, median of runs (seconds for all of them)."""
    parser = tree_sitter.Parser(LANGUAGE)
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        for text in texts:
            parser.parse(text)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


SKIPPED_FOLDERS = ("node_modules", "result", "__pycache__")  # and every folder whose name starts with a dot


def nix_files(root: Path) -> list[Path]:
    """The .nix files below root, walked as `clan-lsp check` walks a folder."""
    found = []
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith(".") and d not in SKIPPED_FOLDERS)
        found += [Path(directory) / n for n in sorted(names) if n.endswith(".nix")]
    return found


def trees_rss(paths: list[Path]) -> float:
    """Resident MiB of a Python process holding the tree-sitter tree of every file: the memory floor."""
    script = (
        "import sys, tree_sitter, tree_sitter_nix\n"
        "p = tree_sitter.Parser(tree_sitter.Language(tree_sitter_nix.language()))\n"
        "keep = [p.parse(open(f, 'rb').read()) for f in sys.stdin.read().split('\\0') if f]\n"
        "print(next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmRSS')) / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], input="\0".join(map(str, paths)), capture_output=True, text=True, check=True, env=user_env())
    return float(out.stdout.strip())


# -- the server through a real LSP client


def rss_of(pid: int) -> float | None:
    """Resident MiB of a process (Linux)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        return next(int(l.split()[1]) for l in status.splitlines() if l.startswith("VmRSS")) / 1024
    except (OSError, StopIteration):
        return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used (Linux): robust to a busy machine, unlike wall time."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


@dataclass
class Session:
    """One server process, started as `clan-lsp` is, and a client speaking to it."""

    root: Path | None = None
    client: object = None
    initialize_seconds: float = 0.0
    initialize_cpu: float | None = None  # the server's CPU seconds when it answered initialize
    published: dict = field(default_factory=dict)  # (uri, version) -> (arrival time, diagnostics)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    versions: dict = field(default_factory=dict)
    texts: dict = field(default_factory=dict)
    progress: dict = field(default_factory=dict)  # token -> {"begin": time, "end": time}
    _progress_ended: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> "Session":
        from lsprotocol import types as lsp
        from pygls.lsp.client import LanguageClient

        self.client = client = LanguageClient("clan-lsp-bench", "1")

        @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: lsp.PublishDiagnosticsParams) -> None:
            self.published[(params.uri, params.version)] = (time.perf_counter(), params.diagnostics)
            self._arrived.set()

        @client.feature(lsp.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def on_progress_create(params) -> None:
            return None

        @client.feature(lsp.PROGRESS)
        def on_progress(params: lsp.ProgressParams) -> None:
            kind = getattr(params.value, "kind", None) or (params.value.get("kind") if isinstance(params.value, dict) else None)
            self.progress.setdefault(str(params.token), {})[kind] = time.perf_counter()
            if kind == "end":
                self._progress_ended.set()

        began = time.perf_counter()
        await client.start_io(*ENTRY_POINT, env=server_env())
        folders = [lsp.WorkspaceFolder(self.root.resolve().as_uri(), self.root.name)] if self.root else None
        await client.initialize_async(
            lsp.InitializeParams(
                capabilities=lsp.ClientCapabilities(window=lsp.WindowClientCapabilities(work_done_progress=True)),
                process_id=os.getpid(),
                root_uri=self.root.resolve().as_uri() if self.root else None,
                workspace_folders=folders,
            )
        )
        self.initialize_seconds = time.perf_counter() - began
        self.initialize_cpu = self.cpu()
        return self

    @property
    def pid(self) -> int | None:
        server = getattr(self.client, "_server", None)
        return server.pid if server is not None else None

    def rss(self) -> float | None:
        return rss_of(self.pid) if self.pid else None

    def cpu(self) -> float | None:
        return cpu_seconds(self.pid) if self.pid else None

    async def initialized_and_indexed(self, progress_wait: float = 120) -> float:
        """Send `initialized`, wait until the server answers a workspace/symbol request (it
        needs the workspace indexed), and return how long indexing took: from the `$/progress`
        begin to end the server reports, else from `initialized` to that answer. The server
        may answer `initialize` before it has loaded (clan_lsp/boot.py); loading is not
        indexing, so the progress report is the better clock."""
        from lsprotocol import types as lsp

        began = time.perf_counter()
        self.client.initialized(lsp.InitializedParams())
        if self.root is not None:
            # a request sent now could be answered first and build the index itself
            try:
                await asyncio.wait_for(self._progress_ended.wait(), progress_wait)
            except asyncio.TimeoutError:
                pass  # a server that reports no progress
        await self.client.workspace_symbol_async(lsp.WorkspaceSymbolParams(query="zz-no-such-symbol"))
        answered = time.perf_counter()
        for report in self.progress.values():
            if "begin" in report and "end" in report:
                return report["end"] - report["begin"]
        return answered - began

    async def wait(self, uri: str, version: int, timeout: float = 120) -> tuple[float, list]:
        deadline = time.perf_counter() + timeout
        while (uri, version) not in self.published:
            self._arrived.clear()
            await asyncio.wait_for(self._arrived.wait(), max(0.01, deadline - time.perf_counter()))
        return self.published[(uri, version)]

    async def open(self, path: Path) -> float:
        """didOpen; seconds to its diagnostics."""
        from lsprotocol import types as lsp

        uri = path.resolve().as_uri()
        text = path.read_bytes()
        self.texts[uri] = text
        self.versions[uri] = 1
        sent = time.perf_counter()
        self.client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri=uri, language_id="nix", version=1, text=text.decode())))
        arrived, _ = await self.wait(uri, 1)
        return arrived - sent

    async def type(self, path: Path, stroke: Keystroke) -> tuple[float, list]:
        """One keystroke as an incremental didChange; seconds to that version's diagnostics."""
        from lsprotocol import types as lsp

        uri = path.resolve().as_uri()
        text = self.texts[uri]
        line, character = position(text, stroke.offset)
        if stroke.insert:
            edit = lsp.Range(lsp.Position(line, character), lsp.Position(line, character))
        else:
            end_line, end_character = position(text, stroke.offset + 1)
            edit = lsp.Range(lsp.Position(line, character), lsp.Position(end_line, end_character))
        self.texts[uri] = apply(text, stroke)
        version = self.versions[uri] = self.versions[uri] + 1
        change = lsp.TextDocumentContentChangePartial(range=edit, text="x" if stroke.insert else "")
        sent = time.perf_counter()
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(lsp.VersionedTextDocumentIdentifier(uri=uri, version=version), [change]))
        arrived, diagnostics = await self.wait(uri, version)
        return arrived - sent, diagnostics

    async def complete(self, path: Path, offset: int) -> float:
        """Seconds to the answer of a completion request at offset."""
        from lsprotocol import types as lsp

        uri = path.resolve().as_uri()
        line, character = position(self.texts[uri], offset)
        sent = time.perf_counter()
        await self.client.text_document_completion_async(lsp.CompletionParams(lsp.TextDocumentIdentifier(uri), lsp.Position(line, character)))
        return time.perf_counter() - sent

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.client.shutdown_async(None), 30)
            self.client.exit(None)
        finally:
            await self.client.stop()

"""The language server: LSP in, LSP out. The only module that imports pygls.

Handlers convert positions and types and delegate to `analysis` and `ide`.
Documents are kept as tree-sitter trees and every edit is applied as an edit
(incremental reparse). Any exception inside a feature is logged and answered
with an empty result: the server stays up.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.uris import from_fs_path, to_fs_path

from . import __version__, ide
from .analysis import MAX_FILE_BYTES, Analysis
from .config import apply_config, config_for, forget_configs
from .checks import ERROR, INFO, WARNING, Finding, full_message
from .model import SourceFile, load_source
from .syntax import UTF16, LineIndex, Position, SyntaxTree

log = logging.getLogger("clan-lsp")

SEVERITY = {ERROR: lsp.DiagnosticSeverity.Error, WARNING: lsp.DiagnosticSeverity.Warning, INFO: lsp.DiagnosticSeverity.Information}


def to_diagnostic(finding: Finding, range_: lsp.Range) -> lsp.Diagnostic:
    """A finding as the client shows it: our statement first (a Problems panel's line), clan's words below."""
    return lsp.Diagnostic(
        range_,
        full_message(finding),
        severity=SEVERITY.get(finding.severity, lsp.DiagnosticSeverity.Error),
        code=finding.code,
        source="clan-lsp",
        data={"fixes": len(finding.fixes)},
    )


COMPLETION_KIND = {
    ide.items.PROPERTY: lsp.CompletionItemKind.Property,
    ide.items.FIELD: lsp.CompletionItemKind.Field,
    ide.items.VARIABLE: lsp.CompletionItemKind.Variable,
    ide.items.FUNCTION: lsp.CompletionItemKind.Function,
    ide.items.ENUM_MEMBER: lsp.CompletionItemKind.EnumMember,
    ide.items.INTERFACE: lsp.CompletionItemKind.Interface,
    ide.items.MODULE: lsp.CompletionItemKind.Module,
    ide.items.VALUE: lsp.CompletionItemKind.Value,
}
SYMBOL_KIND = {
    "module": lsp.SymbolKind.Module,
    "namespace": lsp.SymbolKind.Namespace,
    "class": lsp.SymbolKind.Class,
    "property": lsp.SymbolKind.Property,
    "function": lsp.SymbolKind.Function,
    "interface": lsp.SymbolKind.Interface,
    "field": lsp.SymbolKind.Field,
}


@dataclass
class Settings:
    """What a user can set (initializationOptions or workspace/didChangeConfiguration)."""

    diagnostics_on_change: bool = True  # False: only on open and save
    debounce_ms: int = 0
    disabled_codes: frozenset[str] = frozenset()
    max_diagnostics: int = 200
    clan_date: str | None = None
    inputs: dict[str, str] = field(default_factory=dict)  # flake input name -> folder (a checkout)

    @classmethod
    def read(cls, raw: Any, base: "Settings | None" = None) -> "Settings":
        settings = base or cls()
        if not isinstance(raw, dict):
            return settings
        for key in ("clan-lsp", "clanLsp", "clan_lsp"):
            if isinstance(raw.get(key), dict):
                raw = raw[key]
                break
        diagnostics = raw.get("diagnostics") if isinstance(raw.get("diagnostics"), dict) else {}
        on = diagnostics.get("onChange", raw.get("diagnosticsOnChange"))
        if isinstance(on, bool):
            settings.diagnostics_on_change = on
        when = diagnostics.get("run")
        if when in ("onType", "onChange"):
            settings.diagnostics_on_change = True
        elif when == "onSave":
            settings.diagnostics_on_change = False
        debounce = diagnostics.get("debounceMs")
        if isinstance(debounce, int) and debounce >= 0:
            settings.debounce_ms = debounce
        disabled = diagnostics.get("disabled", raw.get("disabledCodes"))
        if isinstance(disabled, list):
            settings.disabled_codes = frozenset(str(c) for c in disabled)
        cap = diagnostics.get("maxPerFile")
        if isinstance(cap, int) and cap > 0:
            settings.max_diagnostics = cap
        inputs = raw.get("inputs")
        if isinstance(inputs, dict):
            settings.inputs = {str(k): v for k, v in inputs.items() if isinstance(v, str) and v}
        date = raw.get("clanDate")
        if date is None or isinstance(date, str):
            settings.clan_date = date or None
        return settings


@dataclass
class Document:
    uri: str
    path: str
    version: int | None
    tree: SyntaxTree | None  # None for files over the size limit
    text: bytes
    _source: SourceFile | None = None
    affects_others: bool = False  # the last edit may change other files' answers
    published: list | None = None  # the diagnostics last pushed

    @property
    def oversized(self) -> bool:
        return self.tree is None


class IdleCollector:
    """The garbage collector runs between messages, not in the middle of answering one.

    Python collects whenever enough objects were allocated, which is during a keystroke's
    analysis: a collection of the young objects there (model values, tree nodes and the
    containers that hold them) cost wireguard's keystrokes their p95 (5 ms with collections
    off, 8-12 ms with them, in process). Here automatic collection is off; a full collection
    runs once no message came for IDLE_SECONDS, and a young one after every ANSWERS_LIMIT
    answers or once more than YOUNG_LIMIT objects wait after diagnostics went out
    (HARD_LIMIT after any message; every tenth of them in full), so memory stays bounded
    when messages never pause.

    A keystroke leaves few objects in cycles (a model's `let` scopes and their bindings, about
    30 in wireguard), but they hold that version's text and tree: counted in answers, the
    garbage stays a hundred versions at most, and collecting it costs about 2 ms."""

    IDLE_SECONDS = 0.25
    ANSWERS_LIMIT = 100  # answers between young collections while typing never pauses
    YOUNG_LIMIT = 100_000  # after an answer was sent, whatever the count of answers
    HARD_LIMIT = 1_000_000  # in any case (messages that are never answered, none idle)

    def __init__(self) -> None:
        self._timer: asyncio.TimerHandle | None = None
        self._answers = 0

    def start(self) -> None:
        gc.disable()

    def answered(self) -> None:
        self._answers += 1
        young, _, older = gc.get_count()
        if young > self.YOUNG_LIMIT or self._answers >= self.ANSWERS_LIMIT:
            self._answers = 0
            # every tenth time in full: typing that never pauses must not keep every cycle
            gc.collect(2 if older >= 10 else 1)

    def message_arrived(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def message_handled(self) -> None:
        if gc.get_count()[0] > self.HARD_LIMIT:
            gc.collect(1)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_later(self.IDLE_SECONDS, self._collect)

    def _collect(self) -> None:
        self._timer = None
        self._answers = 0
        gc.collect()


collector = IdleCollector()


class ClanProtocol(LanguageServerProtocol):
    """pygls' protocol without pygls' own copy of every open document.

    The server keeps each buffer as a tree-sitter tree (ClanLanguageServer.documents);
    pygls' copy was never read, and splitting it into lines again on every keystroke cost
    0.2-0.4 ms on a 29 KB file, 1.4 ms on 256 KB."""

    def handle_message(self, message):
        collector.message_arrived()
        try:
            if type(message) is lsp.DidChangeTextDocumentNotification and not self._shutdown:
                # A keystroke goes straight to its handler (which never raises, see `safe`):
                # pygls' way, a generator, two futures and two uuids, cost 0.3 ms a keystroke.
                handler = self.fm.features.get(lsp.TEXT_DOCUMENT_DID_CHANGE)
                if handler is not None:
                    handler(message.params)
                    return None
            return super().handle_message(message)
        finally:
            collector.message_handled()

    @lsp_method(lsp.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: lsp.DidOpenTextDocumentParams):
        if (handler := self.fm.features.get(lsp.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: lsp.DidChangeTextDocumentParams):
        if (handler := self.fm.features.get(lsp.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: lsp.DidCloseTextDocumentParams):
        if (handler := self.fm.features.get(lsp.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None


class ClanLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("clan-lsp", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental, protocol_cls=ClanProtocol)
        self.analysis = Analysis(roots=[])
        self.documents: dict[str, Document] = {}
        self.settings = Settings()
        self.pending: dict[str, asyncio.Task] = {}
        self.snippets = False
        # One diagnostics model per client, chosen at initialize: a client that pulls is never
        # pushed to (vscode-languageclient keeps pushed and pulled sets apart: each would show twice).
        self.pull_diagnostics = False
        self.saved_diagnostics: dict[str, list[lsp.Diagnostic]] = {}  # pull + run onSave: the last save's
        self.republishing: asyncio.Task | None = None  # see republish_others

    # -- the workspace

    @property
    def files(self):
        return self.analysis.files

    def touched(self, document: Document) -> bool:
        """Note a change to a document; True when other documents' findings may change too."""
        source = self.source(document) if document.tree is not None else None
        return self.analysis.update(document.path, source)

    def republish_others(self, document: Document) -> None:
        """The other open documents' answers, after this one's: one at a time, each after the
        messages that came meanwhile, and begun again after a newer change (with a whole
        workspace open, answering every file first cost each keystroke 100 ms)."""
        if self.pull_diagnostics:
            self.refresh_diagnostics()
            return
        if self.republishing is not None and not self.republishing.done():
            self.republishing.cancel()
        self.republishing = asyncio.get_event_loop().create_task(self._republish_others(document.uri))

    async def _republish_others(self, uri: str) -> None:
        try:
            for other in list(self.documents.values()):
                await asyncio.sleep(0)  # a change that came meanwhile is handled first (and restarts this)
                if other.uri != uri and self.documents.get(other.uri) is other:
                    self.publish(other, only_if_changed=True)
        except asyncio.CancelledError:
            pass
        except Exception:  # noqa: BLE001 - the server must stay up
            log.exception("republishing diagnostics failed")

    # -- positions

    @property
    def encoding(self) -> str:
        try:
            chosen = self.workspace.position_encoding
        except RuntimeError:
            return UTF16
        return str(chosen.value if hasattr(chosen, "value") else chosen or UTF16)

    def line_index(self, path: str | None) -> LineIndex | None:
        if path is None:
            return None
        for document in self.documents.values():
            if document.path == path:
                return document.tree.line_index if document.tree else LineIndex(document.text)
        return self.files.line_index(path)  # no parse: a workspace's symbols point into every service

    def to_range(self, path: str | None, start: int, end: int) -> lsp.Range:
        index = self.line_index(path) or LineIndex(b"")
        a = index.position(start, self.encoding)
        b = index.position(end, self.encoding)
        return lsp.Range(lsp.Position(a.line, a.character), lsp.Position(b.line, b.character))

    def offset(self, document: Document, position: lsp.Position) -> int:
        index = document.tree.line_index if document.tree else LineIndex(document.text)
        return index.offset(Position(position.line, position.character), self.encoding)

    # -- documents

    def open(self, uri: str, text: str, version: int | None) -> Document:
        path = to_fs_path(uri) or uri
        data = text.encode("utf-8", errors="surrogateescape")
        tree = SyntaxTree(data) if len(data) <= MAX_FILE_BYTES else None
        document = Document(uri, path, version, tree, data)
        self.documents[uri] = document
        self._refresh(document)
        return document

    def change(self, uri: str, changes: list, version: int | None) -> Document | None:
        document = self.documents.get(uri)
        if document is None:
            return None
        for change in changes:
            new_text = change.text.encode("utf-8", errors="surrogateescape")
            if isinstance(change, lsp.TextDocumentContentChangePartial):
                start = self.offset(document, change.range.start)
                end = self.offset(document, change.range.end)
                if document.tree is not None:
                    document.tree.edit(start, end, new_text)
                    document.text = document.tree.text
                else:
                    document.text = document.text[:start] + new_text + document.text[end:]
            else:
                document.text = new_text
                document.tree = SyntaxTree(new_text) if len(new_text) <= MAX_FILE_BYTES else None
        if document.tree is not None and len(document.text) > MAX_FILE_BYTES:
            document.tree = None
        elif document.tree is None and len(document.text) <= MAX_FILE_BYTES:
            document.tree = SyntaxTree(document.text)
        document.version = version
        self._refresh(document)
        return document

    def _refresh(self, document: Document) -> None:
        document._source = None
        document.affects_others = self.touched(document)

    def source(self, document: Document) -> SourceFile:
        if document._source is None:
            document._source = load_source(document.text, document.path, tree=document.tree)
        return document._source

    def close(self, uri: str) -> None:
        document = self.documents.pop(uri, None)
        if document is not None:
            self.analysis.update(document.path, None)
        task = self.pending.pop(uri, None)
        if task is not None:
            task.cancel()

    # -- diagnostics

    def diagnostics(self, document: Document) -> list[lsp.Diagnostic]:
        if document.oversized:
            return [
                lsp.Diagnostic(
                    lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0)),
                    f"clan-lsp: file larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; not analysed.",
                    severity=lsp.DiagnosticSeverity.Information,
                    source="clan-lsp",
                    code="file-too-large",
                )
            ]
        result = []
        # clan-lsp.toml and `# clan-lsp: ignore[...]`: the same filter as `clan-lsp check`
        findings = apply_config(self.analysis.diagnostics(document.path), document.path, document.text, config_for(document.path), document.tree.line_index, spelled=document.tree.spelled)
        for finding in findings:
            if finding.code in self.settings.disabled_codes:
                continue
            result.append(to_diagnostic(finding, self.to_range(document.path, finding.start, finding.end)))
            if len(result) >= self.settings.max_diagnostics:
                break
        return result

    def publish(self, document: Document, only_if_changed: bool = False) -> None:
        """Push a document's diagnostics (on open, save, settings change); a pulling client asks instead.

        `only_if_changed`: another file changed; send nothing when this one's answer is the same."""
        if self.pull_diagnostics:
            if not self.settings.diagnostics_on_change:
                # the client pulls on every change: answer with what the last open or save found
                self.saved_diagnostics[document.uri] = self.diagnostics(document)
                self.refresh_diagnostics()
            return
        started = time.perf_counter()
        diagnostics = self.diagnostics(document)
        if only_if_changed and diagnostics == document.published:
            return
        document.published = diagnostics
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=document.uri, diagnostics=diagnostics, version=document.version)
        )
        collector.answered()
        log.debug("diagnostics for %s v%s in %.1f ms", document.uri, document.version, (time.perf_counter() - started) * 1000)

    def publish_all(self) -> None:
        """Settings or the workspace changed: every open document's findings may differ."""
        if self.pull_diagnostics:
            self.saved_diagnostics.clear()
            self.refresh_diagnostics()
            return
        for document in self.documents.values():
            self.publish(document)

    def pulled(self, document: Document) -> list[lsp.Diagnostic]:
        if not self.settings.diagnostics_on_change and document.uri in self.saved_diagnostics:
            return self.saved_diagnostics[document.uri]
        return self.diagnostics(document)

    def refresh_diagnostics(self) -> None:
        """Ask a pulling client to pull every open document again, when it can be asked."""
        workspace = self.client_capabilities.workspace
        if workspace and workspace.diagnostics and workspace.diagnostics.refresh_support:
            self.workspace_diagnostic_refresh(None)

    def schedule(self, document: Document) -> None:
        """Publish after the debounce; a newer change replaces a pending run."""
        pending = self.pending.get(document.uri)
        if pending is not None and not pending.done():
            return  # it will pick up the newest version when it runs
        uri = document.uri

        async def run() -> None:
            try:
                await asyncio.sleep(self.settings.debounce_ms / 1000)
                current = self.documents.get(uri)
                if current is not None:
                    self.publish(current)
                    if current.affects_others:
                        current.affects_others = False
                        self.republish_others(current)
            except asyncio.CancelledError:
                pass
            except Exception:  # noqa: BLE001 - the server must stay up
                log.exception("diagnostics failed for %s", uri)
            finally:
                self.pending.pop(uri, None)

        self.pending[uri] = asyncio.get_event_loop().create_task(run())


server = ClanLanguageServer()


def safe(default: Callable[[], Any] | Any = None):
    """Answer with `default` instead of failing when a feature raises."""

    def wrap(handler):
        @functools.wraps(handler)
        def guarded(ls: ClanLanguageServer, params):
            try:
                return handler(ls, params)
            except Exception as error:  # noqa: BLE001 - the server must stay up
                log.exception("%s failed", handler.__name__)
                try:
                    ls.window_log_message(lsp.LogMessageParams(lsp.MessageType.Error, f"clan-lsp: {handler.__name__} failed: {error!r}"))
                except Exception:  # noqa: BLE001
                    pass
                return default() if callable(default) else default

        return guarded

    return wrap


@server.feature(lsp.INITIALIZE)
@safe()
def initialize(ls: ClanLanguageServer, params: lsp.InitializeParams) -> None:
    ls.settings = Settings.read(params.initialization_options)
    roots = [to_fs_path(f.uri) for f in params.workspace_folders or []]
    if not roots and params.root_uri:
        roots = [to_fs_path(params.root_uri)]
    # without a workspace, look only beside the open file (its own folder)
    ls.analysis.set_roots([r for r in roots if r])
    ls.analysis.clan_date = ls.settings.clan_date
    ls.analysis.set_input_folders(ls.settings.inputs)
    completion = params.capabilities.text_document.completion if params.capabilities.text_document else None
    item = completion.completion_item if completion else None
    ls.snippets = bool(item and item.snippet_support)
    choose_diagnostics_model(ls, params.capabilities)


PULL_OPTIONS = lsp.DiagnosticOptions(identifier="clan-lsp", inter_file_dependencies=True, workspace_diagnostics=False)


def choose_diagnostics_model(ls: ClanLanguageServer, capabilities: lsp.ClientCapabilities) -> None:
    """Pull where the client can pull, push otherwise; advertise the diagnostic provider only for pull.

    pygls builds the server capabilities from the registered features after this handler
    returns, so registering the pull feature here is what advertises it.
    """
    ls.pull_diagnostics = bool(capabilities.text_document and capabilities.text_document.diagnostic)
    features = ls.protocol.fm.features
    if ls.pull_diagnostics and lsp.TEXT_DOCUMENT_DIAGNOSTIC not in features:
        ls.feature(lsp.TEXT_DOCUMENT_DIAGNOSTIC, PULL_OPTIONS)(pull_diagnostics)
    elif not ls.pull_diagnostics:
        features.pop(lsp.TEXT_DOCUMENT_DIAGNOSTIC, None)
        ls.protocol.fm.feature_options.pop(lsp.TEXT_DOCUMENT_DIAGNOSTIC, None)


@server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
@safe()
def did_change_configuration(ls: ClanLanguageServer, params: lsp.DidChangeConfigurationParams) -> None:
    ls.settings = Settings.read(params.settings, Settings.read({}, ls.settings))
    ls.analysis.clan_date = ls.settings.clan_date
    ls.analysis.set_input_folders(ls.settings.inputs)
    ls.publish_all()


@server.feature(lsp.INITIALIZED)
async def initialized(ls: ClanLanguageServer, params: lsp.InitializedParams) -> None:
    """Index the workspace now, reporting $/progress when the client can show it."""
    if not ls.files.roots:
        return
    token = "clan-lsp/index"
    window = ls.client_capabilities.window if getattr(ls, "client_capabilities", None) else None
    progress = bool(window and window.work_done_progress)
    try:
        if progress:
            await ls.work_done_progress.create_async(token)
            ls.work_done_progress.begin(token, lsp.WorkDoneProgressBegin(title="clan-lsp", message="indexing the workspace"))
        index = ls.analysis.index
        if progress:
            count = len(index.indexed) if index is not None else 0
            ls.work_done_progress.end(token, lsp.WorkDoneProgressEnd(message=f"indexed {count} files"))
    except Exception:  # noqa: BLE001 - indexing again happens on first use
        log.exception("initial indexing failed")


def settle_heap() -> None:
    """Keep what is alive now (the modules just imported) out of the garbage collector's
    full passes; Analysis does the same for the workspace after each full index build.

    Frozen objects are still freed when nothing refers to them; only a cycle among them
    is kept."""
    gc.collect()
    gc.freeze()


@server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
@safe()
def did_change_watched_files(ls: ClanLanguageServer, params: lsp.DidChangeWatchedFilesParams) -> None:
    ls.analysis.invalidate()
    forget_configs()
    ls.publish_all()


@server.feature(lsp.WORKSPACE_SYMBOL)
@safe(list)
def workspace_symbol(ls: ClanLanguageServer, params: lsp.WorkspaceSymbolParams) -> list[lsp.WorkspaceSymbol]:
    result = []
    for symbol in ls.analysis.workspace_symbols(params.query):
        result.append(
            lsp.WorkspaceSymbol(
                name=symbol.name,
                kind=SYMBOL_KIND.get(symbol.kind, lsp.SymbolKind.Module),
                location=lsp.Location(from_fs_path(symbol.path) or symbol.path, ls.to_range(symbol.path, symbol.start, symbol.end)),
                container_name=symbol.detail or None,
            )
        )
    return result


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
@safe()
def did_open(ls: ClanLanguageServer, params: lsp.DidOpenTextDocumentParams) -> None:
    document = ls.open(params.text_document.uri, params.text_document.text, params.text_document.version)
    ls.publish(document)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
@safe()
def did_change(ls: ClanLanguageServer, params: lsp.DidChangeTextDocumentParams) -> None:
    document = ls.change(params.text_document.uri, params.content_changes, params.text_document.version)
    if document is not None and ls.settings.diagnostics_on_change:
        ls.schedule(document)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
@safe()
def did_save(ls: ClanLanguageServer, params: lsp.DidSaveTextDocumentParams) -> None:
    document = ls.documents.get(params.text_document.uri)
    if document is not None:
        ls.publish(document)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
@safe()
def did_close(ls: ClanLanguageServer, params: lsp.DidCloseTextDocumentParams) -> None:
    ls.close(params.text_document.uri)
    ls.saved_diagnostics.pop(params.text_document.uri, None)
    if not ls.pull_diagnostics:  # a pulling client drops a closed document's diagnostics itself
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))


# registered by choose_diagnostics_model, for clients that pull
@safe(lambda: lsp.RelatedFullDocumentDiagnosticReport(items=[]))
def pull_diagnostics(ls: ClanLanguageServer, params: lsp.DocumentDiagnosticParams):
    document = ls.documents.get(params.text_document.uri)
    if document is None:
        return lsp.RelatedFullDocumentDiagnosticReport(items=[])
    return lsp.RelatedFullDocumentDiagnosticReport(items=ls.pulled(document))


def _document(ls: ClanLanguageServer, uri: str) -> Document | None:
    document = ls.documents.get(uri)
    if document is None or document.oversized:
        return None
    return document


@server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=[".", '"', "{", " "]))
@safe(lambda: lsp.CompletionList(is_incomplete=False, items=[]))
def completion(ls: ClanLanguageServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    document = _document(ls, params.text_document.uri)
    if document is None:
        return lsp.CompletionList(is_incomplete=False, items=[])
    offset = ls.offset(document, params.position)
    found = ls.analysis.complete(document.path, offset, ls.snippets)
    items = []
    for item in found:
        text = item.insert_text if item.insert_text is not None else item.label
        edit = None
        if item.replace_start is not None and item.replace_end is not None:
            edit = lsp.TextEdit(ls.to_range(document.path, item.replace_start, item.replace_end), text)
        items.append(
            lsp.CompletionItem(
                label=item.label,
                kind=COMPLETION_KIND.get(item.kind),
                detail=item.detail or None,
                documentation=lsp.MarkupContent(lsp.MarkupKind.Markdown, item.documentation) if item.documentation else None,
                text_edit=edit,
                insert_text=None if edit else text,
                insert_text_format=lsp.InsertTextFormat.Snippet if item.snippet else lsp.InsertTextFormat.PlainText,
                sort_text=item.sort_text,
                tags=[lsp.CompletionItemTag.Deprecated] if item.deprecated else None,
            )
        )
    return lsp.CompletionList(is_incomplete=False, items=items)


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
@safe()
def hover(ls: ClanLanguageServer, params: lsp.HoverParams) -> lsp.Hover | None:
    document = _document(ls, params.text_document.uri)
    if document is None:
        return None
    found = ls.analysis.hover(document.path, ls.offset(document, params.position))
    found = _with_export_graph(ls, document, params.position, found)  # export graph (clan_lsp/ide/graph.py)
    if found is None:
        return None
    return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, found.markdown), ls.to_range(document.path, found.start, found.end))


def _locations(ls: ClanLanguageServer, found) -> list[lsp.Location]:
    return [lsp.Location(from_fs_path(l.path) or l.path, ls.to_range(l.path, l.start, l.end)) for l in found if l.path]


@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
@safe(list)
def definition(ls: ClanLanguageServer, params: lsp.DefinitionParams) -> list[lsp.Location]:
    document = _document(ls, params.text_document.uri)
    if document is None:
        return []
    return _locations(ls, ls.analysis.definition(document.path, ls.offset(document, params.position)))


@server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
@safe(list)
def references(ls: ClanLanguageServer, params: lsp.ReferenceParams) -> list[lsp.Location]:
    document = _document(ls, params.text_document.uri)
    if document is None:
        return []
    include = params.context.include_declaration if params.context else True
    return _locations(ls, ls.analysis.references(document.path, ls.offset(document, params.position), include))


@server.feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
@safe()
def prepare_rename(ls: ClanLanguageServer, params: lsp.PrepareRenameParams):
    document = _document(ls, params.text_document.uri)
    if document is None:
        return None
    found = ls.analysis.prepare_rename(document.path, ls.offset(document, params.position))
    if found is None:
        return None
    start, end, placeholder = found
    return lsp.PrepareRenamePlaceholder(ls.to_range(document.path, start, end), placeholder)


@server.feature(lsp.TEXT_DOCUMENT_RENAME, lsp.RenameOptions(prepare_provider=True))
@safe()
def rename(ls: ClanLanguageServer, params: lsp.RenameParams) -> lsp.WorkspaceEdit | None:
    document = _document(ls, params.text_document.uri)
    if document is None:
        return None
    edits = ls.analysis.rename(document.path, ls.offset(document, params.position), params.new_name)
    if not edits:
        return None
    return _workspace_edit(ls, document, edits)


def _workspace_edit(ls: ClanLanguageServer, document: Document, edits) -> lsp.WorkspaceEdit:
    changes: dict[str, list[lsp.TextEdit]] = {}
    for edit in edits:
        uri = from_fs_path(edit.path) if edit.path else document.uri
        changes.setdefault(uri, []).append(lsp.TextEdit(ls.to_range(edit.path, edit.start, edit.end), edit.new_text))
    return lsp.WorkspaceEdit(changes=changes)


def _symbol(ls: ClanLanguageServer, path: str, symbol) -> lsp.DocumentSymbol:
    return lsp.DocumentSymbol(
        name=symbol.name,
        kind=SYMBOL_KIND.get(symbol.kind, lsp.SymbolKind.Property),
        range=ls.to_range(path, symbol.start, symbol.end),
        selection_range=ls.to_range(path, symbol.selection_start, symbol.selection_end),
        detail=symbol.detail or None,
        children=[_symbol(ls, path, child) for child in symbol.children] or None,
    )


@server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
@safe(list)
def document_symbol(ls: ClanLanguageServer, params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol]:
    document = _document(ls, params.text_document.uri)
    if document is None:
        return []
    return [_symbol(ls, document.path, s) for s in ls.analysis.symbols(document.path)]


@server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION, lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]))
@safe(list)
def code_action(ls: ClanLanguageServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    document = _document(ls, params.text_document.uri)
    if document is None:
        return []
    start = ls.offset(document, params.range.start)
    end = ls.offset(document, params.range.end)
    actions = []
    for action in ls.analysis.code_actions(document.path, start, end):
        matching = [d for d in params.context.diagnostics if d.code in action.diagnostic_codes]
        actions.append(
            lsp.CodeAction(
                title=action.title,
                kind=lsp.CodeActionKind.QuickFix,
                edit=_workspace_edit(ls, document, action.edits),
                diagnostics=matching or None,
                is_preferred=action.preferred,
            )
        )
    return actions


# ---------------------------------------------------------------- the export graph (clan_lsp/ide/graph.py)


def _with_export_graph(ls: ClanLanguageServer, document: Document, position: lsp.Position, found):
    """The hover, with what a selectExports under the cursor receives in the clan appended."""
    from .ide import graph as export_graph
    from .ide.items import HoverInfo

    offset = ls.offset(document, position)
    try:
        extra = export_graph.select_hover(ls.analysis.index, ls.source(document), offset)
    except Exception:  # noqa: BLE001 - the rest of the hover still stands
        log.exception("export graph hover failed")
        extra = None
    if extra is None:
        return found
    if found is None:
        return HoverInfo(extra, offset, offset)
    return HoverInfo(found.markdown + "\n\n---\n\n" + extra, found.start, found.end)


@server.feature(lsp.TEXT_DOCUMENT_INLAY_HINT)
@safe(list)
def inlay_hint(ls: ClanLanguageServer, params: lsp.InlayHintParams) -> list[lsp.InlayHint]:
    """After `roles.<r>.tags = [ ... ]`: the machines the tags resolve to."""
    from .ide import graph as export_graph

    document = _document(ls, params.text_document.uri)
    if document is None:
        return []
    start, end = ls.offset(document, params.range.start), ls.offset(document, params.range.end)
    hints = []
    for hint in export_graph.tag_hints(ls.analysis.index, ls.source(document)):
        if start <= hint.offset <= end:
            where = ls.to_range(document.path, hint.offset, hint.offset).start
            hints.append(lsp.InlayHint(position=where, label=hint.label, padding_left=True, tooltip=hint.tooltip or None))
    return hints


@server.feature(lsp.TEXT_DOCUMENT_CODE_LENS, lsp.CodeLensOptions(resolve_provider=False))
@safe(list)
def code_lens(ls: ClanLanguageServer, params: lsp.CodeLensParams) -> list[lsp.CodeLens]:
    """Above a service's roles: how many instances and machines use each, leading to the references."""
    from .ide import graph as export_graph

    document = _document(ls, params.text_document.uri)
    if document is None:
        return []
    lenses = []
    for lens in export_graph.role_lenses(ls.analysis.index, ls.source(document)):
        where = ls.to_range(document.path, lens.start, lens.end)
        locations = [lsp.Location(from_fs_path(r.path) or r.path, ls.to_range(r.path, r.start, r.end)) for r in lens.references]
        command = lsp.Command(lens.title, "editor.action.showReferences", arguments=[document.uri, where.start, locations])
        lenses.append(lsp.CodeLens(range=where, command=command))
    return lenses


class PipeReader:
    """stdin read by the event loop itself.

    pygls reads stdin in its thread pool: three hand-offs between threads for every
    message (two header lines and the body), each waiting for the GIL while the loop
    computes diagnostics. A pipe can be read by the loop directly."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self._stream = stream

    def readline(self):
        return self._stream.readline()

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self._stream.readexactly(n)
        except asyncio.IncompleteReadError as ended:
            return ended.partial


def _pipe_fd(stdin) -> tuple[int, bytes] | None:
    """The descriptor of stdin when it is a pipe or socket, and the bytes already read from it
    (clan_lsp/boot.py reads the first message unbuffered and puts it back in front)."""
    import stat

    raw = getattr(stdin, "unread_raw", None)
    if raw is None:
        return None
    fd, prefix = raw()
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return None
    return (fd, prefix) if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) else None


def _serve_pipe(fd: int, prefix: bytes) -> None:
    """pygls' own start_io, reading the pipe on the event loop (see PipeReader)."""
    from threading import Event

    from pygls.io_ import StdoutWriter, run_async

    server._stop_event = Event()
    server.protocol.set_writer(StdoutWriter(sys.stdout.buffer))

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stream = asyncio.StreamReader(limit=2**26, loop=loop)
        stream.feed_data(prefix)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream, loop=loop), os.fdopen(fd, "rb", buffering=0, closefd=False))
        await run_async(stop_event=server._stop_event, reader=PipeReader(stream), protocol=server.protocol, logger=log, error_handler=server.report_server_error)

    try:
        asyncio.run(main())
    except BrokenPipeError:
        log.error("Connection to the client is lost! Shutting down the server.")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.shutdown()


def serve(log_level: str = "WARNING") -> None:
    logging.basicConfig(stream=sys.stderr, level=getattr(logging, log_level.upper(), logging.WARNING), format="clan-lsp %(levelname)s %(message)s")
    # stdout carries the protocol: nothing else may write to it
    settle_heap()  # the modules just imported
    collector.start()
    pipe = _pipe_fd(sys.stdin.buffer) if os.environ.get("CLAN_LSP_THREADED_STDIN") != "1" else None
    if pipe is not None:
        _serve_pipe(*pipe)
    else:
        server.start_io()


if __name__ == "__main__":
    serve(os.environ.get("CLAN_LSP_LOG", "WARNING"))

"""Small helpers shared by the end-to-end tests."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

_counter = 0


def uri_for(tmp: Path, name: str = "default.nix") -> str:
    global _counter
    _counter += 1
    folder = tmp / f"doc{_counter}"
    folder.mkdir(parents=True, exist_ok=True)
    return (folder / name).as_uri()


async def open_doc(client: LanguageClient, uri: str, text: str, version: int = 1) -> list[lsp.Diagnostic]:
    previous = client.diagnostics.get(uri)
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri=uri, language_id="nix", version=version, text=text)))
    return await next_diagnostics(client, uri, previous)


async def next_diagnostics(client: LanguageClient, uri: str, previous, timeout: float = 10) -> list[lsp.Diagnostic]:
    """Wait until the server publishes for `uri` again (each publish stores a new list)."""
    deadline = asyncio.get_event_loop().time() + timeout
    while client.diagnostics.get(uri) is previous:
        if asyncio.get_event_loop().time() > deadline:
            raise TimeoutError(f"no new diagnostics for {uri}")
        await asyncio.sleep(0.002)
    return client.diagnostics[uri]


async def change(client: LanguageClient, uri: str, version: int, start: lsp.Position, end: lsp.Position, text: str) -> list[lsp.Diagnostic]:
    previous = client.diagnostics.get(uri)
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [lsp.TextDocumentContentChangePartial(range=lsp.Range(start=start, end=end), text=text)],
        )
    )
    return await next_diagnostics(client, uri, previous)


def codes(diagnostics: list[lsp.Diagnostic]) -> set[str]:
    return {str(d.code) for d in diagnostics}

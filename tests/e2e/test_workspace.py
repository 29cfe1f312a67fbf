"""The workspace through the real server: custom interfaces, the inventory, edits across files."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from .helpers import next_diagnostics, open_doc

SOURCE = Path(__file__).resolve().parents[1] / "workspaces" / "clean"
ROOT = Path(tempfile.mkdtemp(prefix="clan-lsp-ws-")) / "clan"
shutil.copytree(SOURCE, ROOT)
VPN = ROOT / "services/vpn.nix"
CLAN = ROOT / "flake-parts/default.nix"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "clan_lsp"]))
async def client(lsp_client: LanguageClient):
    params = lsp.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        workspace_folders=[lsp.WorkspaceFolder(uri=ROOT.as_uri(), name="clan")],
        root_uri=ROOT.as_uri(),
    )
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


def position(path: Path, needle: str, delta: int = 0) -> lsp.Position:
    text = path.read_text()
    index = text.index(needle) + delta
    before = text[:index].split("\n")
    return lsp.Position(len(before) - 1, len(before[-1]))


async def test_custom_interface_completion_hover_definition(client):
    uri = VPN.as_uri()
    assert list(await open_doc(client, uri, VPN.read_text())) == []
    ident = lsp.TextDocumentIdentifier(uri)
    inside = position(VPN, '"vpn" ]', 1)
    items = await client.text_document_completion_async(lsp.CompletionParams(ident, inside))
    vpn = next(i for i in items.items if i.label == "vpn")
    assert vpn.detail == "listed in manifest.exports.out"
    hover = await client.text_document_hover_async(lsp.HoverParams(ident, inside))
    assert "`pubkey`" in hover.contents.value and "custom interface" in hover.contents.value
    definitions = await client.text_document_definition_async(lsp.DefinitionParams(ident, inside))
    assert [(d.uri, d.range.start) for d in definitions] == [(CLAN.as_uri(), position(CLAN, "vpn =\n", 0))]
    field = position(VPN, "vpn.pubkey", 4)
    definitions = await client.text_document_definition_async(lsp.DefinitionParams(ident, field))
    assert [(d.uri, d.range.start) for d in definitions] == [(CLAN.as_uri(), position(CLAN, "pubkey = lib.mkOption"))]


async def test_editing_the_clan_changes_a_service_diagnostics(client):
    vpn_uri, clan_uri = VPN.as_uri(), CLAN.as_uri()
    await open_doc(client, vpn_uri, VPN.read_text())
    await open_doc(client, clan_uri, CLAN.read_text())
    start = position(CLAN, "vpn =\n")
    end = lsp.Position(start.line, start.character + 3)
    previous = client.diagnostics.get(vpn_uri)
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=clan_uri, version=2),
            [lsp.TextDocumentContentChangePartial(range=lsp.Range(start=start, end=end), text="tunnel")],
        )
    )
    found = await next_diagnostics(client, vpn_uri, previous)
    assert "unknown-export-interface" in {d.code for d in found}


async def test_inventory_diagnostics_and_workspace_symbols(client):
    clan_uri = CLAN.as_uri()
    text = CLAN.read_text().replace("roles.peer.machines.beta", "roles.peers.machines.beta")
    found = await open_doc(client, clan_uri, text)
    assert [d.code for d in found] == ["unknown-role"]
    symbols = await client.workspace_symbol_async(lsp.WorkspaceSymbolParams(query="vpn"))
    assert {(s.name, s.kind) for s in symbols} >= {("vpn", lsp.SymbolKind.Interface), ("vpn", lsp.SymbolKind.Module)}


async def test_inventory_completion_and_definition(client):
    clan_uri = CLAN.as_uri()
    text = CLAN.read_text().replace('roles.greeter.settings.text = "hi";', 'roles.greeter.settings.text = "hi";\n        roles.greeter.settings.  = 1;')
    await open_doc(client, clan_uri, text)
    ident = lsp.TextDocumentIdentifier(clan_uri)
    lines = text.split("\n")
    line = next(i for i, l in enumerate(lines) if "settings.  = 1" in l)
    items = await client.text_document_completion_async(lsp.CompletionParams(ident, lsp.Position(line, lines[line].index("settings.") + 9)))
    assert [i.label for i in items.items] == ["text"]
    role = position(CLAN, "roles.peer.settings.keepalive", 7)
    definitions = await client.text_document_definition_async(lsp.DefinitionParams(ident, role))
    assert [(d.uri, d.range.start) for d in definitions] == [(VPN.as_uri(), position(VPN, "peer = {"))]
    module = position(CLAN, 'module.name = "hello"', 17)
    definitions = await client.text_document_definition_async(lsp.DefinitionParams(ident, module))
    assert [d.uri for d in definitions] == [(ROOT / "services/hello/default.nix").as_uri()]


async def test_rename_a_custom_interface_across_files(client):
    uri = VPN.as_uri()
    await open_doc(client, uri, VPN.read_text())
    ident = lsp.TextDocumentIdentifier(uri)
    inside = position(VPN, '"vpn" ]', 1)
    refs = await client.text_document_references_async(
        lsp.ReferenceParams(text_document=ident, position=inside, context=lsp.ReferenceContext(include_declaration=True))
    )
    assert sorted((Path(r.uri[7:]).name, r.range.start.line) for r in refs) == [
        ("default.nix", position(CLAN, "vpn =\n").line),
        ("vpn.nix", position(VPN, '"vpn" ]').line),
        ("vpn.nix", position(VPN, "vpn.pubkey").line),
    ]
    edit = await client.text_document_rename_async(lsp.RenameParams(ident, inside, "tunnel"))
    assert {Path(u[7:]).name: sorted(e.new_text for e in edits) for u, edits in edit.changes.items()} == {
        "default.nix": ["tunnel"],
        "vpn.nix": ["tunnel", "tunnel"],
    }


async def test_role_references_reach_the_inventory(client):
    uri = VPN.as_uri()
    await open_doc(client, uri, VPN.read_text())
    refs = await client.text_document_references_async(
        lsp.ReferenceParams(
            text_document=lsp.TextDocumentIdentifier(uri),
            position=position(VPN, "peer = {", 1),
            context=lsp.ReferenceContext(include_declaration=True),
        )
    )
    files = sorted(Path(r.uri[7:]).name for r in refs)
    assert files.count("default.nix") == 3 and files.count("vpn.nix") == 1


async def test_indexing_reports_progress(client):
    import asyncio

    # the server indexes on `initialized`, after the client created the token
    for _ in range(500):
        reports = client.progress_reports.get("clan-lsp/index") or []
        if reports and isinstance(reports[-1], lsp.WorkDoneProgressEnd):
            break
        await asyncio.sleep(0.01)
    assert reports is not None, client.progress_reports
    assert isinstance(reports[0], lsp.WorkDoneProgressBegin)
    assert isinstance(reports[-1], lsp.WorkDoneProgressEnd) and "indexed" in reports[-1].message


async def test_rename_an_interface_field_across_files(client):
    uri = VPN.as_uri()
    await open_doc(client, uri, VPN.read_text())
    ident = lsp.TextDocumentIdentifier(uri)
    field = position(VPN, "vpn.pubkey", 5)
    edit = await client.text_document_rename_async(lsp.RenameParams(ident, field, "publicKey"))
    assert {Path(u[7:]).name: [e.new_text for e in edits] for u, edits in edit.changes.items()} == {
        "default.nix": ["publicKey"],
        "vpn.nix": ["publicKey"],
    }

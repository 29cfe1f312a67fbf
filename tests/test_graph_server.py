"""The export graph through the real server over stdio: hover, inlay hints, code lenses."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SOURCE = Path(__file__).resolve().parent / "workspaces" / "graph" / "clean"
ROOT = Path(tempfile.mkdtemp(prefix="clan-lsp-graph-")) / "clan"
shutil.copytree(SOURCE, ROOT)
CLIENT = ROOT / "services/client.nix"
MESH = ROOT / "services/mesh.nix"
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
    before = text[: text.index(needle) + delta].split("\n")
    return lsp.Position(len(before) - 1, len(before[-1]))


def opened(client: LanguageClient, path: Path) -> lsp.TextDocumentIdentifier:
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(path.as_uri(), "nix", 1, path.read_text())))
    return lsp.TextDocumentIdentifier(path.as_uri())


async def test_hover_inlay_hints_and_code_lens(client):
    ident = opened(client, CLIENT)
    hover = await client.text_document_hover_async(lsp.HoverParams(ident, position(CLIENT, "selectExports", 2)))
    assert "matches 2: acme/registry:registry-main:server:alpha, acme/registry:registry-main:server:beta" in hover.contents.value

    clan = opened(client, CLAN)
    whole = lsp.Range(lsp.Position(0, 0), lsp.Position(200, 0))
    hints = await client.text_document_inlay_hint_async(lsp.InlayHintParams(clan, whole))
    assert sorted(h.label for h in hints) == ["→ alpha, beta", "→ alpha, beta, gamma"]
    assert position(CLAN, 'roles.server.tags = [ "server" ]', len('roles.server.tags = [ "server" ]')) in [h.position for h in hints]

    mesh = opened(client, MESH)
    lenses = await client.text_document_code_lens_async(lsp.CodeLensParams(mesh))
    assert [(lens.range.start, lens.command.title) for lens in lenses] == [(position(MESH, "node = {"), "used by 1 instance on 3 machines")]
    assert lenses[0].command.command == "editor.action.showReferences"

"""One diagnostics model per client: pull for a client that pulls, push otherwise, never both.

vscode-languageclient keeps pushed and pulled diagnostics apart, so a server doing both shows
every finding twice in VS Code. Each test reads the `initialize` answer and what arrives after.
Messages from the server arrive in order, so a request answered after an event proves the
server is done reacting to it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcMethodNotFound
from pytest_lsp import ClientServerConfig, LanguageClient

from .helpers import codes, open_doc, uri_for

SERVER = [sys.executable, "-m", "clan_lsp"]

BROKEN = """{
  _class = "clan.service";
  manifest.name = "acme/a";
  manifest.readme = "r";
  manifest.categories = [ "Networking" ];
  roles.server = {
    description = "Server";
    perInstance = { settings }: { nixosModules = { }; };
  };
}
"""

PULL = lsp.ClientCapabilities(
    text_document=lsp.TextDocumentClientCapabilities(diagnostic=lsp.DiagnosticClientCapabilities(related_document_support=False)),
    workspace=lsp.WorkspaceClientCapabilities(diagnostics=lsp.DiagnosticWorkspaceClientCapabilities(refresh_support=True)),
)
PUSH = lsp.ClientCapabilities(
    text_document=lsp.TextDocumentClientCapabilities(publish_diagnostics=lsp.PublishDiagnosticsClientCapabilities(version_support=True)),
)


async def _initialize(client: LanguageClient, capabilities: lsp.ClientCapabilities, options=None) -> lsp.InitializeResult:
    return await client.initialize_session(
        lsp.InitializeParams(capabilities=capabilities, initialization_options=options or {}, root_uri=Path.cwd().as_uri())
    )


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def pull_client(lsp_client: LanguageClient):
    lsp_client.initialize_result = await _initialize(lsp_client, PULL)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def on_save_pull_client(lsp_client: LanguageClient):
    lsp_client.initialize_result = await _initialize(lsp_client, PULL, {"diagnostics": {"run": "onSave"}})
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def push_client(lsp_client: LanguageClient):
    lsp_client.initialize_result = await _initialize(lsp_client, PUSH)
    yield
    await lsp_client.shutdown_session()


def _open(client: LanguageClient, uri: str, text: str) -> None:
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri=uri, language_id="nix", version=1, text=text)))


async def _pull(client: LanguageClient, uri: str) -> set[str]:
    report = await client.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(lsp.TextDocumentIdentifier(uri)))
    return codes(report.items)


async def test_a_pulling_client_is_answered_and_never_pushed_to(pull_client, workdir):
    provider = pull_client.initialize_result.capabilities.diagnostic_provider
    assert provider is not None and provider.identifier == "clan-lsp"
    uri = uri_for(workdir)
    _open(pull_client, uri, BROKEN)
    assert await _pull(pull_client, uri) == {"unknown-category", "missing-ellipsis", "unknown-option"}
    pull_client.text_document_did_save(lsp.DidSaveTextDocumentParams(lsp.TextDocumentIdentifier(uri)))
    pull_client.text_document_did_close(lsp.DidCloseTextDocumentParams(lsp.TextDocumentIdentifier(uri)))
    await pull_client.text_document_hover_async(lsp.HoverParams(lsp.TextDocumentIdentifier(uri), lsp.Position(0, 0)))
    assert pull_client.diagnostics == {}


async def test_a_settings_change_asks_a_pulling_client_to_pull_again(pull_client, workdir):
    uri = uri_for(workdir)
    _open(pull_client, uri, BROKEN)
    assert "unknown-option" in await _pull(pull_client, uri)
    before = pull_client.diagnostic_refresh_count
    pull_client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings={"clan-lsp": {"diagnostics": {"disabled": ["unknown-option"]}}})
    )
    assert await _pull(pull_client, uri) == {"unknown-category", "missing-ellipsis"}
    assert pull_client.diagnostic_refresh_count > before
    assert pull_client.diagnostics == {}


async def test_a_pulling_client_checking_on_save_sees_the_saved_findings(on_save_pull_client, workdir):
    client = on_save_pull_client
    uri = uri_for(workdir)
    _open(client, uri, BROKEN)
    assert "unknown-category" in await _pull(client, uri)
    # "Networking" -> "Network": not checked until saved
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
            [lsp.TextDocumentContentChangePartial(range=lsp.Range(lsp.Position(4, 34), lsp.Position(4, 37)), text="")],
        )
    )
    assert "unknown-category" in await _pull(client, uri)
    client.text_document_did_save(lsp.DidSaveTextDocumentParams(lsp.TextDocumentIdentifier(uri)))
    assert "unknown-category" not in await _pull(client, uri)


async def test_a_client_without_pull_gets_pushes_and_no_pull_provider(push_client, workdir):
    assert push_client.initialize_result.capabilities.diagnostic_provider is None
    uri = uri_for(workdir)
    found = await open_doc(push_client, uri, BROKEN)
    assert codes(found) == {"unknown-category", "missing-ellipsis", "unknown-option"}
    with pytest.raises(JsonRpcMethodNotFound):
        await _pull(push_client, uri)

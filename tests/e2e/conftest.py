"""End-to-end harness: the real clan-lsp process over stdio, driven by pytest-lsp's client."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SERVER = [sys.executable, "-m", "clan_lsp"]


async def _start(client: LanguageClient, encodings=None, options=None) -> None:
    capabilities = client_capabilities("visual-studio-code")
    if encodings is not None:
        capabilities.general = lsp.GeneralClientCapabilities(position_encodings=encodings)
    await client.initialize_session(
        lsp.InitializeParams(capabilities=capabilities, initialization_options=options or {}, root_uri=Path.cwd().as_uri())
    )
    # initialize is answered before the server has loaded (clan_lsp/boot.py): wait until it
    # answers a request, so a test's timeouts measure the test, not the server starting
    await client.workspace_symbol_async(lsp.WorkspaceSymbolParams(query=""))


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient):
    await _start(lsp_client)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def utf8_client(lsp_client: LanguageClient):
    await _start(lsp_client, encodings=[lsp.PositionEncodingKind.Utf8, lsp.PositionEncodingKind.Utf16])
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def quiet_client(lsp_client: LanguageClient):
    await _start(lsp_client, options={"diagnostics": {"disabled": ["missing-readme"], "maxPerFile": 2}})
    yield
    await lsp_client.shutdown_session()


class Cursor:
    """Text with a `$0` marker: the text without it and the marker's LSP position (UTF-16)."""

    def __init__(self, marked: str):
        before, _, after = marked.partition("$0")
        self.text = before + after
        lines = before.split("\n")
        column = len(lines[-1].encode("utf-16-le")) // 2
        self.position = lsp.Position(len(lines) - 1, column)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path

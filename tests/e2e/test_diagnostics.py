"""Diagnostics through the real server: open, change (incremental), save, close, settings (push; pull is in test_diagnostic_model.py)."""

from __future__ import annotations

import pytest
from lsprotocol import types as lsp

from .helpers import change, codes, next_diagnostics, open_doc, uri_for

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


async def test_diagnostics_on_open_with_ranges_and_codes(client, workdir):
    uri = uri_for(workdir)
    found = await open_doc(client, uri, BROKEN)
    assert codes(found) == {"unknown-category", "missing-ellipsis", "unknown-option"}
    category = next(d for d in found if d.code == "unknown-category")
    assert category.range == lsp.Range(lsp.Position(4, 26), lsp.Position(4, 38))
    assert category.severity == lsp.DiagnosticSeverity.Error
    summary, clan = category.message.split("\n", 1)  # our statement first, clan's words below
    assert summary.endswith('did you mean "Network"?')
    assert clan.startswith("A definition for option `manifest.categories.")
    assert category.source == "clan-lsp"


async def test_incremental_change_updates_diagnostics(client, workdir):
    uri = uri_for(workdir)
    await open_doc(client, uri, BROKEN)
    # "Networking" -> "Network": delete the 3 letters "ing"
    found = await change(client, uri, 2, lsp.Position(4, 34), lsp.Position(4, 37), "")
    assert "unknown-category" not in codes(found)
    # add `...` to the formals
    found = await change(client, uri, 3, lsp.Position(7, 28), lsp.Position(7, 28), ", ...")
    assert codes(found) == {"unknown-option"}
    # break the syntax: remove the `;` after manifest.name
    found = await change(client, uri, 4, lsp.Position(2, 25), lsp.Position(2, 26), "")
    assert "syntax-error" in codes(found)


async def test_close_clears_and_save_republishes(client, workdir):
    uri = uri_for(workdir)
    await open_doc(client, uri, BROKEN)
    previous = client.diagnostics.get(uri)
    client.text_document_did_save(lsp.DidSaveTextDocumentParams(lsp.TextDocumentIdentifier(uri)))
    assert codes(await next_diagnostics(client, uri, previous))
    previous = client.diagnostics.get(uri)
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(lsp.TextDocumentIdentifier(uri)))
    assert list(await next_diagnostics(client, uri, previous)) == []


async def test_settings_silence_codes_and_cap_the_count(quiet_client, workdir):
    uri = uri_for(workdir)
    text = BROKEN.replace('  manifest.readme = "r";\n', "")
    found = await open_doc(quiet_client, uri, text)
    assert "missing-readme" not in codes(found)
    assert len(found) == 2  # maxPerFile


async def test_did_change_configuration_applies(client, workdir):
    uri = uri_for(workdir)
    await open_doc(client, uri, BROKEN)
    previous = client.diagnostics.get(uri)
    client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings={"clan-lsp": {"diagnostics": {"disabled": ["unknown-option"]}}})
    )
    found = await next_diagnostics(client, uri, previous)
    assert "unknown-option" not in codes(found) and "unknown-category" in codes(found)


async def test_utf8_negotiation_changes_columns(utf8_client, workdir):
    uri = uri_for(workdir)
    text = '{\n  _class = "clan.service"; # 😀é\n  manifest.name = "a"; manifest.readme = "r"; bogus = 1; # 😀\n  roles = { };\n}\n'
    found = await open_doc(utf8_client, uri, text)
    bogus = next(d for d in found if d.code == "unknown-option")
    line = text.split("\n")[2]
    assert bogus.range.start == lsp.Position(2, len(line[: line.index("bogus")].encode("utf-8")))


async def test_utf16_columns_after_emoji(client, workdir):
    uri = uri_for(workdir)
    text = '{\n  _class = "clan.service"; manifest.name = "😀"; manifest.readme = "r"; bogus = 1;\n  roles = { };\n}\n'
    found = await open_doc(client, uri, text)
    bogus = next(d for d in found if d.code == "unknown-option")
    line = text.split("\n")[1]
    assert bogus.range.start == lsp.Position(1, len(line[: line.index("bogus")].encode("utf-16-le")) // 2)
    assert bogus.range.start.character == line.index("bogus") + 1  # the emoji counts twice


@pytest.mark.parametrize(
    "text",
    ["", "{", "}}}}", "{ a = ", "\x00\x01garbage ${ ''", "let in in in", "{ _class = \"clan.service\"; roles.x.perInstance = { ", "[" * 20000],
    ids=["empty", "open-brace", "closing-braces", "half-binding", "control-chars", "let-in", "half-formals", "brackets"],
)
async def test_garbage_gets_an_answer(client, workdir, text):
    uri = uri_for(workdir)
    await open_doc(client, uri, text)
    position = lsp.Position(0, min(len(text), 3))
    ident = lsp.TextDocumentIdentifier(uri)
    assert await client.text_document_completion_async(lsp.CompletionParams(ident, position)) is not None
    await client.text_document_hover_async(lsp.HoverParams(ident, position))
    assert await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(ident)) is not None
    assert await client.text_document_definition_async(lsp.DefinitionParams(ident, position)) is not None


async def test_unknown_uri_answers_empty(client):
    ident = lsp.TextDocumentIdentifier("file:///nowhere/never-opened.nix")
    result = await client.text_document_completion_async(lsp.CompletionParams(ident, lsp.Position(0, 0)))
    assert list(result.items) == []
    assert await client.text_document_hover_async(lsp.HoverParams(ident, lsp.Position(0, 0))) is None
    assert await client.text_document_definition_async(lsp.DefinitionParams(ident, lsp.Position(0, 0))) in ([], ())


async def test_five_megabyte_file_gets_a_notice_not_a_hang(client, workdir):
    uri = uri_for(workdir)
    text = "[\n" + ("  1 2 3 4 5 6 7 8 9 10\n" * 230000) + "]\n"
    assert len(text.encode()) > 5_000_000
    found = await open_doc(client, uri, text)
    assert [d.code for d in found] == ["file-too-large"]
    result = await client.text_document_completion_async(lsp.CompletionParams(lsp.TextDocumentIdentifier(uri), lsp.Position(3, 2)))
    assert list(result.items) == []


@pytest.mark.parametrize(
    "depth_text",
    ["[" * 50000 + "]" * 50000, "let a = 1; in " * 50000 + "a", "{ a = " * 50000 + "1" + "; }" * 50000],
    ids=["brackets", "lets", "attrsets"],
)
async def test_fifty_thousand_levels_of_nesting(client, workdir, depth_text):
    uri = uri_for(workdir)
    text = '{ _class = "clan.service"; manifest.name = "a"; roles = { }; x = ' + depth_text + "; }"
    await open_doc(client, uri, text)
    ident = lsp.TextDocumentIdentifier(uri)
    middle = lsp.Position(0, len(text) // 2)
    assert await client.text_document_completion_async(lsp.CompletionParams(ident, middle)) is not None
    await client.text_document_hover_async(lsp.HoverParams(ident, middle))
    assert await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(ident)) is not None


async def test_one_megabyte_single_line(client, workdir):
    uri = uri_for(workdir)
    text = '{ _class = "clan.service"; manifest.name = "a"; roles = { }; x = [ ' + '"abc" ' * 175000 + "]; bogus = 1; }"
    assert len(text) > 1_000_000 and "\n" not in text
    found = await open_doc(client, uri, text)
    bogus = next(d for d in found if d.code == "unknown-option" and "bogus" in d.message)
    assert bogus.range.start == lsp.Position(0, text.index("bogus"))
    ident = lsp.TextDocumentIdentifier(uri)
    end = lsp.Position(0, len(text) - 3)
    assert await client.text_document_completion_async(lsp.CompletionParams(ident, end)) is not None
    await client.text_document_hover_async(lsp.HoverParams(ident, lsp.Position(0, text.index("bogus") + 1)))

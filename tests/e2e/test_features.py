"""Completion, hover, navigation, rename, symbols and quick fixes through the real server.

Each case is written as an author would type it, with `$0` at the cursor and the
expected answer beside it.
"""

from __future__ import annotations

import pytest
from lsprotocol import types as lsp

from .conftest import Cursor
from .helpers import open_doc, uri_for

HEAD = '{ lib, clanLib, ... }:\n{\n  _class = "clan.service";\n'


async def complete(client, workdir, marked: str) -> list[lsp.CompletionItem]:
    cursor = Cursor(marked)
    uri = uri_for(workdir)
    await open_doc(client, uri, cursor.text)
    result = await client.text_document_completion_async(lsp.CompletionParams(lsp.TextDocumentIdentifier(uri), cursor.position))
    return list(result.items)


def labels(items: list[lsp.CompletionItem]) -> list[str]:
    return [i.label for i in sorted(items, key=lambda i: i.sort_text or i.label)]


COMPLETIONS = [
    (HEAD + "  man$0\n}", ["manifest", "roles"], ["settings"]),
    (HEAD + "  manifest.$0\n}", ["name", "description", "categories", "exports", "readme"], ["features", "traits"]),
    (HEAD + '  manifest.categories = [ "Net$0', ["Network", "System", "Video"], ["Networking"]),
    (HEAD + '  manifest.exports.out = [ "$0" ];\n}', ["peer", "networking", "endpoints", "auth"], []),
    (HEAD + "  roles.server = {\n    $0\n  };\n}", ["description", "interface", "perInstance"], ["perMachine"]),
    (HEAD + "  roles.server.perInstance = { $0 }: { };\n}", ["instanceName", "settings", "machine", "roles", "mkExports", "meta", "..."], []),
    (HEAD + "  perMachine = { $0 }: { };\n}", ["machine", "instances", "mkExports", "exports", "meta"], ["settings", "roles", "instanceName"]),
    (HEAD + "  roles.server.perInstance = { ... }: {\n    $0\n  };\n}", ["nixosModule", "darwinModule", "exports"], ["nixosModules"]),
    (HEAD + '  manifest.exports.out = [ "endpoints" ];\n  roles.s.perInstance = { mkExports, ... }: { exports = mkExports { $0 }; };\n}', ["endpoints", "peer"], []),
    (HEAD + "  roles.s.perInstance = { mkExports, ... }: { exports = mkExports { endpoints.$0 }; };\n}", ["hosts"], []),
    (HEAD + "  roles.s.perInstance = { mkExports, ... }: { exports = mkExports { peer.$0 }; };\n}", ["hosts", "port", "user", "SSHOptions", "name"], []),
    (
        HEAD + "  roles.s.interface = { lib, ... }: { options.port = lib.mkOption { type = lib.types.port; default = 1; }; options.host = lib.mkOption { type = lib.types.str; }; };\n"
        "  roles.s.perInstance = { settings, ... }: { nixosModule.x = settings.$0; };\n}",
        ["host", "port"],
        [],
    ),
    (HEAD + "  roles.s.perInstance = { exports, ... }: { nixosModule.x = clanLib.selectExports (sc: sc.$0) exports; };\n}", ["serviceName", "instanceName", "roleName", "machineName"], ["service"]),
    (HEAD + "  roles.s.perInstance = { ... }: { nixosModule.x = clanLib.$0; };\n}", ["buildScopeKey", "selectExports", "parseScope", "getExport"], ["exports"]),
    (HEAD + "  perMachine = { machine, ... }: { nixosModule.x = machine.$0; };\n}", ["name", "roles"], []),
    (HEAD + "  roles.a = { };\n  roles.b.perInstance = { roles, ... }: { nixosModule.x = roles.$0; };\n}", ["a", "b"], []),
    (HEAD + "  roles.b.perInstance = { roles, ... }: { nixosModule.x = roles.b.$0; };\n}", ["machines", "settings"], []),
]


@pytest.mark.parametrize("marked,present,absent", COMPLETIONS, ids=[f"case{i}" for i in range(len(COMPLETIONS))])
async def test_completion(client, workdir, marked, present, absent):
    items = await complete(client, workdir, marked)
    found = labels(items)
    for label in present:
        assert label in found, f"{label} missing from {found}"
    for label in absent:
        assert label not in found


async def test_completion_items_carry_kind_detail_docs_and_snippets(client, workdir):
    items = await complete(client, workdir, HEAD + "  manifest.$0\n}")
    name = next(i for i in items if i.label == "name")
    assert name.kind == lsp.CompletionItemKind.Property
    assert name.detail == "str"
    assert "service part of every export scope key" in name.documentation.value
    items = await complete(client, workdir, HEAD + "  manifest = {\n    $0\n  };\n}")
    name = next(i for i in items if i.label == "name")
    assert name.insert_text_format == lsp.InsertTextFormat.Snippet
    assert name.text_edit.new_text == 'name = "$1";'


async def test_listed_interfaces_come_first(client, workdir):
    items = await complete(client, workdir, HEAD + '  manifest.exports.out = [ "endpoints" ];\n  roles.s.perInstance = { mkExports, ... }: { exports = mkExports { $0 }; };\n}')
    assert labels(items)[0] == "endpoints"


async def hover_at(client, workdir, marked: str) -> str | None:
    cursor = Cursor(marked)
    uri = uri_for(workdir)
    await open_doc(client, uri, cursor.text)
    found = await client.text_document_hover_async(lsp.HoverParams(lsp.TextDocumentIdentifier(uri), cursor.position))
    return found.contents.value if found else None


HOVERS = [
    (HEAD + '  manifest.na$0me = "x";\n}', ["manifest.name", "required", "`:`"]),
    (HEAD + '  manifest.categories = [ "Net$0work" ];\n}', ["category `Network`"]),
    (HEAD + '  manifest.exports.out = [ "pe$0er" ];\n}', ["export interface `peer`", "`hosts`", "`port`"]),
    (HEAD + "  roles.s.perInstance = { settings, ins$0tanceName, ... }: { };\n}", ["instanceName", "argument of perInstance"]),
    (HEAD + "  roles.s.perInstance = { instanceName, ... }: { nixosModule.x = instance$0Name; };\n}", ["instanceName"]),
    (HEAD + '  x = clanLib.buildScope$0Key { serviceName = "a"; };\n}', ["clanLib.buildScopeKey", "serviceName ?"]),
    (HEAD + "  manifest.feat$0ures.API = true;\n}", ["Removed", "2026-05-12"]),
    (HEAD + "  manifest.tra$0its = [ ];\n}", ["Removed", "manifest.exports.out"]),
    (
        HEAD + '  roles.s.interface = { lib, ... }: { options.port = lib.mkOption { type = lib.types.port; default = 8; description = "Listen port."; }; };\n'
        "  roles.s.perInstance = { settings, ... }: { nixosModule.x = settings.po$0rt; };\n}",
        ["settings.port", "`port`", "Listen port.", "Default: `8`"],
    ),
    (HEAD + "  roles.s.perInstance = { exports, ... }: { nixosModule.x = clanLib.selectExports (sc: sc.machine$0Name == \"a\") exports; };\n}", ["machineName"]),
]


@pytest.mark.parametrize("marked,fragments", HOVERS, ids=[f"hover{i}" for i in range(len(HOVERS))])
async def test_hover(client, workdir, marked, fragments):
    text = await hover_at(client, workdir, marked)
    assert text is not None
    for fragment in fragments:
        assert fragment in text


MODULE = HEAD + """  manifest.name = "acme/a";
  roles.server = {
    description = "Server";
    interface = { lib, ... }: {
      options.port = lib.mkOption { type = lib.types.port; default = 80; };
    };
    perInstance = { settings, roles, instanceName, ... }: {
      nixosModule.a = settings.port;
      nixosModule.b = settings.port + 1;
      nixosModule.c = roles.client.machines or { };
      nixosModule.d = instanceName;
    };
  };
  roles.client.description = "Client";
}
"""


def position_of(text: str, needle: str, delta: int = 0) -> lsp.Position:
    index = text.index(needle) + delta
    before = text[:index].split("\n")
    return lsp.Position(len(before) - 1, len(before[-1]))


async def test_definition_references_rename_of_a_setting(client, workdir):
    uri = uri_for(workdir)
    await open_doc(client, uri, MODULE)
    ident = lsp.TextDocumentIdentifier(uri)
    use = position_of(MODULE, "settings.port;", 10)
    definitions = await client.text_document_definition_async(lsp.DefinitionParams(ident, use))
    assert [d.range.start for d in definitions] == [position_of(MODULE, "port = lib.mkOption")]
    refs = await client.text_document_references_async(lsp.ReferenceParams(text_document=ident, position=use, context=lsp.ReferenceContext(include_declaration=True)))
    assert len(refs) == 3
    edit = await client.text_document_rename_async(lsp.RenameParams(ident, use, "listenPort"))
    edits = edit.changes[uri]
    assert len(edits) == 3 and all(e.new_text == "listenPort" for e in edits)


async def test_definition_and_rename_of_a_role(client, workdir):
    uri = uri_for(workdir)
    await open_doc(client, uri, MODULE)
    ident = lsp.TextDocumentIdentifier(uri)
    use = position_of(MODULE, "roles.client.machines", 7)
    definitions = await client.text_document_definition_async(lsp.DefinitionParams(ident, use))
    assert [d.range.start for d in definitions] == [position_of(MODULE, "client.description")]
    edit = await client.text_document_rename_async(lsp.RenameParams(ident, use, "agent"))
    assert sorted((e.range.start.line, e.new_text) for e in edit.changes[uri]) == [(12, "agent"), (16, "agent")]


async def test_definition_of_a_formal(client, workdir):
    uri = uri_for(workdir)
    await open_doc(client, uri, MODULE)
    ident = lsp.TextDocumentIdentifier(uri)
    use = position_of(MODULE, "instanceName;", 2)
    definitions = await client.text_document_definition_async(lsp.DefinitionParams(ident, use))
    assert [d.range.start for d in definitions] == [position_of(MODULE, "instanceName, ...")]


async def test_document_symbols_are_an_outline(client, workdir):
    uri = uri_for(workdir)
    await open_doc(client, uri, MODULE)
    symbols = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(lsp.TextDocumentIdentifier(uri)))
    # one symbol per binding as written: the second dotted `roles.client.description` is kept
    assert [s.name for s in symbols] == ["_class", "manifest.name", "roles.server", "roles.client.description"]
    server = symbols[2]
    assert server.kind == lsp.SymbolKind.Class
    assert [c.name for c in server.children] == ["description", "interface", "perInstance"]
    interface = server.children[1]
    assert [c.name for c in interface.children] == ["options.port"]


async def quick_fixes(client, workdir, text: str, code: str) -> list[lsp.CodeAction]:
    uri = uri_for(workdir)
    found = await open_doc(client, uri, text)
    diagnostic = next(d for d in found if d.code == code)
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(lsp.TextDocumentIdentifier(uri), diagnostic.range, lsp.CodeActionContext([diagnostic]))
    )
    return [a for a in actions if isinstance(a, lsp.CodeAction)]


async def test_quick_fix_did_you_mean(client, workdir):
    actions = await quick_fixes(client, workdir, HEAD + '  manifest.name = "a";\n  manifest.categories = [ "Networking" ];\n  roles = { };\n}', "unknown-category")
    assert actions[0].title == "Change to `Network`"
    edit = next(iter(actions[0].edit.changes.values()))[0]
    assert edit.new_text == '"Network"'


async def test_quick_fix_adds_ellipsis(client, workdir):
    actions = await quick_fixes(client, workdir, HEAD + '  manifest.name = "a";\n  roles.s.perInstance = { settings }: { };\n}', "missing-ellipsis")
    edit = next(iter(actions[0].edit.changes.values()))[0]
    assert edit.new_text == ", ..."


async def test_quick_fix_adds_interface_to_exports_out(client, workdir):
    text = HEAD + '  manifest.name = "a";\n  manifest.exports.out = [ ];\n  roles.s.perInstance = { mkExports, ... }: { exports = mkExports { peer.hosts = [ ]; }; };\n}'
    actions = await quick_fixes(client, workdir, text, "exports-not-allowed")
    edit = next(iter(actions[0].edit.changes.values()))[0]
    assert edit.new_text == '[ "peer" ]'


async def test_quick_fix_removes_a_removed_option(client, workdir):
    text = HEAD + '  manifest.name = "a";\n  manifest.features.API = true;\n  roles = { };\n}'
    actions = await quick_fixes(client, workdir, text, "removed-option")
    edit = next(iter(actions[0].edit.changes.values()))[0]
    assert edit.new_text == "" and "Remove" in actions[0].title

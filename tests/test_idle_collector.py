"""The server's garbage collection runs between messages (server.IdleCollector)."""

from __future__ import annotations

import asyncio

from clan_lsp import server


def test_a_collection_runs_once_no_message_came_for_a_while(monkeypatch) -> None:
    collected = []
    monkeypatch.setattr(server.gc, "collect", lambda *generation: collected.append(generation) or 0)
    collector = server.IdleCollector()
    collector.IDLE_SECONDS = 0.02

    async def messages() -> None:
        collector.message_handled()
        await asyncio.sleep(0.1)  # idle: one full collection
        collector.message_handled()
        await asyncio.sleep(0.005)
        collector.message_arrived()  # the next message came before the pause was long enough
        await asyncio.sleep(0.1)

    asyncio.run(messages())
    assert collected == [()]


def test_young_objects_are_collected_after_an_answer_past_the_limit(monkeypatch) -> None:
    collected = []
    monkeypatch.setattr(server.gc, "collect", lambda *generation: collected.append(generation) or 0)
    monkeypatch.setattr(server.gc, "get_count", lambda: (server.IdleCollector.YOUNG_LIMIT + 1, 0, 0))
    server.IdleCollector().answered()
    monkeypatch.setattr(server.gc, "get_count", lambda: (10, 0, 0))
    server.IdleCollector().answered()
    assert collected == [(1,)]


def test_typing_that_never_pauses_gets_a_full_collection_now_and_then(monkeypatch) -> None:
    collected = []
    monkeypatch.setattr(server.gc, "collect", lambda *generation: collected.append(generation) or 0)
    monkeypatch.setattr(server.gc, "get_count", lambda: (server.IdleCollector.YOUNG_LIMIT + 1, 0, 10))
    server.IdleCollector().answered()
    assert collected == [(2,)]


def test_young_objects_are_collected_every_hundred_answers_however_few(monkeypatch) -> None:
    """The few cycles a keystroke leaves hold its version's text and tree, which the object
    counts do not show: typing that never pauses gets a young collection every so many answers."""
    collected = []
    monkeypatch.setattr(server.gc, "collect", lambda *generation: collected.append(generation) or 0)
    monkeypatch.setattr(server.gc, "get_count", lambda: (40, 0, 0))
    collector = server.IdleCollector()
    for _ in range(collector.ANSWERS_LIMIT - 1):
        collector.answered()
    assert collected == []
    collector.answered()
    assert collected == [(1,)]
    for _ in range(collector.ANSWERS_LIMIT - 1):
        collector.answered()
    assert collected == [(1,)]


def test_a_keystroke_leaves_its_model_to_reference_counting() -> None:
    """Rules' derived facts hold their module, part or file weakly (a cycle through them kept
    every keystroke's whole model for the collector): after a keystroke, only the `let`
    scopes of the model (a scope and its bindings) are left in cycles."""
    import gc

    from clan_lsp.analysis import Analysis
    from clan_lsp.model import load_source
    from clan_lsp.syntax import SyntaxTree

    text = b"""{ lib, clanLib, ... }:
let helper = { a = 1; }; other = helper; in
{
  _class = "clan.service";
  manifest.name = "demo";
  manifest.exports.out = [ "peer" ];
  roles.server = {
    description = "A server";
    interface = { lib, ... }: { options.port = lib.mkOption { type = lib.types.int; default = 1; }; };
    perInstance = { settings, roles, mkExports, ... }: {
      exports = mkExports { peer.hosts = [ ]; };
      nixosModule = { config, pkgs, ... }: { networking.firewall.allowedTCPPorts = [ settings.port ]; };
    };
  };
  perMachine = { machine, ... }: { nixosModule = { ... }: { }; };
}
"""
    analysis = Analysis(roots=[])
    tree = SyntaxTree(text)
    analysis.update("/demo/default.nix", load_source(text, "/demo/default.nix", tree=tree))
    analysis.diagnostics("/demo/default.nix")
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        gc.set_debug(gc.DEBUG_SAVEALL)
        at = text.index(b"allowedTCPPorts") + len(b"allowedTCPPorts")
        for keystroke in range(6):
            tree.edit(at, at, b"x") if keystroke % 2 == 0 else tree.edit(at, at + 1, b"")
            analysis.update("/demo/default.nix", load_source(tree.text, "/demo/default.nix", tree=tree))
            analysis.diagnostics("/demo/default.nix")
        gc.collect()
        left = {type(thing).__name__ for thing in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was:
            gc.enable()
    assert left <= {"Env", "Thunk", "dict", "Reader"}, left

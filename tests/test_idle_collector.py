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

"""Benchmark the language server through a real LSP client over stdio.

    python bench/lsp.py FILE.nix [--edits 200] [--completions 50] [--open-all DIR]

FILE is a service module; the intended one is clan-core's largest,
clanServices/wireguard/default.nix. Prints one table from one run:
- initialize: process start to the initialize response,
- didOpen to diagnostics,
- N one-character edits, each didChange to the diagnostics of that version
  (p50/p95/p99), next to tree-sitter's own incremental reparse of the same edit,
- completion at M places (p50/p95),
- resident memory of the server after the run, and with --open-all, after also
  opening every .nix file below DIR (clan-core: 377 files) and receiving their diagnostics.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

from clan_lsp.syntax import LineIndex, SyntaxTree


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def edit_places(text: bytes, count: int, seed: int = 7) -> list[int]:
    """Offsets just after an identifier character: typing there keeps most of the file valid."""
    rng = random.Random(seed)
    candidates = [i + 1 for i in range(len(text) - 1) if chr(text[i]).isalpha() and text[i + 1 : i + 2] in (b" ", b";", b"\n")]
    return [rng.choice(candidates) for _ in range(count)]


def reparse_times(text: bytes, offsets: list[int]) -> list[float]:
    """tree-sitter's incremental reparse for the same edits (insert a char, then delete it)."""
    tree = SyntaxTree(text)
    times = []
    for index, offset in enumerate(offsets):
        insert = index % 2 == 0
        raw = tree.tree
        data = tree.text
        if insert:
            new = data[:offset] + b"x" + data[offset:]
            start, old_end, new_end = offset, offset, offset + 1
        else:
            new = data[:offset] + data[offset + 1 :]
            start, old_end, new_end = offset, offset + 1, offset
        old_index, new_index = LineIndex(data), LineIndex(new)

        def point(index_: LineIndex, at: int) -> tuple[int, int]:
            line = index_.line_of(at)
            return line, at - index_.line_starts[line]

        began = time.perf_counter()
        raw.edit(start, old_end, new_end, point(old_index, start), point(old_index, old_end), point(new_index, new_end))
        tree.tree = tree.parser.parse(new, raw)
        times.append(time.perf_counter() - began)
        tree.text = new
    return times


async def run(path: Path, edits: int, completions: int, open_all: Path | None = None) -> None:
    text = path.read_bytes()
    uri = path.resolve().as_uri()
    client = LanguageClient("clan-lsp-bench", "1")
    published: dict[int | None, float] = {}
    arrived = asyncio.Event()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: lsp.PublishDiagnosticsParams) -> None:
        published[params.version] = time.perf_counter()
        arrived.set()

    async def wait_version(version: int) -> float:
        while version not in published:
            arrived.clear()
            await asyncio.wait_for(arrived.wait(), 30)
        return published[version]

    began = time.perf_counter()
    await client.start_io(sys.executable, "-m", "clan_lsp")
    capabilities = lsp.ClientCapabilities(
        text_document=lsp.TextDocumentClientCapabilities(completion=lsp.CompletionClientCapabilities(completion_item=lsp.ClientCompletionItemOptions(snippet_support=True)))
    )
    await client.initialize_async(lsp.InitializeParams(capabilities=capabilities, process_id=os.getpid()))
    initialize = time.perf_counter() - began
    client.initialized(lsp.InitializedParams())

    sent = time.perf_counter()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri=uri, language_id="nix", version=1, text=text.decode())))
    open_latency = await wait_version(1) - sent

    offsets = edit_places(text, edits)
    index_text = text
    latencies = []
    for number, offset in enumerate(offsets):
        version = number + 2
        index = LineIndex(index_text)
        position = index.position(offset)
        if number % 2 == 0:
            change = lsp.TextDocumentContentChangePartial(range=lsp.Range(lsp.Position(position.line, position.character), lsp.Position(position.line, position.character)), text="x")
            index_text = index_text[:offset] + b"x" + index_text[offset:]
        else:
            end = index.position(offset + 1)
            change = lsp.TextDocumentContentChangePartial(range=lsp.Range(lsp.Position(position.line, position.character), lsp.Position(end.line, end.character)), text="")
            index_text = index_text[:offset] + index_text[offset + 1 :]
        sent = time.perf_counter()
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(lsp.VersionedTextDocumentIdentifier(uri=uri, version=version), [change]))
        latencies.append(await wait_version(version) - sent)
    reparse = reparse_times(text, offsets)

    rng = random.Random(11)
    lines = index_text.split(b"\n")
    completion_times = []
    for _ in range(completions):
        line = rng.randrange(len(lines))
        column = rng.randrange(len(lines[line]) + 1)
        sent = time.perf_counter()
        await client.text_document_completion_async(lsp.CompletionParams(lsp.TextDocumentIdentifier(uri), lsp.Position(line, column)))
        completion_times.append(time.perf_counter() - sent)

    server = getattr(client, "_server", None)

    def resident() -> float | None:
        if server is None:
            return None
        try:
            status = Path(f"/proc/{server.pid}/status").read_text()
            return next(int(l.split()[1]) for l in status.splitlines() if l.startswith("VmRSS")) / 1024
        except (OSError, StopIteration):
            return None

    rss = resident()
    corpus_rss = None
    corpus_files = 0
    if open_all is not None:
        for other in sorted(open_all.rglob("*.nix")):
            other_uri = other.resolve().as_uri()
            if other_uri == uri:
                continue
            client.text_document_did_open(
                lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri=other_uri, language_id="nix", version=1, text=other.read_text(errors="replace")))
            )
            corpus_files += 1
        # the server handles messages in order and publishes inside didOpen, so one
        # answered request after the opens means every file has been analysed
        await client.text_document_hover_async(lsp.HoverParams(lsp.TextDocumentIdentifier(uri), lsp.Position(0, 0)))
        corpus_rss = resident()
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()

    reparse_p50 = statistics.median(reparse)
    ms = lambda s: f"{s * 1000:8.2f} ms"  # noqa: E731
    print(f"file: {path} ({len(text)} bytes); {edits} edits, {completions} completions")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print()
    print(f"| {'what':44} | {'value':>11} | {'x ts reparse p50':>16} |")
    print(f"|{'-' * 46}|{'-' * 13}|{'-' * 18}|")
    rows = [
        ("initialize (process start to response)", initialize, None),
        ("didOpen to diagnostics", open_latency, None),
        ("tree-sitter incremental reparse, p50", reparse_p50, 1.0),
        ("tree-sitter incremental reparse, p95", percentile(reparse, 95), percentile(reparse, 95) / reparse_p50),
        ("didChange to diagnostics, p50", percentile(latencies, 50), percentile(latencies, 50) / reparse_p50),
        ("didChange to diagnostics, p95", percentile(latencies, 95), percentile(latencies, 95) / reparse_p50),
        ("didChange to diagnostics, p99", percentile(latencies, 99), percentile(latencies, 99) / reparse_p50),
        ("completion, p50", percentile(completion_times, 50), percentile(completion_times, 50) / reparse_p50),
        ("completion, p95", percentile(completion_times, 95), percentile(completion_times, 95) / reparse_p50),
    ]
    for name, seconds, ratio in rows:
        print(f"| {name:44} | {ms(seconds)} | {(f'{ratio:15.1f}x' if ratio is not None else ''):>16} |")
    if rss is not None:
        print(f"| {'server resident memory after the run':44} | {rss:8.1f} MB | {'':>16} |")
    if corpus_rss is not None:
        label = f"... after opening {corpus_files} more files"
        print(f"| {label:44} | {corpus_rss:8.1f} MB | {'':>16} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--completions", type=int, default=50)
    parser.add_argument("--open-all", type=Path, default=None, metavar="DIR")
    options = parser.parse_args()
    asyncio.run(run(options.file, options.edits, options.completions, options.open_all))
    return 0


if __name__ == "__main__":
    sys.exit(main())

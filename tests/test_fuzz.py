"""Property tests: random edits of realistic modules, then every request at random places.

The real server process answers every request, without an error response, within a
bound, and stays alive. Fixed seed (derandomize) and a bounded number of examples, so
CI time is bounded and a failure reproduces.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsp_stdio import StdioClient

ROOT = Path(__file__).resolve().parent.parent
SEEDS = [
    (ROOT / "examples/hello-mesh/default.nix").read_text(),
    (ROOT / "examples/broken/default.nix").read_text(),
    (ROOT / "tests/fixtures/clean/full-featured.nix").read_text(),
]
PIECES = ["{", "}", "[", "]", ";", "=", ".", '"', "''", "${", "\r\n", "\n", " ", "😀", "é", "漢字", "\x00", "...", ":", "roles.", "settings.", "mkExports {", "manifest.", "# ", "let ", " in "]
BOUND = 5.0  # seconds any single answer may take


@pytest.fixture(scope="module")
def server():
    client = StdioClient()
    client.initialize()
    yield client
    client.close()


edit = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("delete"), st.floats(0, 1), st.integers(1, 40)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.lists(st.sampled_from(PIECES), min_size=1, max_size=4).map("".join)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.text(max_size=6)),
)
place = st.tuples(st.integers(0, 60), st.integers(0, 120))

_counter = [0]


def _range_of(text: str, start: int, end: int) -> dict:
    def position(offset: int) -> dict:
        before = text[:offset]
        line = before.count("\n")
        column = before[before.rfind("\n") + 1 :]
        return {"line": line, "character": len(column.encode("utf-16-le")) // 2}

    return {"start": position(start), "end": position(end)}


@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.sampled_from(SEEDS), edits=st.lists(edit, min_size=1, max_size=6), places=st.lists(place, min_size=1, max_size=3))
def test_random_edits_never_break_the_server(server, seed, edits, places):
    _counter[0] += 1
    uri = f"file:///fuzz/{_counter[0]}/default.nix"
    text = seed
    server.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "nix", "version": 1, "text": text}})
    for version, (kind, where, *rest) in enumerate(edits, start=2):
        at = int(where * len(text))
        if kind == "truncate":
            start, end, new = at, len(text), ""
        elif kind == "delete":
            start, end, new = at, min(len(text), at + rest[0]), ""
        else:
            start, end, new = at, at, rest[0]
        change = {"range": _range_of(text, start, end), "text": new}
        text = text[:start] + new + text[end:]
        server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]})
        for line, character in places:
            position = {"line": line, "character": character}
            document = {"uri": uri}
            for method, params in (
                ("textDocument/completion", {"textDocument": document, "position": position}),
                ("textDocument/hover", {"textDocument": document, "position": position}),
                ("textDocument/definition", {"textDocument": document, "position": position}),
                ("textDocument/documentSymbol", {"textDocument": document}),
                ("textDocument/diagnostic", {"textDocument": document}),
            ):
                answer = server.request(method, params, timeout=BOUND)
                assert "error" not in answer, (method, answer["error"])
    final = server.request("textDocument/diagnostic", {"textDocument": {"uri": uri}}, timeout=BOUND)
    assert "error" not in final
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    assert server.process.poll() is None
    log = server.log_text()
    swallowed = "Traceback" in log  # a feature raised and was answered empty
    assert not swallowed, log[-3000:]

"""`initialize` is answered before pygls is imported, exactly as pygls would answer it."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from clan_lsp import boot

def client(encodings=None, prepare=None, will_save=None, wait_until=None, pull=False) -> dict:
    capabilities: dict = {}
    if encodings is not None:
        capabilities["general"] = {"positionEncodings": encodings}
    text_document: dict = {}
    if prepare is not None:
        text_document["rename"] = {"prepareSupport": prepare}
    sync = {k: v for k, v in (("willSave", will_save), ("willSaveWaitUntil", wait_until)) if v is not None}
    if sync:
        text_document["synchronization"] = sync
    if pull:
        text_document["diagnostic"] = {}
    if text_document:
        capabilities["textDocument"] = text_document
    return {"processId": None, "rootUri": None, "capabilities": capabilities}


CLIENTS = {
    "bare": client(),
    "utf-8, prepareSupport, willSave false": client(["utf-8", "utf-16"], True, False, None),
    "utf-32, no prepareSupport, willSave true, pulls": client(["utf-32"], False, True, True, pull=True),
    "unknown encodings first": client(["koi8-r", "utf-8"], None, None, False),
}


@pytest.mark.parametrize("name", list(CLIENTS))
def test_the_early_answer_is_the_servers_answer(name) -> None:
    params = CLIENTS[name]
    assert boot.initialize_result(params) == boot.pygls_result(params), (
        "the capabilities changed; regenerate clan_lsp/capabilities.py with `python -m clan_lsp.boot`"
    )


@pytest.mark.parametrize("editor", ["visual-studio-code", "neovim"])
def test_the_early_answer_for_real_editors(editor) -> None:
    pytest_lsp = pytest.importorskip("pytest_lsp")
    try:
        capabilities = pytest_lsp.client_capabilities(editor)
    except Exception:  # noqa: BLE001 - an older pytest-lsp without this editor
        pytest.skip(f"pytest-lsp has no capabilities of {editor}")
    from lsprotocol import types as lsp
    from pygls.protocol import default_converter

    params = {"capabilities": default_converter().unstructure(capabilities, lsp.ClientCapabilities)}
    assert boot.initialize_result(params) == boot.pygls_result(params)


def test_replay_gives_back_what_was_read_then_the_stream() -> None:
    replay = boot.Replay(b"Content-Length: 2\r\n\r\n{}", io.BytesIO(b"Content-Length: 3\r\n\r\n[1]"))
    assert replay.readline() == b"Content-Length: 2\r\n"
    assert replay.readline() == b"\r\n"
    assert replay.read(2) == b"{}"
    assert replay.readline() == b"Content-Length: 3\r\n"
    assert replay.readline() == b"\r\n"
    assert replay.read(3) == b"[1]"


def test_the_server_answers_initialize_once() -> None:
    def message(body: dict) -> bytes:
        return boot.frame({"jsonrpc": "2.0", **body})

    stdin = (
        message({"id": 1, "method": "initialize", "params": client(["utf-8"], True, None, None)})
        + message({"method": "initialized", "params": {}})
        + message({"id": 2, "method": "shutdown"})
        + message({"method": "exit"})
    )
    done = subprocess.run([sys.executable, "-m", "clan_lsp"], input=stdin, capture_output=True, timeout=60)
    answers = []
    data = io.BytesIO(done.stdout)
    while True:
        _, body = boot.read_message(data)
        if body is None:
            break
        answers.append(body)
    ids = [a.get("id") for a in answers if "result" in a or "error" in a]
    assert ids == [1, 2]
    assert answers[0]["result"]["capabilities"]["positionEncoding"] == "utf-8"
    assert answers[0]["result"]["capabilities"]["renameProvider"] == {"prepareProvider": True}


def test_garbage_first_message_goes_to_pygls_untouched() -> None:
    stdin = b"Content-Length: 5\r\n\r\nnope!" + boot.frame({"jsonrpc": "2.0", "method": "exit"})
    done = subprocess.run([sys.executable, "-m", "clan_lsp"], input=stdin, capture_output=True, timeout=60)
    assert b'"id": 1' not in done.stdout
    json.dumps(done.returncode)  # it ended rather than hanging (the timeout would raise)


def test_unread_raw_hands_over_the_pipe_with_every_byte_not_yet_taken() -> None:
    """The server reads stdin on its event loop from the descriptor: the bytes boot read
    ahead (the first message, and what the buffered stream holds past it) come first."""
    import os

    first = boot.frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}})
    second = boot.frame({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    read_end, write_end = os.pipe()
    os.write(write_end, first + second)
    stream = os.fdopen(read_end, "rb")  # buffered: it reads past the first message
    try:
        raw, message = boot.read_message(stream)
        assert message["method"] == "initialize"
        replay = boot.Replay(raw, stream)
        fd, unread = replay.unread_raw()
        assert fd == read_end
        assert unread == first + second
        os.write(write_end, b"more")
        assert os.read(fd, 4) == b"more"  # nothing else was held back
        assert os.get_blocking(fd)
    finally:
        os.close(write_end)
        stream.close()

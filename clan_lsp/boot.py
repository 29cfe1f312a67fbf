"""Answer `initialize` before importing the language server (pygls and lsprotocol).

Importing lsprotocol alone costs 0.5-0.7 s; an editor waits for the answer to
`initialize` before it sends anything else, and some give up on a slow one. So the
first message is read here with nothing but `json`, answered with what pygls would
answer (the server's capabilities, kept in clan_lsp/capabilities.py), and only then is
the server imported. It reads the same `initialize` again, so it sets itself up as
always; its own answer is dropped, and the messages the editor sent meanwhile wait in
the pipe.
"""

from __future__ import annotations

import copy
import json
import os
import sys
from types import SimpleNamespace
from typing import BinaryIO

from . import __version__

ENCODINGS = ("utf-8", "utf-16", "utf-32")  # what pygls can count in


def _capability(client: dict, *path: str):
    value = client
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def initialize_result(params: dict) -> dict:
    """The answer pygls gives to `initialize` with these params, without importing it.

    tests/test_boot.py compares this with pygls' own answer for many clients."""
    from .capabilities import PULL_DIAGNOSTIC_PROVIDER, SERVER_CAPABILITIES

    capabilities = copy.deepcopy(SERVER_CAPABILITIES)
    client = params.get("capabilities") if isinstance(params.get("capabilities"), dict) else {}
    # the first encoding the client lists that pygls knows, else UTF-16
    encoding = "utf-16"
    for offered in _capability(client, "general", "positionEncodings") or ():
        if offered in ENCODINGS:
            encoding = offered
            break
    capabilities["positionEncoding"] = encoding
    # RenameOptions only for a client that states prepareSupport (the spec says so)
    if "renameProvider" in capabilities:
        if _capability(client, "textDocument", "rename", "prepareSupport"):
            capabilities["renameProvider"] = {"prepareProvider": True}
        else:
            capabilities["renameProvider"] = True
    # willSave*: the client's flag and our (absent) handler: false when the client says
    # anything, left out when it says nothing
    sync = capabilities.get("textDocumentSync")
    if isinstance(sync, dict):
        for key in ("willSave", "willSaveWaitUntil"):
            stated = _capability(client, "textDocument", "synchronization", key)
            sync.pop(key, None)
            if stated is not None:
                sync[key] = False
    # server.py's initialize handler advertises pull diagnostics to a client that can pull
    capabilities.pop("diagnosticProvider", None)
    if isinstance(_capability(client, "textDocument", "diagnostic"), dict) and PULL_DIAGNOSTIC_PROVIDER:
        capabilities["diagnosticProvider"] = copy.deepcopy(PULL_DIAGNOSTIC_PROVIDER)
    return {"capabilities": capabilities, "serverInfo": {"name": "clan-lsp", "version": __version__}}


def read_message(stream: BinaryIO) -> tuple[bytes, dict | None]:
    """One framed message: its raw bytes (to replay) and its body, None when unreadable."""
    raw = b""
    length = None
    while True:
        line = stream.readline()
        raw += line
        if not line:
            return raw, None
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                return raw, None
        if not line.strip():
            break
    if length is None:
        return raw, None
    body = stream.read(length)
    raw += body
    try:
        message = json.loads(body)
    except ValueError:
        return raw, None
    return raw, message if isinstance(message, dict) else None


def frame(message: dict) -> bytes:
    body = json.dumps(message, separators=(",", ":")).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class Replay:
    """stdin, with bytes already read put back in front."""

    def __init__(self, prefix: bytes, stream: BinaryIO):
        self._prefix = prefix
        self._stream = stream

    def readline(self, limit: int = -1) -> bytes:
        if not self._prefix:
            return self._stream.readline(limit)
        cut = self._prefix.find(b"\n") + 1 or len(self._prefix)
        line, self._prefix = self._prefix[:cut], self._prefix[cut:]
        return line

    def read(self, size: int = -1) -> bytes:
        if not self._prefix:
            return self._stream.read(size)
        if size < 0:
            data, self._prefix = self._prefix, b""
            return data + self._stream.read()
        data, self._prefix = self._prefix[:size], self._prefix[size:]
        if len(data) < size:
            data += self._stream.read(size - len(data))
        return data

    def close(self) -> None:
        self._stream.close()

    def unread_raw(self) -> tuple[int, bytes]:
        """The descriptor under the stream and every byte read from it but not yet taken:
        whoever reads the descriptor from now on starts with these bytes."""
        stream = self._stream
        left = self._prefix
        self._prefix = b""
        peek = getattr(stream, "peek", None)
        if peek is not None:
            # a buffered stream may hold bytes past the first message: take them without waiting
            fd = stream.fileno()
            blocking = os.get_blocking(fd)
            os.set_blocking(fd, False)
            try:
                buffered = peek(1) or b""
            except (BlockingIOError, OSError, ValueError):
                buffered = b""
            finally:
                os.set_blocking(fd, blocking)
            left += stream.read(len(buffered)) if buffered else b""
        return stream.fileno(), left


class DropAnswer:
    """stdout, minus the server's own answer to the request answered already."""

    def __init__(self, stream: BinaryIO, request_id):
        self._stream = stream
        self._id = request_id
        self._dropped = False

    def write(self, data: bytes) -> int:
        if not self._dropped:
            _, _, body = data.partition(b"\r\n\r\n")
            try:
                message = json.loads(body)
            except ValueError:
                message = None
            if isinstance(message, dict) and message.get("id") == self._id and ("result" in message or "error" in message):
                self._dropped = True
                return len(data)
        return self._stream.write(data)

    def flush(self) -> None:
        self._stream.flush()

    def close(self) -> None:
        self._stream.close()


def serve(log_level: str = "WARNING") -> None:
    """Serve over stdio, answering `initialize` first."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    raw, message = read_message(stdin)
    output: BinaryIO = stdout
    early = os.environ.get("CLAN_LSP_EARLY_INITIALIZE", "1") != "0"  # 0: let pygls answer (tests compare)
    if early and message is not None and message.get("method") == "initialize" and "id" in message:
        params = message.get("params") if isinstance(message.get("params"), dict) else {}
        stdout.write(frame({"jsonrpc": "2.0", "id": message["id"], "result": initialize_result(params)}))
        stdout.flush()
        output = DropAnswer(stdout, message["id"])
    # pygls reads sys.stdin.buffer and writes sys.stdout.buffer when it starts
    sys.stdin = SimpleNamespace(buffer=Replay(raw, stdin))  # type: ignore[assignment]
    sys.stdout = SimpleNamespace(buffer=output, write=sys.stderr.write, flush=sys.stderr.flush)  # type: ignore[assignment]
    from .server import serve as serve_lsp

    serve_lsp(log_level)


def pygls_result(params: dict) -> dict:
    """The server's own answer to `initialize` (pygls', after our initialize handler has
    chosen its features), from a server process that does not answer early."""
    import subprocess

    stdin = frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}) + frame({"jsonrpc": "2.0", "method": "exit"})
    env = dict(os.environ, CLAN_LSP_EARLY_INITIALIZE="0", PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    done = subprocess.run([sys.executable, "-m", "clan_lsp"], input=stdin, capture_output=True, env=env, timeout=120)
    import io

    stream = io.BytesIO(done.stdout)
    while True:
        _, message = read_message(stream)
        if message is None:
            raise RuntimeError(f"no answer to initialize: {done.stderr.decode(errors='replace')[-2000:]}")
        if message.get("id") == 1:
            return message["result"]


def write_capabilities() -> None:
    """Regenerate clan_lsp/capabilities.py from the server (after adding or changing a feature)."""
    from pathlib import Path

    capabilities = pygls_result({"capabilities": {}})["capabilities"]
    pulling = pygls_result({"capabilities": {"textDocument": {"diagnostic": {}}}})["capabilities"].get("diagnosticProvider")
    Path(__file__).with_name("capabilities.py").write_text(
        '"""The server\'s capabilities as it states them to a client that states none, and the\n'
        "diagnostic provider it adds for a client that pulls diagnostics.\n\n"
        "Generated by `python -m clan_lsp.boot`; clan_lsp/boot.py answers `initialize` with\n"
        'them before pygls is imported. tests/test_boot.py says when they are out of date."""\n\n'
        "import json\n\n"
        f'SERVER_CAPABILITIES = json.loads(\n    r"""\n{json.dumps(capabilities, indent=2, sort_keys=True)}\n"""\n)\n'
        f'PULL_DIAGNOSTIC_PROVIDER = json.loads(r"""{json.dumps(pulling, sort_keys=True)}""")\n'
    )


if __name__ == "__main__":
    write_capabilities()

"""A minimal synchronous LSP client over the real server's stdio, for property tests.

pytest-lsp's client is async; Hypothesis examples are synchronous, and one server
process serves every example here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from queue import Empty, Queue


class StdioClient:
    def __init__(self) -> None:
        # the server logs every exception a feature swallows; tests read it back
        self.log = tempfile.NamedTemporaryFile(prefix="clan-lsp-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "clan_lsp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=dict(os.environ),
        )
        self.messages: Queue = Queue()
        self.next_id = 0
        self.diagnostics: dict[str, list] = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.process.stdout
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    self.messages.put(None)
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value.strip())
            self.messages.put(json.loads(stream.read(length)))

    def _send(self, message: dict) -> None:
        body = json.dumps(message).encode()
        self.process.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        self.process.stdin.flush()

    def notify(self, method: str, params: dict) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: dict | None, timeout: float = 5.0) -> dict:
        """The whole response message; raises TimeoutError if none arrives in time."""
        self.next_id += 1
        ident = self.next_id
        self._send({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{method} got no answer in {timeout} s")
            try:
                message = self.messages.get(timeout=remaining)
            except Empty:
                continue
            if message is None:
                raise ConnectionError("the server closed its output")
            if message.get("method") == "textDocument/publishDiagnostics":
                self.diagnostics[message["params"]["uri"]] = message["params"]["diagnostics"]
            if message.get("id") == ident and "method" not in message:
                return message

    def initialize(self) -> dict:
        # a pulling client: the server answers textDocument/diagnostic only to clients that announce it
        capabilities = {"textDocument": {"diagnostic": {}}}
        result = self.request("initialize", {"processId": os.getpid(), "rootUri": None, "capabilities": capabilities}, timeout=30)
        self.notify("initialized", {})
        return result

    def log_text(self) -> str:
        self.log.flush()
        with open(self.log.name, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def close(self) -> None:
        try:
            self.request("shutdown", None, timeout=5)
            self.notify("exit", None)
            self.process.wait(timeout=5)
        except Exception:  # noqa: BLE001
            self.process.kill()

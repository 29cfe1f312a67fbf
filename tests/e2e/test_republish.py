"""A change in one file republishes another open file only when that file's answer changed."""

from __future__ import annotations

import os
import queue
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lsp_stdio import StdioClient  # noqa: E402

SOURCE = Path(__file__).resolve().parents[1] / "workspaces" / "clean"


def _published(client: StdioClient, expected: int, timeout: float = 60, settle: float = 1.0) -> list[tuple[str, int]]:
    """(file name, number of diagnostics) of every push: wait for the `expected` ones (a busy
    machine may take seconds to start the server), then `settle` more for any unexpected."""
    found = []
    deadline = time.monotonic() + timeout
    quiet_until = None
    while True:
        now = time.monotonic()
        if len(found) >= expected and quiet_until is None:
            quiet_until = now + settle
        if now > (quiet_until if quiet_until is not None else deadline):
            return found
        try:
            message = client.messages.get(timeout=0.05)
        except queue.Empty:
            continue
        if message and message.get("method") == "textDocument/publishDiagnostics":
            found.append((Path(message["params"]["uri"]).name, len(message["params"]["diagnostics"])))


def test_only_changed_answers_are_pushed(tmp_path):
    root = tmp_path / "clan"
    shutil.copytree(SOURCE, root)
    clan, vpn = root / "flake-parts" / "default.nix", root / "services" / "vpn.nix"
    client = StdioClient()
    try:
        # a client that does not pull: it is pushed to
        client.request("initialize", {"processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": {}}, timeout=30)
        client.notify("initialized", {})
        for path in (vpn, clan):
            client.notify("textDocument/didOpen", {"textDocument": {"uri": path.as_uri(), "languageId": "nix", "version": 1, "text": path.read_text()}})
        assert sorted(_published(client, 2)) == [("default.nix", 0), ("vpn.nix", 0)]
        text = clan.read_text()
        before = text[: text.index("vpn =\n")].split("\n")
        at = {"line": len(before) - 1, "character": len(before[-1])}

        def edit(version: int, end: dict, new: str) -> None:
            client.notify(
                "textDocument/didChange",
                {"textDocument": {"uri": clan.as_uri(), "version": version}, "contentChanges": [{"range": {"start": at, "end": end}, "text": new}]},
            )

        edit(2, at, "/* c */ ")  # the service's answer stays the same: only the clan file is pushed
        assert _published(client, 1) == [("default.nix", 0)]
        edit(3, {"line": at["line"], "character": at["character"] + len("/* c */ vpn")}, "tunnel")
        assert sorted(_published(client, 2)) == [("default.nix", 0), ("vpn.nix", 1)]
    finally:
        client.close()

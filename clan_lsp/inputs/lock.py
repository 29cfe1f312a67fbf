"""flake.lock: what each input of a flake is locked to (read, never fetched)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone


@dataclass(frozen=True)
class LockedInput:
    name: str  # the name the root flake gives it
    node: str  # its node in flake.lock (differs when it `follows` another)
    type: str | None = None  # github, git, path, tarball, ...
    nar_hash: str | None = None
    last_modified: int | None = None
    path: str | None = None  # for `path` inputs
    owner: str | None = None
    repo: str | None = None
    url: str | None = None
    rev: str | None = None
    dir: str | None = None  # a flake in a subfolder of the source

    @property
    def date(self) -> str | None:
        if self.last_modified is None:
            return None
        return datetime.fromtimestamp(self.last_modified, tz=timezone.utc).strftime("%Y-%m-%d")

    def looks_like_clan_core(self) -> bool:
        names = [self.name, self.node, self.repo or "", (self.url or "").rstrip("/").split("/")[-1]]
        return any(n == "clan-core" or n.removesuffix(".git") == "clan-core" for n in names)


@dataclass
class FlakeLock:
    path: str
    inputs: dict[str, LockedInput]  # the root flake's inputs by name

    def clan_core(self) -> LockedInput | None:
        """The input clan resolves `module.input = null` against (its `clan-core`)."""
        if "clan-core" in self.inputs:
            return self.inputs["clan-core"]
        return next((i for i in self.inputs.values() if i.looks_like_clan_core()), None)


def _follow(nodes: dict, root: str, reference, depth: int = 0) -> str | None:
    """A root input's reference: a node name, or a `follows` path of input names from the root."""
    if isinstance(reference, str):
        return reference
    if not isinstance(reference, list) or depth > 16:
        return None
    current = root
    for step in reference:
        inputs = (nodes.get(current) or {}).get("inputs") or {}
        target = inputs.get(step)
        if target is None:
            return None
        current = _follow(nodes, root, target, depth + 1) if isinstance(target, list) else target
        if current is None:
            return None
    return current


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def read_lock(lock_path: str) -> FlakeLock | None:
    """The root inputs of a flake.lock, or None when it is missing or unreadable."""
    try:
        with open(lock_path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), dict):
        return None
    nodes = data["nodes"]
    root = data.get("root") if isinstance(data.get("root"), str) else "root"
    root_inputs = (nodes.get(root) or {}).get("inputs") or {}
    found: dict[str, LockedInput] = {}
    if not isinstance(root_inputs, dict):
        return FlakeLock(lock_path, found)
    for name, reference in root_inputs.items():
        node_name = _follow(nodes, root, reference)
        node = nodes.get(node_name) if node_name else None
        if not isinstance(node, dict):
            continue
        locked = node.get("locked") if isinstance(node.get("locked"), dict) else {}
        original = node.get("original") if isinstance(node.get("original"), dict) else {}
        modified = locked.get("lastModified")
        found[name] = LockedInput(
            name=name,
            node=node_name,
            type=_text(locked.get("type")),
            nar_hash=_text(locked.get("narHash")),
            last_modified=modified if isinstance(modified, int) and not isinstance(modified, bool) else None,
            path=_text(locked.get("path")) or (_text(original.get("path")) if locked.get("type") == "path" else None),
            owner=_text(locked.get("owner")) or _text(original.get("owner")),
            repo=_text(locked.get("repo")) or _text(original.get("repo")),
            url=_text(locked.get("url")) or _text(original.get("url")),
            rev=_text(locked.get("rev")),
            dir=_text(locked.get("dir")) or _text(original.get("dir")),
        )
    return FlakeLock(lock_path, found)


def find_lock(root: str) -> str | None:
    path = os.path.join(root, "flake.lock")
    return path if os.path.isfile(path) else None

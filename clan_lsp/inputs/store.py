"""Where a locked flake input sits in the Nix store, computed from its narHash.

A locked input is a fixed-output, recursively hashed path named `source`, so its store
path is `makeStorePath("source", narHash, "source")`: the sha256 of
`source:sha256:<hex digest>:<store dir>:source`, folded to 20 bytes, in Nix's base-32.
Nothing is fetched or evaluated; the path exists when the clan was ever evaluated.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import os

NIX_BASE32 = "0123456789abcdfghijklmnpqrsvwxyz"  # no e, o, u, t
DEFAULT_STORE_DIR = "/nix/store"


def store_dir() -> str:
    return os.environ.get("NIX_STORE_DIR") or DEFAULT_STORE_DIR


def nix_base32(data: bytes) -> str:
    """Nix's base-32: 5-bit groups taken from the end of the bytes first."""
    length = (len(data) * 8 - 1) // 5 + 1
    out = []
    for n in range(length - 1, -1, -1):
        bit = n * 5
        i, j = divmod(bit, 8)
        c = data[i] >> j
        if i + 1 < len(data):
            c |= data[i + 1] << (8 - j)
        out.append(NIX_BASE32[c & 0x1F])
    return "".join(out)


def from_nix_base32(text: str) -> bytes | None:
    size = len(text) * 5 // 8
    data = bytearray(size)
    for n, char in enumerate(reversed(text)):
        digit = NIX_BASE32.find(char)
        if digit < 0:
            return None
        bit = n * 5
        i, j = divmod(bit, 8)
        if i < size:
            data[i] |= (digit << j) & 0xFF
        if i + 1 < size:
            data[i + 1] |= digit >> (8 - j)
        elif digit >> (8 - j):
            return None
    return bytes(data)


def sha256_digest(nar_hash: str) -> bytes | None:
    """The 32 bytes of a narHash: `sha256-<base64>` (SRI), `sha256:<base32|hex|base64>`."""
    if not isinstance(nar_hash, str):
        return None
    if nar_hash.startswith("sha256-"):
        try:
            digest = base64.b64decode(nar_hash[7:], validate=True)
        except (binascii.Error, ValueError):
            return None
        return digest if len(digest) == 32 else None
    if nar_hash.startswith("sha256:"):
        body = nar_hash[7:]
        if len(body) == 64:
            try:
                return bytes.fromhex(body)
            except ValueError:
                return None
        if len(body) == 52:
            return from_nix_base32(body)
        try:
            digest = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return None
        return digest if len(digest) == 32 else None
    return None


def fold(digest: bytes, size: int = 20) -> bytes:
    """Nix's compressHash: byte i XORed into byte i mod size."""
    out = bytearray(size)
    for i, byte in enumerate(digest):
        out[i % size] ^= byte
    return bytes(out)


def source_store_path(nar_hash: str, directory: str | None = None, name: str = "source") -> str | None:
    """`<store>/<hash>-source` for a locked input, or None for a narHash we cannot read."""
    return _store_path(nar_hash, directory or store_dir(), name)


@functools.lru_cache(maxsize=1024)
def _store_path(nar_hash: str, directory: str, name: str) -> str | None:
    """source_store_path's arithmetic: a function of its arguments alone, so kept."""
    digest = sha256_digest(nar_hash)
    if digest is None:
        return None
    directory = directory.rstrip("/") or "/"
    fingerprint = f"source:sha256:{digest.hex()}:{directory}:{name}"
    hashed = fold(hashlib.sha256(fingerprint.encode()).digest())
    return f"{directory}/{nix_base32(hashed)}-{name}"

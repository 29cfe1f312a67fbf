"""Flake inputs: clan-core's services and other inputs' services, read at the version
the clan pins (flake.lock -> store path), from a configured folder, or from the catalogue.

The seam for the rest of clan-lsp is `resolve_input_service` (one service of one input)
with `provided_modules` (the names an input provides) and `input_interfaces`.
"""

from .lock import FlakeLock, LockedInput, read_lock
from .resolve import (
    CLAN_CORE, DEFAULT_SETTINGS, InputService, InputSettings, ProvidedModules, clear_caches, input_interfaces,
    locate_input, lock_of, parse_input_flags, provided_modules, resolve_input_service, settings_from,
)
from .source import InputSource
from .store import nix_base32, source_store_path, store_dir

__all__ = [
    "FlakeLock", "LockedInput", "read_lock", "CLAN_CORE", "DEFAULT_SETTINGS", "InputService", "InputSettings",
    "ProvidedModules", "clear_caches", "input_interfaces", "locate_input", "lock_of", "parse_input_flags",
    "provided_modules", "resolve_input_service", "settings_from", "InputSource", "nix_base32",
    "source_store_path", "store_dir",
]

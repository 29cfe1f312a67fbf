"""Semantic layer: what a set of files means as clans and services.

Entities know their file; the clans come from entry points found by call shape and the
files those reach, so "which clan is this file part of" has one answer.
"""

from .clan import Clan, ClanPart, ClanSearch, InventoryPart, find_clans, find_clans_again

__all__ = ["Clan", "ClanPart", "ClanSearch", "InventoryPart", "find_clans", "find_clans_again"]

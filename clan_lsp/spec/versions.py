"""Generations of the clan.service format, named by the clan-core commit date."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Generation:
    """The clan-core a workspace uses, as an ISO date; None means the newest."""

    date: str | None = None

    def has(self, since: str | None, removed: str | None = None) -> bool:
        """Whether a thing that appeared `since` and went away `removed` exists here."""
        if self.date is None:
            return removed is None
        if since is not None and self.date < since:
            return False
        return removed is None or self.date < removed

    def describe(self) -> str:
        return "the newest clan-core" if self.date is None else f"clan-core of {self.date}"


NEWEST = Generation()

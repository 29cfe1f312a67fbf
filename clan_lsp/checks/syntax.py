"""Rules Nix's own parser enforces before anything is evaluated.

duplicate-attribute: Nix rejects a set (or `let`, or `rec` set) that defines an attribute
twice, with `attribute 'x' already defined at <file>:<line>:<col>`. What counts as twice is
found by the syntax layer (clan_lsp/syntax/duplicates.py, following Nix's parser); here it
is worded. Nix stops at the first duplicate; every one is reported here, each where Nix
would put it with Nix's words as clan's message (for merged literals Nix names the earlier
definition's place "at" and the later one "already defined at").
"""

from __future__ import annotations

import os

from ..model import SourceFile
from .base import ERROR, Context, Finding, rule


def _line_column(source: SourceFile, offset: int) -> tuple[int, int]:
    """1-based, as Nix counts: the column in bytes."""
    index = source.tree.line_index
    line = index.line_of(offset)
    return line + 1, offset - index.line_starts[line] + 1


def duplicate_findings(source: SourceFile) -> list[Finding]:
    """duplicate-attribute findings of one file (any .nix file: Nix's parser rejects them all)."""
    path = os.path.abspath(source.path) if source.path else "«string»"
    findings = []
    for d in source.tree.duplicates.found:
        line, column = _line_column(source, d.previous)
        findings.append(
            Finding(
                "duplicate-attribute",
                ERROR,
                d.start,
                d.end,
                f"`{d.name}` is defined twice in one set; the other definition is on line {line}",
                source.path,
                clan_message=f"attribute '{d.name}' already defined at {path}:{line}:{column}",
            )
        )
    return findings


@rule("duplicate-attribute", ERROR, None, "an attribute defined twice in one set, which Nix rejects before evaluating")
def duplicate_attribute(ctx: Context) -> None:
    seen: set[int] = set()
    for part in ctx.module.parts():
        if id(part.source) in seen:
            continue
        seen.add(id(part.source))
        for finding in duplicate_findings(part.source):
            finding.catalogue = ctx.rule.catalogue if ctx.rule else None
            ctx.findings.append(finding)

"""Findings, rules and the registry every check family adds to."""

from __future__ import annotations

import difflib
import heapq
from dataclasses import dataclass, field
from typing import Callable, Iterable

from ..model import ServiceModule, SourceFile
from ..spec.versions import NEWEST, Generation
from ..syntax import Node

ERROR = "error"
WARNING = "warning"
INFO = "information"


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Fix:
    title: str
    edits: tuple[Edit, ...]
    # Safe: cannot change what the module means, only make clan accept it (`clan-lsp check
    # --fix` applies these). A guess (did you mean, a name or value to fill in) is never safe.
    safe: bool = False


@dataclass
class Finding:
    code: str
    severity: str
    start: int
    end: int
    message: str  # our short statement, one line: what a Problems panel shows
    path: str | None = None
    fixes: tuple[Fix, ...] = ()
    catalogue: str | None = None  # the spec's error catalogue entry, e.g. "E8"
    clan_message: str | None = None  # what clan itself prints for this, when it prints anything


def full_message(finding: Finding, indent: str = "") -> str:
    """Our statement, then clan's own words on the following lines (indented by `indent`).

    Editors show the first line in their lists and the whole text on hover, so a newcomer
    reads our words first and a clan veteran still finds the text clan prints.
    """
    if not finding.clan_message:
        return finding.message
    return finding.message + "".join(f"\n{indent}{line}" for line in finding.clan_message.splitlines())


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str
    catalogue: str | None
    summary: str
    run: Callable[["Context"], Iterable[Finding]]


RULES: list[Rule] = []


def rule(code: str, severity: str, catalogue: str | None, summary: str):
    """Register a check: a function from a Context to findings."""

    def register(function: Callable[["Context"], Iterable[Finding]]):
        RULES.append(Rule(code, severity, catalogue, summary, function))
        return function

    return register


def rules_by_code() -> dict[str, Rule]:
    return {r.code: r for r in RULES}


@dataclass
class Context:
    """What a rule sees: one service module (with its imported parts) and the generation."""

    module: ServiceModule
    generation: Generation = NEWEST
    rule: Rule | None = None
    workspace: object | None = None  # a WorkspaceIndex when the workspace is known
    findings: list[Finding] = field(default_factory=list)

    def report(
        self,
        node: Node | None,
        message: str,
        *,
        source: SourceFile | None = None,
        severity: str | None = None,
        fixes: Iterable[Fix] = (),
        code: str | None = None,
        span: tuple[int, int] | None = None,
        clan_message: str | None = None,
    ) -> Finding | None:
        assert self.rule is not None
        source = source or self.module.source
        if span is None:
            if node is None:
                return None
            span = (node.start_byte, node.end_byte)
        finding = Finding(
            code or self.rule.code,
            severity or self.rule.severity,
            span[0],
            span[1],
            message,
            source.path,
            tuple(fixes),
            self.rule.catalogue,
            clan_message,
        )
        self.findings.append(finding)
        return finding


# What clan prints through nixpkgs' module system and Nix itself (they quote `like this').


def option_does_not_exist(path: str) -> str:
    return f"The option `{path}' does not exist."


def not_of_type(path: str, description: str) -> str:
    return f"A definition for option `{path}' is not of type `{description}'."


def attribute_missing(name: str) -> str:
    return f"attribute '{name}' missing"


def close_matches(word: str, pool: Iterable[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    """`difflib.get_close_matches`, same answer, for pools of thousands (a clan's machines):
    once n matches are found, a candidate whose upper bounds are below the n-th best score
    is not scored."""
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(word)
    best: list[tuple[float, str]] = []  # the n best (score, candidate) so far, smallest first
    for candidate in pool:
        matcher.set_seq1(candidate)
        floor = cutoff if len(best) < n else max(cutoff, best[0][0])
        if matcher.real_quick_ratio() >= floor and matcher.quick_ratio() >= floor:
            score = matcher.ratio()
            if score >= cutoff:
                if len(best) < n:
                    heapq.heappush(best, (score, candidate))
                elif (score, candidate) > best[0]:
                    heapq.heapreplace(best, (score, candidate))
    return [candidate for _, candidate in sorted(best, reverse=True)]


def suggest(name: str, candidates: Iterable[str]) -> list[str]:
    pool = list(dict.fromkeys(candidates))
    close = close_matches(name, pool, n=3, cutoff=0.6)
    lowered = [c for c in pool if c.lower() == name.lower() and c not in close]
    return lowered + close


def did_you_mean(name: str, candidates: Iterable[str], quote: str = "`") -> str:
    """`; did you mean `x`?` to end a statement, or "" when nothing is close.

    `quote` is `"` for string values (`Unknown category "Networking"; did you mean "Network"?`).
    """
    close = [f"{quote}{c}{quote}" for c in suggest(name, candidates)]
    if not close:
        return ""
    if len(close) == 1:
        return f"; did you mean {close[0]}?"
    return "; did you mean " + ", ".join(close[:-1]) + f" or {close[-1]}?"


def rename_fixes(node: Node | None, name: str, candidates: Iterable[str], quote: bool = False) -> tuple[Fix, ...]:
    if node is None:
        return ()
    fixes = []
    for candidate in suggest(name, candidates):
        text = f'"{candidate}"' if quote else candidate
        fixes.append(Fix(f"Change to `{candidate}`", (Edit(node.start_byte, node.end_byte, text),)))
    return tuple(fixes)


def run_rules(module: ServiceModule, generation: Generation = NEWEST, only: Iterable[str] | None = None, workspace: object | None = None) -> list[Finding]:
    wanted = set(only) if only is not None else None
    context = Context(module, generation, workspace=workspace)
    for registered in RULES:
        if wanted is not None and registered.code not in wanted:
            continue
        context.rule = registered
        for finding in registered.run(context) or ():
            context.findings.append(finding)
    return context.findings

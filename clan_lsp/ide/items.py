"""Plain results of IDE features; the server converts them to LSP types."""

from __future__ import annotations

from dataclasses import dataclass, field

# Completion item kinds, named after what they are; the server maps them to LSP kinds.
PROPERTY = "property"
FIELD = "field"
VARIABLE = "variable"
FUNCTION = "function"
ENUM_MEMBER = "enum-member"
INTERFACE = "interface"
MODULE = "module"
VALUE = "value"


@dataclass
class Completion:
    label: str
    kind: str
    detail: str = ""
    documentation: str = ""  # markdown
    insert_text: str | None = None
    snippet: bool = False
    sort_text: str | None = None
    deprecated: bool = False
    replace_start: int | None = None  # byte range the insert replaces (the typed prefix)
    replace_end: int | None = None


@dataclass
class HoverInfo:
    markdown: str
    start: int
    end: int


@dataclass
class Location:
    path: str | None
    start: int
    end: int


@dataclass
class TextEdit:
    path: str | None
    start: int
    end: int
    new_text: str


@dataclass
class Symbol:
    name: str
    kind: str  # "module", "namespace", "class", "property", "function", "interface", "field"
    start: int
    end: int
    selection_start: int
    selection_end: int
    detail: str = ""
    children: list["Symbol"] = field(default_factory=list)


@dataclass
class Action:
    title: str
    edits: list[TextEdit]
    diagnostic_codes: list[str] = field(default_factory=list)
    preferred: bool = False


@dataclass
class WorkspaceSymbol:
    """A symbol somewhere in the workspace (workspace/symbol)."""

    name: str
    kind: str
    path: str | None
    start: int
    end: int
    detail: str = ""

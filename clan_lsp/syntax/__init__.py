"""Syntax layer: tree-sitter parsing, incremental edits, positions, queries."""

from .parse import LANGUAGE, Node, SyntaxError_, SyntaxTree, new_parser, walk
from .positions import UTF8, UTF16, UTF32, LineIndex, Position

__all__ = [
    "LANGUAGE", "Node", "SyntaxError_", "SyntaxTree", "new_parser", "walk",
    "UTF8", "UTF16", "UTF32", "LineIndex", "Position",
]

"""Byte offsets (tree-sitter) <-> line/character positions (LSP).

tree-sitter counts UTF-8 bytes; LSP counts UTF-16 code units unless the client
negotiated "utf-8" or "utf-32". This is the one place that converts.

A line ends at `\n`, `\r\n` or a lone `\r`, as LSP counts lines. (tree-sitter's own
rows end at `\n` only; nothing here reads them.)
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

UTF8 = "utf-8"
UTF16 = "utf-16"
UTF32 = "utf-32"


@dataclass(frozen=True, order=True)
class Position:
    line: int
    character: int


def _units(chunk: bytes, encoding: str) -> int:
    if encoding == UTF8:
        return len(chunk)
    text = chunk.decode("utf-8", errors="replace")
    if encoding == UTF32:
        return len(text)
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


_LINE_BREAK = re.compile(rb"\r\n?|\n")


class LineIndex:
    """Maps between byte offsets and (line, character) for one text."""

    def __init__(self, data: bytes):
        self.data = data
        starts = [0]
        self.lf_only = b"\r" not in data  # then its lines are tree-sitter's rows
        if not self.lf_only:
            starts.extend(match.end() for match in _LINE_BREAK.finditer(data))
        else:  # the common case, without the regular expression
            find = data.find
            pos = find(b"\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = find(b"\n", pos + 1)
        self.line_starts = starts

    def edited(self, start: int, old_end: int, new_text: bytes, data: bytes) -> "LineIndex":
        """The index of `data`, which is this text with [start, old_end) replaced by new_text:
        the line starts before the edit are kept, those after it move."""
        if b"\r" in self.data[max(0, start - 1) : old_end + 1] or b"\r" in new_text or b"\r" in data[start + len(new_text) : start + len(new_text) + 1]:
            return LineIndex(data)  # a `\r\n` may be split or joined at the edit: count again
        starts = self.line_starts
        low = bisect.bisect_right(starts, start)  # the starts up to the edit stay
        high = bisect.bisect_right(starts, old_end)  # the starts after the edit's old end move
        delta = len(new_text) - (old_end - start)
        inside = []
        at = new_text.find(b"\n")
        while at != -1:
            inside.append(start + at + 1)
            at = new_text.find(b"\n", at + 1)
        index = LineIndex.__new__(LineIndex)
        index.data = data
        index.lf_only = self.lf_only  # no `\r` at the edit (see above)
        index.line_starts = starts[:low] + inside + ([start + delta for start in starts[high:]] if delta else starts[high:])
        return index

    def point(self, offset: int) -> tuple[int, int]:
        """tree-sitter's (row, byte column) of an offset: for a text whose lines end at `\n` only."""
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return line, offset - self.line_starts[line]

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset) - 1

    def position(self, offset: int, encoding: str = UTF16) -> Position:
        offset = max(0, min(offset, len(self.data)))
        line = self.line_of(offset)
        start = self.line_starts[line]
        chunk = self.data[start:offset]
        if encoding == UTF8 or chunk.isascii():
            return Position(line, len(chunk))
        return Position(line, _units(chunk, encoding))

    def offset(self, position: Position, encoding: str = UTF16) -> int:
        """Byte offset of a position; past the end of a line clamps to the line end."""
        if position.line < 0:
            return 0
        if position.line >= len(self.line_starts):
            return len(self.data)
        start = self.line_starts[position.line]
        end = self.line_starts[position.line + 1] if position.line + 1 < len(self.line_starts) else len(self.data)
        line = self.data[start:end]
        if line.endswith(b"\r\n"):  # without its line break
            line = line[:-2]
        elif line.endswith((b"\n", b"\r")):
            line = line[:-1]
        want = max(0, position.character)
        if encoding == UTF8 or line.isascii():
            return start + min(want, len(line))
        text = line.decode("utf-8", errors="replace")
        units = 0
        consumed = 0
        for ch in text:
            width = 1 if encoding == UTF32 else (2 if ord(ch) > 0xFFFF else 1)
            if units + width > want:
                break
            units += width
            consumed += len(ch.encode("utf-8", errors="replace"))
        return start + min(consumed, len(line))

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
    """Maps between byte offsets and (line, character) for one text.

    Typing on a line moves the starts of every line after it. Rewriting them costs a new
    int each (40 us a keystroke in wireguard's 812 lines), so the move is kept as (first
    moved line, delta) over the starts of an earlier version, shared: typing on one line
    only adds to the delta. The starts are rewritten once typing moves to another line."""

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
        self._starts = starts
        self._moved_from = len(starts)  # the first line whose stored start is `_moved_by` behind
        self._moved_by = 0

    @property
    def line_starts(self) -> list[int]:
        """The byte offset of each line's start (the moves applied)."""
        if self._moved_by:
            at, by = self._moved_from, self._moved_by
            self._starts = self._starts[:at] + [start + by for start in self._starts[at:]]
            self._moved_from, self._moved_by = len(self._starts), 0
        return self._starts

    def _start(self, line: int) -> int:
        return self._starts[line] + (self._moved_by if line >= self._moved_from else 0)

    def edited(self, start: int, old_end: int, new_text: bytes, data: bytes) -> "LineIndex":
        """The index of `data`, which is this text with [start, old_end) replaced by new_text:
        the line starts before the edit are kept, those after it move."""
        if b"\r" in self.data[max(0, start - 1) : old_end + 1] or b"\r" in new_text or b"\r" in data[start + len(new_text) : start + len(new_text) + 1]:
            return LineIndex(data)  # a `\r\n` may be split or joined at the edit: count again
        delta = len(new_text) - (old_end - start)
        index = LineIndex.__new__(LineIndex)
        index.data = data
        index.lf_only = self.lf_only  # no `\r` at the edit (see above)
        if b"\n" not in new_text and self.data.find(b"\n", start, old_end) == -1:
            # no line begins or ends: the lines after the edit's move by delta
            moved_from = self.line_of(start) + 1
            if self._moved_by and self._moved_from != moved_from:
                self.line_starts  # noqa: B018 - apply the other line's move first
            index._starts = self._starts
            index._moved_by = self._moved_by + delta
            index._moved_from = moved_from if index._moved_by else len(self._starts)
            return index
        starts = self.line_starts
        low = bisect.bisect_right(starts, start)  # the starts up to the edit stay
        high = bisect.bisect_right(starts, old_end)  # the starts after the edit's old end move
        inside = []
        at = new_text.find(b"\n")
        while at != -1:
            inside.append(start + at + 1)
            at = new_text.find(b"\n", at + 1)
        index._starts = starts[:low] + inside + ([start + delta for start in starts[high:]] if delta else starts[high:])
        index._moved_from, index._moved_by = len(index._starts), 0
        return index

    def point(self, offset: int) -> tuple[int, int]:
        """tree-sitter's (row, byte column) of an offset: for a text whose lines end at `\n` only."""
        line = self.line_of(offset)
        return line, offset - self._start(line)

    def line_of(self, offset: int) -> int:
        starts, at, by = self._starts, self._moved_from, self._moved_by
        if not by or at >= len(starts) or offset < starts[at] + by:
            return bisect.bisect_right(starts, offset, 0, at if by else len(starts)) - 1
        return bisect.bisect_right(starts, offset - by, at) - 1

    def position(self, offset: int, encoding: str = UTF16) -> Position:
        offset = max(0, min(offset, len(self.data)))
        line = self.line_of(offset)
        start = self._start(line)
        chunk = self.data[start:offset]
        if encoding == UTF8 or chunk.isascii():
            return Position(line, len(chunk))
        return Position(line, _units(chunk, encoding))

    def offset(self, position: Position, encoding: str = UTF16) -> int:
        """Byte offset of a position; past the end of a line clamps to the line end."""
        if position.line < 0:
            return 0
        if position.line >= len(self._starts):
            return len(self.data)
        start = self._start(position.line)
        end = self._start(position.line + 1) if position.line + 1 < len(self._starts) else len(self.data)
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

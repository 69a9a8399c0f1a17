"""Jura command lines: short ASCII text ending in CR LF, in both directions."""

from __future__ import annotations

__all__ = ["EOL", "MAX_LINE", "LineSplitter"]

EOL = b"\r\n"
MAX_LINE = 512  # the longest answer seen (RT: a 64-digit hex dump) fits many times over


class LineSplitter:
    """Splits decoded bytes into lines; a line longer than ``MAX_LINE`` is cut off and
    returned with ``overflow`` set, so a babbling device cannot grow memory."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self.max_line = max_line
        self._buffer = b""

    def split(self, data: bytes) -> tuple[list[bytes], bytes | None]:
        """Complete lines (without CR LF) and, if any, an over-long run that was dropped."""
        self._buffer += data
        *complete, self._buffer = self._buffer.split(EOL)
        overflow = None
        if len(self._buffer) > self.max_line:
            overflow, self._buffer = self._buffer, b""
        lines = [line for line in complete if len(line) <= self.max_line]
        if len(lines) != len(complete):
            overflow = b"".join(line for line in complete if len(line) > self.max_line)
        return lines, overflow

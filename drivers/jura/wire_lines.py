"""Lines out of a stream of Jura wire bytes, whatever the pace they arrive at.

The format has no marker for where a group of four wire bytes starts, but every
wire byte carries fixed bits (``wire.FIXED_BITS``), and every line ends in CR LF,
whose eight wire bytes are recognisable at any offset. So the framer needs no clock:
a byte without the fixed bits is noise and is left out; a line is whatever valid
bytes came before the next CR LF, grouped in fours backwards from it, so one lost
byte spoils one line, never the ones after it, and a pause of any length (on the
wire or in the host) changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from .lines import EOL, MAX_LINE
from .wire import DATA_BITS, HOST_BASE, WIRE_BYTES, decode, encode, is_wire_byte

__all__ = ["WireLine", "WireLineFramer"]

_EOL_WIRE = encode(EOL, HOST_BASE)
_EOL_BITS = bytes(byte & DATA_BITS for byte in _EOL_WIRE)


@dataclass(frozen=True)
class WireLine:
    """One line (or what arrived of one) and what the framer had to leave out."""

    payload: bytes  # the decoded line, without CR LF
    complete: bool  # ended in CR LF (False: cut off as too long, or flushed unfinished)
    stray: int = 0  # valid wire bytes before the line that made no whole group
    noise: int = 0  # wire bytes without the fixed bits
    wire: bytes = b""  # the wire bytes themselves (the first ``MAX_LINE``)
    cut: bool = False  # cut off for being longer than any line (or a run of noise)


class WireLineFramer:
    """Splits wire bytes into lines; memory is bounded by ``max_line`` payload bytes."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self.max_line = max_line
        self._wire = bytearray()  # every byte since the last line, noise included
        self._valid = bytearray()  # the ones with the fixed bits
        self._noise = 0

    @property
    def pending(self) -> int:
        """Wire bytes of a line not finished yet."""
        return len(self._wire)

    def feed(self, wire: bytes) -> list[WireLine]:
        lines: list[WireLine] = []
        limit = (self.max_line + len(EOL)) * WIRE_BYTES
        for byte in wire:
            self._wire.append(byte)
            if not is_wire_byte(byte):
                self._noise += 1
            else:
                self._valid.append(byte)
                if byte & DATA_BITS == _EOL_BITS[-1] and self._ends_in_eol():
                    lines.append(self._take(complete=True))
                    continue
            if len(self._wire) > limit:
                lines.append(self._take(complete=False, cut=True))
        return lines

    def flush(self) -> WireLine | None:
        """What arrived of an unfinished line, as a line (None if nothing did)."""
        return self._take(complete=False) if self._wire else None

    def _ends_in_eol(self) -> bool:
        tail = self._valid[-len(_EOL_BITS):]
        return len(tail) == len(_EOL_BITS) and bytes(b & DATA_BITS for b in tail) == _EOL_BITS

    def _take(self, complete: bool, cut: bool = False) -> WireLine:
        body = bytes(self._valid[:-len(_EOL_WIRE)] if complete else self._valid)
        stray = len(body) % WIRE_BYTES
        # a finished line is grouped back from its CR LF, an unfinished one from its start
        payload = decode(body[stray:] if complete else body)
        line = WireLine(payload, complete, stray, self._noise, bytes(self._wire[:self.max_line]),
                        cut)
        self._wire.clear()
        self._valid.clear()
        self._noise = 0
        return line

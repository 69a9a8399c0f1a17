"""Framers: how a tap cuts one direction's bytes into units it records.

    gap      runs of bytes separated by a pause (``gap_ms``, default 20 ms): any protocol
    lines    text lines ending in LF (a CR before it is kept off the unit's text)
    length   blocks that start with their length (``length=1`` or ``2`` bytes, big-endian)
    cobs     the CM-500 protocol's frames (decoded to messages)
    jura     Jura's obfuscated service-port lines (decoded, answers parsed)

Every framer keeps at most ``MAX_UNIT`` bytes pending, so a line that never ends
cannot grow memory; what exceeds it is cut into units of at most ``MAX_UNIT``
bytes with an error (the tap folds consecutive error units into one bounded
record, drivers/bad_runs.py, so a babble's bytes are counted, not kept).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import DeviceSpecError, FrameError
from ..framing import FrameSplitter, oversize_error
from ..jura.answers import parse_answer
from ..jura.wire_lines import WireLineFramer
from ..messages import Message, decode_wire

__all__ = ["FRAMERS", "MAX_UNIT", "Framer", "Unit", "framer_named"]

MAX_UNIT = 64 * 1024


@dataclass(frozen=True, slots=True)
class Unit:
    """One unit of a tapped direction: its bytes and what they decoded to, if anything."""

    raw: bytes
    message: Message | None = None
    error: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


class Framer(Protocol):
    def feed(self, data: bytes) -> list[Unit]:
        """The units ``data`` completes."""

    def flush(self) -> list[Unit]:
        """What is pending, as units (at the end of a tap, or after a pause)."""


class GapFramer:
    """Units are runs of bytes with no pause longer than ``gap`` seconds inside."""

    def __init__(self, gap: float = 0.02, clock: Callable[[], float] = time.monotonic) -> None:
        self.gap = gap
        self._clock = clock
        self._pending = bytearray()
        self._last = 0.0

    def feed(self, data: bytes) -> list[Unit]:
        now = self._clock()
        out = self.flush() if self._pending and now - self._last > self.gap else []
        self._last = now
        self._pending += data
        while len(self._pending) > MAX_UNIT:  # a read can bring more than one unit's worth
            out += [Unit(bytes(self._pending[:MAX_UNIT]), error=f"run longer than {MAX_UNIT} bytes")]
            del self._pending[:MAX_UNIT]
        return out

    def flush(self) -> list[Unit]:
        if not self._pending:
            return []
        unit, self._pending = Unit(bytes(self._pending), meta={"length": len(self._pending)}), bytearray()
        return [unit]


class LineFramer:
    """Text lines ending in LF."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> list[Unit]:
        *lines, self._pending = (self._pending + data).split(b"\n")
        out = [Unit(line + b"\n", meta={"line": line.rstrip(b"\r").decode("utf-8", "replace")})
               for line in lines]
        if len(self._pending) > MAX_UNIT:
            out += [Unit(self._pending[at:at + MAX_UNIT], error=f"line longer than {MAX_UNIT} bytes")
                    for at in range(0, len(self._pending), MAX_UNIT)]
            self._pending = b""
        return out

    def flush(self) -> list[Unit]:
        pending, self._pending = self._pending, b""
        return [Unit(pending, error="line without its end")] if pending else []


class LengthFramer:
    """Blocks that begin with their own length (of what follows), big-endian."""

    def __init__(self, size: int = 1) -> None:
        if size not in (1, 2):
            raise DeviceSpecError(f"length={size}: a length prefix is 1 or 2 bytes")
        self.size = size
        self._pending = b""

    def feed(self, data: bytes) -> list[Unit]:
        self._pending += data
        out = []
        while len(self._pending) >= self.size:
            length = int.from_bytes(self._pending[:self.size], "big")
            end = self.size + length
            if len(self._pending) < end:
                break
            block, self._pending = self._pending[:end], self._pending[end:]
            out.append(Unit(block, meta={"length": length}))
        return out

    def flush(self) -> list[Unit]:
        pending, self._pending = self._pending, b""
        return [Unit(pending, error="block cut short")] if pending else []


class CobsFramer:
    """The CM-500 protocol's COBS frames, decoded."""

    def __init__(self) -> None:
        self._splitter = FrameSplitter()

    def feed(self, data: bytes) -> list[Unit]:
        complete, dropped = self._splitter.split(data)
        out = []
        for encoded in complete:
            try:
                out.append(Unit(encoded + b"\x00", decode_wire(encoded)))
            except FrameError as exc:
                out.append(Unit(encoded, error=str(exc)))
        if dropped is not None:  # whole: the tap folds it into a counted, digested run
            out.append(Unit(dropped, error=str(oversize_error())))
        return out

    def flush(self) -> list[Unit]:
        pending, self._splitter = self._splitter.pending, FrameSplitter()
        return [Unit(pending, error="frame without its delimiter")] if pending else []


class JuraFramer:
    """Jura's service-port lines: four wire bytes per byte, CR LF at the end.

    Commands are upper case, answers lower case; the framers of a tap's two
    directions share ``heard`` so an answer is parsed knowing its command (the
    EEPROM address of an ``RT:``).
    """

    def __init__(self, heard: dict[str, str] | None = None) -> None:
        self._lines = WireLineFramer()  # a tap joins mid-stream: lines align on their CR LF
        self._heard = heard if heard is not None else {}

    def feed(self, data: bytes) -> list[Unit]:
        return [self._unit(line.payload) if line.complete
                else Unit(line.payload[:256], error="line too long")
                for line in self._lines.feed(data)]

    def flush(self) -> list[Unit]:
        return []

    def _unit(self, line: bytes) -> Unit:
        text = line.decode("ascii", "replace")
        if text[:2].isupper():
            self._heard["command"] = text
            return Unit(line + b"\r\n", meta={"command": text})
        return Unit(line + b"\r\n", meta=parse_answer(text, self._heard.get("command", "")))


FRAMERS: dict[str, Callable[[dict[str, str], dict[str, str]], Framer]] = {
    "gap": lambda p, _: GapFramer(float(p.get("gap_ms", "20")) / 1000),
    "lines": lambda p, _: LineFramer(),
    "length": lambda p, _: LengthFramer(int(p.get("length", "1"))),
    "cobs": lambda p, _: CobsFramer(),
    "jura": lambda p, shared: JuraFramer(shared),
}


def framer_named(name: str, params: dict[str, str] | None = None,
                 shared: dict[str, str] | None = None) -> Framer:
    """A new framer; the framers of one tap's directions get the same ``shared``.

    Raises:
        DeviceSpecError: no framer of that name, or a bad parameter.
    """
    make = FRAMERS.get(name)
    if make is None:
        raise DeviceSpecError(f"unknown framer {name!r}; known: {', '.join(FRAMERS)}")
    try:
        return make(params or {}, shared if shared is not None else {})
    except ValueError as exc:
        raise DeviceSpecError(f"framer {name}: {exc}") from exc

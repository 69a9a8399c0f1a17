"""Commands to a Jura machine over any byte transport, one answer each.

Every line either way is reported to the observers as a link-level record on
channel ``jura``: its raw bytes are the decoded line (the wire obfuscation
removed), its details the parsed fields (``line``, ``answer``, ``counters``...).
Lines are framed from the wire bytes alone (``wire_lines``), never from the time
they were handled, so a host that stalls loses nothing. An answer is the next line
that echoes the command (or ``ok:``); other lines (debug output such as ``ku:``) go
to a bounded inbox. What arrived of a line that never ended is recorded too.
"""

from __future__ import annotations

import time
from typing import Any

from ..answered_link import AnsweredLink
from ..errors import Timeout
from ..records import RX, TX, Chunk, Record, Stamp
from ..transport import Transport
from .answers import READ_COMMANDS, answers_command, parse_answer
from .catalogue import CHANNEL
from .choice import Layout
from .lines import EOL, MAX_LINE
from .wire import HOST_BASE, WIRE_BYTES, encode
from .wire_lines import WireLine, WireLineFramer

__all__ = ["READ_COMMANDS", "JuraConnection"]

DEFAULT_TIMEOUT = 3.0
#: Pause after each group of four wire bytes (one character) a host sends; machines need
#: it: public hosts write a group, then wait 8 ms (ryanalden/esphome-jura-component
#: jura_coffee.h cmd2jura, SkyFox277/esphome-jura docs/jura-protocol.md "Timing").
DEFAULT_GAP = 0.008
#: Sends of a read command the machine skipped: public dumps report intermittent
#: timeouts on some RE: reads (SkyFox277/esphome-jura docs/jura-protocol.md).
READ_RETRIES = 1
#: How long the longest line takes at a machine's pace (8 ms a wire byte) with room to
#: spare: an answer still arriving is waited for this much beyond the timeout.
LONGEST_ANSWER = (MAX_LINE + len(EOL)) * 4 * DEFAULT_GAP * 1.5


class JuraConnection(AnsweredLink[str, str]):
    """Jura command lines over one transport: ``command("TY:")`` -> ``"ty:EF532M V02.03"``."""

    def __init__(self, transport: Transport, timeout: float = DEFAULT_TIMEOUT,
                 gap: float = DEFAULT_GAP) -> None:
        super().__init__(transport, timeout)
        self.gap = gap
        #: what the fields of the machine's answers mean (the driver sets it once it
        #: knows the model; until then EEPROM words and input flags stay unnamed)
        self.layout: Layout | None = None
        self._framer = WireLineFramer()
        self._heard = 0  # wire bytes received, to tell a silent machine from a garbled one

    @property
    def dropped_lines(self) -> int:
        """Unasked lines the full inbox pushed out."""
        return self.dropped

    def close(self) -> None:
        """Close the link; what arrived of a line that never ended is recorded first."""
        super().close()
        unfinished = self._framer.flush()
        if unfinished is not None:
            self._report([self._rx_record(unfinished, Stamp.now())])

    def received(self, chunk: Chunk) -> None:
        self._heard += len(chunk.data)
        self._report([self._rx_record(line, chunk.stamp) for line in self._framer.feed(chunk.data)])

    def command(self, line: str, timeout: float | None = None,
                retries: int | None = None) -> str:
        """Send one command line and return the machine's answer line.

        A read command the machine skipped is sent again (``retries``, one by default
        for ``READ_COMMANDS``); a button or a write never is, as it may have worked.

        Raises:
            Timeout: no answer in time (a machine stays silent on commands it does not
                know); the message says what arrived meanwhile.
            DeviceDisconnected: the link dropped.
        """
        timeout = self.timeout if timeout is None else timeout
        if retries is None:
            retries = READ_RETRIES if line.partition(":")[0] in READ_COMMANDS else 0
        for attempt in range(retries + 1):
            try:
                return self._once(line, timeout)
            except Timeout:
                if attempt == retries:
                    raise
        raise AssertionError("unreachable")  # the loop returns or raises

    def _once(self, line: str, timeout: float) -> str:
        self._expect(line, line)
        heard, inbox = self._heard, len(self._inbox)
        try:
            self._report([Record(CHANNEL, TX, Stamp.now(), line.encode() + EOL,
                                 meta={"command": line})])
            self._write(encode(line.encode("ascii", "replace") + EOL, HOST_BASE))
            return self._await_answer(line, timeout, heard, inbox)
        finally:
            self._done()

    def _await_answer(self, line: str, timeout: float, heard: int, inbox: int) -> str:
        """The answer; while a line is still arriving (a long answer at the machine's
        pace) the wait goes on, up to ``LONGEST_ANSWER`` beyond ``timeout``. Whole lines
        of something else (debug output) do not extend it."""
        give_up = time.monotonic() + timeout + LONGEST_ANSWER
        seen = self._heard
        while True:
            try:
                return self._await(timeout, "", line)
            except Timeout:
                growing = self._heard != seen and self._framer.pending > 0
                if not growing or time.monotonic() > give_up:
                    raise Timeout(self.device,
                                  self._no_answer(line, timeout, heard, inbox)) from None
                seen = self._heard

    def _no_answer(self, line: str, timeout: float, heard: int, inbox: int) -> str:
        """Why ``line`` went unanswered, from what did arrive (recorded before it is said)."""
        unfinished = self._framer.flush()
        if unfinished is not None:
            self._report([self._rx_record(unfinished, Stamp.now())])
        arrived = self._heard - heard
        base = f"no answer to {line} within {timeout:g}s"
        if arrived == 0:
            return (f"{base}: nothing arrived; check the wiring (TX/RX crossed, 5 V levels), "
                    "9600 baud, and that the machine knows this command (Jura machines "
                    "ignore unknown ones)")
        others = [text for text in list(self._inbox)[inbox:]][-3:]
        seen = f"; other lines: {', '.join(repr(text[:40]) for text in others)}" if others else ""
        partial = (f"; {unfinished.payload[:40]!r} without a line end" if unfinished else "")
        return f"{base}: {arrived} wire bytes arrived{partial}{seen}"

    def _rx_record(self, wire_line: WireLine, stamp: Stamp) -> Record:
        text = wire_line.payload.decode("ascii", "replace")
        meta: dict[str, Any] = {}
        if wire_line.stray or wire_line.noise:
            meta.update(stray_wire_bytes=wire_line.stray, noise_wire_bytes=wire_line.noise,
                        wire=wire_line.wire.hex())
        if not wire_line.complete:
            what = (f"more wire bytes than a line of {self._framer.max_line} bytes without a "
                    f"line end ({wire_line.noise} of them noise)" if wire_line.cut
                    else f"line never ended: {len(wire_line.wire)} wire bytes")
            return Record(CHANNEL, RX, stamp, wire_line.payload[:256],
                          error=f"{what}, decoding to {text[:40]!r}",
                          meta={**meta, "wire": wire_line.wire[:256].hex()})
        command = self._offer(text, lambda waiting: answers_command(text, waiting))
        meta.update(parse_answer(text, command or "", self.layout))
        return Record(CHANNEL, RX, stamp, wire_line.payload + EOL, meta=meta)

    def _write(self, wire: bytes) -> None:
        if self.gap <= 0:
            self.transport.write(wire)
            return
        for i in range(0, len(wire), WIRE_BYTES):
            self.transport.write(wire[i:i + WIRE_BYTES])
            time.sleep(self.gap)

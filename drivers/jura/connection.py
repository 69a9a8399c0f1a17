"""Commands to a Jura machine over any byte transport, one answer each.

Every line either way is reported to the observers as a link-level record on
channel ``jura``: its raw bytes are the decoded line (the wire obfuscation
removed), its details the parsed fields (``line``, ``answer``, ``counters``...).
Lines the machine sends unasked (debug output) are kept in a bounded inbox.
"""

from __future__ import annotations

import time

from ..answered_link import AnsweredLink
from ..records import RX, TX, Chunk, Record, Stamp
from ..transport import Transport
from .answers import parse_answer
from .catalogue import CHANNEL
from .lines import EOL, LineSplitter
from .wire import HOST_BASE, WireDecoder, encode

__all__ = ["JuraConnection"]

DEFAULT_TIMEOUT = 3.0
#: Pause between wire bytes a host sends; machines need it (public projects use 8 ms).
DEFAULT_GAP = 0.008
#: Silence after which an incomplete group of wire bytes is dropped (a group is never
#: split by a pause longer than a sender's gap between its bytes).
RESYNC_AFTER = 0.05


class JuraConnection(AnsweredLink[str, str]):
    """Jura command lines over one transport: ``command("TY:")`` -> ``"ty:EF532M V02.03"``."""

    def __init__(self, transport: Transport, timeout: float = DEFAULT_TIMEOUT,
                 gap: float = DEFAULT_GAP) -> None:
        super().__init__(transport, timeout)
        self.gap = gap
        self._decoder = WireDecoder()
        self._splitter = LineSplitter()
        self._last_rx = 0.0

    @property
    def dropped_lines(self) -> int:
        """Unasked lines the full inbox pushed out."""
        return self.dropped

    def received(self, chunk: Chunk) -> None:
        now = time.monotonic()
        if self._decoder.pending and now - self._last_rx > RESYNC_AFTER:
            self._decoder.resync()
        self._last_rx = now
        lines, overflow = self._splitter.split(self._decoder.feed(chunk.data))
        records = []
        for raw in lines:
            records.append(self._rx_record(raw, chunk.stamp))
        if overflow is not None:
            records.append(Record(CHANNEL, RX, chunk.stamp, overflow[:256],
                                  error=f"line longer than {self._splitter.max_line} bytes "
                                        f"({len(overflow)} bytes dropped)"))
        self._report(records)

    def command(self, line: str, timeout: float | None = None) -> str:
        """Send one command line and return the machine's answer line.

        Raises:
            Timeout: no answer in time (a machine stays silent on commands it does not know).
            DeviceDisconnected: the link dropped.
        """
        timeout = self.timeout if timeout is None else timeout
        self._expect(line, line)
        try:
            self._report([Record(CHANNEL, TX, Stamp.now(), line.encode() + EOL,
                                 meta={"command": line})])
            self._write(encode(line.encode("ascii", "replace") + EOL, HOST_BASE))
            return self._await(timeout, f"no answer to {line} within {timeout:g}s; check the "
                               "wiring (TX/RX crossed, 5 V levels), 9600 baud, and that the "
                               "machine knows this command (Jura machines ignore unknown ones)",
                               line)
        finally:
            self._done()

    def _rx_record(self, raw: bytes, stamp: Stamp) -> Record:
        line = raw.decode("ascii", "replace")
        command = self._offer(line, lambda _waiting: True)  # a Jura answer is the next line
        return Record(CHANNEL, RX, stamp, raw + EOL, meta=parse_answer(line, command or ""))

    def _write(self, wire: bytes) -> None:
        if self.gap <= 0:
            self.transport.write(wire)
            return
        for i in range(len(wire)):
            self.transport.write(wire[i:i + 1])
            time.sleep(self.gap)

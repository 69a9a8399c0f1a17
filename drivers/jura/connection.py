"""Commands to a Jura machine over any byte transport, one answer each.

Every line either way is reported to the observers as a link-level record on
channel ``jura``: its raw bytes are the decoded line (the wire obfuscation
removed), its details the parsed fields (``line``, ``answer``, ``counters``...).
Lines the machine sends unasked (debug output) are kept in a bounded inbox.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from ..errors import DeviceDisconnected, DeviceError, Timeout
from ..records import RX, TX, BatchObserver, Chunk, Observer, Record, Stamp
from ..relink import Say, open_when_present
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
INBOX_LIMIT = 1000


class JuraConnection:
    """Jura command lines over one transport: ``command("TY:")`` -> ``"ty:EF532M V02.03"``."""

    def __init__(self, transport: Transport, timeout: float = DEFAULT_TIMEOUT,
                 gap: float = DEFAULT_GAP) -> None:
        self.transport = transport
        self.device = transport.device
        self.timeout = timeout
        self.gap = gap
        self.dropped_lines = 0
        self.wait = 0.0  # seconds the device may take to appear (a dropped link stays dropped)
        self.say: Say | None = None
        self._observers: list[Observer] = []
        self._decoder = WireDecoder()
        self._splitter = LineSplitter()
        self._last_rx = 0.0
        self._lock = threading.Lock()
        self._answered = threading.Condition(self._lock)
        self._waiting: str | None = None  # the command whose answer is awaited
        self._answer: str | None = None
        self._inbox: deque[str] = deque(maxlen=INBOX_LIMIT)
        self._lost: DeviceError | None = None
        self._open = False

    # -- lifecycle --------------------------------------------------------

    def attach(self, observer: Observer) -> None:
        """Report every record from now on to ``observer`` (attach before open)."""
        self._observers.append(observer)

    @property
    def observers(self) -> tuple[Observer, ...]:
        return tuple(self._observers)

    def open(self) -> None:
        open_when_present(self.transport, self, self.wait, self.say)
        self._open = True

    def close(self) -> None:
        if self._open:
            self._open = False
            self.transport.close()
            self.lost(DeviceDisconnected(self.device, "connection closed by the bench"))

    @property
    def link_error(self) -> DeviceError | None:
        return self._lost

    # -- LinkEvents --------------------------------------------------------

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

    def lost(self, error: DeviceError) -> None:
        with self._answered:
            self._lost = error
            self._answered.notify_all()

    def note(self, record: Record) -> None:
        self._report([record])

    # -- commands ------------------------------------------------------------

    def command(self, line: str, timeout: float | None = None) -> str:
        """Send one command line and return the machine's answer line.

        Raises:
            Timeout: no answer in time (a machine stays silent on commands it does not know).
            DeviceDisconnected: the link dropped.
        """
        timeout = self.timeout if timeout is None else timeout
        with self._answered:
            if self._lost is not None:
                raise DeviceDisconnected(self.device, f"cannot send {line}: {self._lost}")
            self._waiting, self._answer = line, None
        try:
            self._report([Record(CHANNEL, TX, Stamp.now(), line.encode() + EOL,
                                 meta={"command": line})])
            self._write(encode(line.encode("ascii", "replace") + EOL, HOST_BASE))
            with self._answered:
                if not self._answered.wait_for(lambda: self._answer is not None or self._lost is not None,
                                               timeout):
                    raise Timeout(self.device, f"no answer to {line} within {timeout:g}s; check the "
                                  "wiring (TX/RX crossed, 5 V levels), 9600 baud, and that the "
                                  "machine knows this command (Jura machines ignore unknown ones)")
                if self._answer is None:
                    raise DeviceDisconnected(self.device, f"link lost waiting for {line}: {self._lost}")
                return self._answer
        finally:
            with self._answered:
                self._waiting = None

    def unsolicited(self) -> list[str]:
        """Lines the machine sent unasked, oldest first (taken from the inbox)."""
        with self._lock:
            lines = list(self._inbox)
            self._inbox.clear()
            return lines

    # -- internals --------------------------------------------------------

    def _rx_record(self, raw: bytes, stamp: Stamp) -> Record:
        line = raw.decode("ascii", "replace")
        with self._answered:
            command = self._waiting
            if command is not None and self._answer is None:
                self._answer = line
                self._answered.notify_all()
            else:
                command = None
                if len(self._inbox) == self._inbox.maxlen:
                    self.dropped_lines += 1
                self._inbox.append(line)
        return Record(CHANNEL, RX, stamp, raw + EOL, meta=parse_answer(line, command or ""))

    def _write(self, wire: bytes) -> None:
        if self.gap <= 0:
            self.transport.write(wire)
            return
        for i in range(len(wire)):
            self.transport.write(wire[i:i + 1])
            time.sleep(self.gap)

    def _report(self, records: list[Record]) -> None:
        for observer in self._observers:
            if isinstance(observer, BatchObserver):
                observer.records(records)
            else:
                for record in records:
                    observer.record(record)

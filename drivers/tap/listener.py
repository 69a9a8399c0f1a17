"""Listen to one or two ports read-only and report what passes as records.

    tap = Tap({"rx": "/dev/ttyUSB0", "tx": "/dev/ttyUSB1"}, framer="cobs", baud=115200)
    tap.attach(capture)
    tap.open()
    with tap.action("brew"):          # the operator presses the latte button now
        ...
    tap.close()

``rx`` is the port that hears what the machine's controller sends, ``tx`` the one
that hears what is sent to it (one adapter's RX pin on each line of the UART). A
tap never writes: it has no way to disturb the machine it watches.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from ..actions import observed_action
from ..errors import DeviceError, DeviceSpecError
from ..records import Chunk, Observer, Record, Stamp, deliver
from ..serial_transport import SerialTransport
from .framers import Framer, Unit, framer_named

__all__ = ["CHANNEL", "Tap"]

CHANNEL = "tap"
FAMILY_CHANNELS = {"jura": "jura"}  # framer -> channel of its family
DIRECTIONS = ("rx", "tx")
SETTLE = 0.1  # quiet time after which an action's units are taken to be in
MAX_SETTLE = 2.0


class _Direction:
    """One tapped line: its port, its framer, and when it last carried a byte."""

    def __init__(self, tap: Tap, direction: str, url: str, baud: int, framer: Framer) -> None:
        self.tap = tap
        self.direction = direction
        self.transport = SerialTransport(url, baudrate=baud, device=f"tap {direction} {url}")
        self.framer = framer
        self.last = time.monotonic()
        self.bytes = 0
        self.lost_error: DeviceError | None = None

    # LinkEvents
    def received(self, chunk: Chunk) -> None:
        self.last = time.monotonic()
        self.bytes += len(chunk.data)
        self.tap.report(self.direction, chunk.stamp, self.framer.feed(chunk.data))

    def lost(self, error: DeviceError) -> None:
        self.lost_error = error

    def note(self, record: Record) -> None:
        self.tap.emit([record])


class Tap:
    """A passive tap on one or two ports; observers get every unit as a record."""

    def __init__(self, ports: Mapping[str, str], framer: str = "gap",
                 framer_params: Mapping[str, str] | None = None, baud: int = 115200) -> None:
        unknown = set(ports) - set(DIRECTIONS)
        if unknown or not ports:
            raise DeviceSpecError(f"a tap listens on rx and/or tx ports, not {sorted(unknown)}")
        self._observers: list[Observer] = []
        self._lock = threading.Lock()
        #: the channel of its records: a known family's own (its catalogue applies), else "tap"
        self.channel = FAMILY_CHANNELS.get(framer, CHANNEL)
        shared: dict[str, str] = {}  # what one direction's framer tells the other's
        self.lines = {d: _Direction(self, d, url, baud,
                                    framer_named(framer, dict(framer_params or {}), shared))
                      for d, url in ports.items()}

    @property
    def observers(self) -> tuple[Observer, ...]:
        return tuple(self._observers)

    def attach(self, observer: Observer) -> None:
        self._observers.append(observer)

    def open(self) -> None:
        """Open every port read-only.

        Raises:
            DeviceNotFound: a port does not open.
        """
        opened = []
        try:
            for line in self.lines.values():
                line.transport.open(line)
                opened.append(line)
        except BaseException:
            for line in opened:
                line.transport.close()
            raise

    def close(self) -> None:
        for line in self.lines.values():
            line.transport.close()
        self.flush()

    def settle(self, quiet: float = SETTLE, limit: float = MAX_SETTLE) -> None:
        """Wait until no byte arrived for ``quiet`` seconds (at most ``limit``): bytes
        already on the line when the action ended are still the action's."""
        start = time.monotonic()
        deadline = start + limit
        while (now := time.monotonic()) < deadline:
            if now - start >= quiet and all(now - line.last >= quiet for line in self.lines.values()):
                return
            time.sleep(quiet / 4)

    def flush(self) -> None:
        """Report what the framers hold back (a run between pauses, a line without its end)."""
        for line in self.lines.values():
            self.report(line.direction, Stamp.now(), line.framer.flush())

    @contextmanager
    def action(self, name: str) -> Iterator[None]:
        """Attribute what the tap hears in the block (and until the line falls quiet) to
        action ``name``: the operator pressing a button, a script, a pytest step."""
        with observed_action(self._observers, name):
            yield
            self.settle()
            self.flush()

    def report(self, direction: str, stamp: Stamp, units: list[Unit]) -> None:
        if units:
            self.emit([Record(self.channel, direction, stamp, u.raw, u.message, u.error,
                              {"direction": direction, **u.meta}) for u in units])

    def emit(self, records: list[Record]) -> None:
        with self._lock:  # two readers: keep each observer's records whole and in order
            deliver(self._observers, records)

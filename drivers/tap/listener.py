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

Units a framer could not make sense of (a line that never ends, a run past the
unit bound, a frame that does not decode) are folded per direction into one
bad-byte run (drivers/bad_runs.py): a bounded excerpt, a count and a SHA-256,
flushed at the next good unit, at an action's end or once it is half a second
old, as the control link does. A babbling line costs records per second, not
per byte.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from ..actions import observed_action
from ..bad_runs import BadRun
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
        self.bad: BadRun | None = None  # the undecodable units since the last good one

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
        """Report what the framers hold back (a run between pauses, a line without its end)
        and the bad-byte run each direction is in."""
        for line in self.lines.values():
            self.report(line.direction, Stamp.now(), line.framer.flush(), final=True)

    @contextmanager
    def action(self, name: str) -> Iterator[None]:
        """Attribute what the tap hears in the block (and until the line falls quiet) to
        action ``name``: the operator pressing a button, a script, a pytest step."""
        with observed_action(self._observers, name):
            yield
            self.settle()
            self.flush()

    def report(self, direction: str, stamp: Stamp, units: list[Unit],
               final: bool = False) -> None:
        """Units of one direction as records; undecodable ones folded into its bad run."""
        line = self.lines[direction]
        with self._lock:  # the reader thread and flush() at an action's end
            records: list[Record] = []
            for unit in units:
                if unit.error is not None and unit.message is None:
                    line.bad = line.bad or BadRun(stamp, unit.error)
                    line.bad.add(unit.raw)
                    continue
                records += self._end_run(line)
                records.append(Record(self.channel, direction, stamp, unit.raw, unit.message,
                                      unit.error, {"direction": direction, **unit.meta}))
            if line.bad is not None and (final or line.bad.is_old(stamp)):
                records += self._end_run(line)
            if records:
                deliver(self._observers, records)

    def _end_run(self, line: _Direction) -> list[Record]:
        if line.bad is None:
            return []
        run, line.bad = line.bad.record(self.channel), None
        return [dataclasses.replace(run, direction=line.direction,
                                    meta={"direction": line.direction, **run.meta})]

    def emit(self, records: list[Record]) -> None:
        with self._lock:  # two readers: keep each observer's records whole and in order
            deliver(self._observers, records)

"""ECAM request frames over a byte transport (Bluetooth LE), one answer frame each.

Every frame either way is reported to the observers as a link-level record on
channel ``ble``: its raw bytes are the whole frame, its details what the frame
means (``drivers.ecam.records``). Answers arrive as notifications, possibly cut
over several of them; ``EcamSplitter`` joins them. An answer is matched to the
request waiting for its command byte; answers nobody waits for (a machine pushes
status frames while it brews) go to a bounded inbox.
"""

from __future__ import annotations

import threading
from collections import deque

from ..errors import DeviceDisconnected, DeviceError, FrameError, Timeout
from ..records import RX, TX, BatchObserver, Chunk, Observer, Record, Stamp
from ..relink import Say, open_when_present
from ..transport import Transport
from .frames import ANSWER, EcamFrame, EcamSplitter, decode, encode
from .records import frame_meta

__all__ = ["CHANNEL", "EcamConnection"]

CHANNEL = "ble"
DEFAULT_TIMEOUT = 3.0
INBOX_LIMIT = 1000


class EcamConnection:
    """Request/answer frames over one transport: ``request(0x75, b"\\x0f")`` -> the status."""

    def __init__(self, transport: Transport, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.transport = transport
        self.device = transport.device
        self.timeout = timeout
        self.dropped_frames = 0
        self.wait = 0.0  # seconds the device may take to appear (a dropped link stays dropped)
        self.say: Say | None = None
        self._observers: list[Observer] = []
        self._splitter = EcamSplitter()
        self._answered = threading.Condition()
        self._write_lock = threading.Lock()  # one request on the air at a time
        self._waiting: int | None = None  # the command whose answer is awaited
        self._answer: EcamFrame | None = None
        self._inbox: deque[EcamFrame] = deque(maxlen=INBOX_LIMIT)
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
        frames, skipped = self._splitter.feed(chunk.data)
        records = [Record(CHANNEL, RX, chunk.stamp, run, error="bytes outside any ECAM frame")
                   for run in skipped]
        for raw in frames:
            records.append(self._rx_record(raw, chunk.stamp))
        self._report(records)

    def lost(self, error: DeviceError) -> None:
        with self._answered:
            self._lost = error
            self._answered.notify_all()

    def note(self, record: Record) -> None:
        self._report([record])

    # -- requests ------------------------------------------------------------

    def request(self, command: int, data: bytes = b"", timeout: float | None = None) -> EcamFrame:
        """Send one request frame and return the answer frame with the same command.

        Raises:
            Timeout: no answer in time.
            DeviceDisconnected: the link dropped.
        """
        timeout = self.timeout if timeout is None else timeout
        raw = encode(command, data)
        with self._write_lock:
            with self._answered:
                if self._lost is not None:
                    raise DeviceDisconnected(self.device, f"cannot send ECAM {command:#04x}: "
                                             f"{self._lost}")
                self._waiting, self._answer = command, None
            try:
                self._report([Record(CHANNEL, TX, Stamp.now(), raw, meta=frame_meta(decode(raw)))])
                self.transport.write(raw)
                return self._wait(command, timeout)
            finally:
                with self._answered:
                    self._waiting = None

    def unsolicited(self) -> list[EcamFrame]:
        """Answers nobody asked for, oldest first (taken from the inbox)."""
        with self._answered:
            frames = list(self._inbox)
            self._inbox.clear()
            return frames

    # -- internals --------------------------------------------------------

    def _wait(self, command: int, timeout: float) -> EcamFrame:
        with self._answered:
            if not self._answered.wait_for(
                    lambda: self._answer is not None or self._lost is not None, timeout):
                raise Timeout(self.device, f"no ECAM answer to command {command:#04x} within "
                              f"{timeout:g}s; check the machine is on and no phone app holds "
                              "its one Bluetooth connection")
            if self._answer is None:
                raise DeviceDisconnected(self.device, f"link lost waiting for ECAM "
                                         f"{command:#04x}: {self._lost}")
            return self._answer

    def _rx_record(self, raw: bytes, stamp: Stamp) -> Record:
        try:
            frame = decode(raw)
        except FrameError as exc:
            return Record(CHANNEL, RX, stamp, raw, error=str(exc))
        with self._answered:
            if frame.lead == ANSWER and frame.command == self._waiting and self._answer is None:
                self._answer = frame
                self._answered.notify_all()
            else:
                if len(self._inbox) == self._inbox.maxlen:
                    self.dropped_frames += 1
                self._inbox.append(frame)
        return Record(CHANNEL, RX, stamp, raw, meta=frame_meta(frame))

    def _report(self, records: list[Record]) -> None:
        for observer in self._observers:
            if isinstance(observer, BatchObserver):
                observer.records(records)
            else:
                for record in records:
                    observer.record(record)

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

from ..answered_link import AnsweredLink
from ..errors import FrameError
from ..records import RX, TX, Chunk, Record, Stamp
from ..transport import Transport
from .frames import ANSWER, EcamFrame, EcamSplitter, decode, encode
from .records import frame_meta

__all__ = ["CHANNEL", "EcamConnection"]

CHANNEL = "ble"
DEFAULT_TIMEOUT = 3.0


class EcamConnection(AnsweredLink[int, EcamFrame]):
    """Request/answer frames over one transport: ``request(0x75, b"\\x0f")`` -> the status."""

    def __init__(self, transport: Transport, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(transport, timeout)
        self._splitter = EcamSplitter()
        self._write_lock = threading.Lock()  # one request on the air at a time

    @property
    def dropped_frames(self) -> int:
        """Unasked frames the full inbox pushed out."""
        return self.dropped

    def received(self, chunk: Chunk) -> None:
        frames, skipped = self._splitter.feed(chunk.data)
        records = [Record(CHANNEL, RX, chunk.stamp, run, error="bytes outside any ECAM frame")
                   for run in skipped]
        for raw in frames:
            records.append(self._rx_record(raw, chunk.stamp))
        self._report(records)

    def request(self, command: int, data: bytes = b"", timeout: float | None = None) -> EcamFrame:
        """Send one request frame and return the answer frame with the same command.

        Raises:
            Timeout: no answer in time.
            DeviceDisconnected: the link dropped.
        """
        timeout = self.timeout if timeout is None else timeout
        raw = encode(command, data)
        with self._write_lock:
            self._expect(command, f"ECAM {command:#04x}")
            try:
                self._report([Record(CHANNEL, TX, Stamp.now(), raw, meta=frame_meta(decode(raw)))])
                self.transport.write(raw)
                return self._await(timeout, f"no ECAM answer to command {command:#04x} within "
                                   f"{timeout:g}s; check the machine is on and no phone app "
                                   "holds its one Bluetooth connection", f"ECAM {command:#04x}")
            finally:
                self._done()

    def _rx_record(self, raw: bytes, stamp: Stamp) -> Record:
        try:
            frame = decode(raw)
        except FrameError as exc:
            return Record(CHANNEL, RX, stamp, raw, error=str(exc))
        self._offer(frame, lambda command: frame.lead == ANSWER and frame.command == command)
        return Record(CHANNEL, RX, stamp, raw, meta=frame_meta(frame))

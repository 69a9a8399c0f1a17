"""ECAM frames, as published by independent reverse-engineering projects.

    offset  size  field
    0       1     0x0D: a request (app -> machine), 0xD0: an answer (machine -> app)
    1       1     length: the bytes after this first one (length, command, data, CRC)
    2       1     command (0x75 monitor, 0x83 brew, 0xA9 set profile, ...)
    3       n     data (the monitor and brew commands start theirs with 0x0F / 0xF0)
    3+n     2     CRC-CCITT (poly 0x1021, initial 0x1D0F) of bytes 0..2+n, big-endian

So a frame is ``length + 1`` bytes long; the smallest (no data) is 5.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass

from ..errors import FrameError

__all__ = ["ANSWER", "COMMANDS", "CRC_INIT", "REQUEST", "EcamFrame", "EcamSplitter",
           "crc", "decode", "encode"]

REQUEST = 0x0D
ANSWER = 0xD0
CRC_INIT = 0x1D0F
MIN_FRAME = 5
#: Commands whose meaning the published captures agree on.
COMMANDS = {0x70: "monitor_v0", 0x75: "monitor", 0x83: "brew", 0x84: "power",
            0x90: "write_setting", 0x95: "read_setting", 0xA2: "statistics", 0xA4: "profiles",
            0xA9: "set_profile",
            # named in the app's code (cafy EcamManager.ts); no public capture shows their
            # layout, which the bench assumes (docs/machines/ecam.md)
            0xA5: "set_profile_name", 0xA6: "read_recipe"}


@dataclass(frozen=True, slots=True)
class EcamFrame:
    """One frame whose length and CRC checked out."""

    lead: int  # REQUEST or ANSWER
    command: int
    data: bytes

    @property
    def is_request(self) -> bool:
        return self.lead == REQUEST

    @property
    def command_name(self) -> str:
        return COMMANDS.get(self.command, f"0x{self.command:02x}")


def crc(data: bytes) -> int:
    """The frame checksum: CRC-CCITT, polynomial 0x1021, initial value 0x1D0F."""
    return binascii.crc_hqx(data, CRC_INIT)


def encode(command: int, data: bytes = b"", lead: int = REQUEST) -> bytes:
    """The bytes of one frame (a request unless ``lead=ANSWER``).

    Raises:
        FrameError: a lead that is neither 0x0D nor 0xD0, or more data than a
            one-byte length can count.
    """
    if lead not in (REQUEST, ANSWER):
        raise FrameError(f"an ECAM frame starts 0x0d or 0xd0, not {lead:#04x}")
    if len(data) > 255 - 4:
        raise FrameError(f"{len(data)} data bytes do not fit one ECAM frame (at most 251)")
    head = bytes((lead, len(data) + 4, command)) + data
    return head + crc(head).to_bytes(2, "big")


def decode(frame: bytes) -> EcamFrame:
    """One whole frame, checked.

    Raises:
        FrameError: a wrong lead byte, a length that disagrees with the bytes,
            or a CRC mismatch.
    """
    if len(frame) < MIN_FRAME:
        raise FrameError(f"an ECAM frame of {len(frame)} bytes is shorter than {MIN_FRAME}")
    if frame[0] not in (REQUEST, ANSWER):
        raise FrameError(f"an ECAM frame starts 0x0d or 0xd0, not {frame[0]:#04x}")
    if frame[1] + 1 != len(frame):
        raise FrameError(f"ECAM length byte says {frame[1] + 1} bytes, the frame has {len(frame)}")
    said, computed = int.from_bytes(frame[-2:], "big"), crc(frame[:-2])
    if said != computed:
        raise FrameError(f"ECAM CRC mismatch: frame says {said:#06x}, bytes give {computed:#06x}")
    return EcamFrame(frame[0], frame[2], bytes(frame[3:-2]))


class EcamSplitter:
    """Cuts a stream of writes or notifications into frames, however they were chunked.

    Bytes that cannot start a frame are skipped (and reported) up to the next
    0x0D or 0xD0, so one damaged frame does not lose the ones after it.
    """

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> tuple[list[bytes], list[bytes]]:
        """The frames ``data`` completes, and the runs of bytes skipped as not frames."""
        self._pending += data
        frames: list[bytes] = []
        skipped: list[bytes] = []
        while self._pending:
            start = _lead_at(self._pending)
            if start:
                skipped.append(self._pending[:start])
                self._pending = self._pending[start:]
                continue
            if len(self._pending) < 2:
                break
            size = self._pending[1] + 1
            if size < MIN_FRAME:
                skipped.append(self._pending[:1])
                self._pending = self._pending[1:]
                continue
            if len(self._pending) < size:
                break
            frames.append(self._pending[:size])
            self._pending = self._pending[size:]
        return frames, skipped

    @property
    def pending(self) -> bytes:
        """Bytes of a frame not yet complete."""
        return self._pending


def _lead_at(data: bytes) -> int:
    """Where the first byte that can start a frame is (``len(data)`` if none)."""
    positions = [p for p in (data.find(bytes((REQUEST,))), data.find(bytes((ANSWER,))))
                 if p >= 0]
    return min(positions, default=len(data))

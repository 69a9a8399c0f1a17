"""Frame layer of the wire protocol (docs/protocol.md, "Framing").

A frame on the wire is ``COBS(header | body | crc16) 0x00``:

    offset  size  field
    0       1     protocol version (1)
    1       1     kind: 0 request, 1 response, 2 event, 3 error
    2       2     sequence number, big-endian
    4       1     message type code
    5       n     body, one CBOR map
    5+n     2     CRC-16/CCITT-FALSE of bytes 0..5+n-1, big-endian

COBS comes from the ``cobs`` package and the CRC from ``binascii.crc_hqx``.
"""

from __future__ import annotations

import binascii
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from cobs import cobs

from .errors import FrameError

PROTOCOL_VERSION = 1
DELIMITER = b"\x00"
HEADER = struct.Struct(">BBHB")
CRC_SIZE = 2
MIN_FRAME = HEADER.size + CRC_SIZE
MAX_FRAME = 8192  # decoded bytes; larger messages are paged by the protocol
MAX_ENCODED = MAX_FRAME + MAX_FRAME // 254 + 2


@dataclass(frozen=True, slots=True)
class RawFrame:
    """A frame whose CRC and header checked out; the body is still CBOR."""

    version: int
    kind: int
    seq: int
    type: int
    body: bytes


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no xor-out."""
    return binascii.crc_hqx(data, 0xFFFF)


def encode_frame(kind: int, seq: int, type_code: int, body: bytes) -> bytes:
    """Build the on-wire bytes of one frame, delimiter included."""
    inner = HEADER.pack(PROTOCOL_VERSION, kind, seq, type_code) + body
    if len(inner) + CRC_SIZE > MAX_FRAME:
        raise FrameError(f"frame of {len(inner) + CRC_SIZE} bytes exceeds MAX_FRAME={MAX_FRAME}")
    inner += crc16(inner).to_bytes(CRC_SIZE, "big")
    return bytes(cobs.encode(inner)) + DELIMITER


def decode_frame(encoded: bytes) -> RawFrame:
    """Decode one frame given without its delimiter; raise FrameError on any flaw."""
    try:
        inner = bytes(cobs.decode(encoded))
    except cobs.DecodeError as exc:
        raise FrameError(f"bad COBS encoding: {exc}") from exc
    if len(inner) < MIN_FRAME:
        raise FrameError(f"frame of {len(inner)} bytes is shorter than the {MIN_FRAME}-byte minimum")
    payload, crc = inner[:-CRC_SIZE], int.from_bytes(inner[-CRC_SIZE:], "big")
    if crc16(payload) != crc:
        raise FrameError(f"CRC mismatch: frame says {crc:#06x}, bytes give {crc16(payload):#06x}")
    version, kind, seq, type_code = HEADER.unpack_from(payload)
    if version != PROTOCOL_VERSION:
        raise FrameError(f"unsupported protocol version {version}")
    return RawFrame(version, kind, seq, type_code, payload[HEADER.size :])


@dataclass(frozen=True, slots=True)
class Delimited:
    """One delimited span of the stream: its encoded bytes and what they decoded to."""

    encoded: bytes
    frame: RawFrame | None
    error: FrameError | None


class FrameSplitter:
    """Splits a byte stream into frames, however the link chunked it.

    A corrupt frame yields an error and the stream resynchronises at the next
    delimiter; bytes that run past MAX_ENCODED without a delimiter are dropped
    as one oversize error so a babbling device cannot exhaust memory.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._overflowed = False

    def feed(self, chunk: bytes) -> Iterator[Delimited]:
        complete, dropped = self.split(chunk)
        for encoded in complete:
            yield _delimit(encoded)
        if dropped is not None:
            yield Delimited(dropped, None, oversize_error())

    def split(self, chunk: bytes) -> tuple[list[bytes], bytes | None]:
        """The frames ``chunk`` completes (encoded, without delimiters, none empty),
        then the bytes dropped for running past MAX_ENCODED without a delimiter, if any.

        The undecoded form of ``feed``, for callers that decode frames themselves.
        """
        if 0 not in chunk:
            self._buffer += chunk
            return [], self._drop_oversize() if len(self._buffer) > MAX_ENCODED else None
        complete = (bytes(self._buffer) + chunk if self._buffer else chunk).split(DELIMITER)
        self._buffer = bytearray(complete.pop())
        if self._overflowed:
            self._overflowed = False
            del complete[0]  # the tail of the run that was dropped
        if b"" in complete:
            complete = [encoded for encoded in complete if encoded]
        dropped = self._drop_oversize() if len(self._buffer) > MAX_ENCODED else None
        return complete, dropped

    def _drop_oversize(self) -> bytes:
        dropped = bytes(self._buffer)
        self._buffer.clear()
        self._overflowed = True
        return dropped

    @property
    def pending(self) -> bytes:
        """Bytes received that do not yet end in a delimiter."""
        return bytes(self._buffer)


def oversize_error() -> FrameError:
    """What a run of bytes without a delimiter within MAX_ENCODED is reported as."""
    return FrameError(f"no delimiter within {MAX_ENCODED} bytes")


def _delimit(encoded: bytes) -> Delimited:
    try:
        return Delimited(encoded, decode_frame(encoded), None)
    except FrameError as exc:
        return Delimited(encoded, None, exc)

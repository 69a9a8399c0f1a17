"""Message layer of the wire protocol: kinds, the type catalogue, error codes.

Bodies are CBOR maps with text keys (``cbor2``). The field catalogue of every
message is in docs/protocol.md; this module only knows names and codes.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import cbor2
from cobs import cobs

from .errors import FrameError
from .framing import CRC_SIZE, HEADER, MIN_FRAME, PROTOCOL_VERSION, RawFrame, encode_frame


class Kind(IntEnum):
    REQUEST = 0
    RESPONSE = 1
    EVENT = 2
    ERROR = 3


class MsgType(IntEnum):
    HELLO = 0x01
    IDENTIFY = 0x02
    STATUS = 0x03
    BREW = 0x10
    PAY = 0x11
    VOICE_ORDER = 0x12
    PROVISION = 0x20
    SYNC = 0x21
    READ_LOGS = 0x22
    RESET = 0x23
    EVENT = 0x30
    TELEMETRY = 0x31
    RECORD = 0x32


class ErrorCode(IntEnum):
    UNKNOWN_TYPE = 1
    BAD_REQUEST = 2
    BUSY = 3
    NOT_PROVISIONED = 4
    PAYMENT_DECLINED = 5
    UNSUPPORTED_VERSION = 6
    FRAME_TOO_LARGE = 7
    INTERNAL = 8


@dataclass(frozen=True, slots=True)
class Message:
    """One decoded protocol message."""

    kind: Kind
    type: int
    seq: int
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def type_name(self) -> str:
        return type_name(self.type)

    def encode(self) -> bytes:
        """On-wire bytes of this message, delimiter included."""
        return encode_frame(self.kind, self.seq, self.type, cbor2.dumps(self.body))


def type_name(code: int) -> str:
    try:
        return MsgType(code).name
    except ValueError:
        return f"TYPE_{code:#04x}"


def decode_message(frame: RawFrame) -> Message:
    """Turn a checked frame into a Message; raise FrameError if the body is not a CBOR map."""
    return _message(frame.kind, frame.type, frame.seq, frame.body)


# The receive hot path: every frame a device sends goes through decode_wire, so
# it does in one call what decode_frame + decode_message do, with no RawFrame
# in between; test_framing.py checks both ways agree on good and bad frames.
_KINDS = {int(kind): kind for kind in Kind}
_BODY_START = HEADER.size
_unpack_header = HEADER.unpack_from
_crc_hqx = binascii.crc_hqx
_cobs_decode = cobs.decode
_CobsError = cobs.DecodeError


def decode_wire(encoded: bytes) -> Message:
    """Decode one frame given without its delimiter straight to a Message.

    Raises:
        FrameError: bad COBS, too short, CRC mismatch, unknown version or kind,
            or a body that is not a CBOR map (the same checks and messages as
            ``decode_message(decode_frame(encoded))``).
    """
    try:
        inner = _cobs_decode(encoded)
    except _CobsError as exc:
        raise FrameError(f"bad COBS encoding: {exc}") from exc
    end = len(inner) - CRC_SIZE
    if end < MIN_FRAME - CRC_SIZE:
        raise FrameError(f"frame of {len(inner)} bytes is shorter than the {MIN_FRAME}-byte minimum")
    crc = (inner[end] << 8) | inner[end + 1]
    got = _crc_hqx(inner[:end], 0xFFFF)
    if got != crc:
        raise FrameError(f"CRC mismatch: frame says {crc:#06x}, bytes give {got:#06x}")
    version, kind, seq, type_code = _unpack_header(inner)
    if version != PROTOCOL_VERSION:
        raise FrameError(f"unsupported protocol version {version}")
    return _message(kind, type_code, seq, inner[_BODY_START:end])


def _message(kind_code: int, type_code: int, seq: int, body_bytes: bytes) -> Message:
    kind = _KINDS.get(kind_code)
    if kind is None:
        raise FrameError(f"unknown message kind {kind_code}")
    try:
        body = cbor2.loads(body_bytes) if body_bytes else {}
    except (cbor2.CBORDecodeError, ValueError) as exc:
        raise FrameError(f"body is not valid CBOR: {exc}") from exc
    if not isinstance(body, dict):
        raise FrameError(f"body is a CBOR {type(body).__name__}, expected a map")
    return Message(kind, type_code, seq, body)

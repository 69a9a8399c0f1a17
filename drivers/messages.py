"""Message layer of the wire protocol: kinds, the type catalogue, error codes.

Bodies are CBOR maps with text keys (``cbor2``). The field catalogue of every
message is in docs/protocol.md; this module only knows names and codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import cbor2

from .errors import FrameError
from .framing import RawFrame, encode_frame


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
    try:
        kind = Kind(frame.kind)
    except ValueError:
        raise FrameError(f"unknown message kind {frame.kind}") from None
    try:
        body = cbor2.loads(frame.body) if frame.body else {}
    except (cbor2.CBORDecodeError, ValueError) as exc:
        raise FrameError(f"body is not valid CBOR: {exc}") from None
    if not isinstance(body, dict):
        raise FrameError(f"body is a CBOR {type(body).__name__}, expected a map")
    return Message(kind, frame.type, frame.seq, body)

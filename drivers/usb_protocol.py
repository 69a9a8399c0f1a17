"""How a coffee machine presents itself on USB as a vendor-class device.

Shared by the USB transport and the emulated device, so both sides agree on the
endpoints and the vendor control requests without either importing the other.

Bulk OUT carries host -> device protocol bytes, bulk IN device -> host bytes;
the device ends each write on bulk IN with a short packet, or a zero-length
packet when it is an exact multiple of the max packet size. Vendor requests
go to the device on endpoint 0:

    GET_STATUS  IN,  bRequest 0x01, wLength 4 -> <ready u8><halted u8><queued u16le>
    RESET       OUT, bRequest 0x02            flush the link (both bulk pipes)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

VENDOR_ID = 0x1209  # pid.codes, the open-source vendor id
PRODUCT_ID = 0xC0FE
EP_IN = 0x81
EP_OUT = 0x01
MAX_PACKET = 64  # full-speed bulk endpoints

VENDOR_IN = 0xC0  # device-to-host | vendor | device recipient
VENDOR_OUT = 0x40  # host-to-device | vendor | device recipient
REQ_GET_STATUS = 0x01
REQ_RESET = 0x02
STATUS_FORMAT = "<BBH"
STATUS_LENGTH = struct.calcsize(STATUS_FORMAT)
HALTED_IN, HALTED_OUT = 0x01, 0x02


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """What the vendor GET_STATUS request reports about the link."""

    ready: bool
    halted_in: bool
    halted_out: bool
    queued_in: int  # bytes waiting on bulk IN

    def to_bytes(self) -> bytes:
        halted = (HALTED_IN if self.halted_in else 0) | (HALTED_OUT if self.halted_out else 0)
        return struct.pack(STATUS_FORMAT, int(self.ready), halted, min(self.queued_in, 0xFFFF))

    @classmethod
    def from_bytes(cls, data: bytes) -> LinkStatus:
        """Parse a GET_STATUS answer.

        Raises:
            ValueError: the answer is not ``STATUS_LENGTH`` bytes long.
        """
        if len(data) != STATUS_LENGTH:
            raise ValueError(f"GET_STATUS answered {len(data)} bytes, expected {STATUS_LENGTH}")
        ready, halted, queued = struct.unpack(STATUS_FORMAT, data)
        return cls(bool(ready), bool(halted & HALTED_IN), bool(halted & HALTED_OUT), queued)

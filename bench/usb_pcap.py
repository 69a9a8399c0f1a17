"""Export the USB side of a capture as a pcap file Wireshark's USB dissector reads.

The file uses the Linux usbmon link type (LINKTYPE_USB_LINUX_MMAPPED, 220): one
64-byte usbmon header per record, then the data. The capture holds frames as
the bench reassembled them, not single USB packets, so each frame becomes one
bulk transfer ('S'ubmit on bulk OUT for what the host sent, 'C'omplete on bulk
IN for what the device sent, 'C'omplete with an error status for a transfer that
failed, such as a STALL); control transfers become a submit with their
setup packet and a completion with their data and status.

    python -c "from brewbench.bench.usb_pcap import export_usb_pcap; ..."
    wireshark capture.pcap
"""

from __future__ import annotations

import errno
import struct
from pathlib import Path

from ..drivers.records import RX, TX, Record
from .capture import Capture

LINKTYPE_USB_LINUX_MMAPPED = 220
PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535,
                          LINKTYPE_USB_LINUX_MMAPPED)
USBMON_HEADER = struct.Struct("<QBBBBHccqiiII8siiII")  # struct usbmon_packet, 64 bytes
RECORD_HEADER = struct.Struct("<IIII")
CONTROL, BULK = 2, 3
STATUS_ERRNO = {"ok": 0, "stall": -errno.EPIPE, "overflow": -errno.EOVERFLOW,
                "timeout": -errno.ETIMEDOUT, "no_device": -errno.ENODEV}
EP_IN, EP_OUT = 0x81, 0x01


def export_usb_pcap(capture: Capture, path: Path) -> int:
    """Write every ``usb`` record of ``capture`` to ``path``; return how many packets.

    Raises:
        OSError: the file cannot be written.
    """
    address = int(capture.meta.get("address", 1))  # open_device records it after connecting
    packets = [packet for n, entry in enumerate(capture.entries)
               if entry.record.channel == "usb"
               for packet in _packets(n + 1, entry.record, address)]
    with path.open("wb") as out:
        out.write(PCAP_HEADER)
        for packet in packets:
            out.write(packet)
    return len(packets)


def _packets(urb: int, record: Record, address: int) -> list[bytes]:
    meta = record.meta
    status = STATUS_ERRNO.get(str(meta.get("status", "ok")), -errno.EIO)
    if meta.get("transfer") == "control":
        setup = struct.pack("<BBHHH", int(meta["request_type"]), int(meta["request"]),
                            int(meta["value"]), int(meta["index"]), int(meta["length"]))
        inbound = bool(int(meta["request_type"]) & 0x80)
        data_out = b"" if inbound else record.raw
        return [_packet(urb, record, address, "S", CONTROL, 0x80 if inbound else 0, 0, data_out,
                        setup),
                _packet(urb, record, address, "C", CONTROL, 0x80 if inbound else 0, status,
                        record.raw if inbound else b"")]
    endpoint = int(meta.get("endpoint", EP_IN if record.direction == RX else EP_OUT))
    # What the host sent is a submit; what arrived, or how a transfer failed, a completion.
    kind = "S" if record.direction == TX and status == 0 else "C"
    return [_packet(urb, record, address, kind, BULK, endpoint, status, record.raw)]


def _packet(urb: int, record: Record, address: int, kind: str, xfer: int, endpoint: int,
            status: int, data: bytes, setup: bytes | None = None) -> bytes:
    """One pcap record: its header, the usbmon header, then ``data``."""
    seconds, nanos = divmod(record.stamp.wall_ns, 1_000_000_000)
    header = USBMON_HEADER.pack(
        urb, ord(kind), xfer, endpoint, address, 1, b"\0" if setup else b"-",
        b"\0" if data else (b"<" if endpoint & 0x80 else b">"), seconds, nanos // 1000, status,
        len(data), len(data), setup or bytes(8), 0, -1, 0, 0)
    body = header + data
    return RECORD_HEADER.pack(seconds, nanos // 1000, len(body), len(body)) + body

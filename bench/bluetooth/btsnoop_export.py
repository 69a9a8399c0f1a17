"""A capture of a Bluetooth LE session as a btsnoop log that Wireshark and tshark read.

The capture's GATT traffic becomes the HCI packets a host would have logged on
one LE connection (``btsnoop`` writes the file):

    LE Connection Complete        the link comes up (the peer is the capture's address)
    Exchange MTU                  247, as the bench's central asks
    Write Request / Response      each record sent to the machine; a value longer
                                  than ATT_MTU - 3 goes as Prepare Writes + Execute
    Handle Value Notification     each record the machine sent, cut to ATT_MTU - 3
    Read Request / Response       each GATT read the transport made on connecting
    Disconnection Complete        the end

Handles: a capture imported from a log keeps the handles it had; a live capture
carries none, so the bench's own are used, one characteristic for ECAM's
write-and-notify (0x0012), two for the CM-500 stream (write 0x0010, notify
0x0012), and one per read UUID from 0x0003. Records on other channels
(advertisements, the uplink) and records whose bytes a redacted capture dropped
are left out and counted; save with ``--raw-captures`` to export every byte.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ...drivers.records import RX, Record
from ..capture import Capture
from .att import ATT_CID
from .btsnoop import ACL, EVENT, HciPacket, btsnoop_us, write_btsnoop

__all__ = ["ExportSummary", "export_btsnoop"]

CHANNEL = "ble"
MTU = 247
CONNECTION = 0x0040
ECAM_HANDLE = 0x0012
CM500_WRITE, CM500_NOTIFY = 0x0010, 0x0012
FIRST_READ_HANDLE = 0x0003
PB_FIRST_HOST, PB_FIRST_CONTROLLER = 0b00, 0b10
RAW_TOKEN = "$raw"  # where a redacted capture keeps the token of the bytes it dropped


@dataclass
class ExportSummary:
    """What went into the log and what was left out."""

    packets: int = 0
    records: int = 0
    redacted: int = 0
    other_channels: int = 0
    handles: dict[str, int] = field(default_factory=dict)


def export_btsnoop(capture: Capture, path: Path) -> ExportSummary:
    """Write the GATT traffic of ``capture`` to ``path`` as a btsnoop log.

    Raises:
        OSError: the file cannot be written.
    """
    summary = ExportSummary()
    writer = _Writer(capture, summary)
    summary.packets = write_btsnoop(path, writer.packets())
    return summary


class _Writer:
    """Turns records into HCI packets, stamped with the records' wall clock."""

    def __init__(self, capture: Capture, summary: ExportSummary) -> None:
        self.capture = capture
        self.summary = summary
        ecam = "ecam" in (capture.meta.get("family"), capture.meta.get("gatt"))
        self.write_handle = ECAM_HANDLE if ecam else CM500_WRITE
        self.notify_handle = ECAM_HANDLE if ecam else CM500_NOTIFY
        self.read_handles: dict[str, int] = {}
        summary.handles.update(write=self.write_handle, notify=self.notify_handle)

    def packets(self) -> Iterator[HciPacket]:
        records = [entry.record for entry in self.capture.entries]
        first = min((r.stamp.wall_ns for r in records), default=0)
        last = max((r.stamp.wall_ns for r in records), default=0)
        yield _event(first, 0x3E, _connection_complete(str(self.capture.meta.get("address", ""))))
        yield _att(first, False, struct.pack("<BH", 0x02, MTU))
        yield _att(first, True, struct.pack("<BH", 0x03, MTU))
        for record in records:
            if record.channel != CHANNEL:
                self.summary.other_channels += 1
            elif not record.raw and RAW_TOKEN in record.meta:
                self.summary.redacted += 1
            else:
                self.summary.records += 1
                yield from self._record(record)
        yield _event(last, 0x05, struct.pack("<BHB", 0, CONNECTION, 0x13))  # remote left

    def _record(self, record: Record) -> Iterator[HciPacket]:
        stamp, value, meta = record.stamp.wall_ns, record.raw, record.meta
        if meta.get("gatt") in ("read", "read_blob"):
            handle = self._read_handle(record)
            yield _att(stamp, False, struct.pack("<BH", 0x0A, handle))
            yield _att(stamp, True, b"\x0b" + value[:MTU - 1])
            for offset in range(MTU - 1, len(value), MTU - 1):
                yield _att(stamp, False, struct.pack("<BHH", 0x0C, handle, offset))
                yield _att(stamp, True, b"\x0d" + value[offset:offset + MTU - 1])
        elif record.direction == RX:
            handle = _handle(record, self.notify_handle)
            for start in range(0, max(len(value), 1), MTU - 3):
                yield _att(stamp, True, struct.pack("<BH", 0x1B, handle) + value[start:start + MTU - 3])
        else:
            yield from _write(stamp, _handle(record, self.write_handle), value)

    def _read_handle(self, record: Record) -> int:
        if isinstance(record.meta.get("handle"), int):
            return int(record.meta["handle"])
        uuid = str(record.meta.get("uuid", record.meta.get("field", "")))
        if uuid not in self.read_handles:
            self.read_handles[uuid] = FIRST_READ_HANDLE + len(self.read_handles)
            self.summary.handles[uuid] = self.read_handles[uuid]
        return self.read_handles[uuid]


def _handle(record: Record, default: int) -> int:
    handle = record.meta.get("handle")
    return handle if isinstance(handle, int) else default


def _write(stamp: int, handle: int, value: bytes) -> Iterator[HciPacket]:
    """A write request, or a long write (prepare, execute) when one PDU cannot hold it."""
    if len(value) <= MTU - 3:
        yield _att(stamp, False, struct.pack("<BH", 0x12, handle) + value)
        yield _att(stamp, True, b"\x13")
        return
    step = MTU - 5
    for offset in range(0, len(value), step):
        part = struct.pack("<BHH", 0x16, handle, offset) + value[offset:offset + step]
        yield _att(stamp, False, part)
        yield _att(stamp, True, b"\x17" + part[1:])
    yield _att(stamp, False, b"\x18\x01")
    yield _att(stamp, True, b"\x19")


def _att(stamp_ns: int, received: bool, pdu: bytes) -> HciPacket:
    """One ATT PDU in an L2CAP frame in one ACL packet on the connection."""
    l2cap = struct.pack("<HH", len(pdu), ATT_CID) + pdu
    boundary = PB_FIRST_CONTROLLER if received else PB_FIRST_HOST
    acl = struct.pack("<HH", CONNECTION | boundary << 12, len(l2cap)) + l2cap
    return HciPacket(0, received, btsnoop_us(stamp_ns), ACL, acl)


def _event(stamp_ns: int, code: int, body: bytes) -> HciPacket:
    """An HCI event from the controller."""
    return HciPacket(0, True, btsnoop_us(stamp_ns), EVENT, bytes((code, len(body))) + body)


def _connection_complete(address: str) -> bytes:
    """LE Meta event, LE Connection Complete: this host is the central, the peer random."""
    try:
        peer = bytes.fromhex(address.replace(":", ""))[::-1]
    except ValueError:
        peer = b""
    if len(peer) != 6:
        peer = bytes(6)
    return (bytes((0x01, 0x00)) + struct.pack("<HBB", CONNECTION, 0x00, 0x01) + peer
            + struct.pack("<HHHB", 24, 0, 400, 0))

"""From HCI ACL packets to the ATT values they carry: writes, notifications, reads.

    ACL      handle + flags (2 bytes LE: 12-bit connection handle, 2-bit packet
             boundary: 0b01 continues the previous packet) | length (2, LE) | data
    L2CAP    length (2, LE) | channel id (2, LE; 4 is ATT) | payload, possibly
             spread over several ACL packets
    ATT      opcode (1) | parameters

The opcodes kept, named as the capture names them:

    0x12 write, 0x52 write_command        client -> server: handle (2, LE) | value
    0x16 prepare + 0x18 execute           a long write, joined: "write"
    0x1B notify, 0x1D indicate            server -> client: handle | value
    0x0B read (response), 0x0D read_blob  the value; its handle is the one the last
                                          read or read-blob request on the link asked for

Which side wrote the log does not matter: a write always travels to the machine
(the GATT server), a notification or read value always from it.

A long write's parts wait for their execute in bounded memory (``MAX_PREPARED``
bytes per connection; parts past it are dropped and the joined value says
``parts_dropped``), and are joined in one pass, whatever their number. At most
``MAX_LINKS`` links are followed in the middle of a PDU or a long write at once
(each holds at most one 64 KiB PDU), so a log of thousands of links stays small.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .btsnoop import ACL, HciPacket

__all__ = ["ATT_CID", "FROM_SERVER", "AttValue", "att_values"]

ATT_CID = 4
CONTINUATION = 0b01
HANDLE = struct.Struct("<H")
SIMPLE = {0x12: "write", 0x52: "write_command", 0x1B: "notify", 0x1D: "indicate"}
READ_REQUESTS = {0x0A: "read", 0x0C: "read_blob"}
READ_RESPONSES = {0x0B: "read", 0x0D: "read_blob"}
PREPARE, EXECUTE = 0x16, 0x18
MAX_PREPARED = 64 * 1024  # an attribute value is at most 512 bytes (Core spec, Vol 3 Part F)
MAX_LINKS = 64  # links with a PDU or a long write in the middle at once; a phone has a few
FROM_SERVER = frozenset({"notify", "indicate", "read", "read_blob"})


@dataclass(frozen=True, slots=True)
class AttValue:
    """One attribute value that crossed a link."""

    packet: HciPacket  # the packet that completed it
    connection: int
    op: str
    opcode: int
    handle: int | None  # None: a read response whose request is not in the log
    value: bytes
    parts_dropped: int = 0  # of a long write, past MAX_PREPARED


def att_values(packets: Iterable[HciPacket]) -> Iterator[AttValue]:
    """The ATT values of a log's ACL packets, in order; anything else is passed over."""
    follower = _Follower()
    for packet in packets:
        if packet.h4_type == ACL and len(packet.data) >= 4:
            pdu = follower.l2cap(packet)
            if pdu is not None:
                yield from follower.att(packet, pdu)


class _Follower:
    """What the links are in the middle of: L2CAP reassembly, reads asked, long writes."""

    def __init__(self) -> None:
        self.partial: dict[tuple[int, bool], bytearray] = {}
        self.asked: dict[int, int] = {}  # connection -> handle of the pending read
        self.prepared: dict[int, list[tuple[int, int, bytes]]] = {}
        self.prepared_bytes: dict[int, int] = {}
        self.dropped: dict[int, int] = {}

    def l2cap(self, packet: HciPacket) -> bytes | None:
        """The ATT PDU ``packet`` completes, if any."""
        word, length = struct.unpack_from("<HH", packet.data)
        connection, boundary = word & 0x0FFF, (word >> 12) & 0b11
        key = (connection, packet.received)
        data = packet.data[4:4 + length]
        if boundary == CONTINUATION:
            if key not in self.partial:
                return None  # the start was before the log began
            self.partial[key] += data
        elif key in self.partial or len(self.partial) < MAX_LINKS:
            self.partial[key] = bytearray(data)
        else:
            return None  # a log that opens thousands of links at once: not followed
        sdu = self.partial[key]
        if len(sdu) < 4:
            return None
        size, cid = struct.unpack_from("<HH", sdu)
        if len(sdu) < 4 + size:
            return None
        del self.partial[key]
        return bytes(sdu[4:4 + size]) if cid == ATT_CID else None

    def att(self, packet: HciPacket, pdu: bytes) -> Iterator[AttValue]:
        word, = struct.unpack_from("<H", packet.data)
        connection, opcode = word & 0x0FFF, pdu[0] if pdu else -1
        if opcode in SIMPLE and len(pdu) >= 3:
            handle, = HANDLE.unpack_from(pdu, 1)
            yield AttValue(packet, connection, SIMPLE[opcode], opcode, handle, pdu[3:])
        elif opcode in READ_REQUESTS and len(pdu) >= 3:
            self.asked[connection], = HANDLE.unpack_from(pdu, 1)
        elif opcode in READ_RESPONSES:
            yield AttValue(packet, connection, READ_RESPONSES[opcode], opcode,
                           self.asked.pop(connection, None), pdu[1:])
        elif opcode == PREPARE and len(pdu) >= 5:
            self._prepare(connection, pdu)
        elif opcode == EXECUTE and len(pdu) >= 2:
            parts = self.prepared.pop(connection, [])
            self.prepared_bytes.pop(connection, None)
            dropped = self.dropped.pop(connection, 0)
            if pdu[1] == 1 and parts:
                yield from _joined(packet, connection, parts, dropped)

    def _prepare(self, connection: int, pdu: bytes) -> None:
        handle, offset = struct.unpack_from("<HH", pdu, 1)
        held = self.prepared_bytes.get(connection, 0) + len(pdu) - 5
        if held > MAX_PREPARED or (connection not in self.prepared
                                   and len(self.prepared) >= MAX_LINKS):
            self.dropped[connection] = self.dropped.get(connection, 0) + 1
            return
        self.prepared_bytes[connection] = held
        self.prepared.setdefault(connection, []).append((handle, offset, pdu[5:]))


def _joined(packet: HciPacket, connection: int, parts: list[tuple[int, int, bytes]],
            dropped: int) -> Iterator[AttValue]:
    """The values a long write's prepared parts make, one per handle, parts by offset
    (grouped in one pass: many parts on many handles stay linear)."""
    by_handle: dict[int, list[tuple[int, bytes]]] = {}
    for handle, offset, chunk in parts:
        by_handle.setdefault(handle, []).append((offset, chunk))
    for handle, chunks in by_handle.items():
        value = bytearray()
        for offset, chunk in sorted(chunks, key=lambda part: part[0]):
            value[offset:offset + len(chunk)] = chunk
        yield AttValue(packet, connection, "write", EXECUTE, handle, bytes(value), dropped)

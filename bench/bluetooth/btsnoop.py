"""The btsnoop file format (Android's ``btsnoop_hci.log``, bumble's ``BtSnooper``).

A 16-byte header, then records, every integer big-endian:

    header   "btsnoop\\0" | version (4 bytes) = 1 | datalink (4 bytes) = 1002 (HCI H4)
    record   original length (4) | included length (4) | flags (4) | drops (4) |
             timestamp (8, microseconds since midnight 1 January of year 0) | data

Three datalinks are read (BlueZ's ``src/shared/btsnoop.h`` names them):

- 1002, HCI UART (H4; Android, bumble): each record's data begins with the H4 packet
  type (1 command, 2 ACL data, 3 SCO, 4 event); flags bit 0 is the direction (0: host
  to controller, 1: controller to host) and bit 1 marks commands and events.
- 1001, HCI unencapsulated: the same flags, the data without a type byte (bit 1 and
  the direction tell a command from an event; the rest is taken as ACL data).
- 2001, Linux monitor (``btmon -w``): flags hold the adapter index in the high 16 bits
  and an opcode in the low 16 (2 command, 3 event, 4 ACL sent, 5 ACL received, 6 and
  7 SCO); the other opcodes (adapters coming and going, notes, logging) carry no
  packet and are passed over.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ...drivers.errors import BrewbenchError

__all__ = ["ACL", "EVENT", "H4", "HCI", "MAGIC", "MONITOR", "BtsnoopError", "HciPacket", "btsnoop_us",
           "iter_btsnoop", "read_btsnoop", "unix_ns", "write_btsnoop"]

MAGIC = b"btsnoop\0"
HEADER = struct.Struct(">8sII")
RECORD = struct.Struct(">IIIIq")
VERSION = 1
H4 = 1002  # datalink: HCI UART, each packet led by its H4 type byte
HCI = 1001  # datalink: HCI packets with no type byte; the flags tell commands and events
MONITOR = 2001  # datalink: the Linux monitor (btmon): the flags hold an opcode
DATALINKS = (H4, HCI, MONITOR)
COMMAND, ACL, SCO, EVENT = 1, 2, 3, 4
#: the Linux monitor's packet opcodes: (H4 type, received)
MONITOR_PACKETS = {2: (COMMAND, False), 3: (EVENT, True), 4: (ACL, False), 5: (ACL, True),
                   6: (SCO, False), 7: (SCO, True)}
#: 1970-01-01 in btsnoop time (microseconds since 0000-01-01)
UNIX_EPOCH_US = 0x00DCDDB30F2F8000
MAX_PACKET = 64 * 1024  # an HCI packet is at most 64 KiB; more is a broken file


class BtsnoopError(BrewbenchError, ValueError):
    """The file is not a btsnoop log this bench can read."""


@dataclass(frozen=True, slots=True)
class HciPacket:
    """One record of the log: an HCI packet as the host saw it pass."""

    number: int  # 1-based, as Wireshark counts
    received: bool  # controller -> host (the other device's traffic arrives this way)
    timestamp_us: int  # btsnoop time
    h4_type: int
    data: bytes  # the packet after its H4 type byte


def unix_ns(timestamp_us: int) -> int:
    """A btsnoop timestamp as nanoseconds since the Unix epoch."""
    return (timestamp_us - UNIX_EPOCH_US) * 1000


def btsnoop_us(unix_ns_value: int) -> int:
    """Nanoseconds since the Unix epoch as a btsnoop timestamp."""
    return unix_ns_value // 1000 + UNIX_EPOCH_US


def write_btsnoop(path: Path, packets: Iterable[HciPacket]) -> int:
    """Write ``packets`` as a btsnoop file (version 1, datalink H4); returns how many.

    The flags say the direction (``received``) and, for HCI commands and events,
    that the packet is one.

    Raises:
        OSError: the file cannot be written.
    """
    count = 0
    with path.open("wb") as out:
        out.write(HEADER.pack(MAGIC, VERSION, H4))
        for packet in packets:
            body = bytes((packet.h4_type,)) + packet.data
            flags = int(packet.received) | (2 if packet.h4_type in (COMMAND, EVENT) else 0)
            out.write(RECORD.pack(len(body), len(body), flags, 0, packet.timestamp_us) + body)
            count += 1
    return count


def read_btsnoop(path: Path) -> list[HciPacket]:
    """Every packet of a btsnoop file, in file order (``iter_btsnoop`` as a list).

    Raises:
        BtsnoopError: not a btsnoop file, another version or datalink, or a
            record that claims an impossible length.
        OSError: the file cannot be read.
    """
    return list(iter_btsnoop(path))


def iter_btsnoop(path: Path) -> Iterator[HciPacket]:
    """The packets of a btsnoop file, read one record at a time (memory stays one
    record, whatever the file's size).

    A record cut short by the end of the file (a log copied while still being
    written) ends the packets; it is not an error.

    Raises:
        BtsnoopError: not a btsnoop file, another version or datalink, or a
            record that claims an impossible length (raised when reached: the
            packets before it have been yielded).
        OSError: the file cannot be read.
    """
    with path.open("rb") as file:
        datalink = _check_header(path, file.read(HEADER.size))
        number, offset = 0, HEADER.size
        while len(head := file.read(RECORD.size)) == RECORD.size:
            _, included, flags, _, stamp = RECORD.unpack(head)
            if included > MAX_PACKET:
                raise BtsnoopError(f"{path}: record {number + 1} at byte {offset} claims "
                                   f"{included} bytes; the file is damaged")
            body = file.read(included)
            if len(body) < included:
                return
            offset += RECORD.size + included
            packet = _packet(datalink, flags, body)
            if packet is not None:
                number += 1
                yield HciPacket(number, packet[1], stamp, packet[0], packet[2])


def _packet(datalink: int, flags: int, body: bytes) -> tuple[int, bool, bytes] | None:
    """(H4 type, received, the packet after its type) of one record's data, or None for
    a record that carries no HCI packet."""
    if not body:
        return None
    if datalink == MONITOR:
        known = MONITOR_PACKETS.get(flags & 0xFFFF)
        return None if known is None else (known[0], known[1], body)
    received = bool(flags & 1)
    if datalink == HCI:
        kind = (EVENT if received else COMMAND) if flags & 2 else ACL
        return kind, received, body
    return body[0], received, body[1:]


def _check_header(path: Path, header: bytes) -> int:
    if len(header) < HEADER.size or not header.startswith(MAGIC):
        raise BtsnoopError(f"{path}: not a btsnoop file (it does not start with 'btsnoop\\0')")
    _, version, datalink = HEADER.unpack(header)
    if version != VERSION:
        raise BtsnoopError(f"{path}: btsnoop version {version}; only version {VERSION} is known")
    if datalink not in DATALINKS:
        raise BtsnoopError(f"{path}: btsnoop datalink {datalink}; only {H4} (HCI H4, as "
                           f"Android and bumble write), {HCI} (HCI) and {MONITOR} (btmon) "
                           "are supported")
    return int(datalink)

"""Jura's service-port wire format: every payload byte travels as four wire bytes.

Each wire byte carries two bits of the payload byte, in bit 2 (mask 0x04) and
bit 5 (mask 0x20); its other bits are fixed. Wire byte ``i`` (0..3) carries
payload bits ``2i`` (in bit 2) and ``2i + 1`` (in bit 5), so ``T`` (0x54) travels
as ``5B 5F 5F 5F`` from the machine. Senders pause (about 8 ms on real machines)
between wire bytes; the line is 9600 baud, 8N1.

Hosts in public implementations fill the fixed bits with 1 (base 0xFF); machines
send them as 0x5B. A decoder looks only at bits 2 and 5, so either base decodes.
"""

from __future__ import annotations

__all__ = ["DATA_BITS", "FIXED_BITS", "HOST_BASE", "MACHINE_BASE", "WIRE_BYTES", "WireDecoder",
           "decode", "encode", "is_wire_byte"]

WIRE_BYTES = 4  # wire bytes per payload byte
HOST_BASE = 0xFF  # fixed bits of what a host sends
MACHINE_BASE = 0x5B  # fixed bits of what a machine sends (bits 2 and 5 clear)
_LOW, _HIGH = 0x04, 0x20  # where the two payload bits sit in a wire byte
DATA_BITS = _LOW | _HIGH
_FIXED = ~DATA_BITS & 0xFF
#: bits that are 1 in every wire byte either side sends (0x5B from machines, 0xDB or 0xFF
#: from hosts); bit 7 differs between senders, so it is not among them
FIXED_BITS = MACHINE_BASE & HOST_BASE & _FIXED


def is_wire_byte(byte: int) -> bool:
    """Whether ``byte`` has every fixed bit a wire byte has (noise on the line often lacks one)."""
    return byte & FIXED_BITS == FIXED_BITS


def _encode_byte(value: int, base: int) -> bytes:
    fixed = base & _FIXED
    return bytes(fixed | (_LOW if value >> (2 * i) & 1 else 0) | (_HIGH if value >> (2 * i + 1) & 1 else 0)
                 for i in range(WIRE_BYTES))


_TABLES: dict[int, list[bytes]] = {}


def encode(data: bytes, base: int = HOST_BASE) -> bytes:
    """The wire bytes for ``data`` (no pauses: the transport's writer adds them)."""
    table = _TABLES.get(base)
    if table is None:
        table = _TABLES[base] = [_encode_byte(value, base) for value in range(256)]
    return b"".join(table[value] for value in data)


def _decode_group(group: bytes) -> int:
    value = 0
    for i, wire in enumerate(group):
        value |= (1 << 2 * i if wire & _LOW else 0) | (1 << 2 * i + 1 if wire & _HIGH else 0)
    return value


def decode(wire: bytes) -> bytes:
    """Payload bytes of complete groups of four wire bytes (a trailing partial group is ignored)."""
    whole = len(wire) - len(wire) % WIRE_BYTES
    return bytes(_decode_group(wire[i:i + WIRE_BYTES]) for i in range(0, whole, WIRE_BYTES))


class WireDecoder:
    """Decodes a stream of wire bytes that arrives in arbitrary pieces.

    It counts groups from the first byte it sees, which suits a link that starts
    clean (the emulator's end); a host reading a real machine frames lines with
    ``wire_lines.WireLineFramer``, which needs no such luck. ``resync()`` drops a
    partial group.
    """

    def __init__(self) -> None:
        self._partial = b""

    def feed(self, wire: bytes) -> bytes:
        data = self._partial + wire
        whole = len(data) - len(data) % WIRE_BYTES
        self._partial = data[whole:]
        return decode(data[:whole])

    @property
    def pending(self) -> int:
        """Wire bytes of an incomplete group held back."""
        return len(self._partial)

    def resync(self) -> bytes:
        """Drop and return the bytes of an incomplete group."""
        dropped, self._partial = self._partial, b""
        return dropped

"""A firmware's own DNS lookups: one A query over UDP to the resolver it was built with.

Embedded network stacks often carry a resolver address of their own (a public
one, hard-coded) instead of the one the network hands out; the lab firmware
does the same, so the bench must catch lookups sent anywhere.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
import struct

TIMEOUT_S = 2.0
MAX_ANSWER = 1232  # the classic EDNS UDP payload; a longer answer is not read


def is_address(host: str) -> bool:
    """True for an IPv4 literal (a firmware that dials an address needs no lookup)."""
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def query(name: str, ident: int) -> bytes:
    labels = b"".join(bytes([len(part)]) + part.encode("ascii") for part in name.split("."))
    return struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + labels + b"\x00" + struct.pack(">HH", 1, 1)


def lookup(name: str, resolver: str, timeout: float = TIMEOUT_S) -> str:
    """The first IPv4 address ``resolver`` gives for ``name``.

    Raises:
        OSError: no answer in time, or an answer with no address.
    """
    ident = secrets.randbelow(0xFFFF)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(query(name, ident), (resolver, 53))
        answer = sock.recv(MAX_ANSWER)
    return first_address(answer, ident, name)


def first_address(answer: bytes, ident: int, name: str) -> str:
    """The first A record of a DNS answer; OSError for anything else."""
    try:
        got, flags, questions, count = struct.unpack_from(">HHHH", answer)
        offset = _skip_name(answer, 12) + 4 if questions else 12
        for _ in range(count):
            offset = _skip_name(answer, offset)
            rtype, _cls, _ttl, length = struct.unpack_from(">HHIH", answer, offset)
            offset += 10
            if got == ident and flags & 0x000F == 0 and rtype == 1 and length == 4:
                return socket.inet_ntoa(answer[offset:offset + 4])
            offset += length
    except (struct.error, IndexError) as exc:
        raise OSError(f"{name}: a malformed DNS answer") from exc
    raise OSError(f"{name}: the resolver gave no address")


def _skip_name(data: bytes, offset: int) -> int:
    while True:
        length = data[offset]
        if length & 0xC0 == 0xC0:
            return offset + 2
        if length == 0:
            return offset + 1
        offset += 1 + length


__all__ = ["first_address", "is_address", "lookup", "query"]

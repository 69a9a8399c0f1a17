"""The server name (SNI) in a TLS ClientHello, read without terminating the connection.

A connection the bench passes through sealed is never decrypted, so the name the
device asked for is read from its first handshake record (RFC 8446 section 4.1.2,
RFC 6066 section 3). Every length is checked against what is there: a hostile or
truncated hello gives "" rather than an exception.
"""

from __future__ import annotations

import struct

HANDSHAKE, CLIENT_HELLO, SERVER_NAME, HOST_NAME = 0x16, 0x01, 0x0000, 0x00
MAX_NAME = 253


def server_name(record: bytes) -> str:
    """The host name a ClientHello in ``record`` (its first TLS record) asks for, or ""."""
    try:
        return _server_name(record)
    except (struct.error, IndexError, UnicodeDecodeError):
        return ""


def _server_name(data: bytes) -> str:
    if len(data) < 9 or data[0] != HANDSHAKE or data[5] != CLIENT_HELLO:
        return ""
    at = 9 + 2 + 32  # record and handshake headers, client version, random
    at += 1 + data[at]  # session id
    (ciphers,) = struct.unpack_from(">H", data, at)
    at += 2 + ciphers
    at += 1 + data[at]  # compression methods
    (total,) = struct.unpack_from(">H", data, at)
    at += 2
    end = min(len(data), at + total)
    while at + 4 <= end:
        kind, length = struct.unpack_from(">HH", data, at)
        at += 4
        if kind == SERVER_NAME:
            return _host_name(data[at:at + length])
        at += length
    return ""


def _host_name(extension: bytes) -> str:
    at = 2  # the list's length
    while at + 3 <= len(extension):
        kind, length = extension[at], struct.unpack_from(">H", extension, at + 1)[0]
        name = extension[at + 3:at + 3 + length]
        if kind == HOST_NAME and 0 < len(name) == length <= MAX_NAME and name.isascii():
            return name.decode("ascii")
        at += 3 + length
    return ""


__all__ = ["server_name"]

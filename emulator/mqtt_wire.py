"""The few MQTT 3.1.1 packets a lab firmware sends: CONNECT, PUBLISH (QoS 1), DISCONNECT.

The lab firmware speaks MQTT itself over a socket it opened (plain or TLS), so
it controls the server name it asks for and when it checks a pinned key; the
bench side still runs a real broker (mosquitto) that parses every byte.
"""

from __future__ import annotations

import socket
import struct

CONNECT, CONNACK, PUBLISH, PUBACK, DISCONNECT = 0x10, 0x20, 0x30, 0x40, 0xE0
KEEPALIVE_S = 30


def _length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _text(value: str) -> bytes:
    raw = value.encode()
    return struct.pack(">H", len(raw)) + raw


def packet(kind: int, body: bytes) -> bytes:
    return bytes([kind]) + _length(len(body)) + body


def connect(client_id: str) -> bytes:
    return packet(CONNECT, _text("MQTT") + bytes([4, 0x02]) + struct.pack(">H", KEEPALIVE_S)
                  + _text(client_id))


def publish(topic: str, payload: bytes, packet_id: int, retain: bool = False) -> bytes:
    return packet(PUBLISH | 0x02 | (0x01 if retain else 0),
                  _text(topic) + struct.pack(">H", packet_id) + payload)


def read_packet(sock: socket.socket) -> tuple[int, bytes]:
    """One packet: (type nibble << 4, body). OSError when the peer closed."""
    head = _exactly(sock, 1)[0]
    length, shift = 0, 0
    for _ in range(4):
        byte = _exactly(sock, 1)[0]
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return head & 0xF0, _exactly(sock, length)


def _exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise OSError("the broker closed the connection")
        data += chunk
    return data


def deliver(sock: socket.socket, client_id: str, topic: str, payload: bytes, packet_id: int,
            retain: bool = False) -> None:
    """Connect, publish at QoS 1, wait for the acknowledgement and disconnect.

    Raises:
        OSError: refused, closed, or no acknowledgement.
    """
    sock.sendall(connect(client_id))
    kind, body = read_packet(sock)
    if kind != CONNACK or len(body) < 2 or body[1] != 0:
        raise OSError("the broker refused the connection")
    sock.sendall(publish(topic, payload, packet_id, retain))
    kind, body = read_packet(sock)
    if kind != PUBACK or body[:2] != struct.pack(">H", packet_id):
        raise OSError("the broker did not acknowledge the publish")
    sock.sendall(packet(DISCONNECT, b""))


__all__ = ["deliver"]

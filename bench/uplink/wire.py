"""What a device said on one TCP stream: MQTT publishes, HTTP requests, a TLS server name.

Parsers for the client-to-server bytes of a stream (bench/uplink/pcap_streams.py).
They stop at the first thing that does not parse, and never read past the data
they were given: a capture of hostile traffic cannot make them hang or grow. A
request whose body length is not a plain number (``Content-Length: abc``, a
negative length or chunk size) is one request with an ``error``; the stream ends
there, since where the next request starts is unknown.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

MQTT_CONNECT = 0x10
MAX_REST = 1024 * 1024  # of a stream after a length that is not one
MQTT_PUBLISH = 3
_HTTP_REQUEST = re.compile(rb"^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (\S+) HTTP/1\.[01]\r\n")


@dataclass(frozen=True)
class Publish:
    offset: int  # where the packet ends in the stream (when it was complete)
    topic: str
    qos: int
    retain: bool
    payload: bytes


@dataclass(frozen=True)
class Request:
    offset: int
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    error: str | None = None  # why the body could not be read; the stream ends here


def is_mqtt(data: bytes) -> bool:
    return bool(data) and data[0] == MQTT_CONNECT and (b"MQTT" in data[:16] or b"MQIsdp" in data[:16])


def is_http(data: bytes) -> bool:
    return _HTTP_REQUEST.match(data[:2048]) is not None


def is_tls(data: bytes) -> bool:
    return data[:2] == b"\x16\x03"


def mqtt_publishes(data: bytes) -> Iterator[Publish]:
    """Every PUBLISH in an MQTT client stream (3.1, 3.1.1 and 5)."""
    level, pos = 4, 0
    while pos < len(data):
        kind, flags = data[pos] >> 4, data[pos] & 0x0F
        length = _varint(data, pos + 1)
        if length is None:
            return
        remaining, width = length
        start, end = pos + 1 + width, pos + 1 + width + remaining
        if end > len(data):
            return  # cut short by the capture
        body = data[start:end]
        if kind == 1 and len(body) >= 3:  # CONNECT: note the protocol level
            name_len = int.from_bytes(body[:2], "big")
            level = body[2 + name_len] if len(body) > 2 + name_len else level
        elif kind == MQTT_PUBLISH:
            publish = _publish(body, flags, level, end)
            if publish is None:
                return
            yield publish
        pos = end


def _publish(body: bytes, flags: int, level: int, end: int) -> Publish | None:
    qos, retain = (flags >> 1) & 0x03, bool(flags & 0x01)
    topic_len = int.from_bytes(body[:2], "big")
    at = 2 + topic_len + (2 if qos else 0)
    if level == 5:
        properties = _varint(body, at)
        if properties is None:
            return None
        at += properties[1] + properties[0]
    if at > len(body):
        return None
    return Publish(end, body[2:2 + topic_len].decode("utf-8", "replace"), qos, retain, body[at:])


def _varint(data: bytes, pos: int) -> tuple[int, int] | None:
    """MQTT's variable-length integer at ``pos``: (value, bytes used), None when cut short."""
    value = 0
    for width in range(4):
        if pos + width >= len(data):
            return None
        value |= (data[pos + width] & 0x7F) << (7 * width)
        if not data[pos + width] & 0x80:
            return value, width + 1
    return None


def http_requests(data: bytes) -> Iterator[Request]:
    """Every request on an HTTP/1.x client stream (Content-Length or chunked bodies)."""
    pos = 0
    while (match := _HTTP_REQUEST.match(data[pos:pos + 2048])) is not None:
        head_end = data.find(b"\r\n\r\n", pos)
        if head_end < 0:
            return
        lines = data[pos:head_end].decode("latin-1").split("\r\n")[1:]
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
        body_start = head_end + 4
        method, path = match.group(1).decode(), match.group(2).decode("latin-1")
        if headers.get("transfer-encoding", "").lower() == "chunked":
            unchunked = _unchunk(data, body_start)
            if isinstance(unchunked, str):
                yield Request(body_start, method, path, headers, _rest(data, body_start), unchunked)
                return
            if unchunked is None:
                return
            body, pos = unchunked
        else:
            text = headers.get("content-length", "0") or "0"
            if not text.isdigit() or not text.isascii():
                yield Request(body_start, method, path, headers, _rest(data, body_start),
                              f"Content-Length {text[:40]!r} is not a length")
                return
            length = int(text)
            if body_start + length > len(data):
                return
            body, pos = data[body_start:body_start + length], body_start + length
        yield Request(pos, method, path, headers, body)


def _rest(data: bytes, pos: int) -> bytes:
    """What follows an unreadable length, kept (bounded) for the hunter to read."""
    return data[pos:pos + MAX_REST]


def _unchunk(data: bytes, pos: int) -> tuple[bytes, int] | str | None:
    """The body and where it ends; None when the stream is cut short; a string when a
    chunk size is not one (negative, not hex): why."""
    parts: list[bytes] = []
    while True:
        line_end = data.find(b"\r\n", pos)
        if line_end < 0:
            return None
        field = data[pos:line_end].split(b";")[0].strip()
        if not field or len(field) > 16 or field.strip(b"0123456789abcdefABCDEF"):
            return f"chunk size {field[:40]!r} is not a size"
        size = int(field, 16)
        start = line_end + 2
        if size == 0:
            trailer = data.find(b"\r\n\r\n", line_end)
            return b"".join(parts), (trailer + 4 if trailer >= 0 else start + 2)
        if start + size + 2 > len(data):
            return None
        parts.append(data[start:start + size])
        pos = start + size + 2


def tls_server_name(data: bytes) -> str | None:
    """The SNI of the ClientHello that starts a TLS stream, if it names one."""
    try:
        hello = data[5:5 + int.from_bytes(data[3:5], "big")]
        if hello[0] != 1:
            return None
        at = 4 + 2 + 32  # handshake header, version, random
        at += 1 + hello[at]  # session id
        at += 2 + int.from_bytes(hello[at:at + 2], "big")  # cipher suites
        at += 1 + hello[at]  # compression methods
        end = at + 2 + int.from_bytes(hello[at:at + 2], "big")
        at += 2
        while at + 4 <= min(end, len(hello)):
            kind, size = int.from_bytes(hello[at:at + 2], "big"), int.from_bytes(hello[at + 2:at + 4], "big")
            if kind == 0:  # server_name: list length, name type, name length, name
                name_len = int.from_bytes(hello[at + 7:at + 9], "big")
                return hello[at + 9:at + 9 + name_len].decode("ascii", "replace")
            at += 4 + size
    except IndexError:
        return None
    return None


__all__ = ["Publish", "Request", "http_requests", "is_http", "is_mqtt", "is_tls",
           "mqtt_publishes", "tls_server_name"]

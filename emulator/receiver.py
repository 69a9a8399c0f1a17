"""The emulated device's receive side: frames out of a byte stream, in bounded memory.

Unlike the host's FrameSplitter, whose verdict on an oversize run depends on
where reads happen to split it, the device decides on the bytes alone: a span
(the bytes between two delimiters) longer than MAX_ENCODED is too large however
it arrived, and the device keeps only its first bytes, to read its header.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..drivers.framing import DELIMITER, HEADER, MAX_ENCODED, PROTOCOL_VERSION

__all__ = ["HEAD_BYTES", "Span", "SpanReader", "cobs_prefix", "request_header"]

#: encoded bytes kept of an oversize span: enough for its 5-byte header
HEAD_BYTES = 16


@dataclass(frozen=True, slots=True)
class Span:
    """The bytes between two delimiters; for an oversize span only its first bytes."""

    encoded: bytes
    oversize: bool


class SpanReader:
    """Cuts a stream into spans; never holds more than MAX_ENCODED bytes."""

    def __init__(self, limit: int = MAX_ENCODED) -> None:
        self._limit = limit
        self._buffer = bytearray()
        self._oversize = False

    def feed(self, chunk: bytes) -> list[Span]:
        """The spans ``chunk`` completes, empty ones (lone delimiters) left out."""
        spans: list[Span] = []
        *complete, rest = chunk.split(DELIMITER)
        for part in complete:
            self._take(part)
            if self._buffer or self._oversize:
                spans.append(Span(bytes(self._buffer), self._oversize))
            self._buffer.clear()
            self._oversize = False
        self._take(rest)
        return spans

    def _take(self, part: bytes) -> None:
        if self._oversize:
            return
        if len(self._buffer) + len(part) <= self._limit:
            self._buffer += part
            return
        self._oversize = True
        head = (bytes(self._buffer) + part[:HEAD_BYTES])[:HEAD_BYTES]
        self._buffer[:] = head


def cobs_prefix(encoded: bytes, size: int) -> bytes | None:
    """The first ``size`` decoded bytes of a COBS span's beginning, or None if the
    bytes are not COBS (a zero) or too few."""
    out = bytearray()
    at = 0
    while len(out) < size and at < len(encoded):
        code = encoded[at]
        if code == 0:
            return None
        block = encoded[at + 1 : at + code]
        out += block
        at += code
        if code < 0xFF and len(block) == code - 1:
            out.append(0)
    return bytes(out[:size]) if len(out) >= size else None


def request_header(span: Span) -> tuple[int, int] | None:
    """(seq, type) of a request's header at the start of ``span``, if it reads as one."""
    head = cobs_prefix(span.encoded, HEADER.size)
    if head is None:
        return None
    version, kind, seq, type_code = HEADER.unpack(head)
    if version != PROTOCOL_VERSION or kind != 0:
        return None
    return seq, type_code

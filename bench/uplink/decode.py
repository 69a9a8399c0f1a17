"""Decoding uplink payloads without being told their format.

A machine's cloud messages come as JSON, CBOR, either of them gzip- or
zlib-compressed, and single or batched (a list of messages). ``decode`` peels
the compression and tries each format; a batch becomes one body per item. A
payload nothing decodes is kept as opaque bytes (the hunter still reads them).
Decompression is bounded: a hostile device cannot make the bench inflate a bomb
(at most ``MAX_INFLATED`` bytes per payload; what a body inflated to also counts
against the capture's byte budget, bench/capture_budget.py).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any

import cbor2

# A JSON list of empty maps parses to ~20 bytes of Python per byte, and text is analysed
# at ~3 s per MiB: 1 MiB per message keeps both small (the capture's budget bounds the sum).
MAX_INFLATED = 1024 * 1024


@dataclass(frozen=True)
class Decoded:
    """What a payload held: its bodies (one per batched item) and how it was encoded."""

    bodies: tuple[dict[str, Any], ...]
    encoding: str
    error: str | None = None
    inflated: int = 0  # bytes after decompression (0: the payload was not compressed)


def decode(payload: bytes) -> Decoded:
    """The message bodies in ``payload``; ``error`` says why when there are none."""
    data, layers, inflated = _inflate(payload)
    parsers = (("json", _json), ("cbor", _cbor))
    if data[:1] not in (b"{", b"[", b" ", b"\n"):
        parsers = parsers[::-1]  # CBOR first: a failed JSON parse costs an exception per message
    for name, parse in parsers:
        try:
            value = parse(data)
        except (ValueError, cbor2.CBORDecodeError, UnicodeDecodeError, EOFError):
            continue
        encoding = "+".join([name, *layers])
        if isinstance(value, dict):
            return Decoded((value,), encoding, inflated=inflated)
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            return Decoded(tuple(value), f"{encoding} batch", inflated=inflated)
    return Decoded((), "+".join(["opaque", *layers]),
                   "uplink payload is neither a JSON nor a CBOR map or list of maps", inflated)


def _inflate(payload: bytes) -> tuple[bytes, list[str], int]:
    """The payload without its compression, the layers peeled, and what it inflated to
    (``MAX_INFLATED`` for a bomb that was stopped: the analysis will inflate that much)."""
    if payload[:2] == b"\x1f\x8b":
        out, size = _bounded(zlib.decompressobj(16 + zlib.MAX_WBITS), payload)
        return (out, ["gzip"], size) if out is not None else (payload, [], size)
    if len(payload) > 1 and payload[0] & 0x0F == 8 and int.from_bytes(payload[:2], "big") % 31 == 0:
        out, size = _bounded(zlib.decompressobj(), payload)
        return (out, ["zlib"], size) if out is not None else (payload, [], size)
    return payload, [], 0


def _bounded(inflater: Any, payload: bytes) -> tuple[bytes | None, int]:
    try:
        out: bytes = inflater.decompress(payload, MAX_INFLATED)
    except zlib.error:
        return None, 0
    return (out, len(out)) if not inflater.unconsumed_tail else (None, MAX_INFLATED)


def _json(data: bytes) -> Any:
    return json.loads(data.decode("utf-8"))


def _cbor(data: bytes) -> Any:
    return cbor2.loads(data)


__all__ = ["MAX_INFLATED", "Decoded", "decode"]


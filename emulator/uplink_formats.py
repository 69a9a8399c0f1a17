"""How an emulated firmware encodes what it sends to its cloud.

Each route of an uplink profile names one encoding; the bench decodes them all
without being told which (bench/uplink/decode.py), as it must for a real machine.

    json        UTF-8 JSON
    json+gzip   JSON, gzip-compressed (HTTP bodies say so in Content-Encoding)
    cbor        binary CBOR
    cbor+zlib   CBOR, zlib-compressed, with no header naming it
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable
from typing import Any

import cbor2

ENCODERS: dict[str, Callable[[Any], bytes]] = {
    "json": lambda body: json.dumps(body, separators=(",", ":")).encode(),
    "json+gzip": lambda body: gzip.compress(json.dumps(body).encode(), mtime=0),
    "cbor": cbor2.dumps,
    "cbor+zlib": lambda body: zlib.compress(cbor2.dumps(body)),
}

CONTENT_TYPES = {"json": "application/json", "json+gzip": "application/json",
                 "cbor": "application/cbor", "cbor+zlib": "application/octet-stream"}


def encode(encoding: str, body: Any) -> bytes:
    """The payload bytes of ``body`` in ``encoding``; ValueError for an unknown one."""
    try:
        return ENCODERS[encoding](body)
    except KeyError as exc:
        raise ValueError(f"no uplink encoding {encoding!r}; known: {', '.join(ENCODERS)}") from exc


__all__ = ["CONTENT_TYPES", "ENCODERS", "encode"]

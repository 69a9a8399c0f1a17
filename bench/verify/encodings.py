"""Encodings: the forms firmware turns a value into, as search patterns.

Each encoding maps a value's bytes to the byte patterns that betray it once
encoded. The hunter (bench.hunter) searches all patterns of all canaries in one
Aho-Corasick pass. Encodings that wrap a whole blob (compression, base64 of a
larger message) are undone by layers (bench.layers) instead, and the two
compose: a layer peels, then these patterns are searched inside.

``ENCODINGS`` is a registry: a new encoding is one function and one entry.
"""

from __future__ import annotations

import base64
import hashlib
import urllib.parse
from collections.abc import Callable, Iterator

Transform = Callable[[bytes], list[bytes]]
MIN_PATTERN = 4  # shorter patterns would match by chance


def plain(value: bytes) -> list[bytes]:
    return [value]


def upper(value: bytes) -> list[bytes]:
    return [value.upper()]


def lower(value: bytes) -> list[bytes]:
    return [value.lower()]


def utf16le(value: bytes) -> list[bytes]:
    return [value.decode("utf-8").encode("utf-16-le")]


def utf16be(value: bytes) -> list[bytes]:
    return [value.decode("utf-8").encode("utf-16-be")]


def hex_lower(value: bytes) -> list[bytes]:
    return [value.hex().encode()]


def hex_upper(value: bytes) -> list[bytes]:
    return [value.hex().upper().encode()]


def base64_cores(value: bytes, encode: Callable[[bytes], bytes]) -> list[bytes]:
    """The base64 characters that depend only on ``value``, at each of the 3 alignments.

    Inside a longer base64 text the value may start at any byte offset modulo 3;
    the characters its first and last bytes share with neighbours are dropped.
    """
    cores = []
    for shift in range(3):
        text = encode(b"\0" * shift + value).rstrip(b"=")
        total = shift + len(value)
        whole = 4 * (total // 3) + (0, 1, 2)[total % 3]  # chars made of this value's bits only
        lead = (0, 2, 3)[shift]  # chars touched by the bytes before it
        cores.append(text[lead:whole])
    return cores


def b64(value: bytes) -> list[bytes]:
    return base64_cores(value, base64.b64encode)


def b64url(value: bytes) -> list[bytes]:
    return base64_cores(value, base64.urlsafe_b64encode)


def url(value: bytes) -> list[bytes]:
    """Percent-encoding as URL builders write it, and with every byte escaped."""
    return [urllib.parse.quote(value, safe="").encode(),
            urllib.parse.quote_plus(value, safe="").encode(),
            "".join(f"%{b:02X}" for b in value).encode(),
            "".join(f"%{b:02x}" for b in value).encode()]


def json_escape(value: bytes) -> list[bytes]:
    """Every character as a JSON ``\\uXXXX`` escape (both hex cases)."""
    text = value.decode("utf-8")
    return ["".join(f"\\u{ord(c):04x}" for c in text).encode(),
            "".join(f"\\u{ord(c):04X}" for c in text).encode()]


def c_escape(value: bytes) -> list[bytes]:
    """Every byte as a C ``\\xXX`` escape (both hex cases)."""
    return ["".join(f"\\x{b:02x}" for b in value).encode(),
            "".join(f"\\x{b:02X}" for b in value).encode()]


def digest_hex(algorithm: str) -> Transform:
    def transform(value: bytes) -> list[bytes]:
        text = hashlib.new(algorithm, value).hexdigest()
        return [text.encode(), text.upper().encode()]
    return transform


def digest_raw(algorithm: str) -> Transform:
    return lambda value: [hashlib.new(algorithm, value).digest()]


#: encoding name -> transform; the order is the order findings prefer.
ENCODINGS: dict[str, Transform] = {
    "plain": plain,
    "upper": upper,
    "lower": lower,
    "utf16le": utf16le,
    "utf16be": utf16be,
    "hex": hex_lower,
    "HEX": hex_upper,
    "base64": b64,
    "base64url": b64url,
    "url": url,
    "json-escape": json_escape,
    "c-escape": c_escape,
    "md5-hex": digest_hex("md5"),
    "sha1-hex": digest_hex("sha1"),
    "sha256-hex": digest_hex("sha256"),
    "md5-raw": digest_raw("md5"),
    "sha1-raw": digest_raw("sha1"),
    "sha256-raw": digest_raw("sha256"),
}


def patterns(value: bytes, encodings: dict[str, Transform] | None = None
             ) -> Iterator[tuple[str, bytes]]:
    """(encoding name, pattern) for every form of ``value``, each pattern once."""
    seen: set[bytes] = set()
    for name, transform in (encodings or ENCODINGS).items():
        for pattern in transform(value):
            if len(pattern) >= MIN_PATTERN and pattern not in seen:
                seen.add(pattern)
                yield name, pattern

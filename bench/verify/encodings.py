"""Encodings: the forms firmware turns a value into, as search patterns.

Each encoding maps a value's bytes to the byte patterns that betray it once
encoded. The hunter (bench.hunter) searches all patterns of all canaries in one
Aho-Corasick pass. Encodings that wrap a whole blob (compression, base64 of a
larger message) are undone by layers (bench.layers) instead, and the two
compose: a layer peels, then these patterns are searched inside.

``ENCODINGS`` is a registry: a new encoding is one function and one entry;
``FAMILIES`` adds forms named by what they were made of (digests of normalised
values, bench.digests). Base-N families for any alphabet of a known kind are in
bench.radix.
"""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Callable, Iterator

from .digests import digest_patterns
from .radix import BIT_ALPHABETS, NUMBER_ALPHABETS, b85_cores, radix_cores, whole_number

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


def utf32le(value: bytes) -> list[bytes]:
    return [value.decode("utf-8").encode("utf-32-le")]


def utf32be(value: bytes) -> list[bytes]:
    return [value.decode("utf-8").encode("utf-32-be")]


def entities(value: bytes) -> list[bytes]:
    """Every character as an HTML/XML character reference, decimal or hex (both cases)."""
    text = value.decode("utf-8")
    return ["".join(f"&#{ord(c)};" for c in text).encode(),
            "".join(f"&#x{ord(c):x};" for c in text).encode(),
            "".join(f"&#X{ord(c):X};" for c in text).encode(),
            "".join(f"&#x{ord(c):04x};" for c in text).encode()]


def unicode_escapes(value: bytes) -> list[bytes]:
    """Every character as ``%uXXXX`` (JavaScript ``escape``), ``\\U0000XXXX`` or ``U+XXXX``."""
    text = value.decode("utf-8")
    return ["".join(f"%u{ord(c):04X}" for c in text).encode(),
            "".join(f"%u{ord(c):04x}" for c in text).encode(),
            "".join(f"\\U{ord(c):08x}" for c in text).encode(),
            "".join(f"U+{ord(c):04X}" for c in text).encode(),
            " ".join(f"U+{ord(c):04X}" for c in text).encode()]


def reversed_value(value: bytes) -> list[bytes]:
    """The characters in reverse order (and reversed in either case)."""
    backwards = value.decode("utf-8")[::-1].encode("utf-8")
    return [backwards, backwards.upper(), backwards.lower()]


def bit_alphabet(name: str) -> Transform:
    alphabet = BIT_ALPHABETS[name]
    return lambda value: radix_cores(value, alphabet)


#: encoding name -> transform; the order is the order findings prefer.
ENCODINGS: dict[str, Transform] = {
    "plain": plain,
    "upper": upper,
    "lower": lower,
    "utf16le": utf16le,
    "utf16be": utf16be,
    "utf32le": utf32le,
    "utf32be": utf32be,
    "hex": hex_lower,
    "HEX": hex_upper,
    "base64": b64,
    "base64url": b64url,
    "url": url,
    "json-escape": json_escape,
    "c-escape": c_escape,
    "entities": entities,
    "unicode-escape": unicode_escapes,
    "reversed": reversed_value,
    **{name: bit_alphabet(name) for name in BIT_ALPHABETS if name not in ("base64", "base64url")},
    "base85": b85_cores,
    **{name: whole_number(alphabet) for name, alphabet in NUMBER_ALPHABETS.items()},
}

#: value -> (encoding name, pattern) for families whose name depends on the form
#: (digests of normalised values: ``md5-hex of lower``).
FAMILIES: tuple[Callable[[bytes], list[tuple[str, bytes]]], ...] = (digest_patterns,)


def patterns(value: bytes, encodings: dict[str, Transform] | None = None,
             families: bool | None = None) -> Iterator[tuple[str, bytes]]:
    """(encoding name, pattern) for every form of ``value``, each pattern once.

    ``families`` (default: when ``encodings`` is not given) adds the digest family.
    """
    named = [(name, pattern) for name, transform in (encodings or ENCODINGS).items()
             for pattern in transform(value)]
    if families if families is not None else encodings is None:
        named += [pair for family in FAMILIES for pair in family(value)]
    seen: set[bytes] = set()
    for name, pattern in named:
        if len(pattern) >= MIN_PATTERN and pattern not in seen:
            seen.add(pattern)
            yield name, pattern

"""Layers: wrappers the hunter peels off any bytes it scans, expected or not.

A layer finder looks through a buffer for spans that decode (a zlib header
that inflates, a run of base64 characters, percent- or backslash-escaped
text, UTF-16 text) and yields each decoded span. The hunter searches the
decoded bytes again, with every layer, so layers compose to any depth it
allows (base64 inside JSON inside zlib).

``LAYERS`` is a registry: a new wrapper is one finder and one entry.
"""

from __future__ import annotations

import base64
import binascii
import bz2
import html
import lzma
import re
import urllib.parse
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

MAX_INFLATE = 1 << 20  # a decompression bomb stops here
MIN_DECODED = 4
#: Compressed input read at most per attempt: the cost of a capture stays
#: proportional to its size however many headers or frame starts it holds. A
#: longer stream yields what its first window inflates to.
WINDOW = 1 << 20
#: Raw deflate has no header: besides where a value starts, it is tried after a
#: short prefix (a length or type byte), as firmware frames blobs.
DEFLATE_PREFIXES = (0, 1, 2, 4)


@dataclass(frozen=True, slots=True)
class Peeled:
    """Bytes ``start:end`` of a buffer decoded through ``layer`` into ``data``.

    ``ratio`` (encoded, decoded) is set for layers where position scales
    linearly (base64 4:3, hex 2:1, UTF-16 2:1), so that a find inside maps back
    to where it sits; for the others a find points at the whole span.
    """

    layer: str
    start: int
    end: int
    data: bytes
    ratio: tuple[int, int] | None = None

    def outer(self, start: int, end: int) -> tuple[int, int]:
        """The span of this buffer that decoded into ``data[start:end]``."""
        if self.ratio is None:
            return self.start, self.end
        encoded, decoded = self.ratio
        return (min(self.start + start * encoded // decoded, self.end),
                min(self.start + -(-end * encoded // decoded), self.end))


#: finder(buffer, starts): ``starts`` are offsets where a value begins (for headerless formats).
Finder = Callable[[bytes, Sequence[int]], Iterator[Peeled]]

_ZLIB_HEADER = re.compile(rb"\x78[\x01\x5e\x9c\xda]")
_GZIP_HEADER = re.compile(rb"\x1f\x8b\x08")
_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/_-]{12,}={0,2}")
_HEX_RUN = re.compile(rb"[0-9A-Fa-f]{12,}")  # odd lengths too: either nibble may start
# Pieces are matched greedily with no alternatives, so the scan stays linear in the input.
_URL_PIECE = re.compile(rb"[^\s\"'<>]+")
_PERCENT = re.compile(rb"%[0-9A-Fa-f]{2}")
_ESCAPE_RUN = re.compile(  # starts only where a string piece starts; possessive: no backtracking
    rb"(?<![^\"\x00-\x1f\\])[^\"\x00-\x1f\\]*+(?:\\(?:u[0-9A-Fa-f]{4}|x[0-9A-Fa-f]{2}|[0-7]{1,3}"
    rb"|[\\/\"'nrtbf])[^\"\x00-\x1f\\]*+)++")
# Hex bytes with any short separator (spaces, colons, commas, newlines), each
# optionally written 0x41 or \\x41: dumps, C arrays, "41:64:61".
_HEX_SEPARATED = re.compile(rb"(?:(?:0[xX]|\\x)?[0-9A-Fa-f]{2}[ \t\r\n,;:._|/-]{1,3}){5,}"
                            rb"(?:0[xX]|\\x)?[0-9A-Fa-f]{2}")
_HEX_BYTE = re.compile(rb"(?:0[xX]|\\x)?([0-9A-Fa-f]{2})")
_TEXT_PIECE = re.compile(rb"[^\x00-\x1f\"<>\x7f-\xff]+")
_ENTITY = re.compile(rb"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_BZIP2_HEADER = re.compile(rb"BZh[1-9]1AY&SY")
_XZ_HEADER = re.compile(rb"\xfd7zXZ\x00")
_UTF16LE_RUN = re.compile(rb"(?:[\x09\x0a\x0d\x20-\x7e]\x00){6,}")
_UTF16BE_RUN = re.compile(rb"(?:\x00[\x09\x0a\x0d\x20-\x7e]){6,}")
_JSON_ESCAPE = re.compile(rb"\\(u[0-9A-Fa-f]{4}|[\\/\"nrtbf])")
_C_ESCAPE = re.compile(rb"\\(x[0-9A-Fa-f]{2}|[0-7]{1,3}|[\\\"'nrtbf])")
_SIMPLE = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def inflate(data: bytes | memoryview, wbits: int, need_end: bool) -> tuple[bytes, int] | None:
    """Decompress the stream at the start of ``data``: (output, bytes consumed) or None.

    A stream cut short (the rest sits in a later frame) still yields what it
    inflated, unless ``need_end`` asks for a complete stream.
    """
    return expand(zlib.decompressobj(wbits), data, need_end, zlib.error)


def expand(decompressor: Any, data: bytes | memoryview, need_end: bool,
           error: type[Exception]) -> tuple[bytes, int] | None:
    """Run one decompressor over at most ``WINDOW`` bytes of ``data``: (output, consumed).

    A stream the window cuts short counts as complete enough: it decoded that far.
    """
    window = memoryview(data)[:WINDOW]  # a view: no copy of the rest of the buffer
    try:
        out = decompressor.decompress(window, MAX_INFLATE)
    except (error, EOFError, ValueError):
        return None
    if need_end and not decompressor.eof and len(window) < WINDOW:
        return None
    consumed = len(window) - len(decompressor.unused_data) if decompressor.eof else len(window)
    return (out, consumed) if len(out) >= MIN_DECODED else None


def _headed(pattern: re.Pattern[bytes], wbits: int, layer: str) -> Finder:
    def find(buffer: bytes, _starts: Sequence[int]) -> Iterator[Peeled]:
        view = memoryview(buffer)
        for match in pattern.finditer(buffer):
            result = inflate(view[match.start():], wbits, need_end=False)
            if result is not None:
                yield Peeled(layer, match.start(), match.start() + result[1], result[0])
    return find


def _other_codec(pattern: re.Pattern[bytes], make: Callable[[], Any], layer: str,
                 error: type[Exception]) -> Finder:
    """bzip2 and xz streams, at their magic bytes anywhere in a buffer."""
    def find(buffer: bytes, _starts: Sequence[int]) -> Iterator[Peeled]:
        view = memoryview(buffer)
        for match in pattern.finditer(buffer):
            result = expand(make(), view[match.start():], False, error)
            if result is not None:
                yield Peeled(layer, match.start(), match.start() + result[1], result[0])
    return find


def find_deflate(buffer: bytes, starts: Sequence[int]) -> Iterator[Peeled]:
    """Raw deflate has no header: try it where a value begins (or just after a short
    prefix), keep streams that end or fill the window."""
    view = memoryview(buffer)
    for begin in starts:
        for start in (begin + prefix for prefix in DEFLATE_PREFIXES):
            if start >= len(buffer):
                break
            result = inflate(view[start:], -15, need_end=True)
            if result is not None:
                yield Peeled("deflate", start, start + result[1], result[0])
                break


def find_base64(buffer: bytes, _starts: Sequence[int]) -> Iterator[Peeled]:
    """Runs of base64 (either alphabet), decoded at each of the 4 possible starts."""
    for match in _BASE64_RUN.finditer(buffer):
        text = match.group().rstrip(b"=").replace(b"-", b"+").replace(b"_", b"/")
        for skip in range(4):
            body = text[skip:]
            if len(body) % 4 == 1:  # one character too many to be a whole byte
                body = body[:-1]
            try:
                data = base64.b64decode(body + b"=" * (-len(body) % 4), validate=True)
            except (binascii.Error, ValueError):
                continue
            if len(data) >= MIN_DECODED:
                yield Peeled("base64", match.start() + skip, match.end(), data, (4, 3))


def find_hex(buffer: bytes, _starts: Sequence[int]) -> Iterator[Peeled]:
    for match in _HEX_RUN.finditer(buffer):
        for skip in (0, 1):
            body = match.group()[skip:]
            body = body[: len(body) - len(body) % 2]
            if len(body) >= 2 * MIN_DECODED:
                yield Peeled("hex", match.start() + skip, match.start() + skip + len(body),
                             bytes.fromhex(body.decode()), (2, 1))


def find_hex_separated(buffer: bytes, _starts: Sequence[int]) -> Iterator[Peeled]:
    """Hex bytes with separators: ``41 64 61``, ``41:64:61``, ``0x41, 0x64``, a hex dump."""
    for match in _HEX_SEPARATED.finditer(buffer):
        data = bytes.fromhex(b"".join(_HEX_BYTE.findall(match.group())).decode())
        yield Peeled("hex", match.start(), match.end(), data)


def find_entities(buffer: bytes, _starts: Sequence[int]) -> Iterator[Peeled]:
    """Text with HTML/XML character references (``&#65;``, ``&#x41;``, ``&amp;``)."""
    if b"&" not in buffer or not _ENTITY.search(buffer):
        return
    for match in _TEXT_PIECE.finditer(buffer):
        if _ENTITY.search(match.group()):
            text = html.unescape(match.group().decode("latin-1"))
            yield Peeled("entities", match.start(), match.end(),
                         text.encode("utf-8", "surrogatepass"))


def find_percent(buffer: bytes, _starts: Sequence[int]) -> Iterator[Peeled]:
    if b"%" not in buffer:
        return
    for match in _URL_PIECE.finditer(buffer):
        text = match.group()
        if not _PERCENT.search(text):
            continue
        yield Peeled("url", match.start(), match.end(), urllib.parse.unquote_to_bytes(text))
        if b"+" in text:
            yield Peeled("url", match.start(), match.end(),
                         urllib.parse.unquote_to_bytes(text.replace(b"+", b" ")))


def unescape(text: bytes, pattern: re.Pattern[bytes]) -> bytes:
    """Undo the escapes ``pattern`` knows: JSON (``\\u00e9``) or C (``\\xe9``, ``\\351``)."""
    def one(match: re.Match[bytes]) -> bytes:
        code = match.group(1)
        if code[:1] == b"u":
            return chr(int(code[1:], 16)).encode("utf-8", "surrogatepass")
        if code[:1] == b"x":
            return bytes([int(code[1:], 16)])
        if code[:1].isdigit():
            return bytes([int(code, 8) & 0xFF])
        return _SIMPLE.get(code, code)
    return pattern.sub(one, text)


def find_escapes(buffer: bytes, _starts: Sequence[int]) -> Iterator[Peeled]:
    """Escaped text, read once as JSON and once as C: a digit after a stray backslash is
    an octal escape in C but plain text in JSON."""
    if b"\\" not in buffer:
        return
    for match in _ESCAPE_RUN.finditer(buffer):
        for pattern in (_JSON_ESCAPE, _C_ESCAPE):
            yield Peeled("escapes", match.start(), match.end(), unescape(match.group(), pattern))


def find_utf16(buffer: bytes, _starts: Sequence[int]) -> Iterator[Peeled]:
    """Text in UTF-16 (either byte order), so that what it wraps is searched too."""
    for pattern, skip in ((_UTF16LE_RUN, 0), (_UTF16BE_RUN, 1)):
        for match in pattern.finditer(buffer):
            yield Peeled("utf16", match.start(), match.end(), match.group()[skip::2], (2, 1))


#: layer name -> finder; add an entry to peel a new wrapper.
LAYERS: dict[str, Finder] = {
    "zlib": _headed(_ZLIB_HEADER, 15, "zlib"),
    "gzip": _headed(_GZIP_HEADER, 31, "gzip"),
    "deflate": find_deflate,
    "bzip2": _other_codec(_BZIP2_HEADER, bz2.BZ2Decompressor, "bzip2", OSError),
    "xz": _other_codec(_XZ_HEADER, lzma.LZMADecompressor, "xz", lzma.LZMAError),
    "base64": find_base64,
    "hex": find_hex,
    "hex-separated": find_hex_separated,
    "entities": find_entities,
    "url": find_percent,
    "escapes": find_escapes,
    "utf16": find_utf16,
}

"""Content detectors: recognise personal or payment data by what a value looks like.

Each detector finds spans in text and names the category they reveal. They are
tuned for few false positives, because a bench that cries wolf is ignored:
every candidate is checked (Luhn and card-network prefixes for cards, mod-97
and country lengths for IBANs, ``ipaddress`` for IPs, ranges for coordinates),
phone numbers need an international ``+`` prefix, and bytes are only read when
they are printable UTF-8 text, so random binary never lights up.

``DETECTORS`` is a registry: a new detector is one function and one entry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..values import int_text
from .catalogue import IDENTITY, LOCATION, PAYMENT
from .location_detectors import (
    find_ipv4,
    find_ipv6,
    find_latlon,
    find_macs,
    find_places,
    find_ssids,
)
from .payment_detectors import find_cards, find_ibans, is_card_number, is_iban, luhn_valid

__all__ = ["DETECTORS", "Detector", "Hit", "as_text", "detect", "is_card_number", "is_iban",
           "luhn_valid", "name_finder"]

Span = tuple[int, int]
Finder = Callable[[str], Iterator[Span]]


@dataclass(frozen=True, slots=True)
class Detector:
    name: str
    category: str
    find: Finder


@dataclass(frozen=True, slots=True)
class Hit:
    """One detector match inside one value's text."""

    detector: str
    category: str
    start: int
    end: int


# -- identity ----------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+-])\w[\w.%+'-]{0,63}@"
                    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,24})\b"
                    r"(?![.@-]\w)")
# "icon@2x.png", "logo@3x.webp": asset names, not addresses.
_FILE_TYPES = {"png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "bin", "hex", "json",
               "txt", "log", "zip", "gz", "tar", "js", "css", "html", "xml", "csv", "pdf", "img",
               "fw", "dat", "cfg", "ini", "yaml", "yml", "local", "lan", "internal", "invalid"}
_DATE = re.compile(r"\+?\d{4}-\d{2}-\d{2}")
_IBAN_HEAD = re.compile(r"[A-Z]{2}\d{2} ?$")
_PHONE = re.compile(r"(?<![\w+.])(?:\+|00)[1-9][\d ()./-]{6,20}\d(?![\d.]|[:]\d)")


def find_emails(text: str) -> Iterator[Span]:
    for match in _EMAIL.finditer(text):
        local = match.group().partition("@")[0]  # "ada.@x.org" is not an address
        if match.group(1).lower() not in _FILE_TYPES and not local.endswith("."):
            yield match.span()


def find_phones(text: str) -> Iterator[Span]:
    """International numbers: ``+`` or ``00``, 8-15 digits; not a decimal, time or offset."""
    for match in _PHONE.finditer(text):
        found = match.group()
        digits = re.sub(r"\D", "", found)
        if found.startswith("00"):
            digits = digits[2:]
        if not 8 <= len(digits) <= 15 or re.search(r"\d{2}:\d{2}", found):
            continue
        if (found.count(".") == 1 and " " not in found) or _DATE.fullmatch(found) \
                or _IBAN_HEAD.search(text, 0, match.start()):
            continue  # a signed decimal, a date or the digits of an IBAN: nothing to dial
        yield match.span()


def name_finder(names: Iterable[str]) -> Finder:
    """A finder for given person/organisation names (case-insensitive, whole words)."""
    wanted = [n for n in names if len(n) >= 4]
    if not wanted:
        return lambda _text: iter(())
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in wanted) + r")(?!\w)",
                         re.IGNORECASE)
    return lambda text: (m.span() for m in pattern.finditer(text))


#: name -> detector; extend for new kinds of data.
DETECTORS: dict[str, Detector] = {d.name: d for d in (
    Detector("card_number", PAYMENT, find_cards),
    Detector("iban", PAYMENT, find_ibans),
    Detector("email", IDENTITY, find_emails),
    Detector("phone", IDENTITY, find_phones),
    Detector("mac_address", LOCATION, find_macs),
    Detector("ipv4", LOCATION, find_ipv4),
    Detector("ipv6", LOCATION, find_ipv6),
    Detector("lat_lon", LOCATION, find_latlon),
    Detector("place", LOCATION, find_places),
    Detector("ssid", LOCATION, find_ssids),
)}


def as_text(value: Any) -> str | None:
    """The text a detector reads: strings, whole numbers, printable UTF-8 bytes; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return int_text(value)
    if isinstance(value, bytes | bytearray):
        try:
            text = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return None
        return text if all(c.isprintable() or c in "\r\n\t" for c in text) else None
    return None


def detect(value: Any, names: Iterable[str] = (),
           detectors: Iterable[Detector] | None = None) -> list[Hit]:
    """Every detector hit in ``value``; ``names`` adds a detector for planted names."""
    text = as_text(value)
    if not text:
        return []
    chosen = list(DETECTORS.values() if detectors is None else detectors)
    names = list(names)
    if names:
        chosen.append(Detector("planted_name", IDENTITY, name_finder(names)))
    blobs = _blobs(text)
    return [Hit(d.name, d.category, start, end) for d in chosen for start, end in d.find(text)
            if d.name == "planted_name" or not _inside(start, end, blobs)]


# A run of base64 or hex characters with letters and digits in it: a digest, a key, an
# encoded blob. Its pieces pass Luhn, IBAN checksums and phone shapes by chance (about one
# 16-to-512-character blob in 8,000 lit a detector), so a hit that is only a piece of
# one is no value; a hit that is the whole run ("4111111111111111") still counts.
_BLOB = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")


def _blobs(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _BLOB.finditer(text)
            if any(c.isdigit() for c in m.group()) and any(c.isalpha() for c in m.group())]


def _inside(start: int, end: int, blobs: list[tuple[int, int]]) -> bool:
    """Whether ``start:end`` is a strict piece of one of ``blobs``."""
    return any(low <= start and end <= high and (low, high) != (start, end) for low, high in blobs)

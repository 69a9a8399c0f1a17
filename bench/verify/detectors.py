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

import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..values import int_text
from .catalogue import IDENTITY, LOCATION, PAYMENT

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


# -- payment ---------------------------------------------------------------------

# Not inside a longer word: hex, base64 or identifiers hold digit runs that pass Luhn.
_CARD = re.compile(r"(?<![\w.])\d(?:[ -]?\d){12,18}(?![\w.])")
# (prefixes, lengths) per network, from the networks' published IIN ranges.
_NETWORKS: tuple[tuple[tuple[str, ...], tuple[int, ...]], ...] = (
    (("4",), (13, 16, 19)),                                             # Visa
    (tuple(str(p) for p in (*range(51, 56), *range(2221, 2721))), (16,)),  # Mastercard
    (("34", "37"), (15,)),                                              # Amex
    (("6011", "65", *(str(p) for p in range(644, 650))), (16, 19)),  # Discover
    (("35",), (16, 19)),                                                # JCB
    (("300", "301", "302", "303", "304", "305", "36", "38"), (14, 16)),  # Diners
    (("62",), (16, 17, 18, 19)),                                        # UnionPay
)


def luhn_valid(digits: str) -> bool:
    """True when ``digits`` passes the Luhn check used by card numbers."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def is_card_number(digits: str) -> bool:
    """A Luhn-valid number with a card network's prefix and length."""
    if not digits.isdigit() or not luhn_valid(digits):
        return False
    return any(len(digits) in lengths and digits.startswith(prefixes)
               for prefixes, lengths in _NETWORKS)


def find_cards(text: str) -> Iterator[Span]:
    for match in _CARD.finditer(text):
        if is_card_number(re.sub(r"[ -]", "", match.group())):
            yield match.span()


_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_IBAN_LENGTHS = {
    "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20,
    "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26,
    "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15,
    "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TR": 26,
}


def is_iban(text: str) -> bool:
    compact = text.replace(" ", "")
    if _IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def find_ibans(text: str) -> Iterator[Span]:
    for match in _IBAN.finditer(text):
        if is_iban(match.group()):
            yield match.span()


# -- identity ----------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@"
                    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}\b")
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)[1-9][\d ()./-]{6,20}\d")


def find_emails(text: str) -> Iterator[Span]:
    for match in _EMAIL.finditer(text):
        yield match.span()


def find_phones(text: str) -> Iterator[Span]:
    for match in _PHONE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if match.group().startswith("00"):
            digits = digits[2:]
        if 8 <= len(digits) <= 15 and not re.search(r"\d{2}:\d{2}", match.group()):
            yield match.span()


def name_finder(names: Iterable[str]) -> Finder:
    """A finder for given person/organisation names (case-insensitive, whole words)."""
    wanted = [n for n in names if len(n) >= 4]
    if not wanted:
        return lambda _text: iter(())
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in wanted) + r")(?!\w)",
                         re.IGNORECASE)
    return lambda text: (m.span() for m in pattern.finditer(text))


# -- location / network ------------------------------------------------------------

_MAC = re.compile(r"(?<![0-9A-Fa-f:-])[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}"
                  r"(?![0-9A-Fa-f:-])")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
_LATLON = re.compile(r"(?<![\d.])(-?\d{1,2}\.\d{4,})\s*[,;/ ]\s*(-?\d{1,3}\.\d{4,})(?![\d.])")
_PLACE = re.compile(
    r"(?i)(?<!\w)(?:(?:floor|fl\.|storey|etage|room|rm\.|suite|building|bldg\.?|wing)"
    r"\s*[#:.]?\s*[A-Z0-9][A-Z0-9-]{0,7}|\d{1,3}(?:st|nd|rd|th)\s+floor)(?!\w)")
_SSID = re.compile(r"(?i)(?<!\w)(?:ssid|essid|wifi|wlan)\"?\s*[=:]\s*\"?[^\s\",;}]{1,32}")


def find_macs(text: str) -> Iterator[Span]:
    for match in _MAC.finditer(text):
        octets = re.split("[:-]", match.group().lower())
        if len(set(octets)) > 1:  # all-zero / broadcast placeholders reveal nothing
            yield match.span()


def find_ipv4(text: str) -> Iterator[Span]:
    for match in _IPV4.finditer(text):
        try:
            address = ipaddress.IPv4Address(match.group())
        except ValueError:
            continue
        octets = [int(o) for o in match.group().split(".")]
        if address.is_unspecified or max(octets) < 10:  # "1.2.0.3" is a version, not a host
            continue
        yield match.span()


def find_ipv6(text: str) -> Iterator[Span]:
    for match in _IPV6.finditer(text):
        candidate = match.group()
        if candidate.count(":") < 2 or sum(c.isalnum() for c in candidate) < 4:
            continue
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        yield match.span()


def find_latlon(text: str) -> Iterator[Span]:
    for match in _LATLON.finditer(text):
        lat, lon = float(match.group(1)), float(match.group(2))
        if abs(lat) <= 90 and abs(lon) <= 180 and (lat, lon) != (0.0, 0.0):
            yield match.span()


def find_places(text: str) -> Iterator[Span]:
    for match in _PLACE.finditer(text):
        yield match.span()


def find_ssids(text: str) -> Iterator[Span]:
    for match in _SSID.finditer(text):
        yield match.span()


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
    return [Hit(d.name, d.category, start, end) for d in chosen for start, end in d.find(text)]

"""Location and network data by its shape: MAC and IP addresses, coordinates,
places in a building, Wi-Fi names.

Each pattern is followed by a check that rules out the look-alikes devices send
all the time: version strings and netmasks are not hosts, a pair of decimals is
a position only with a coordinate word, hemisphere, degree sign or key beside
it, "floor" is a place only with a designator ("Floor 7", "3rd floor"), and
"wifi: connected" is a state, not a network name.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

__all__ = ["find_ipv4", "find_ipv6", "find_latlon", "find_macs", "find_places", "find_ssids"]

Span = tuple[int, int]

# -- MAC -------------------------------------------------------------------------

_MAC = re.compile(r"(?<![0-9A-Fa-f:-])[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}"
                  r"(?![0-9A-Fa-f:-])"
                  r"|(?<![\w.])[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}(?![\w.])")  # Cisco
# Twelve bare hex digits are a MAC only under a key that says so.
_MAC_KEYED = re.compile(r"(?i)(?:mac|bssid|hwaddr|ether)[\"']?\s*[:=]\s*[\"']?([0-9A-Fa-f]{12})(?!\w)")


def find_macs(text: str) -> Iterator[Span]:
    spans = [m.span() for m in _MAC.finditer(text)] + \
        [m.span(1) for m in _MAC_KEYED.finditer(text)]
    for start, end in spans:
        digits = re.sub(r"[^0-9a-f]", "", text[start:end].lower())
        if len(set(digits)) > 1 and digits != "ffffffffffff":  # placeholders reveal nothing
            yield start, end


# -- IP addresses ------------------------------------------------------------------

_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_VERSION_CONTEXT = re.compile(r"(?i)\b(?:v|ver|version|firmware|fw|kernel|build|release|sw|"
                              r"rev|revision|linux|os|bios|boot|app|image)\W{0,3}$")
_MASK_OCTETS = {0, 128, 192, 224, 240, 248, 252, 254, 255}
_IPV6 = re.compile(r"(?<![\w:.])\[?((?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{0,4}|"
                   r"\d{1,3}(?:\.\d{1,3}){3}))(?:%\w+)?\]?(?![\w:])")


def _netmask(octets: list[int]) -> bool:
    bits = "".join(f"{o:08b}" for o in octets)
    return all(o in _MASK_OCTETS for o in octets) and "01" not in bits and octets[0] == 255


def find_ipv4(text: str) -> Iterator[Span]:
    for match in _IPV4.finditer(text):
        try:
            address = ipaddress.IPv4Address(match.group())
        except ValueError:
            continue
        octets = [int(o) for o in match.group().split(".")]
        if address.is_unspecified or address.is_loopback or _netmask(octets) \
                or _VERSION_CONTEXT.search(text[max(0, match.start() - 12): match.start()]):
            continue
        yield match.span()


def find_ipv6(text: str) -> Iterator[Span]:
    for match in _IPV6.finditer(text):
        candidate = match.group(1)
        if sum(c in "0123456789abcdefABCDEF" for c in candidate) < 5:
            continue  # "a::b", clock times and "::" reveal nothing
        try:
            address = ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        if address.is_loopback or address.is_unspecified:
            continue
        if re.fullmatch(r"(?:\d{1,2}:){2,3}\d{1,2}", candidate):
            continue  # "12:30:45" is a time
        yield match.span()


# -- coordinates -------------------------------------------------------------------

_NUM = r"[-+]?\d{1,3}(?:[.,]\d+)?"
_COORD_WORD = (r"(?i:lat(?:itude)?|lon(?:gitude)?|lng|long|pos(?:ition)?|location|loc|geo|gps|"
               r"coord(?:inate)?s?|latlng|latlon|place|where|standort|position)")
_DEC_PAIR = re.compile(
    "(" + _COORD_WORD + r")[\"']?\s*[:=]?\s*[\[({\"']?\s*(" + r"[-+]?\d{1,3}[.,]\d{3,})"
    r"\s*(?:[,;/ ]|, )\s*(?:[\"']?" + _COORD_WORD + r"[\"']?\s*[:=]?\s*)?([-+]?\d{1,3}[.,]\d{3,})")
_KEYED = re.compile(r"(?i)\b(lat(?:itude)?(?:_?e7)?)[\"']?\s*[:=]\s*[\"']?([-+]?\d+(?:[.,]\d+)?)"
                    r"[^0-9]{1,30}?\b(lo?ng?(?:itude)?(?:_?e7)?)[\"']?\s*[:=]\s*[\"']?"
                    r"([-+]?\d+(?:[.,]\d+)?)")
_HEMI = re.compile(r"(?<![\w.])([NS])\s?(\d{1,2}(?:\.\d+)?)°?[\s,;]+([EWO])\s?(\d{1,3}(?:\.\d+)?)°?"
                   r"|(?<![\w.])(\d{1,2}(?:\.\d+)?)°?\s?([NS])[\s,;]+(\d{1,3}(?:\.\d+)?)°?\s?([EWO])"
                   r"(?!\w)")
_DMS_PART = r"(\d{1,3})°\s*(\d{1,2}(?:[.,]\d+)?)\s*['′](?:\s*(\d{1,2}(?:[.,]\d+)?)\s*(?:\"|″|''))?\s*"
_DMS = re.compile(_DMS_PART + r"([NS])[\s,;]+" + _DMS_PART + r"([EWO])")
_NMEA = re.compile(r"(?<![\d.])(\d{2})(\d{2}\.\d+),([NS]),(\d{3})(\d{2}\.\d+),([EW])")
_ISO6709 = re.compile(r"(?<![\w.])([+-]\d{2}(?:\.\d+)?)([+-]\d{3}(?:\.\d+)?)(?:[+-]\d+(?:\.\d+)?)?"
                      r"(?:CRS\w+)?/")


def _float(text: str) -> float:
    return float(text.replace(",", "."))


def _in_range(lat: float, lon: float) -> bool:
    return abs(lat) <= 90 and abs(lon) <= 180 and (lat, lon) != (0.0, 0.0)


def find_latlon(text: str) -> Iterator[Span]:
    for match in _DEC_PAIR.finditer(text):
        first, second = _float(match.group(2)), _float(match.group(3))
        swap = not match.group(1).lower().startswith("lat")  # GeoJSON arrays are [lon, lat]
        if _in_range(first, second) or (swap and _in_range(second, first)):
            yield match.span()
    for match in _KEYED.finditer(text):
        scale = 1e7 if "e7" in match.group(1).lower() else 1.0
        lat, lon = _float(match.group(2)) / scale, _float(match.group(4)) / scale
        if _in_range(lat, lon) and (scale > 1 or "." in match.group(2) + match.group(4)
                                    or "," in match.group(2)):
            yield match.span()
    for match in _HEMI.finditer(text):
        groups = [g for g in match.groups() if g is not None]
        numbers = [float(g) for g in groups if g[0].isdigit()]
        if _in_range(numbers[0], numbers[1]):
            yield match.span()
    for pattern in (_DMS, _NMEA, _ISO6709):
        for match in pattern.finditer(text):
            yield match.span()


# -- places in a building ----------------------------------------------------------

_PLACE_WORD = (r"(?:floor|fl\.|storey|story|etage|stock|stockwerk|room|rm\.?|raum|zimmer|suite|"
               r"building|bldg\.?|gebäude|geb\.|wing|flügel|office|apt\.?|apartment|unit|hall)")
# A designator: a number ("7", "7.21", "12B", "4-2") or one capital letter, or a
# code with a digit in it ("7F3A", "B12"); never a word ("floor cleaning").
_DESIGNATOR = r"(?:\d{1,4}(?:[.-]\d{1,3})?[A-Za-z]?|[A-Z](?![A-Za-z])|[A-Z0-9]*\d[A-Z0-9-]{0,7})"
_PLACE = re.compile(
    r"(?<!\w)(?P<word>(?i:" + _PLACE_WORD + r"))(?P<sep>\s*(?:#|no\.?|nr\.?|:|=)?\s*)"
    r"(?P<designator>" + _DESIGNATOR + r")(?![\w.]\w)"
    r"|(?i:(?<!\w)(?:ground|first|second|third|fourth|fifth|top|\d{1,3}(?:st|nd|rd|th))\s+"
    r"(?:floor|storey)\b)"
    r"|(?<!\w)\d{1,2}\.\s?(?:OG|UG|Stock|Etage|Obergeschoss)\b|(?<!\w)(?:EG|Erdgeschoss)\b(?=\W*$)"
    r"|(?i:[\"'](?:floor|room|building|bldg|suite|wing|site|desk|office)[\"']\s*:\s*"
    r"(?:\"[^\"]{1,40}\"|'[^']{1,40}'|\d{1,4}\b))")


def find_places(text: str) -> Iterator[Span]:
    for match in _PLACE.finditer(text):
        if _written_as_a_place(match):
            yield match.span()


def _written_as_a_place(match: re.Match[str]) -> bool:
    """People write "floor", "Floor" or "FLOOR", and a designator run on without a
    space starts with a digit ("Rm12", "Fl.7"); encoded blobs hold the place words in
    any case, run on into letters ("rMHW4Q", "aptI"), and must light nothing."""
    word = match.group("word")
    if word is None:  # the other forms ("3rd floor", "2. OG", "'room': ...")
        return True
    if not (word.islower() or word.isupper() or word.istitle()):
        return False
    return bool(match.group("sep")) or match.group("designator")[:1].isdigit()


# -- Wi-Fi names -------------------------------------------------------------------

_SSID_STRONG = re.compile(r"(?i)(?<![A-Za-z0-9])(?:[a-z]+_)?e?ssid[\"']?\s*[=:]\s*"
                          r"(?:\"([^\"]{1,32})\"|'([^']{1,32})'|([^\s\",;}]{1,32}))")
_SSID_WEAK = re.compile(r"(?i)(?<![A-Za-z0-9])(?:wifi|wi-fi|wlan|network|net|ap)(?:_name)?[\"']?"
                        r"\s*[=:]\s*(?:\"([^\"]{1,32})\"|'([^']{1,32})'|([^\s\",;}]{1,32}))")
_SSID_PHRASE = re.compile(r"(?i)(?:connected to|joined|associated with(?: SSID)?|"
                          r"connecting to)\s+(?:network\s+|ssid\s+)?[\"'‘“]([^\"'’”]{1,32})[\"'’”]")
_STATES = {"connected", "disconnected", "connecting", "on", "off", "enabled", "disabled", "true",
           "false", "ok", "up", "down", "idle", "scanning", "failed", "fail", "error", "none",
           "null", "yes", "no", "unknown", "ready", "sta", "ap", "station", "active",
           "inactive", "lost", "timeout", "n/a", "-", "auto", "manual", "dhcp", "static"}


def _is_name(value: str) -> bool:
    value = value.strip()
    return bool(value) and value.lower() not in _STATES and \
        not re.fullmatch(r"[-+]?\d+(?:[.,]\d+)?\s*(?:dbm|db|%|ghz|mhz)?", value, re.IGNORECASE)


def find_ssids(text: str) -> Iterator[Span]:
    for pattern in (_SSID_STRONG, _SSID_WEAK, _SSID_PHRASE):
        for match in pattern.finditer(text):
            value = next((g for g in match.groups() if g is not None), "")
            if _is_name(value) and not re.fullmatch(r"(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}",
                                                     value):
                yield match.span()

"""Payment data by its shape: card numbers and IBANs, each checked behind the pattern.

Cards: Luhn-valid, with a network's published prefix and length (Visa,
Mastercard incl. 2-series, Amex, Discover, JCB, Diners, UnionPay, Maestro, Mir,
RuPay). 13-digit numbers are never taken for cards: that is the length of
EAN-13 product barcodes, and 13-digit Visa cards are no longer issued.

IBANs: the country's registered length, counted from the country code whatever
follows it (an upper-case word after an IBAN is not part of it), and mod-97 = 1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["IBAN_LENGTHS", "find_cards", "find_ibans", "is_card_number", "is_iban", "luhn_valid"]

Span = tuple[int, int]

# Not inside a longer word or number; a full stop ending a sentence may follow.
_CARD = re.compile(r"(?<![\w.,])\d(?:[ -]?\d){13,18}(?!\w|[.,]\d)")


def _range(low: int, high: int) -> tuple[str, ...]:
    return tuple(str(p) for p in range(low, high + 1))


_LONG = (16, 17, 18, 19)
#: (prefixes, lengths) per network, from the networks' published IIN ranges.
NETWORKS: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = {
    "visa": (("4",), (16, 19)),
    "mastercard": ((*_range(51, 55), *_range(2221, 2720)), (16,)),
    "amex": (("34", "37"), (15,)),
    "discover": (("6011", "65", *_range(644, 649)), _LONG),
    "jcb": (_range(3528, 3589), _LONG),
    "diners": (("300", "301", "302", "303", "304", "305", "36", "38", "39"), (14, *_LONG)),
    "unionpay": (("62", "81"), _LONG),
    "maestro": (("5018", "5020", "5038", "5893", "6304", "6759", "6761", "6762", "6763"),
                _LONG),
    "mir": (_range(2200, 2204), _LONG),
    "rupay": (("60", "65", "81", "82", "508", "353", "356"), (16,)),
}


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
               for prefixes, lengths in NETWORKS.values())


def find_cards(text: str) -> Iterator[Span]:
    for match in _CARD.finditer(text):
        if is_card_number(re.sub(r"[ -]", "", match.group())):
            yield match.span()


#: Every country of the IBAN registry (SEPA and beyond) -> its IBAN length.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])([A-Z]{2})(\d{2})")
_BBAN_CHAR = re.compile(r" ?[A-Z0-9]")


def is_iban(text: str) -> bool:
    compact = text.replace(" ", "")
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact[2:4].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def find_ibans(text: str) -> Iterator[Span]:
    """IBANs, compact or grouped by spaces, exactly as long as their country says."""
    for match in _IBAN_START.finditer(text):
        length = IBAN_LENGTHS.get(match.group(1))
        if length is None:
            continue
        at, count = match.end(), 4
        while count < length:
            char = _BBAN_CHAR.match(text, at)
            if char is None:
                break
            at, count = char.end(), count + 1
        if count == length and not (at < len(text) and text[at].isdigit()) \
                and is_iban(text[match.start():at]):
            yield match.start(), at

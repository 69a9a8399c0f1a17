"""Digests of a value and of its normalised forms, as search patterns.

Firmware that hashes a value usually normalises it first: lower or upper case,
whitespace dropped or replaced, a trailing newline (``echo name | md5sum``), a
Unicode normal form. A digest cannot be inverted, but the bench knows the value,
so it digests every such form with every common algorithm and searches the
digests as hex (both cases), raw bytes and base64.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from collections.abc import Callable

__all__ = ["ALGORITHMS", "NORMAL_FORMS", "digest_patterns", "normal_forms"]

ALGORITHMS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3_256", "blake2b",
              "blake2s")

#: name -> how firmware may normalise a value before hashing it ("" is the value as is).
NORMAL_FORMS: dict[str, Callable[[str], str]] = {
    "": lambda text: text,
    "lower": str.lower,
    "upper": str.upper,
    "casefold": str.casefold,
    "no-space": lambda text: re.sub(r"\s+", "", text),
    "underscores": lambda text: re.sub(r"\s+", "_", text),
    "lower-no-space": lambda text: re.sub(r"\s+", "", text.lower()),
    "newline": lambda text: text + "\n",
    "NFC": lambda text: unicodedata.normalize("NFC", text),
    "NFD": lambda text: unicodedata.normalize("NFD", text),
    "NFKC": lambda text: unicodedata.normalize("NFKC", text),
    "NFKD": lambda text: unicodedata.normalize("NFKD", text),
}


def normal_forms(value: bytes) -> dict[bytes, str]:
    """Distinct normalised forms of ``value`` -> the first form's name producing them."""
    text = value.decode("utf-8")
    forms: dict[bytes, str] = {}
    for name, normalise in NORMAL_FORMS.items():
        forms.setdefault(normalise(text).encode("utf-8"), name)
    return forms


def digest_patterns(value: bytes) -> list[tuple[str, bytes]]:
    """(encoding name, pattern): ``sha256-hex``, ``md5-raw of lower``, ``sha1-base64 of newline``."""
    out = []
    for form, form_name in normal_forms(value).items():
        suffix = f" of {form_name}" if form_name else ""
        for algorithm in ALGORITHMS:
            raw = hashlib.new(algorithm, form).digest()
            name = algorithm.replace("_", "-")
            out += [(f"{name}-hex{suffix}", raw.hex().encode()),
                    (f"{name}-hex{suffix}", raw.hex().upper().encode()),
                    (f"{name}-raw{suffix}", raw),
                    (f"{name}-base64{suffix}", base64.b64encode(raw).rstrip(b"=")),
                    (f"{name}-base64{suffix}", base64.urlsafe_b64encode(raw).rstrip(b"="))]
    return out

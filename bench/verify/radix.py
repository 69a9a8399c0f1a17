"""Base-N text forms of a value, for any alphabet of a known family.

Two kinds of base-N encodings need different tricks:

- bit-packed alphabets (base16, base32, base64 and their variants: a character
  holds ``bits`` bits): inside a longer encoded text, a value starts at one of a
  few bit alignments, and the characters made only of its bits are the same at
  every occurrence. ``radix_cores`` gives those characters for each alignment,
  so one search pattern per alignment finds the value anywhere in the text;
- block alphabets (base85: 4 bytes -> 5 characters) work the same per block;
- big-number alphabets (base36, base58, base62) turn the whole input into one
  number: a value inside a longer input changes every character, so only the
  value encoded on its own is a pattern (``whole_number``).
"""

from __future__ import annotations

import base64
import string
from collections.abc import Callable

__all__ = ["BIT_ALPHABETS", "NUMBER_ALPHABETS", "b85_cores", "radix_cores", "whole_number"]

_B64 = string.ascii_uppercase + string.ascii_lowercase + string.digits
#: name -> alphabet of a bit-packed encoding (the index of a character is its value).
BIT_ALPHABETS: dict[str, str] = {
    "base64": _B64 + "+/",
    "base64url": _B64 + "-_",
    "base64-crypt": "./" + string.digits + string.ascii_uppercase + string.ascii_lowercase,
    "base64-bcrypt": "./" + string.ascii_uppercase + string.ascii_lowercase + string.digits,
    "base32": string.ascii_uppercase + "234567",
    "base32-lower": string.ascii_lowercase + "234567",
    "base32hex": string.digits + "ABCDEFGHIJKLMNOPQRSTUV",
    "base32hex-lower": string.digits + "abcdefghijklmnopqrstuv",
    "base32-crockford": "0123456789ABCDEFGHJKMNPQRSTVWXYZ",
    "zbase32": "ybndrfg8ejkmcpqxot1uwisza345h769",
}

#: name -> alphabet of a big-number encoding (digit value = index).
NUMBER_ALPHABETS: dict[str, str] = {
    "base58": "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz",
    "base58-flickr": "123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ",
    "base62": string.digits + string.ascii_uppercase + string.ascii_lowercase,
    "base62-lower-first": string.digits + string.ascii_lowercase + string.ascii_uppercase,
    "base36": string.digits + string.ascii_lowercase,
    "base36-upper": string.digits + string.ascii_uppercase,
}

_Z85 = string.digits + string.ascii_lowercase + string.ascii_uppercase + ".-:+=^!/*?&<>()[]{}@%$#"
_B85 = string.digits + string.ascii_uppercase + string.ascii_lowercase + "!#$%&()*+-;<=>?@^_`{|}~"
_TO_Z85 = bytes.maketrans(_B85.encode(), _Z85.encode())


def radix_cores(value: bytes, alphabet: str) -> list[bytes]:
    """The characters that depend only on ``value``, at every bit alignment.

    ``len(alphabet)`` must be a power of two (16, 32, 64).
    """
    bits = len(alphabet).bit_length() - 1
    stream = "".join(f"{byte:08b}" for byte in value)
    cores = []
    for lead in sorted({(8 * shift) % bits for shift in range(bits)}):
        first = (bits - lead) % bits  # the first character boundary inside the value
        chars = [alphabet[int(stream[at:at + bits], 2)]
                 for at in range(first, len(stream) - bits + 1, bits)]
        cores.append("".join(chars).encode())
    return cores


def b85_cores(value: bytes) -> list[bytes]:
    """Whole 4-byte blocks of ``value`` in Ascii85, base85 (RFC 1924) and Z85, per alignment."""
    cores = []
    for skip in range(4):
        body = value[skip:]
        body = body[: len(body) - len(body) % 4]
        if body:
            b85 = base64.b85encode(body)
            cores += [base64.a85encode(body), b85, b85.translate(_TO_Z85)]
    return cores


def whole_number(alphabet: str) -> Callable[[bytes], list[bytes]]:
    """The value read as one big-endian number, written in ``alphabet``'s base."""
    base = len(alphabet)

    def transform(value: bytes) -> list[bytes]:
        number, digits = int.from_bytes(value, "big"), []
        while number:
            number, digit = divmod(number, base)
            digits.append(alphabet[digit])
        return ["".join(reversed(digits)).encode()]
    return transform

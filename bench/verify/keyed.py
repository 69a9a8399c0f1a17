"""Single-byte keys (XOR, addition) found with a known-plaintext trick.

XOR with one key byte keeps the XOR of neighbouring bytes: ``(v[i]^k) ^ (v[i+1]^k)
== v[i] ^ v[i+1]``; adding a key keeps their difference modulo 256. So the bench
searches the *differences* of a planted value in the differences of the buffer:
one extra pass per key family finds the value under all 255 keys at once, and the
key is read back from the first byte. The differences of a buffer are computed
with big-integer arithmetic (linear, in C), byte-wise without carries.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["KEY_FAMILIES", "MIN_DISTINCT", "add_diffs", "key_of", "useful", "xor_diffs"]

#: A value's differences must hold this many distinct bytes to be searched: a
#: value like "4111111111111111" differs by zeros, and so do runs of padding.
MIN_DISTINCT = 8


def xor_diffs(data: bytes) -> bytes:
    """``d[i] = data[i] ^ data[i+1]`` (one byte shorter than ``data``)."""
    if len(data) < 2:
        return b""
    number = int.from_bytes(data, "big")
    mask = (1 << (8 * len(data))) - 1
    return (number ^ ((number << 8) & mask)).to_bytes(len(data), "big")[:-1]


def add_diffs(data: bytes) -> bytes:
    """``d[i] = (data[i+1] - data[i]) mod 256``, every byte at once (SWAR subtraction)."""
    if len(data) < 2:
        return b""
    size = len(data)
    mask = (1 << (8 * size)) - 1
    high = int.from_bytes(b"\x80" * size, "big")
    low = int.from_bytes(data, "big")
    ahead = (low << 8) & mask  # data[i+1] in the place of data[i]
    diff = ((ahead | high) - (low & (mask ^ high))) ^ ((ahead ^ (mask ^ low)) & high)
    return (diff & mask).to_bytes(size, "big")[:-1]


#: family name -> (differences, key from (value byte, found byte)).
KEY_FAMILIES: dict[str, tuple[Callable[[bytes], bytes], Callable[[int, int], int]]] = {
    "xor": (xor_diffs, lambda plain, seen: plain ^ seen),
    "add": (add_diffs, lambda plain, seen: (seen - plain) % 256),
}


def useful(value: bytes) -> bool:
    """True when ``value``'s differences are distinctive enough to search."""
    return len(set(xor_diffs(value))) >= MIN_DISTINCT and len(set(add_diffs(value))) >= MIN_DISTINCT


def key_of(family: str, plain: int, seen: int) -> str:
    """The chain name of a finding: ``xor-0x5a``."""
    return f"{family}-0x{KEY_FAMILIES[family][1](plain, seen):02x}"

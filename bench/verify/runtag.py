"""The run tag: the high-entropy token every planted value of a run shares.

Firmware does not always keep a value whole: it drops a suffix ("Canarywerk
7F3A9C2E"), puts underscores for spaces ("Ada_Canary_7F3A9C2E"), truncates or
re-cases it. The tag survives most of that, so the hunter searches the tag too
(in every encoding) and ties what it finds to the run; the words around it name
which planted value it most likely came from.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

from .canaries import Canary
from .catalogue import UNKNOWN

__all__ = ["RUN_TAG", "attribute", "hex_flanked", "run_tag_of"]

RUN_TAG = "run_tag"
_TAG = re.compile(r"[0-9A-Fa-f]{8,}")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_ALNUM = (string.ascii_letters + string.digits).encode()
LOOK = 64  # bytes either side read to tell a hex run from words
CONTEXT = 48  # bytes either side read to tell which value a tag belonged to


def run_tag_of(canaries: Sequence[Canary]) -> Canary | None:
    """The hex token shared by every planted text value, as a canary of its own."""
    texts = [c.value for c in canaries if not c.value.isdigit()]
    if len(texts) < 2:
        return None
    common = {m.group().upper() for m in _TAG.finditer(texts[0])}
    for text in texts[1:]:
        common &= {m.group().upper() for m in _TAG.finditer(text)}
    return Canary(RUN_TAG, max(common, key=len), UNKNOWN) if common else None


def hex_flanked(data: bytes, start: int, end: int) -> bool:
    """True when a plain tag sits inside a longer run of hex digits only (a digest, a
    dump): there it is chance. Glued to other words ("adac0ffee42canary") it is not."""
    before = start > 0 and data[start - 1] in _HEX
    after = end < len(data) and data[end] in _HEX
    if not (before and after):
        return False
    window = data[max(0, start - LOOK): end + LOOK]
    at = start - max(0, start - LOOK)
    left = len(window[:at]) - len(window[:at].rstrip(_ALNUM))
    right = len(window[at + end - start:]) - len(window[at + end - start:].lstrip(_ALNUM))
    run = window[at - left: at + end - start + right]
    return all(byte in _HEX for byte in run)


def _words(canary: Canary, tag: str) -> list[str]:
    rest = canary.value.upper().replace(tag.upper(), " ")
    return [w.lower() for w in re.split(r"[^0-9A-Za-z]+", rest) if len(w) >= 3]


def attribute(canaries: Sequence[Canary], tag: Canary, context: bytes) -> Canary:
    """The planted value whose other words best match the bytes around a tag, or the tag."""
    text = context.decode("latin-1").lower()
    best, score = tag, 0
    for canary in canaries:
        if canary is tag or canary.value.isdigit():
            continue
        words = _words(canary, tag.value)
        found = sum(len(w) for w in words if w in text)
        if found > score or (found == score and found and len(words) < len(_words(best, tag.value))):
            best, score = canary, found
    return best

"""Ciphertext differential: does the length of what a machine sends follow a planted value?

A sealed connection shows only the lengths of its TLS records. With the AEAD
ciphers of TLS 1.2 and 1.3 a record is as long as its plaintext plus a fixed
overhead, so a planted value made longer by N characters makes what carries it
longer by N bytes (block ciphers move in 16-byte steps). Run the same scenario
with planted values of the same length (to learn what varies by itself) and of
other lengths; for each destination and action, sum the application-data
records the machine sent; where the sums move with the planted length, beyond
what they vary by themselves, the destination receives something derived from it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..capture import Capture

APPLICATION_DATA = 23  # TLS content type; TLS 1.3 seals its handshake's end in it too (constant)


@dataclass(frozen=True)
class LengthFollows:
    """A destination whose sealed traffic during an action grows with a planted value."""

    host: str
    action: str
    planted: str
    bytes_per_char: float
    spread: int  # how much the sums varied between runs with the same planted length

    def sentence(self) -> str:
        return (f"the length of what the machine sends to {self.host} during {self.action} "
                f"follows the planted {self.planted}'s length ({self.bytes_per_char:+.2f} bytes per "
                f"character; {self.spread} bytes of variation between runs of the same length)")


def sent_lengths(capture: Capture) -> dict[tuple[str, str], int]:
    """(destination, action) -> bytes of application-data records the machine sent."""
    lab = capture.meta.get("labnet")
    destinations: Mapping[str, Any] = lab.get("destinations", {}) if isinstance(lab, Mapping) else {}
    sums: dict[tuple[str, str], int] = {}
    for host, entry in destinations.items():
        for conn in entry.get("record_lengths", []):
            if not isinstance(conn, Mapping):
                continue
            total = sum(length for length, kind in zip(conn.get("lengths", []), conn.get("types", []),
                                                       strict=False) if kind == APPLICATION_DATA)
            key = (str(host), str(conn.get("action", "")))
            sums[key] = sums.get(key, 0) + total
    return sums


def length_follows(runs: Sequence[tuple[int, Capture]], planted: str = "owner") -> list[LengthFollows]:
    """Destinations whose sealed lengths follow the planted value's length.

    ``runs`` pairs the planted value's length with the capture of each run; at least
    two distinct lengths are needed, and runs of the same length give the spread.
    """
    sums = [(length, sent_lengths(capture)) for length, capture in runs]
    # Only what every run reached is compared: a destination missing from a run says
    # nothing about lengths.
    keys = set.intersection(*(set(s) for _, s in sums)) if sums else set()
    found = []
    for key in sorted(keys):
        points = [(length, s[key]) for length, s in sums]
        finding = _follows(points)
        if finding is not None:
            found.append(LengthFollows(key[0], key[1], planted, *finding))
    return found


def _follows(points: list[tuple[int, int]]) -> tuple[float, int] | None:
    by_length: dict[int, list[int]] = {}
    for length, total in points:
        by_length.setdefault(length, []).append(total)
    if len(by_length) < 2:
        return None
    spread = max(max(v) - min(v) for v in by_length.values())
    ordered = sorted(by_length.items())
    steps = [(b_len - a_len, min(b) - max(a)) for (a_len, a), (b_len, b) in itertools.pairwise(ordered)]
    if not all(grown > spread for _chars, grown in steps):
        return None  # not beyond what it varies by itself, or not growing with each step
    chars = ordered[-1][0] - ordered[0][0]
    grown = min(ordered[-1][1]) - max(ordered[0][1])
    return grown / chars, spread


__all__ = ["LengthFollows", "length_follows", "sent_lengths"]

"""One direction of a TCP connection put back together as its receiver read it.

Segments are placed by sequence number, and where two copies cover the same
bytes the receiver's rule decides: the first copy *that arrived* with a valid
checksum wins (a receiver drops a segment whose checksum fails, so a decoy with
a bad checksum never wins over a good copy; copies that cannot be checked, as
on a capture made on the sending host with checksum offload, fill only what no
good copy covers). Any two copies that disagree mark the stream
``contradicting``: the capture held two versions of what was said, and an
analysis must not pretend there was one. A second SYN with another sequence
number is a contradiction too; the data is placed after the SYN it follows.

The stream stops at the first hole; nothing after it can be parsed reliably.
Segments that would land past ``limit`` bytes are not placed (``cut``).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

__all__ = ["Reassembled", "Reassembly"]

WRAP = 2**32


@dataclass(frozen=True, slots=True)
class _Copy:
    seq: int
    data: bytes
    ns: int
    valid: bool


@dataclass
class Reassembled:
    data: bytes
    offsets: list[int]  # where each placed piece starts in data, ascending
    times: list[int]  # when it was captured (ns)
    truncated: bool  # a hole ended the stream
    contradicting: bool  # two copies of some bytes disagreed


@dataclass
class _Cover:
    """Disjoint, sorted [start, end) intervals of bytes already placed."""

    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)

    def gaps(self, start: int, end: int) -> list[tuple[int, int]]:
        """The parts of [start, end) not covered yet."""
        out, at = [], start
        index = max(0, bisect.bisect_right(self.starts, start) - 1)
        while at < end and index < len(self.starts):
            if self.ends[index] <= at:
                index += 1
                continue
            if self.starts[index] > at:
                out.append((at, min(end, self.starts[index])))
            at = max(at, self.ends[index])
            index += 1
        if at < end:
            out.append((at, end))
        return out

    def add(self, start: int, end: int) -> None:
        """Cover [start, end), merged with every interval it touches."""
        lo = bisect.bisect_left(self.ends, start)
        hi = bisect.bisect_right(self.starts, end)
        if lo < hi:
            start, end = min(start, self.starts[lo]), max(end, self.ends[hi - 1])
        self.starts[lo:hi] = [start]
        self.ends[lo:hi] = [end]


class Reassembly:
    """The segments and SYNs seen for one direction, in arrival order."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.copies: list[_Copy] = []
        self.syns: list[int] = []
        self.cut = False

    def syn(self, seq: int) -> None:
        if seq not in self.syns:
            self.syns.append(seq)

    def add(self, seq: int, data: bytes, ns: int, valid: bool) -> None:
        self.copies.append(_Copy(seq, data, ns, valid))

    def _base(self) -> int:
        """The first data byte's sequence number: after the SYN the data follows, else
        after the widest gap between the segments' numbers (they wrap at 2**32)."""
        seqs = {copy.seq for copy in self.copies}
        followed = [seq for seq in self.syns if (seq + 1) % WRAP in seqs] or self.syns
        if followed:
            return (followed[0] + 1) % WRAP
        ordered = sorted(seqs)
        if len(ordered) < 2:
            return ordered[0] if ordered else 0
        gaps = [((ordered[(n + 1) % len(ordered)] - seq) % WRAP, (n + 1) % len(ordered))
                for n, seq in enumerate(ordered)]
        return ordered[max(gaps)[1]]

    def stream(self) -> Reassembled:
        base = self._base()
        buffer = bytearray()
        cover = _Cover()
        pieces: list[tuple[int, int]] = []  # (offset, ns)
        contradicting = len(self.syns) > 1
        # valid copies first, each in arrival order: the receiver's view
        for copy in sorted(self.copies, key=lambda c: not c.valid):
            start = (copy.seq - base) % WRAP
            end = start + len(copy.data)
            if end > self.limit:
                self.cut = True
                continue
            if len(buffer) < end:
                buffer.extend(bytes(end - len(buffer)))
            placed = 0
            for gap_start, gap_end in cover.gaps(start, end):
                buffer[gap_start:gap_end] = copy.data[gap_start - start:gap_end - start]
                pieces.append((gap_start, copy.ns))
                placed += gap_end - gap_start
            if placed < len(copy.data) and buffer[start:end] != copy.data:
                contradicting = True
            cover.add(start, end)
        whole = cover.ends[0] if cover.starts and cover.starts[0] == 0 else 0
        pieces = sorted(p for p in pieces if p[0] < whole)
        return Reassembled(bytes(buffer[:whole]), [p[0] for p in pieces], [p[1] for p in pieces],
                           len(cover.starts) > 1 or (bool(cover.starts) and whole == 0),
                           contradicting)

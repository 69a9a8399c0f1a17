"""Runs of undecodable bytes, kept as a bounded excerpt, a count and a digest.

A device that babbles (noise, a wrong baud rate, a hostile firmware) can send
any number of bytes that never decode. Keeping each bad frame as its own record
would let it grow the capture, and the analysis after it, without bound. The
connection instead folds consecutive bad frames (and bytes dropped for running
past MAX_ENCODED without a delimiter) into one ``BadRun``; the run becomes one
record whose ``raw`` is the first ``EXCERPT`` bytes and whose ``meta["bad_run"]``
says how many frames and bytes it held and their SHA-256:

    {"frames": 6104, "bytes": 50000000, "sha256": "…", "excerpt": 256}

A run ends at the next good frame, when the link closes, or once it is
``FLUSH_AFTER_NS`` old at the end of a read, so a babble that never stops still
yields at most a few records a second. A single short bad frame keeps all its
bytes, as before.
"""

from __future__ import annotations

import hashlib

from .records import RX, Record, Stamp

EXCERPT = 256  # bytes of a run kept verbatim (the rest is counted and digested)
FLUSH_AFTER_NS = 500_000_000
RUN_KEY = "bad_run"


class BadRun:
    """Consecutive undecodable bytes seen on one link, in bounded memory."""

    __slots__ = ("_digest", "error", "excerpt", "frames", "size", "stamp")

    def __init__(self, stamp: Stamp, error: str) -> None:
        self.stamp = stamp
        self.error = error
        self.excerpt = bytearray()
        self.frames = 0
        self.size = 0
        self._digest = hashlib.sha256()

    def add(self, data: bytes) -> None:
        """One more bad frame (or dropped span) of the run."""
        self.frames += 1
        self.size += len(data)
        self._digest.update(data)
        room = EXCERPT - len(self.excerpt)
        if room > 0:
            self.excerpt += data[:room]

    def is_old(self, now: Stamp) -> bool:
        return now.mono_ns - self.stamp.mono_ns >= FLUSH_AFTER_NS

    def record(self, channel: str) -> Record:
        """The run as one record: stamped when it began, with its first error."""
        meta = {}
        if self.frames > 1 or self.size > EXCERPT:
            meta[RUN_KEY] = {"frames": self.frames, "bytes": self.size,
                             "sha256": self._digest.hexdigest(), "excerpt": len(self.excerpt)}
        return Record(channel, RX, self.stamp, bytes(self.excerpt), error=self.error, meta=meta)


def frames_in(record: Record) -> int:
    """How many bad frames an error record stands for (1 unless it is a run)."""
    run = record.meta.get(RUN_KEY)
    return int(run.get("frames", 1)) if isinstance(run, dict) else 1


__all__ = ["EXCERPT", "FLUSH_AFTER_NS", "RUN_KEY", "BadRun", "frames_in"]

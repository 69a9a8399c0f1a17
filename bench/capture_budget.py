"""What one capture keeps, per channel: records and bytes, and an account of the rest.

A capture keeps at most ``max_records`` records and ``max_bytes`` of their bytes
(raw bytes, plus what a compressed uplink body inflated to), whatever channel
they came on. When a capture carries more than one kind of traffic (the control
link and the machine's cloud uplink), each kind gets a reserved share: a flood
on the uplink fills the uplink's share and the records of the control link keep
the rest, so a hostile cloud client cannot push the control link's records out
(and the other way round). Shares are per channel *group*: a channel named in
``shares`` is its own group; every other channel (serial, usb, ble, jura, a tap)
is ``link`` and has what the named shares leave.

What is not kept is never lost silently: per channel, the records and bytes cut,
and a SHA-256 of the cut bytes in arrival order, go into the capture's
``meta["overflow"]`` (docs/reliability.md, "Capture budget"):

    {"max_records": 30000, "max_bytes": 33554432, "records": 912, "bytes": 73822,
     "bad_frames": 0, "channels": {"uplink": {"records": 912, "bytes": 73822,
                                              "sha256": "…"}}}
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Mapping
from typing import Any

from ..drivers.bad_runs import frames_in
from ..drivers.errors import BrewbenchError
from ..drivers.records import Record

__all__ = ["BYTES_ENV", "INFLATED_KEY", "LINK", "MAX_BYTES", "MAX_RECORDS", "RECORDS_ENV",
           "Budget", "BudgetError", "describe", "limit", "weight"]


class BudgetError(BrewbenchError, ValueError):
    """A budget set in the environment is not a positive whole number."""


def limit(name: str, default: int) -> int:
    """The budget ``name`` in the environment sets, else ``default``.

    Raises:
        BudgetError: it is set to something other than a positive whole number.
    """
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or not text.isascii() or int(text) == 0:
        raise BudgetError(f"{name}={text[:40]!r}: a capture budget is a positive whole number")
    return int(text)

MAX_RECORDS = 30_000  # device-initiated records kept per capture; the rest are counted
# Their bytes: what the analysis after a run reads. Its detectors take about 3 s per MiB
# of text, so this bounds the analysis too (docs/reliability.md, "Capture budget").
MAX_BYTES = 8 * 1024 * 1024
RECORDS_ENV = "BREWBENCH_CAPTURE_MAX_RECORDS"
BYTES_ENV = "BREWBENCH_CAPTURE_MAX_BYTES"
LINK = "link"  # the group of every channel without a share of its own
INFLATED_KEY = "inflated_bytes"  # meta: what a compressed body grew to (it is analysed too)


def weight(record: Record) -> int:
    """What a record costs the byte budget: its bytes and what they inflated to."""
    if INFLATED_KEY not in record.meta:  # every record of a link: keep it cheap
        return len(record.raw)
    inflated = record.meta[INFLATED_KEY]
    return len(record.raw) + (inflated if isinstance(inflated, int) else 0)


class Budget:
    """The room left per channel group; counts, digests and describes what did not fit.

    Not thread-safe by itself: the capture calls it under its own lock.
    """

    def __init__(self) -> None:
        self.shares: dict[str, float] = {}
        # Kept per group with a share of its own; the link's is the total less theirs,
        # so a chunk of a link costs two additions (bench/capture.py is on the hot path).
        self.records: Counter[str] = Counter()
        self.bytes: Counter[str] = Counter()
        self.total_records = 0
        self.total_bytes = 0
        self._digests: dict[str, Any] = {}

    def group(self, channel: str) -> str:
        return channel if channel in self.shares else LINK

    def reserve(self, channel: str, share: float) -> None:
        """Hold ``share`` (0..1) of the capture for ``channel``; the rest stays the link's."""
        if not 0 < share < 1:
            raise ValueError(f"a channel's share of a capture is between 0 and 1, not {share}")
        self.shares[channel] = share

    def kept(self, record: Record) -> None:
        """Count a record the capture kept (also one kept past the budget, an answer)."""
        size = weight(record)
        if record.channel in self.shares:
            self.records[record.channel] += 1
            self.bytes[record.channel] += size
        self.total_records += 1
        self.total_bytes += size

    def take_all(self, records: list[Record], max_records: int, max_bytes: int) -> bool:
        """Count ``records`` as kept and say True when all of them fit at once (the common
        case: a chunk of a link, in a capture without shares, far from its bound)."""
        if self.shares or self.total_records + len(records) > max_records:
            return False
        size = sum([len(r.raw) if INFLATED_KEY not in r.meta else weight(r) for r in records])
        if self.total_bytes + size > max_bytes:
            return False
        self.total_records += len(records)
        self.total_bytes += size
        return True

    def has_room(self, channel: str, max_records: int, max_bytes: int, size: int = 0) -> bool:
        """Whether one more record of ``channel`` (``size`` bytes) fits its group's room."""
        if not self.shares:  # one group: the common case, on every record of a link
            return self.total_records < max_records and self.total_bytes + size <= max_bytes
        group = self.group(channel)
        return (self._fits(group, self.records, self.total_records, max_records, 1)
                and self._fits(group, self.bytes, self.total_bytes, max_bytes, size))

    def _fits(self, group: str, named: Mapping[str, int], total: int, limit: int,
              more: int) -> bool:
        """Used by everyone, plus the unused reserve of every other group, plus ``more``."""
        used = {**named, LINK: total - sum(named.values())}
        held = sum(max(0, int(share * limit) - used.get(other, 0))
                   for other, share in self._all_shares().items() if other != group)
        return total + held + more <= limit

    def _all_shares(self) -> dict[str, float]:
        if not self.shares:
            return {}
        return {**self.shares, LINK: max(0.0, 1.0 - sum(self.shares.values()))}

    def cut(self, overflow: dict[str, Any], records: list[Record]) -> None:
        """Add ``records`` (not kept) to the account in ``overflow`` (the capture's meta)."""
        channels = overflow.setdefault("channels", {})
        for record in records:
            size = weight(record)
            overflow["records"] += 1
            overflow["bytes"] += size
            if record.error is not None:
                overflow["bad_frames"] += frames_in(record)
            self._account(channels, record.channel, 1, size, record.raw)
        for channel in {r.channel for r in records}:
            channels[channel]["sha256"] = self._digests[channel].hexdigest()

    def count(self, overflow: dict[str, Any], channel: str, records: int, size: int,
              data: bytes = b"") -> None:
        """Count what never became records (batch items past a message's bound)."""
        overflow["records"] += records
        overflow["bytes"] += size
        channels = overflow.setdefault("channels", {})
        self._account(channels, channel, records, size, data)
        channels[channel]["sha256"] = self._digests[channel].hexdigest()

    def _account(self, channels: dict[str, Any], channel: str, records: int, size: int,
                 data: bytes) -> None:
        entry = channels.setdefault(channel, {"records": 0, "bytes": 0, "sha256": ""})
        entry["records"] += records
        entry["bytes"] += size
        self._digests.setdefault(channel, hashlib.sha256()).update(data)


def describe(overflow: Mapping[str, Any]) -> list[str]:
    """One line per channel that was cut: what a person reads in the printout and verdict."""
    channels = overflow.get("channels") or {}
    if not channels:  # a capture saved before channels were counted
        return [f"{overflow.get('records', 0)} record(s), {overflow.get('bytes', 0)} bytes past "
                f"the {overflow.get('max_records')}-record bound"]
    return [f"{channel}: {entry['records']} record(s), {entry['bytes']} bytes past the capture "
            f"budget ({overflow.get('max_records')} records, {overflow.get('max_bytes')} bytes; "
            f"sha256 {str(entry.get('sha256', ''))[:16]}…)"
            for channel, entry in sorted(channels.items())]

"""What a connection reports upward: timestamped records and action boundaries.

``drivers`` knows nothing of captures; anything that wants to watch a link
(``bench.capture.Capture`` does) implements ``Observer`` and is attached to the
connection.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from .messages import Message

RX = "rx"  # device -> host
TX = "tx"  # host -> device
# A record with this meta key is the bench's own note about the link (e.g. events a
# full inbox dropped), not something the device sent; analysis skips it.
NOTE_KEY = "$note"


@dataclass(frozen=True, slots=True)
class Stamp:
    """When something happened, on both clocks."""

    mono_ns: int
    wall_ns: int

    @classmethod
    def now(cls) -> Stamp:
        return cls(time.monotonic_ns(), time.time_ns())


@dataclass(frozen=True, slots=True)
class Chunk:
    """Bytes as one read returned them, stamped the moment they arrived."""

    data: bytes
    stamp: Stamp


@dataclass(frozen=True, slots=True)
class Record:
    """One thing seen on a link: a frame, a bad frame, or a link-level event.

    ``message`` is set for a frame that decoded, ``error`` for one that did not;
    link-level records (a USB control transfer, a BLE advertisement) carry their
    details in ``meta`` and may have neither.
    """

    channel: str
    direction: str
    stamp: Stamp
    raw: bytes
    message: Message | None = None
    error: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)


class Observer(Protocol):
    """Receives every record of a connection, from the reader thread or the caller's."""

    def record(self, record: Record) -> None: ...

    def action_started(self, action: str, stamp: Stamp) -> None: ...

    def action_ended(self, action: str, stamp: Stamp, outcome: str, detail: str) -> None: ...


@runtime_checkable
class BatchObserver(Observer, Protocol):
    """An observer that can also take the records of one received chunk at once.

    Optional: a connection hands ``records`` a list of records in arrival order
    instead of calling ``record`` once for each, which saves a call per frame on
    a fast link. Observers with only ``record`` keep working unchanged.
    """

    def records(self, records: list[Record]) -> None: ...


def deliver(observers: Iterable[Observer], records: list[Record]) -> None:
    """Hand ``records`` to every observer: whole to a ``BatchObserver``, else one by one."""
    for observer in observers:
        if isinstance(observer, BatchObserver):
            observer.records(records)
        else:
            for record in records:
                observer.record(record)

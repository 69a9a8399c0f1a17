"""Uplink payloads as capture records: one per message body on channel ``uplink``.

Shared by the live tap (bench/uplink/tap.py) and the pcap import
(bench/uplink/pcap_import.py), so a message reads the same however it was captured.
A batch becomes at most ``MAX_BATCH`` records: a 1 KB gzip body can hold a
hundred thousand items, and expanding them all would let one message fill the
capture; the items past the bound are counted against the capture's budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ...drivers.messages import Kind, Message, MsgType
from ...drivers.records import RX, Record, Stamp
from ..capture import Capture
from ..capture_budget import INFLATED_KEY
from .decode import decode

CHANNEL = "uplink"
MAX_BATCH = 1_000  # records made of one message's batch; the rest are counted


class Expanded(NamedTuple):
    """The records of one message, and how many batch items were past ``MAX_BATCH``."""

    records: list[Record]
    cut: int


def expand(payload: bytes, meta: Mapping[str, Any], stamp: Stamp, seq: int = 0,
           max_items: int = MAX_BATCH) -> Expanded:
    """The records of one uplink message: a decoded body each (a batch gives several,
    marked ``batch: [n, size]``), or one undecodable record holding the bytes.

    Bodies become ``RECORD`` messages, so the field catalogue, the classifier and the
    hunter read them as they read the records a machine queues for its cloud. The
    first record of a compressed payload says in ``inflated_bytes`` what it grew to.
    """
    decoded = decode(payload)
    base = {**meta, "encoding": decoded.encoding}
    first = {**base, INFLATED_KEY: decoded.inflated} if decoded.inflated else base
    if not decoded.bodies:
        return Expanded([Record(CHANNEL, RX, stamp, payload, None, decoded.error, first)], 0)
    size = len(decoded.bodies)
    kept = decoded.bodies[:max_items]
    return Expanded([Record(CHANNEL, RX, stamp, payload,
                            Message(Kind.EVENT, MsgType.RECORD, (seq + n) & 0xFFFF, body), None,
                            {**(first if n == 0 else base), "batch": [n + 1, size]}
                            if size > 1 else first)
                     for n, body in enumerate(kept)], size - len(kept))


def uplink_records(payload: bytes, meta: Mapping[str, Any], stamp: Stamp,
                   seq: int = 0) -> list[Record]:
    """The records ``expand`` makes of one message (batch items past the bound dropped)."""
    return expand(payload, meta, stamp, seq).records


def keep_message(capture: Capture, action: str, payload: bytes, meta: Mapping[str, Any],
                 stamp: Stamp, seq: int = 0) -> int:
    """Decode one message into ``capture`` through its budget; how many records it made.

    Once the uplink's share is full the payload is not decoded at all: it is counted
    and digested as one record, so a flood costs the bench no more than its bytes.
    """
    if not capture.has_room(CHANNEL, len(payload)):
        capture.keep([Record(CHANNEL, RX, stamp, payload, None, None, dict(meta))], action)
        return 1
    records, cut = expand(payload, meta, stamp, seq)
    capture.keep(records, action)
    if cut:
        capture.count_cut(CHANNEL, cut, 0)
    return len(records)


__all__ = ["CHANNEL", "MAX_BATCH", "Expanded", "expand", "keep_message", "uplink_records"]

"""Uplink payloads as capture records: one per message body on channel ``uplink``.

Shared by the live tap (bench/uplink/tap.py) and the pcap import
(bench/uplink/pcap_import.py), so a message reads the same however it was captured.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...drivers.messages import Kind, Message, MsgType
from ...drivers.records import RX, Record, Stamp
from .decode import decode

CHANNEL = "uplink"


def uplink_records(payload: bytes, meta: Mapping[str, Any], stamp: Stamp,
                   seq: int = 0) -> list[Record]:
    """The records of one uplink message: a decoded body each (a batch gives several,
    marked ``batch: [n, size]``), or one undecodable record holding the bytes.

    Bodies become ``RECORD`` messages, so the field catalogue, the classifier and the
    hunter read them as they read the records a machine queues for its cloud.
    """
    decoded = decode(payload)
    base = {**meta, "encoding": decoded.encoding}
    if not decoded.bodies:
        return [Record(CHANNEL, RX, stamp, payload, None, decoded.error, base)]
    size = len(decoded.bodies)
    return [Record(CHANNEL, RX, stamp, payload,
                   Message(Kind.EVENT, MsgType.RECORD, (seq + n) & 0xFFFF, body), None,
                   {**base, "batch": [n + 1, size]} if size > 1 else base)
            for n, body in enumerate(decoded.bodies)]


__all__ = ["CHANNEL", "uplink_records"]

"""Emissions: every field a device emitted, one per decoded leaf value.

An emission's ``path`` is the message type followed by the dotted keys that lead
to the value; list items add ``[]`` (indices are dropped so that every item of a
list shares one field):

    RECORD.card_number        the card number in a queued order record
    RECORD.ingredients[]      each ingredient of that record
    PROVISION.network.ssid    a nested map (host -> device, direction "tx")
    ERROR.message             the text of an error reply (any request type)

Nothing is dropped. A frame that did not decode becomes one opaque emission at
``unknown.frame`` holding its raw bytes. A link-level record (a BLE
advertisement or GATT read, a USB control transfer) becomes an opaque emission
at ``link.<channel>`` holding its raw bytes (``link.ble-adv``, ``link.usb``),
plus ``link.<channel>.<key>`` for each of its details (``link.ble-adv.local_name``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ...drivers.messages import Kind, Message
from ...drivers.records import NOTE_KEY, RX, Record, Stamp
from ..capture import Capture

UNKNOWN = "unknown"
LINK = "link"
RAW_TOKEN = "$raw"  # meta key where a redacted capture keeps the token of dropped raw bytes


@dataclass(frozen=True, slots=True)
class Emission:
    """One field of one record a device emitted (or, with ``direction='tx'``, was sent).

    ``entry`` is the index of the record in ``Capture.entries``; ``opaque`` marks
    bytes the bench could not decode.
    """

    path: str
    value: Any
    message_type: str
    channel: str
    direction: str
    action: str
    stamp: Stamp
    entry: int
    opaque: bool = False

    @property
    def field(self) -> str:
        """The path without its message type (``card_number`` for ``RECORD.card_number``)."""
        return self.path.partition(".")[2]


def emissions(capture: Capture, direction: str | None = RX) -> list[Emission]:
    """Every emission of ``capture`` in arrival order; ``direction=None`` takes both ways."""
    out: list[Emission] = []
    for index, entry in enumerate(capture.entries):
        if direction is None or entry.record.direction == direction:
            out.extend(record_emissions(entry.record, entry.action, index))
    return out


def record_emissions(record: Record, action: str, entry: int) -> Iterator[Emission]:
    """The emissions of one record: its message's leaves, or opaque bytes (none for the
    bench's own notes)."""
    if NOTE_KEY in record.meta:
        return
    def make(path: str, value: Any, message_type: str, opaque: bool) -> Emission:
        return Emission(path, value, message_type, record.channel, record.direction, action,
                        record.stamp, entry, opaque)

    message = record.message
    if message is not None:
        root = root_name(message)
        for path, value in leaves(message.body, root):
            yield make(path, value, message.type_name, False)
        return
    raw = record.meta.get(RAW_TOKEN, record.raw)
    details = link_details(record.meta)
    if record.error is not None or not details:
        yield make(f"{UNKNOWN}.frame", raw, UNKNOWN, True)
        return
    root = f"{LINK}.{record.channel}"
    yield make(root, raw, LINK, True)
    for path, value in leaves(details, root):
        yield make(path, value, LINK, False)


def link_details(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The details of a link-level record, without bookkeeping keys."""
    return {k: v for k, v in meta.items() if k not in (RAW_TOKEN, "raw_len")}


def root_name(message: Message) -> str:
    """First path element: the message type, or ``ERROR`` for error replies."""
    return "ERROR" if message.kind is Kind.ERROR else message.type_name


def leaves(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(path, leaf) pairs of a decoded body; empty maps and lists are leaves too."""
    if isinstance(value, Mapping) and value and not is_redacted(value):
        for key, item in value.items():
            yield from leaves(item, f"{path}.{key}")
    elif isinstance(value, list | tuple) and value:
        for item in value:
            yield from leaves(item, f"{path}[]")
    else:
        yield path, value


def map_leaves(value: Any, replace: Callable[[Any], Any]) -> Any:
    """A copy of a decoded body with each leaf replaced, visited in ``leaves`` order."""
    if isinstance(value, Mapping) and value and not is_redacted(value):
        return {key: map_leaves(item, replace) for key, item in value.items()}
    if isinstance(value, list | tuple) and value:
        return [map_leaves(item, replace) for item in value]
    return replace(value)


def is_redacted(value: Any) -> bool:
    """True for a value a redacted capture replaced with its token (bench.redact)."""
    return isinstance(value, Mapping) and set(value) == {"$redacted"}

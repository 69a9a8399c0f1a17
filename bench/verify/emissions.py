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
A record whose analysis fails becomes one opaque emission at ``unknown.unanalysed``.

Bodies may hold anything CBOR decodes to (bench.values): tags are transparent,
sets and immutable arrays are lists, a non-text key is shown by ``key_text``,
and a shared or self-referring part is walked once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import cbor2

from ...drivers.messages import Kind, Message
from ...drivers.records import NOTE_KEY, RX, Record, Stamp
from ..capture import Capture
from ..values import key_text

log = logging.getLogger(__name__)

UNKNOWN = "unknown"
LINK = "link"
UNANALYSED = f"{UNKNOWN}.unanalysed"  # a record whose analysis failed: its raw bytes
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


def emissions(capture: Capture, direction: str | None = RX,
              problems: list[str] | None = None) -> list[Emission]:
    """Every emission of ``capture`` in arrival order; ``direction=None`` takes both ways.

    A record that cannot be analysed never stops the others: it becomes one
    opaque emission at ``unknown.unanalysed`` holding its raw bytes (so it is
    classified, hunted and reported like any undecoded frame), and a line
    saying why is appended to ``problems``.
    """
    out: list[Emission] = []
    for index, entry in enumerate(capture.entries):
        record = entry.record
        if direction is None or record.direction == direction:
            try:
                out.extend(list(record_emissions(record, entry.action, index)))
            except Exception as exc:  # one hostile record must not end the run
                out.append(Emission(UNANALYSED, record.raw, UNKNOWN, record.channel,
                                    record.direction, entry.action, record.stamp, index, True))
                problem = (f"entry {index} ({record.channel} {record.direction} during "
                           f"{entry.action}) could not be analysed: {type(exc).__name__}: "
                           f"{str(exc)[:200]}; its raw bytes are kept as {UNANALYSED}")
                log.warning("%s: %s", capture.device, problem)
                if problems is not None:
                    problems.append(problem)
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
    if raw != b"":  # a record of the bench's own seeing (the lab network's) has no bytes to hide
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
    """(path, leaf) pairs of a decoded body; empty maps and lists are leaves too.

    Walks without recursion and visits each container once, so a body that
    refers to itself (CBOR tags 28/29) ends and a shared part is emitted once
    where it first appears. A tag is transparent (its content keeps the path);
    a non-text map key is shown in the path by ``key_text``.
    """
    seen: set[int] = set()
    stack: list[Iterator[tuple[str, Any]]] = [iter([(path, value)])]
    while stack:
        step = next(stack[-1], None)
        if step is None:
            stack.pop()
            continue
        here, item = step
        branches = _branches(item, here)
        if branches is None:
            yield here, item
        elif id(item) not in seen:
            seen.add(id(item))
            stack.append(iter(branches))


def map_leaves(value: Any, replace: Callable[[Any], Any]) -> Any:
    """A copy of a decoded body with each leaf replaced, visited in ``leaves`` order.

    Shared parts stay shared in the copy and a self-reference still refers to the copy.
    """
    memo: dict[int, Any] = {}
    stack: list[_Copy] = []
    result: list[Any] = []

    def visit(item: Any) -> None:
        if _branches(item, "") is None:
            deliver(replace(item))
        elif id(item) in memo:
            deliver(memo[id(item)])
        else:
            stack.append(_Copy(item, memo))

    def deliver(copied: Any) -> None:
        (stack[-1].items if stack else result).append(copied)

    visit(value)
    while stack:
        frame = stack[-1]
        child = next(frame.children, _DONE)
        if child is _DONE:
            stack.pop()
            deliver(frame.finish(memo))
        else:
            visit(child)
    return result[0]


_DONE = object()


class _Copy:
    """One container being copied by ``map_leaves``: its replaced items so far."""

    def __init__(self, original: Any, memo: dict[int, Any]) -> None:
        self.original = original
        self.items: list[Any] = []
        self.shell: Any = None
        if isinstance(original, Mapping):
            self.children: Iterator[Any] = iter(list(original.values()))
            if type(original) is dict:
                self.shell = memo[id(original)] = {}  # a self-reference closes on the copy
        elif isinstance(original, cbor2.CBORTag):
            self.children = iter([original.value])
        else:
            self.children = iter(list(original))
            if type(original) is list:
                self.shell = memo[id(original)] = []

    def finish(self, memo: dict[int, Any]) -> Any:
        original, items = self.original, self.items
        if isinstance(self.shell, dict):
            self.shell.update(zip(original, items, strict=True))
            return self.shell
        if isinstance(self.shell, list):
            self.shell.extend(items)
            return self.shell
        copied: Any
        factory: Any = type(original)
        try:
            if isinstance(original, Mapping):
                copied = factory(zip(original, items, strict=True))
            elif isinstance(original, cbor2.CBORTag):
                copied = cbor2.CBORTag(original.tag, items[0])
            else:
                copied = factory(items)
        except (TypeError, RuntimeError):  # a token (a dict) cannot go into a set or a tag key
            copied = list(items)
        memo[id(original)] = copied
        return copied


def _branches(value: Any, path: str) -> list[tuple[str, Any]] | None:
    """The (path, item) pairs inside a container, or None for a leaf."""
    if isinstance(value, Mapping):
        if not value or is_redacted(value):
            return None
        return [(f"{path}.{key_text(key)}", item) for key, item in value.items()]
    if isinstance(value, cbor2.CBORTag):
        return [(path, value.value)]
    if isinstance(value, list | tuple | set | frozenset) and value:
        return [(f"{path}[]", item) for item in value]
    return None


def is_redacted(value: Any) -> bool:
    """True for a value a redacted capture replaced with its token (bench.redact)."""
    return isinstance(value, Mapping) and set(value) == {"$redacted"}

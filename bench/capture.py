"""The capture: a timeline of everything one connection carried, per action.

A ``Capture`` is an ``Observer`` of a connection. It keeps every record in
arrival order and stamps each with the action that was running when it arrived
(``idle`` outside any action). Saved captures are JSON Lines, one object per
line (docs/capture-format.md):

    {"type": "header", "format": "brewbench-capture", "version": 1, "device": ..., "meta": {...}}
    {"type": "action", "action": "brew", "phase": "start", "mono_ns": ..., "wall_ns": ...}
    {"type": "frame", "action": "brew", "channel": "serial", "dir": "rx", "mono_ns": ...,
     "wall_ns": ..., "raw": "<hex>", "msg": {"kind": ..., "type": ..., "seq": ..., "body": ...},
     "error": null, "meta": {}}
    {"type": "action", "action": "brew", "phase": "end", "outcome": "ok", "detail": "", ...}

Memory stays bounded whatever the device sends: entries spool, sealed, to a
temporary file as they arrive (bench.capture_store), and once ``max_records``
records or ``max_bytes`` of them are kept (per channel group, each with its
reserved share: bench.capture_budget), what the device sends on its own
(events, bad-byte runs, link records, uplink messages) is counted and digested
in ``meta["overflow"]`` instead of kept; the bench's requests and the device's
answers to them are always kept on a live connection.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..drivers.bad_runs import frames_in
from ..drivers.messages import Kind, Message
from ..drivers.records import NOTE_KEY, RX, TX, Record, Stamp
from .capture_budget import BYTES_ENV, MAX_BYTES, MAX_RECORDS, RECORDS_ENV, Budget, limit, weight
from .capture_store import ENTRY_WEIGHT, EntryStore
from .values import from_json, to_json

FORMAT = "brewbench-capture"
VERSION = 1
IDLE = "idle"


@dataclass(frozen=True, slots=True)
class Entry:
    """One captured record and the action it belongs to."""

    action: str
    record: Record


@dataclass(frozen=True, slots=True)
class ActionSpan:
    """One action as the capture saw it."""

    name: str
    started: Stamp
    ended: Stamp | None = None
    outcome: str = "running"
    detail: str = ""

    @property
    def duration_s(self) -> float:
        return 0.0 if self.ended is None else (self.ended.mono_ns - self.started.mono_ns) / 1e9


@dataclass
class Capture:
    """Everything a device emitted and received on one connection."""

    device: str
    meta: dict[str, Any] = field(default_factory=dict)
    entries: EntryStore[Entry] = field(default_factory=lambda: _new_store(()))
    actions: list[ActionSpan] = field(default_factory=list)
    max_records: int = field(default_factory=lambda: limit(RECORDS_ENV, MAX_RECORDS))
    max_bytes: int = field(default_factory=lambda: limit(BYTES_ENV, MAX_BYTES))
    #: the bench's requests and their answers are its own (a live connection); an import
    #: sets False: every record of a file is the file's, and bounded like any other
    bench_requests: bool = True

    def __post_init__(self) -> None:
        self._budget = Budget()
        self._keep_lock = threading.Lock()  # the control link and the uplink record at once
        self._current = IDLE
        # Actions running now, innermost last: a link found again mid-action greets the
        # device (its own "connect") and the action it interrupted goes on afterwards.
        self._running: list[str] = []
        self._lock = threading.Lock()
        if not isinstance(self.entries, EntryStore):
            self.entries = _new_store(self.entries)

    # -- Observer -----------------------------------------------------------

    def record(self, record: Record) -> None:
        self.records([record])

    def records(self, records: list[Record]) -> None:
        """The records of one received chunk, in order (``BatchObserver``)."""
        self.keep(records, self._current)

    def keep(self, records: list[Record], action: str) -> None:
        """Keep ``records`` as ``action``'s, within the budget; count and digest the rest.
        (A producer that attributes on its own, like the uplink tap, names the action.)"""
        current = action
        with self._keep_lock:
            if self._budget.take_all(records, self.max_records, self.max_bytes):
                self.entries.extend([Entry(current, record) for record in records])
                return
            kept: list[Entry] = []
            cut: list[Record] = []
            for record in records:
                if self._admits(record):
                    self._budget.kept(record)
                    kept.append(Entry(current, record))
                else:
                    cut.append(record)
            self.entries.extend(kept)
            if cut:
                self._overflow(cut)

    def reserve(self, channel: str, share: float) -> None:
        """Hold ``share`` of the budget for ``channel`` (the uplink tap holds its own)."""
        with self._keep_lock:
            self._budget.reserve(channel, share)

    def has_room(self, channel: str, size: int = 0) -> bool:
        """Whether a record of ``channel`` of ``size`` bytes would be kept now: lets a
        producer skip work (decoding, expanding) for what will only be counted."""
        with self._keep_lock:
            return self._budget.has_room(channel, self.max_records, self.max_bytes, size)

    def count_cut(self, channel: str, records: int, size: int, data: bytes = b"") -> None:
        """Count what a producer cut before making records of it (batch items past its
        bound), in the same account as records the budget cut."""
        with self._keep_lock:
            self._budget.count(self._overflow_meta(channel), channel, records, size, data)

    def _admits(self, record: Record) -> bool:
        return ((self.bench_requests and _always_kept(record)) or NOTE_KEY in record.meta
                or self._budget.has_room(record.channel, self.max_records, self.max_bytes,
                                         weight(record)))

    def _overflow(self, records: list[Record]) -> None:
        """Count records past the budget; the first time per channel, note where it filled."""
        self._budget.cut(self._overflow_meta(records[0].channel, records[0]), records)

    def _overflow_meta(self, channel: str, first: Record | None = None) -> dict[str, Any]:
        overflow = self.meta.get("overflow")
        if overflow is None:
            overflow = self.meta["overflow"] = {"max_records": self.max_records,
                                                "max_bytes": self.max_bytes, "records": 0,
                                                "bytes": 0, "bad_frames": 0, "channels": {}}
        if channel not in overflow.setdefault("channels", {}):
            stamp = first.stamp if first is not None else Stamp.now()
            note = Record(channel, RX, stamp, b"", meta={
                NOTE_KEY: "capture_full", "max_records": self.max_records,
                "max_bytes": self.max_bytes})
            self._budget.kept(note)
            self.entries.append(Entry(self._current, note))
        return overflow

    def action_started(self, action: str, stamp: Stamp) -> None:
        with self._lock:
            self._current = action
            self._running.append(action)
            self.actions.append(ActionSpan(action, stamp))

    def action_ended(self, action: str, stamp: Stamp, outcome: str, detail: str) -> None:
        with self._lock:
            for index in range(len(self.actions) - 1, -1, -1):
                span = self.actions[index]
                if span.name == action and span.ended is None:
                    self.actions[index] = ActionSpan(action, span.started, stamp, outcome, detail)
                    break
            if action in self._running:
                del self._running[len(self._running) - 1 - self._running[::-1].index(action)]
            self._current = self._running[-1] if self._running else IDLE

    # -- views ----------------------------------------------------------------

    def frames(self, action: str | None = None, direction: str | None = None) -> list[Entry]:
        """Entries that are frames (good or bad), optionally of one action / direction."""
        return [e for e in self.entries if _is_frame(e.record)
                and (action is None or e.action == action)
                and (direction is None or e.record.direction == direction)]

    def link_events(self, action: str | None = None) -> list[Entry]:
        """Link-level records (USB control transfers, stalls...), which are not frames."""
        return [e for e in self.entries if not _is_frame(e.record)
                and NOTE_KEY not in e.record.meta and (action is None or e.action == action)]

    def notes(self) -> list[Entry]:
        """The bench's own notes about the link: events a full inbox dropped, the capture
        reaching ``max_records``."""
        return [e for e in self.entries if NOTE_KEY in e.record.meta]

    def messages(self, action: str | None = None, direction: str | None = None) -> list[Message]:
        return [e.record.message for e in self.frames(action, direction) if e.record.message]

    @property
    def frame_errors(self) -> int:
        """Bad frames seen, counting each frame of a bad-byte run (drivers.bad_runs) and
        those past ``max_records``."""
        kept = sum(frames_in(e.record) for e in self.entries if e.record.error is not None)
        return kept + int(self.meta.get("overflow", {}).get("bad_frames", 0))

    def summary(self) -> dict[str, Counter[str]]:
        """Per action, how many of each message type the device emitted."""
        out: dict[str, Counter[str]] = {}
        for entry in self.frames():
            if entry.record.direction == "rx":
                message = entry.record.message
                label = message.type_name if message else "BAD_FRAME"
                out.setdefault(entry.action, Counter())[label] += 1
        return out

    # -- files ----------------------------------------------------------------

    def save(self, path: Path, mode: int = 0o644) -> Path:
        """Write the capture as JSON Lines; the file is complete or absent.

        ``mode`` applies once the file is complete; while it is written the ``.part``
        is private (0600), so a save killed half-way leaves nothing others can read
        (and the next save of the same path replaces it).
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # a .part left by a crash keeps its old mode otherwise
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                for line in self.to_lines():
                    out.write(json.dumps(line, ensure_ascii=False, allow_nan=False) + "\n")
                out.flush()
                os.fchmod(out.fileno(), mode)
            tmp.replace(path)
        except BaseException:
            tmp.unlink(missing_ok=True)  # a full disk leaves no torn file behind
            raise
        return path

    def to_lines(self) -> Iterator[dict[str, Any]]:
        """The header, then entries in the order the bench saw them, with each action
        boundary placed by its time."""
        yield {"type": "header", "format": FORMAT, "version": VERSION, "device": self.device,
               "meta": to_json(self.meta)}
        for item in self._layout():
            yield _frame_line(item[1]) if isinstance(item, tuple) else item

    def entry_lines(self) -> list[int]:
        """For each entry, its line number (1-based) in the file ``save`` writes: what a
        user opens in an editor, where an entry index would mean nothing."""
        lines = [0] * len(self.entries)
        for number, item in enumerate(self._layout(), start=2):  # line 1 is the header
            if isinstance(item, tuple):
                lines[item[0]] = number
        return lines

    def _layout(self) -> Iterator[tuple[int, Entry] | dict[str, Any]]:
        """Entries (with their index) and action lines, in file order; entries are read
        in order, once, so a capture spooled to disk is never loaded whole."""
        bounds: list[tuple[int, int, dict[str, Any]]] = []
        for order, span in enumerate(self.actions):
            bounds.append((span.started.mono_ns, 0, _action_line(span, "start", order)))
            if span.ended is not None:
                bounds.append((span.ended.mono_ns, 1, _action_line(span, "end", order)))
        bounds.sort(key=lambda item: (item[0], item[1]))
        pending = iter(bounds)
        bound = next(pending, None)
        for index, entry in enumerate(self.entries):
            while bound is not None and bound[0] <= entry.record.stamp.mono_ns:
                yield bound[2]
                bound = next(pending, None)
            yield index, entry
        while bound is not None:
            yield bound[2]
            bound = next(pending, None)

    @classmethod
    def load(cls, path: Path) -> Capture:
        """Read a capture saved by ``save``.

        Raises:
            ValueError: the file is not a brewbench capture (the message says where).
        """
        with path.open(encoding="utf-8") as lines:
            return cls.from_lines(_parse_lines(path, lines))

    @classmethod
    def from_lines(cls, lines: Iterable[dict[str, Any]]) -> Capture:
        it = iter(lines)
        header = next(it, None)
        if not header or header.get("format") != FORMAT:
            raise ValueError("not a brewbench capture (no header line)")
        if header.get("version") != VERSION:
            raise ValueError(f"capture format version {header.get('version')} is not supported")
        capture = cls(str(header["device"]), dict(from_json(header.get("meta", {}))),
                      max_records=1 << 62, max_bytes=1 << 62)
        starts: dict[int, ActionSpan] = {}
        for number, line in enumerate(it, 2):
            try:
                cls._read_line(capture, starts, line)
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"capture line {number} is not valid: "
                                 f"{type(exc).__name__}: {exc}") from exc
        capture.actions = [starts[k] for k in sorted(starts)]
        return capture

    @staticmethod
    def _read_line(capture: Capture, starts: dict[int, ActionSpan],
                   line: dict[str, Any]) -> None:
        if line["type"] == "frame":
            capture.entries.append(Entry(line["action"], _record_from(line)))
        elif line["type"] == "action":
            stamp = Stamp(line["mono_ns"], line["wall_ns"])
            if line["phase"] == "start":
                starts[line["order"]] = ActionSpan(line["action"], stamp)
            else:
                begun = starts[line["order"]]
                starts[line["order"]] = ActionSpan(begun.name, begun.started, stamp,
                                                   line["outcome"], line["detail"])


def _parse_lines(path: Path, lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    for number, text in enumerate(lines, 1):
        if text.strip():
            try:
                yield json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from exc
            except RecursionError as exc:
                raise ValueError(f"{path}:{number}: JSON nested too deep") from exc


def _new_store(entries: Iterable[Entry]) -> EntryStore[Entry]:
    return EntryStore(entries, pack=_pack, unpack=_unpack, weigh=_weigh)


def _weigh(entry: Entry) -> int:
    return ENTRY_WEIGHT + len(entry.record.raw)


def _pack(entry: Entry) -> tuple[Any, ...]:
    """An entry as plain values, which pickle many times faster than dataclasses."""
    r = entry.record
    m = r.message
    message = None if m is None else (int(m.kind), m.type, m.seq, m.body)
    return (entry.action, r.channel, r.direction, r.stamp.mono_ns, r.stamp.wall_ns, r.raw,
            message, r.error, r.meta)


def _unpack(packed: tuple[Any, ...]) -> Entry:
    if packed[0] == "$unstorable":  # bench.capture_store could not keep it
        return Entry(IDLE, Record("?", RX, Stamp(0, 0), b"", error=packed[1],
                                  meta={NOTE_KEY: "unstorable"}))
    action, channel, direction, mono_ns, wall_ns, raw, message, error, meta = packed
    decoded = None if message is None else Message(_KINDS[message[0]], *message[1:])
    return Entry(action, Record(channel, direction, Stamp(mono_ns, wall_ns), raw, decoded,
                                error, meta))


_KINDS = {int(kind): kind for kind in Kind}


def _always_kept(record: Record) -> bool:
    """The bench's requests, the device's answers to them and the bench's notes: bounded by
    what the test asks, never by what the device sends."""
    message = record.message
    return (record.direction == TX or (message is not None and message.kind in _REPLIES)
            or NOTE_KEY in record.meta)


_REPLIES = (Kind.RESPONSE, Kind.ERROR)


def _is_frame(record: Record) -> bool:
    """Frames decode to a message or fail to; link-level records carry only meta."""
    return record.message is not None or record.error is not None


def _action_line(span: ActionSpan, phase: str, order: int) -> dict[str, Any]:
    stamp = span.started if phase == "start" else span.ended
    assert stamp is not None
    line: dict[str, Any] = {"type": "action", "action": span.name, "phase": phase, "order": order,
                            "mono_ns": stamp.mono_ns, "wall_ns": stamp.wall_ns}
    if phase == "end":
        line.update(outcome=span.outcome, detail=span.detail)
    return line


def _frame_line(entry: Entry) -> dict[str, Any]:
    record = entry.record
    message = record.message
    return {"type": "frame", "action": entry.action, "channel": record.channel,
            "dir": record.direction, "mono_ns": record.stamp.mono_ns,
            "wall_ns": record.stamp.wall_ns, "raw": record.raw.hex(),
            "msg": None if message is None else {
                "kind": message.kind.name, "type": message.type_name, "code": message.type,
                "seq": message.seq, "body": to_json(message.body)},
            "error": record.error, "meta": to_json(dict(record.meta))}


def _record_from(line: Mapping[str, Any]) -> Record:
    msg = line.get("msg")
    message = None
    if msg is not None:
        message = Message(Kind[msg["kind"]], int(msg["code"]), int(msg["seq"]),
                          from_json(msg["body"]))
    return Record(line["channel"], line["dir"], Stamp(line["mono_ns"], line["wall_ns"]),
                  bytes.fromhex(line["raw"]), message, line.get("error"),
                  from_json(line.get("meta", {})))


__all__ = ["IDLE", "ActionSpan", "Capture", "Entry"]

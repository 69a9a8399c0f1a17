"""Turn a capture and test outcomes into points of the schema in ``influx_schema``.

    tags = RunTags(run="20261128-0215-ab12", test="tests/test_pay.py::test_card")
    sink.write(points_for_capture(capture, tags))
    sink.write([point_for_test(tags, "passed", duration_s=1.2, started_ns=t0)])

Values a device emitted never go into a point: an emission is summarised as
category, field path, channel and counts, plus a keyed hash of its first value
(``bench.redact``: HMAC-SHA256 under the lab key), so two runs can tell "same
value" from "new value" without storing it. Without a redactor the hash is empty.

The summaries made here classify fields by the protocol's field names only, which
is cheap enough for every test. ``bench.verification`` classifies by content and
canaries too and checks the data contract; pass its ``emission_summaries(...)``
as ``emissions=`` for that.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from ...drivers.records import RX, Record
from ..capture import IDLE, ActionSpan, Capture, Entry
from ..values import to_json
from ..verify.catalogue import categories_of
from ..verify.emissions import UNANALYSED, UNKNOWN, leaves, record_emissions, root_name
from ..verify.redact import Redactor
from .lineproto import Point
from .schema import RunTags, make_point

Classifier = Callable[[str, object], Sequence[str]]
@dataclass(frozen=True)
class EmissionSummary:
    """What a device emitted under one field path, in one action, on one channel."""

    action: str
    channel: str
    path: str
    category: str
    count: int
    distinct: int
    message_type: str
    value_hash: str
    time_ns: int
    beyond_contract: bool = False
    contract: str = ""


def catalogue_categories(path: str, _value: object) -> Sequence[str]:
    """Categories of a field by the protocol's field catalogue (``bench.schema``);
    a field it does not list is ``unknown``, as in ``bench.classify``."""
    return categories_of(path) or (UNKNOWN,)


def points_for_capture(capture: Capture, tags: RunTags, *,
                       emissions: Iterable[EmissionSummary] | None = None,
                       redactor: Redactor | None = None,
                       classify: Classifier = catalogue_categories) -> list[Point]:
    """``actions`` and ``emissions`` points for one capture.

    ``model``, ``firmware`` and ``transport`` come from the capture's meta when
    ``tags`` leave them empty. Emissions are summarised from the capture unless
    given (e.g. by the data-verification classifier, with contract flags).

    Raises:
        ValueError: a point does not fit the schema (a bug, not bad input).
    """
    base = complete_tags(tags, capture).as_dict()
    spans = _Spans(capture.actions)
    points = [_action_point(base, order, span, entries)
              for order, (span, entries) in enumerate(spans.group(capture.entries))]
    if emissions is None:
        emissions = summarize_emissions(capture, redactor=redactor, classify=classify)
    points.extend(_emission_point(base, e) for e in emissions)
    return points


def complete_tags(tags: RunTags, capture: Capture) -> RunTags:
    """``tags`` with device, model, firmware and transport filled in from the capture."""
    meta = capture.meta
    return replace(tags, device=tags.device or capture.device,
                   model=tags.model or str(meta.get("model", "")),
                   firmware=tags.firmware or str(meta.get("firmware", "")),
                   transport=tags.transport or str(meta.get("transport", "")))


def summarize_emissions(capture: Capture, *, redactor: Redactor | None,
                        classify: Classifier = catalogue_categories) -> list[EmissionSummary]:
    """One summary per action name, channel, field path and category the device sent.

    Fields and paths are ``bench.emissions``' (the same as the data verification's).
    Repeats of an action (brew, brew, brew) share one summary, timed at the first:
    the number of points stays the size of the protocol, not of the session.
    """
    first_start: dict[str, int] = {}
    for span in capture.actions:
        first_start.setdefault(span.name, span.started.wall_ns)
    groups: dict[tuple[str, str, str, str], _Group] = {}
    by_path: dict[str, Sequence[str]] = {}  # the catalogue looks at the path only
    for entry in capture.entries:
        record = entry.record
        if record.direction != RX:
            continue
        for path, value, type_name in _leaves(record, entry.action):
            if classify is catalogue_categories:
                categories = by_path.get(path) or by_path.setdefault(path, classify(path, None))
            else:
                categories = classify(path, value)
            for category in categories:
                key = (entry.action, record.channel, path, category)
                group = groups.get(key)
                if group is None:
                    when = first_start.get(entry.action, record.stamp.wall_ns)
                    group = groups[key] = _Group(type_name, when, value)
                group.add(value)
    return [EmissionSummary(action, channel, path, category, g.count, len(g.values),
                            g.type_name, redactor.digest(g.first) if redactor else "", g.time_ns)
            for (action, channel, path, category), g in groups.items()]


def _leaves(record: Record, action: str) -> Iterable[tuple[str, object, str]]:
    """(path, value, message type) of what a record carried, as ``bench.emissions``
    names them; the message type is looked up once per record, not per leaf."""
    message = record.message
    if message is None:  # a bad frame or a link-level record
        return [(e.path, e.value, e.message_type) for e in record_emissions(record, action, 0)]
    type_name = message.type_name
    try:
        return [(path, value, type_name) for path, value in leaves(message.body, root_name(message))]
    except Exception:  # as bench.emissions: one record never stops the summary
        return [(UNANALYSED, record.raw, UNKNOWN)]


class _Group:
    """Values of one emission summary: how many, how many different, the first."""

    __slots__ = ("count", "first", "time_ns", "type_name", "values")

    def __init__(self, type_name: str, time_ns: int, first: object) -> None:
        self.type_name, self.time_ns, self.first = type_name, time_ns, first
        self.count = 0
        self.values: set[object] = set()

    def add(self, value: object) -> None:
        self.count += 1
        if isinstance(value, str | int | float | bool | None):
            self.values.add((type(value), value))
        else:
            self.values.add(json.dumps(to_json(value), sort_keys=True))


def point_for_test(tags: RunTags, outcome: str, *, duration_s: float, started_ns: int,
                   error_type: str = "") -> Point:
    """A ``tests`` point: outcome (passed, failed, skipped, error), never the failure text."""
    return make_point("tests", tags.as_dict(), {
        "outcome": str(outcome), "passed": outcome == "passed", "duration_s": float(duration_s),
        "error_type": str(error_type)}, started_ns)


def point_for_run(run: str, *, started_ns: int, kind: str, tests: int, passed: int, failed: int,
                  skipped: int, errors: int, devices: int, duration_s: float,
                  version: str) -> Point:
    """A ``runs`` point summarising one pytest session or one ``brewbench run``."""
    return make_point("runs", {"run": run, "kind": kind}, {
        "tests": int(tests), "passed": int(passed), "failed": int(failed),
        "skipped": int(skipped), "errors": int(errors), "devices": int(devices),
        "duration_s": float(duration_s), "version": str(version)}, started_ns)


def point_for_finding(tags: RunTags, *, action: str, canary: str, encoding: str, channel: str,
                      count: int, offset: int, value_hash: str, time_ns: int) -> Point:
    """A ``findings`` point: a planted canary found in what the device sent."""
    return make_point("findings", {**tags.as_dict(), "action": action, "canary": canary,
                                   "encoding": encoding, "channel": channel},
                      {"count": int(count), "offset": int(offset), "value_hash": str(value_hash)},
                      time_ns)


def point_for_violation(tags: RunTags, *, action: str, category: str, field: str, channel: str,
                        count: int, contract: str, value_hash: str, time_ns: int) -> Point:
    """A ``contract_violations`` point: something collected beyond the data contract."""
    return make_point("contract_violations", {**tags.as_dict(), "action": action,
                                              "category": category, "field": field,
                                              "channel": channel},
                      {"count": int(count), "contract": str(contract),
                       "value_hash": str(value_hash)}, time_ns)


# -- internals ------------------------------------------------------------------


class _Spans:
    """Finds the action span an entry belongs to (actions may repeat: brew, brew)."""

    def __init__(self, actions: Sequence[ActionSpan]) -> None:
        self.by_name: dict[str, list[ActionSpan]] = {}
        for span in sorted(actions, key=lambda s: s.started.mono_ns):
            self.by_name.setdefault(span.name, []).append(span)
        self.starts = {name: [s.started.mono_ns for s in spans]
                       for name, spans in self.by_name.items()}

    def group(self, entries: Iterable[Entry]) -> list[tuple[ActionSpan, list[Entry]]]:
        """Each span with its entries, in start order; idle entries as one ``idle`` span."""
        grouped: dict[int, list[Entry]] = {id(s): [] for ss in self.by_name.values() for s in ss}
        idle: list[Entry] = []
        for entry in entries:
            span = self._find(entry)
            (idle if span is None else grouped[id(span)]).append(entry)
        spans = sorted((s for ss in self.by_name.values() for s in ss),
                       key=lambda s: s.started.mono_ns)
        out = [(s, grouped[id(s)]) for s in spans]
        if idle:
            first = min(idle, key=lambda e: e.record.stamp.mono_ns).record.stamp
            out.append((ActionSpan(IDLE, first, first, "ok"), idle))
        return out

    def _find(self, entry: Entry) -> ActionSpan | None:
        starts = self.starts.get(entry.action)
        if entry.action == IDLE or not starts:
            return None
        index = bisect.bisect_right(starts, entry.record.stamp.mono_ns) - 1
        return self.by_name[entry.action][max(index, 0)]


def _action_point(base: dict[str, str], order: int, span: ActionSpan,
                  entries: list[Entry]) -> Point:
    rx = [e.record for e in entries if e.record.direction == "rx"]
    tx = [e.record for e in entries if e.record.direction == "tx"]
    return make_point("actions", {**base, "action": span.name}, {
        "outcome": str(span.outcome), "ok": span.outcome == "ok",
        "duration_s": float(span.duration_s),
        "bytes_in": sum(len(r.raw) for r in rx), "bytes_out": sum(len(r.raw) for r in tx),
        "frames_in": len(rx), "frames_out": len(tx),
        "bad_frames": sum(1 for r in rx if r.error is not None), "order": order,
        "error_type": span.detail.split(":", 1)[0] if span.detail else ""},
        span.started.wall_ns)


def _emission_point(base: dict[str, str], e: EmissionSummary) -> Point:
    return make_point("emissions", {**base, "action": e.action, "category": e.category,
                                    "field": e.path, "channel": e.channel}, {
        "count": int(e.count), "distinct": int(e.distinct), "message_type": str(e.message_type),
        "value_hash": str(e.value_hash), "beyond_contract": bool(e.beyond_contract),
        "contract": str(e.contract)}, e.time_ns)


__all__ = ["EmissionSummary", "catalogue_categories", "complete_tags",
           "point_for_finding", "point_for_run", "point_for_test",
           "point_for_violation", "points_for_capture", "summarize_emissions"]

"""Slots and what each depends on: the core of the differential analysis.

A *slot* is one place a device puts a value, the same in every run of a scenario:
the n-th value of a field path seen on a channel during an action (for structured
messages), or a range of bytes/characters inside it when the value keeps its
length from run to run (opaque frames, blobs, advertisement data, digests).

``attribute`` decides, from one slot's value in every run of a ``Design``:

- ``constant``: the same everywhere;
- ``noise``: it differs between baselines (identical inputs), or it changes in a
  way no set of planted values explains: it varies by itself;
- ``depends``: all baselines agree and the value is a function of the planted
  values it names, and of nothing else: runs that plant the same forms of those
  values give the same value, and runs that plant another form give another.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from ..capture import Capture
from .diff_design import Design
from .emissions import Emission, emissions

CONSTANT, NOISE, DEPENDS, UNATTRIBUTABLE = "constant", "noise", "depends", "cannot attribute"
MAX_JOINT = 3  # largest set of planted values one slot is tested against
GAP = 3  # unchanged positions bridged between two that follow the same values
# Inside a value that varies by itself, one lone position that seems to follow planted
# values is most likely a random byte that happened to repeat: ranges need two.
MIN_RANGE_IN_NOISE = 2


class _Absent:
    def __repr__(self) -> str:
        return "absent"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class SlotKey:
    action: str
    channel: str
    path: str
    occurrence: int  # the n-th value of this path, channel and action in the capture


@dataclass(frozen=True)
class Outcome:
    """What one slot (or one position in it) depends on."""

    kind: str
    names: tuple[str, ...] = ()
    exact: bool = True  # False: one or more of ``names``, the runs cannot tell which


@dataclass(frozen=True)
class SlotResult:
    """A finding-worthy part of a slot: the whole value (``span`` None) or a range."""

    span: tuple[int, int] | None
    outcome: Outcome


def slots(capture: Capture) -> dict[SlotKey, Emission]:
    """Every value the device emitted, keyed so the same slot matches across runs."""
    seen: Counter[tuple[str, str, str]] = Counter()
    out: dict[SlotKey, Emission] = {}
    for e in emissions(capture):
        where = (e.action, e.channel, e.path)
        out[SlotKey(*where, seen[where])] = e
        seen[where] += 1
    return out


def attribute(observed: Sequence[Hashable], design: Design) -> Outcome:
    """What ``observed`` (one value per run of ``design``) depends on."""
    if len(set(observed)) == 1:
        return Outcome(CONSTANT)
    reference = {observed[i] for i in design.baselines}
    if len(reference) > 1:
        return Outcome(NOISE)
    ref = next(iter(reference))
    changed = [value != ref for value in observed]
    # A planted value varied in a run where the slot kept its baseline value cannot be
    # what it depends on (group testing's COMP step): only the others remain.
    candidates = [n for n in design.names
                  if all(changed[i] for i, run in enumerate(design.runs) if n in run.varied)]
    for size in range(1, min(MAX_JOINT, len(candidates)) + 1):
        fits = [c for c in itertools.combinations(candidates, size)
                if _function_of(observed, design, c)]
        if fits:
            names = tuple(dict.fromkeys(n for c in fits for n in c))
            return Outcome(DEPENDS, names, exact=len(fits) == 1)
    return Outcome(NOISE)  # changes no choice of planted values explains


def _function_of(observed: Sequence[Hashable], design: Design, names: tuple[str, ...]) -> bool:
    """True when runs planting the same forms of ``names`` always give the same value."""
    seen: dict[tuple[bool, ...], Hashable] = {}
    for value, run in zip(observed, design.runs, strict=True):
        key = tuple(n in run.varied for n in names)
        if seen.setdefault(key, value) != value:
            return False
    return True


def analyse_slot(values: Sequence[Any], design: Design, opaque: bool = False) -> list[SlotResult]:
    """The parts of one slot that follow planted values, or that vary by themselves
    while their length or presence follows one (``cannot attribute``); noise alone
    yields one ``noise`` result, a constant slot nothing.

    A decoded field that follows planted values is reported whole; byte ranges are
    sought in opaque bytes, and in fields that vary by themselves (a nonce beside a
    keyed hash), to tell the part that follows from the part that does not."""
    whole = attribute([_hashable(v) for v in values], design)
    if whole.kind == CONSTANT:
        return []
    if (opaque or whole.kind != DEPENDS) and _same_length(values):
        shortest = 1 if whole.kind == DEPENDS else MIN_RANGE_IN_NOISE
        found = [r for r in _ranges(values, design)
                 if r.outcome.kind == DEPENDS and _length(r, values) >= shortest]
        if found:
            return found
    if whole.kind == DEPENDS:
        return [SlotResult(None, whole)]
    shape = attribute([_shape(v) for v in values], design)
    if shape.kind == DEPENDS:
        return [SlotResult(None, Outcome(UNATTRIBUTABLE, shape.names, shape.exact))]
    return [SlotResult(None, Outcome(NOISE))]


def _ranges(values: Sequence[Any], design: Design) -> list[SlotResult]:
    """Runs of positions with the same outcome; short unchanged gaps inside a run of
    positions that follow the same values are bridged (a keyed hash keeps a byte now
    and then). A range covering the whole value has ``span`` None."""
    size = len(values[0])
    per_position = [attribute([v[p] for v in values], design) for p in range(size)]
    out: list[SlotResult] = []
    start = 0
    while start < size:
        outcome, end = per_position[start], start + 1
        while end < size:
            if per_position[end] == outcome:
                end += 1
                continue
            ahead = next((q for q in range(end, min(end + GAP + 1, size))
                          if per_position[q] != Outcome(CONSTANT)), None)
            if outcome.kind == DEPENDS and ahead is not None and per_position[ahead] == outcome:
                end = ahead + 1
                continue
            break
        out.append(SlotResult((start, end), outcome))
        start = end
    return [_widen(out, i, size) for i in range(len(out))]


def _widen(ranges: list[SlotResult], i: int, size: int) -> SlotResult:
    """Range ``i``, stretched over an unchanged neighbour of up to ``GAP`` positions when
    it follows planted values (a byte of a keyed hash that happened to repeat)."""
    def short_constant(j: int) -> bool:
        if not 0 <= j < len(ranges) or ranges[j].outcome.kind != CONSTANT:
            return False
        a, b = ranges[j].span or (0, size)
        return b - a <= GAP

    start, end = ranges[i].span or (0, size)
    if ranges[i].outcome.kind == DEPENDS:
        start = (ranges[i - 1].span or (0, 0))[0] if short_constant(i - 1) else start
        end = (ranges[i + 1].span or (0, size))[1] if short_constant(i + 1) else end
    return SlotResult(None if (start, end) == (0, size) else (start, end), ranges[i].outcome)


def _length(result: SlotResult, values: Sequence[Any]) -> int:
    return len(values[0]) if result.span is None else result.span[1] - result.span[0]


def _same_length(values: Sequence[Any]) -> bool:
    kinds = {type(v) for v in values}
    return (len(kinds) == 1 and kinds <= {str, bytes} and len({len(v) for v in values}) == 1
            and len(values[0]) > 0)


def _hashable(value: Any) -> Hashable:
    return value if isinstance(value, str | bytes | int | float | bool | _Absent | None) \
        else repr(value)


def _shape(value: Any) -> Hashable:
    """What stays of a value that varies by itself: its type, and its length if any."""
    size = len(value) if isinstance(value, str | bytes | list | dict) else None
    return (type(value).__name__, size)


__all__ = ["ABSENT", "CONSTANT", "DEPENDS", "NOISE", "UNATTRIBUTABLE", "Outcome", "SlotKey",
           "SlotResult", "analyse_slot", "attribute", "slots"]

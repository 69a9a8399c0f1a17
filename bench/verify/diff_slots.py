"""Slots and what each depends on: the core of the differential analysis.

A *slot* is one place a device puts a value, the same in every run of a scenario:
one field path inside one aligned message (bench.verify.diff_align), or a range of
bytes/characters inside it when the value keeps its length from run to run (opaque
frames, blobs, advertisement data, digests).

``attribute`` decides, from one slot's value in every run of a ``Design`` (seen
through a ``View``: the runs judged, and the planted forms each stands for):

- ``constant``: the same everywhere;
- ``noise``: it differs between baselines (identical inputs), or it changes in a
  way no set of planted values explains: it varies by itself;
- ``depends``: all baselines agree and the value is a function of the planted
  values it names, and of nothing else: runs that plant the same forms of those
  values give the same value, runs that plant other forms give other values (every
  form its own: a field flipping between two values follows nothing), and each
  named value was varied in at least two runs (``SUPPORT``: one run that differs by
  chance is not enough).

A view with ``lag`` L judges run i by the forms planted in run i - L: a slot that
follows them holds what the device kept from an earlier session.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from ..capture import Capture
from .diff_align import SlotKey, align, hashable
from .diff_design import Design
from .emissions import Emission

CONSTANT, NOISE, DEPENDS, UNATTRIBUTABLE = "constant", "noise", "depends", "cannot attribute"
MAX_JOINT = 3  # largest set of planted values one slot is tested against
SUPPORT = 2  # runs that must vary a value before a slot is said to follow it
GAP = 3  # unchanged positions bridged between two that follow the same values
# Inside a value that varies by itself, one lone position that seems to follow planted
# values is most likely a random byte that happened to repeat: ranges need two.
MIN_RANGE_IN_NOISE = 2
# Values longer than this are compared whole: the device is an adversary, and a
# megabyte blob compared byte by byte would cost seconds per slot.
MAX_POSITIONS = 64 * 1024


class _Absent:
    def __repr__(self) -> str:
        return "absent"


ABSENT: Any = _Absent()


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


@dataclass(frozen=True)
class View:
    """The runs a slot is judged over (indices into the design's runs) and, for each,
    the form of every planted value it stands for (0 = base, k = variant k)."""

    kind: str
    names: tuple[str, ...]
    runs: tuple[int, ...]
    forms: tuple[tuple[int, ...], ...]
    lag: int = 0
    total: int = 0  # runs in the design

    @property
    def baselines(self) -> list[int]:
        return [p for p, forms in enumerate(self.forms) if not any(forms)]

    @property
    def support(self) -> int:
        """Runs a value needs varied before a slot follows it: ``SUPPORT``, or fewer when
        the design varies no value that often (one replicate of one-at-a-time)."""
        most = max((sum(1 for f in self.forms if f[k]) for k in range(len(self.names))),
                   default=0)
        return min(SUPPORT, most)


def slots(capture: Capture) -> dict[SlotKey, Emission]:
    """Every value one capture emitted, keyed by slot (aligned with itself: the messages
    in order). ``bench.verify.diff_align.align`` keys several runs alike."""
    return align([capture], 0).runs[0]


def view_of(design: Design, lag: int = 0, present: Sequence[bool] | None = None) -> View:
    """The runs of ``design`` from ``lag`` on (where ``present``), judged by the forms
    planted ``lag`` runs earlier."""
    runs = tuple(i for i in range(lag, len(design.runs)) if present is None or present[i])
    forms = tuple(tuple(design.runs[i - lag].form(n) for n in design.names) for i in runs)
    return View(design.kind, design.names, runs, forms, lag, len(design.runs))


def attribute(observed: Sequence[Hashable], over: Design | View,
              injective: bool = True) -> Outcome:
    """What ``observed`` (one value per run of the design) depends on, over a view.

    ``injective`` False accepts a function that gives two forms the same value (one
    byte of a keyed hash may); the range it belongs to is then judged whole."""
    view = over if isinstance(over, View) else view_of(over)
    seen = [observed[i] for i in view.runs]
    if len(set(seen)) <= 1:
        return Outcome(CONSTANT)
    reference = {seen[p] for p in view.baselines}
    if len(reference) != 1 or len(view.baselines) < 2:
        return Outcome(NOISE)
    ref = next(iter(reference))
    changed = [value != ref for value in seen]
    support = view.support
    # A planted value varied in a run where the slot kept its baseline value cannot be
    # what it depends on (group testing's COMP step): only the others remain.
    candidates = [k for k in range(len(view.names))
                  if all(changed[p] for p, f in enumerate(view.forms) if f[k])
                  and sum(1 for f in view.forms if f[k]) >= support]
    for size in range(1, min(MAX_JOINT, len(candidates)) + 1):
        fits = [c for c in itertools.combinations(candidates, size)
                if _function_of(seen, view, c, injective)]
        if fits:
            names = tuple(dict.fromkeys(view.names[k] for c in fits for k in c))
            return Outcome(DEPENDS, names, exact=len(fits) == 1)
    every = tuple(candidates)
    # A digest of many planted values at once (a whole settings record, say): every run
    # plants its own mix, so nothing repeats to check it by, and only a view of every
    # run with three agreeing baselines may say so.
    if len(every) > MAX_JOINT and view.lag == 0 and len(view.runs) == view.total \
            and len(view.baselines) >= 3 and _function_of(seen, view, every, True, changed):
        return Outcome(DEPENDS, tuple(view.names[k] for k in every),
                       exact=view.kind == "one-at-a-time")
    return Outcome(NOISE)  # changes no choice of planted values explains


def _function_of(seen: Sequence[Hashable], view: View, names: tuple[int, ...],
                 injective: bool, among: Sequence[bool] | None = None) -> bool:
    """True when runs planting the same forms of ``names`` always give the same value
    and, if ``injective``, different forms different values (among the runs where
    ``among`` is true, all when None)."""
    value_of: dict[tuple[int, ...], Hashable] = {}
    for value, forms in zip(seen, view.forms, strict=True):
        key = tuple(forms[k] for k in names)
        if value_of.setdefault(key, value) != value:
            return False
    if not injective:
        return True
    kept = {key: value for key, value in value_of.items()
            if among is None or any(among[p] for p, f in enumerate(view.forms)
                                    if tuple(f[k] for k in names) == key)}
    return len(set(kept.values())) == len(kept)


def analyse_slot(values: Sequence[Any], over: Design | View, opaque: bool = False,
                 ranges: bool = True) -> list[SlotResult]:
    """The parts of one slot that follow planted values, or that vary by themselves
    while their length follows one (``cannot attribute``); noise alone yields one
    ``noise`` result, a constant slot nothing. ``values`` holds one value per run of
    the design; only the view's runs are judged.

    A decoded field that follows planted values is reported whole; byte ranges are
    sought in opaque bytes, and in fields that vary by themselves (a nonce beside a
    keyed hash), to tell the part that follows from the part that does not; not with
    ``ranges`` False (a view of fewer runs, where short ranges fit by chance)."""
    view = over if isinstance(over, View) else view_of(over)
    whole = attribute([hashable(v) for v in values], view)
    if whole.kind == CONSTANT:
        return []
    judged = [values[i] for i in view.runs]
    if ranges and (opaque or whole.kind != DEPENDS) and _same_length(judged):
        shortest = 1 if whole.kind == DEPENDS else MIN_RANGE_IN_NOISE
        found = [r for r in _ranges(values, view)
                 if r.outcome.kind == DEPENDS and _length(r, judged) >= shortest]
        if found:
            return found
    if whole.kind == DEPENDS:
        return [SlotResult(None, whole)]
    shape = attribute([_shape(v) for v in values], view)
    if shape.kind == DEPENDS:
        return [SlotResult(None, Outcome(UNATTRIBUTABLE, shape.names, shape.exact))]
    return [SlotResult(None, Outcome(NOISE))]


def _ranges(values: Sequence[Any], view: View) -> list[SlotResult]:
    """Runs of positions with the same outcome; short unchanged gaps inside a run of
    positions that follow the same values are bridged (a keyed hash keeps a byte now
    and then). Each range that follows values must do so as a whole, every form its
    own value. A range covering the whole value has ``span`` None."""
    size = len(values[view.runs[0]])
    column = [ABSENT] * len(values)
    per_position = []
    for p in range(size):
        for i in view.runs:
            column[i] = values[i][p]
        per_position.append(attribute(column, view, injective=False))
    out: list[SlotResult] = []
    start = 0
    while start < size:
        outcome, end = per_position[start], start + 1
        while end < size:
            if per_position[end] == outcome:
                end += 1
                continue
            # a byte of a keyed hash may match a baseline's by chance: bridge up to GAP
            # such positions; the range is judged whole afterwards
            ahead = next((q for q in range(end, min(end + GAP + 1, size))
                          if per_position[q] == outcome), None)
            if outcome.kind == DEPENDS and ahead is not None:
                end = ahead + 1
                continue
            break
        out.append(SlotResult((start, end), outcome))
        start = end
    widened = [_widen(out, i, size) for i in range(len(out))]
    return [r for r in widened if r.outcome.kind != DEPENDS or _whole_follows(values, view, r)]


def _whole_follows(values: Sequence[Any], view: View, found: SlotResult) -> bool:
    start, end = found.span or (0, len(values[view.runs[0]]))
    cut = [v[start:end] if v is not ABSENT else v for v in values]
    return attribute(cut, view).kind == DEPENDS


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
            and 0 < len(values[0]) <= MAX_POSITIONS)


def _shape(value: Any) -> Hashable:
    """What stays of a value that varies by itself: its type, and its length if any."""
    size = len(value) if isinstance(value, str | bytes | list | dict) else None
    return (type(value).__name__, size)


__all__ = ["ABSENT", "CONSTANT", "DEPENDS", "NOISE", "SUPPORT", "UNATTRIBUTABLE", "Outcome",
           "SlotKey", "SlotResult", "View", "analyse_slot", "attribute", "slots", "view_of"]

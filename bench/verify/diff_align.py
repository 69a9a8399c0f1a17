"""Alignment: which message of one run is the same message in another run.

A noisy device does not send the same number of messages every session: telemetry
comes in bursts, a brew may queue one record or three. Comparing the n-th message
of each run would then compare a latte's record with an espresso's, or a burst
sample with nothing, and call the difference a leak. So messages are compared only
where they are the same thing in both runs:

- messages are grouped by action, channel and message type;
- inside a group, each run's messages are aligned to the reference run's (the first
  baseline) in order by their *content key*: the fields whose set of values is the
  same in every run (the drinks ordered, the model), not a nonce, a clock or a field
  that follows a planted value. A shared key value counts for a pair, a differing one
  twice against: a record matches the record of the same drink. What that leaves
  between two pairs is paired in order when both sides hold as many messages of the
  same fields, no key field differing (a message with no key: a keyed hash alone);
- a message with no partner is an *extra*: it is keyed after the reference message
  it follows (``4+1``: the first extra after reference message 4), so the slots it
  fills are present in some runs and absent in others, its own kind of evidence.

A slot is then one field path (and its n-th occurrence) inside one aligned message.
Groups too big to align in bounded time (over ``MAX_CELLS`` message pairs, or
``MAX_WORK`` pairs times fields: a flooding device) are aligned by position, and
``Alignment.by_position`` names them.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..capture import Capture
from .emissions import Emission, emissions

MAX_CELLS = 40_000  # message pairs aligned per group and run (200 x 200)
MAX_WORK = 4_000_000  # message pairs times the fields of the largest message
SAME_VALUE = 1  # what a shared value counts for pairing two messages
DIFFERENT_VALUE = 2  # and a value that differs in a shared field, against


@dataclass(frozen=True)
class SlotKey:
    action: str
    channel: str
    path: str
    message: str  # the aligned message: "3" (reference message 3) or "3+1" (an extra after it)
    occurrence: int = 0  # the n-th value of this path inside that message


@dataclass(frozen=True)
class _Message:
    emissions: tuple[Emission, ...]
    pairs: Counter[tuple[str, Hashable]]
    path_counts: Counter[str]


@dataclass
class Alignment:
    """Every run's slots, keyed so the same slot matches across runs."""

    runs: list[dict[SlotKey, Emission]]
    by_position: list[str] = field(default_factory=list)  # groups too large to align


def align(captures: Sequence[Capture], reference: int) -> Alignment:
    """The slots of every capture, aligned to the messages of ``captures[reference]``."""
    grouped = [_groups(c) for c in captures]
    out: list[dict[SlotKey, Emission]] = [{} for _ in captures]
    late: set[str] = set()
    for group in dict.fromkeys(g for run in grouped for g in run):
        ref = grouped[reference].get(group, [])
        keys = _key_paths([run.get(group, []) for run in grouped])
        for number, run in enumerate(grouped):
            messages = run.get(group, [])
            if _too_big(ref, messages):
                late.add("/".join(group))
                labels = [str(i) for i in range(len(messages))]
            else:
                labels = _labels(ref, messages, keys)
            for label, message in zip(labels, messages, strict=True):
                out[number].update(_slots(group, label, message))
    return Alignment(out, sorted(late))


def _too_big(ref: list[_Message], messages: list[_Message]) -> bool:
    """Whether aligning would cost more than the bounds allow (a device is an adversary:
    ten thousand samples, or a message of a million fields)."""
    cells = len(ref) * len(messages)
    widest = max((len(m.emissions) for m in (*ref, *messages)), default=0)
    return cells > MAX_CELLS or cells * widest > MAX_WORK


def _groups(capture: Capture) -> dict[tuple[str, str, str], list[_Message]]:
    by_entry: dict[int, list[Emission]] = defaultdict(list)
    for e in emissions(capture):
        by_entry[e.entry].append(e)
    groups: dict[tuple[str, str, str], list[_Message]] = defaultdict(list)
    for found in by_entry.values():
        first = found[0]
        for kind in dict.fromkeys(e.message_type for e in found):  # one per type in a record
            part = tuple(e for e in found if e.message_type == kind)
            groups[first.action, first.channel, kind].append(_message(part))
    return groups


def _message(found: tuple[Emission, ...]) -> _Message:
    return _Message(found, Counter((e.path, hashable(e.value)) for e in found),
                    Counter(e.path for e in found))


def _slots(group: tuple[str, str, str], label: str,
           message: _Message) -> dict[SlotKey, Emission]:
    seen: Counter[str] = Counter()
    out = {}
    for e in message.emissions:
        out[SlotKey(group[0], group[1], e.path, label, seen[e.path])] = e
        seen[e.path] += 1
    return out


def _key_paths(runs: Sequence[list[_Message]]) -> frozenset[str]:
    """The content key of a group: paths whose set of values is the same in every run
    that has the group (the drinks ordered, the model). A nonce or a clock differs from
    run to run, and so does a field that follows a planted value: neither says which
    message is which."""
    sets: dict[str, set[frozenset[Hashable]]] = defaultdict(set)
    having = [messages for messages in runs if messages]
    for messages in having:
        values: dict[str, set[Hashable]] = defaultdict(set)
        for message in messages:
            for path, value in message.pairs:
                values[path].add(value)
        for path in set(values) | set(sets):
            sets[path].add(frozenset(values.get(path, ())))
    return frozenset(path for path, found in sets.items() if len(found) == 1)


def _labels(ref: list[_Message], messages: list[_Message], keys: frozenset[str]) -> list[str]:
    """For each of ``messages``, the reference message it is (or the extra it is)."""
    matched = _fill_gaps(ref, messages, _match(ref, messages, keys), keys)
    labels, after, extras = [], -1, 0
    for j in range(len(messages)):
        if j in matched:
            after, extras = matched[j], 0
            labels.append(str(after))
        else:
            extras += 1
            labels.append(f"{after}+{extras}")
    return labels


def _match(ref: list[_Message], messages: list[_Message],
           keys: frozenset[str]) -> dict[int, int]:
    """Order-keeping pairs (message index -> reference index) of the greatest total
    likeness (a weighted longest common subsequence); unlike messages stay unpaired."""
    n, m = len(ref), len(messages)
    like = [[_likeness(a, b, keys) for b in messages] for a in ref]
    score = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            pair = like[i][j]
            score[i][j] = max(score[i + 1][j], score[i][j + 1],
                              pair + score[i + 1][j + 1] if pair > 0 else 0)
    out, i, j = {}, 0, 0
    while i < n and j < m:
        pair = like[i][j]
        if pair > 0 and score[i][j] == pair + score[i + 1][j + 1]:
            out[j] = i
            i, j = i + 1, j + 1
        elif score[i][j] == score[i][j + 1]:
            j += 1
        else:
            i += 1
    return out


def _fill_gaps(ref: list[_Message], messages: list[_Message], matched: dict[int, int],
               keys: frozenset[str]) -> dict[int, int]:
    """Pair what the likeness left unpaired where it can only be the same message:
    between two pairs (or an end), as many messages on each side, of the same fields,
    none of their content key differing (a message with no key: a keyed hash alone)."""
    out = dict(matched)
    anchors = [(-1, -1), *sorted((i, j) for j, i in matched.items()), (len(ref), len(messages))]
    for (i0, j0), (i1, j1) in itertools.pairwise(anchors):
        gap_ref, gap_run = range(i0 + 1, i1), range(j0 + 1, j1)
        if len(gap_ref) == len(gap_run) and all(
                ref[i].path_counts == messages[j].path_counts
                and _likeness(ref[i], messages[j], keys) >= 0
                for i, j in zip(gap_ref, gap_run, strict=True)):
            out.update({j: i for i, j in zip(gap_ref, gap_run, strict=True)})
    return out


def _likeness(a: _Message, b: _Message, keys: frozenset[str]) -> int:
    """Over the content key: a shared value counts for, a value that differs in a shared
    key field twice against (a latte's record is not an espresso's)."""
    same = sum(n for (path, _), n in (a.pairs & b.pairs).items() if path in keys)
    shared = sum(min(n, b.path_counts[path]) for path, n in a.path_counts.items()
                 if path in keys)
    return SAME_VALUE * same - DIFFERENT_VALUE * (shared - same)


def hashable(value: Any) -> Hashable:
    """``value`` itself when it can key a dict, else its text."""
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value if not isinstance(value, float) or value == value else "nan"


__all__ = ["MAX_CELLS", "Alignment", "SlotKey", "align", "hashable"]

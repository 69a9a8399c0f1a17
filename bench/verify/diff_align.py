"""Alignment: which message of one run is the same message in another run.

A noisy device does not send the same number of messages every session: telemetry
comes in bursts, a brew may queue one record or three. Comparing the n-th message
of each run would then compare a latte's record with an espresso's, or a burst
sample with nothing, and call the difference a leak. So messages are compared only
where they are the same thing in both runs:

- messages are grouped by action, channel and message type;
- inside a group, each run's messages are aligned to the reference run's (the first
  baseline) in order, pairing the most alike (shared field paths, and more for
  shared values: a record matches the record of the same drink, whatever its nonce);
- a message with no partner is an *extra*: it is keyed after the reference message
  it follows (``4+1``: the first extra after reference message 4), so the slots it
  fills are present in some runs and absent in others, its own kind of evidence.

A slot is then one field path (and its n-th occurrence) inside one aligned message.
Groups too big to align in bounded time (over ``MAX_CELLS`` message pairs, a
flooding device) are aligned by position, and ``Alignment.by_position`` names them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..capture import Capture
from .emissions import Emission, emissions

MAX_CELLS = 40_000  # message pairs aligned per group and run (200 x 200)
SAME_VALUE = 2  # a shared value weighs more than a shared field path


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
    paths: frozenset[str]


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
        for number, run in enumerate(grouped):
            messages = run.get(group, [])
            if len(ref) * len(messages) > MAX_CELLS:
                late.add("/".join(group))
                labels = [str(i) for i in range(len(messages))]
            else:
                labels = _labels(ref, messages)
            for label, message in zip(labels, messages, strict=True):
                out[number].update(_slots(group, label, message))
    return Alignment(out, sorted(late))


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
                    frozenset(e.path for e in found))


def _slots(group: tuple[str, str, str], label: str,
           message: _Message) -> dict[SlotKey, Emission]:
    seen: Counter[str] = Counter()
    out = {}
    for e in message.emissions:
        out[SlotKey(group[0], group[1], e.path, label, seen[e.path])] = e
        seen[e.path] += 1
    return out


def _labels(ref: list[_Message], messages: list[_Message]) -> list[str]:
    """For each of ``messages``, the reference message it is (or the extra it is)."""
    matched = _match(ref, messages)
    labels, after, extras = [], -1, 0
    for j in range(len(messages)):
        if j in matched:
            after, extras = matched[j], 0
            labels.append(str(after))
        else:
            extras += 1
            labels.append(f"{after}+{extras}")
    return labels


def _match(ref: list[_Message], messages: list[_Message]) -> dict[int, int]:
    """Order-keeping pairs (message index -> reference index) of the greatest total
    likeness (a weighted longest common subsequence); unlike messages stay unpaired."""
    n, m = len(ref), len(messages)
    score = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            pair = _likeness(ref[i], messages[j])
            score[i][j] = max(score[i + 1][j], score[i][j + 1],
                              pair + score[i + 1][j + 1] if pair else 0)
    out, i, j = {}, 0, 0
    while i < n and j < m:
        pair = _likeness(ref[i], messages[j])
        if pair and score[i][j] == pair + score[i + 1][j + 1]:
            out[j] = i
            i, j = i + 1, j + 1
        elif score[i][j] == score[i + 1][j]:
            i += 1
        else:
            j += 1
    return out


def _likeness(a: _Message, b: _Message) -> int:
    return len(a.paths & b.paths) + SAME_VALUE * sum((a.pairs & b.pairs).values())


def hashable(value: Any) -> Hashable:
    """``value`` itself when it can key a dict, else its text."""
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value if not isinstance(value, float) or value == value else "nan"


__all__ = ["MAX_CELLS", "Alignment", "SlotKey", "align", "hashable"]

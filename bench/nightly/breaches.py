"""The contract rules a target broke, read back from its JUnit failure messages.

The suite's contract test fails with ``Verdict.report()``: a head line ending in
``collected data beyond its contract:`` and a table (category, field, example, action,
channel, count, why) whose rule line of dashes gives the column widths. What the
suite judged is what the report shows: nothing is judged a second time here. A
message that is not such a table adds nothing (it is still listed as a failure).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..verify.contracts import BREACH
from .runner import TargetRun

__all__ = ["Breach", "breaches_of"]

COLUMNS = ("category", "field", "example", "action", "channel", "count", "why")
MAX_ROWS = 500  # per message: a table longer than this is cut (the count says so)


@dataclass(frozen=True)
class Breach:
    """One rule broken: a field of a category, on a channel in an action, and why."""

    category: str
    field: str
    action: str
    channel: str
    why: str
    count: int
    test: str


def breaches_of(run: TargetRun) -> list[Breach]:
    """Every row of every contract table in the failure messages of ``run``."""
    found: dict[tuple[str, str, str, str, str], Breach] = {}
    for test in run.failed:
        for row in _rows(run.messages.get(test, "")):
            breach = Breach(row["category"], row["field"], row["action"], row["channel"],
                            row["why"], _count(row["count"]), test)
            key = (breach.category, breach.field, breach.action, breach.channel, breach.why)
            found.setdefault(key, breach)  # the same table twice (message and text): once
    return list(found.values())


def _rows(message: str) -> Iterable[dict[str, str]]:
    lines = message.splitlines()
    for at, line in enumerate(lines):
        if not line.rstrip().endswith(f"{BREACH}:") or at + 2 >= len(lines):
            continue
        header, rule = lines[at + 1], lines[at + 2]
        spans = _spans(rule)
        if [header[a:b].strip() for a, b in spans] != list(COLUMNS):
            continue
        for body in lines[at + 3:at + 3 + MAX_ROWS]:
            if not body.strip() or body.startswith("[+"):
                break
            yield {name: body[a:b].strip() if b < len(rule) else body[a:].strip()
                   for name, (a, b) in zip(COLUMNS, spans, strict=True)}


def _spans(rule: str) -> list[tuple[int, int]]:
    """Where each column of dashes starts and ends."""
    spans, start = [], None
    for i, char in enumerate(rule + " "):
        if char == "-" and start is None:
            start = i
        elif char != "-" and start is not None:
            spans.append((start, i))
            start = None
    return spans


def _count(text: str) -> int:
    return int(text) if text.isdigit() else 1

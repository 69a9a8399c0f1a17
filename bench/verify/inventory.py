"""The collected-data inventory: what a device emitted, per category and field.

One row per (category, field, channel, action) with how many values were seen,
why the field is in that category and one example. Sensitive examples are
shown as ``<category keyed-hash>`` (bench.redact) unless raw values are asked
for; values already redacted in a saved capture stay redacted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..table import format_table
from .catalogue import CATEGORIES
from .classify import Classified
from .redact import Redactor, plain_example

HEADERS = ("category", "field", "channel", "action", "count", "reason", "example")


@dataclass(frozen=True, slots=True)
class Row:
    category: str
    field: str
    channel: str
    action: str
    count: int
    reasons: str
    example: str


def inventory(classified: Sequence[Classified], redactor: Redactor | None = None,
              raw: bool = False) -> list[Row]:
    """Group classified emissions into inventory rows, ordered by category then field.

    Args:
        classified: as bench.classify.classify() returns them.
        redactor: hashes sensitive examples; without one they are shown as ``<category>``.
        raw: show sensitive examples as they are (explicit opt-in).
    """
    groups: dict[tuple[str, str, str, str], list[Classified]] = {}
    for item in classified:
        e = item.emission
        for category in item.categories:
            groups.setdefault((category, e.path, e.channel, e.action), []).append(item)
    rows = []
    for (category, path, channel, action), items in groups.items():
        reasons = dict.fromkeys(_reason(label.reason, label.detail) for item in items
                                for label in item.labels if label.category == category)
        rows.append(Row(category, path, channel, action, len(items), ", ".join(reasons),
                        _example(items[0], redactor, raw)))
    order = {category: n for n, category in enumerate(CATEGORIES)}
    return sorted(rows, key=lambda r: (order.get(r.category, len(order)), r.field, r.channel,
                                       r.action))


def _reason(reason: str, detail: str) -> str:
    return f"{reason} ({detail})" if detail else reason


def _example(item: Classified, redactor: Redactor | None, raw: bool) -> str:
    value = item.emission.value
    if raw and not isinstance(value, dict):
        return plain_example(value)
    if item.sensitive or isinstance(value, dict):
        if redactor is None:
            return f"<{'/'.join(item.categories)}>"
        return redactor.example(value, item.categories)
    return plain_example(value)


def render_destinations(where: Mapping[str, Mapping[str, int]]) -> str:
    """Per category, the uplink hosts that received it (bench.verify.residency.destinations)."""
    order = {category: n for n, category in enumerate(CATEGORIES)}
    rows = [(category, host, count)
            for category in sorted(where, key=lambda c: order.get(c, len(order)))
            for host, count in where[category].items()]
    return format_table(("category", "destination", "values"), rows)


def render(rows: Sequence[Row]) -> str:
    """The inventory as a text table."""
    return format_table(HEADERS, [(r.category, r.field, r.channel, r.action, r.count, r.reasons,
                                   r.example) for r in rows])

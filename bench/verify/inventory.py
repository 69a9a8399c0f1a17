"""The collected-data inventory: what a device emitted, per category and field.

One row per (category, field, channel, action) with how many values were seen,
why the field is in that category and one example. Sensitive examples are
shown as ``<category keyed-hash>`` (bench.redact) unless raw values are asked
for; values already redacted in a saved capture stay redacted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..table import format_table
from .catalogue import CATEGORIES
from .classify import Classified
from .redact import Redactor, plain_example

HEADERS = ("category", "field", "channel", "action", "count", "reason", "example")


@dataclass(frozen=True, order=True, slots=True)
class Collected:
    """One field a device emitted, of one category, where and when: the unit of an inventory."""

    category: str
    field: str
    channel: str
    action: str


#: how many values a device emitted per collected field (what the nightly diffs)
Inventory = Counter[Collected]


def collected_groups(classified: Sequence[Classified]) -> dict[Collected, list[Classified]]:
    """Classified emissions grouped by what they reveal, where and when (once per category)."""
    groups: dict[Collected, list[Classified]] = {}
    for item in classified:
        e = item.emission
        for category in item.categories:
            groups.setdefault(Collected(category, e.path, e.channel, e.action), []).append(item)
    return groups


def count_collected(classified: Sequence[Classified]) -> Inventory:
    """How many values of each collected field the device emitted."""
    return Counter({key: len(items) for key, items in collected_groups(classified).items()})


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
    rows = []
    for (category, path, channel, action), items in _astuples(collected_groups(classified)):
        reasons = dict.fromkeys(_reason(label.reason, label.detail) for item in items
                                for label in item.labels if label.category == category)
        rows.append(Row(category, path, channel, action, len(items), ", ".join(reasons),
                        _example(items[0], redactor, raw)))
    order = {category: n for n, category in enumerate(CATEGORIES)}
    return sorted(rows, key=lambda r: (order.get(r.category, len(order)), r.field, r.channel,
                                       r.action))


def _astuples(groups: dict[Collected, list[Classified]]
              ) -> list[tuple[tuple[str, str, str, str], list[Classified]]]:
    return [((k.category, k.field, k.channel, k.action), items) for k, items in groups.items()]


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

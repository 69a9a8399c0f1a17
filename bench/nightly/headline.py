"""The top of the nightly report: what a lab manager needs first, above the fold.

Three short blocks under the verdict: which firmware started (or stopped) sending which
field, by category; each contract rule broken, with the field, category, where it was
seen and why; and destinations in another region than the rest of the night's data.
Near-identical lines fold into one (the same rule broken on three transports is one
line naming the three targets). Values a device sent never appear: fields, categories,
hosts and counts only.
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from ..verify.residency import Regions
from .breaches import Breach
from .diff import LOUD, Change
from .summary import TargetResult

__all__ = ["Comparison", "Placed", "headline", "label", "placed_destinations"]


@dataclass(frozen=True)
class Comparison:
    """A diff between two inventories, with what was compared."""

    title: str
    after: str  # the label of the newer side, as the matrix shows it
    changes: list[Change]
    new_categories: frozenset[str] = frozenset()  # categories the newer side adds

    def fields_by_category(self, kinds: tuple[str, ...] = ("appeared",)) -> dict[str, list[str]]:
        """Field paths of the changes of ``kinds``, per category, loud categories first."""
        out: dict[str, list[str]] = defaultdict(list)
        for change in self.changes:
            if change.kind in kinds:
                out[change.category].append(change.field)
        return dict(sorted(out.items(), key=lambda item: (item[0] not in LOUD, item[0])))


@dataclass(frozen=True)
class Placed:
    """One destination of one category, placed in a region (None: no glob matches)."""

    target: str
    category: str
    host: str
    region: str | None
    count: int


def label(result: TargetResult) -> str:
    """How the report names a target."""
    return f"{result.target.firmware} {result.target.device}"


def headline(results: Sequence[TargetResult], comparisons: Sequence[Comparison],
             regions: Regions) -> str:
    """The three blocks, each left out when it has nothing to say."""
    return "".join((_new_fields(comparisons), _violations(results),
                    _residency(placed_destinations(results, regions))))


def _new_fields(comparisons: Sequence[Comparison]) -> str:
    items = []
    for comparison in comparisons:
        started = comparison.fields_by_category(("appeared", "moved"))
        stopped = comparison.fields_by_category(("disappeared",))
        if not started and not stopped:
            continue
        said = []
        if started:
            said.append("starts sending " + "; ".join(_category_fields(c, f)
                                                      for c, f in started.items()))
        if stopped:
            said.append("<span class='muted'>stops sending " + "; ".join(
                f"{_e(c)}: {_e(', '.join(f))}" for c, f in stopped.items()) + "</span>")
        items.append(f"<li><b>{_e(comparison.title)}</b>: {'. '.join(said)}</li>")
    if not items:
        return ""
    return f"<h2>New since last time</h2><ul id='new-fields'>{''.join(items)}</ul>"


def _category_fields(category: str, fields: list[str]) -> str:
    css = " class='loud'" if category in LOUD else ""
    return f"<span{css}>{_e(category)}: {_e(', '.join(fields))}</span>"


def _violations(results: Sequence[TargetResult]) -> str:
    """Each broken rule once (category, field, why), naming every target that broke it
    and every channel/action it was seen on."""
    folded: dict[tuple[str, str, str], list[tuple[str, Breach]]] = {}
    for result in results:
        for b in result.violations:
            folded.setdefault((b.category, b.field, b.why), []).append((label(result), b))
    if not folded:
        return ""
    rows = []
    for (category, field, why), seen in sorted(
            folded.items(), key=lambda item: (item[0][0] not in LOUD, item[0])):
        targets = ", ".join(dict.fromkeys(target for target, _ in seen))
        where = ", ".join(sorted({f"{b.channel}/{b.action}" for _, b in seen}))
        count = sum(b.count for _, b in seen)
        rows.append(f"<tr class='{'loud' if category in LOUD else ''}'><td>{_e(targets)}</td>"
                    f"<td>{_e(category)}</td><td>{_e(field)}</td><td>{_e(why)}</td>"
                    f"<td>{_e(where)}</td><td>{count}</td></tr>")
    return ("<h2>Contract rules broken</h2><table id='violations'><tr><th>firmware / device</th>"
            "<th>category</th><th>field</th><th>rule broken</th><th>seen on</th>"
            f"<th>count</th></tr>{''.join(rows)}</table>")


def placed_destinations(results: Sequence[TargetResult], regions: Regions) -> list[Placed]:
    """Every (target, category, host) the uplink saw, with the host's region."""
    return [Placed(label(r), category, host, regions.region_of(host), count)
            for r in results for category, hosts in sorted(r.destinations.items())
            for host, count in sorted(hosts.items())]


def main_region(placed: Sequence[Placed]) -> str | None:
    """The region most of the night's records went to (None without any)."""
    counts = Counter[str | None]()
    for p in placed:
        counts[p.region] += p.count
    return counts.most_common(1)[0][0] if counts else None


def _residency(placed: Sequence[Placed]) -> str:
    """Destinations in another region than most of the night's data, one line each."""
    usual = main_region(placed)
    odd = [p for p in placed if p.region != usual]
    if not odd:
        return ""
    where = usual or "unmapped hosts"
    lines = "".join(
        f"<li class='{'loud' if p.category in LOUD else ''}'><b>{_e(p.target)}</b> sends "
        f"{_e(p.category)} to {_e(p.host)} (region {_e(p.region or 'unmapped')}, {p.count} "
        f"record(s))</li>" for p in odd)
    return (f"<h2>Destinations outside {_e(where)}</h2><p>Everything else the machines sent "
            f"went to {_e(where)}.</p><ul id='residency'>{lines}</ul>")


def _e(text: str) -> str:
    return html.escape(text, quote=True)

"""The nightly run's results as data: per target outcomes, inventories and timings,
saved as ``summary.json`` so the next night can diff against it."""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..capture import Capture
from ..verify.inventory import Collected, Inventory
from .breaches import Breach
from .plan import Target
from .runner import TargetRun

SUMMARY = "summary.json"
SUMMARY_FORMAT = "brewbench-nightly-summary/2"  # 2: labelled rows, verdict, violations, changes
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Span:
    """One action on a session's timeline, in seconds from the session's first action."""

    action: str
    start_s: float
    duration_s: float
    outcome: str


@dataclass
class TargetResult:
    """One target: how its run went and what its machine collected."""

    run: TargetRun
    inventory: Inventory = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=dict)  # action -> seconds
    timeline: list[Span] = field(default_factory=list)  # one session's actions, in order
    captures: dict[str, Path] = field(default_factory=dict)  # test id -> capture file
    destinations: dict[str, Counter[str]] = field(default_factory=dict)  # category -> uplink hosts
    voice: list[dict[str, Any]] = field(default_factory=list)  # clips heard (nightly.collect.voice_of)
    violations: list[Breach] = field(default_factory=list)  # rules broken, as junit says

    @property
    def target(self) -> Target:
        return self.run.target


def captures_by_spec(folder: Path) -> dict[str, list[tuple[Path, Capture]]]:
    """Every capture in ``folder``, grouped by the device spec it was taken from."""
    grouped: dict[str, list[tuple[Path, Capture]]] = defaultdict(list)
    for path in sorted(folder.glob("*.jsonl")):
        capture = Capture.load(path)
        grouped[str(capture.meta.get("spec", capture.device))].append((path, capture))
    return grouped


def timeline_of(captures: list[tuple[Path, Capture]]) -> list[Span]:
    """The actions of the session with the most of them (the standard session, usually)."""
    if not captures:
        return []
    capture = max((c for _, c in captures), key=lambda c: len(c.actions))
    if not capture.actions:
        return []
    origin = capture.actions[0].started.mono_ns
    return [Span(a.name, (a.started.mono_ns - origin) / 1e9, a.duration_s, a.outcome)
            for a in capture.actions]


def latencies_of(captures: list[Capture]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = defaultdict(list)
    for capture in captures:
        for span in capture.actions:
            if span.ended is not None and span.outcome == "ok":
                out[span.name].append(span.duration_s)
    return dict(out)


def save_summary(run_id: str, results: list[TargetResult], path: Path,
                 night: Mapping[str, Any] | None = None) -> Path:
    """Write ``summary.json``: per target its outcomes, what it collected (labelled rows),
    where it went and the contract rules it broke; ``night`` adds the night's own keys
    (verdict, exit code, changes, interrupted, finished_ns: nightly.night)."""
    data = {"format": SUMMARY_FORMAT, "run_id": run_id, **(night or {}), "targets": [
        {"slug": r.target.slug, "firmware": r.target.firmware, "transport": r.target.transport,
         "device": r.target.device, "exit_code": r.run.exit_code, "outcomes": r.run.outcomes,
         "reasons": {test: why for test, why in r.run.messages.items()
                     if r.run.outcomes.get(test) != "PASSED"},
         "inventory": [{"category": c.category, "field": c.field, "channel": c.channel,
                        "action": c.action, "count": n} for c, n in sorted(r.inventory.items())],
         "violations": [{"category": b.category, "field": b.field, "channel": b.channel,
                         "action": b.action, "why": b.why, "count": b.count, "test": b.test}
                        for b in r.violations],
         "destinations": {category: dict(hosts) for category, hosts in r.destinations.items()},
         "voice": r.voice}
        for r in results]}
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


def previous_inventories(results_root: Path, run_id: str) -> tuple[str | None, dict[str, Inventory]]:
    """The previous night's inventories by target slug: of the newest *completed* night
    in ``results_root`` by the time it recorded (not by its run id, which a lab may name
    ``mon``, ``tue``...). Interrupted nights, nights that ran nothing and unreadable
    summaries are no baseline; the night ``run_id`` itself is left out."""
    nights = []
    for path in results_root.glob(f"*/{SUMMARY}"):
        if path.parent.name == run_id:
            continue
        night = _baseline(path)
        if night is not None:
            nights.append(night)
    if not nights:
        return None, {}
    _, previous, inventories = max(nights, key=lambda night: night[0])
    return previous, inventories


def night_history(results_root: Path, run_id: str, limit: int = 14) -> list[tuple[str, dict[str, int]]]:
    """The last ``limit`` completed nights before ``run_id``, oldest first: each night's
    emissions per category, summed over its targets (for the report's trend)."""
    nights = []
    for path in results_root.glob(f"*/{SUMMARY}"):
        night = None if path.parent.name == run_id else _baseline(path)
        if night is not None:
            finished, name, inventories = night
            totals: Counter[str] = Counter()
            for inventory in inventories.values():
                for item, count in inventory.items():
                    totals[item.category] += count
            nights.append((finished, name, dict(totals)))
    return [(name, totals) for _, name, totals in sorted(nights)[-limit:]]


def _baseline(path: Path) -> tuple[int, str, dict[str, Inventory]] | None:
    """(when it finished, run id, inventories) of one summary, None when it is no baseline."""
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        inventories = {t["slug"]: _inventory(t["inventory"]) for t in data["targets"]
                       if t["outcomes"]}  # a target that ran nothing is no baseline
        finished = int(data.get("finished_ns") or path.stat().st_mtime_ns)  # older summaries
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        log.warning("%s is no baseline: %s", path, exc)
        return None
    if data.get("interrupted") or not inventories:
        return None
    return finished, str(data.get("run_id", path.parent.name)), inventories


def _inventory(rows: list[Any]) -> Inventory:
    """Rows as labelled objects, or as the [category, field, channel, action, n] arrays
    of summaries written before they were labelled."""
    out: Inventory = Counter()
    for row in rows:
        if isinstance(row, dict):
            out[Collected(row["category"], row["field"], row["channel"], row["action"])] += \
                int(row["count"])
        else:
            out[Collected(*row[:4])] += int(row[4])
    return out


def test_key(nodeid: str) -> str:
    """A test's id as both pytest's node id and its -v output name it: file name::test."""
    path, _, rest = nodeid.partition("::")
    return f"{Path(path).name}::{rest}"

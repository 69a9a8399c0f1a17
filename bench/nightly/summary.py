"""The nightly run's results as data: per target outcomes, inventories and timings,
saved as ``summary.json`` so the next night can diff against it."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..capture import Capture
from ..verify.inventory import Collected, Inventory
from .breaches import Breach
from .plan import Target
from .runner import TargetRun

SUMMARY = "summary.json"


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


def save_summary(run_id: str, results: list[TargetResult], path: Path) -> Path:
    data = {"run_id": run_id, "targets": [
        {"slug": r.target.slug, "firmware": r.target.firmware, "transport": r.target.transport,
         "device": r.target.device, "exit_code": r.run.exit_code, "outcomes": r.run.outcomes,
         "inventory": [[c.category, c.field, c.channel, c.action, n]
                       for c, n in sorted(r.inventory.items())],
         "destinations": {category: dict(hosts) for category, hosts in r.destinations.items()},
         "voice": r.voice}
        for r in results]}
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


def previous_inventories(results_root: Path, run_id: str) -> tuple[str | None, dict[str, Inventory]]:
    """The latest earlier run's inventories by target slug, from its summary file."""
    earlier = sorted(p for p in results_root.glob(f"*/{SUMMARY}") if p.parent.name < run_id)
    if not earlier:
        return None, {}
    data: dict[str, Any] = json.loads(earlier[-1].read_text(encoding="utf-8"))
    return str(data["run_id"]), {
        t["slug"]: Counter({Collected(*row[:4]): int(row[4]) for row in t["inventory"]})
        for t in data["targets"] if t["outcomes"]}  # a target that ran nothing is no baseline


def test_key(nodeid: str) -> str:
    """A test's id as both pytest's node id and its -v output name it: file name::test."""
    path, _, rest = nodeid.partition("::")
    return f"{Path(path).name}::{rest}"

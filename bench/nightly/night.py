"""The nightly run from start to verdict: run, inventory, diff, report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..verify.inventory import Inventory
from .collect import destinations_of, inventory_of
from .diff import categories, diff, merge
from .history import previous_night
from .junit import merge_junit
from .plan import Plan
from .report import Comparison, label, write_report
from .runner import RunSettings, Say, run_plan
from .summary import (
    SUMMARY,
    TargetResult,
    captures_by_spec,
    latencies_of,
    save_summary,
    test_key,
    timeline_of,
)

CONTRACT_TEST = "test_data_contract"  # the standard suite's contract check


@dataclass(frozen=True)
class NightlyOutcome:
    ok: bool
    verdict: str
    report: Path
    junit: Path
    results: list[TargetResult]
    comparisons: list[Comparison]


def run_nightly(plan: Plan, settings: RunSettings, say: Say) -> NightlyOutcome:
    """Run every target, then diff and report; ``settings.results`` is this run's folder."""
    runs = run_plan(plan, settings, say)
    by_spec = captures_by_spec(settings.results / "captures")
    results = []
    for run in runs:
        captures = by_spec.get(run.target.spec, [])
        results.append(TargetResult(
            run, merge(inventory_of(c) for _, c in captures), latencies_of([c for _, c in captures]),
            timeline_of(captures),
            {test_key(str(c.meta.get("test"))): path for path, c in captures},
            destinations_of(c for _, c in captures)))
    comparisons = _between_versions(results) + _against_last_night(results, settings)
    ok, verdict = _verdict(results, comparisons)
    save_summary(settings.run_id, results, settings.results / SUMMARY)
    junit = merge_junit(runs, settings.results / "junit.xml")
    report = write_report(settings.results / "report.html", settings.run_id, results,
                          comparisons, verdict, ok)
    return NightlyOutcome(ok, verdict, report, junit, results, comparisons)


def _between_versions(results: list[TargetResult]) -> list[Comparison]:
    """Consecutive firmware versions on the same device, in plan order."""
    last: dict[str, TargetResult] = {}
    out = []
    for result in results:
        before = last.get(result.target.device)
        if before is not None:
            out.append(_compare(f"{label(before)} → {label(result)}", label(result),
                                before.inventory, result.inventory))
        last[result.target.device] = result
    return out


def _against_last_night(results: list[TargetResult], settings: RunSettings) -> list[Comparison]:
    previous_run, inventories = previous_night(settings.results.parent, settings.run_id,
                                               [r.target for r in results], settings.influx)
    return [_compare(f"{label(r)}: run {previous_run} → tonight", label(r),
                     inventories[r.target.slug], r.inventory)
            for r in results if r.target.slug in inventories]


def _compare(title: str, after: str, old: Inventory, new: Inventory) -> Comparison:
    return Comparison(title, after, diff(old, new), frozenset(categories(new) - categories(old)))


def _verdict(results: list[TargetResult], comparisons: list[Comparison]) -> tuple[bool, str]:
    breaches = [label(r) for r in results if any(CONTRACT_TEST in t for t in r.run.failed)]
    failed = sum(len(r.run.failed) for r in results) - len(breaches)
    unflashed = sum(1 for r in results if not r.run.flashed)
    crashed = sum(1 for r in results if r.run.flashed and r.run.exit_code not in (0, 1))
    loud = sorted({f"{c.category} {c.field}" for comp in comparisons for c in comp.changes if c.loud})
    problems = []
    if breaches:
        problems.append(f"data contract violated by {', '.join(breaches)}")
    if failed:
        problems.append(f"{failed} test(s) failed")
    if unflashed:
        problems.append(f"{unflashed} firmware flash(es) failed")
    if crashed:
        problems.append(f"{crashed} target run(s) crashed")
    text = "; ".join(problems) if problems else "all tests passed"
    if loud:
        text += f". New payment/identity data: {', '.join(loud)}"
    return not problems, text


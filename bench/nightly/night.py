"""The nightly run from start to verdict: run, inventory, diff, report."""

from __future__ import annotations

import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...drivers.errors import BrewbenchError
from ..shipped import regions_text
from ..verify.contracts import BREACH, load_contracts
from ..verify.inventory import Inventory
from ..verify.residency import Regions, load_regions
from . import differential
from .breaches import breaches_of
from .collect import destinations_of, inventory_of, voice_of
from .diff import categories, diff, merge
from .history import previous_night
from .junit import merge_junit
from .plan import Plan
from .report import Comparison, label, write_report
from .runner import Interrupted, RunSettings, Say, run_plan
from .spooled import waiting_points
from .summary import (
    SUMMARY,
    TargetResult,
    captures_by_spec,
    latencies_of,
    night_history,
    save_summary,
    test_key,
    timeline_of,
)

# Exit codes: a device verdict is 1; a night in which no test could run is a usage
# matter (bad --tests or --pytest-arg, a broken conftest.py), 2.
VERDICT_FAILED, NOTHING_RAN = 1, 2
INTERRUPTED = 130  # as a shell reports a program Ctrl-C ended


@dataclass(frozen=True)
class NightlyOutcome:
    ok: bool
    exit_code: int
    verdict: str
    report: Path
    junit: Path
    results: list[TargetResult]
    comparisons: list[Comparison]
    waiting: str = ""  # points the server did not take, in one line (nightly.spooled)
    baseline: str = ""  # which previous night tonight was compared with, or that none was


def run_nightly(plan: Plan, settings: RunSettings, say: Say) -> NightlyOutcome:
    """Run every target, then diff and report; ``settings.results`` is this run's folder.
    Interrupted (Ctrl-C), the targets that finished are reported, marked so, exit 130."""
    settings.results.mkdir(parents=True, exist_ok=True)
    try:
        runs, stopped = run_plan(plan, settings, say), ""
    except Interrupted as exc:
        runs, stopped = exc.runs, str(exc)
        say(f"{stopped}: writing the report for what finished")
    by_spec = captures_by_spec(settings.results / "captures")
    results = []
    for run in runs:
        captures = by_spec.get(run.target.spec, [])
        results.append(TargetResult(
            run, merge(inventory_of(c) for _, c in captures), latencies_of([c for _, c in captures]),
            timeline_of(captures),
            {test_key(str(c.meta.get("test"))): path for path, c in captures},
            destinations_of(c for _, c in captures), voice_of(c for _, c in captures),
            breaches_of(run)))
    ran = [r for r in results if r.run.outcomes]  # a target that ran nothing collected nothing
    last_night, tonight = _against_last_night(ran, settings)
    comparisons = _between_versions(ran) + tonight
    records = differential.load_records(settings.results)
    exit_code, verdict = _verdict(results, comparisons,
                                  differential.problems(results, records, label))
    if stopped:
        exit_code, verdict = INTERRUPTED, f"INTERRUPTED ({stopped}): {verdict}"
    ok = exit_code == 0
    save_summary(settings.run_id, results, settings.results / SUMMARY,
                 _night_keys(verdict, exit_code, stopped, last_night, comparisons))
    junit = merge_junit(runs, settings.results / "junit.xml")
    waiting = waiting_points(settings.influx, settings.results.parent, settings.project)
    baseline = (f"compared with the previous night, run {last_night}" if last_night else
                f"no previous completed night in {settings.results.parent}: nothing to "
                "compare tonight with")
    report = write_report(settings.results / "report.html", settings.run_id, results,
                          comparisons, verdict, ok,
                          sections=(differential.section(results, records, label),),
                          notes=(baseline, *([waiting] if waiting else [])),
                          regions=regions_for(settings.contract),
                          history=night_history(settings.results.parent, settings.run_id))
    return NightlyOutcome(ok, exit_code, verdict, report, junit, results, comparisons, waiting,
                          baseline)


def _night_keys(verdict: str, exit_code: int, stopped: str, last_night: str | None,
                comparisons: Sequence[Comparison]) -> dict[str, Any]:
    """What summary.json says of the night as a whole, for scripts and the next night."""
    return {"verdict": verdict, "exit_code": exit_code, "interrupted": bool(stopped),
            "finished_ns": time.time_ns(), "previous_night": last_night,
            "changes": [{"between": c.title, "after": c.after, "kind": ch.kind,
                         "category": ch.category, "field": ch.field, "loud": ch.loud,
                         "before": list(ch.before), "now": list(ch.after)}
                        for c in comparisons for ch in c.changes]}


def regions_for(contract: Path | None) -> Regions:
    """Where hosts are: the contract's own region table, else the shipped one."""
    if contract is not None:
        try:
            for each in load_contracts(contract):
                if each.residency is not None and each.residency.regions.table:
                    return each.residency.regions
        except BrewbenchError:  # checked before the night; a file changed since is no reason to stop
            pass
    return load_regions(tomllib.loads(regions_text()).get("regions", {}))


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


def _against_last_night(results: list[TargetResult],
                        settings: RunSettings) -> tuple[str | None, list[Comparison]]:
    previous_run, inventories = previous_night(settings.results.parent, settings.run_id,
                                               [r.target for r in results], settings.influx)
    return previous_run, [_compare(f"{label(r)}: run {previous_run} → tonight", label(r),
                                   inventories[r.target.slug], r.inventory)
                          for r in results if r.target.slug in inventories]


def _compare(title: str, after: str, old: Inventory, new: Inventory) -> Comparison:
    return Comparison(title, after, diff(old, new), frozenset(categories(new) - categories(old)))


def _verdict(results: list[TargetResult], comparisons: list[Comparison],
             followed: Sequence[str] = ()) -> tuple[int, str]:
    """The exit code and the one line saying why; ``followed`` names the targets whose
    fields follow planted values beyond the contract (differential runs)."""
    breaches = [label(r) for r in results if _breached(r)]
    judged = sum(1 for r in results for t in r.run.failed if differential.DIFFERENTIAL_TEST in t)
    failed = sum(len(r.run.failed) for r in results) - sum(
        sum(1 for t in r.run.failed if BREACH in r.run.messages.get(t, "")) for r in results
    ) - min(judged, len(followed))
    unflashed = sum(1 for r in results if not r.run.flashed)
    crashed = [label(r) for r in results if r.run.crashed]
    empty = [label(r) for r in results if r.run.flashed and not r.run.crashed and not r.run.outcomes]
    loud = sorted({f"{c.category} {c.field}" for comp in comparisons for c in comp.changes if c.loud})
    problems = []
    if breaches:
        problems.append(f"data contract violated by {', '.join(breaches)}")
    if followed:
        problems.append(f"fields follow planted values beyond the contract (differential) on "
                        f"{'; '.join(followed)}")
    if failed:
        problems.append(f"{failed} test(s) failed")
    if unflashed:
        problems.append(f"{unflashed} firmware flash(es) failed")
    if crashed:
        problems.append(f"pytest could not run the tests on {', '.join(crashed)}")
    if empty:
        problems.append(f"no tests collected on {', '.join(empty)}")
    text = "; ".join(problems) if problems else "all tests passed"
    if loud:
        text += f". New payment/identity data: {', '.join(loud)}"
    if breaches or followed or failed or unflashed:
        return VERDICT_FAILED, text
    return (NOTHING_RAN if crashed or empty else 0), text


def _breached(result: TargetResult) -> bool:
    """A test failed because the device collected more than its contract allows."""
    return any(BREACH in result.run.messages.get(test, "") for test in result.run.failed)

"""The report's test outcomes and action timings, folded so a night of many targets
stays a page, not a scroll: tests that did not pass are listed one per line with why;
passed runs of the same test fold into one line; the timings are one table (actions by
target) and one timeline, not one table per target."""

from __future__ import annotations

import html
import os
import re
from collections.abc import Sequence
from pathlib import Path

from .headline import label
from .summary import TargetResult, test_key

__all__ = ["outcomes_table", "reason", "timings_table"]

NOT_PASSED = ("FAILED", "ERROR", "SKIPPED", "XFAIL", "XPASS")
REASON_CHARS = 240  # of a failure message: its first line, enough to say why
PARAMS = re.compile(r"\[.*\]$")


def reason(message: str) -> str:
    """The first meaningful line of a JUnit message (pytest's ``Skipped:`` prefix off)."""
    for line in message.splitlines():
        line = line.strip()
        if line:
            line = line.removeprefix("Skipped: ").removeprefix("skipped: ")
            return line if len(line) <= REASON_CHARS else line[:REASON_CHARS - 1] + "…"
    return ""


def outcomes_table(results: Sequence[TargetResult], folder: Path) -> str:
    counts: dict[str, int] = {}
    problems, passed = [], []
    folded: dict[str, list[str]] = {}
    for result in results:
        run = result.run
        if run.flash is not None and not run.flash.ok:
            problems.append(_row(label(result), "flash", "FAILED", run.flash.summary, ""))
        for test, outcome in run.outcomes.items():
            counts[outcome] = counts.get(outcome, 0) + 1
            link = _link(result, test, folder)
            if outcome in NOT_PASSED:
                problems.append(_row(label(result), test, outcome,
                                     reason(run.messages.get(test, "")) or "–", link))
            else:
                folded.setdefault(PARAMS.sub("", test), []).append(label(result))
                passed.append(_row(label(result), test, outcome, "", link))
    tally = ", ".join(f"{n} {outcome.lower()}" for outcome, n in sorted(counts.items()))
    shown = "".join(problems) or "<tr><td colspan='5' class='muted'>every test passed</td></tr>"
    summary = "".join(f"<tr><td>{_e(test)}</td><td>{len(targets)}</td>"
                      f"<td>{_e(', '.join(dict.fromkeys(targets)))}</td></tr>"
                      for test, targets in sorted(folded.items()))
    return (f"<h2>Tests</h2><p>{sum(counts.values())} test runs: {_e(tally or 'none')}.</p>"
            "<table id='tests'><tr><th>target</th><th>test</th><th>outcome</th><th>why</th>"
            f"<th></th></tr>{shown}</table>"
            "<table id='passed'><tr><th>passed test</th><th>runs</th><th>on</th></tr>"
            f"{summary}</table>"
            f"<details><summary>every passed run, with its capture</summary><table>"
            f"{''.join(passed)}</table></details>")


def _row(target: str, test: str, outcome: str, why: str, link: str) -> str:
    css = "loud" if outcome in ("FAILED", "ERROR") else ""
    return (f"<tr class='{css}'><td>{_e(target)}</td><td>{_e(test)}</td><td>{outcome}</td>"
            f"<td>{_e(why)}</td><td>{link}</td></tr>")


def _link(result: TargetResult, test: str, folder: Path) -> str:
    capture = result.captures.get(test_key(test))
    return f"<a href='{_e(os.path.relpath(capture, folder))}'>capture</a>" if capture else ""


def timings_table(results: Sequence[TargetResult]) -> str:
    """Mean and max ms per action (rows) and target (columns), then one session's timeline."""
    timed = [r for r in results if r.latencies]
    if not timed:
        return ""
    actions = sorted({a for r in timed for a in r.latencies})
    head = "".join(f"<th>{_e(label(r))}</th>" for r in timed)
    rows = []
    for action in actions:
        cells = []
        for r in timed:
            values = r.latencies.get(action)
            cells.append(f"<td>{1000 * sum(values) / len(values):.1f} / {1000 * max(values):.1f}"
                         "</td>" if values else "<td class='muted'>–</td>")
        rows.append(f"<tr><td>{_e(action)}</td>{''.join(cells)}</tr>")
    shown = timed[-1]  # the newest firmware, usually the one under question
    return ("<h2>Action timings</h2><p>Mean / max ms per action.</p><table id='timings'>"
            f"<tr><th>action</th>{head}</tr>{''.join(rows)}</table>"
            f"<h3>Timeline of one session on {_e(label(shown))}</h3>{_timeline(shown)}")


def _timeline(result: TargetResult) -> str:
    """One session's actions as bars placed at their start, scaled to 600 px."""
    spans = result.timeline
    if not spans:
        return ""
    end = max(s.start_s + s.duration_s for s in spans) or 1.0
    rows = "".join(
        f"<tr class='{'' if s.outcome == 'ok' else 'loud'}'><td>{_e(s.action)}</td>"
        f"<td>{1000 * s.start_s:.1f}</td><td><span class='bar' style='margin-left:"
        f"{int(600 * s.start_s / end)}px;width:{int(600 * s.duration_s / end) + 1}px'></span>"
        f" {1000 * s.duration_s:.2f} ms</td></tr>" for s in spans)
    return ("<table class='timeline'><tr><th>action</th><th>start ms</th><th>when, how long</th>"
            f"</tr>{rows}</table>")


def _e(text: str) -> str:
    return html.escape(text, quote=True)

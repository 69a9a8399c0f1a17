"""The nightly report: one self-contained HTML page (inline CSS, inline PNG plots).

Values captured from devices never appear here: the report shows categories,
field paths, channels, actions and counts only.
"""

from __future__ import annotations

import base64
import html
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .diff import Change, categories
from .plots import bar_groups
from .summary import TargetResult, test_key

CATEGORIES = ("product", "payment", "time", "location", "identity", "device", "voice", "unknown")
CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.6em}h2{margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f3f3f3}.verdict{padding:.8em 1em;font-size:1.3em;border-radius:6px}
.pass{background:#dff3df}.fail{background:#f8d7d7}.new{background:#ffd966;font-weight:bold}
.yes{background:#e6eefc}.loud{color:#a00;font-weight:bold}.muted{color:#888}
.bar{background:#6a8fd8;height:10px;display:inline-block}img{max-width:100%}
"""

# Lets a browser (and the bench's own check) tell that every plot decoded, how tall the
# page is (so the screenshot holds all of it) and where the test table ends.
IMAGE_CHECK = ("<script>addEventListener('load',()=>{const b=document.body.dataset;"
               "b.images=[...document.images].every(i=>i.complete&&i.naturalWidth>0)?'ok':'broken';"
               "b.height=document.documentElement.scrollHeight;"
               "const t=document.getElementById('tests');"
               "b.testsBottom=t?Math.ceil(t.getBoundingClientRect().bottom+scrollY):0})</script>")


@dataclass(frozen=True)
class Comparison:
    """A diff between two inventories, with what was compared."""

    title: str
    after: str  # the label of the newer side, as the matrix shows it
    changes: list[Change]
    new_categories: frozenset[str] = frozenset()  # categories the newer side adds


def write_report(path: Path, run_id: str, results: Sequence[TargetResult],
                 comparisons: Sequence[Comparison], verdict: str, ok: bool,
                 sections: Sequence[str] = ()) -> Path:
    """Write the report page; links to captures are relative to its folder. ``sections``
    are HTML fragments placed after the diffs (the differential analysis)."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>brewbench nightly "
             f"{_e(run_id)}</title><style>{CSS}</style></head><body>",
             f"<h1>brewbench nightly {_e(run_id)}</h1>",
             f"<p class='verdict {'pass' if ok else 'fail'}' id='verdict'>{_e(verdict)}</p>",
             _matrix(results, comparisons), _destinations(results), _voice(results),
             _diffs(comparisons),
             *sections, _plots(results),
             _outcomes(results, path.parent), _timelines(results), IMAGE_CHECK, "</body></html>"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _matrix(results: Sequence[TargetResult], comparisons: Sequence[Comparison]) -> str:
    new = {(c.after, category) for c in comparisons for category in c.new_categories}
    rows = []
    for result in results:
        have = categories(result.inventory)
        cells = []
        for category in CATEGORIES:
            if category not in have:
                cells.append("<td class='muted'>–</td>")
            elif (label(result), category) in new:
                cells.append("<td class='new'>NEW</td>")
            else:
                cells.append("<td class='yes'>collected</td>")
        rows.append(f"<tr><th>{_e(label(result))}</th>{''.join(cells)}</tr>")
    head = "".join(f"<th>{c}</th>" for c in CATEGORIES)
    return (f"<h2>What each firmware collects</h2><table id='matrix'><tr><th>firmware / device"
            f"</th>{head}</tr>{''.join(rows)}</table>")


def _destinations(results: Sequence[TargetResult]) -> str:
    """Per firmware and category, the cloud hosts that received it (the uplink)."""
    rows = []
    for result in results:
        for category in CATEGORIES:
            hosts = result.destinations.get(category)
            if hosts:
                listed = ", ".join(f"{_e(host)} ({count})" for host, count in sorted(hosts.items()))
                rows.append(f"<tr><th>{_e(label(result))}</th><td>{category}</td><td>{listed}</td></tr>")
    if not rows:
        return ""
    return ("<h2>Where the data went</h2><p>Cloud hosts that received each category over the "
            "uplink (values per host).</p><table id='destinations'><tr><th>firmware / device</th>"
            f"<th>category</th><th>destinations</th></tr>{''.join(rows)}</table>")


def _voice(results: Sequence[TargetResult]) -> str:
    """Per firmware, the recordings it emitted and the planted values heard in them."""
    rows = []
    for result in results:
        groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for clip in result.voice:
            key = (str(clip.get("format")), str(clip.get("channel")), str(clip.get("action")))
            groups.setdefault(key, []).append(clip)
        for (fmt, channel, action), clips in sorted(groups.items()):
            seconds = sum(float(c.get("seconds") or 0.0) for c in clips)
            speech = sum(1 for c in clips if c.get("speech"))
            spoken = Counter(str(s.get("canary")) for c in clips for s in c.get("spoken", []))
            heard = ", ".join(f"{name} ({count})" for name, count in sorted(spoken.items()))
            rows.append(f"<tr class='{'loud' if spoken else ''}'><th>{_e(label(result))}</th>"
                        f"<td>{_e(fmt)}</td><td>{_e(channel)}</td><td>{_e(action)}</td>"
                        f"<td>{len(clips)}</td><td>{seconds:.1f}</td><td>{speech}</td>"
                        f"<td>{_e(heard) or '–'}</td></tr>")
    if not rows:
        return ""
    return ("<h2>Voice</h2><p>Recordings each firmware emitted, and planted values heard in "
            "them by matching the audio the bench played or by offline transcription "
            "(docs/data-verification.md, \"Voice\").</p>"
            "<table id='voice'><tr><th>firmware / device</th><th>format</th><th>channel</th>"
            "<th>action</th><th>clips</th><th>seconds</th><th>speech</th>"
            f"<th>planted values heard</th></tr>{''.join(rows)}</table>")


def _diffs(comparisons: Sequence[Comparison]) -> str:
    out = ["<h2>Changes</h2>"]
    for comparison in comparisons:
        out.append(f"<h3>{_e(comparison.title)}</h3>")
        if not comparison.changes:
            out.append("<p class='muted'>no change in what is collected</p>")
            continue
        rows = "".join(
            f"<tr class='{'loud' if c.loud else ''}'><td>{c.kind}</td><td>{_e(c.category)}</td>"
            f"<td>{_e(c.field)}</td><td>{_e(', '.join(c.before))}</td>"
            f"<td>{_e(', '.join(c.after))}</td></tr>" for c in comparison.changes)
        out.append("<table class='diff'><tr><th>change</th><th>category</th><th>field</th>"
                   f"<th>before (channel/action)</th><th>after</th></tr>{rows}</table>")
    return "".join(out)


def _plots(results: Sequence[TargetResult]) -> str:
    per_category = {label(r): dict(Counter(_category_counts(r))) for r in results}
    latency = {label(r): {a: 1000 * sum(v) / len(v) for a, v in r.latencies.items() if v}
               for r in results}
    images = [bar_groups("Emissions per category", "emissions", per_category),
              bar_groups("Mean action latency", "ms", latency)]
    tags = "".join(f"<p><img alt='plot' src='data:image/png;base64,"
                   f"{base64.b64encode(png).decode()}'></p>" for png in images)
    return f"<h2>Plots</h2>{tags}"


def _category_counts(result: TargetResult) -> Iterable[str]:
    for item, count in result.inventory.items():
        yield from [item.category] * count


def _outcomes(results: Sequence[TargetResult], folder: Path) -> str:
    rows = []
    for result in results:
        run = result.run
        if run.flash is not None and not run.flash.ok:
            rows.append(f"<tr class='loud'><td>{_e(label(result))}</td><td>flash</td>"
                        f"<td>{_e(run.flash.summary)}</td><td></td></tr>")
        for test, outcome in run.outcomes.items():
            capture = result.captures.get(test_key(test))
            link = (f"<a href='{_e(os.path.relpath(capture, folder))}'>capture</a>"
                    if capture else "")
            css = "loud" if outcome in ("FAILED", "ERROR") else ""
            rows.append(f"<tr class='{css}'><td>{_e(label(result))}</td><td>{_e(test)}</td>"
                        f"<td>{outcome}</td><td>{link}</td></tr>")
    return ("<h2>Tests</h2><table id='tests'><tr><th>target</th><th>test</th><th>outcome</th>"
            f"<th></th></tr>{''.join(rows)}</table>")


def _timelines(results: Sequence[TargetResult]) -> str:
    out = ["<h2>Action timings and timelines</h2>"]
    for result in results:
        if not result.latencies:
            continue
        longest = max(max(v) for v in result.latencies.values())
        rows = "".join(
            f"<tr><td>{_e(action)}</td><td>{len(v)}</td><td>{1000 * sum(v) / len(v):.2f}</td>"
            f"<td><span class='bar' style='width:{int(300 * max(v) / longest) + 1}px'></span>"
            f" {1000 * max(v):.2f}</td></tr>" for action, v in sorted(result.latencies.items()))
        out.append(f"<h3>{_e(label(result))}</h3><table><tr><th>action</th><th>runs</th>"
                   f"<th>mean ms</th><th>max ms</th></tr>{rows}</table>{_timeline(result)}")
    return "".join(out)


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
    return (f"<p>Timeline of one session:</p><table class='timeline'><tr><th>action</th>"
            f"<th>start ms</th><th>when, how long</th></tr>{rows}</table>")


def label(result: TargetResult) -> str:
    """How the report names a target."""
    return f"{result.target.firmware} {result.target.device}"


def _e(text: str) -> str:
    return html.escape(text, quote=True)

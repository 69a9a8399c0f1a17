"""The nightly report: one self-contained HTML page (inline CSS, inline PNG plots).

Values captured from devices never appear here: the report shows categories,
field paths, channels, actions and counts only.
"""

from __future__ import annotations

import base64
import html
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..verify.residency import Regions
from .diff import categories
from .headline import Comparison, headline, label, main_region, placed_destinations
from .plots import bar_groups, trend_lines
from .report_tests import outcomes_table, timings_table
from .summary import TargetResult

__all__ = ["CATEGORIES", "Comparison", "label", "write_report"]

CATEGORIES = ("product", "payment", "time", "location", "identity", "device", "voice", "unknown")
CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.6em}h2{margin-top:1.2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f3f3f3}.verdict{padding:.8em 1em;font-size:1.3em;border-radius:6px}
.pass{background:#dff3df}.fail{background:#f8d7d7}.new{background:#ffd966;font-weight:bold}
.yes{background:#e6eefc}.loud{color:#a00;font-weight:bold}.muted{color:#888}
.bar{background:#6a8fd8;height:10px;display:inline-block}img{max-width:100%}
"""

# Lets a browser (and the bench's own check) tell that every plot decoded, how tall the
# page is (so the screenshot holds all of it), where the test table ends and where the
# first new fields and the first two broken rules end (above the fold or not).
IMAGE_CHECK = ("<script>addEventListener('load',()=>{const b=document.body.dataset;"
               "b.images=[...document.images].every(i=>i.complete&&i.naturalWidth>0)?'ok':'broken';"
               "b.height=document.documentElement.scrollHeight;"
               "const t=document.getElementById('tests');"
               "b.testsBottom=t?Math.ceil(t.getBoundingClientRect().bottom+scrollY):0;"
               # where the headline's first lines end, to tell they are above the fold
               "const f=document.querySelector('#new-fields li');"
               "b.newFieldsBottom=f?Math.ceil(f.getBoundingClientRect().bottom+scrollY):0;"
               "const v=document.querySelectorAll('#violations tr')[2];"
               "b.violationsBottom=v?Math.ceil(v.getBoundingClientRect().bottom+scrollY):0})"
               "</script>")


def write_report(path: Path, run_id: str, results: Sequence[TargetResult],
                 comparisons: Sequence[Comparison], verdict: str, ok: bool,
                 sections: Sequence[str] = (), notes: Sequence[str] = (),
                 regions: Regions | None = None,
                 history: Sequence[tuple[str, dict[str, int]]] = ()) -> Path:
    """Write the report page; links to captures are relative to its folder. ``sections``
    are HTML fragments placed after the diffs (the differential analysis); ``notes`` are
    lines under the verdict (where the points are); ``regions`` places destinations;
    ``history`` (earlier nights' emissions per category, oldest first) draws the trend."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>brewbench nightly "
             f"{_e(run_id)}</title><style>{CSS}</style></head><body>",
             f"<h1>brewbench nightly {_e(run_id)}</h1>",
             f"<p class='verdict {'pass' if ok else 'fail'}' id='verdict'>{_e(verdict)}</p>",
             *(f"<p class='note'>{_e(note)}</p>" for note in notes),
             headline(results, comparisons, regions or Regions()),
             _matrix(results, comparisons), _destinations(results, regions or Regions()), _voice(results),
             _diffs(comparisons),
             *sections, _plots(results, run_id, history),
             outcomes_table(results, path.parent), timings_table(results), IMAGE_CHECK,
             "</body></html>"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _matrix(results: Sequence[TargetResult], comparisons: Sequence[Comparison]) -> str:
    """Per target and category: collected or not, and NEW with the count of fields that
    appeared (a category sent before still gets NEW when a field of it is new)."""
    new: dict[tuple[str, str], set[str]] = {}
    for comparison in comparisons:
        for category, fields in comparison.fields_by_category().items():
            new.setdefault((comparison.after, category), set()).update(fields)
    rows = []
    for result in results:
        have = categories(result.inventory)
        cells = []
        for category in CATEGORIES:
            fields = sorted(new.get((label(result), category), ()))
            if category not in have:
                cells.append("<td class='muted'>–</td>")
            elif fields:
                cells.append(f"<td class='new' title='{_e(', '.join(fields))}'>NEW "
                             f"({len(fields)} field{'s' if len(fields) > 1 else ''})</td>")
            else:
                cells.append("<td class='yes'>collected</td>")
        rows.append(f"<tr><th>{_e(label(result))}</th>{''.join(cells)}</tr>")
    head = "".join(f"<th>{c}</th>" for c in CATEGORIES)
    return (f"<h2>What each firmware collects</h2><table id='matrix'><tr><th>firmware / device"
            f"</th>{head}</tr>{''.join(rows)}</table>")


def _destinations(results: Sequence[TargetResult], regions: Regions) -> str:
    """Per firmware and category, the cloud hosts that received it (the uplink), and
    their regions; a row in another region than most of the night's data is flagged."""
    usual = main_region(placed_destinations(results, regions))
    rows = []
    for result in results:
        for category in CATEGORIES:
            hosts = result.destinations.get(category)
            if hosts:
                listed = ", ".join(f"{_e(host)} ({count})" for host, count in sorted(hosts.items()))
                where = sorted({regions.region_of(host) or "unmapped" for host in hosts})
                odd = any(regions.region_of(host) != usual for host in hosts)
                flag = f" ≠ {_e(usual or 'unmapped')}" if odd else ""
                rows.append(f"<tr class='{'loud' if odd else ''}'><th>{_e(label(result))}</th>"
                            f"<td>{category}</td><td>{listed}</td>"
                            f"<td>{_e(', '.join(where))}{flag}</td></tr>")
    if not rows:
        return ""
    return ("<h2>Where the data went</h2><p>Cloud hosts that received each category over the "
            "uplink (values per host), and their region (contracts/regions.toml).</p>"
            "<table id='destinations'><tr><th>firmware / device</th><th>category</th>"
            f"<th>destinations</th><th>region</th></tr>{''.join(rows)}</table>")


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


def _plots(results: Sequence[TargetResult], run_id: str,
           history: Sequence[tuple[str, dict[str, int]]]) -> str:
    per_category = {label(r): dict(Counter(_category_counts(r))) for r in results}
    latency = {label(r): {a: 1000 * sum(v) / len(v) for a, v in r.latencies.items() if v}
               for r in results}
    images = [bar_groups("Emissions per category (log scale)", "emissions", per_category,
                         log=True),
              bar_groups("Mean action latency", "ms", latency)]
    if history:  # a trend needs a night before tonight
        tonight: Counter[str] = Counter()
        for counts in per_category.values():
            tonight.update(counts)
        nights = {**dict(history), run_id: dict(tonight)}
        images.append(trend_lines("Emissions per category, night by night (log scale)",
                                  "emissions", nights))
    tags = "".join(f"<p><img alt='plot' src='data:image/png;base64,"
                   f"{base64.b64encode(png).decode()}'></p>" for png in images)
    return f"<h2>Plots</h2>{tags}"


def _category_counts(result: TargetResult) -> Iterable[str]:
    for item, count in result.inventory.items():
        yield from [item.category] * count


def _e(text: str) -> str:
    return html.escape(text, quote=True)

"""The nightly's view of differential analyses: the findings files the suite's
``test_differential`` wrote (bench.differential_results), as a report section and
as problems for the verdict. Only names, fields and categories: never a value."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .summary import TargetResult

DIFFERENTIAL_TEST = "test_differential"  # the standard suite's differential analysis
FOLDER = "differential"


def load_records(results: Path) -> dict[str, dict[str, Any]]:
    """The findings files under ``results/differential``, by device spec; a file that
    cannot be read is skipped (its test failed and says why)."""
    records: dict[str, dict[str, Any]] = {}
    for path in sorted((results / FOLDER).glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and record.get("format") == "brewbench-differential":
            records[str(record.get("spec"))] = record
    return records


def problems(results: Sequence[TargetResult], records: dict[str, dict[str, Any]],
             label: Any) -> list[str]:
    """One line per target whose differential findings go beyond its contract."""
    out = []
    for result in results:
        beyond = records.get(result.target.spec, {}).get("beyond_contract") or []
        if beyond:
            out.append(f"{label(result)}: {', '.join(beyond)}")
    return out


def section(results: Sequence[TargetResult], records: dict[str, dict[str, Any]],
            label: Any) -> str:
    """The report's "Differential analysis" section (empty when none ran)."""
    chosen = [(r, records[r.target.spec]) for r in results if r.target.spec in records]
    if not chosen:
        return ""
    out = ["<h2>Differential analysis: what follows a planted value</h2>"]
    for result, record in chosen:
        beyond = set(record.get("beyond_contract") or [])
        out.append(f"<h3>{_e(label(result))}</h3><p>{_e(str(record.get('summary', '')))}</p>")
        rows = []
        for f in record.get("findings", []):
            where = f["field"] + (f"[{f['span'][0]}:{f['span'][1]}]" if f.get("span") else "")
            name = "/".join(f["canaries"]) + " in " + where
            rows.append(
                f"<tr class='{'loud' if name in beyond else ''}'><td>{_e(name)}</td>"
                f"<td>{_e(', '.join(f['categories']))}</td><td>{_e(f['status'])}</td>"
                f"<td>{_e(f['action'])}</td><td>{_e(f['channel'])}</td><td>{f['count']}</td>"
                f"<td>{'yes' if name in beyond else 'no'}</td></tr>")
        if rows:
            out.append("<table class='differential'><tr><th>planted value in field</th>"
                       "<th>category</th><th>status</th><th>action</th><th>channel</th>"
                       f"<th>count</th><th>beyond contract</th></tr>{''.join(rows)}</table>")
    return "".join(out)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


__all__ = ["DIFFERENTIAL_TEST", "load_records", "problems", "section"]

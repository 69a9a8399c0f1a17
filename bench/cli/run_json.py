"""``brewbench run --json``: the run as one JSON document on stdout, for scripts.

Everything the run would print for people goes to stderr instead, so
``brewbench run --json | python -m json.tool`` always reads one document.
The schema (docs/cli-json.md) is versioned by ``"format"``; values a device sent never
appear in it, only categories, fields, channels, actions, counts and canary names.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

from ..verify.hunter import Finding
from ..verify.spoken import SpokenFinding
from ..verify.verification import Verification
from .run_verdict import RunVerdict

__all__ = ["FORMAT", "RunReport"]

FORMAT = "brewbench-run/1"


class RunReport:
    """Collects each device's result of one run, then writes the document."""

    def __init__(self, run_id: str, results: Path) -> None:
        self.run_id, self.results = run_id, results
        self.devices: list[dict[str, Any]] = []

    def add(self, spec: str, failures: int, error: str, capture: Path | None,
            found: Verification | None) -> None:
        """One device: its failed steps, the error that ended it, and what it gave away."""
        record: dict[str, Any] = {"spec": spec, "failed_steps": failures, "error": error or None,
                                  "capture": str(capture) if capture else None}
        if found is not None:
            record.update(_found(found))
        self.devices.append(record)

    def write(self, out: TextIO, verdict: RunVerdict, exit_code: int, influx: str,
              waiting: str) -> None:
        line = verdict.line()
        document = {"format": FORMAT, "run_id": self.run_id, "results": str(self.results),
                    "verdict": {"status": line.split(":", 2)[1].strip(), "line": line,
                                "exit_code": exit_code,
                                "contract": str(verdict.contract) if verdict.contract else None},
                    "influx": {"target": influx, "waiting": waiting or None},
                    "devices": self.devices}
        json.dump(document, out, indent=1)
        out.write("\n")


def _found(found: Verification) -> dict[str, Any]:
    """What one capture showed, as counts and names."""
    collected: Counter[tuple[str, str]] = Counter()
    for item in found.classified:
        for category in item.categories:
            collected[(category, item.emission.path)] += 1
    verdict = found.verdict
    return {
        "model": found.capture.meta.get("model"), "firmware": found.capture.meta.get("firmware"),
        "collected": [{"category": c, "field": f, "count": n}
                      for (c, f), n in sorted(collected.items())],
        "planted_values_found": _planted(found),
        "contract": None if verdict is None else {
            "ok": verdict.ok, "source": str(verdict.contract.source),
            "violations": [{"category": v.category, "field": v.field, "action": v.action,
                            "channel": v.channel, "why": v.why, "count": v.count,
                            "destination": v.destination or None}
                           for v in verdict.violations]},
        "problems": list(found.problems),
    }


def _planted(found: Verification) -> list[dict[str, str]]:
    """Every planted value that came back, as text or heard in a recording (encoding
    "spoken"), as the verdict line counts them."""
    came_back: list[Finding | SpokenFinding] = [*found.findings, *found.spoken]
    return [{"canary": f.canary, "category": f.category, "field": f.path, "channel": f.channel,
             "action": f.action, "encoding": f.chain} for f in came_back]

"""What the bench keeps of a differential analysis: a findings file, the first
baseline run's capture, InfluxDB points, and the verdict against a data contract.

Both ``brewbench run --differential`` and the pytest fixture keep results through
here. The findings file (``<results>/differential/<device>.json``) holds planted
value names, categories, fields, ranges and keyed hashes, never a value; the
nightly report reads it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..drivers.records import RX
from ..drivers.specs import slug
from .influx.differential_points import differential_points
from .influx.run_log import RunLog
from .influx.schema import RunTags
from .verify.capture_redaction import classify_capture, redact_capture, save_capture
from .verify.classify import Classified, Label
from .verify.contracts import Verdict
from .verify.diff_slots import ABSENT
from .verify.differential import (
    DifferentialResult,
    DiffFinding,
    differential_verdict,
    findings_beyond,
)
from .verify.redact import Redactor

FOLDER = "differential"


@dataclass
class DifferentialOutcome:
    """What a differential analysis means for the device."""

    result: DifferentialResult
    verdict: Verdict | None  # with a contract: every run's verdict plus the findings
    beyond: list[str] = field(default_factory=list)  # findings the contract does not allow
    path: Path | None = None  # the findings file

    @property
    def ok(self) -> bool:
        return not self.beyond and not self.other_breaches

    @property
    def other_breaches(self) -> list[str]:
        """Breaches of the contract the differential findings do not explain: what the
        hunter and classifier saw in any run (a planted owner in a log line)."""
        if self.verdict is None:
            return []
        return [f"{v.category} in {v.field} during {v.action}" for v in self.verdict.violations
                if "(differential)" not in v.why]

    def line(self) -> str:
        """The verdict in one line, saying one thing."""
        device = self.result.device
        if self.verdict is None:
            if self.ok:
                return f"{device}: no differential finding (no contract given: each would count)"
            return (f"{device}: {len(self.beyond)} differential finding(s) (no contract given: "
                    f"each counts): {'; '.join(self.beyond)}")
        source, runs = self.verdict.contract.source, len(self.result.design.runs)
        if self.ok:
            return (f"{device}: no differential finding beyond its contract {source}, and "
                    f"within it in all {runs} runs")
        parts = []
        if self.beyond:
            parts.append(f"{len(self.beyond)} differential finding(s) beyond its contract "
                         f"{source}: {'; '.join(self.beyond)}")
        if self.other_breaches:
            parts.append(f"{len(self.other_breaches)} breach(es) of its contract {source} in "
                         f"the runs themselves: {'; '.join(self.other_breaches)}")
        return f"{device}: {'; and '.join(parts)}"


def judge_differential(result: DifferentialResult, contract: Path | None,
                       redactor: Redactor | None = None) -> DifferentialOutcome:
    """The verdict; without a contract every finding counts as beyond it. With one, the
    contract is judged over every run, and a breach in any of them fails it.

    Raises:
        ContractError: the contract file is invalid or does not cover the device.
    """
    if contract is None:
        return DifferentialOutcome(result, None, [_name(f) for f in findings_beyond(result, None)])
    verdict = differential_verdict(result, contract, redactor)
    beyond = findings_beyond(result, verdict.contract)
    return DifferentialOutcome(result, verdict, [_name(f) for f in beyond])


def keep_differential(outcome: DifferentialOutcome, results: Path, run_log: RunLog, *,
                      test: str, started_ns: int, raw: bool = False,
                      log_test: bool = True) -> Path:
    """Save the findings file and the baseline capture under ``results/differential``,
    and log its findings, and the test unless ``log_test`` is False (the pytest plugin
    logs every test itself); returns the findings file.

    Raises:
        LabKeyError: the lab key for keyed hashes cannot be read or created.
    """
    result = outcome.result
    redactor = Redactor.from_lab_key()
    folder = results / FOLDER
    name = slug(str(result.captures[0].meta.get("spec", result.device)))
    baseline = result.captures[result.design.baselines[0]]
    if raw:
        save_capture(baseline, folder / f"{name}.baseline.jsonl", raw=True)
    else:
        redact_capture(baseline, redactor, _labelled(result)).save(
            folder / f"{name}.baseline.jsonl")
    path = folder / f"{name}.json"
    _write_private(path, json.dumps(findings_record(outcome, redactor), indent=1))
    if log_test:
        run_log.test(baseline, test=test, outcome="passed" if outcome.ok else "failed",
                     duration_s=(time.time_ns() - started_ns) / 1e9, started_ns=started_ns)
    chosen = outcome.verdict.contract if outcome.verdict else None
    run_log.sink.write(differential_points(result, RunTags(run=run_log.run, test=test), redactor,
                                           beyond=findings_beyond(result, chosen),
                                           contract=chosen.source if chosen else ""))
    outcome.path = path
    return path


def _labelled(result: DifferentialResult) -> list[Classified]:
    """The first baseline's emissions classified as usual, plus the planted values' categories
    on every field a finding names: a field that follows the owner is redacted as identity,
    whatever the field catalogue says it holds."""
    baseline = result.captures[result.design.baselines[0]]
    classified, _ = classify_capture(baseline, result.base)
    extra: dict[tuple[str, str, str], tuple[Label, ...]] = {}
    for f in result.findings:
        labels = tuple(Label(c, "differential", f"follows {'/'.join(f.canaries)}")
                       for c in f.categories)
        extra[f.action, f.channel, f.path] = extra.get((f.action, f.channel, f.path), ()) + labels
    out = []
    for item in classified:
        e = item.emission
        more = extra.get((e.action, e.channel, e.path), ()) if e.direction == RX else ()
        out.append(Classified(e, item.labels + more) if more else item)
    return out


def findings_record(outcome: DifferentialOutcome, redactor: Redactor) -> dict[str, Any]:
    """The findings file's content: names, places and keyed hashes only."""
    result = outcome.result
    return {
        "format": "brewbench-differential", "version": 1, "device": result.device,
        "spec": result.captures[0].meta.get("spec", result.device),
        "model": result.captures[0].meta.get("model", ""),
        "firmware": result.captures[0].meta.get("firmware", ""),
        "design": result.design.kind, "runs": [r.label for r in result.design.runs],
        "replicates": result.design.replicates,
        "slots": result.slots, "noisy": result.noisy, "summary": result.summary(),
        "contract": outcome.verdict.contract.source if outcome.verdict else None,
        "beyond_contract": outcome.beyond, "other_breaches": outcome.other_breaches,
        "ok": outcome.ok, "verdict": outcome.line(),
        "aligned_by_position": result.by_position,
        "noise": [{
            "action": n.action, "channel": n.channel, "field": n.path, "why": n.how,
            "count": n.count,
            "evidence": [[label, None if value is ABSENT else redactor.digest(value)]
                         for label, value in n.evidence]} for n in result.noise],
        "findings": [{
            "canaries": list(f.canaries), "categories": list(f.categories), "status": f.status,
            "exact": f.exact, "action": f.action, "channel": f.channel, "field": f.path,
            "span": list(f.span) if f.span else None, "count": f.count,
            "present_in_runs": f.present or len(result.design.runs), "lag": f.lag,
            "evidence": [[label, None if value is ABSENT else redactor.digest(value)]
                         for label, value in f.evidence],
            "text": f.describe(redactor)} for f in result.findings]}


def _name(finding: DiffFinding) -> str:
    return f"{'/'.join(finding.canaries)} in {finding.where}"


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


__all__ = ["FOLDER", "DifferentialOutcome", "findings_record", "judge_differential",
           "keep_differential"]

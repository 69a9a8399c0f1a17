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

from ..drivers.specs import slug
from .influx.differential_points import differential_points
from .influx.run_log import RunLog
from .influx.schema import RunTags
from .verify.capture_redaction import save_capture
from .verify.contracts import Verdict
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
    verdict: Verdict | None  # with a contract: the baseline's verdict plus the findings
    beyond: list[str] = field(default_factory=list)  # findings the contract does not allow
    path: Path | None = None  # the findings file

    @property
    def ok(self) -> bool:
        return not self.beyond

    def line(self) -> str:
        """The verdict in one line."""
        if self.verdict is None:
            where, none = "(no contract given: each counts)", "no differential finding"
        else:
            where = f"beyond its contract {self.verdict.contract.source}"
            none = f"no differential finding {where}"
        if self.ok:
            return f"{self.result.device}: {none}"
        return (f"{self.result.device}: {len(self.beyond)} differential finding(s) {where}: "
                f"{'; '.join(self.beyond)}")


def judge_differential(result: DifferentialResult, contract: Path | None,
                       redactor: Redactor | None = None) -> DifferentialOutcome:
    """The verdict; without a contract every finding counts as beyond it.

    Raises:
        ContractError: the contract file is invalid or does not cover the device.
    """
    if contract is None:
        return DifferentialOutcome(result, None, [_name(f) for f in findings_beyond(result, None)])
    verdict = differential_verdict(result, contract, redactor)
    beyond = findings_beyond(result, verdict.contract)
    return DifferentialOutcome(result, verdict, [_name(f) for f in beyond])


def keep_differential(outcome: DifferentialOutcome, results: Path, run_log: RunLog, *,
                      test: str, started_ns: int, raw: bool = False) -> Path:
    """Save the findings file and the baseline capture under ``results/differential``,
    and log the test and its findings; returns the findings file.

    Raises:
        LabKeyError: the lab key for keyed hashes cannot be read or created.
    """
    result = outcome.result
    redactor = Redactor.from_lab_key()
    folder = results / FOLDER
    name = slug(str(result.captures[0].meta.get("spec", result.device)))
    baseline = result.captures[result.design.baselines[0]]
    save_capture(baseline, folder / f"{name}.baseline.jsonl", redactor=redactor,
                 canaries=result.base, raw=raw)
    path = folder / f"{name}.json"
    _write_private(path, json.dumps(findings_record(outcome, redactor), indent=1))
    run_log.test(baseline, test=test, outcome="passed" if outcome.ok else "failed",
                 duration_s=(time.time_ns() - started_ns) / 1e9, started_ns=started_ns)
    chosen = outcome.verdict.contract if outcome.verdict else None
    run_log.sink.write(differential_points(result, RunTags(run=run_log.run, test=test), redactor,
                                           beyond=findings_beyond(result, chosen),
                                           contract=chosen.source if chosen else ""))
    outcome.path = path
    return path


def findings_record(outcome: DifferentialOutcome, redactor: Redactor) -> dict[str, Any]:
    """The findings file's content: names, places and keyed hashes only."""
    result = outcome.result
    return {
        "format": "brewbench-differential", "version": 1, "device": result.device,
        "spec": result.captures[0].meta.get("spec", result.device),
        "model": result.captures[0].meta.get("model", ""),
        "firmware": result.captures[0].meta.get("firmware", ""),
        "design": result.design.kind, "runs": [r.label for r in result.design.runs],
        "slots": result.slots, "noisy": result.noisy, "summary": result.summary(),
        "contract": outcome.verdict.contract.source if outcome.verdict else None,
        "beyond_contract": outcome.beyond, "verdict": outcome.line(),
        "findings": [{
            "canaries": list(f.canaries), "categories": list(f.categories), "status": f.status,
            "exact": f.exact, "action": f.action, "channel": f.channel, "field": f.path,
            "span": list(f.span) if f.span else None, "count": f.count,
            "evidence": [[label, redactor.digest(value)] for label, value in f.evidence],
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

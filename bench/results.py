"""What the bench keeps of one device's test: its capture file and its points.

Both the pytest plugin and ``brewbench run`` keep results through here, so a
capture is always saved redacted unless raw values were asked for, and the same
points reach InfluxDB or the spool either way.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from .capture import Capture
from .influx.points import complete_tags
from .influx.run_log import RunLog
from .influx.schema import RunTags
from .influx.verification_points import emission_summaries, finding_points, violation_points
from .verify.canaries import CanarySet
from .verify.capture_redaction import save_capture
from .verify.redact import Redactor
from .verify.verification import Verification, verify


def new_run_id() -> str:
    """Sortable and unique: the start time plus a random suffix."""
    return time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(2)


@dataclass(frozen=True)
class TestOutcome:
    """How a test went, as the run log records it."""

    test: str
    outcome: str  # passed | failed | skipped | error
    duration_s: float
    started_ns: int
    error_type: str = ""


def keep(capture: Capture, path: Path, run_log: RunLog, outcome: TestOutcome, *,
         canaries: CanarySet | None = None, raw: bool = False) -> Verification:
    """Save ``capture`` to ``path`` (redacted unless ``raw``) and log the test with what
    the device emitted and which canaries it gave away.

    Raises:
        LabKeyError: the lab key for keyed hashes cannot be read or created.
    """
    redactor = Redactor.from_lab_key()
    save_capture(capture, path, redactor=redactor, canaries=canaries, raw=raw)
    result = verify(capture, canaries)
    run_log.test(capture, test=outcome.test, outcome=outcome.outcome,
                 duration_s=outcome.duration_s, started_ns=outcome.started_ns,
                 error_type=outcome.error_type, emissions=emission_summaries(result, redactor))
    if result.findings:
        tags = complete_tags(RunTags(run=run_log.run, test=outcome.test), capture)
        run_log.sink.write(finding_points(result, tags, redactor))
    return result


def log_violations(run_log: RunLog, result: Verification, test: str,
                   redactor: Redactor | None) -> int:
    """Write a contract check's violations as ``contract_violations`` points.

    Every place that checks a contract (the plugin's marker and fixture, and so the
    nightly's suite) calls this, so the dashboard's violations panel shows them.

    Returns:
        How many points were written (none without a lab key: the points carry keyed
        hashes, and without the key there are none to give).
    """
    if result.verdict is None or result.verdict.ok or redactor is None:
        return 0
    tags = complete_tags(RunTags(run=run_log.run, test=test), result.capture)
    points = violation_points(result, tags, redactor)
    run_log.sink.write(points)
    return len(points)

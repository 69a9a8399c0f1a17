"""What the bench keeps of one device's test: its capture file and its points.

Both the pytest plugin and ``brewbench run`` keep results through here, so a
capture is always saved redacted unless raw values were asked for, and the same
points reach InfluxDB or the spool either way.
"""

from __future__ import annotations

import errno
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from ..drivers.errors import BrewbenchError
from .capture import Capture
from .influx.points import complete_tags
from .influx.run_log import RunLog
from .influx.schema import RunTags
from .influx.verification_points import (
    destination_points,
    emission_summaries,
    finding_points,
    violation_points,
    voice_points,
)
from .verify.canaries import CanarySet
from .verify.capture_redaction import save_capture
from .verify.contracts import ContractError
from .verify.redact import Redactor
from .verify.spoken import voice_summary
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


class ResultsError(BrewbenchError, OSError):
    """The results folder cannot be written (missing rights, full disk, not a folder)."""


@dataclass(frozen=True)
class Kept:
    """Where a test's capture went and what the bench found in it."""

    path: Path
    verification: Verification


def prepare_results(folder: Path) -> None:
    """Make ``folder`` and check a file can be written there, before any device is driven.

    Raises:
        ResultsError: it cannot be made or written to (one line says why).
    """
    probe = folder / f".brewbench-probe-{os.getpid()}-{secrets.token_hex(2)}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ResultsError(f"results folder {folder} is unusable: {_reason(exc)}; choose "
                           "another with --results / --brewbench-results") from exc


def reserve(path: Path) -> Path:
    """A path nobody else holds: ``path``, else ``<stem>-2``, ``-3``..., created empty (0600).

    Two sessions of one device spec in one run, or two processes sharing a run
    id, each get their own file: the name is taken with ``O_EXCL``, so the
    check and the claim are one step.

    Raises:
        ResultsError: the folder cannot be written.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for number in range(1, 10_000):
            candidate = path if number == 1 else path.with_name(f"{path.stem}-{number}{path.suffix}")
            try:
                os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                continue
            return candidate
    except OSError as exc:
        raise ResultsError(f"cannot save a capture in {path.parent}: {_reason(exc)}") from exc
    raise ResultsError(f"{path.parent} already holds 10000 captures named {path.stem}-*")


def keep(capture: Capture, path: Path, run_log: RunLog, outcome: TestOutcome, *,
         canaries: CanarySet | None = None, raw: bool = False,
         contract: Path | None = None) -> Kept:
    """Save ``capture`` next to ``path`` (redacted unless ``raw``; raw files 0600) under a
    name no other session holds, and log the test with what the device emitted, which
    canaries it gave away and, given a ``contract``, what it collected beyond it.

    Raises:
        LabKeyError: the lab key for keyed hashes cannot be read or created.
        ContractError: the contract is invalid or does not cover the device.
        ResultsError: the capture cannot be written (full disk...); the file is
            then absent or complete, never torn.
    """
    redactor = Redactor.from_lab_key()
    try:
        result, uncovered = verify(capture, canaries, contract), None
    except ContractError as exc:  # the device turned out to be one the file does not cover:
        result, uncovered = verify(capture, canaries), exc  # keep its session all the same
    if result.heard:  # the nightly reads what was heard from the saved capture
        capture.meta["voice"] = voice_summary(result.heard)
    # The capture first, then its points; a capture that cannot be saved still has its
    # test and findings logged (they are facts about the device), then the error.
    try:
        path = reserve(path)
        save_capture(capture, path, redactor=redactor, canaries=canaries, raw=raw,
                     received=result.classified)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise ResultsError(f"capture of {capture.device} not saved to {path}: "
                           f"{_reason(exc)}") from exc
    finally:
        _log_kept(result, run_log, outcome, redactor)
    if uncovered is not None:
        raise ContractError(f"{uncovered}; capture saved to {path}") from uncovered
    return Kept(path, result)


def _log_kept(result: Verification, run_log: RunLog, outcome: TestOutcome,
              redactor: Redactor) -> None:
    """The test's point and what the device gave away, as points."""
    capture = result.capture
    run_log.test(capture, test=outcome.test, outcome=outcome.outcome,
                 duration_s=outcome.duration_s, started_ns=outcome.started_ns,
                 error_type=outcome.error_type, emissions=emission_summaries(result, redactor))
    tags = complete_tags(RunTags(run=run_log.run, test=outcome.test), capture)
    points = (finding_points(result, tags, redactor) + destination_points(result, tags)
              + voice_points(result, tags, redactor))
    if result.verdict is not None and not result.verdict.ok:
        points += violation_points(result, tags, redactor)
    if points:
        run_log.sink.write(points)


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    return exc.strerror or str(exc)


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

"""Runs the suite once per target in its own pytest process, showing progress.

Outcomes come from each run's JUnit file; the console lines only feed the progress
display. The standard suite runs from the installed package (``--pyargs``) with its own
empty pytest config, from the run's folder, loading no conftest.py: neither the
current folder's nor a checkout's (which imports the test extras) nor their pytest
settings reach it. The lab project's ``[tool.brewbench]`` table does.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..influx.settings import InfluxSettings
from .flash import FlashResult, flash
from .outcomes import JunitError, read_outcomes
from .plan import Plan, Target

SUITE = "brewbench.fixtures.suite"  # the standard suite, as an installed package
NO_TESTS = 5  # pytest's exit code when it collected nothing
SHOWN_LINES = 40  # of pytest's output, when it could not run a target
TEST_LINE = re.compile(r"^(\S+::\S+) (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)")
Say = Callable[[str], None]


@dataclass
class TargetRun:
    """How one target's run went."""

    target: Target
    exit_code: int
    junit: Path
    seconds: float
    outcomes: dict[str, str] = field(default_factory=dict)  # test id -> PASSED/FAILED/...
    flash: FlashResult | None = None
    log: str = ""
    messages: dict[str, str] = field(default_factory=dict)  # test id -> why it failed
    problem: str = ""  # why pytest did not run the target's tests, when it did not

    @property
    def crashed(self) -> bool:
        """pytest ran but could not run the tests (bad option, broken conftest, crash)."""
        return self.flashed and bool(self.problem)

    @property
    def flashed(self) -> bool:
        return self.flash is None or self.flash.ok

    @property
    def failed(self) -> list[str]:
        return [test for test, outcome in self.outcomes.items() if outcome in ("FAILED", "ERROR")]


@dataclass(frozen=True)
class RunSettings:
    run_id: str
    results: Path  # the run's own folder
    tests: tuple[str, ...]  # test paths; empty: the standard suite
    pytest_args: tuple[str, ...] = ()
    influx: InfluxSettings | None = None  # where the previous night can be read back
    project: Path | None = None  # the lab project's folder, whose [tool.brewbench] applies
    contract: Path | None = None  # the data contract the suite checks (the report names its rules)


class Interrupted(Exception):
    """Ctrl-C (SIGINT) during the night; ``runs`` are the targets that finished."""

    def __init__(self, runs: list[TargetRun], total: int) -> None:
        super().__init__(f"interrupted after {len(runs)} of {total} target(s)")
        self.runs, self.total = runs, total


def run_plan(plan: Plan, settings: RunSettings, say: Say) -> list[TargetRun]:
    """Every target in turn; a failed flash is reported for its target and the run goes on.

    Raises:
        Interrupted: Ctrl-C; it holds the targets that finished, for their report.
    """
    runs: list[TargetRun] = []
    try:
        _run_targets(plan, settings, say, runs)
    except KeyboardInterrupt as exc:  # pytest got the same SIGINT and stopped its target
        raise Interrupted(runs, len(plan.targets)) from exc
    return runs


def _run_targets(plan: Plan, settings: RunSettings, say: Say, runs: list[TargetRun]) -> None:
    started = time.monotonic()
    for index, target in enumerate(plan.targets, 1):
        label = f"[{index}/{len(plan.targets)}] firmware {target.firmware} on {target.device}"
        say(f"{label}: starting  {_clock(started, index - 1, len(plan.targets))}")
        flashed = None
        if plan.flash and target.image:
            flashed = flash(plan.flash, target, plan.flash_timeout)
            if not flashed.ok:
                say(f"{label}: {flashed.summary}; skipping its tests")
                runs.append(TargetRun(target, 3, Path(), 0.0, flash=flashed, log=flashed.output))
                continue
        runs.append(_run_target(target, settings, label, say))
        runs[-1].flash = flashed
    say(f"done: {len(runs)} targets in {_duration(time.monotonic() - started)}")


def _run_target(target: Target, settings: RunSettings, label: str, say: Say) -> TargetRun:
    junit = settings.results / "junit" / f"{target.slug}.xml"
    junit.unlink(missing_ok=True)  # a rerun with the same run id must not read the old file
    command, cwd = _command(target, settings, junit)
    began = time.monotonic()
    shown = 0
    lines: list[str] = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          stdin=subprocess.DEVNULL, cwd=cwd) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            match = TEST_LINE.match(line)
            if match:
                shown += 1
                say(f"{label}: {shown:3d} {match[2]:<7} {match[1]}  "
                    f"({_duration(time.monotonic() - began)})")
    run = TargetRun(target, proc.returncode, junit, time.monotonic() - began,
                    log="".join(lines[-200:]))
    _read_junit(run)
    if run.problem:
        say(f"{label}: {run.problem}; pytest said:")
        for line in lines[-SHOWN_LINES:]:
            say(f"    {line.rstrip()}")
    elif not run.outcomes:
        say(f"{label}: pytest collected no tests")
    return run


def _command(target: Target, settings: RunSettings, junit: Path) -> tuple[list[str], Path | None]:
    """The pytest command for one target, and the folder to run it in."""
    common = ["--brewbench-device", target.spec, "--brewbench-results", str(settings.results.parent),
              "--brewbench-run-id", settings.run_id, f"--junitxml={junit}",
              "-o", f"junit_suite_name={target.slug}", "-o", "junit_family=xunit1", "-v",
              "-p", "no:cacheprovider", "-o", "console_output_style=classic", *settings.pytest_args]
    if settings.tests:
        return [sys.executable, "-m", "pytest", *settings.tests, *common], None
    ini = settings.results / "pytest.ini"
    ini.parent.mkdir(parents=True, exist_ok=True)
    ini.write_text("# the nightly's own settings for the standard suite: none\n[pytest]\n",
                   encoding="utf-8")
    # pytest's root is the lab's project, so its [tool.brewbench] table (timeout, influx...)
    # applies; no conftest.py is loaded: the suite has none, and a project's or a
    # checkout's (which imports the test extras) is not for it.
    return ([sys.executable, "-m", "pytest", "--pyargs", SUITE, "-c", str(ini), "--rootdir",
             str(settings.project or settings.results), "--noconftest",
             "--import-mode=importlib", *common], settings.results)


def _read_junit(run: TargetRun) -> None:
    """Outcomes from the JUnit file; ``problem`` says why there are none when pytest broke."""
    try:
        outcomes = read_outcomes(run.junit)
    except JunitError as exc:
        run.problem = f"pytest could not run the tests (exit code {run.exit_code}): {exc}"
        return
    run.outcomes, run.messages = outcomes.status, outcomes.messages
    if not run.outcomes and run.exit_code not in (0, NO_TESTS):
        run.problem = f"pytest could not run the tests (exit code {run.exit_code})"


def _clock(started: float, done: int, total: int) -> str:
    elapsed = time.monotonic() - started
    eta = "?" if not done else _duration(elapsed / done * (total - done))
    return f"elapsed {_duration(elapsed)}, eta {eta}"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"

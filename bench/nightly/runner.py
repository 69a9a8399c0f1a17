"""Runs the suite once per target in its own pytest process, showing progress."""

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
from .plan import Plan, Target

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
    tests: tuple[str, ...]
    pytest_args: tuple[str, ...] = ()
    influx: InfluxSettings | None = None  # where the previous night can be read back


def run_plan(plan: Plan, settings: RunSettings, say: Say) -> list[TargetRun]:
    """Every target in turn; a failed flash is reported for its target and the run goes on."""
    runs: list[TargetRun] = []
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
    return runs


def _run_target(target: Target, settings: RunSettings, label: str, say: Say) -> TargetRun:
    junit = settings.results / "junit" / f"{target.slug}.xml"
    command = [sys.executable, "-m", "pytest", *settings.tests, "--brewbench-device", target.spec,
               "--brewbench-results", str(settings.results.parent),
               "--brewbench-run-id", settings.run_id, f"--junitxml={junit}",
               "-o", f"junit_suite_name={target.slug}", "-v", "-p", "no:cacheprovider",
               "-o", "console_output_style=classic", *settings.pytest_args]
    began = time.monotonic()
    outcomes: dict[str, str] = {}
    lines: list[str] = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          stdin=subprocess.DEVNULL) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            match = TEST_LINE.match(line)
            if match:
                outcomes[match[1]] = match[2]
                say(f"{label}: {len(outcomes):3d} {match[2]:<7} {match[1]}  "
                    f"({_duration(time.monotonic() - began)})")
    return TargetRun(target, proc.returncode, junit, time.monotonic() - began, outcomes,
                     log="".join(lines[-200:]))


def _clock(started: float, done: int, total: int) -> str:
    elapsed = time.monotonic() - started
    eta = "?" if not done else _duration(elapsed / done * (total - done))
    return f"elapsed {_duration(elapsed)}, eta {eta}"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"

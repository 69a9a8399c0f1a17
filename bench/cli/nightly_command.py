"""``brewbench nightly``: its command-line options."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from ...drivers.errors import BrewbenchError
from ...emulator.firmware import PROFILES
from ...emulator.serve import LINKS
from ..influx.settings import InfluxConfigError, InfluxSettings, find_pyproject
from ..influx.settings import resolve as resolve_influx
from ..nightly.browser import check_report, find_chromium
from ..nightly.night import run_nightly
from ..nightly.plan import Plan, config_plan, emulated_plan
from ..nightly.runner import SUITE, RunSettings
from ..project_settings import SettingsError, project_layers, resolve_settings
from ..results import new_run_id
from ..shipped import write_contract
from ..verify.contracts import load_contracts
from ..verify.diff_design import DESIGNS

DEFAULT_FIRMWARE = "1.0,2.0,2.1"
NIGHTLY_FLAGS = {"results": "--results", "contract": "--contract"}


class NightlyUsageError(BrewbenchError):
    """An option of ``brewbench nightly`` is wrong; checked before anything runs."""


def add_nightly_parser(commands: Any) -> None:
    nightly = commands.add_parser(
        "nightly", help="run the suite on every firmware version and device, diff, report",
        description="Run the bench suite once per firmware version and device, diff what "
        "each collects against the previous version and the previous night, and write "
        "report.html, junit.xml and summary.json under RESULTS/RUN_ID/.")
    nightly.add_argument("--firmware", default=DEFAULT_FIRMWARE,
                         help="emulated firmware versions, comma-separated (default: %(default)s)")
    nightly.add_argument("--transport", default="serial",
                         help="emulated transports, comma-separated (default: %(default)s)")
    nightly.add_argument("--config", type=Path, default=None,
                         help="bench config (TOML) listing real devices, images and the flash "
                         "command; replaces the emulated machines")
    nightly.add_argument("--tests", action="append", default=None, metavar="PATH",
                         help="test path(s) to run (default: the standard bench suite)")
    nightly.add_argument("--contract", type=Path, default=None, metavar="TOML",
                         help="data contract the suite checks each machine against (default: "
                         "[tool.brewbench] contract; for emulated machines without one, the "
                         "CM-500 contract shipped with brewbench)")
    nightly.add_argument("--differential", nargs="?", const="one-at-a-time", default=None,
                         choices=DESIGNS, metavar="DESIGN",
                         help="also run each session several times with changed planted values "
                         "and fail on fields that follow them beyond the contract (design: "
                         "one-at-a-time or group)")
    nightly.add_argument("--results", type=Path, default=None,
                         help="folder for the night's results (default: [tool.brewbench] "
                         "results, else brewbench-results)")
    nightly.add_argument("--run-id", default=None,
                         help="the night's id, its folder's name (default: the time and a "
                         "random suffix); the previous night is found by its recorded time")
    nightly.add_argument("--pytest-arg", action="append", default=[], metavar="ARG",
                         help="extra argument for each pytest run, repeatable")
    nightly.set_defaults(func=cmd_nightly)


def cmd_nightly(args: argparse.Namespace) -> int:
    _apply_project_settings(args)
    run_id = args.run_id or new_run_id()
    plan = _plan(args)
    tests = _tests(args.tests)
    results = args.results.resolve() / run_id
    contract = _contract(args.contract, results, shipped=args.config is None)
    extra: tuple[str, ...] = (f"--brewbench-contract={contract}",) if contract else ()
    if args.differential:
        extra += (f"--brewbench-differential={args.differential}",)
    project = find_pyproject()
    settings = RunSettings(run_id, results, tests, (*extra, *args.pytest_arg), _influx_settings(),
                           project.parent if project else None, contract)
    print(f"nightly run {run_id}: {len(plan.targets)} target(s), results in {settings.results}",
          flush=True)
    outcome = run_nightly(plan, settings, lambda line: print(line, flush=True))
    print(outcome.baseline)
    print(f"verdict: {outcome.verdict}")
    for comparison in outcome.comparisons:
        for change in comparison.changes:
            mark = "!!" if change.loud else "  "
            print(f"{mark} {comparison.title}: {change.kind} {change.category} {change.field}")
    if outcome.waiting:
        print(outcome.waiting)
    print(f"report: {outcome.report}\njunit:  {outcome.junit}")
    _screenshot(outcome.report)
    return outcome.exit_code


def _apply_project_settings(args: argparse.Namespace) -> None:
    """``--results`` and ``--contract`` from the project when not given, read as ``run``
    and pytest read them (bench/project_settings.py). A broken table is left to the
    suite: each target's pytest says what is wrong with it, under its target."""
    given = {"results": args.results, "contract": args.contract}
    try:
        settings = resolve_settings(project_layers(given, flags=NIGHTLY_FLAGS))
    except SettingsError:
        settings = resolve_settings(project_layers(given, pyproject=Path(os.devnull),
                                                   flags=NIGHTLY_FLAGS))
    args.results, args.contract = settings.results, settings.contract


def _tests(paths: list[str] | None) -> tuple[str, ...]:
    """The test paths, absolute and existing; none means the installed standard suite."""
    if not paths:
        if importlib.util.find_spec(SUITE) is None:
            raise NightlyUsageError(f"the standard suite {SUITE} is not installed")
        return ()
    for path in paths:
        if not Path(path.split("::", 1)[0]).exists():
            raise NightlyUsageError(f"--tests {path}: no such file or folder")
    return tuple(str(Path(p).resolve()) if "::" not in p else p for p in paths)


def _contract(given: Path | None, results: Path, shipped: bool) -> Path | None:
    """The contract the suite checks, loaded once here so a broken file stops the night
    before it starts; the shipped one is copied into the run's folder, next to the report."""
    if given is None:
        return write_contract(results / "contract.toml") if shipped else None
    try:
        load_contracts(given)
    except BrewbenchError as exc:
        raise NightlyUsageError(f"--contract: {exc}") from exc
    return given.resolve()


def _screenshot(report: Path) -> None:
    """A picture of the report for the morning mail, when a browser is at hand."""
    if find_chromium() is None:
        print("no chromium on PATH: report.png not made (apt-get install chromium)")
        return
    try:
        check = check_report(report, report.with_name("report.png"))
    except RuntimeError as exc:
        print(f"report.png not made: {exc}", file=sys.stderr)
        return
    state = "plots load" if check.images_ok else "SOME PLOTS DID NOT LOAD"
    print(f"screenshot: {check.screenshot} ({state})")


def _plan(args: argparse.Namespace) -> Plan:
    versions = _listed(args.firmware)
    if args.config is not None:
        only = versions if args.firmware != DEFAULT_FIRMWARE else None
        return config_plan(args.config, only)
    transports = _listed(args.transport)
    for version in versions:
        if version not in PROFILES:
            raise NightlyUsageError(f"--firmware {version}: no emulated firmware {version} "
                                    f"(known: {', '.join(sorted(PROFILES))}); real devices "
                                    "need --config")
    for transport in transports:
        if transport not in LINKS:
            raise NightlyUsageError(f"--transport {transport}: no such emulated transport "
                                    f"(known: {', '.join(sorted(LINKS))})")
    if not versions or not transports:
        raise NightlyUsageError("--firmware and --transport need at least one value each")
    return emulated_plan(versions, transports)


def _listed(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _influx_settings() -> InfluxSettings | None:
    """The InfluxDB the suite logs to (``INFLUX_*``, ``[tool.brewbench.influx]``), if any."""
    try:
        return resolve_influx()
    except InfluxConfigError as exc:
        print(f"InfluxDB settings ignored for reading back history: {exc}", file=sys.stderr)
        return None

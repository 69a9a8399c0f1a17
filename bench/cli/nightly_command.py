"""``brewbench nightly``: its command-line options."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import Any

from ..influx.settings import InfluxConfigError, InfluxSettings
from ..influx.settings import resolve as resolve_influx
from ..nightly.browser import check_report, find_chromium
from ..nightly.night import run_nightly
from ..nightly.plan import Plan, PlanError, config_plan, emulated_plan
from ..nightly.runner import RunSettings
from ..results import new_run_id
from ..verify.diff_design import DESIGNS

STANDARD_SUITE = "brewbench.fixtures.suite"


def add_nightly_parser(commands: Any) -> None:
    nightly = commands.add_parser(
        "nightly", help="run the suite on every firmware version and device, diff, report",
        description="Run the bench suite once per firmware version and device, diff what "
        "each collects against the previous version and the previous night, and write "
        "report.html, junit.xml and summary.json under RESULTS/RUN_ID/.")
    nightly.add_argument("--firmware", default="1.0,2.0,2.1",
                         help="emulated firmware versions, comma-separated (default: %(default)s)")
    nightly.add_argument("--transport", default="serial",
                         help="emulated transports, comma-separated (default: %(default)s)")
    nightly.add_argument("--config", type=Path, default=None,
                         help="bench config (TOML) listing real devices, images and the flash "
                         "command; replaces the emulated machines")
    nightly.add_argument("--tests", action="append", default=None, metavar="PATH",
                         help="test path(s) to run (default: the standard bench suite)")
    nightly.add_argument("--contract", type=Path, default=None, metavar="TOML",
                         help="data contract the suite checks each machine against (default "
                         "for emulated machines: the CM-500 contract shipped with brewbench)")
    nightly.add_argument("--differential", nargs="?", const="one-at-a-time", default=None,
                         choices=DESIGNS, metavar="DESIGN",
                         help="also run each session several times with changed planted values "
                         "and fail on fields that follow them beyond the contract (design: "
                         "one-at-a-time or group)")
    nightly.add_argument("--results", type=Path, default=Path("brewbench-results"))
    nightly.add_argument("--run-id", default=None)
    nightly.add_argument("--pytest-arg", action="append", default=[], metavar="ARG",
                         help="extra argument for each pytest run, repeatable")
    nightly.set_defaults(func=cmd_nightly)


def standard_suite() -> str:
    """The file of the standard suite the plugin ships (found, not imported: bench sits
    below the pytest layer)."""
    spec = importlib.util.find_spec(STANDARD_SUITE)
    if spec is None or not spec.submodule_search_locations:
        raise PlanError(f"the standard suite {STANDARD_SUITE} is not installed")
    return str(Path(next(iter(spec.submodule_search_locations))) / "test_standard.py")


def cmd_nightly(args: argparse.Namespace) -> int:
    run_id = args.run_id or new_run_id()
    plan = _plan(args)
    contract = args.contract or (None if args.config else shipped_contract())
    if contract is not None and not contract.is_file():
        raise PlanError(f"data contract {contract} does not exist")
    extra: tuple[str, ...] = (f"--brewbench-contract={contract.resolve()}",) if contract else ()
    if args.differential:
        extra += (f"--brewbench-differential={args.differential}",)
    settings = RunSettings(run_id, args.results.resolve() / run_id,
                           tuple(args.tests or [standard_suite()]), (*extra, *args.pytest_arg),
                           _influx_settings())
    print(f"nightly run {run_id}: {len(plan.targets)} target(s), results in {settings.results}",
          flush=True)
    outcome = run_nightly(plan, settings, lambda line: print(line, flush=True))
    print(f"verdict: {outcome.verdict}")
    for comparison in outcome.comparisons:
        for change in comparison.changes:
            mark = "!!" if change.loud else "  "
            print(f"{mark} {comparison.title}: {change.kind} {change.category} {change.field}")
    print(f"report: {outcome.report}\njunit:  {outcome.junit}")
    _screenshot(outcome.report)
    return 0 if outcome.ok else 1


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
    versions = [v.strip() for v in args.firmware.split(",") if v.strip()]
    if args.config is not None:
        only = versions if args.firmware != "1.0,2.0,2.1" else None
        return config_plan(args.config, only)
    return emulated_plan(versions, [t.strip() for t in args.transport.split(",") if t.strip()])


def shipped_contract() -> Path | None:
    """The emulated CM-500's contract, where brewbench runs from a checkout."""
    from ... import __file__ as package_init

    path = Path(package_init).resolve().parent.parent / "contracts" / "cm-500.toml"
    return path if path.is_file() else None


def _influx_settings() -> InfluxSettings | None:
    """The InfluxDB the suite logs to (``INFLUX_*``, ``[tool.brewbench.influx]``), if any."""
    try:
        return resolve_influx()
    except InfluxConfigError as exc:
        print(f"InfluxDB settings ignored for reading back history: {exc}", file=sys.stderr)
        return None

"""The ``brewbench`` command: run a bench session, serve an emulated machine."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from ...drivers.errors import BrewbenchError
from ...drivers.specs import slug
from ...emulator.firmware import PROFILES
from ...emulator.serve import IN_PROCESS, LINKS, Emulator
from ..devices import DEFAULT_SPEC, open_device
from ..influx.run_log import RunLog
from ..printout import print_capture
from ..results import TestOutcome, keep, new_run_id
from ..scenario import standard_steps
from ..verify.canaries import plant
from .import_command import add_import_parser
from .influx_commands import add_influx_options, add_push_parser, add_query_parser, settings_from_args
from .inventory_command import add_inventory_parser
from .nightly_command import add_nightly_parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except BrewbenchError as exc:
        print(f"brewbench: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="brewbench", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the bench does")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="drive a machine through every action and show "
                              "what it emitted")
    run.add_argument("--device", action="append", metavar="SPEC",
                     help=f"device spec, repeatable (default: {DEFAULT_SPEC})")
    run.add_argument("--results", type=Path, default=Path("brewbench-results"),
                     help="folder for captures (default: %(default)s)")
    run.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for an answer")
    run.add_argument("--raw-captures", action="store_true",
                     help="save captures with the raw personal and payment values the machine "
                     "sent (default: keyed hashes)")
    add_influx_options(run, prefix="influx-")
    run.set_defaults(func=cmd_run)

    add_nightly_parser(commands)
    add_push_parser(commands)
    add_query_parser(commands)
    add_inventory_parser(commands)
    add_import_parser(commands)

    emulate = commands.add_parser("emulate", help="serve an emulated machine for any tool")
    emulate.add_argument("--firmware", default="2.1", choices=sorted(PROFILES))
    emulate.add_argument("--transport", default="serial", choices=sorted(set(LINKS) - IN_PROCESS))
    emulate.add_argument("--serial", default=None, help="serial number (default: random)")
    emulate.set_defaults(func=cmd_emulate)
    return parser


def cmd_run(args: argparse.Namespace) -> int:
    run_id = new_run_id()
    failures = 0
    run_log = RunLog.open(settings_from_args(args, default_spool=args.results / "spool"),
                          run_id, kind="run")
    try:
        for spec in args.device or [DEFAULT_SPEC]:
            print(f"== {spec}  (run {run_id})")
            failures += _run_device(spec, args, run_id, run_log)
    finally:
        run_log.close()
    print(f"results: {run_log.sink.settings.target}")
    return 1 if failures else 0


def _run_device(spec: str, args: argparse.Namespace, run_id: str, run_log: RunLog) -> int:
    failures, error_type = 0, ""
    started_ns, start = time.time_ns(), time.monotonic()
    canaries = plant()
    with open_device(spec, timeout=args.timeout) as device:
        for step in standard_steps(canaries.provisioning(), card=canaries.card()):
            try:
                step.run(device.machine)
            except BrewbenchError as exc:
                failures += 1
                error_type = error_type or type(exc).__name__
                print(f"   {step.action}: FAILED {exc}")
    path = args.results / run_id / "captures" / f"{slug(spec)}.jsonl"
    outcome = TestOutcome("brewbench run", "failed" if failures else "passed",
                          time.monotonic() - start, started_ns, error_type)
    result = keep(device.capture, path, run_log, outcome, canaries=canaries, raw=args.raw_captures)
    print_capture(device.capture, sys.stdout, result)
    print(f"   capture saved to {path}{' (RAW values)' if args.raw_captures else ''}")
    return failures


def cmd_emulate(args: argparse.Namespace) -> int:
    emulator = Emulator(args.firmware, args.transport, args.serial)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with emulator:
        print(f"emulated {emulator.machine.profile.model} firmware {args.firmware}, "
              f"serial number {emulator.machine.serial}")
        print(f"port: {emulator.url}")
        print(f"device spec: {emulator.spec}")
        print("Ctrl-C stops it.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


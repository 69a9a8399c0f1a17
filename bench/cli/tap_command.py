"""``brewbench tap``: listen to a machine's UART without driving it, actions marked by hand.

    brewbench tap --rx /dev/ttyUSB0 --tx /dev/ttyUSB1 --framer cobs
    > brew          (press the latte button on the machine, then Enter)
    > pay
    >               (an empty line: nothing is happening)
    ^D              (ends the tap; the capture is saved and analysed like any other)
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from ...drivers.specs import slug
from ...drivers.tap.framers import FRAMERS
from ...drivers.tap.listener import Tap
from ..capture import Capture
from ..influx.run_log import RunLog
from ..printout import print_capture
from ..results import TestOutcome, keep, new_run_id, prepare_results
from .influx_commands import add_influx_options, settings_from_args

__all__ = ["add_tap_parser"]


def add_tap_parser(commands: Any) -> None:
    tap = commands.add_parser(
        "tap", help="listen to a machine's UART read-only; mark actions by typing their names",
        description="Open one or two serial ports read-only (one per direction of the UART "
        "between a machine's controller and its connectivity module), cut what passes into "
        "units with a framer, and keep it as a capture. Type an action's name and Enter when "
        "it starts (an empty line: idle); end with Ctrl-D.")
    tap.add_argument("--rx", metavar="PORT", help="port that hears what the machine sends")
    tap.add_argument("--tx", metavar="PORT", help="port that hears what is sent to the machine")
    tap.add_argument("--framer", default="gap", choices=sorted(FRAMERS),
                     help="how to cut the bytes into units (default: gap, pauses)")
    tap.add_argument("--framer-param", action="append", default=[], metavar="KEY=VALUE",
                     help="e.g. gap_ms=30 or length=2")
    tap.add_argument("--baud", type=int, default=115200,
                     help="the tapped UART's speed (default: %(default)s)")
    tap.add_argument("--results", type=Path, default=Path("brewbench-results"),
                     help="folder for the capture (default: %(default)s)")
    tap.add_argument("--raw-captures", action="store_true",
                     help="keep the raw personal and payment values heard (default: keyed hashes)")
    add_influx_options(tap, prefix="influx-")
    tap.set_defaults(func=cmd_tap)


def cmd_tap(args: argparse.Namespace) -> int:
    ports = {d: url for d, url in (("rx", args.rx), ("tx", args.tx)) if url}
    if not ports:
        print("brewbench tap: give --rx PORT and/or --tx PORT", file=sys.stderr)
        return 2
    params = dict(p.partition("=")[::2] for p in args.framer_param)
    tap = Tap(ports, args.framer, params, args.baud)
    name = " + ".join(f"{d} {url}" for d, url in ports.items())
    capture = Capture(f"tap {name}", {"spec": f"tap {name}", "transport": "tap",
                                      "framer": args.framer})
    tap.attach(capture)
    run_id = new_run_id()
    prepare_results(args.results / run_id / "captures")
    started_ns, start = time.time_ns(), time.monotonic()
    tap.open()
    try:
        mark_actions(tap, sys.stdin, sys.stdout)
    finally:
        tap.close()
    run_log = RunLog.open(settings_from_args(args, default_spool=args.results / "spool"),
                          run_id, kind="tap")
    try:
        kept = keep(capture, args.results / run_id / "captures" / f"tap-{slug(name)}.jsonl",
                    run_log, TestOutcome("brewbench tap", "passed", time.monotonic() - start,
                                         started_ns), raw=args.raw_captures)
    finally:
        run_log.close()
    print_capture(capture, sys.stdout, kept.verification)
    print(f"   capture saved to {kept.path}")
    return 0


def mark_actions(tap: Tap, lines: TextIO, out: TextIO) -> None:
    """Each line names the action that starts now; an empty line is idle; EOF ends."""
    current: contextlib.ExitStack | None = None
    out.write("action (Enter when it starts, empty line for idle, Ctrl-D to end)> ")
    out.flush()
    try:
        for line in lines:
            if current is not None:
                current.close()
                current = None
            action = line.strip()
            if action:
                current = contextlib.ExitStack()
                current.enter_context(tap.action(action))
            out.write(f"[{action or 'idle'}]> ")
            out.flush()
    except KeyboardInterrupt:
        pass
    finally:
        if current is not None:
            current.close()

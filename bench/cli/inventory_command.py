"""``brewbench inventory CAPTURE…``: the collected-data inventory of saved captures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..capture import Capture
from ..verify.classify import classify
from ..verify.emissions import emissions
from ..verify.inventory import inventory, render, render_destinations
from ..verify.redact import LabKeyError, Redactor
from ..verify.residency import destinations


def add_inventory_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``inventory`` command to a ``brewbench`` argument parser's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "inventory", help="list the data a device emitted in saved captures",
        description="Print, per capture, what the device emitted: category, field, channel, "
                    "action, count, why, and an example (sensitive values as keyed hashes).")
    parser.add_argument("captures", nargs="+", type=Path, metavar="CAPTURE",
                        help="capture files (.jsonl) saved by brewbench")
    parser.add_argument("--category", action="append", metavar="NAME",
                        help="only these categories (repeatable)")
    parser.add_argument("--raw", action="store_true",
                        help="show sensitive examples as captured (they may be personal data)")
    parser.set_defaults(func=run_inventory)
    return parser


def run_inventory(args: argparse.Namespace) -> int:
    """Print the inventory of each capture; 2 when a file cannot be read."""
    try:
        redactor = None if args.raw else Redactor.from_lab_key()
    except LabKeyError as exc:
        print(f"brewbench inventory: {exc}", file=sys.stderr)
        return 2
    status = 0
    for path in args.captures:
        try:
            capture = Capture.load(path)
        except (OSError, ValueError, KeyError) as exc:
            print(f"brewbench inventory: {path}: cannot read it as a capture: {exc}",
                  file=sys.stderr)
            status = 2
            continue
        classified = classify(emissions(capture))
        rows = inventory(classified, redactor, raw=args.raw)
        if args.category:
            rows = [row for row in rows if row.category in args.category]
        meta = capture.meta
        print(f"== {path}  ({capture.device}; {meta.get('model', '?')} firmware "
              f"{meta.get('firmware', '?')})")
        print(render(rows) if rows else "(nothing emitted)")
        where = destinations(capture, classified)
        if where:
            print("\nwhere it went (uplink):")
            print(render_destinations(where))
        print()
    return status

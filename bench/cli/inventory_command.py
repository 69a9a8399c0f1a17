"""``brewbench inventory CAPTURE…``: the collected-data inventory of saved captures."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..capture import Capture
from ..verify.catalogue import CATEGORIES
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
    parser.add_argument("--category", action="append", metavar="NAME", type=category,
                        help=f"only these categories (repeatable): {', '.join(CATEGORIES)}")
    parser.add_argument("--raw", action="store_true",
                        help="show sensitive examples as captured (they may be personal data)")
    parser.add_argument("--json", action="store_true",
                        help="one JSON document: per capture its rows and destinations "
                        "(docs/cli-json.md)")
    parser.set_defaults(func=run_inventory)
    return parser


def category(text: str) -> str:
    """A category name as the user typed it (``Identity``), or a usage error naming the known."""
    name = text.strip().lower()
    if name not in CATEGORIES:
        raise argparse.ArgumentTypeError(f"unknown category {text!r}; known: {', '.join(CATEGORIES)}")
    return name


def run_inventory(args: argparse.Namespace) -> int:
    """Print the inventory of each capture; 2 when a file cannot be read."""
    try:
        redactor = None if args.raw else Redactor.from_lab_key()
    except LabKeyError as exc:
        print(f"brewbench inventory: {exc}", file=sys.stderr)
        return 2
    status = 0
    documents: list[dict[str, Any]] = []
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
        where = destinations(capture, classified)
        if args.json:
            documents.append({"capture": str(path), "device": capture.device,
                              "model": meta.get("model"), "firmware": meta.get("firmware"),
                              "rows": [asdict(row) for row in rows],
                              "destinations": {c: dict(h) for c, h in where.items()}})
            continue
        print(f"== {path}  ({capture.device}; {meta.get('model', '?')} firmware "
              f"{meta.get('firmware', '?')})")
        nothing = f"(nothing in {', '.join(args.category)})" if args.category else "(nothing emitted)"
        print(render(rows) if rows else nothing)
        if where:
            print("\nwhere it went (uplink):")
            print(render_destinations(where))
        print()
    if args.json:
        json.dump({"format": "brewbench-inventory/1", "captures": documents}, sys.stdout, indent=1)
        print()
    return status

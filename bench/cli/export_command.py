"""``brewbench export btsnoop CAPTURE``: a capture's Bluetooth LE session as a btsnoop log.

Wireshark and tshark open the log (ATT writes, notifications and reads on one LE
connection); ``brewbench import btsnoop`` reads it back to the same records.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..bluetooth.btsnoop_export import export_btsnoop
from ..capture import Capture

__all__ = ["add_export_parser", "run_export_btsnoop"]


def add_export_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``export`` (its ``btsnoop`` form) to a ``brewbench`` parser's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "export", help="write a capture in a format other tools read")
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    btsnoop = kinds.add_parser(
        "btsnoop", help="a Bluetooth LE session as a btsnoop log (Wireshark, tshark)",
        description="Write the GATT writes, notifications and reads of a capture of a "
                    "Bluetooth LE session (ble:// or emu://...&transport=ble) as HCI packets "
                    "in a btsnoop file. Records whose bytes a redacted capture dropped are left "
                    "out: save with brewbench run --raw-captures to export every byte "
                    "(docs/machines/btsnoop.md).")
    btsnoop.add_argument("capture", type=Path, metavar="CAPTURE", help="a capture (.jsonl)")
    btsnoop.add_argument("-o", "--output", type=Path, default=None,
                         help="btsnoop file to write (default: CAPTURE with .btsnoop)")
    btsnoop.set_defaults(func=run_export_btsnoop)
    return parser


def run_export_btsnoop(args: argparse.Namespace) -> int:
    """Export one capture; 2 when it cannot be read or written or holds no GATT bytes."""
    output = args.output or args.capture.with_suffix(".btsnoop")
    try:
        capture = Capture.load(args.capture)
        summary = export_btsnoop(capture, output)
    except (OSError, ValueError) as exc:
        print(f"brewbench export btsnoop: {args.capture}: {exc}", file=sys.stderr)
        return 2
    if not summary.records:
        output.unlink(missing_ok=True)
        why = (f"its {summary.redacted} Bluetooth LE record(s) were saved redacted; save the "
               "session with brewbench run --raw-captures" if summary.redacted
               else "it holds no Bluetooth LE records")
        print(f"brewbench export btsnoop: {args.capture}: nothing to export: {why}",
              file=sys.stderr)
        return 2
    handles = ", ".join(f"{name} 0x{handle:04x}" for name, handle in summary.handles.items())
    print(f"{args.capture}: {summary.records} GATT records -> {output} "
          f"({summary.packets} HCI packets; handles: {handles})")
    if summary.redacted:
        print(f"left out {summary.redacted} record(s) whose bytes were redacted "
              "(brewbench run --raw-captures keeps them)")
    return 0

"""``brewbench import pcap|btsnoop FILE``: traffic captured elsewhere as a brewbench capture.

    pcap      a network capture: MQTT publishes and HTTP requests as uplink records
    btsnoop   a phone's Bluetooth HCI snoop log: ATT writes, notifications and reads
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..bluetooth.btsnoop import BtsnoopError
from ..bluetooth.btsnoop_import import import_btsnoop
from ..capture import Capture
from ..capture_budget import describe
from ..printout import print_capture
from ..uplink.pcap_import import import_pcap
from ..uplink.pcap_streams import PcapError
from ..verify.canaries import plant
from ..verify.capture_redaction import save_capture
from ..verify.classify import classify
from ..verify.emissions import emissions
from ..verify.inventory import render_destinations
from ..verify.redact import LabKeyError
from ..verify.residency import destinations
from ..verify.verification import verify


def add_import_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``import`` (its ``pcap`` and ``btsnoop`` forms) to a ``brewbench`` parser's
    subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "import", help="turn traffic captured elsewhere into a brewbench capture")
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    pcap = kinds.add_parser(
        "pcap", help="MQTT publishes and HTTP requests in a pcap/pcapng file",
        description="Read a pcap or pcapng file, reassemble its TCP streams, and save the MQTT "
                    "publishes, HTTP requests and TLS connections it holds as uplink records "
                    "(docs/uplink.md). Check the result with brewbench inventory.")
    _file_options(pcap, "a .pcap or .pcapng file")
    pcap.set_defaults(func=run_import_pcap)
    _add_btsnoop(kinds)
    return parser


def _file_options(kind: argparse.ArgumentParser, what: str) -> None:
    """The options every import takes: the file, where the capture goes, raw or redacted."""
    kind.add_argument("file", type=Path, metavar="FILE", help=what)
    kind.add_argument("-o", "--output", type=Path, default=None,
                      help="capture file to write (default: FILE with .jsonl)")
    kind.add_argument("--raw", action="store_true",
                      help="keep sensitive values as captured (default: keyed hashes)")


def _add_btsnoop(kinds: Any) -> None:
    btsnoop = kinds.add_parser(
        "btsnoop", help="ATT writes, notifications and reads in a Bluetooth HCI snoop log",
        description="Read a btsnoop file (Android's btsnoop_hci.log, Wireshark can write one "
                    "too) and save every ATT write, notification, indication and read value "
                    "as a record on channel ble; CM-500 frames are decoded. The capture is "
                    "classified, and with --canary-tag the values planted through the vendor's "
                    "app are hunted (docs/machines/btsnoop.md).")
    _file_options(btsnoop, "a btsnoop_hci.log file")
    btsnoop.add_argument("--canary-tag", metavar="TAG", default=None,
                         help="hunt the canaries of this tag (8 hex digits), planted through "
                              "the vendor's app before the log was taken")
    btsnoop.set_defaults(func=run_import_btsnoop)


def run_import_pcap(args: argparse.Namespace) -> int:
    """Import one pcap; 2 when it cannot be read or written."""
    output = args.output or args.file.with_suffix(".jsonl")
    try:
        capture = import_pcap(args.file, _progress(args.file))
        save_capture(capture, output, raw=args.raw)
    except (PcapError, LabKeyError, OSError) as exc:
        print(f"brewbench import pcap: {exc}", file=sys.stderr)
        return 2
    where = destinations(capture, classify(emissions(capture)))
    print(f"{args.file}: {capture.meta['uplink']['messages']} uplink records -> {output}"
          f"{' (RAW values)' if args.raw else ''}")
    for line in _import_cuts(capture):
        print(f"   {line}")
    if where:
        print(render_destinations(where))
    return 0


def _progress(path: Path) -> Callable[[int], None]:
    """A line on stderr every so often while a long file is read."""
    def say(done: int) -> None:
        print(f"brewbench import: {path.name}: {done >> 20} MiB read", file=sys.stderr, flush=True)
    return say


def _import_cuts(capture: Capture) -> list[str]:
    """What an import did not read or keep, and streams whose copies disagreed."""
    pcap = capture.meta.get("pcap", {})
    lines = [f"file damaged: {pcap['damaged']}"] if pcap.get("damaged") else []
    if pcap.get("packets_not_followed"):
        lines.append(f"not followed: {pcap['packets_not_followed']} TCP packet(s) of connections "
                     "past the import's bound on connections")
    overflow = capture.meta.get("overflow")
    if overflow:
        lines += [f"not kept: {line} (counted, not analysed)" for line in describe(overflow)]
    flagged = {flag: len({e.record.meta.get("address") for e in capture.entries
                          if e.record.meta.get(flag)}) for flag in ("contradicting", "cut")}
    if flagged["contradicting"]:
        lines.append(f"contradicting copies: {flagged['contradicting']} stream(s) carried two "
                     "different versions of the same bytes (the checksum-valid one is shown)")
    if flagged["cut"]:
        lines.append(f"cut: {flagged['cut']} stream(s) past the import's bounds")
    return lines


def run_import_btsnoop(args: argparse.Namespace) -> int:
    """Import one btsnoop log; 2 when it cannot be read or written or the tag is bad."""
    output = args.output or args.file.with_suffix(".jsonl")
    try:
        canaries = plant(args.canary_tag) if args.canary_tag else None
        capture = import_btsnoop(args.file)
        save_capture(capture, output, raw=args.raw)
    except (BtsnoopError, LabKeyError, OSError, ValueError) as exc:
        print(f"brewbench import btsnoop: {exc}", file=sys.stderr)
        return 2
    result = verify(capture, canaries)
    print(f"{args.file}: {len(capture.entries)} ATT records -> {output}"
          f"{' (RAW values)' if args.raw else ''}")
    damaged = capture.meta.get("btsnoop", {}).get("damaged")
    if damaged:
        print(f"   file damaged: {damaged}")
    print_capture(capture, sys.stdout, result, output)
    return 0


__all__ = ["add_import_parser", "run_import_btsnoop", "run_import_pcap"]

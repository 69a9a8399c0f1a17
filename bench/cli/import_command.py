"""``brewbench import pcap FILE``: a network capture as a brewbench capture of uplink records."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..uplink.pcap_import import import_pcap
from ..uplink.pcap_streams import PcapError
from ..verify.capture_redaction import save_capture
from ..verify.classify import classify
from ..verify.emissions import emissions
from ..verify.inventory import render_destinations
from ..verify.redact import LabKeyError
from ..verify.residency import destinations


def add_import_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``import`` (with its ``pcap`` form) to a ``brewbench`` parser's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "import", help="turn traffic captured elsewhere into a brewbench capture")
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    pcap = kinds.add_parser(
        "pcap", help="MQTT publishes and HTTP requests in a pcap/pcapng file",
        description="Read a pcap or pcapng file, reassemble its TCP streams, and save the MQTT "
                    "publishes, HTTP requests and TLS connections it holds as uplink records "
                    "(docs/uplink.md). Check the result with brewbench inventory.")
    pcap.add_argument("file", type=Path, metavar="FILE", help="a .pcap or .pcapng file")
    pcap.add_argument("-o", "--output", type=Path, default=None,
                      help="capture file to write (default: FILE with .jsonl)")
    pcap.add_argument("--raw", action="store_true",
                      help="keep sensitive values as captured (default: keyed hashes)")
    pcap.set_defaults(func=run_import_pcap)
    return parser


def run_import_pcap(args: argparse.Namespace) -> int:
    """Import one pcap; 2 when it cannot be read or written."""
    output = args.output or args.file.with_suffix(".jsonl")
    try:
        capture = import_pcap(args.file)
        save_capture(capture, output, raw=args.raw)
    except (PcapError, LabKeyError, OSError) as exc:
        print(f"brewbench import pcap: {exc}", file=sys.stderr)
        return 2
    where = destinations(capture, classify(emissions(capture)))
    print(f"{args.file}: {capture.meta['uplink']['messages']} uplink records -> {output}"
          f"{' (RAW values)' if args.raw else ''}")
    if where:
        print(render_destinations(where))
    return 0


__all__ = ["add_import_parser", "run_import_pcap"]

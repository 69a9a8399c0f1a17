"""``brewbench devices``: what is attached, each with the device spec that opens it."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ...drivers.ble_profile import PLATFORM
from ...drivers.errors import DeviceSpecError
from ...drivers.usb_backends import LIBUSB
from ..discovery import (
    Listing,
    ble_machines,
    emulated,
    emulated_serial_ports,
    serial_ports,
    usb_devices,
)
from ..lab import find_lab

__all__ = ["add_devices_parser"]

MAX_SCAN = 60.0  # seconds: a listing, not a survey


def add_devices_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "devices", help="list serial ports, vendor USB devices and running emulators, "
        "each with its device spec",
        description="List what is attached to this host: serial ports (CDC-ACM and USB-UART "
        "bridges by their USB ids, serial number and location), vendor-class USB devices "
        "(pyusb), and the machines `brewbench emulate` serves. Each line starts with the "
        "device spec that opens it (for --device, --brewbench-device or a lab file); then the "
        "devices the lab file names, if one is set.")
    parser.add_argument("--usb-backend", default=LIBUSB, metavar="NAME",
                        help="pyusb backend to list USB devices on, or an emulated list of USB "
                        "serial ports to list instead of the OS's (default: %(default)s)")
    parser.add_argument("--ble", type=float, default=None, metavar="SECONDS",
                        help="also scan this long for Bluetooth LE machines (off by default)")
    parser.add_argument("--ble-backend", default=PLATFORM.name, metavar="NAME",
                        help="bleak backend to scan with (default: %(default)s)")
    parser.add_argument("--json", action="store_true",
                        help="one JSON document: per kind its devices (spec, facts) or the note "
                        "saying why none could be listed; the lab file's names (docs/cli-json.md)")
    parser.set_defaults(func=cmd_devices)


def cmd_devices(args: argparse.Namespace) -> int:
    lab = find_lab()  # a broken lab file is a usage error before anything is listed
    ports = emulated_serial_ports(args.usb_backend) if args.usb_backend != LIBUSB else None
    listings = ([serial_ports(), usb_devices(args.usb_backend)] if ports is None else
                [ports, Listing("usb", note=f"{args.usb_backend} is a list of serial ports")])
    if args.ble is not None:
        if not 0 < args.ble <= MAX_SCAN:
            raise DeviceSpecError(f"--ble {args.ble}: scan between 0 and {MAX_SCAN:g} seconds")
        listings.append(ble_machines(args.ble, args.ble_backend))
    listings.append(emulated())
    if args.json:
        json.dump({"format": "brewbench-devices/1",
                   "listings": [{"kind": listing.kind, "note": listing.note or None,
                                 "found": [{"spec": f.spec, "facts": f.facts}
                                           for f in listing.found]} for listing in listings],
                   "lab": None if lab.path is None else {"path": str(lab.path),
                                                         "devices": dict(lab.devices)}},
                  sys.stdout, indent=1)
        print()
        return 0
    for listing in listings:
        print_listing(listing)
    if lab.path is not None:
        print(f"lab file {lab.path}:")
        for name, spec in sorted(lab.devices.items()):
            print(f"  {name} = {spec}")
    return 0


def print_listing(listing: Listing) -> None:
    """One heading per kind; a device per line, its spec first; or the one note."""
    print(f"{listing.kind}:")
    if listing.note:
        print(f"  ({listing.note})")
    elif not listing.found:
        print("  (none)")
    for found in listing.found:
        facts = "  ".join(f"{key}={value}" for key, value in found.facts.items())
        print(f"  {found.spec}  {facts}".rstrip())

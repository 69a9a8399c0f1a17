"""An emulated machine as a process of its own, for a lab network's device namespace.

    python -m brewbench.emulator.net_device --cloud forged-ok [--firmware 2.1] [--serial S]
                                            [--resolver 198.18.0.1] [--trust CA_FILE]

It serves the machine on a pty (the control link: a pty is a file, so the bench
reaches it from outside the namespace), prints the device spec of that pty on
its first line, and sends its cloud traffic through whatever network its
namespace has (emulator/cloud_client.py). It stops when its standard input closes.
"""

from __future__ import annotations

import argparse
import sys

from .cloud_client import CloudClient
from .lab_clouds import LAB_CLOUDS, lab_cloud
from .serve import Emulator

NETWORK_RESOLVER = "198.18.0.1"  # the lab gateway; what DHCP would hand out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m brewbench.emulator.net_device")
    parser.add_argument("--cloud", required=True, choices=sorted(LAB_CLOUDS))
    parser.add_argument("--firmware", default="2.1")
    parser.add_argument("--serial", default=None)
    parser.add_argument("--resolver", default=NETWORK_RESOLVER,
                        help="the network's resolver, for a cloud that uses it")
    parser.add_argument("--trust", default=None, metavar="CA_FILE",
                        help="a CA the validating firmware trusts: its maker's (the bench's stand-in)")
    args = parser.parse_args(argv)
    emulator = Emulator(args.firmware, transport="serial", serial=args.serial)
    machine = emulator.machine
    machine.uplink = CloudClient(lab_cloud(args.cloud), machine.serial, machine.profile.version,
                                 args.resolver, args.trust)
    with emulator:
        print(emulator.spec, flush=True)
        sys.stdin.read()  # until the bench closes our stdin
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``brewbench serve``: a local or emulated serial device over RFC 2217, for other hosts
and tools (the bench reaches it with the ``serial+rfc2217://`` spec it prints)."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from typing import Any

from ...drivers.errors import DeviceSpecError
from ...drivers.specs import parse_spec
from ...emulator.firmware import PROFILES
from ...emulator.jura.serve import JuraEmulator
from ...emulator.power_switch import PoweredMachine, PowerSwitch
from ...emulator.rfc2217_server import Rfc2217Server
from ...emulator.serve import Emulator
from ..devices import EMULATED_FIRMWARE
from ..lab import find_lab, resolve_device
from ..running import announce

__all__ = ["add_serve_parser"]

#: what a served device's spec keeps from the local one (the RFC 2217 client sets the baud)
KEPT_PARAMS = ("baud", "family")
PTYS = "/dev/pts/"  # pseudo terminals (another emulator, a tap) have no modem lines


def add_serve_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve", help="serve an emulated machine or a local serial port over RFC 2217",
        description="Serve a serial device over RFC 2217 (pyserial's server side): an "
        "emulated machine, or a local port with --device. Prints the serial+rfc2217:// spec "
        "that opens it from another host or process; serves one client at a time until "
        "Ctrl-C.")
    parser.add_argument("--device", metavar="SPEC|NAME",
                        help="a local serial port (serial:///dev/ttyUSB0, or its lab-file name) "
                        "instead of an emulated machine")
    parser.add_argument("--family", default="cm500", choices=("cm500", "jura", "ecam"),
                        help="the emulated machine's protocol (default: cm500)")
    parser.add_argument("--firmware", default=None,
                        help=f"the emulated machine's firmware (cm500: {', '.join(sorted(PROFILES))}"
                        "; default 2.1)")
    parser.add_argument("--serial", default=None, help="emulated serial number (default: random)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: %(default)s; 0.0.0.0 for other hosts)")
    parser.add_argument("--port", type=int, default=0, metavar="N",
                        help="TCP port (default: a free one)")
    parser.add_argument("--power-switch", type=int, default=None, metavar="N",
                        help="also serve an emulated network power switch on TCP port N (0: a "
                        "free one) whose outlet 0 powers the emulated machine: labgrid's "
                        "simplerest NetworkPowerPort (docs/hardware.md)")
    parser.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if args.power_switch is not None and args.device:
        raise DeviceSpecError("brewbench serve: --power-switch powers an emulated machine; a "
                              "local port's machine hangs on a real switch")
    with _served_port(args) as (path, what, params, pty):
        try:
            server = Rfc2217Server(path, args.host, args.port, pty=pty)
        except OSError as exc:
            raise DeviceSpecError(f"brewbench serve: cannot listen on {args.host}:{args.port}: "
                                  f"{exc.strerror or exc}") from exc
        with server, _power_switch(args, server):
            host = socket.getfqdn() if args.host in ("0.0.0.0", "::", "") else args.host
            query = f"?{urllib.parse.urlencode(params)}" if params else ""
            spec = f"serial+rfc2217://{host}:{server.tcp_port}{query}"
            print(f"serving {what} over RFC 2217")
            print(f"device spec: {spec}")
            print("Ctrl-C stops it.", flush=True)
            with announce(spec, f"{what} over RFC 2217"), contextlib.suppress(KeyboardInterrupt):
                stop.wait()
    return 0


@contextlib.contextmanager
def _power_switch(args: argparse.Namespace, server: Rfc2217Server) -> Iterator[None]:
    """With --power-switch: the switch whose outlet 0 powers the served machine."""
    if args.power_switch is None:
        yield
        return
    try:
        switch = PowerSwitch({0: args.machine.outlet(server)}, args.host, args.power_switch)
    except OSError as exc:
        raise DeviceSpecError(f"brewbench serve: cannot listen on {args.host}:{args.power_switch}"
                              f" for the power switch: {exc.strerror or exc}") from exc
    with switch:
        print(f"power switch: {switch.url} index 0 (labgrid NetworkPowerPort, model simplerest)")
        yield


@contextlib.contextmanager
def _served_port(args: argparse.Namespace) -> Iterator[tuple[str, str, dict[str, str], bool]]:
    """The port to serve: (path, what it is, spec parameters to keep, is it a pty)."""
    if args.device:
        spec = parse_spec(resolve_device(args.device, find_lab()))
        if spec.scheme != "serial" or not spec.target:
            raise DeviceSpecError(f"brewbench serve --device {args.device}: takes a local serial "
                                  "port, e.g. serial:///dev/ttyUSB0")
        if not os.path.exists(spec.target):  # never announce a port nobody can open
            raise DeviceSpecError(f"brewbench serve --device {args.device}: no such port "
                                  f"{spec.target} (python -m serial.tools.list_ports lists them)")
        kept = {k: spec.params[k] for k in KEPT_PARAMS if k in spec.params}
        yield spec.target, spec.target, kept, spec.target.startswith(PTYS)
        return
    if args.family == "ecam":
        raise DeviceSpecError("brewbench serve --family ecam: an ECAM machine speaks only "
                              "Bluetooth LE, not a serial port to serve over RFC 2217; use "
                              "--device 'emu://?family=ecam&transport=ble' with brewbench run "
                              "or pytest")
    firmware = args.firmware or EMULATED_FIRMWARE[args.family]
    kind = JuraEmulator if args.family == "jura" else Emulator
    try:
        machine = PoweredMachine(lambda serial: kind(firmware, "serial", serial), args.serial)
    except ValueError as exc:
        raise DeviceSpecError(f"brewbench serve: {exc}") from exc
    with machine:
        args.machine = machine  # what --power-switch switches
        params = {"family": "jura"} if args.family == "jura" else {}
        yield machine.url, f"an emulated {args.family} machine, firmware {firmware}", params, True

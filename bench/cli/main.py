"""The ``brewbench`` command: run a bench session, serve an emulated machine."""

from __future__ import annotations

import argparse
import contextlib
import difflib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from ... import __version__
from ...drivers.errors import BrewbenchError, DeviceError, DeviceNotFound, DeviceSpecError
from ...drivers.specs import slug
from ...emulator.firmware import PROFILES
from ...emulator.jura.machine import MACHINE_TYPES
from ...emulator.jura.serve import JuraEmulator
from ...emulator.lab_clouds import LAB_CLOUDS
from ...emulator.serve import IN_PROCESS, LINKS, Emulator
from ..capture import Capture
from ..devices import DEFAULT_SPEC, EMULATED_FIRMWARE, check_spec, open_device
from ..influx.run_log import RunLog
from ..lab import find_lab, resolve_devices
from ..labnet.lab import LabNetwork
from ..printout import print_capture
from ..project_settings import project_layers, resolve_settings
from ..results import TestOutcome, keep, new_run_id, prepare_results
from ..running import announce
from ..scenario import standard_steps, steps_for
from ..speech import SpeechUnavailable, order_sentence, say
from ..uplink.tap import UplinkTap
from ..verify.canaries import plant
from ..verify.contracts import load_contracts
from ..verify.redact import Redactor, lab_key_path
from ..verify.verification import Verification
from .config_command import add_config_parser
from .devices_command import add_devices_parser
from .differential_command import add_differential_options, run_differential_devices
from .export_command import add_export_parser
from .import_command import add_import_parser
from .influx_commands import add_influx_options, add_push_parser, add_query_parser, settings_from_args
from .init_command import add_init_parser
from .inventory_command import add_inventory_parser
from .nightly_command import add_nightly_parser
from .run_json import RunReport
from .run_labnet import LabNetworkUnavailable, device_lab, print_destinations
from .run_uplink import UplinkUnavailable, check_broker, device_uplink
from .run_verdict import RunVerdict
from .serve_command import add_serve_parser
from .tap_command import add_tap_parser
from .terminal import device_safe_output


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # said with the usage of the command it was given to, and a guess
        command = _chosen_parser(parser, args)
        command.error(_unrecognized(command, extra))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        with device_safe_output():  # a device's strings never drive the terminal
            code = int(args.func(args))
            sys.stdout.flush()  # here, so a closed pipe is caught below and not at exit
        return code
    except BrewbenchError as exc:
        message = str(exc)  # a message that names its command already needs no prefix
        print(message if message.startswith("brewbench ") else f"brewbench: {message}",
              file=sys.stderr)
        return 2
    except BrokenPipeError:  # brewbench query ... | head: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush
        return 128 + signal.SIGPIPE
    except KeyboardInterrupt:
        return 130


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The subcommands' parsers by name."""
    for action in parser._actions:  # argparse keeps them there and nowhere public
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _chosen_parser(parser: argparse.ArgumentParser,
                   args: argparse.Namespace) -> argparse.ArgumentParser:
    """The innermost (sub)command parser ``args`` went through (``import pcap``, ``run``)."""
    for action in parser._actions:  # argparse keeps its subcommands nowhere public
        if isinstance(action, argparse._SubParsersAction):
            chosen = _commands(parser).get(getattr(args, action.dest, None) or "")
            if chosen is not None:
                return _chosen_parser(chosen, args)
    return parser


def _unrecognized(parser: argparse.ArgumentParser, extra: list[str]) -> str:
    """``unrecognized arguments: --devcie x (did you mean --device?)``."""
    known = [o for action in parser._actions for o in action.option_strings]
    guesses = [close for arg in extra if arg.startswith("--")
               for close in difflib.get_close_matches(arg.split("=", 1)[0], known, n=1)]
    hint = f" (did you mean {', '.join(dict.fromkeys(guesses))}?)" if guesses else ""
    return f"unrecognized arguments: {' '.join(extra)}{hint}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="brewbench", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the bench does")
    parser.add_argument("--version", action="version", version=f"brewbench {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="drive a machine through every action and show "
                              "what it emitted")
    run.add_argument("--device", action="append", metavar="SPEC|NAME",
                     help="device spec, or a device named in the lab file (BREWBENCH_LAB or "
                     "[tool.brewbench] lab), repeatable (default: [tool.brewbench] devices, "
                     f"else {DEFAULT_SPEC})")
    run.add_argument("--results", type=Path, default=None,
                     help="folder for captures (default: [tool.brewbench] results, else "
                     "brewbench-results)")
    run.add_argument("--timeout", type=float, default=None,
                     help="seconds to wait for an answer (default: [tool.brewbench] timeout, "
                     "else 3)")
    run.add_argument("--wait", type=float, default=None, metavar="SECONDS",
                     help="wait up to this long for a device to appear, and find it again "
                     "after it left (a reset, a re-plug); default: [tool.brewbench] wait, "
                     "else fail at once")
    run.add_argument("--raw-captures", action="store_true", default=None,
                     help="save captures with the raw personal and payment values the machine "
                     "sent (default: [tool.brewbench] raw_captures, else keyed hashes)")
    run.add_argument("--contract", type=Path, metavar="FILE",
                     help="data contract; exit 1 when a device collected beyond it (default: "
                     "[tool.brewbench] contract)")
    run.add_argument("--fail-on-leak", action="store_true",
                     help="exit 1 when any planted value comes back, whatever the contract")
    run.add_argument("--uplink", action="store_true",
                     help="also capture what each machine sends its cloud, on a local mosquitto "
                     "and HTTP endpoint (channel uplink; docs/uplink.md)")
    run.add_argument("--lab-network", default=None, choices=sorted(LAB_CLOUDS), metavar="CLOUD",
                     help="run each emulated machine behind a lab network with this cloud "
                     f"({', '.join(sorted(LAB_CLOUDS))}); implies --uplink; needs root "
                     "(docs/lab-network.md)")
    run.add_argument("--json", action="store_true",
                     help="print one JSON document (verdict, devices, violations; "
                     "docs/cli-json.md) on stdout, and the lines for people on stderr")
    add_influx_options(run, prefix="influx-")
    add_differential_options(run)
    run.set_defaults(func=cmd_run)

    add_nightly_parser(commands)
    add_push_parser(commands)
    add_query_parser(commands)
    add_inventory_parser(commands)
    add_init_parser(commands)
    add_config_parser(commands)
    add_import_parser(commands)
    add_export_parser(commands)
    add_tap_parser(commands)
    add_devices_parser(commands)
    add_serve_parser(commands)

    emulate = commands.add_parser("emulate", help="serve an emulated machine for any tool")
    emulate.add_argument("--family", default="cm500", choices=("cm500", "jura", "ecam"),
                         help="the machine's protocol (default: cm500, the bench's own; ecam is "
                         "Bluetooth LE only, emulated in-process: emu://?family=ecam&transport=ble)")
    emulate.add_argument("--firmware", default=None,
                         help=f"cm500: {', '.join(sorted(PROFILES))} (default 2.1); "
                              f"jura: {', '.join(sorted(MACHINE_TYPES))} (default 1.25)")
    emulate.add_argument("--transport", default="serial", choices=sorted(set(LINKS) - IN_PROCESS),
                         help="the link it serves (default: %(default)s)")
    emulate.add_argument("--serial", default=None, help="serial number (default: random)")
    emulate.add_argument("--fault", default="", metavar="NAME[:ARG],...",
                         help="misbehave for a client's tests, e.g. flood or babble:50M,slow_drip:5 "
                              "(docs/protocol.md, section 10)")
    emulate.set_defaults(func=cmd_emulate)
    return parser


def cmd_run(args: argparse.Namespace) -> int:
    _apply_project_settings(args)
    if args.differential:
        _refuse_what_the_differential_drops(args)
    if not args.json:
        return _run(args, None)
    if args.differential:
        raise DeviceSpecError("--json: not available with --differential yet; its results are "
                              "in the run's folder (differential.json)")
    document = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):  # people's lines; stdout is the document's
        return _run(args, document)


def _refuse_what_the_differential_drops(args: argparse.Namespace) -> None:
    """A differential run drives the serial/USB/BLE session only: an option it would
    drop is a usage mistake, not a run that silently went without it."""
    dropped = {"--uplink": args.uplink, "--lab-network": args.lab_network is not None,
               "--fail-on-leak": args.fail_on_leak}
    for option, given in dropped.items():
        if given:
            raise DeviceSpecError(f"{option}: not available with --differential yet; run it "
                                  "without --differential")


def _run(args: argparse.Namespace, json_out: TextIO | None) -> int:
    specs = resolve_devices(args.device, find_lab())  # lab names -> specs
    for spec in specs:
        check_spec(spec)  # a typo (scheme, parameter, family) is a usage error before any run
    if args.contract is not None:
        load_contracts(args.contract)  # a bad file is a usage error before any device is driven
    run_id = new_run_id()
    prepare_results(args.results / run_id / "captures")
    had_key = lab_key_path().exists()
    if not args.raw_captures:
        Redactor.from_lab_key()  # a corrupt lab key is one line now, not after the run
    verdict = RunVerdict(args.contract, args.fail_on_leak)
    report = RunReport(run_id, args.results / run_id)
    not_found: list[DeviceNotFound] = []
    run_log = RunLog.open(settings_from_args(args, default_spool=args.results / "spool",
                                             prefix="influx-"),
                          run_id, kind="run")
    if args.differential:  # its own verdict line per device (bench/cli/differential_command.py)
        verdicts: list[str] = []
        try:
            return run_differential_devices(args, specs, run_id, run_log, verdicts)
        finally:
            run_log.close()
            print(f"results: {run_log.sink.settings.target}")
            if run_log.waiting():
                print(run_log.waiting())
            for line in verdicts:  # the run ends with its verdicts, as a plain run does
                print(line)
    args.uplink = args.uplink or args.lab_network is not None
    try:
        check_broker(args.uplink)
        for spec in specs:
            print(f"== {spec}  (run {run_id})")
            with device_uplink(args.uplink) as uplink, \
                    device_lab(args.lab_network, spec, uplink) as (run_spec, lab):
                verdict.add(spec, *_run_device(spec, args, run_id, run_log, not_found, uplink,
                                               report, run_spec, lab))
    except UplinkUnavailable as exc:
        print(f"brewbench run --uplink: {exc}", file=sys.stderr)
        return 2
    except LabNetworkUnavailable as exc:
        print(f"brewbench run --lab-network: {exc}", file=sys.stderr)
        return 2
    finally:
        run_log.close()
    print(f"results: {run_log.sink.settings.target}")
    if run_log.waiting():
        print(run_log.waiting())
    if not had_key and lab_key_path().exists():
        print(f"created the lab key {lab_key_path()}: captures hash sensitive values with it; "
              "back it up (docs/data-verification.md)")
    for error in not_found:  # a wrong port is a usage mistake: one line each, exit 2
        print(f"brewbench: {error}", file=sys.stderr)
    print(verdict.line())
    code = 2 if not_found else verdict.exit_code
    if json_out is not None:
        report.write(json_out, verdict, code, run_log.sink.settings.target, run_log.waiting())
    return code


ECAM_IN_PROCESS = ("brewbench emulate --family ecam: an ECAM machine speaks only Bluetooth LE, which the "
                   "bench emulates inside the process that drives it; use --device "
                   "'emu://?family=ecam&transport=ble' with brewbench run or pytest")
RUN_FLAGS = {"devices": "--device", "results": "--results", "timeout": "--timeout",
             "raw_captures": "--raw-captures", "contract": "--contract", "wait": "--wait"}


def _apply_project_settings(args: argparse.Namespace) -> None:
    """Fill what the command line left out from the project, as pytest and the nightly
    do (bench/project_settings.py): the pytest ini file, then ``[tool.brewbench]``."""
    cli = {"devices": args.device, "results": args.results, "timeout": args.timeout,
           "raw_captures": args.raw_captures, "contract": args.contract, "wait": args.wait}
    settings = resolve_settings(project_layers(cli, flags=RUN_FLAGS))  # SettingsError: exit 2
    args.device, args.results, args.timeout = list(settings.devices), settings.results, \
        settings.timeout
    args.raw_captures, args.contract, args.wait = settings.raw_captures, settings.contract, \
        settings.wait


def _run_device(spec: str, args: argparse.Namespace, run_id: str, run_log: RunLog,
                not_found: list[DeviceNotFound], uplink: UplinkTap | None, report: RunReport,
                run_spec: str | None = None, lab: LabNetwork | None = None
                ) -> tuple[int, Verification | None]:
    """Drive one device through every step; whatever happens, keep its capture and a point.

    With a ``lab`` the device is opened at ``run_spec`` (its emulated machine behind the
    lab network) and the lab records its lookups and connections into the capture.

    A device that fails to connect or identify, or breaks the protocol in one
    step, costs that step (or the device), never the capture or the devices after it.
    A device that is not there at all leaves no capture and no points (None): it sent
    nothing, and its empty capture would read like a clean device.
    """
    failures, error_type = 0, ""
    started_ns, start = time.time_ns(), time.monotonic()
    canaries = plant()
    capture = Capture(spec, {"spec": spec})
    try:
        with open_device(run_spec or spec, timeout=args.timeout, capture=capture, uplink=uplink,
                         wait=args.wait,
                         say=lambda line: print(f"   {line}", flush=True)) as device:
            if lab is not None:
                device.machine.connection.attach(lab)
                lab.bind(capture)
            steps = standard_steps(canaries.provisioning(), card=canaries.card(),
                                   spoken=_spoken_order(device, canaries["owner"]))
            for step in steps_for(device.machine, steps):
                try:
                    result = step.run(device.machine)
                    if isinstance(result, dict) and "refused" in result:  # bench.scenario._brew
                        print(f"   {step.action}: refused {result['refused']}")
                except BrewbenchError as exc:
                    failures += 1
                    error_type = error_type or type(exc).__name__
                    print(f"   {step.action}: FAILED {exc}")
    except DeviceNotFound as exc:  # said once, at the end, as a usage mistake (exit 2)
        not_found.append(exc)
        report.add(spec, 1, str(exc), None, None)
        return 1, None
    except DeviceError as exc:  # connect or identify: the steps never ran
        failures += 1
        error_type = type(exc).__name__
        print(f"   connect: FAILED {exc}")
    path = args.results / run_id / "captures" / f"{slug(spec)}.jsonl"
    outcome = TestOutcome("brewbench run", "failed" if failures else "passed",
                          time.monotonic() - start, started_ns, error_type)
    kept = keep(capture, path, run_log, outcome, canaries=canaries, raw=args.raw_captures,
                contract=args.contract)
    print(f"   capture saved to {kept.path}{' (RAW values)' if args.raw_captures else ''}")
    print_capture(capture, sys.stdout, kept.verification, saved=kept.path)
    if lab is not None:
        print_destinations(lab, kept.verification)
    if kept.verification.verdict is not None:
        print("   " + kept.verification.verdict.report().replace("\n", "\n   "))
    report.add(spec, failures, error_type, kept.path, kept.verification)
    return failures, kept.verification


def _spoken_order(device: Any, owner: str) -> bytes | None:
    """The owner's order said aloud for a machine that takes voice orders; without
    espeak-ng the step is left out with one line. An emulated machine has no
    recogniser of its own: it is told the words it is played (emulator/voice.py)."""
    if not device.machine.supports("voice_order"):
        return None
    sentence = order_sentence(owner)
    try:
        clip = say(sentence)
    except SpeechUnavailable as exc:
        print(f"   voice_order: left out, {exc}")
        return None
    emulated = getattr(device.emulator, "machine", None)
    if emulated is not None and hasattr(emulated, "recogniser"):
        emulated.recogniser = lambda _clip: sentence
    return clip


def cmd_emulate(args: argparse.Namespace) -> int:
    if args.family == "ecam":
        raise DeviceSpecError(ECAM_IN_PROCESS)
    firmware = args.firmware or EMULATED_FIRMWARE[args.family]
    try:
        if args.family == "jura" and args.fault:
            raise ValueError("--fault is for the cm500 family's emulator")
        emulator: Emulator | JuraEmulator = (
            JuraEmulator(firmware, args.transport, args.serial) if args.family == "jura"
            else Emulator(firmware, args.transport, args.serial, faults=args.fault))
    except ValueError as exc:
        print(f"brewbench emulate: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with emulator:
        if isinstance(emulator, JuraEmulator):
            print(f"emulated Jura {emulator.machine.machine_type}")
        else:
            print(f"emulated {emulator.machine.profile.model} firmware {firmware}, "
                  f"serial number {emulator.machine.serial}")
        print(f"port: {emulator.url}")
        print(f"device spec: {emulator.spec}")
        print("Ctrl-C stops it.", flush=True)
        with announce(emulator.spec, _emulated_what(emulator)), \
                contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0



def _emulated_what(emulator: Emulator | JuraEmulator) -> str:
    """How ``brewbench devices`` describes a running emulator."""
    if isinstance(emulator, JuraEmulator):
        return f"emulated Jura {emulator.machine.machine_type}"
    return (f"emulated {emulator.machine.profile.model} firmware {emulator.machine.profile.version} "
            f"serial {emulator.machine.serial}")

"""``brewbench run --lab-network CLOUD``: each emulated machine behind a lab network of its own.

The device's emulated machine runs as a process in the lab's device namespace
(bench/labnet/device.py) with the lab cloud ``CLOUD``; the run drives it over its
pty as usual, its uplink is captured through the lab (so ``--uplink`` is implied),
and after the capture the run prints one line per destination: what went there,
over which port, where it is and who runs it, and the TLS verdict.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ...drivers.specs import parse_spec
from ...emulator.lab_clouds import WORLD
from ..labnet.device import LabDevice
from ..labnet.findings import destination_lines
from ..labnet.lab import LabNetwork, LabNetworkError, tap_upstream
from ..uplink.tap import UplinkTap
from ..verify.residency import destinations
from ..verify.verification import Verification


class LabNetworkUnavailable(Exception):
    """The lab network cannot run here, or the spec is not an emulated machine: one line."""


@contextlib.contextmanager
def device_lab(cloud: str | None, spec: str, uplink: UplinkTap | None
               ) -> Iterator[tuple[str, LabNetwork | None]]:
    """(the spec to open, the lab) for one device: the spec itself and None without ``cloud``.

    Raises:
        LabNetworkUnavailable: not an ``emu://`` spec, not root, or the lab failed to start.
    """
    if cloud is None:
        yield spec, None
        return
    parsed = parse_spec(spec)
    if parsed.scheme != "emu":
        raise LabNetworkUnavailable(f"{spec}: --lab-network runs an emulated machine (emu://); "
                                    "for a real machine set up the lab's tables (docs/lab-network.md)")
    _refuse_another_machine(spec, parsed.params)
    try:
        lab = LabNetwork(WORLD, tap_upstream(uplink) if uplink is not None else None).__enter__()
    except LabNetworkError as exc:
        raise LabNetworkUnavailable(str(exc)) from exc
    try:
        with LabDevice(lab, cloud, firmware=parsed.params.get("firmware", "2.1"),
                       serial=parsed.params.get("serial")) as lab_spec:
            print(f"   lab network: cloud {cloud}, device namespace {lab.namespaces.device}, "
                  f"up in {lab.setup_ms:.0f} ms")
            yield lab_spec, lab
    except LabNetworkError as exc:
        raise LabNetworkUnavailable(str(exc)) from exc
    finally:
        lab.stop()


# What the lab's emulated machine (bench/labnet/device.py: a CM-500 over serial) can be.
LAB_MACHINE = {"firmware": None, "serial": None, "family": "cm500", "transport": "serial"}


def _refuse_another_machine(spec: str, params: dict[str, str]) -> None:
    """A spec the lab's machine cannot be is one line, never run as another machine."""
    other = [f"{key}={value}" for key, value in params.items()
             if key not in LAB_MACHINE or LAB_MACHINE[key] not in (None, value)]
    if other:
        raise LabNetworkUnavailable(f"{spec}: the lab network's emulated machine is a CM-500 over "
                                    f"serial (firmware=, serial=); not {', '.join(other)}")


def print_destinations(lab: LabNetwork, verification: Verification) -> None:
    """Per destination what went there and where it is; then the gateway's counts."""
    summary = verification.capture.meta.get("labnet", lab.summary())
    by_category = destinations(verification.capture, verification.classified)
    for line in destination_lines(summary, by_category):
        print(f"   -> {line}")
    counts = lab.publish_counts()
    print(f"   lab network: {len(lab.lookups)} lookup(s), {len(lab.connections)} connection(s), "
          f"{counts.dropped} packet(s) dropped, {counts.escaped} left the lab")

"""Lab network: how long a lab takes to set up and tear down, and what it adds to an action.

    python benchmarks/lab_network.py [--actions 20] [--repeat 3]   (as root)

1. ``LabNetwork`` set-up (namespaces, veth, nftables, two dnsmasq, the interceptor)
   and tear-down, best and worst of ``--repeat``.
2. ``status`` actions of an emulated CM-500 whose heartbeat goes by HTTPS to a
   hard-coded address: behind the lab (``forged-ok``: the front door terminates TLS
   and relays to the bench's endpoint) against the same firmware on the plain
   uplink path (``emu://`` with the tap's resolve hook, plain HTTP). Runs alternate;
   the best of each counts, and the ratio lab/plain is printed.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from alternating import alternate

from brewbench.bench.devices import open_device
from brewbench.bench.labnet.device import LabDevice
from brewbench.bench.labnet.lab import LabNetwork, tap_upstream
from brewbench.bench.uplink.servers import Mosquitto
from brewbench.bench.uplink.tap import UplinkTap
from brewbench.emulator.lab_clouds import WORLD


def set_up_and_tear_down() -> tuple[float, float]:
    lab = LabNetwork(WORLD)
    lab.start()
    began = time.monotonic()
    lab.stop()
    return lab.setup_ms, (time.monotonic() - began) * 1000


def timed_actions(spec: str, tap: UplinkTap, actions: int, lab: LabNetwork | None) -> float:
    with open_device(spec, uplink=tap) as device:
        if lab is not None:
            device.machine.connection.attach(lab)
            lab.bind(device.capture, tap_upstream(tap))
        began = time.monotonic()
        for _ in range(actions):
            device.machine.status()
        return (time.monotonic() - began) / actions


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--actions", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    times = [set_up_and_tear_down() for _ in range(args.repeat)]
    print(f"set-up {min(t[0] for t in times):.0f}-{max(t[0] for t in times):.0f} ms, "
          f"tear-down {min(t[1] for t in times):.0f}-{max(t[1] for t in times):.0f} ms")
    with Mosquitto(Path(tempfile.mkdtemp())) as broker, \
            LabNetwork(WORLD) as lab, LabDevice(lab, "forged-ok") as lab_spec:
        plain, behind = alternate(
            args.repeat,
            lambda: timed_actions("emu://?firmware=2.2", UplinkTap(broker.address), args.actions, None),
            lambda: timed_actions(lab_spec, UplinkTap(broker.address), args.actions, lab))
        print(f"status with its HTTPS heartbeat: plain uplink {plain * 1000:.1f} ms, "
              f"behind the lab {behind * 1000:.1f} ms, ratio {behind / plain:.2f}; "
              f"packets left the lab: {lab.counts().escaped}")


if __name__ == "__main__":
    main()

"""Memory and time against a hostile device: peak RSS under a flood, seconds for babble.

    python benchmarks/hostile_bounds.py [--flood 10 30 60] [--babble 10 20 50]

Flood: each duration runs in a fresh process what ``brewbench run`` does for one
device (open it, plant canaries, drive the standard steps, keep the results: a
redacted capture and the points, spooled) while the emulated machine sends
telemetry back to back from another thread for the whole duration. It prints
the process's peak RSS, how many frames the device sent and how many the
capture kept and counted.

First, the real ``brewbench run`` against an emulated machine whose ``flood``
fault sends telemetry from its first answer until the link closes.

Babble: a device of our own on a real pty writes N MB of random bytes with no
frame delimiter; the bench's SerialTransport + Connection + Capture read it,
then the analysis (classification both ways, canary hunt) and a redacted save
run. It prints seconds for reading and for analysis + save, and the peak RSS.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import tty
from pathlib import Path

from brewbench.bench.capture import Capture
from brewbench.bench.devices import open_device
from brewbench.bench.influx.run_log import RunLog
from brewbench.bench.influx.settings import InfluxSettings
from brewbench.bench.results import TestOutcome, keep
from brewbench.bench.scenario import standard_steps, steps_for
from brewbench.bench.verify.canaries import plant
from brewbench.bench.verify.capture_redaction import save_capture
from brewbench.bench.verify.redact import Redactor
from brewbench.drivers.connection import Connection
from brewbench.drivers.errors import BrewbenchError
from brewbench.drivers.serial_transport import SerialTransport


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def flood_run(seconds: float, results: Path) -> dict[str, float]:
    """One device's ``brewbench run`` under a telemetry flood of ``seconds``."""
    canaries = plant()
    sent = 0
    with open_device("emu://?firmware=2.1&transport=serial") as device:
        assert device.emulator is not None
        stop = threading.Event()

        def flood() -> None:
            nonlocal sent
            while not stop.is_set():
                device.emulator.machine.burst(100)  # type: ignore[union-attr]
                sent += 100

        sender = threading.Thread(target=flood)
        sender.start()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for step in steps_for(device.machine, standard_steps(canaries.provisioning(),
                                                                 card=canaries.card())):
                with contextlib.suppress(BrewbenchError):  # a flooded step may time out
                    step.run(device.machine)
        stop.set()
        sender.join()
    start = time.monotonic()
    run_log = RunLog.open(InfluxSettings(spool=results / "spool"), "bounds", kind="run")
    keep(device.capture, results / "capture.jsonl", run_log,
         TestOutcome("bounds", "passed", seconds, time.time_ns()), canaries=canaries)
    run_log.close()
    overflow = device.capture.meta.get("overflow", {})
    return {"seconds": seconds, "peak_rss_mb": peak_rss_mb(), "sent": sent,
            "kept": len(device.capture.entries), "counted": overflow.get("records", 0),
            "keep_s": time.monotonic() - start}


def babble_run(megabytes: int, results: Path) -> dict[str, float]:
    """Read ``megabytes`` of delimiter-free noise from a pty, then analyse and save it."""
    master, slave = os.openpty()
    tty.setraw(slave)
    connection = Connection(SerialTransport(os.ttyname(slave)))
    capture = Capture("babble")
    connection.attach(capture)
    connection.open()
    noise = os.urandom(1 << 20).replace(b"\x00", b"\x01")
    start = time.monotonic()
    writer = threading.Thread(target=lambda: [os.write(master, noise) for _ in range(megabytes)])
    writer.start()
    writer.join()
    last, still = -1, 0
    while still < 3:  # the reader has caught up once the count stops moving
        time.sleep(0.05)
        still = still + 1 if connection.frame_errors == last else 0
        last = connection.frame_errors
    connection.close()
    read_s = time.monotonic() - start - 0.15
    start = time.monotonic()
    save_capture(capture, results / "babble.jsonl", redactor=Redactor(b"k" * 32),
                 canaries=plant())
    os.close(master)
    os.close(slave)
    return {"mb": megabytes, "read_s": read_s, "analyse_save_s": time.monotonic() - start,
            "records": len(capture.entries), "peak_rss_mb": peak_rss_mb()}


def in_child(kind: str, size: float) -> dict[str, float]:
    """Run one measurement in a fresh process, so each peak RSS is its own."""
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(size)],
                         check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def brewbench_run_flooded(results: Path) -> tuple[float, float]:
    """The real ``brewbench run`` against a machine that floods after its first answer
    (``fault=flood``, until the link closes): seconds taken and the command's peak RSS."""
    env = {**os.environ, "BREWBENCH_LAB_KEY_FILE": str(results / "lab.key")}
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "brewbench", "run", "--device",
                    "emu://?firmware=2.1&transport=serial&fault=flood", "--results",
                    str(results / "run")], check=False, capture_output=True, env=env)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return time.monotonic() - start, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--flood", type=float, nargs="*", default=[10, 30, 60])
    parser.add_argument("--babble", type=int, nargs="*", default=[10, 20, 50])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, size = args.child
        with tempfile.TemporaryDirectory() as folder:
            result = (flood_run(float(size), Path(folder)) if kind == "flood"
                      else babble_run(int(float(size)), Path(folder)))
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as folder:
        took, peak = brewbench_run_flooded(Path(folder))
    print(f"brewbench run, machine flooding from its first answer: {took:.1f} s, peak RSS "
          f"{peak:.1f} MB", flush=True)
    for seconds in args.flood:
        r = in_child("flood", seconds)
        print(f"flood {seconds:>4g} s: peak RSS {r['peak_rss_mb']:6.1f} MB; device sent "
              f"{r['sent']:,} frames, capture kept {r['kept']:,} and counted {r['counted']:,}; "
              f"keep (redacted save + analysis) {r['keep_s']:.1f} s", flush=True)
    for megabytes in args.babble:
        r = in_child("babble", megabytes)
        print(f"babble {megabytes:>3} MB: read {r['read_s']:.2f} s, analysis + redacted save "
              f"{r['analyse_save_s']:.3f} s, {r['records']:.0f} records, peak RSS "
              f"{r['peak_rss_mb']:.1f} MB", flush=True)


if __name__ == "__main__":
    main()

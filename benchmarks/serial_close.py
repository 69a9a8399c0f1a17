"""Opening and closing a serial link: the bench's SerialTransport (reader thread and all)
vs plain pyserial open/close of the same pty, alternating, side by side.

    python benchmarks/serial_close.py [--cycles 50] [--runs 3]

A differential run opens and closes the link once per session, and pytest once per
test, so a close that waits out its reader's timeout is paid many times a run.
"""

from __future__ import annotations

import argparse
import os
import pty
import statistics
import time

import serial
from alternating import alternate

from brewbench.drivers.serial_transport import SerialTransport


class Ignore:
    """Link events nobody needs here: nothing is sent on the pty."""

    def received(self, chunk: object) -> None: ...
    def lost(self, error: object) -> None: ...
    def note(self, record: object) -> None: ...


def cycles(path: str, count: int, bench: bool) -> float:
    """Seconds per open/close cycle, median of ``count``."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        if bench:
            transport = SerialTransport(path)
            transport.open(Ignore())
            transport.close()
        else:
            serial.Serial(path, timeout=0.05).close()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    controller, device = pty.openpty()
    path = os.ttyname(device)
    try:
        raw, bench = alternate(args.runs, lambda: cycles(path, args.cycles, False),
                               lambda: cycles(path, args.cycles, True))
    finally:
        os.close(controller)
        os.close(device)
    print(f"open+close  raw pyserial {raw * 1e3:8.2f} ms   bench transport {bench * 1e3:8.2f} ms   "
          f"ratio bench/raw {bench / raw:6.2f}  (median of {args.cycles}, best of {args.runs})")


if __name__ == "__main__":
    main()

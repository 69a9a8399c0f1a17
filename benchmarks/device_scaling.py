"""Many devices in one run: actions per second for 1, 2, 4, 8 and 16 emulated machines.

    python benchmarks/device_scaling.py [--counts 1,2,4,8,16] [--seconds 3] [--runs 2]

The machines run in one process of their own (ptys, as ``brewbench emulate`` serves
them), so the bench's process holds only the bench: one thread per device, each
with its own SerialTransport, Connection, CoffeeMachine and Capture, asking STATUS
over and over for ``--seconds``. Printed per device count: actions per second in
all and per device, the ratio to one device, and CPU use of each process (CPU time
over wall time: 1.0 is one core kept busy). Counts run in turn, ``--runs`` rounds,
best round per count kept, so each count meets the same load.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from brewbench.bench.capture import Capture
from brewbench.drivers.connection import Connection
from brewbench.drivers.machine import CoffeeMachine
from brewbench.drivers.serial_transport import SerialTransport

SERVE = '''
import sys
from brewbench.emulator.serve import Emulator
machines = [Emulator("2.1", "serial") for _ in range(int(sys.argv[1]))]
for machine in machines:
    machine.start()
    print(machine.url, flush=True)
sys.stdin.read()
'''
TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def drive(path: str, seconds: float, start: threading.Barrier, counts: list[int]) -> None:
    """STATUS as fast as one device answers, for ``seconds``; the count goes to ``counts``."""
    with CoffeeMachine(Connection(SerialTransport(path))) as machine:
        machine.connection.attach(Capture(path))
        start.wait()
        done, deadline = 0, time.monotonic() + seconds
        while time.monotonic() < deadline:
            machine.status()
            done += 1
    counts.append(done)


def one_round(paths: list[str], emulator_pid: int, seconds: float) -> dict[str, float]:
    counts: list[int] = []
    start = threading.Barrier(len(paths) + 1)
    threads = [threading.Thread(target=drive, args=(p, seconds, start, counts)) for p in paths]
    for thread in threads:
        thread.start()
    start.wait()
    wall, cpu, emu = time.monotonic(), time.process_time(), process_cpu(emulator_pid)
    for thread in threads:
        thread.join()
    wall = time.monotonic() - wall
    return {"actions_s": sum(counts) / wall, "bench_cpu": (time.process_time() - cpu) / wall,
            "emulator_cpu": (process_cpu(emulator_pid) - emu) / wall}


def measure(counts: list[int], seconds: float, runs: int) -> dict[int, dict[str, float]]:
    proc = subprocess.Popen([sys.executable, "-c", SERVE, str(max(counts))],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdin is not None
    paths = [proc.stdout.readline().strip() for _ in range(max(counts))]
    best: dict[int, dict[str, float]] = {}
    try:
        for _ in range(runs):
            for count in counts:
                result = one_round(paths[:count], proc.pid, seconds)
                if result["actions_s"] > best.get(count, {"actions_s": 0.0})["actions_s"]:
                    best[count] = result
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
    return best


def print_table(best: dict[int, dict[str, float]]) -> None:
    one = best[min(best)]["actions_s"]
    print("| devices | actions/s | per device | ratio to 1 | bench CPU | emulator CPU |")
    print("| --- | --- | --- | --- | --- | --- |")
    for count, r in sorted(best.items()):
        print(f"| {count} | {r['actions_s']:,.0f} | {r['actions_s'] / count:,.0f} | "
              f"{r['actions_s'] / one:.2f} | {r['bench_cpu']:.2f} | {r['emulator_cpu']:.2f} |")
    print(f"load average now: {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", default="1,2,4,8,16", help="device counts (default: %(default)s)")
    parser.add_argument("--seconds", type=float, default=3.0, help="per count and round")
    parser.add_argument("--runs", type=int, default=2, help="rounds; the best per count is kept")
    args = parser.parse_args()
    counts = sorted({int(n) for n in args.counts.split(",")})
    print_table(measure(counts, args.seconds, args.runs))


if __name__ == "__main__":
    main()

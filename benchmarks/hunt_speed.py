"""Canary hunter throughput vs a single ``bytes.find`` pass over the same buffer.

    python benchmarks/hunt_speed.py [--mb 4] [--repeat 3]

Three buffers: random bytes, capture-like text (the values and log lines an
emulated 2.1 machine emits, repeated), and the raw frames of a real capture
over the serial link (repeated). On each: the hunter with every canary in every
encoding and every layer (the bench's default), the same automaton without
peeling layers, one ``bytes.find`` per pattern (what the automaton replaces),
and one ``bytes.find`` of one canary as the raw baseline. The best of
``--repeat`` runs is shown, with the ratios to the baseline.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from functools import partial

from brewbench.bench.devices import open_device
from brewbench.bench.verify.canaries import plant
from brewbench.bench.verify.encodings import patterns
from brewbench.bench.verify.hunter import Hunter


def capture_bytes(canaries_tag: str) -> tuple[bytes, bytes]:
    """(leaf text, raw frames) of one full session with an emulated 2.1 machine."""
    canaries = plant(canaries_tag)
    with open_device("emu://?firmware=2.1&transport=serial") as device:
        machine = device.machine
        machine.provision(**canaries.provisioning())
        for _ in range(5):
            machine.brew("latte", strength=4, milk="oat")
            machine.pay("cash", 300)
        machine.sync()
        machine.read_logs()
        entries = device.capture.entries
    raw = b"".join(e.record.raw for e in entries if e.record.direction == "rx")
    text = b"".join(str(e.record.message.body).encode() for e in entries
                    if e.record.message is not None and e.record.direction == "rx")
    return text, raw


def best_rate(run: Callable[[], object], size: int, repeat: int) -> float:
    """MB/s of the fastest of ``repeat`` runs."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return size / best / 1e6


def find_each(data: bytes, needles: list[bytes]) -> list[int]:
    return [data.find(p) for p in needles]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=4.0, help="buffer size in MB")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    size = int(args.mb * 1e6)
    # The hunted canaries are a different run's: the buffers hold none of them,
    # so every byte is read to the end, as on a clean device.
    canaries = plant()
    hunter = Hunter(canaries.canaries)
    patterns_only = Hunter(canaries.canaries, layers={})
    needle = canaries["owner"].encode()
    every = [p for c in canaries.canaries for _name, p in patterns(c.value.encode())]
    text, raw = capture_bytes("0123ABCD")
    buffers = {"random bytes": os.urandom(size),
               "capture text": (text * (size // len(text) + 1))[:size],
               "raw frames": (raw * (size // len(raw) + 1))[:size]}
    print(f"{len(canaries.canaries)} canaries, {hunter.pattern_count} patterns, "
          f"{args.mb:g} MB per buffer, best of {args.repeat}")
    print(f"{'buffer':<14} {'hunter':>10} {'no layers':>10} {'find each':>10} "
          f"{'bytes.find':>10} {'ratio':>7} {'no layers':>9}  (MB/s; ratios to bytes.find)")
    for name, data in buffers.items():
        full = best_rate(partial(hunter.scan, data), size, args.repeat)
        flat = best_rate(partial(patterns_only.scan, data), size, args.repeat)
        each = best_rate(partial(find_each, data, every), size, args.repeat)
        base = best_rate(partial(data.find, needle), size, args.repeat)
        print(f"{name:<14} {full:>10.1f} {flat:>10.1f} {each:>10.1f} {base:>10.0f} "
              f"{full / base:>7.4f} {flat / base:>9.4f}")


if __name__ == "__main__":
    main()

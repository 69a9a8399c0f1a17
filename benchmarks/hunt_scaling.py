"""Hunting time against capture size: it must grow linearly.

    python benchmarks/hunt_scaling.py [--sizes 1 8 32] [--with-100]

Builds a capture of mixed frames (decoded EVENT frames carrying random bytes,
zlib and gzip blobs, base64 and hex text, JSON-like text; undecodable frames of
random bytes), hunts a set of canaries that is not in it (every byte is read to
the end, as on a clean device) with every encoding and every layer, and prints
MB/s per size next to a plain pyahocorasick pass over the same bytes with the
same patterns, and the ratio. Constant MB/s (and ratio) across sizes is linear
time. 100 MB takes a few minutes and ~2 GB of memory: ``--with-100`` adds it.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import os
import random
import time
import zlib

from brewbench.bench.capture import Capture, Entry
from brewbench.bench.verify.canaries import plant
from brewbench.bench.verify.emissions import emissions
from brewbench.bench.verify.hunter import Hunter
from brewbench.drivers.messages import Kind, Message, MsgType
from brewbench.drivers.records import RX, Record, Stamp

FRAME = 1024


def _payload(kind: int, rng: random.Random) -> bytes:
    noise = rng.randbytes(FRAME // 2)
    text = (b'{"temp_c": 93.%d, "state": "idle", "log": "brew done order %d"} '
            % (rng.randrange(10), rng.randrange(1 << 20))) * 8
    return [noise, zlib.compress(text + noise[:64]), gzip.compress(text, mtime=0),
            base64.b64encode(noise), noise.hex().encode(), text][kind % 6]


def mixed_capture(size: int, seed: int = 7) -> tuple[Capture, int]:
    """A capture of about ``size`` bytes of frames; (capture, bytes in its values)."""
    rng, capture, total, n = random.Random(seed), Capture("bench"), 0, 0
    while total < size:
        data = _payload(n, rng)
        if n % 7 == 3:  # an undecodable frame: raw bytes
            record = Record("serial", RX, Stamp(n, n), os.urandom(FRAME), error="bad COBS")
        else:
            message = Message(Kind.EVENT, MsgType.EVENT, n % 60000, {"event": "diag", "data": data})
            record = Record("serial", RX, Stamp(n, n), b"", message)
        capture.entries.append(Entry("sync", record))
        total += len(data) if record.message else FRAME
        n += 1
    return capture, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 8, 32], help="MB")
    parser.add_argument("--with-100", action="store_true", help="add a 100 MB capture")
    args = parser.parse_args()
    sizes = [*args.sizes, *([100.0] if args.with_100 else [])]
    hunter = Hunter(plant().canaries)
    print(f"{hunter.pattern_count} patterns; mixed frames of {FRAME} bytes")
    print(f"{'MB':>6} {'hunt s':>8} {'hunt MB/s':>10} {'AC MB/s':>9} {'ratio':>7}")
    for mb in sizes:
        capture, total = mixed_capture(int(mb * 1e6))
        found = emissions(capture)
        start = time.perf_counter()
        findings = hunter.hunt(found)
        hunt_s = time.perf_counter() - start
        joined = b"".join(e.value if isinstance(e.value, bytes) else str(e.value).encode()
                          for e in found)
        start = time.perf_counter()
        for _ in hunter._automaton.iter(joined.decode("latin-1")):  # the same patterns
            pass
        ac_s = time.perf_counter() - start
        assert not findings, findings
        hunt_rate, ac_rate = total / hunt_s / 1e6, len(joined) / ac_s / 1e6
        print(f"{mb:>6g} {hunt_s:>8.2f} {hunt_rate:>10.2f} {ac_rate:>9.1f} "
              f"{hunt_rate / ac_rate:>7.3f}", flush=True)


if __name__ == "__main__":
    main()

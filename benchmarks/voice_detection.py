"""Audio detection throughput on a mixed capture, against hashing the same values.

    python benchmarks/voice_detection.py [--repeat 5]

The values: every leaf of a session with an emulated 3.1 machine that streamed a
spoken order (espeak-ng) as bare PCM chunks, plus the raw frames of that session,
plus as many random 4 KiB buffers as there are audio chunks. ``sniff_audio`` runs
over all of them; SHA-256 over the same bytes (what redaction does to each value
anyway) is the baseline. The best of ``--repeat`` runs is shown, with the ratio.
Transcription speed is not measured: the bench has no transcriber yet
(docs/data-verification.md, "Voice").
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from brewbench.bench.devices import open_device
from brewbench.bench.verify.audio import sniff_audio
from brewbench.bench.verify.emissions import emissions


def mixed_values() -> list[bytes]:
    """Leaves and frames of a listening machine's session, and random buffers."""
    binary = shutil.which("espeak-ng")
    if binary is None:
        sys.exit("espeak-ng is not installed (apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "order.wav"
        subprocess.run([binary, "-w", str(out), "a latte for Ada Canary on floor seven"],
                       check=True, capture_output=True)
        clip = out.read_bytes()
    with open_device("emu://?firmware=3.1&transport=serial") as device:
        device.machine.voice_order(clip)
        device.machine.brew("latte")
        device.machine.sync()
        capture = device.capture
    leaves = [e.value if isinstance(e.value, bytes) else str(e.value).encode()
              for e in emissions(capture, direction=None)]
    frames = [entry.record.raw for entry in capture.entries]
    chunks = sum(1 for value in leaves if sniff_audio(value) is not None)
    return leaves + frames + [os.urandom(4096) for _ in range(chunks)]


def best(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    values = mixed_values()
    size = sum(len(v) for v in values) / 1e6
    found = sum(1 for v in values if sniff_audio(v) is not None)
    detect = best(lambda: [sniff_audio(v) for v in values], args.repeat)
    digest = best(lambda: [hashlib.sha256(v).digest() for v in values], args.repeat)
    print(f"{len(values)} values, {size:.2f} MB, {found} of them audio")
    print(f"sniff_audio  {size / detect:8.1f} MB/s  {detect * 1e6 / len(values):7.1f} us/value")
    print(f"sha256       {size / digest:8.1f} MB/s  (detection costs {detect / digest:.1f}x hashing)")


if __name__ == "__main__":
    main()

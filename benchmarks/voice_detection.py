"""Audio detection throughput on a mixed capture, and transcription speed.

    python benchmarks/voice_detection.py [--repeat 5]

The values: every leaf of a session with an emulated 3.1 machine that streamed a
spoken order (espeak-ng) as bare PCM chunks, plus the raw frames of that session,
plus as many random 4 KiB buffers as there are audio chunks. ``sniff_audio`` runs
over all of them; SHA-256 over the same bytes (what redaction does to each value
anyway) is the baseline. The best of ``--repeat`` runs is shown, with the ratio.
Reassembling the clips of that capture (bench.verify.clips) is timed the same way.

Transcription: the spoken order is transcribed (words and phones, pocketsphinx),
searched for the planted name and the name spotted as a keyword, uncached,
``--repeat`` times; seconds of audio per second of work is printed (above 1:
faster than the audio plays).
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
from brewbench.bench.verify import transcribe as transcription
from brewbench.bench.verify.audio import sniff_audio
from brewbench.bench.verify.clips import Clip, clips, decode
from brewbench.bench.verify.emissions import Emission, emissions
from brewbench.bench.verify.phonetic import pronounce, search


def spoken_order() -> bytes:
    """The order as espeak-ng says it at 130 words a minute, as the tests make it."""
    binary = shutil.which("espeak-ng")
    if binary is None:
        sys.exit("espeak-ng is not installed (apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "order.wav"
        subprocess.run([binary, "-s", "130", "-w", str(out), "a latte for Ada Canary on floor seven"],
                       check=True, capture_output=True)
        return out.read_bytes()


def mixed_values(clip: bytes) -> tuple[list[bytes], list[Emission]]:
    """Leaves and frames of a listening machine's session and random buffers; and the
    session's emissions."""
    with open_device("emu://?firmware=3.1&transport=serial") as device:
        device.machine.voice_order(clip)
        device.machine.brew("latte")
        device.machine.sync()
        capture = device.capture
    found = emissions(capture, direction=None)
    leaves = [e.value if isinstance(e.value, bytes) else str(e.value).encode() for e in found]
    frames = [entry.record.raw for entry in capture.entries]
    chunks = sum(1 for value in leaves if sniff_audio(value) is not None)
    return leaves + frames + [os.urandom(4096) for _ in range(chunks)], list(found)


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
    clip = spoken_order()
    values, session = mixed_values(clip)
    size = sum(len(v) for v in values) / 1e6
    found = sum(1 for v in values if sniff_audio(v) is not None)
    detect = best(lambda: [sniff_audio(v) for v in values], args.repeat)
    digest = best(lambda: [hashlib.sha256(v).digest() for v in values], args.repeat)
    print(f"{len(values)} values, {size:.2f} MB, {found} of them audio")
    print(f"sniff_audio  {size / detect:8.1f} MB/s  {detect * 1e6 / len(values):7.1f} us/value")
    print(f"sha256       {size / digest:8.1f} MB/s  (detection costs {detect / digest:.1f}x hashing)")
    rebuilt = clips(session)
    joined = best(lambda: clips(session), args.repeat)
    print(f"clips        {len(rebuilt)} reassembled from {sum(len(c.emissions) for c in rebuilt)} "
          f"pieces in {joined * 1000:.1f} ms")
    transcribe_speed(rebuilt[0], args.repeat)


def transcribe_speed(clip: Clip, repeat: int) -> None:
    samples, rate = decode(clip)
    name = pronounce("Ada Canary")
    assert name is not None
    seconds = samples.size / rate
    times = []
    for _ in range(repeat):
        transcription._CACHE.clear()  # measure the recogniser, not the cache
        transcription._SPOTTED.clear()
        start = time.perf_counter()
        heard = transcription.transcribe(samples, rate)
        found = search([p.phone for p in heard.phones], name)
        transcription.spot(samples, rate, [name])
        times.append(time.perf_counter() - start)
    took = min(times)
    print(f"transcribe   {seconds:.1f} s of audio in {took:.2f} s: {seconds / took:.2f} s audio/s "
          f"(name heard: {found.heard}, words: {heard.words!r})")


if __name__ == "__main__":
    main()

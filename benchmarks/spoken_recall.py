"""How often a planted name said aloud is heard, and how often another one is.

    python benchmarks/spoken_recall.py [--quick]

Each of 8 names is said by espeak-ng in 2 sentences with 5 voice settings; every
clip is transcribed once and searched for all 8 names the way spoken canaries are
(phones, then words, then a keyword spotted and confirmed against decoys:
bench.verify.spoken). A name found in a clip that says another one is a false
alarm. ``--quick`` takes one sentence and two voices. Prints recall and false
alarms per voice and per name; docs/data-verification.md ("Voice") quotes a run.
Takes about as long as the audio lasts (about 4 minutes; 40 s with ``--quick``).
"""

from __future__ import annotations

import argparse
import io
import itertools
import shutil
import subprocess
import sys
import time
import wave
from collections import Counter

import numpy as np

from brewbench.bench.verify.phonetic import KEYWORD_MAX_P, Pronunciation, pronounce, search
from brewbench.bench.verify.transcribe import spot, transcribe

NAMES = ("ada canary", "grace hopper", "alan turing", "marie curie", "emma watson",
         "peter parker", "linda carter", "bob miller")
SENTENCES = ("a latte for {} on floor seven", "please make an espresso for {}")
VOICES = (("en", 130), ("en", 175), ("en-us", 130), ("en+f3", 130), ("en-gb-x-rp", 130))


def say(text: str, voice: str, speed: int) -> tuple[np.ndarray, int]:
    out = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text],
                         check=True, capture_output=True, timeout=60).stdout
    with wave.open(io.BytesIO(out)) as reader:
        return np.frombuffer(reader.readframes(reader.getnframes()), "<i2"), reader.getframerate()


def heard_by(samples: np.ndarray, rate: int, names: list[Pronunciation]) -> dict[str, str]:
    """Per name, the method that heard it, or ""."""
    transcript = transcribe(samples, rate)
    phones = [p.phone for p in transcript.phones]
    spots = spot(samples, rate, names)
    out = {}
    for name in names:
        if search(phones, name).heard:
            out[name.phrase] = "phones"
        elif name.phrase in transcript.words:
            out[name.phrase] = "words"
        elif spots[name.phrase] and search(phones, name, always=True).p <= KEYWORD_MAX_P:
            out[name.phrase] = "keyword"
        else:
            out[name.phrase] = ""
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if shutil.which("espeak-ng") is None:
        sys.exit("espeak-ng is not installed (apt-get install espeak-ng)")
    sentences = SENTENCES[:1] if args.quick else SENTENCES
    voices = VOICES[:1] + VOICES[2:3] if args.quick else VOICES
    names = [p for p in (pronounce(n) for n in NAMES) if p is not None]
    rows = []
    audio, start = 0.0, time.perf_counter()
    for (voice, speed), sentence, said in itertools.product(voices, sentences, NAMES):
        samples, rate = say(sentence.format(said), voice, speed)
        audio += samples.size / rate
        for name, method in heard_by(samples, rate, names).items():
            rows.append((f"{voice} {speed}", said, name, method))
    took = time.perf_counter() - start
    print(f"{audio:.0f} s of speech in {took:.0f} s ({audio / took:.2f} s audio/s)")
    for label in dict.fromkeys(r[0] for r in rows):
        own = [r for r in rows if r[0] == label and r[1] == r[2]]
        other = [r for r in rows if r[0] == label and r[1] != r[2]]
        print(f"{label:16} heard {sum(bool(r[3]) for r in own):2} of {len(own)}   "
              f"false alarms {sum(bool(r[3]) for r in other)} of {len(other)}")
    for said in NAMES:
        own = [r for r in rows if r[1] == said == r[2]]
        print(f"{said:16} heard {sum(bool(r[3]) for r in own)} of {len(own)}")
    print("by method:", dict(Counter(r[3] for r in rows if r[1] == r[2] and r[3])))
    for row in rows:
        if row[1] != row[2] and row[3]:
            print(f"false alarm: {row[2]!r} in a clip saying {row[1]!r} ({row[0]}, {row[3]})")


if __name__ == "__main__":
    main()

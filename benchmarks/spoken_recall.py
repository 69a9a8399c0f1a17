"""How often a planted name said aloud is found, and how often another one is, per
degradation and per method, side by side in one run.

    python benchmarks/spoken_recall.py [--quick] [--recogniser-voices N]

Each of 8 names is said by espeak-ng in 2 sentences in 4 voices, then degraded as a
machine's path may (emulator/room.py): resampled to 8 kHz, Opus at 16 kbit/s, FLAC,
the 300-3400 Hz band, a room's echo, white noise at 10 and 5 dB, cut to the name,
another talker at 10 and 0 dB, speaker -> room -> microphone (band, echo, 10 dB
noise), that chain then Opus 16k, and a hard-clipped pre-amplifier.

Methods, on the same clips:

- ``acoustic`` (bench.verify.acoustic): the played clip's name matched against
  the degraded clip and scored against 16 decoy names in the same voice, with the
  thresholds of the bench (``MIN_SCORE``, ``MIN_MARGIN``);
- ``recogniser`` (bench.verify.transcribe + phonetic): phones, then words, then a
  keyword spotted and confirmed against decoys, as before; it takes about as long
  as the audio, so it runs on the first ``--recogniser-voices`` voices (default 1:
  16 clips per condition) and the ``--recogniser-conditions`` named (default all).

A name found in a clip that says another name (same voice) is a false alarm; each
clip is also searched for the names of the other voices' clips (other voices), and
silence, tones, a chirp, chords and hiss are searched for every name. Thresholds
were chosen on the first sentence ("train") and are held out on the second
("held out"); both are printed. ``--quick``: 2 voices, 6 conditions.
"""

from __future__ import annotations

import argparse
import io
import itertools
import shutil
import sys
import time
import wave
from collections import defaultdict
from collections.abc import Callable

import numpy as np

from brewbench.bench.speech import say
from brewbench.bench.verify.acoustic import features, score_against
from brewbench.bench.verify.clips import Decoded
from brewbench.bench.verify.phonetic import KEYWORD_MAX_P, Pronunciation, pronounce, search
from brewbench.bench.verify.played import references
from brewbench.bench.verify.transcribe import spot, transcribe
from brewbench.emulator import room

NAMES = ("ada canary", "grace hopper", "alan turing", "marie curie", "emma watson",
         "peter parker", "linda carter", "bob miller")
# Said as the bench says its orders (bench.speech.order_sentence): a pause around the name.
SENTENCES = (("train", "a latte for, {}, on floor seven"),
             ("held out", "please make an espresso for, {}"))
VOICES = (("en", 130), ("en-us", 130), ("en+f3", 130), ("en", 175))
Audio = tuple[np.ndarray, int]


def samples_of(wav: bytes) -> Audio:
    with wave.open(io.BytesIO(wav)) as reader:
        return (np.frombuffer(reader.readframes(reader.getnframes()), "<i2").astype(np.float64),
                reader.getframerate())


TALKER = samples_of(say("the weather today is cloudy with a chance of rain in the evening",
                        160, "en-us")) if shutil.which("espeak-ng") else (np.zeros(1), 16000)


def name_only(samples: np.ndarray, rate: int, span: tuple[float, float]) -> Audio:
    start, end = span
    return samples[int(start * rate):int(end * rate)], rate


CONDITIONS: dict[str, Callable[[np.ndarray, int], Audio]] = {
    **{k: v for k, v in room.PATHS.items() if k not in ("room", "room+opus", "clipped")},
    "name only": room.PATHS["as played"],  # cut where the played name is (main)
    "talker 10 dB": lambda s, r: room.mix(s, r, TALKER[0], TALKER[1], snr_db=10),
    "talker 0 dB": lambda s, r: room.mix(s, r, TALKER[0], TALKER[1], snr_db=0),
    **{k: room.PATHS[k] for k in ("room", "room+opus", "clipped")},
}
QUICK = ("as played", "opus 16k", "reverb", "10 dB noise", "name only", "room")


def recognised(samples: np.ndarray, rate: int, names: list[Pronunciation]) -> set[str]:
    """The names the recogniser hears (phones, words, or a keyword confirmed by decoys)."""
    transcript = transcribe(samples, rate)
    phones = [p.phone for p in transcript.phones]
    spots = spot(samples, rate, names)
    return {name.phrase for name in names
            if search(phones, name).heard or f" {name.phrase} " in f" {transcript.words} "
            or (spots[name.phrase] and search(phones, name, always=True).p <= KEYWORD_MAX_P)}


class Tally:
    """Per (method, condition, sentence set): hits of planted names and false alarms."""

    def __init__(self) -> None:
        self.hits: dict[tuple[str, str, str], list[bool]] = defaultdict(list)
        self.alarms: dict[tuple[str, str, str], list[bool]] = defaultdict(list)

    def add(self, key: tuple[str, str, str], own: bool, heard: bool) -> None:
        (self.hits if own else self.alarms)[key].append(heard)

    def cell(self, key: tuple[str, str, str]) -> str:
        hits, alarms = self.hits.get(key, []), self.alarms.get(key, [])
        if not hits:
            return "-"
        return f"{sum(hits)}/{len(hits)} fa {sum(alarms)}/{len(alarms)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--recogniser-voices", type=int, default=1)
    parser.add_argument("--recogniser-conditions", default="",
                        help="comma-separated conditions the recogniser runs on (default: all)")
    args = parser.parse_args()
    if shutil.which("espeak-ng") is None:
        sys.exit("espeak-ng is not installed (apt-get install espeak-ng)")
    voices = VOICES[:2] if args.quick else VOICES
    conditions = {k: v for k, v in CONDITIONS.items() if not args.quick or k in QUICK}
    pronounced = [p for p in (pronounce(n) for n in NAMES) if p is not None]
    recognised_in = (set(args.recogniser_conditions.split(",")) if args.recogniser_conditions
                     else set(conditions))
    tally = Tally()
    seconds = {"acoustic": [0.0, 0.0], "recogniser": [0.0, 0.0]}  # audio, took
    for index, (voice, speed) in enumerate(voices):
        for (part, sentence), said in itertools.product(SENTENCES, NAMES):
            played = samples_of(say(sentence.format(said), speed, voice))
            refs = references(NAMES, [Decoded(*played)], voice, speed)
            for condition, degrade in conditions.items():
                clip = degrade(*played)
                if condition == "name only":
                    match = score_against(refs.references[said].features, (), features(*played))
                    clip = name_only(*played, (match.start_s, match.end_s))
                start = time.perf_counter()
                frames = features(*clip)
                for name in NAMES:
                    found = score_against(refs.references[name].features, refs.decoys, frames)
                    tally.add(("acoustic", condition, part), name == said, found.heard)
                seconds["acoustic"][0] += clip[0].size / clip[1]
                seconds["acoustic"][1] += time.perf_counter() - start
                if index < args.recogniser_voices and condition in recognised_in:
                    start = time.perf_counter()
                    heard = recognised(*clip, pronounced)
                    for name in NAMES:
                        tally.add(("recogniser", condition, part), name == said, name in heard)
                    seconds["recogniser"][0] += clip[0].size / clip[1]
                    seconds["recogniser"][1] += time.perf_counter() - start
    other_voices = _other_voices(voices, conditions)
    non_speech = _non_speech(voices)
    _print(tally, conditions, seconds, other_voices, non_speech)


def _other_voices(voices: tuple[tuple[str, int], ...],
                  conditions: dict[str, Callable[[np.ndarray, int], Audio]]) -> tuple[int, int]:
    """The bench's voice (en 130) planting each name; clips of other names in other voices."""
    alarms = chances = 0
    for voice, speed in voices[1:]:
        for said in NAMES:
            clip = samples_of(say(SENTENCES[0][1].format(said), speed, voice))
            for degrade in (conditions.get("as played"), conditions.get("10 dB noise")):
                frames = features(*(degrade or CONDITIONS["as played"])(*clip))
                for name in NAMES:
                    if name == said:
                        continue
                    played = samples_of(say(SENTENCES[0][1].format(name)))
                    refs = references([name], [Decoded(*played)])
                    chances += 1
                    alarms += score_against(refs.references[name].features, refs.decoys,
                                            frames).heard
    return alarms, chances


def _non_speech(voices: tuple[tuple[str, int], ...]) -> tuple[int, int]:
    rate = 16000
    t = np.arange(rate * 3) / rate
    rng = np.random.default_rng(5)
    chords = sum(np.sin(2 * np.pi * f * t) for f in (262, 330, 392)) * (np.sin(2 * np.pi * 2 * t) > 0)
    sounds = [np.zeros(t.size), np.sin(2 * np.pi * 440 * t) * 8000,
              np.sin(2 * np.pi * (200 + 600 * t) * t) * 8000, rng.standard_normal(t.size) * 3000,
              np.asarray(chords) * 3000]
    alarms = chances = 0
    for voice, speed in voices:
        played = samples_of(say(SENTENCES[0][1].format(NAMES[0]), speed, voice))
        refs = references(NAMES, [Decoded(*played)], voice, speed)
        for sound in sounds:
            frames = features(sound, rate)
            for reference in refs.references.values():
                chances += 1
                alarms += score_against(reference.features, refs.decoys, frames).heard
    return alarms, chances


def _print(tally: Tally, conditions: dict[str, Callable[[np.ndarray, int], Audio]],
           seconds: dict[str, list[float]], other_voices: tuple[int, int],
           non_speech: tuple[int, int]) -> None:
    header = f"{'condition':14}"
    for method, (part, _) in itertools.product(("acoustic", "recogniser"), SENTENCES):
        header += f" | {method + ' ' + part:>24}"
    print(header)
    for condition in conditions:
        row = f"{condition:14}"
        for method, (part, _) in itertools.product(("acoustic", "recogniser"), SENTENCES):
            row += f" | {tally.cell((method, condition, part)):>24}"
        print(row)
    for method, (audio, took) in seconds.items():
        if took:
            print(f"{method}: {audio:.0f} s of audio in {took:.0f} s ({audio / took:.1f} s audio/s)")
    print(f"acoustic, other names in other voices: {other_voices[0]} false alarms in {other_voices[1]}")
    print(f"acoustic, silence/tone/chirp/chords/hiss: {non_speech[0]} false alarms in {non_speech[1]}")


if __name__ == "__main__":
    main()

"""Speech the bench says to a listening machine: Debian's ``espeak-ng`` makes the clip.

The bench speaks the planted owner's name in an order ("a latte for Ada Canary on
floor seven"), so a machine that keeps or sends what it heard is caught by the
voice hunt (docs/data-verification.md, "Voice").
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

__all__ = ["DECOYS", "SPEED", "SpeechUnavailable", "order_sentence", "phrase_samples", "say"]

SPEED = 130  # words a minute: slower than espeak-ng's 175, as one speaks to a machine
ESPEAK = "espeak-ng"
# Made-up names said in the bench's voice beside a planted one, so that a match's
# score is read against what other names in the same voice score in the same clip
# (bench.verify.acoustic); none is a name the bench plants.
DECOYS = ("oscar wilde", "nina simone", "frank sinatra", "rosa parks", "isaac newton",
          "jane austen", "louis armstrong", "carl sagan", "edith piaf", "miles davis",
          "greta garbo", "james joyce", "henry ford", "agatha christie", "walt disney",
          "clara schumann")


class SpeechUnavailable(Exception):
    """espeak-ng is missing or failed: one line says which."""


def say(text: str, speed: int = SPEED, voice: str = "en") -> bytes:
    """The WAV clip (22050 Hz, 16-bit mono) espeak-ng makes of ``text``.

    Raises:
        SpeechUnavailable: espeak-ng is not installed or did not make a clip.
    """
    binary = shutil.which(ESPEAK)
    if binary is None:
        raise SpeechUnavailable(f"{ESPEAK} is not installed (apt-get install {ESPEAK})")
    with tempfile.TemporaryDirectory(prefix="brewbench-speech-") as folder:
        out = Path(folder) / "spoken.wav"  # a file: on stdout the header's lengths are left open
        try:
            subprocess.run([binary, "-v", voice, "-s", str(speed), "-w", str(out), text],
                           check=True, capture_output=True, timeout=60)
            return out.read_bytes()
        except (OSError, subprocess.SubprocessError) as exc:
            raise SpeechUnavailable(f"{ESPEAK} failed: {exc}") from exc


def order_sentence(owner: str) -> str:
    """The spoken order naming ``owner``; a canary's run tag (``-7F3A9C2E``) is not said.

    The name stands between commas: espeak-ng then pauses around it and says it as it
    says the name alone, which is how the bench finds it again in what it played
    (bench.verify.played: 0.92 against 0.61 without the pauses)."""
    return f"a latte for, {owner.rsplit('-', 1)[0]}, on floor seven"


@functools.lru_cache(maxsize=64)
def phrase_samples(text: str, speed: int = SPEED, voice: str = "en") -> tuple[np.ndarray, int]:
    """The 16-bit samples and rate of ``text`` said alone, without the silence around it
    (espeak-ng is deterministic: the same text, speed and voice give the same samples).

    Raises:
        SpeechUnavailable: espeak-ng is not installed or did not make a clip.
    """
    with wave.open(io.BytesIO(say(text, speed, voice))) as reader:
        rate = reader.getframerate()
        samples = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
    loud = np.nonzero(np.abs(samples.astype(np.int32)) > 100)[0]
    if not loud.size:
        raise SpeechUnavailable(f"{ESPEAK} said nothing for {text!r}")
    samples = samples[loud[0]:loud[-1] + 1].copy()
    samples.setflags(write=False)  # cached: shared by every caller
    return samples, rate
